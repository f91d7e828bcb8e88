#include "dag_builder.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "chunker.hpp"
#include "dag_pb.hpp"
#include "unixfs.hpp"

namespace p2plab::ipfs {

namespace fs = std::filesystem;

ImportOptions ImportOptions::profile(std::string_view name) {
  if (name == "unixfs-v0-2015") return ImportOptions{};
  if (name == "unixfs-v1-2025") return ImportOptions{1, true, 1 << 20, 1024};
  throw FormatError("--profile: \"" + std::string(name) + "\" is not a profile (unixfs-v0-2015, unixfs-v1-2025)");
}

std::string ImportOptions::profile_name() const {
  for (const char* name : {"unixfs-v0-2015", "unixfs-v1-2025"}) {
    const ImportOptions p = profile(name);
    if (p.cid_version == cid_version && p.raw_leaves == raw_leaves && p.chunk_size == chunk_size &&
        p.max_links == max_links) {
      return name;
    }
  }
  return "";
}

std::string ImportOptions::describe() const {
  std::string out = "CIDv" + std::to_string(cid_version) + ", " + (raw_leaves ? "raw" : "dag-pb") +
                    " leaves, chunks of " + human_size(chunk_size) + ", at most " + std::to_string(max_links) +
                    " links per node";
  const std::string name = profile_name();
  return name.empty() ? out : out + " (profile " + name + ")";
}

void ImportOptions::check() const {
  if (cid_version != 0 && cid_version != 1) {
    throw FormatError("--cid-version: " + std::to_string(cid_version) + " (0 or 1)");
  }
  if (chunk_size < 1 || chunk_size > kMaxChunkSize) {
    throw FormatError("--chunk-size: " + std::to_string(chunk_size) + " bytes (1 to " + std::to_string(kMaxChunkSize) +
                      ")");
  }
  if (max_links < 2 || max_links > kMaxLinks) {
    throw FormatError("--max-links: " + std::to_string(max_links) + " (2 to " + std::to_string(kMaxLinks) + ")");
  }
}

DagBuilder::DagBuilder(ImportOptions options, BlockSink sink) : options_(options), sink_(std::move(sink)) {
  options_.check();
}

std::optional<DagNode> DagBuilder::node(const Cid& cid) const {
  const auto it = nodes_.find(cid);
  if (it == nodes_.end()) return std::nullopt;
  return it->second;
}

DagBuilder::Built DagBuilder::put(const Cid& cid, std::string_view block, std::uint64_t file_size,
                                  std::uint64_t tsize_below) {
  ++blocks_made_;
  if (!nodes_.count(cid)) nodes_.emplace(cid, describe_block(cid, block));
  if (sink_) sink_(cid, block);
  return Built{cid, file_size, block.size() + tsize_below};
}

DagBuilder::Built DagBuilder::leaf(const Bytes& chunk) {
  ++chunks_;
  if (options_.raw_leaves) return put(cid_of(1, kRaw, chunk), chunk, chunk.size(), 0);
  UnixfsData data;
  data.type = UnixfsType::File;
  if (!chunk.empty()) data.data = chunk;  // kubo writes no Data field for an empty file
  data.filesize = chunk.size();
  PbNode node;
  node.data = encode_unixfs(data);
  const Bytes block = encode_pb_node(node);
  return put(cid_of(options_.cid_version, kDagPb, block), block, chunk.size(), 0);
}

DagBuilder::Built DagBuilder::parent(const std::vector<Built>& children) {
  UnixfsData data;
  data.type = UnixfsType::File;
  data.filesize = 0;
  PbNode node;
  std::uint64_t tsize_below = 0;
  for (const Built& child : children) {
    node.links.push_back(PbLink{child.cid, std::string(), child.tsize});
    data.blocksizes.push_back(child.file_size);
    *data.filesize += child.file_size;
    tsize_below += child.tsize;
  }
  node.data = encode_unixfs(data);
  const Bytes block = encode_pb_node(node);
  return put(cid_of(options_.cid_version, kDagPb, block), block, *data.filesize, tsize_below);
}

Cid DagBuilder::add_file(const ByteSource& source) {
  // Balanced layout: every leaf at the same depth. Level by level, each run of max_links nodes
  // gets a parent (a last run of one too, so that depths stay equal), until one node is left. The
  // same tree as kubo's balanced builder, which grows it from the first leaf up. A file of one
  // chunk is that chunk's leaf alone.
  FixedSizeChunker chunker(source, options_.chunk_size);
  std::vector<Built> level;
  Bytes chunk;
  while (chunker.next(chunk)) level.push_back(leaf(chunk));
  if (level.size() == 1) return level.front().cid;
  while (level.size() > 1) {
    std::vector<Built> up;
    for (std::size_t first = 0; first < level.size(); first += options_.max_links) {
      const std::size_t last = std::min(level.size(), first + options_.max_links);
      up.push_back(parent(std::vector<Built>(level.begin() + static_cast<std::ptrdiff_t>(first),
                                             level.begin() + static_cast<std::ptrdiff_t>(last))));
    }
    level = std::move(up);
  }
  return level.front().cid;
}

Cid DagBuilder::add_bytes(std::string_view content) {
  std::size_t pos = 0;
  return add_file([&](char* buffer, std::size_t size) {
    const std::size_t n = std::min(size, content.size() - pos);
    std::copy_n(content.data() + pos, n, buffer);
    pos += n;
    return n;
  });
}

Cid DagBuilder::add_path(const fs::path& path) { return add_entry(path, 0).cid; }

DagBuilder::Built DagBuilder::add_entry(const fs::path& path, int depth) {
  std::error_code error;
  const fs::file_status status = fs::symlink_status(path, error);
  if (error || !fs::exists(status)) throw ImportError(path.string() + ": no such file or directory");
  if (fs::is_symlink(status)) {
    throw ImportError(path.string() +
                      ": a symbolic link, not added (UnixFS would store the link itself: not built here)");
  }
  if (fs::is_directory(status)) return add_directory(path, depth);
  if (!fs::is_regular_file(status)) throw ImportError(path.string() + ": not a regular file or directory");
  // C stdio rather than a stream: std::ifstream takes a read error (EIO) for the end of the file.
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw ImportError(path.string() + ": cannot be read (" + std::strerror(errno) + ")");
  const Cid cid = add_file([&](char* buffer, std::size_t size) {
    const std::size_t n = std::fread(buffer, 1, size, file.get());
    if (n == 0 && std::ferror(file.get())) {
      throw ImportError(path.string() + ": read error (" + std::strerror(errno) + ")");
    }
    return n;
  });
  const DagNode& node = nodes_.at(cid);
  std::uint64_t tsize = node.block_size;
  for (const DagLink& link : node.links) tsize += link.tsize;
  return Built{cid, node.content_size, tsize};
}

DagBuilder::Built DagBuilder::add_directory(const fs::path& path, int depth) {
  constexpr int kMaxDepth = 256;  // a folder nested deeper is refused rather than recursed into
  if (depth > kMaxDepth) throw ImportError(path.string() + ": folders nested deeper than " + std::to_string(kMaxDepth));
  std::vector<std::string> names;
  std::error_code error;
  for (fs::directory_iterator it(path, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] != '.') names.push_back(name);
  }
  if (error) throw ImportError(path.string() + ": cannot list the folder (" + error.message() + ")");
  std::sort(names.begin(), names.end());  // dag-pb: a directory's links sorted by name bytes
  PbNode node;
  std::uint64_t tsize_below = 0;
  for (const std::string& name : names) {
    const Built child = add_entry(path / name, depth + 1);
    node.links.push_back(PbLink{child.cid, name, child.tsize});
    tsize_below += child.tsize;
  }
  node.data = encode_unixfs(UnixfsData{UnixfsType::Directory, {}, {}, {}, {}, {}});
  const Bytes block = encode_pb_node(node);
  if (block.size() > kMaxDirectoryBlock) {
    throw ImportError(path.string() + ": " + std::to_string(names.size()) +
                      " entries make a directory block above 256 KiB, which IPFS shards (HAMT, not built here)");
  }
  return put(cid_of(options_.cid_version, kDagPb, block), block, 0, tsize_below);
}

}  // namespace p2plab::ipfs
