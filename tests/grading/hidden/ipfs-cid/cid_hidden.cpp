// Hidden graded tests of exercise ipfs-cid (grading time only): random files and options against a
// builder of the test's own. It shares no code with the course's DAG builder or encoders: the
// protobuf bytes are written here field by field, and the tree is built top-down (the subtree under
// a node of height h holds max_links^h leaves) rather than level by level; only sha2-256 and a
// CID's text come from the course (cid.hpp, checked against the specification's vectors).
#include <string>

#include "grading.hpp"
#include "ipfs_support.hpp"

using namespace p2plab::grading::ipfs;
using p2plab::ipfs::kDagPb;
using p2plab::ipfs::kRaw;

namespace {

void put_varint(Bytes& out, std::uint64_t v) {
  for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>((v & 0x7f) | 0x80));
  out.push_back(static_cast<char>(v));
}
void put_number(Bytes& out, std::uint64_t field, std::uint64_t v) {
  put_varint(out, field << 3);  // wire type 0: varint
  put_varint(out, v);
}
void put_bytes(Bytes& out, std::uint64_t field, const Bytes& bytes) {
  put_varint(out, field << 3 | 2);  // wire type 2: length-delimited
  put_varint(out, bytes.size());
  out += bytes;
}

struct Node {
  Cid cid;
  std::uint64_t file = 0, tsize = 0;
};

struct OracleBuilder {
  ImportOptions opts;
  const Bytes& content;
  std::size_t chunks;

  Node name(std::uint64_t codec, int version, const Bytes& block, std::uint64_t file, std::uint64_t below) const {
    return Node{Cid{version, codec, p2plab::ipfs::sha2_256(block)}, file, block.size() + below};
  }

  Node leaf(std::size_t i) const {
    const Bytes chunk = content.substr(i * opts.chunk_size, opts.chunk_size);
    if (opts.raw_leaves) return name(kRaw, 1, chunk, chunk.size(), 0);
    Bytes unixfs;
    put_number(unixfs, 1, 2);  // Type File
    if (!chunk.empty()) put_bytes(unixfs, 2, chunk);
    put_number(unixfs, 3, chunk.size());
    Bytes block;
    put_bytes(block, 1, unixfs);  // PBNode.Data
    return name(kDagPb, opts.cid_version, block, chunk.size(), 0);
  }

  /// The node of height `height` over leaves [first, first + its span).
  Node subtree(std::size_t first, int height) const {
    if (height == 0) return leaf(first);
    std::size_t span = 1;
    for (int h = 1; h < height; ++h) span *= opts.max_links;
    Bytes links, sizes;
    std::uint64_t file = 0, below = 0;
    for (std::size_t at = first; at < chunks && at < first + span * opts.max_links; at += span) {
      const Node child = subtree(at, height - 1);
      Bytes link;
      put_bytes(link, 1, child.cid.bytes());
      put_bytes(link, 2, "");
      put_number(link, 3, child.tsize);
      put_bytes(links, 2, link);  // PBNode.Links
      put_number(sizes, 4, child.file);
      file += child.file;
      below += child.tsize;
    }
    Bytes unixfs;
    put_number(unixfs, 1, 2);
    put_number(unixfs, 3, file);
    Bytes block = links;
    put_bytes(block, 1, unixfs + sizes);
    return name(kDagPb, opts.cid_version, block, file, below);
  }

  std::string root() const {
    int height = 0;
    for (std::size_t reach = 1; reach < chunks; reach *= opts.max_links) ++height;
    return subtree(0, height).cid.to_string();
  }
};

}  // namespace

GRADED_TEST("ipfs-cid", 2, "hidden: 40 random files and options against an independent builder") {
  std::uint64_t state = 2026;
  const auto next = [&](std::uint64_t below) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (state >> 33) % below;
  };
  int wrong = 0;
  for (int i = 0; i < 40; ++i) {
    const std::size_t chunk = 1 + next(i % 4 == 0 ? 20 : 2000);
    const std::size_t size = i == 0 ? 0 : next(chunk * (2 + next(60)));
    const ImportOptions opts = options(static_cast<int>(next(2)), next(2) == 1, chunk, 2 + next(8));
    const Bytes content = seeded_bytes(size, 100 + static_cast<std::uint64_t>(i));
    const std::size_t chunks = size == 0 ? 1 : (size - 1) / chunk + 1;
    const std::string expected = OracleBuilder{opts, content, chunks}.root();
    const Added a = add(opts, content);
    if (a.cid != expected && ++wrong <= 3) {
      FAIL_CHECK("the root CID of " << file_with(size, opts) << " should be " << expected << ", your code gave "
                                    << a.said());
    }
  }
  CHECK_MESSAGE(wrong == 0, wrong << " of 40 files got a wrong root CID");
}
