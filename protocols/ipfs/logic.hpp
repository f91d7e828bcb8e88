#pragma once
// The piece of IPFS a student writes (exercise ipfs-cid): how a file becomes a Merkle DAG, the
// balanced UnixFS layout kubo and Helia build, from the chunks to the root CID.
//
// The DAG builder (dag_builder.cpp, behind `p2plab ipfs add`) calls exactly these functions for
// every decision they name, so the command line runs the reference code (logic_cid.cpp beside this
// file) or a student's code (exercises/ipfs-cid/), chosen when the program is linked (CMake option
// P2PLAB_CODE). The builder reads the file, stores the blocks and checks what comes back: a CID
// that does not name its block, a chunk outside the file or a root that is no block made for this
// file is an error naming the function, never a crash.
//
// Helpers the functions use (read their headers; none of them knows the layout):
//   encode_unixfs(UnixfsData)  unixfs.hpp  the UnixFS Data message's bytes (Type, Data, filesize,
//                                          blocksizes)
//   encode_pb_node(PbNode)     dag_pb.hpp  a dag-pb block's bytes (Links: Hash, Name, Tsize; Data)
//   cid_of(version, codec, block)  cid.hpp the CID of a block (sha2-256); codecs kDagPb and kRaw
//
// Worked example, "hello world" (11 bytes) with the default options (CIDv0, dag-pb leaves):
//   UnixfsData{File, data "hello world", filesize 11}  -> 08 02 12 0b "hello world" 18 0b
//   PbNode{no links, data: those 17 bytes}             -> 0a 11 08 02 12 0b "hello world" 18 0b
//   cid_of(0, kDagPb, block)                           -> Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD
// One chunk: that leaf is the root. As a raw leaf: cid_of(1, kRaw, "hello world") -> bafkrei...
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "bytes.hpp"
#include "cid.hpp"

namespace p2plab::ipfs::logic {

/// A piece of the file: `length` bytes from byte `offset` (the first byte is offset 0).
struct ByteRange {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  bool operator==(const ByteRange&) const = default;
};

/// What a parent needs to know of a node below it (a leaf or a parent).
struct Child {
  Cid cid;                      ///< the CID of the node's block
  std::uint64_t file_size = 0;  ///< file bytes in and under the node: the parent's `blocksizes` entry
  std::uint64_t tsize = 0;      ///< bytes of the node's block and of every block below it: the link's `Tsize`
};

/// A block made by make_leaf or make_parent, and the node as its parent will see it.
struct MadeBlock {
  Bytes block;  ///< the block's bytes (child.cid must be their CID)
  Child child;
};

// =================================================================================================
// Exercise ipfs-cid
// =================================================================================================

/// The fixed-size chunker (kubo's "size-N"): the file's bytes cut into chunks of chunk_size bytes,
/// in file order, the last one shorter if the size is not a multiple. An empty file is ONE empty
/// chunk (an empty file is a block too).
/// Example: chunk_ranges(10, 4) = {{0, 4}, {4, 4}, {8, 2}}; chunk_ranges(8, 4) = {{0, 4}, {4, 4}};
/// chunk_ranges(0, 4) = {{0, 0}}.
std::vector<ByteRange> chunk_ranges(std::uint64_t file_size, std::uint64_t chunk_size);

/// The leaf block of one chunk.
///   - raw_leaves: the chunk's bytes are the block, named by a CIDv1 with codec raw (always
///     version 1, whatever cid_version says: a CIDv0 can only name dag-pb).
///   - otherwise a dag-pb node without links whose Data is UnixFS {Type File, Data = the chunk,
///     filesize = its length}; an empty chunk has no Data field (kubo writes none), filesize 0.
///     Named by a CID of version cid_version, codec dag-pb.
/// child.file_size: the chunk's length; child.tsize: the block's size (nothing below a leaf).
MadeBlock make_leaf(std::string_view chunk, bool raw_leaves, int cid_version);

/// The parent node of `children` (in file order): a dag-pb node with one link per child,
/// {Hash = its CID, Name = "" (present, empty), Tsize = its tsize}, in the children's order, and
/// Data = UnixFS {Type File, filesize = the file bytes under all the children, blocksizes = each
/// child's file_size, one per link}. Named by a CID of version cid_version, codec dag-pb.
/// child.file_size: the sum of the children's; child.tsize: this block's size plus the
/// children's tsize.
MadeBlock make_parent(std::span<const Child> children, int cid_version);

/// Makes the parent block of some children (the builder's: it calls your make_parent, checks and
/// stores the block) and returns the parent as a Child.
using ParentOf = std::function<Child(std::span<const Child> children)>;

/// The balanced layout: the root of the DAG over `leaves` (the chunks' leaves, in file order, at
/// least one). One leaf is the root itself. Otherwise, level by level: cut the level into runs of
/// max_links nodes from the left (the last run shorter), make each run's parent with parent_of
/// (a last run of ONE node gets a parent too, so that every leaf ends at the same depth); the
/// parents, in order, are the next level; the level of one node is the root.
/// Example (max_links 3, 7 leaves a..g): [a b c] [d e f] [g] -> P Q R; [P Q R] -> root (depth 2).
Child balanced_root(std::span<const Child> leaves, std::size_t max_links, const ParentOf& parent_of);

}  // namespace p2plab::ipfs::logic
