// Graded tests of exercise superpeer: the functions of protocols/superpeer/logic.hpp on their own,
// against brute-force oracles.
#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "grading.hpp"
#include "search_support.hpp"
#include "superpeer/logic.hpp"

using namespace p2plab;
using namespace p2plab::superpeer;
using search::Capacity;

namespace {
std::string capacity_text(const Capacity& c) {
  std::ostringstream out;
  out << "{" << c.bandwidth_kbps << " kbit/s, " << c.uptime_h << " h, "
      << (c.behind_nat ? "behind NAT" : "public address") << "}";
  return out.str();
}

std::vector<Capacity> random_capacities(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> bandwidth(10, 4000), uptime(0, 200), nat(0, 9);
  std::vector<Capacity> out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back({static_cast<double>(bandwidth(rng)), uptime(rng) / 10.0, nat(rng) < 3});
  }
  return out;
}

/// Oracle, written independently of the reference: sort every capable peer by score.
std::set<std::size_t> expected_election(const std::vector<Capacity>& peers, const ElectionRules& rules) {
  auto capable = [&](const Capacity& c) {
    return !c.behind_nat && c.bandwidth_kbps >= rules.min_bandwidth_kbps && c.uptime_h >= rules.min_uptime_h;
  };
  auto score = [](const Capacity& c) { return c.bandwidth_kbps * (c.uptime_h < 0.01 ? 0.01 : c.uptime_h); };
  std::vector<std::pair<double, std::size_t>> ranked;  // (-score, position)
  for (std::size_t i = 0; i < peers.size(); ++i) {
    if (capable(peers[i])) ranked.push_back({-score(peers[i]), i});
  }
  std::sort(ranked.begin(), ranked.end());
  long wanted = std::lround(rules.superpeer_ratio * static_cast<double>(peers.size()));
  if (wanted < 1) wanted = 1;
  std::set<std::size_t> out;
  for (const auto& [s, i] : ranked) {
    if (static_cast<long>(out.size()) < wanted) out.insert(i);
  }
  if (ranked.empty() && !peers.empty()) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < peers.size(); ++i) {
      if (score(peers[i]) > score(peers[best])) best = i;
    }
    out.insert(best);
  }
  return out;
}

std::set<std::size_t> elected(const std::vector<Capacity>& peers, const ElectionRules& rules) {
  const std::vector<std::size_t> got = logic::elect_superpeers(peers, rules);
  return {got.begin(), got.end()};
}
}  // namespace

GRADED_TEST("superpeer", 3, "election: capable means a public address and enough bandwidth and uptime and the score is bandwidth x uptime") {
  const ElectionRules rules{256, 1, 0.1};
  struct Case {
    Capacity c;
    bool capable;
  };
  const Case cases[] = {{{1000, 2, false}, true},     {{1000, 2, true}, false},    {{255, 2, false}, false},
                        {{256, 1, false}, true},      {{5000, 0.5, false}, false}, {{256, 0.99, false}, false},
                        {{100000, 100, true}, false}, {{300, 1, false}, true}};
  for (const Case& k : cases) {
    const bool got = logic::superpeer_capable(k.c, rules);
    CHECK_MESSAGE(got == k.capable, "with at least 256 kbit/s and 1 h uptime required, a peer "
                                        << capacity_text(k.c) << " is " << std::string(k.capable ? "" : "not ")
                                        << "superpeer-capable; your code said "
                                        << std::string(got ? "capable" : "not capable"));
  }
  struct Score {
    Capacity c;
    double score;
  };
  const Score scores[] = {
      {{1000, 2, false}, 2000}, {{500, 0, false}, 5}, {{800, 3, true}, 2400}, {{100, 0.005, false}, 1}};
  for (const Score& k : scores) {
    const double got = logic::superpeer_score(k.c);
    CHECK_MESSAGE(std::abs(got - k.score) < 1e-9, "the score of " << capacity_text(k.c) << " is " << k.score
                                                                  << " (bandwidth x uptime, uptime at least 0.01 h); "
                                                                     "your code: "
                                                                  << got);
  }
}

