// p2plab: reference-only (tools/make-student-release leaves this file out of the student tree)
// Reference solution of exercise ipfs-cid (see logic.hpp for the contract and
// exercises/ipfs-cid/README.md for the task). Not part of the student release.
#include <algorithm>

#include "dag_pb.hpp"
#include "logic.hpp"
#include "unixfs.hpp"

namespace p2plab::ipfs::logic {

std::vector<ByteRange> chunk_ranges(std::uint64_t file_size, std::uint64_t chunk_size) {
  std::vector<ByteRange> ranges;
  for (std::uint64_t offset = 0; offset < file_size; offset += chunk_size) {
    ranges.push_back({offset, std::min(chunk_size, file_size - offset)});
  }
  if (ranges.empty()) ranges.push_back({0, 0});  // an empty file is one empty chunk
  return ranges;
}

MadeBlock make_leaf(std::string_view chunk, bool raw_leaves, int cid_version) {
  if (raw_leaves) return {Bytes(chunk), {cid_of(1, kRaw, chunk), chunk.size(), chunk.size()}};
  UnixfsData data;
  data.type = UnixfsType::File;
  if (!chunk.empty()) data.data = Bytes(chunk);
  data.filesize = chunk.size();
  PbNode node;
  node.data = encode_unixfs(data);
  Bytes block = encode_pb_node(node);
  const Child child{cid_of(cid_version, kDagPb, block), chunk.size(), block.size()};
  return {std::move(block), child};
}

MadeBlock make_parent(std::span<const Child> children, int cid_version) {
  UnixfsData data;
  data.type = UnixfsType::File;
  std::uint64_t file_size = 0, tsize_below = 0;
  PbNode node;
  for (const Child& child : children) {
    node.links.push_back(PbLink{child.cid, std::string(), child.tsize});
    data.blocksizes.push_back(child.file_size);
    file_size += child.file_size;
    tsize_below += child.tsize;
  }
  data.filesize = file_size;
  node.data = encode_unixfs(data);
  Bytes block = encode_pb_node(node);
  const Child parent{cid_of(cid_version, kDagPb, block), file_size, block.size() + tsize_below};
  return {std::move(block), parent};
}

Child balanced_root(std::span<const Child> leaves, std::size_t max_links, const ParentOf& parent_of) {
  std::vector<Child> level(leaves.begin(), leaves.end());
  while (level.size() > 1) {
    std::vector<Child> up;
    for (std::size_t first = 0; first < level.size(); first += max_links) {
      const std::size_t count = std::min(max_links, level.size() - first);
      up.push_back(parent_of(std::span<const Child>(level).subspan(first, count)));
    }
    level = std::move(up);
  }
  return level.front();
}

}  // namespace p2plab::ipfs::logic
