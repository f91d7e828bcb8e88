// p2plab's CIDs of whole files and folders against two independent implementations, run at test
// time on files made here from seeded bytes (0 B, 11 B, 256 KiB, 256 KiB + 1, 1 MiB + 1,
// 174 x 256 KiB + 1: one chunk, the chunk boundary, a second level of the tree):
// - js-ipfs-unixfs's importer (npm ipfs-unixfs-importer with blockstore-core, the code Helia
//   uses; tools/npm-refs, pinned), for both profiles of IPIP-0499, unixfs-v0-2015 and
//   unixfs-v1-2025, files and folders, and profiles with options changed (raw leaves under
//   CIDv0, CIDv1 with dag-pb leaves, small chunks and few links for deep trees); all jobs in one
//   node process.
// - Debian's ipfs_cid (package ipfs-cid, Rust's ipfs-unixfs crate): it computes kubo's default
//   DAG of a file (256 KiB chunks, dag-pb leaves, 174 links: unixfs-v0-2015) and prints its root
//   as CIDv0 and as CIDv1 (the same dag-pb root block; it knows no raw leaves, no other profile,
//   no folders). So it checks the unixfs-v0-2015 root of every file.
// Both must be installed (tools/install-deps.sh does it); without them the test fails and says
// so, it never passes silently.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "dag_builder.hpp"

using namespace p2plab::ipfs;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t KiB = 1024;

/// Standard output of a shell command (standard error discarded), and whether it exited 0.
std::pair<bool, std::string> capture(const std::string& command) {
  std::string out;
  FILE* pipe = popen((command + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return {false, ""};
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) out += buffer.data();
  const int status = pclose(pipe);
  return {WIFEXITED(status) && WEXITSTATUS(status) == 0, out};
}

/// Seeded bytes (a 64-bit LCG's top bytes): the same files on every run, nothing committed.
void write_seeded(const fs::path& path, std::size_t size, std::uint64_t seed) {
  std::string bytes(size, '\0');
  for (char& c : bytes) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    c = static_cast<char>(seed >> 56);
  }
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string ours(const fs::path& path, const char* profile) {
  return DagBuilder(ImportOptions::profile(profile)).add_path(path).to_string();
}

struct Files {
  fs::path dir;
  std::vector<fs::path> files;  // the sizes above
  fs::path folder;              // a folder: files, an empty file, an empty subfolder, a subfolder

  Files() {
    dir = fs::temp_directory_path() / ("p2plab-ipfs-references-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::vector<std::size_t> sizes = {0, 11, 256 * KiB, 256 * KiB + 1, 1024 * KiB + 1, 174 * 256 * KiB + 1};
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      files.push_back(dir / ("seeded-" + std::to_string(sizes[i]) + ".bin"));
      write_seeded(files.back(), sizes[i], 1000 + i);
    }
    folder = dir / "folder";
    fs::create_directories(folder / "empty");
    fs::create_directories(folder / "sub");
    std::ofstream(folder / "hello.txt") << "hello world";
    std::ofstream(folder / "empty.txt");
    write_seeded(folder / "data.bin", 300 * KiB, 7);
    write_seeded(folder / "sub" / "inner.bin", 5000, 8);
  }
  ~Files() { fs::remove_all(dir); }
};

const char* const kProfiles[] = {"unixfs-v0-2015", "unixfs-v1-2025"};

/// A profile with options changed, as the importer's options and as ours.
struct Variant {
  std::size_t file;  // index into Files::files
  const char* profile;
  nlohmann::json importer_options;
  ImportOptions options;
};

std::vector<Variant> variants() {
  const std::size_t M256K1 = 3, M1M1 = 4;
  return {
      {M256K1, "unixfs-v0-2015", {{"rawLeaves", true}}, {0, true, 256 * KiB, 174}},  // CIDv0 root, bafk leaves
      {M1M1, "unixfs-v0-2015", {{"cidVersion", 1}}, {1, false, 256 * KiB, 174}},
      {M256K1, "unixfs-v1-2025", {{"rawLeaves", false}}, {1, false, 1024 * KiB, 1024}},
      {M1M1, "unixfs-v0-2015", {{"chunkSize", 4096}, {"maxChildrenPerNode", 16}}, {0, false, 4096, 16}},  // depth 3
      {M1M1, "unixfs-v1-2025", {{"chunkSize", 1000}, {"maxChildrenPerNode", 7}}, {1, true, 1000, 7}},     // depth 4
  };
}

}  // namespace