GRADED_TEST("superpeer", 2, "election: the best-scored capable peers fill superpeer_ratio x N places") {
  const ElectionRules lecture{256, 0, 0.5};
  const std::vector<Capacity> example = {{100, 1, false}, {2000, 1, false}, {800, 3, false}, {5000, 1, true}};
  const std::vector<std::size_t> got_example = logic::elect_superpeers(example, lecture);
  const std::vector<std::size_t> expected_example = {2, 1};
  CHECK_MESSAGE(got_example == expected_example,
                "logic.hpp's example (ratio 0.5): peers 1 (score 2000) and 2 (score 2400) are the capable ones, "
                "elected best first: {2, 1}; your code elected "
                    << grading::set_text(got_example));
  for (unsigned seed = 1; seed <= 20; ++seed) {
    const auto peers = random_capacities(50 + 10 * seed, seed);
    const ElectionRules rules{seed % 2 ? 256.0 : 1000.0, seed % 3 ? 0.0 : 2.0, 0.05 * (1 + seed % 4)};
    const std::set<std::size_t> expected = expected_election(peers, rules);
    const std::set<std::size_t> got = elected(peers, rules);
    REQUIRE_MESSAGE(got == expected, peers.size() << " peers, ratio " << rules.superpeer_ratio << ", at least "
                                                  << rules.min_bandwidth_kbps << " kbit/s and " << rules.min_uptime_h
                                                  << " h: the " << expected.size() << " best-scored capable peers are "
                                                  << grading::set_text(expected) << "; your code elected "
                                                  << grading::set_text(got));
  }
}

GRADED_TEST("superpeer", 1, "election: equal scores go to the lower position") {
  const ElectionRules rules{256, 0, 0.25};
  // 4 peers, ratio 0.25: one place; peers 1 and 3 tie for the best score (2000).
  const std::vector<Capacity> four = {{300, 1, false}, {1000, 2, false}, {500, 1, false}, {2000, 1, false}};
  std::vector<std::size_t> got = logic::elect_superpeers(four, rules);
  std::vector<std::size_t> expected = {1};
  CHECK_MESSAGE(got == expected,
                "4 peers, ratio 0.25: one superpeer; peers 1 and 3 tie with score 2000 and the lower "
                "position wins: {1}; your code elected "
                    << grading::set_text(got));
  // Three tied for two places, listed best first: the two lowest positions, in position order.
  const std::vector<Capacity> five = {
      {100, 1, false}, {1200, 1, false}, {600, 2, false}, {50, 1, false}, {400, 3, false}};
  got = logic::elect_superpeers(five, {256, 0, 0.4});
  expected = {1, 2};
  CHECK_MESSAGE(got == expected,
                "5 peers, ratio 0.4: two superpeers; peers 1, 2 and 4 tie with score 1200: the two "
                "lowest positions, best first, are {1, 2}; your code elected "
                    << grading::set_text(got));
  // Nobody capable (all behind NAT), two tied best: the lower position serves.
  const std::vector<Capacity> natted = {{100, 1, true}, {900, 2, true}, {1800, 1, true}};
  got = logic::elect_superpeers(natted, rules);
  expected = {1};
  CHECK_MESSAGE(got == expected,
                "nobody is capable and peers 1 and 2 tie with score 1800: the lower position, 1, "
                "serves; your code elected "
                    << grading::set_text(got));
}

GRADED_TEST("superpeer", 2, "election: an incapable peer serves only when nobody is capable") {
  const ElectionRules rules{256, 1, 0.5};
  // Nobody capable: the single best-scored peer.
  const std::vector<Capacity> nobody = {{100, 5, false}, {5000, 9, true}, {200, 0.5, false}, {3000, 2, true}};
  std::set<std::size_t> got = elected(nobody, rules);
  std::set<std::size_t> expected = {1};
  CHECK_MESSAGE(got == expected,
                "no peer is capable (NAT, too little bandwidth or uptime): the best-scored peer 1 must "
                "serve alone; your code elected "
                    << grading::set_text(got));
  // Fewer capable peers than wanted: only those.
  const std::vector<Capacity> few = {{100, 5, false}, {900, 2, false}, {5000, 9, true},
                                     {300, 3, false}, {4000, 8, true}, {50, 1, false}};
  got = elected(few, rules);
  expected = {1, 3};
  CHECK_MESSAGE(got == expected,
                "3 superpeers wanted but only peers 1 and 3 are capable: they alone are elected, never a "
                "peer behind NAT or with too little bandwidth; your code elected "
                    << grading::set_text(got));
  // At least one superpeer, even with a tiny ratio.
  const std::vector<Capacity> three = {{300, 2, false}, {900, 2, false}, {600, 2, false}};
  got = elected(three, {256, 1, 0.01});
  expected = {1};
  CHECK_MESSAGE(got == expected,
                "ratio 0.01 of 3 peers rounds to 0, but there is always at least one superpeer: the best, "
                "peer 1; your code elected "
                    << grading::set_text(got));
  CHECK_MESSAGE(logic::elect_superpeers({}, rules).empty(), "no peers: no superpeers");
}

