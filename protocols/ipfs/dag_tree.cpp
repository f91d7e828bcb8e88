#include "dag_tree.hpp"

#include <cstdio>

#include "dag_pb.hpp"
#include "unixfs.hpp"

namespace p2plab::ipfs {

DagNode describe_block(const Cid& cid, std::string_view block) {
  DagNode node;
  node.cid = cid;
  node.block_size = block.size();
  if (cid.codec == kRaw) {
    node.kind = DagNode::Kind::RawLeaf;
    node.content_size = block.size();
    return node;
  }
  if (cid.codec != kDagPb)
    throw FormatError("block " + cid.to_string() + ": codec " + codec_name(cid.codec) + " is not UnixFS");
  const PbNode pb = decode_pb_node(block);
  for (const PbLink& link : pb.links) node.links.push_back({link.name.value_or(""), link.hash, link.tsize.value_or(0)});
  if (!pb.data) throw FormatError("block " + cid.to_string() + ": dag-pb node without UnixFS Data");
  const UnixfsData data = decode_unixfs(*pb.data);
  node.type_name = unixfs_type_name(data.type);
  if (data.type == UnixfsType::File || data.type == UnixfsType::Raw) {
    if (!pb.links.empty() && data.blocksizes.size() != pb.links.size()) {
      throw FormatError("block " + cid.to_string() + ": " + std::to_string(pb.links.size()) + " links but " +
                        std::to_string(data.blocksizes.size()) + " blocksizes (UnixFS: one per link)");
    }
    node.kind = pb.links.empty() ? DagNode::Kind::FileLeaf : DagNode::Kind::File;
    node.content_size = data.filesize.value_or(data.data ? data.data->size() : 0);
  } else if (data.type == UnixfsType::Directory) {
    node.kind = DagNode::Kind::Directory;
  } else {
    node.kind = DagNode::Kind::Other;
  }
  return node;
}

std::string human_size(std::uint64_t bytes) {
  char buf[64];
  if (bytes < 1024) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
    return buf;
  }
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  const bool whole = bytes % (1ull << (10 * (unit + 1))) == 0;
  std::snprintf(buf, sizeof buf, whole ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return buf;
}

namespace {

std::string plural(std::size_t n, const char* word) { return std::to_string(n) + " " + word + (n == 1 ? "" : "s"); }

std::string describe_line(const DagNode& node) {
  const std::string block = " (block " + std::to_string(node.block_size) + " B)";
  switch (node.kind) {
    case DagNode::Kind::RawLeaf:
      return "raw leaf, " + human_size(node.content_size);
    case DagNode::Kind::FileLeaf:
      return "leaf, " + human_size(node.content_size) + block;
    case DagNode::Kind::File:
      return "file node, " + human_size(node.content_size) + " in " + plural(node.links.size(), "link") + block;
    case DagNode::Kind::Directory:
      return "directory, " + std::to_string(node.links.size()) + (node.links.size() == 1 ? " entry" : " entries") +
             block;
    case DagNode::Kind::Other:
      return "UnixFS " + node.type_name + " (not shown further)" + block;
  }
  return "";
}

class TreePrinter {
 public:
  TreePrinter(const NodeLookup& lookup, const TreeOptions& options) : lookup_(lookup), options_(options) {}

  void print(const DagLink& link, const std::string& prefix, const std::string& child_prefix, int depth) {
    if (printed_ == options_.max_nodes) {
      out_ += prefix + "... (stopped after " + std::to_string(options_.max_nodes) + " nodes)\n";
    }
    if (printed_++ >= options_.max_nodes) return;
    out_ += prefix;
    if (!link.name.empty()) out_ += link.name + ": ";
    out_ += link.cid.to_string() + "  ";
    const std::optional<DagNode> node = lookup_(link.cid);
    if (!node) {
      out_ += "(block not at hand)\n";
      return;
    }
    out_ += describe_line(*node) + "\n";
    if (node->kind == DagNode::Kind::Other || node->links.empty()) return;
    if (depth >= options_.max_depth) {
      out_ += child_prefix + "(deeper levels not shown)\n";
      return;
    }
    const std::size_t n = node->links.size();
    const bool elide = !options_.all && n > options_.head + options_.tail + 1;
    for (std::size_t i = 0; i < n; ++i) {
      if (elide && i == options_.head) {
        const std::size_t hidden = n - options_.head - options_.tail;
        out_ += child_prefix + "├── ... " + std::to_string(hidden) + " more (--all shows every link)\n";
        i = n - options_.tail - 1;
        continue;
      }
      const bool last = i + 1 == n;
      print(node->links[i], child_prefix + (last ? "└── " : "├── "), child_prefix + (last ? "    " : "│   "),
            depth + 1);
    }
  }

  std::string take() { return std::move(out_); }

 private:
  const NodeLookup& lookup_;
  const TreeOptions& options_;
  std::string out_;
  std::size_t printed_ = 0;
};

}  // namespace

std::string print_tree(const Cid& root, const NodeLookup& lookup, const TreeOptions& options) {
  TreePrinter printer(lookup, options);
  printer.print(DagLink{"", root, 0}, "", "", 0);
  return printer.take();
}

}  // namespace p2plab::ipfs
