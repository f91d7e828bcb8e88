// Exit status: 0 done, 2 bad input (an argument, a file, a block), 1 anything else.
#include "tools.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

#include "block_store.hpp"
#include "dag_builder.hpp"
#include "multibase.hpp"

namespace p2plab::ipfs {

namespace {

constexpr int kBadInput = 2;

/// A whole number from an option's text; anything else (a sign, a fraction, too many digits) is a
/// FormatError naming the option.
std::uint64_t parse_count(const std::string& text, const std::string& option, std::uint64_t min, std::uint64_t max) {
  const std::string range = " (" + std::to_string(min) + " to " + std::to_string(max) + ")";
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
    throw FormatError("--" + option + ": \"" + text + "\" is not a whole number" + range);
  }
  const std::size_t digits = text.size() - std::min(text.find_first_not_of('0'), text.size() - 1);
  if (digits > 12 || std::stoull(text) > max || std::stoull(text) < min) {
    throw FormatError("--" + option + ": " + text + " is out of range" + range);
  }
  return std::stoull(text);
}

std::string arg(const CommandArgs& args, const std::string& name) {
  const auto it = args.find(name);
  return it == args.end() ? "" : it->second;
}

ImportOptions import_options(const CommandArgs& args) {
  ImportOptions options =
      ImportOptions::profile(arg(args, "profile").empty() ? "unixfs-v0-2015" : arg(args, "profile"));
  if (args.count("cid-version"))
    options.cid_version = static_cast<int>(parse_count(args.at("cid-version"), "cid-version", 0, 1));
  if (args.count("raw-leaves")) options.raw_leaves = true;
  if (args.count("chunk-size")) options.chunk_size = parse_count(args.at("chunk-size"), "chunk-size", 1, kMaxChunkSize);
  if (args.count("max-links")) options.max_links = parse_count(args.at("max-links"), "max-links", 2, kMaxLinks);
  options.check();
  return options;
}

/// The longest path from the root to a leaf (a balanced file's leaves are all that deep), each
/// block's depth computed once: a DAG may reach a block by many paths.
int tree_depth(const Cid& root, const DagBuilder& builder, std::map<Cid, int>& memo) {
  if (const auto it = memo.find(root); it != memo.end()) return it->second;
  int depth = 0;
  if (const std::optional<DagNode> node = builder.node(root)) {
    for (const DagLink& link : node->links) depth = std::max(depth, 1 + tree_depth(link.cid, builder, memo));
  }
  return memo[root] = depth;
}

int command_add(const CommandArgs& args) {
  const ImportOptions options = import_options(args);
  const std::string file = arg(args, "file");
  std::optional<FolderBlockStore> store;
  if (!arg(args, "blocks").empty()) store.emplace(arg(args, "blocks"));
  DagBuilder builder(options, store ? BlockSink([&](const Cid& cid, std::string_view block) { store->put(cid, block); })
                                    : BlockSink{});
  const Cid root = builder.add_path(file);
  if (args.count("quiet")) {
    std::printf("%s\n", root.to_string().c_str());
    return 0;
  }
  const NodeLookup lookup = [&](const Cid& cid) { return builder.node(cid); };
  const DagNode& top = builder.nodes().at(root);
  std::printf("added %s %s\n", root.to_string().c_str(), file.c_str());
  std::printf("  %s\n", options.describe().c_str());
  std::map<Cid, int> depths;
  const std::string what = top.kind == DagNode::Kind::Directory ? "a folder, its files" : human_size(top.content_size);
  std::printf("  %s in %llu chunks: %llu blocks (%zu distinct), depth %d\n", what.c_str(),
              static_cast<unsigned long long>(builder.chunks()), static_cast<unsigned long long>(builder.blocks_made()),
              builder.nodes().size(), tree_depth(root, builder, depths));
  if (store) std::printf("  blocks stored in %s\n", store->folder().string().c_str());
  TreeOptions tree;
  tree.all = args.count("all") > 0;
  std::fputs(print_tree(root, lookup, tree).c_str(), stdout);
  return 0;
}

int command_dag(const CommandArgs& args) {
  const Cid root = parse_cid(arg(args, "cid"));
  const std::string folder = arg(args, "blocks");
  if (folder.empty()) {
    std::fprintf(stderr,
                 "p2plab ipfs dag: --blocks DIR is needed: the folder where `p2plab ipfs add FILE --blocks DIR` "
                 "stored the blocks of %s\n",
                 root.to_string().c_str());
    return kBadInput;
  }
  const FolderBlockStore store(folder);
  std::size_t missing = 0;
  const NodeLookup lookup = [&](const Cid& cid) -> std::optional<DagNode> {
    const std::optional<Bytes> block = store.get(cid);
    if (!block) {
      ++missing;
      return std::nullopt;
    }
    return describe_block(cid, *block);
  };
  if (!store.get(root)) {
    std::fprintf(stderr, "p2plab ipfs dag: block %s is not in %s (add its file with --blocks %s first)\n",
                 root.to_string().c_str(), folder.c_str(), folder.c_str());
    return kBadInput;
  }
  TreeOptions tree;
  tree.all = args.count("all") > 0;
  std::fputs(print_tree(root, lookup, tree).c_str(), stdout);
  if (missing > 0) std::printf("%zu blocks not in %s: the DAG is incomplete there\n", missing, folder.c_str());
  return 0;
}

int command_cid(const CommandArgs& args) {
  const std::string text = arg(args, "cid");
  const Cid cid = parse_cid(text);
  std::printf("%s\n", text.c_str());
  std::printf("  version    CIDv%d\n", cid.version);
  std::printf("  multibase  %s\n", cid.version == 0           ? "base58btc (implicit: a CIDv0 has no prefix)"
                                   : text[0] == kBase32Prefix ? "base32 ('b')"
                                                              : "base58btc ('z')");
  std::printf("  codec      %s (0x%llx)\n", codec_name(cid.codec).c_str(), static_cast<unsigned long long>(cid.codec));
  std::printf("  multihash  %s (0x%llx), %zu-byte digest %s\n", hash_name(cid.hash.code).c_str(),
              static_cast<unsigned long long>(cid.hash.code), cid.hash.digest.size(),
              base32_encode(cid.hash.digest).c_str());
  Cid v1 = cid;
  v1.version = 1;
  std::printf("  as CIDv1   %s\n", v1.to_string().c_str());
  if (cid.codec == kDagPb && cid.hash.code == kSha2_256) {
    Cid v0 = cid;
    v0.version = 0;
    std::printf("  as CIDv0   %s\n", v0.to_string().c_str());
  }
  return 0;
}

/// Runs a tool, turning bad input into one line on stderr and exit status 2.
ProtocolCommand guarded(ProtocolCommand command, int (*body)(const CommandArgs&)) {
  const std::string name = command.name;
  command.run = [name, body](const CommandArgs& args) {
    try {
      return body(args);
    } catch (const FormatError& e) {
      std::fprintf(stderr, "p2plab ipfs %s: %s\n", name.c_str(), e.what());
    } catch (const ImportError& e) {
      std::fprintf(stderr, "p2plab ipfs %s: %s\n", name.c_str(), e.what());
    }
    return kBadInput;
  };
  return command;
}

CommandOption option(std::string name, std::string help, std::string default_value = "") {
  CommandOption o;
  o.name = std::move(name);
  o.help = std::move(help);
  o.default_value = std::move(default_value);
  return o;
}

CommandOption flag(std::string name, std::string help, std::string short_name = "") {
  CommandOption o = option(std::move(name), std::move(help));
  o.flag = true;
  o.short_name = std::move(short_name);
  return o;
}

}  // namespace

