// Exercise central-index: the Napster server's index (register, unregister, search).
// The task, the points and how to test: README.md beside this file. Contracts: the comments in
// protocols/central_index/logic.hpp. Replace each TODO(student) with your code; remove the
// [[maybe_unused]] of a parameter once you use it.
#include "central_index/logic.hpp"

namespace p2plab::central_index::logic {

void register_file([[maybe_unused]] Index& index, [[maybe_unused]] PeerIndex peer,
                   [[maybe_unused]] search::NameIndex name) {
  // TODO(student): REGISTER. Record that peer shares name, in both maps of the index:
  // index.providers (name -> peers) and index.files_of (peer -> names).
  // Hint: map[key] creates an empty set the first time; set.insert ignores duplicates.
  // Your code here.
}

void unregister_peer([[maybe_unused]] Index& index, [[maybe_unused]] PeerIndex peer) {
  // TODO(student): UNREGISTER. Remove every entry of peer: from each of its names' provider
  // sets (erase a name nobody provides any more) and its own entry in files_of.
  // Hint: index.files_of tells you which provider sets to visit; map.find / map.erase.
  // Your code here.
}

std::vector<PeerIndex> search([[maybe_unused]] const Index& index, [[maybe_unused]] const search::Catalogue& catalogue,
                              [[maybe_unused]] search::NameIndex query) {
  // TODO(student): SEARCH. Every provider of every indexed name with
  // catalogue.matches(query, name), each once, in ascending order.
  // Hint: collect into a std::set<PeerIndex>, then return {set.begin(), set.end()}.
  // Your code here.
  return {};
}

}  // namespace p2plab::central_index::logic
