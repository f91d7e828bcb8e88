// Graded tests of exercise ipfs-cid: a file cut into chunks and built into the balanced UnixFS DAG.
// Every file is added as `p2plab ipfs add` adds it (the DAG builder calling your functions).
// Expectations: the chunker's rule written out here, the specification's CIDs, and CIDs two
// independent implementations computed for the same bytes (seeded_bytes, ipfs_support.hpp), each
// with the command that computed it:
//   npm:     node tools/npm-refs/unixfs-cids.mjs JOBS.json (js-ipfs-unixfs's importer 17.1.1, the
//            code Helia uses; options chunkSize, maxChildrenPerNode, cidVersion, rawLeaves)
//   Debian:  ipfs_cid FILE (package ipfs-cid, the Rust ipfs-unixfs crate: kubo's defaults)
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "grading.hpp"
#include "ipfs/logic.hpp"
#include "ipfs_support.hpp"

using namespace p2plab::grading::ipfs;
namespace logic = p2plab::ipfs::logic;

namespace {

std::string ranges_text(const std::vector<logic::ByteRange>& ranges) {
  std::string out = "{";
  for (std::size_t i = 0; i < ranges.size() && i < 6; ++i) {
    out += (i ? ", {" : "{") + std::to_string(ranges[i].offset) + ", " + std::to_string(ranges[i].length) + "}";
  }
  if (ranges.size() > 6) out += ", ... " + std::to_string(ranges.size() - 6) + " more";
  return out + "}";
}

}  // namespace

// Failed checks show the ranges, not {?}.
namespace doctest {
template <>
struct StringMaker<std::vector<logic::ByteRange>> {
  static String convert(const std::vector<logic::ByteRange>& ranges) { return ranges_text(ranges).c_str(); }
};
}  // namespace doctest

namespace {

/// The fixed-size chunker's rule, written out: chunk i is bytes [i * chunk, min((i + 1) * chunk,
/// size)); an empty file is one empty chunk.
std::vector<logic::ByteRange> expected_ranges(std::uint64_t size, std::uint64_t chunk) {
  std::vector<logic::ByteRange> out;
  const std::uint64_t count = size == 0 ? 1 : (size - 1) / chunk + 1;
  for (std::uint64_t i = 0; i < count; ++i) out.push_back({i * chunk, std::min(chunk, size - i * chunk)});
  return out;
}

void check_root(const ImportOptions& opts, std::size_t size, std::uint64_t seed, const std::string& expected) {
  const Added a = add(opts, seeded_bytes(size, seed));
  CHECK_MESSAGE(a.cid == expected, "the root CID of " << file_with(size, opts) << " should be " << expected
                                                      << ", your code gave " << a.said());
}

}  // namespace

GRADED_TEST("ipfs-cid", 3, "chunk_ranges cuts chunks of chunk_size bytes in file order with a shorter last one and an empty file is one empty chunk") {
  const std::vector<std::pair<std::uint64_t, std::uint64_t>> cases = {
      {10, 4},           {8, 4},        {0, 4}, {3, 4}, {4, 4}, {5, 4}, {1, 1}, {262144, 262144}, {262145, 262144},
      {1000000, 262144}, {50001, 1000}, {7, 1}};
  for (const auto& [size, chunk] : cases) {
    const std::vector<logic::ByteRange> ranges = logic::chunk_ranges(size, chunk);
    const std::vector<logic::ByteRange> expected = expected_ranges(size, chunk);
    CHECK_MESSAGE(ranges == expected, "chunk_ranges(" << size << ", " << chunk << ") should be "
                                                      << ranges_text(expected) << ", your code gave "
                                                      << ranges_text(ranges));
  }
}

GRADED_TEST("ipfs-cid", 4, "the specification's CIDs of the empty file and of hello world as a dag-pb leaf with CIDv0 and as a raw leaf with CIDv1") {
  // The UnixFS spec's empty file (CIDv0 dag-pb; the empty raw block), issue 15's "hello world".
  const ImportOptions v0 = options(0, false, 262144, 174), raw_v1 = options(1, true, 1048576, 1024);
  struct Case {
    ImportOptions opts;
    Bytes content;
    std::string cid;
  };
  for (const Case& c : {Case{v0, "", "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"},
                        Case{raw_v1, "", "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"},
                        Case{v0, "hello world", "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD"},
                        Case{raw_v1, "hello world", "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"}}) {
    const Added a = add(c.opts, c.content);
    CHECK_MESSAGE(a.cid == c.cid, "the root CID of \"" << c.content << "\" with " << c.opts.describe() << " should be "
                                                       << c.cid << ", your code gave " << a.said());
    CHECK_MESSAGE(a.blocks.size() == 1,
                  "a file of one chunk is its leaf alone: one block, your code made " << a.blocks.size());
  }
  // The leaf's bytes, encoded by hand from unixfs.proto and dag-pb's PBNode: Data (field 1, 17
  // bytes) holding Type File (08 02), Data "hello world" (12 0b ...), filesize 11 (18 0b).
  const Added hello = add(v0, "hello world");
  const Bytes block = "\x0a\x11\x08\x02\x12\x0bhello world\x18\x0b";
  CHECK_MESSAGE((hello.blocks.size() == 1 && hello.blocks.begin()->second == block),
                "the dag-pb leaf of \"hello world\" should be the 19 bytes 0a 11 08 02 12 0b \"hello world\" 18 0b");
}

