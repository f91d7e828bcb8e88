#pragma once
// The pieces of the central index (Napster) a student writes (exercise central-index), as plain
// functions over the server's index: register a peer's shared files, unregister all of a peer's
// entries when it leaves or fails, and search (keywords -> providers).
//
// The protocol (central_index.cpp) calls exactly these functions for every change to its index
// and for every SEARCH, so the same protocol runs on the reference code (logic_central_index.cpp beside this
// file) or on a student's code (exercises/central-index/), chosen when the program is linked
// (CMake option P2PLAB_CODE).
//
// Vocabulary (lecture, Napster): one server holds the index of every peer's files. A peer that
// comes up sends REGISTER (one file name each) to the server; a peer that leaves sends
// UNREGISTER, and the server also unregisters peers it stops hearing from (failed peers: no
// more keepalives). A SEARCH is one request to the server, which answers with the providers;
// the download then goes peer to peer. The server is a single point of failure.
#include <map>
#include <set>
#include <vector>

#include "common/search.hpp"
#include "p2plab/types.hpp"

namespace p2plab::central_index {

/// The server's index, kept in two maps that must always agree:
///   providers: file name -> the peers that registered it (a name without providers is erased)
///   files_of:  peer -> the names it registered (a peer without names is erased)
/// Example after REGISTER(peer 3, "song.mp3"), REGISTER(7, "song.mp3"), REGISTER(3, "film.avi"):
///   providers {song.mp3: {3, 7}, film.avi: {3}},  files_of {3: {song.mp3, film.avi}, 7: {song.mp3}}
struct Index {
  std::map<search::NameIndex, std::set<PeerIndex>> providers;
  std::map<PeerIndex, std::set<search::NameIndex>> files_of;
};

namespace logic {

/// REGISTER: `peer` shares `name`. Add it to both maps (registering twice changes nothing).
void register_file(Index& index, PeerIndex peer, search::NameIndex name);

/// UNREGISTER: `peer` left or failed. Remove every entry of it from both maps; names that no
/// other peer provides disappear from `providers`. A peer that is not in the index: no change.
/// Example (index above): unregister_peer(3) -> providers {song.mp3: {7}}, files_of {7: {song.mp3}}.
void unregister_peer(Index& index, PeerIndex peer);

/// SEARCH: the providers of every indexed name that matches the query's keywords
/// (catalogue.matches(query, name): the name contains every keyword of the query), each peer
/// once, in ascending order. None: an empty list.
/// Example (index above): query "song" -> {3, 7}; "film" -> {3}; "song film" -> {}.
std::vector<PeerIndex> search(const Index& index, const search::Catalogue& catalogue, search::NameIndex query);

}  // namespace logic
}  // namespace p2plab::central_index