GRADED_TEST("superpeer", 2, "a superpeer accepts leaves up to its limits and capable newcomers only below its share") {
  const LeafLimits limits{50, 18};
  struct Case {
    std::size_t leaves;
    bool capable, accept;
  };
  const Case cases[] = {{0, false, true},  {10, true, true},  {17, true, true},   {18, true, false},  {18, false, true},
                        {30, true, false}, {49, false, true}, {50, false, false}, {60, false, false}, {0, true, true}};
  for (const Case& k : cases) {
    const bool got = logic::accept_leaf(k.leaves, k.capable, limits);
    CHECK_MESSAGE(got == k.accept, "a superpeer with " << k.leaves << " leaves (at most 50, its share 18) asked by a "
                                                       << std::string(k.capable ? "capable" : "not capable")
                                                       << " peer must " << std::string(k.accept ? "accept" : "refuse")
                                                       << " it; your code "
                                                       << std::string(got ? "accepted" : "refused"));
  }
}

GRADED_TEST("superpeer", 3, "a leaf announces each file once and the superpeer indexes ANNOUNCEs of its leaves only") {
  const std::vector<search::NameIndex> shared = {4, 9, 4, 2, 9};
  std::vector<search::NameIndex> out(shared.size(), 0);
  const std::size_t count = logic::announcement(shared, out);
  REQUIRE_MESSAGE(count <= out.size(), "announcement returned " << count << " for " << shared.size() << " names");
  out.resize(count);
  const std::vector<search::NameIndex> expected_out = {4, 9, 2};
  CHECK_MESSAGE(out == expected_out,
                "a leaf sharing names 4, 9, 4, 2, 9 sends ANNOUNCE 4, 9, 2 (each once, in order); "
                "your code sends "
                    << grading::set_text(out));
  LeafTables tables;
  tables[5] = {1};
  tables[8] = {};
  logic::index_announcement(tables, 5, 7);
  logic::index_announcement(tables, 8, 3);
  logic::index_announcement(tables, 5, 1);
  logic::index_announcement(tables, 6, 2);
  const std::vector<search::NameIndex> five = {1, 7}, eight = {3};
  CHECK_MESSAGE(tables[5] == five, "leaf 5 had [1] and announced 7, then 1 again: its table must be [1, 7]; yours is "
                                       << grading::set_text(tables[5]));
  CHECK_MESSAGE(tables[8] == eight, "leaf 8 (accepted, empty table) announced 3: its table must be [3]; yours is "
                                        << grading::set_text(tables[8]));
  CHECK_MESSAGE(tables.count(6) == 0,
                "peer 6 is not a leaf of this superpeer: its ANNOUNCE must be ignored, your code "
                "made a table for it");
  logic::forget_leaf(tables, 5);
  CHECK_MESSAGE(tables.count(5) == 0, "leaf 5 left: its table must go, with everything it announced");
  CHECK_MESSAGE(tables.count(8) == 1, "leaf 5 left, leaf 8 did not: its table must stay");
  logic::forget_leaf(tables, 77);  // not a leaf: nothing happens
  CHECK(tables.size() == 1);
}

GRADED_TEST("superpeer", 2, "the superpeer answers a QUERY for exactly its leaves with a matching file") {
  search::Catalogue catalogue;
  std::vector<search::NameIndex> names;
  for (const char* n : {"song-1.mp3", "song-2.mp3", "film.avi", "Song-1 live.mp3", "talk.ogg", "paper.pdf"}) {
    names.push_back(catalogue.intern(n));
  }
  const search::NameIndex song = catalogue.intern("song"), song1 = catalogue.intern("song 1"),
                          film = catalogue.intern("film"), nothing = catalogue.intern("jazz");
  std::mt19937 rng(7);
  for (int round = 0; round < 30; ++round) {
    LeafTables tables;
    for (PeerIndex leaf = 0; leaf < 40; ++leaf) {
      if (rng() % 3 == 0) continue;
      auto& table = tables[leaf * 3 + 1];
      for (std::size_t k = rng() % 3; k-- > 0;) table.push_back(names[rng() % names.size()]);
    }
    for (const search::NameIndex query : {song, song1, film, nothing}) {
      const PeerIndex requester =
          tables.empty() ? kNoPeer : std::next(tables.begin(), static_cast<long>(rng() % tables.size()))->first;
      std::vector<PeerIndex> expected;  // brute force
      for (const auto& [leaf, table] : tables) {
        bool match = false;
        for (search::NameIndex n : table) match = match || catalogue.matches(query, n);
        if (match && leaf != requester) expected.push_back(leaf);
      }
      const std::vector<PeerIndex> got = logic::leaves_answering(tables, catalogue, query, requester);
      REQUIRE_MESSAGE(got == expected, "QUERY \"" << catalogue.name(query) << "\" from leaf " << requester
                                                  << ": the leaves with a matching file (but the requester) are "
                                                  << grading::set_text(expected) << "; your code answered for "
                                                  << grading::set_text(got));
    }
  }
}