GRADED_TEST("ipfs-cid", 3, "kubo's defaults: a file of 256 KiB is one leaf and one of 256 KiB + 1 byte two leaves under a root") {
  // npm {"profile": "unixfs-v0-2015"} and Debian's ipfs_cid agree on both (seeds 1 and 2).
  const ImportOptions kubo = options(0, false, 262144, 174);
  check_root(kubo, 262144, 1, "QmY27UXTEUMJavm5RmanSgFPX3rSiAsukDAeKuCRRgkewf");
  check_root(kubo, 262145, 2, "QmepWuFwsEerqYeEhgTEZWuFHpPqufHiNDomsdH4WfS7ry");
}

GRADED_TEST("ipfs-cid", 3, "a file of 51 chunks with 7 links per node: three levels of parents with every leaf at the same depth") {
  // 51 chunks of 1000 bytes (the last one of 1): 8 parents (the last over 2 leaves), then 2 (the
  // last over ONE node: it gets a parent too), then the root. npm {"profile": "unixfs-v0-2015",
  // "options": {"chunkSize": 1000, "maxChildrenPerNode": 7}} (seed 3).
  const ImportOptions opts = options(0, false, 1000, 7);
  check_root(opts, 50001, 3, "QmVFgLnPyG3wnJDH9deUuMxHa5DA2YHGuQcuL67mHkJgif");
  const Added a = add(opts, seeded_bytes(50001, 3));
  REQUIRE_MESSAGE(a.error.empty(), "adding " << file_with(50001, opts) << " failed: " << a.error);
  ReadBack back;
  back.read(a.blocks, a.root, 0);
  const std::set<int> depths(back.leaf_depths.begin(), back.leaf_depths.end());
  CHECK_MESSAGE((depths == std::set<int>{3}), "every leaf should be at depth 3 (7 x 7 = 49 < 51 chunks), yours are at "
                                                  << (depths.empty() ? -1 : *depths.begin()) << " to "
                                                  << (depths.empty() ? -1 : *depths.rbegin()));
  CHECK_MESSAGE(back.leaf_depths.size() == 51, "the DAG should have 51 leaves, yours has " << back.leaf_depths.size());
}

GRADED_TEST("ipfs-cid", 3, "raw leaves and CIDv1: the modern profile and raw leaves under a CIDv0 root and dag-pb leaves under CIDv1") {
  // npm, 1000-byte chunks and 7 links: {"profile": "unixfs-v1-2025"} (seed 4, 20000 bytes);
  // {"profile": "unixfs-v0-2015", ... "rawLeaves": true} and {... "cidVersion": 1} (seed 5, 8500).
  check_root(options(1, true, 1000, 7), 20000, 4, "bafybeiht5qtnlnfvnyotmhtdr4dascrifmovf3mk5dbang5nbfksmhdtsq");
  check_root(options(0, true, 1000, 7), 8500, 5, "QmYzBJ2vixMJ9XxGgSfBvJfLABQjqPZkjtiBHcH3C9SQH1");
  check_root(options(1, false, 1000, 7), 8500, 5, "bafybeibejeaahdwjmb34q635epvfksdahvlceipf2a6ejbxutimyyitm3m");
}

GRADED_TEST("ipfs-cid", 2, "every link's Tsize is its block and every block below it and blocksizes lists the file bytes under each link") {
  // Read back from your blocks: the sizes below every link, counted here.
  for (const ImportOptions& opts : {options(0, false, 1000, 7), options(1, true, 300, 3)}) {
    const Bytes content = seeded_bytes(9876, 6);
    const Added a = add(opts, content);
    REQUIRE_MESSAGE(a.error.empty(), "adding " << file_with(content.size(), opts) << " failed: " << a.error);
    ReadBack back;
    back.read(a.blocks, a.root, 0);
    const std::size_t chunks = (content.size() - 1) / opts.chunk_size + 1;
    CHECK_MESSAGE(back.leaf_depths.size() == chunks, "the DAG of " << file_with(content.size(), opts) << " should have "
                                                                   << chunks << " leaves, yours has "
                                                                   << back.leaf_depths.size());
    CHECK_MESSAGE(back.missing.empty(), "blocks your code linked but never made:" << lines(back.missing));
    CHECK_MESSAGE(back.wrong.empty(), "in " << file_with(content.size(), opts) << ":" << lines(back.wrong));
    CHECK_MESSAGE(back.content == content,
                  "the leaves, read in link order, should give back the file's "
                      << content.size() << " bytes; they give " << back.content.size()
                      << (back.content.size() == content.size() ? " bytes in another order" : " bytes"));
  }
}
