// p2plab: reference-only (tools/make-student-release leaves this file out of the student tree)
// Reference solution of exercise central-index (see logic.hpp for the contract and
// exercises/central-index/README.md for the task). Not part of the student release.
#include "logic.hpp"

namespace p2plab::central_index::logic {

void register_file(Index& index, PeerIndex peer, search::NameIndex name) {
  index.providers[name].insert(peer);
  index.files_of[peer].insert(name);
}

void unregister_peer(Index& index, PeerIndex peer) {
  auto it = index.files_of.find(peer);
  if (it == index.files_of.end()) return;
  for (search::NameIndex n : it->second) {
    auto entry = index.providers.find(n);
    if (entry == index.providers.end()) continue;
    entry->second.erase(peer);
    if (entry->second.empty()) index.providers.erase(entry);
  }
  index.files_of.erase(it);
}

std::vector<PeerIndex> search(const Index& index, const search::Catalogue& catalogue, search::NameIndex query) {
  std::set<PeerIndex> found;
  for (const auto& [name, peers] : index.providers) {
    if (catalogue.matches(query, name)) found.insert(peers.begin(), peers.end());
  }
  return {found.begin(), found.end()};
}

}  // namespace p2plab::central_index::logic
