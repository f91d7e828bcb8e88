// Plausible mistakes in central-index (mistakes.txt lists them; ../mistake.hpp explains).
#include "central_index/logic.hpp"
#include "mistake.hpp"

namespace p2plab::central_index::logic {

void register_file(Index& index, PeerIndex peer, search::NameIndex name) {
  if (mistake("register-replaces-providers")) index.providers[name].clear();
  index.providers[name].insert(peer);
  if (!mistake("register-forgets-files-of")) index.files_of[peer].insert(name);
}

void unregister_peer(Index& index, PeerIndex peer) {
  if (mistake("unregister-nothing")) return;
  auto it = index.files_of.find(peer);
  if (it == index.files_of.end()) return;
  for (search::NameIndex n : it->second) {
    auto entry = index.providers.find(n);
    if (entry == index.providers.end()) continue;
    if (mistake("unregister-erases-whole-entry")) {
      index.providers.erase(entry);
      continue;
    }
    entry->second.erase(peer);
    if (entry->second.empty()) index.providers.erase(entry);
  }
  index.files_of.erase(it);
}

std::vector<PeerIndex> search(const Index& index, const search::Catalogue& catalogue, search::NameIndex query) {
  std::set<PeerIndex> found;
  for (const auto& [name, peers] : index.providers) {
    const bool matches = mistake("search-exact-name-only") ? name == query : catalogue.matches(query, name);
    if (!matches) continue;
    found.insert(peers.begin(), peers.end());
    if (mistake("search-stops-at-first-name")) break;
  }
  if (mistake("search-first-provider-only") && !found.empty()) return {*found.begin()};
  return {found.begin(), found.end()};
}

}  // namespace p2plab::central_index::logic
