// Mutant of exercise central-index: UNREGISTER removes nothing. Must lose points.
#include "central_index/logic.hpp"

namespace p2plab::central_index::logic {

void register_file(Index& index, PeerIndex peer, search::NameIndex name) {
  index.providers[name].insert(peer);
  index.files_of[peer].insert(name);
}

void unregister_peer([[maybe_unused]] Index& index, [[maybe_unused]] PeerIndex peer) {}

std::vector<PeerIndex> search(const Index& index, const search::Catalogue& catalogue, search::NameIndex query) {
  std::set<PeerIndex> found;
  for (const auto& [name, peers] : index.providers) {
    if (catalogue.matches(query, name)) found.insert(peers.begin(), peers.end());
  }
  return {found.begin(), found.end()};
}

}  // namespace p2plab::central_index::logic
