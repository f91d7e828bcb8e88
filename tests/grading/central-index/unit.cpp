// Graded tests of exercise central-index: the functions of protocols/central_index/logic.hpp on
// their own, against brute force over what the peers share.
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "central_index/logic.hpp"
#include "grading.hpp"
#include "search_support.hpp"

using namespace p2plab;
using namespace p2plab::central_index;
using search::NameIndex;

namespace {
struct Files {
  search::Catalogue catalogue;
  std::vector<NameIndex> names;
  Files() {
    for (const char* n :
         {"song-1.mp3", "song-2.mp3", "Song-1 live.mp3", "film.avi", "talk.ogg", "paper.pdf", "song.txt"}) {
      names.push_back(catalogue.intern(n));
    }
  }
};

/// A random file-sharing population: peer -> the names it shares.
std::map<PeerIndex, std::set<NameIndex>> population(const Files& f, unsigned seed, PeerIndex peers) {
  std::mt19937 rng(seed);
  std::map<PeerIndex, std::set<NameIndex>> out;
  for (PeerIndex p = 0; p < peers; ++p) {
    for (std::size_t k = rng() % 4; k-- > 0;) out[p].insert(f.names[rng() % f.names.size()]);
  }
  return out;
}

Index registered(const std::map<PeerIndex, std::set<NameIndex>>& shares) {
  Index index;
  for (const auto& [peer, names] : shares) {
    for (NameIndex n : names) logic::register_file(index, peer, n);
  }
  return index;
}

/// The index that must result from `shares`, built without the student's code.
void check_index(const Index& index, const std::map<PeerIndex, std::set<NameIndex>>& shares,
                 const search::Catalogue& catalogue, const std::string& when) {
  std::map<NameIndex, std::set<PeerIndex>> providers;
  std::map<PeerIndex, std::set<NameIndex>> files_of;
  for (const auto& [peer, names] : shares) {
    for (NameIndex n : names) {
      providers[n].insert(peer);
      files_of[peer].insert(n);
    }
  }
  for (const auto& [name, peers] : providers) {
    const auto it = index.providers.find(name);
    REQUIRE_MESSAGE(it != index.providers.end(), when << ": \"" << catalogue.name(name) << "\" is shared by "
                                                      << grading::set_text(peers)
                                                      << " but missing from index.providers");
    REQUIRE_MESSAGE(it->second == peers, when << ": index.providers[\"" << catalogue.name(name) << "\"] must be "
                                              << grading::set_text(peers) << ", yours is "
                                              << grading::set_text(it->second));
  }
  for (const auto& [name, peers] : index.providers) {
    REQUIRE_MESSAGE(providers.count(name), when << ": index.providers lists \"" << catalogue.name(name)
                                                << "\" (providers " << grading::set_text(peers)
                                                << ") although no peer in the index shares it");
  }
  REQUIRE_MESSAGE(index.files_of == files_of, when << ": index.files_of must list each registered peer with its names "
                                                   << "(" << files_of.size() << " peers), yours lists "
                                                   << index.files_of.size() << " peers or other names");
}
}  // namespace

GRADED_TEST("central-index", 3, "REGISTER: each file is listed under its name with all its providers") {
  const Files f;
  Index index;
  logic::register_file(index, 3, f.names[0]);
  logic::register_file(index, 7, f.names[0]);
  logic::register_file(index, 3, f.names[3]);
  logic::register_file(index, 3, f.names[3]);  // twice: no change
  check_index(index, {{3, {f.names[0], f.names[3]}}, {7, {f.names[0]}}}, f.catalogue,
              "after REGISTER(3, song-1.mp3), REGISTER(7, song-1.mp3), REGISTER(3, film.avi) twice");
  for (unsigned seed = 1; seed <= 10; ++seed) {
    const auto shares = population(f, seed, 60);
    check_index(registered(shares), shares, f.catalogue, "after 60 peers registered their files");
  }
}

GRADED_TEST("central-index", 3, "UNREGISTER: every entry of a peer that leaves is removed and the others stay") {
  const Files f;
  Index index;
  logic::register_file(index, 3, f.names[0]);
  logic::register_file(index, 7, f.names[0]);
  logic::register_file(index, 3, f.names[3]);
  logic::unregister_peer(index, 3);
  check_index(index, {{7, {f.names[0]}}}, f.catalogue,
              "peers 3 (song-1.mp3, film.avi) and 7 (song-1.mp3) registered, then 3 left");
  logic::unregister_peer(index, 42);  // never registered: nothing changes
  check_index(index, {{7, {f.names[0]}}}, f.catalogue, "after UNREGISTER of peer 42, which never registered");
  logic::unregister_peer(index, 7);
  CHECK_MESSAGE(index.providers.empty(), "every peer left: index.providers must be empty, it still lists "
                                             << index.providers.size() << " names");
  CHECK_MESSAGE(index.files_of.empty(), "every peer left: index.files_of must be empty");
  for (unsigned seed = 1; seed <= 10; ++seed) {
    auto shares = population(f, seed, 60);
    Index big = registered(shares);
    std::mt19937 rng(seed);
    for (int k = 0; k < 25; ++k) {
      const auto leaver = static_cast<PeerIndex>(rng() % 60);
      logic::unregister_peer(big, leaver);
      shares.erase(leaver);
      check_index(big, shares, f.catalogue, "after peer " + std::to_string(leaver) + " left (UNREGISTER)");
    }
  }
}

GRADED_TEST("central-index", 3, "SEARCH: the providers of every matching name as brute force over what peers share finds them") {
  Files f;
  const NameIndex song = f.catalogue.intern("song"), song1 = f.catalogue.intern("song 1"),
                  film = f.catalogue.intern("film"), jazz = f.catalogue.intern("jazz"), mp3 = f.catalogue.intern("mp3");
  for (unsigned seed = 1; seed <= 10; ++seed) {
    const auto shares = population(f, seed, 60);
    const Index index = registered(shares);
    for (const NameIndex query : {song, song1, film, jazz, mp3, f.names[4]}) {
      std::vector<PeerIndex> expected;  // brute force: every peer with a matching file, ascending
      for (const auto& [peer, names] : shares) {
        bool match = false;
        for (NameIndex n : names) match = match || f.catalogue.matches(query, n);
        if (match) expected.push_back(peer);
      }
      const std::vector<PeerIndex> got = logic::search(index, f.catalogue, query);
      REQUIRE_MESSAGE(got == expected, "SEARCH \"" << f.catalogue.name(query) << "\": the providers are "
                                                   << grading::set_text(expected)
                                                   << " (each once, ascending); your code "
                                                   << "answered " << grading::set_text(got));
    }
  }
}