std::vector<ProtocolCommand> tool_commands() {
  const CommandOption all = flag("all", "Show every link of the tree (else a node's first and last few)");
  const CommandOption blocks_in =
      option("blocks", "Folder of blocks `p2plab ipfs add --blocks` wrote (read back, each checked against its CID)");
  ProtocolCommand add;
  add.name = "add";
  add.summary =
      "Chunk a file (or a folder) into a UnixFS Merkle DAG: print its root CID and the tree "
      "(like `ipfs add --only-hash`)";
  add.arguments = {{"file", "The file or folder to add"}};
  add.options = {
      option("profile", "CID profile (IPIP-0499): unixfs-v0-2015 (kubo's CIDv0) or unixfs-v1-2025", "unixfs-v0-2015"),
      option("cid-version", "CID version of the dag-pb nodes: 0 or 1 (default: the profile's)"),
      flag("raw-leaves", "Leaves as raw blocks (CIDv1 raw), not dag-pb (kubo's --cid-version 1 implies it)"),
      option("chunk-size", "Bytes per chunk, 1 to 1048576 (default: the profile's, 262144 or 1048576)"),
      option("max-links", "Links per node at most, 2 to 8192 (default: the profile's, 174 or 1024)"),
      option("blocks", "Also store the blocks in this folder (for `p2plab ipfs dag CID --blocks DIR`)"),
      all,
      flag("quiet", "Print the root CID only", "q"),
  };
  ProtocolCommand dag;
  dag.name = "dag";
  dag.summary = "Show the DAG below a CID, from the blocks `p2plab ipfs add FILE --blocks DIR` stored";
  dag.arguments = {{"cid", "The root's CID (Qm... or bafy...)"}};
  dag.options = {blocks_in, all};
  ProtocolCommand cid;
  cid.name = "cid";
  cid.summary = "Take a CID apart: version, multibase, codec, multihash; the same block's CIDv0 and CIDv1";
  cid.arguments = {{"cid", "A CID (Qm..., bafy..., bafk..., z...)"}};
  return {guarded(add, command_add), guarded(dag, command_dag), guarded(cid, command_cid)};
}

}  // namespace p2plab::ipfs
