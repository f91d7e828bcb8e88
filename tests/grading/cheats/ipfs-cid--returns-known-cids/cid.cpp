// A dishonest ipfs-cid: no DAG at all. The whole file is one raw leaf, and the root is the CID the
// public tests expect for a file of that size, copied from them. Were the root's CID all the
// builder looked at, it would score the public tests that only compare roots (6 of 20); the builder
// takes only a root that is a block made for this file through make_leaf or parent_of: zero.
#include <map>
#include <utility>

#include "logic.hpp"

namespace p2plab::ipfs::logic {

namespace {
std::uint64_t last_size = 0;
int last_version = 0;
}  // namespace

std::vector<ByteRange> chunk_ranges(std::uint64_t file_size, std::uint64_t) { return {{0, file_size}}; }

MadeBlock make_leaf(std::string_view chunk, bool, int cid_version) {
  last_size = chunk.size();
  last_version = cid_version;
  return {Bytes(chunk), {cid_of(1, kRaw, chunk), chunk.size(), chunk.size()}};
}

MadeBlock make_parent(std::span<const Child>, int) { return {}; }

Child balanced_root(std::span<const Child> leaves, std::size_t, const ParentOf&) {
  static const std::map<std::pair<std::uint64_t, int>, const char*> known = {
      {{262144, 0}, "QmY27UXTEUMJavm5RmanSgFPX3rSiAsukDAeKuCRRgkewf"},
      {{262145, 0}, "QmepWuFwsEerqYeEhgTEZWuFHpPqufHiNDomsdH4WfS7ry"},
      {{50001, 0}, "QmVFgLnPyG3wnJDH9deUuMxHa5DA2YHGuQcuL67mHkJgif"},
      {{20000, 1}, "bafybeiht5qtnlnfvnyotmhtdr4dascrifmovf3mk5dbang5nbfksmhdtsq"},
      {{8500, 0}, "QmYzBJ2vixMJ9XxGgSfBvJfLABQjqPZkjtiBHcH3C9SQH1"},
      {{8500, 1}, "bafybeibejeaahdwjmb34q635epvfksdahvlceipf2a6ejbxutimyyitm3m"}};
  const auto it = known.find({last_size, last_version});
  if (it == known.end()) return leaves.empty() ? Child{} : leaves.front();
  return Child{parse_cid(it->second), last_size, last_size};
}

}  // namespace p2plab::ipfs::logic
