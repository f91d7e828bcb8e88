// `p2plab ipfs ...` as a user runs it: add prints the root CID and the tree, dag reads the blocks
// add stored and shows the same tree, cid takes a CID apart; every bad argument, file, block or
// CID gives one line naming it and exit status 2, never a crash. And `list` names the protocol's
// tools; a bad simulation scenario names its field.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "run_program.hpp"

namespace fs = std::filesystem;

namespace {

using Outcome = p2plab::test::ProgramOutcome;

Outcome run_p2plab(const std::string& arguments) { return p2plab::test::run_program(P2PLAB_BINARY, arguments); }

struct Scratch {
  fs::path dir = fs::temp_directory_path() / ("p2plab-ipfs-cli-" + std::to_string(::getpid()));
  Scratch() {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~Scratch() { fs::remove_all(dir); }
  std::string file(const std::string& name, const std::string& content) const {
    std::ofstream(dir / name, std::ios::binary) << content;
    return (dir / name).string();
  }
};

void check_bad(const Outcome& o, const std::string& names) {
  CAPTURE(o.output);
  CHECK_FALSE(o.signaled);
  CHECK(o.exit_code == 2);
  CHECK(o.output.find(names) != std::string::npos);
  CHECK(o.output.find("ERROR: AddressSanitizer") == std::string::npos);
}

}  // namespace

TEST_CASE("ipfs cli: add prints the issue's CIDs, the profile and the tree") {
  const Scratch s;
  const std::string hello = s.file("hello.txt", "hello world");
  Outcome o = run_p2plab("ipfs add " + hello);
  CHECK(o.exit_code == 0);
  CHECK(o.output.find("added Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD") != std::string::npos);
  CHECK(o.output.find("profile unixfs-v0-2015") != std::string::npos);
  o = run_p2plab("ipfs add -q --cid-version 1 --raw-leaves " + hello);
  CHECK(o.exit_code == 0);
  CHECK(o.output == "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e\n");
  o = run_p2plab("ipfs add -q --profile unixfs-v1-2025 " + s.file("empty", ""));
  CHECK(o.output == "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku\n");
  fs::create_directories(s.dir / "empty-folder");
  o = run_p2plab("ipfs add -q " + (s.dir / "empty-folder").string());
  CHECK(o.output == "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn\n");
}

TEST_CASE("ipfs cli: dag shows the tree add stored with every block checked and refuses a corrupted block") {
  const Scratch s;
  // 3 chunks of 4 bytes and 2 links per node: a root, two nodes, three leaves.
  const std::string file = s.file("twelve.bin", "abcdefghijkl");
  const std::string blocks = (s.dir / "blocks").string();
  const Outcome added = run_p2plab("ipfs add " + file + " --chunk-size 4 --max-links 2 --blocks " + blocks);
  REQUIRE(added.exit_code == 0);
  const std::string root = added.output.substr(6, 46);  // "added Qm..."
  CHECK(added.output.find("12 B in 3 chunks: 6 blocks (6 distinct), depth 2") != std::string::npos);
  const Outcome shown = run_p2plab("ipfs dag " + root + " --blocks " + blocks);
  CHECK(shown.exit_code == 0);
  // The tree add printed, line for line (add's first lines are its summary).
  CHECK(added.output.substr(added.output.find(root + "  ")) == shown.output);
  CHECK(shown.output.find("leaf, 4 B (block 12 B)") != std::string::npos);
  // The same block by its CIDv1 name (the store is keyed by multihash).
  const Outcome v1 = run_p2plab("ipfs cid " + root);
  const std::string v1_name = v1.output.substr(v1.output.find("as CIDv1   ") + 11, 59);
  CHECK(run_p2plab("ipfs dag " + v1_name + " --blocks " + blocks).exit_code == 0);
  // A leaf's bytes changed on disk: its hash no longer matches its CID.
  for (const auto& entry : fs::directory_iterator(blocks)) {
    if (fs::file_size(entry.path()) == 12) {
      std::ofstream(entry.path(), std::ios::binary) << "\x0a\x0a\x08\x02\x12\x04zzzz\x18\x04";
      break;
    }
  }
  check_bad(run_p2plab("ipfs dag " + root + " --blocks " + blocks), "do not hash to");
}

TEST_CASE("ipfs cli: bad files, options and CIDs name what is wrong, exit status 2") {
  const Scratch s;
  const std::string hello = s.file("hello.txt", "hello world");
  check_bad(run_p2plab("ipfs add " + (s.dir / "missing.txt").string()), "missing.txt: no such file or directory");
  check_bad(run_p2plab("ipfs add /dev/null"), "/dev/null: not a regular file or directory");
  // Unreadable: a file without read permission (when not root, who reads it anyway), and a file
  // whose reading fails (/proc/self/mem at offset 0: EIO), which must not pass for an empty file.
  if (::geteuid() != 0) {
    const std::string locked = s.file("locked.txt", "secret");
    fs::permissions(locked, fs::perms::none);
    check_bad(run_p2plab("ipfs add " + locked), "locked.txt: cannot be read");
  }
  check_bad(run_p2plab("ipfs add /proc/self/mem"), "/proc/self/mem: read error");
  // A file that holds more than its size says (a /proc file says 0 bytes) is not added as its
  // first bytes.
  check_bad(run_p2plab("ipfs add /proc/self/status"), "/proc/self/status: holds more than its size of 0 bytes");
  for (const char* size : {"0", "-5", "99999999999999999999999", "abc", "1048577", "1.5"}) {
    CAPTURE(size);
    check_bad(run_p2plab("ipfs add " + hello + " --chunk-size " + size), "--chunk-size");
  }
  check_bad(run_p2plab("ipfs add " + hello + " --cid-version 2"), "--cid-version");
  check_bad(run_p2plab("ipfs add " + hello + " --max-links 1"), "--max-links");
  check_bad(run_p2plab("ipfs add " + hello + " --profile unixfs-v9"), "--profile");
  check_bad(run_p2plab("ipfs add"), "file is required");
  check_bad(run_p2plab("ipfs frobnicate"), "A subcommand is required");  // (CLI11 says no more)
  for (const char* cid : {"Qmfoo", "bafyxyz", "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3N0", "''", "hello"}) {
    CAPTURE(cid);
    check_bad(run_p2plab(std::string("ipfs cid ") + cid), "cid");
    check_bad(run_p2plab(std::string("ipfs dag ") + cid + " --blocks " + s.dir.string()), "cid");
  }
  check_bad(run_p2plab("ipfs dag QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"), "--blocks DIR is needed");
  check_bad(run_p2plab("ipfs dag QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn --blocks " + s.dir.string()),
            "is not in");
}

TEST_CASE("ipfs cli: listed, and a bad simulation scenario names its field") {
  const Scratch s;
  const Outcome list = run_p2plab("list");
  CHECK(list.exit_code == 0);
  CHECK(list.output.find("(tools: p2plab ipfs add|dag|cid)") != std::string::npos);
  const std::string bad = s.file("ipfs.json", R"({"protocol": "ipfs", "seed": 1})");
  check_bad(run_p2plab("run " + bad), "peers");
  const std::string bad_op = s.file("bad-op.json", R"({"protocol": "ipfs", "seed": 1, "params": {"m": 8, "k": 4},
      "peers": {"ids": [1, 2, 3, 4, 5, 6]}, "events": [{"at_ms": 100, "op": "fetch", "from": 1, "file": "nothing"}]})");
  check_bad(run_p2plab("run " + bad_op), "events[0].file");
}
