// Exercise ipfs-cid: a file cut into chunks and built into the balanced UnixFS DAG, up to its
// root CID. The task, the points and how to test: README.md beside this file. Contract and a
// worked example: protocols/ipfs/logic.hpp. Replace each TODO(student) with your code; remove the
// [[maybe_unused]] of a parameter once you use it.
//
// Helpers: encode_unixfs (unixfs.hpp), encode_pb_node (dag_pb.hpp), cid_of (cid.hpp).
#include "dag_pb.hpp"
#include "logic.hpp"
#include "unixfs.hpp"

namespace p2plab::ipfs::logic {

std::vector<ByteRange> chunk_ranges([[maybe_unused]] std::uint64_t file_size,
                                    [[maybe_unused]] std::uint64_t chunk_size) {
  // TODO(student): {offset, length} of each chunk in file order: chunk_size bytes each, the last
  // one shorter; an empty file is one empty chunk {0, 0}.
  // Your code here.
  return {};
}

MadeBlock make_leaf([[maybe_unused]] std::string_view chunk, [[maybe_unused]] bool raw_leaves,
                    [[maybe_unused]] int cid_version) {
  // TODO(student): raw leaves: the chunk itself, CIDv1 raw. Otherwise a dag-pb node whose Data is
  // UnixFS {File, Data = the chunk (none if empty), filesize}, named with cid_version, dag-pb.
  // child: the CID, the chunk's length (file_size), the block's size (tsize).
  // Your code here.
  return {};
}

MadeBlock make_parent([[maybe_unused]] std::span<const Child> children, [[maybe_unused]] int cid_version) {
  // TODO(student): one link per child, in order: {Hash, Name "", Tsize}; Data = UnixFS {File,
  // filesize, blocksizes: one per link}. child: the CID, the file bytes under it, this block's size
  // plus the children's tsize.
  // Your code here.
  return {};
}

Child balanced_root([[maybe_unused]] std::span<const Child> leaves, [[maybe_unused]] std::size_t max_links,
                    [[maybe_unused]] const ParentOf& parent_of) {
  // TODO(student): one leaf is the root. Otherwise, level by level, a parent (parent_of) for each
  // run of max_links nodes from the left -- a last run of one too -- until one node is left.
  // Your code here.
  return {};
}

}  // namespace p2plab::ipfs::logic
