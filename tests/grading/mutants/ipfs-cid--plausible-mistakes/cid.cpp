// ipfs-cid's plausible mistakes: the reference solution, with each mistake a student plausibly
// makes behind `if (mistake("name"))` (mistakes.txt lists them; mistake.hpp explains the bundle).
#include <algorithm>

#include "dag_pb.hpp"
#include "logic.hpp"
#include "mistake.hpp"
#include "unixfs.hpp"

namespace p2plab::ipfs::logic {

std::vector<ByteRange> chunk_ranges(std::uint64_t file_size, std::uint64_t chunk_size) {
  std::vector<ByteRange> ranges;
  const std::uint64_t step = mistake("chunk-end-inclusive") ? chunk_size + 1 : chunk_size;
  for (std::uint64_t offset = 0; offset < file_size; offset += step) {
    if (mistake("last-chunk-dropped") && file_size - offset < chunk_size) break;
    ranges.push_back({offset, std::min(step, file_size - offset)});
  }
  if (ranges.empty()) ranges.push_back({0, 0});
  return ranges;
}

MadeBlock make_leaf(std::string_view chunk, bool raw_leaves, int cid_version) {
  if (raw_leaves) {
    const int version = mistake("raw-leaf-cid-v0") ? cid_version : 1;
    return {Bytes(chunk), {cid_of(version, kRaw, chunk), chunk.size(), chunk.size()}};
  }
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
  std::vector<Child> ordered(children.begin(), children.end());
  if (mistake("links-reversed")) std::reverse(ordered.begin(), ordered.end());
  UnixfsData data;
  data.type = UnixfsType::File;
  std::uint64_t file_size = 0, tsize_below = 0;
  PbNode node;
  for (const Child& child : ordered) {
    node.links.push_back(PbLink{child.cid, std::string(), child.tsize});
    data.blocksizes.push_back(mistake("blocksizes-are-tsize") ? child.tsize : child.file_size);
    file_size += child.file_size;
    tsize_below += child.tsize;
  }
  data.filesize = file_size;
  node.data = encode_unixfs(data);
  Bytes block = encode_pb_node(node);
  const std::uint64_t tsize = mistake("tsize-without-own-block") ? tsize_below : block.size() + tsize_below;
  const Child parent{cid_of(cid_version, kDagPb, block), file_size, tsize};
  return {std::move(block), parent};
}

Child balanced_root(std::span<const Child> leaves, std::size_t max_links, const ParentOf& parent_of) {
  const std::size_t width = mistake("max-links-plus-one") ? max_links + 1 : max_links;
  std::vector<Child> level(leaves.begin(), leaves.end());
  if (mistake("one-chunk-wrapped") && level.size() == 1) return parent_of(level);
  while (level.size() > 1) {
    std::vector<Child> up;
    for (std::size_t first = 0; first < level.size(); first += width) {
      const std::size_t count = std::min(width, level.size() - first);
      if (mistake("single-run-no-parent") && count == 1) {
        up.push_back(level[first]);
      } else {
        up.push_back(parent_of(std::span<const Child>(level).subspan(first, count)));
      }
    }
    if (!mistake("level-never-replaced")) level = std::move(up);
  }
  return level.front();
}

}  // namespace p2plab::ipfs::logic
