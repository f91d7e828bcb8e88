#pragma once
// A block as the DAG view sees it (what it is, its size, its links), decoded from its bytes, and
// the DAG printed as a tree below its root: what `p2plab ipfs add` and `p2plab ipfs dag` show.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cid.hpp"

namespace p2plab::ipfs {

struct DagLink {
  std::string name;  ///< a directory entry's name; "" for a file's chunks
  Cid cid;
  std::uint64_t tsize = 0;  ///< the linked block and everything below it, in bytes
};

struct DagNode {
  enum class Kind { RawLeaf, FileLeaf, File, Directory, Other };
  Cid cid;
  Kind kind = Kind::RawLeaf;
  std::string type_name;           ///< the UnixFS type, for Other
  std::uint64_t block_size = 0;    ///< bytes of the block
  std::uint64_t content_size = 0;  ///< file bytes in and under it (files and leaves)
  std::vector<DagLink> links;
};

/// Decodes a block: raw (a leaf), or dag-pb with UnixFS data. A block that is not what its CID's
/// codec says, or a file whose blocksizes do not match its links, is a FormatError.
DagNode describe_block(const Cid& cid, std::string_view block);

/// Where the tree printer gets a node: nullopt when the block is not at hand.
using NodeLookup = std::function<std::optional<DagNode>(const Cid&)>;

struct TreeOptions {
  bool all = false;                ///< every link; otherwise a node's first and last few
  std::size_t head = 3, tail = 2;  ///< links shown around the elided middle
  int max_depth = 64;              ///< deeper levels are not printed (a hostile store's chain)
  /// Printing stops after this many nodes: a DAG may link one block many times, so a small
  /// store can describe an exponentially large tree.
  std::size_t max_nodes = 100000;
};

/// One line per node: "├── QmX...  leaf, 256 KiB (block 262158 B)"; a directory's entries
/// named. Missing blocks are said, not fatal.
std::string print_tree(const Cid& root, const NodeLookup& lookup, const TreeOptions& options = {});

/// "11 B", "256 KiB", "1.0 MiB + 1 B"-like exact-enough text: bytes below 1 KiB, else one decimal.
std::string human_size(std::uint64_t bytes);

}  // namespace p2plab::ipfs
