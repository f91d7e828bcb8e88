// IPFS content addressing against the specifications: the multiformats' own examples (varint,
// base58btc, base32 of RFC 4648), the UnixFS spec's well-known CIDs and those of issue 15 (from
// unixfs.md and IPIP-0499), blocks encoded by hand from the protobuf definitions, and the DAG's
// shape against arithmetic: every leaf at the same depth, at most max_links links, and the file
// read back from its blocks equal to what was added. (test_ipfs_references.cpp compares whole
// files with two independent implementations; test_ipfs_network.cpp checks the simulation.)
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "block_store.hpp"
#include "cid.hpp"
#include "dag_builder.hpp"
#include "dag_pb.hpp"
#include "dag_tree.hpp"
#include "multibase.hpp"
#include "p2plab/json_util.hpp"
#include "p2plab/registry.hpp"
#include "p2plab/scenario.hpp"
#include "unixfs.hpp"
#include "varint.hpp"

using namespace p2plab::ipfs;
using namespace std::string_literals;
namespace fs = std::filesystem;

namespace {

Bytes hex(const std::string& text) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(text.substr(i, 2), nullptr, 16)));
  return out;
}

std::string add(const ImportOptions& options, const std::string& content) {
  DagBuilder builder(options);
  return builder.add_bytes(content).to_string();
}

