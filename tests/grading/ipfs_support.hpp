#pragma once
// Helpers shared by the graded IPFS tests (tests/grading/ipfs-cid/ and hidden/ipfs-cid/).
//
// Files are added as `p2plab ipfs add` adds them: through the DAG builder, which calls the
// student's functions (ipfs/logic.hpp) and keeps every block they make. Expectations never come
// from the code under test: the specification's CIDs, CIDs computed by two independent
// implementations (kept in the tests with the command that computed them), the blocks read back
// here with the course's decoders, and (hidden tests) a builder of the test's own.
#include <cstdint>
#include <exception>
#include <map>
#include <string>
#include <vector>

#include "ipfs/dag_builder.hpp"
#include "ipfs/dag_pb.hpp"
#include "ipfs/unixfs.hpp"

namespace p2plab::grading::ipfs {

using p2plab::ipfs::Bytes;
using p2plab::ipfs::Cid;
using p2plab::ipfs::ImportOptions;

/// `n` bytes that look random, the same for a seed everywhere: x <- x * 6364136223846793005 +
/// 1442695040888963407 (mod 2^64), each byte the top 8 bits of x. (The files the reference CIDs
/// were computed from were written by the same recipe.)
inline Bytes seeded_bytes(std::size_t n, std::uint64_t seed) {
  Bytes out(n, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    out[i] = static_cast<char>(seed >> 56);
  }
  return out;
}

/// Options in the command line's words: `ImportOptions{cid_version, raw_leaves, chunk_size,
/// max_links}`.
inline ImportOptions options(int cid_version, bool raw_leaves, std::size_t chunk_size, std::size_t max_links) {
  return ImportOptions{cid_version, raw_leaves, chunk_size, max_links};
}

/// A file added with the student's code: its root CID, or what went wrong, and every block made.
struct Added {
  std::string cid;    ///< the root's text; "" when adding failed
  std::string error;  ///< the builder's or the student's error
  std::map<Cid, Bytes> blocks;
  Cid root;

  /// "Qm..." or "an error: ..." for a failure message.
  std::string said() const { return error.empty() ? cid : "an error: " + error; }
};

inline Added add(const ImportOptions& opts, const Bytes& content) {
  Added out;
  try {
    p2plab::ipfs::DagBuilder builder(opts,
                                     [&](const Cid& cid, std::string_view block) { out.blocks[cid] = Bytes(block); });
    out.root = builder.add_bytes(content);
    out.cid = out.root.to_string();
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

/// "a 262145-byte file with CIDv0, dag-pb leaves, chunks of 256 KiB, at most 174 links per node".
inline std::string file_with(std::size_t size, const ImportOptions& opts) {
  return "a " + std::to_string(size) + "-byte file with " + opts.describe();
}

/// What the blocks below a root hold, read back with the course's decoders: the depth of every
/// leaf, and every link whose Tsize or blocksizes entry is not what UnixFS says.
struct ReadBack {
  std::vector<int> leaf_depths;
  Bytes content;                   ///< the file's bytes, leaf after leaf
  std::vector<std::string> wrong;  ///< one line per wrong Tsize, blocksizes or filesize
  std::vector<std::string> missing;

  struct Sizes {
    std::uint64_t file = 0, tsize = 0;
  };

  /// The true sizes of the node `cid`: file bytes under it and bytes of its blocks.
  Sizes read(const std::map<Cid, Bytes>& blocks, const Cid& cid, int depth) {
    const auto it = blocks.find(cid);
    if (it == blocks.end() || depth > 64) {
      missing.push_back(cid.to_string());
      return {};
    }
    const Bytes& block = it->second;
    if (cid.codec == p2plab::ipfs::kRaw) {
      leaf_depths.push_back(depth);
      content += block;
      return {block.size(), block.size()};
    }
    const p2plab::ipfs::PbNode node = p2plab::ipfs::decode_pb_node(block);
    const p2plab::ipfs::UnixfsData data = p2plab::ipfs::decode_unixfs(node.data.value_or(Bytes()));
    if (node.links.empty()) {
      leaf_depths.push_back(depth);
      content += data.data.value_or(Bytes());
      return {data.data ? data.data->size() : 0, block.size()};
    }
    Sizes sizes{0, block.size()};
    for (std::size_t i = 0; i < node.links.size(); ++i) {
      const p2plab::ipfs::PbLink& link = node.links[i];
      const Sizes below = read(blocks, link.hash, depth + 1);
      const std::string where =
          "link " + std::to_string(i) + " of " + cid.to_string() + " (depth " + std::to_string(depth) + ")";
      if (link.tsize.value_or(0) != below.tsize) {
        wrong.push_back(where + ": Tsize " + std::to_string(link.tsize.value_or(0)) + ", should be " +
                        std::to_string(below.tsize) + " (its block and every block below it)");
      }
      const std::uint64_t listed = i < data.blocksizes.size() ? data.blocksizes[i] : 0;
      if (listed != below.file) {
        wrong.push_back(where + ": blocksizes says " + std::to_string(listed) + ", should be " +
                        std::to_string(below.file) + " (the file bytes under the link)");
      }
      sizes.file += below.file;
      sizes.tsize += below.tsize;
    }
    if (data.filesize.value_or(0) != sizes.file) {
      wrong.push_back(cid.to_string() + ": filesize " + std::to_string(data.filesize.value_or(0)) + ", should be " +
                      std::to_string(sizes.file));
    }
    return sizes;
  }
};

inline std::string lines(const std::vector<std::string>& items, std::size_t most = 5) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < most; ++i) out += "\n  " + items[i];
  if (items.size() > most) out += "\n  ... " + std::to_string(items.size() - most) + " more";
  return out;
}

}  // namespace p2plab::grading::ipfs