TEST_CASE("ipfs references: files and folders get the CIDs of js-ipfs-unixfs's importer, both profiles") {
  const fs::path refs = fs::path(P2PLAB_SOURCE_DIR) / "tools" / "npm-refs";
  if (!fs::is_directory(refs / "node_modules" / "ipfs-unixfs-importer") || !capture("node --version").first) {
    FAIL(
        "the npm reference importer is not installed: run tools/install-deps.sh (it calls "
        "tools/install-npm-refs.sh: node, npm, then ipfs-unixfs-importer and blockstore-core into "
        "tools/npm-refs/node_modules)");
  }
  const Files f;
  nlohmann::json jobs = nlohmann::json::array();
  std::vector<fs::path> paths = f.files;
  paths.push_back(f.folder);
  for (const fs::path& p : paths) {
    for (const char* profile : kProfiles) jobs.push_back({{"path", p.string()}, {"profile", profile}});
  }
  for (const Variant& v : variants()) {
    jobs.push_back({{"path", f.files[v.file].string()}, {"profile", v.profile}, {"options", v.importer_options}});
  }
  const fs::path job_file = f.dir / "jobs.json";
  std::ofstream(job_file) << jobs.dump();
  // One node process for all of them: its start-up costs more than the hashing.
  const auto [ok, out] = capture("node " + (refs / "unixfs-cids.mjs").string() + " " + job_file.string());
  REQUIRE_MESSAGE(ok, "node tools/npm-refs/unixfs-cids.mjs failed");
  std::vector<std::string> reference;  // one line per job, in order
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    reference.push_back(nlohmann::json::parse(line).at("cid").get<std::string>());
  }
  REQUIRE(reference.size() == jobs.size());
  std::size_t job = 0;
  for (const fs::path& p : paths) {
    for (const char* profile : kProfiles) {
      const std::string cid = ours(p, profile);
      CAPTURE(p.filename().string());
      CAPTURE(profile);
      CHECK(cid == reference[job++]);
      MESSAGE(p.filename().string() << " " << std::string(profile) << " " << cid);
    }
  }
  for (const Variant& v : variants()) {
    const std::string cid = DagBuilder(v.options).add_path(f.files[v.file]).to_string();
    CAPTURE(f.files[v.file].filename().string());
    CAPTURE(v.importer_options.dump());
    CHECK(cid == reference[job++]);
    MESSAGE(f.files[v.file].filename().string()
            << " " << std::string(v.profile) << " " << v.importer_options.dump() << " " << cid);
  }
}

TEST_CASE("ipfs references: files get the unixfs-v0-2015 root of Debian's ipfs_cid, as CIDv0 and CIDv1") {
  if (!capture("command -v ipfs_cid").first) {
    FAIL("ipfs_cid is not installed: run tools/install-deps.sh (Debian package ipfs-cid)");
  }
  const Files f;
  for (const fs::path& file : f.files) {
    CAPTURE(file.filename().string());
    const auto [ok, out] = capture("ipfs_cid " + file.string());
    REQUIRE(ok);
    const nlohmann::json reference = nlohmann::json::parse(out);
    Cid root = DagBuilder(ImportOptions::profile("unixfs-v0-2015")).add_path(file);
    CHECK(root.to_string() == reference.at("CIDv0").get<std::string>());
    root.version = 1;  // the same root block named as CIDv1 (its links stay CIDv0)
    CHECK(root.to_string() == reference.at("CIDv1").get<std::string>());
  }
}