ImportOptions v0() { return ImportOptions::profile("unixfs-v0-2015"); }
ImportOptions v1() { return ImportOptions::profile("unixfs-v1-2025"); }

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("p2plab-test-ipfs-" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("ipfs: unsigned varint as the multiformats spec writes its examples") {
  const std::vector<std::pair<std::uint64_t, std::string>> examples = {{1, "01"},     {127, "7f"},   {128, "8001"},
                                                                       {255, "ff01"}, {300, "ac02"}, {16384, "808001"}};
  for (const auto& [value, encoded] : examples) {
    CAPTURE(value);
    CHECK(uvarint(value) == hex(encoded));
    std::size_t pos = 0;
    CHECK(read_uvarint(hex(encoded), pos, "test") == value);
    CHECK(pos == encoded.size() / 2);
  }
  std::size_t pos = 0;
  CHECK_THROWS_WITH_AS(read_uvarint(hex("8000"), pos, "v"), "v: varint not minimally encoded", FormatError);
  pos = 0;
  CHECK_THROWS_WITH_AS(read_uvarint(hex("80"), pos, "v"), "v: varint cut short", FormatError);
  pos = 0;
  CHECK_THROWS_WITH_AS(read_uvarint(hex("ffffffffffffffffff01"), pos, "v"), "v: varint longer than 9 bytes",
                       FormatError);
}

TEST_CASE("ipfs: base58btc and base32 on the published examples") {
  // draft-msporny-base58 (the Bitcoin alphabet): text, and leading zero bytes as '1's.
  CHECK(base58btc_encode("Hello World!") == "2NEpo7TZRRrLZSi2U");
  CHECK(base58btc_encode("The quick brown fox jumps over the lazy dog.") ==
        "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z");
  CHECK(base58btc_encode(hex("0000287fb4cd")) == "11233QC4");
  CHECK(base58btc_decode("11233QC4") == hex("0000287fb4cd"));
  CHECK(base58btc_decode("2NEpo7TZRRrLZSi2U") == "Hello World!");
  CHECK(base58btc_encode("") == "");
  CHECK_THROWS_WITH_AS(base58btc_decode("2NEpo0"), "base58btc: '0' at position 6 is not in its alphabet", FormatError);
  // RFC 4648 section 10, lower case and without padding as multibase 'b' writes it.
  const std::vector<std::pair<std::string, std::string>> rfc = {{"", ""},
                                                                {"f", "my"},
                                                                {"fo", "mzxq"},
                                                                {"foo", "mzxw6"},
                                                                {"foob", "mzxw6yq"},
                                                                {"fooba", "mzxw6ytb"},
                                                                {"foobar", "mzxw6ytboi"}};
  for (const auto& [text, encoded] : rfc) {
    CAPTURE(text);
    CHECK(base32_encode(text) == encoded);
    CHECK(base32_decode(encoded) == text);
  }
  CHECK_THROWS_AS(base32_decode("MZXW6"), FormatError);    // upper case is another multibase ('B')
  CHECK_THROWS_AS(base32_decode("mzx"), FormatError);      // 15 bits: not a whole number of bytes
  CHECK_THROWS_AS(base32_decode("mzxw6yr"), FormatError);  // padding bits not zero
  CHECK_THROWS_WITH_AS(multibase_decode("fabc"),
                       "multibase: prefix 'f' is not supported here (b = base32, z = base58btc)", FormatError);
}

TEST_CASE("ipfs: sha2-256 multihashes of known digests") {
  CHECK(sha2_256("").bytes() == hex("1220e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  CHECK(sha2_256("hello world").bytes() == hex("1220b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"));
  CHECK(verify(sha2_256("abc"), "abc"));
  CHECK_FALSE(verify(sha2_256("abc"), "abd"));
}

TEST_CASE("ipfs: the specifications' well-known CIDs") {
  // Encoded by hand from the protobuf definitions: PBNode.Data (field 1) holding UnixFS Data.
  const Bytes empty_directory = hex("0a020801");  // Data{Type: Directory}
  const Bytes empty_file = hex("0a0408021800");   // Data{Type: File, filesize: 0}
  CHECK(encode_pb_node(PbNode{{}, encode_unixfs(UnixfsData{UnixfsType::Directory, {}, {}, {}, {}, {}})}) ==
        empty_directory);
  CHECK(cid_of(0, kDagPb, empty_directory).to_string() == "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn");
  CHECK(cid_of(1, kDagPb, empty_directory).to_string() ==
        "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354");
  CHECK(cid_of(0, kDagPb, empty_file).to_string() == "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH");
  CHECK(cid_of(1, kDagPb, empty_file).to_string() == "bafybeif7ztnhq65lumvvtr4ekcwd2ifwgm3awq4zfr3srh462rwyinlb4y");
  CHECK(cid_of(1, kRaw, "").to_string() == "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");

  // The same through the importer, as `ipfs add` makes them.
  CHECK(add(v0(), "") == "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH");
  ImportOptions v1_dag_pb_leaves = v0();
  v1_dag_pb_leaves.cid_version = 1;
  CHECK(add(v1_dag_pb_leaves, "") == "bafybeif7ztnhq65lumvvtr4ekcwd2ifwgm3awq4zfr3srh462rwyinlb4y");
  CHECK(add(v1(), "") == "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
  CHECK(add(v0(), "hello world") == "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD");
  CHECK(add(v1(), "hello world") == "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
  ImportOptions raw_v1 = v0();
  raw_v1.cid_version = 1;
  raw_v1.raw_leaves = true;
  CHECK(add(raw_v1, "hello world") == "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");

  const fs::path empty = scratch("empty-directory");
  CHECK(DagBuilder(v0()).add_path(empty).to_string() == "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn");
  CHECK(DagBuilder(v1()).add_path(empty).to_string() == "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354");
}

TEST_CASE("ipfs: CIDs parse back to what printed them, and bad text says what is wrong") {
  for (const char* text :
       {"QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn", "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354",
        "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"}) {
    CAPTURE(text);
    CHECK(parse_cid(text).to_string() == text);
  }
  const Cid v0 = parse_cid("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn");
  const Cid v1 = parse_cid("bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354");
  CHECK(v0.version == 0);
  CHECK(v1.version == 1);
  CHECK(v0.codec == kDagPb);
  CHECK(v0.hash == v1.hash);  // one block, two names
  CHECK(parse_cid("z" + base58btc_encode(v1.bytes())) == v1);
  // The spec's identity CIDs: 128 bytes inlined are accepted, 129 rejected.
  CHECK(parse_cid("bafkqaaa").hash.code == kIdentity);
  CHECK(parse_cid("bafkqaaa").hash.digest.empty());
  const char* const identity_128 =
      "bafkqbaabijbeeqscijbeeqscijbeeqscijbeeqscijbeeqscijbeeqscijbeeqscijbeeqscijbeeqscijbeeqscijbeeqscijbeeqscijbeeqs"
      "cijbeeqscijbeeqscijbeeqscijbeeqscijbeeqscijbeeqscijbeeqscijbeeqscijbeeqscijbeeqscijbeeqscijbeeqscijbee";
  CHECK(parse_cid(identity_128).hash.digest == Bytes(128, 'B'));

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "cid: empty"},
      {"QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3N0", "'0' at position 46 is not in its alphabet"},
      {"xyz", "prefix 'x' is not supported"},
      {"bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf3", "digest of 32 bytes, only 31 left"},
      {"bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf35", "do not end on a whole byte"},
      {"bafyBEIczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354", "'B' at position 4"},
      {"b" + base32_encode(hex("02701220") + Bytes(32, 'x')), "version 2 is not known"},
      {"b" + base32_encode(v1.bytes() + "x"), "1 bytes after the end"},
      {"z" + base58btc_encode(v0.bytes()), "a CIDv0 is written in base58btc without a multibase prefix"},
      {"b" + base32_encode(hex("01551220") + Bytes(31, 'x')), "32 bytes, only 31 left"},
      {"bafkqbaibifaucqkbifaucqkbifaucqkbifaucqkbifaucqkbifaucqkbifaucqkbifaucqkbifaucqkbifaucqkbifaucqkbifaucqkbifaucq"
       "kbifaucqkbifaucqkbifaucqkbifaucqkbifaucqkbifaucqkbifaucqkbifaucqkbifaucqkbifaucqkbifaucqkbifaucqkbifaucqi",
       "identity digest of 129 bytes"},
  };
  for (const auto& [text, reason] : bad) {
    CAPTURE(text);
    try {
      parse_cid(text);
      FAIL("accepted");
    } catch (const FormatError& e) {
      CHECK(std::string(e.what()).find(reason) != std::string::npos);
      CHECK(std::string(e.what()).rfind("cid", 0) == 0);
    }
  }
}

TEST_CASE("ipfs: dag-pb and UnixFS blocks as the protobuf definitions lay them out") {
  // A parent of two leaves, encoded field by field from the .proto: PBLink{Hash, Name "", Tsize}
  // in PBNode.Links (field 2) first, then PBNode.Data (field 1) = Data{Type File, filesize 12,
  // blocksizes 11, 1}.
  const Cid a = cid_of(0, kDagPb, "a"), b = cid_of(0, kDagPb, "b");
  PbNode node;
  node.links = {PbLink{a, std::string(), 19}, PbLink{b, std::string(), 9}};
  UnixfsData data;
  data.type = UnixfsType::File;
  data.filesize = 12;
  data.blocksizes = {11, 1};
  node.data = encode_unixfs(data);
  const Bytes expected = "\x12\x28\x0a\x22" + a.bytes() + "\x12\x00\x18\x13"s + "\x12\x28\x0a\x22" + b.bytes() +
                         "\x12\x00\x18\x09"s + "\x0a\x08\x08\x02\x18\x0c\x20\x0b\x20\x01"s;
  CHECK(encode_pb_node(node) == expected);
  CHECK(decode_pb_node(expected) == node);
  CHECK(decode_unixfs(*node.data) == data);
  // Packed blocksizes (allowed by protobuf) read the same.
  CHECK(decode_unixfs("\x08\x02\x18\x0c\x22\x02\x0b\x01"s).blocksizes == std::vector<std::uint64_t>{11, 1});

  // What a strict dag-pb decoder refuses.
  CHECK_THROWS_WITH_AS(decode_pb_node("\x0a\x00\x12\x24\x0a\x22"s + a.bytes()),
                       "dag-pb PBNode: field 2: a link after Data (links come first)", FormatError);
  CHECK_THROWS_WITH_AS(decode_pb_node("\x1a\x00"s), "dag-pb PBNode: field 3: not a PBNode field (1 Data, 2 Links)",
                       FormatError);
  CHECK_THROWS_AS(decode_pb_node("\x0a\x05\x08"s), FormatError);          // length past the end
  CHECK_THROWS_AS(decode_pb_node("\x12\x03\x0a\x01\x00"s), FormatError);  // a Hash that is no CID
  CHECK_THROWS_AS(decode_unixfs("\x18\x00"s), FormatError);               // no Type
  CHECK_THROWS_AS(describe_block(cid_of(0, kDagPb, "x"), "\x12\x24\x0a\x22"s + a.bytes() + "\x0a\x02\x08\x02"s),
                  FormatError);  // a link without its blocksize
}

namespace {

/// Reads a file back from its blocks (the oracle of the layout: the bytes must come back in
/// order), checking on the way that every leaf lies at `depth` and no node has more than
/// `max_links` links.
struct Reader {
  const std::map<Cid, Bytes>& blocks;
  std::size_t max_links;
  std::vector<int> leaf_depths;
  std::string content;

  void read(const Cid& cid, int depth) {
    const Bytes& block = blocks.at(cid);
    CHECK(verify(cid.hash, block));
    if (cid.codec == kRaw) {
      leaf_depths.push_back(depth);
      content += block;
      return;
    }
    const PbNode node = decode_pb_node(block);
    const UnixfsData data = decode_unixfs(node.data.value());
    CHECK(data.type == UnixfsType::File);
    CHECK(node.links.size() <= max_links);
    if (node.links.empty()) {
      leaf_depths.push_back(depth);
      content += data.data.value_or("");
      CHECK(data.filesize == data.data.value_or("").size());
      return;
    }
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < node.links.size(); ++i) {
      const std::size_t before = content.size();
      read(node.links[i].hash, depth + 1);
      CHECK(data.blocksizes.at(i) == content.size() - before);  // blocksizes: file bytes under link i
      sum += data.blocksizes[i];
    }
    CHECK(data.filesize == sum);
  }
};

std::string seeded_bytes(std::size_t n, std::uint64_t seed) {
  std::string out(n, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    out[i] = static_cast<char>(seed >> 56);
  }
  return out;
}

}  // namespace

TEST_CASE("ipfs: the balanced layout: leaves at one depth, at most max_links links, the file read back") {
  // Small chunks and few links make deep trees out of few bytes: depth = ceil(log_links chunks).
  struct Case {
    std::size_t size, chunk, links;
    bool raw;
    int depth;
  };
  for (const Case c : {Case{10, 1, 3, false, 3}, Case{9, 1, 3, true, 2}, Case{28, 1, 3, false, 4},
                       Case{1000, 7, 2, true, 8}, Case{5, 10, 2, false, 0}, Case{0, 4, 2, true, 0}}) {
    CAPTURE(c.size);
    CAPTURE(c.links);
    ImportOptions options{1, c.raw, c.chunk, c.links};
    std::map<Cid, Bytes> blocks;
    DagBuilder builder(options, [&](const Cid& cid, std::string_view block) { blocks[cid] = Bytes(block); });
    const std::string content = seeded_bytes(c.size, c.size);
    const Cid root = builder.add_bytes(content);
    Reader reader{blocks, c.links, {}, {}};
    reader.read(root, 0);
    CHECK(reader.content == content);
    const std::size_t chunks = c.size == 0 ? 1 : (c.size + c.chunk - 1) / c.chunk;
    CHECK(reader.leaf_depths.size() == chunks);
    CHECK(builder.chunks() == chunks);
    for (const int depth : reader.leaf_depths) CHECK(depth == c.depth);
  }
}

TEST_CASE("ipfs: the block store gives back verified blocks and refuses a corrupted one") {
  const fs::path dir = scratch("blocks");
  FolderBlockStore store(dir);
  const Cid cid = cid_of(1, kRaw, "some bytes");
  CHECK_FALSE(store.get(cid).has_value());
  store.put(cid, "some bytes");
  CHECK(store.get(cid) == Bytes("some bytes"));
  Cid as_v0 = cid_of(0, kDagPb, "some bytes");
  CHECK(store.get(as_v0) == Bytes("some bytes"));  // stored by multihash, as kubo's flatfs
  std::ofstream(store.path_of(cid), std::ios::binary) << "some bytez";
  CHECK_THROWS_WITH_AS(store.get(cid), doctest::Contains("do not hash to"), FormatError);
  fs::remove_all(dir.parent_path());
}

TEST_CASE("ipfs: options out of range and unknown profiles are named") {
  CHECK_THROWS_WITH_AS(ImportOptions::profile("unixfs-v2"), doctest::Contains("--profile"), FormatError);
  CHECK_THROWS_WITH_AS((ImportOptions{0, false, 0, 174}.check()), doctest::Contains("--chunk-size"), FormatError);
  CHECK_THROWS_WITH_AS((ImportOptions{0, false, kMaxChunkSize + 1, 174}.check()), doctest::Contains("--chunk-size"),
                       FormatError);
  CHECK_THROWS_WITH_AS((ImportOptions{0, false, 1024, 1}.check()), doctest::Contains("--max-links"), FormatError);
  CHECK_THROWS_WITH_AS((ImportOptions{2, false, 1024, 4}.check()), doctest::Contains("--cid-version"), FormatError);
  CHECK_THROWS_WITH_AS(DagBuilder(v0()).add_path("/nonexistent/p2plab"), doctest::Contains("/nonexistent/p2plab"),
                       ImportError);
}

TEST_CASE("ipfs: registered with its tools and its simulation") {
  const p2plab::ProtocolRegistry& registry = p2plab::all_protocols();
  const p2plab::ProtocolInfo* ipfs = registry.find("ipfs");
  REQUIRE(ipfs != nullptr);
  CHECK(ipfs->simulated());
  CHECK(registry.find_simulated("ipfs") == ipfs);
  CHECK(ipfs->commands.size() == 3);
  // A scenario without peers is refused naming the field, as every DHT's.
  const p2plab::Scenario scenario = p2plab::parse_scenario({{"protocol", "ipfs"}}, "ipfs.json");
  CHECK_THROWS_WITH_AS(registry.create(scenario), doctest::Contains("peers"), p2plab::ScenarioError);
}

TEST_CASE("ipfs: the tree printer stops on a DAG that links one block many times") {
  // Three levels of three links to the same block: 1 + 3 + 9 + 27 nodes as a tree, from 4 blocks.
  std::map<Cid, Bytes> blocks;
  Cid below = cid_of(1, kRaw, "leaf");
  blocks[below] = "leaf";
  for (int level = 0; level < 3; ++level) {
    PbNode node;
    UnixfsData data;
    data.type = UnixfsType::File;
    for (int i = 0; i < 3; ++i) {
      node.links.push_back(PbLink{below, std::string(), 4});
      data.blocksizes.push_back(4);
    }
    node.data = encode_unixfs(data);
    const Bytes block = encode_pb_node(node);
    below = cid_of(1, kDagPb, block);
    blocks[below] = block;
  }
  const NodeLookup lookup = [&](const Cid& cid) -> std::optional<DagNode> {
    const auto it = blocks.find(cid);
    if (it == blocks.end()) return std::nullopt;
    return describe_block(cid, it->second);
  };
  TreeOptions options;
  options.all = true;
  const auto lines = [](const std::string& text) { return std::count(text.begin(), text.end(), '\n'); };
  CHECK(lines(print_tree(below, lookup, options)) == 1 + 3 + 9 + 27);
  options.max_nodes = 10;
  const std::string cut = print_tree(below, lookup, options);
  CHECK(lines(cut) == 11);
  CHECK(cut.find("(stopped after 10 nodes)") != std::string::npos);
  options.max_nodes = 1000;
  options.max_depth = 1;
  CHECK(print_tree(below, lookup, options).find("(deeper levels not shown)") != std::string::npos);
}

TEST_CASE(
    "ipfs: what the exercised code returns is checked and the function named: a wrong CID or a chunk outside the "
    "file") {
  // The builder runs a student's logic::make_leaf, make_parent and chunk_ranges (exercise
  // ipfs-cid): a wrong answer must be an error naming the function, never a crash.
  const Bytes block = "abc";
  const logic::MadeBlock good{block, {cid_of(1, kRaw, block), 3, 3}};
  CHECK_NOTHROW(check_made_block(good, "make_leaf"));
  logic::MadeBlock other = good;
  other.block = "abd";
  CHECK_THROWS_WITH_AS(check_made_block(other, "make_leaf"),
                       doctest::Contains("make_leaf (exercise ipfs-cid) returned bafk"), FormatError);
  CHECK_THROWS_WITH_AS(check_made_block(other, "make_leaf"), doctest::Contains("not the CID of its block"),
                       FormatError);
  logic::MadeBlock v0_raw = good;
  v0_raw.child.cid.version = 0;
  CHECK_THROWS_WITH_AS(check_made_block(v0_raw, "make_leaf"), doctest::Contains("a CIDv0 names dag-pb blocks only"),
                       FormatError);
  logic::MadeBlock odd = good;
  odd.child.cid.version = 2;
  CHECK_THROWS_WITH_AS(check_made_block(odd, "make_parent"), doctest::Contains("version 2"), FormatError);
  odd = good;
  odd.child.cid.codec = 0x71;
  CHECK_THROWS_WITH_AS(check_made_block(odd, "make_parent"), doctest::Contains("codec"), FormatError);
  odd = good;
  odd.child.cid.hash = Multihash{kIdentity, block};
  CHECK_THROWS_WITH_AS(check_made_block(odd, "make_parent"), doctest::Contains("not the CID of its block"),
                       FormatError);
  logic::MadeBlock huge{Bytes(kMaxBlock + 1, 'x'), {}};
  huge.child.cid = cid_of(1, kRaw, huge.block);
  CHECK_THROWS_WITH_AS(check_made_block(huge, "make_parent"), doctest::Contains("made a block of"), FormatError);

  CHECK_NOTHROW(check_chunk_range({0, 4}, 0, 0, 10));
  CHECK_NOTHROW(check_chunk_range({6, 4}, 1, 4, 10));  // bytes 4 and 5 skipped: a wrong CID, no error
  CHECK_THROWS_WITH_AS(check_chunk_range({2, 4}, 1, 4, 10),
                       doctest::Contains("chunk_ranges (exercise ipfs-cid): chunk 1"), FormatError);
  CHECK_THROWS_WITH_AS(check_chunk_range({2, 4}, 1, 4, 10), doctest::Contains("before the end of the chunk before"),
                       FormatError);
  CHECK_THROWS_WITH_AS(check_chunk_range({8, 4}, 2, 8, 10), doctest::Contains("beyond the end of the file"),
                       FormatError);
  CHECK_THROWS_WITH_AS(check_chunk_range({~0ull, 2}, 0, 0, 10), doctest::Contains("beyond the end"), FormatError);
  CHECK_THROWS_WITH_AS(check_chunk_range({0, kMaxBlock + 1}, 0, 0, 4 * kMaxBlock),
                       doctest::Contains("larger than a block may be"), FormatError);
}
