// Cheat of exercise central-index: the stub with a leftover std::exit(0) at the top of every
// function (which once scored full marks without running the code). Must score zero.
#include <cstdlib>

#include "central_index/logic.hpp"

namespace p2plab::central_index::logic {

void register_file([[maybe_unused]] Index& index, [[maybe_unused]] PeerIndex peer,
                   [[maybe_unused]] search::NameIndex name) {
  std::exit(0);  // REGISTER
}

void unregister_peer([[maybe_unused]] Index& index, [[maybe_unused]] PeerIndex peer) {
  std::exit(0);  // UNREGISTER
}

std::vector<PeerIndex> search([[maybe_unused]] const Index& index, [[maybe_unused]] const search::Catalogue& catalogue,
                              [[maybe_unused]] search::NameIndex query) {
  std::exit(0);  // SEARCH
  return {};
}

}  // namespace p2plab::central_index::logic
