#pragma once
// The pieces of the superpeer protocol (Gnutella 0.6 ultrapeers, Skype supernodes) a student
// writes (exercise superpeer), as plain functions over small typed values: which peers become
// superpeers (the election), whether a superpeer takes one more leaf, and the superpeer's index
// of its leaves' files (what a leaf announces, how the superpeer stores it, how it answers a
// QUERY for its leaves).
//
// The protocol (superpeer.cpp) calls exactly these functions for every decision they name, so
// the same protocol runs on the reference code (logic_superpeer.cpp beside this file) or on a student's
// code (exercises/superpeer/), chosen when the program is linked (CMake option P2PLAB_CODE).
//
// Vocabulary (lecture): a superpeer is a peer with enough capacity (bandwidth, uptime, a public
// address: not behind NAT) that serves weaker peers, its leaves. A leaf attaches to 1 to 3
// superpeers and announces its shared files to them (ANNOUNCE: one file name each); QUERYs then
// flood only among superpeers, and each superpeer answers with a QUERYHIT for every leaf whose
// files match, without asking the leaf.
#include <cstddef>
#include <map>
#include <span>
#include <vector>

#include "common/search.hpp"
#include "p2plab/types.hpp"

namespace p2plab::superpeer {

/// What a superpeer knows of its leaves: leaf -> the file names it announced (in the order
/// announced). A leaf that attached but has not announced anything yet has an empty list.
using LeafTables = std::map<PeerIndex, std::vector<search::NameIndex>>;

/// The election's parameters (from the scenario's "params").
struct ElectionRules {
  double min_bandwidth_kbps = 256;  // below this a peer is never superpeer-capable
  double min_uptime_h = 0;          // nor with less uptime than this
  double superpeer_ratio = 0.1;     // the share of all peers that should be superpeers
};

/// How many leaves a superpeer takes.
struct LeafLimits {
  std::size_t max_leaves = 50;     // never more than this (leaves_per_superpeer)
  std::size_t target_leaves = 18;  // its share: superpeers_per_leaf x (1 / superpeer_ratio - 1)
};

namespace logic {

// ----- The election ------------------------------------------------------------------------------

/// Is a peer with capacity c superpeer-capable ("X-Ultrapeer: True")? Yes if it is not behind
/// NAT (others must be able to connect to it), its bandwidth is at least min_bandwidth_kbps and
/// its uptime at least min_uptime_h (both bounds count as enough).
/// Example, rules 256 kbit/s and 1 h: {1000 kbit/s, 2 h, public} -> true;
/// {1000, 2, behind NAT} -> false; {255, 2, public} -> false; {256, 1, public} -> true.
bool superpeer_capable(const search::Capacity& c, const ElectionRules& rules);

/// How good a superpeer a peer would be: bandwidth x uptime, where an uptime below 0.01 h counts
/// as 0.01 h (a newcomer is not worth nothing). Example: {1000 kbit/s, 2 h} -> 2000;
/// {500, 0} -> 5.
double superpeer_score(const search::Capacity& c);

/// The election at start-up: peers[i] is the capacity of peer i. Returns the positions i of the
/// peers that become superpeers, best first:
///   wanted = superpeer_ratio x peers.size(), rounded to the nearest integer (std::lround), but
///   at least 1 (none if there are no peers). The capable peers, ranked by superpeer_score (the
///   higher the better; equal scores: lower position first), fill the wanted places; an
///   incapable peer is never elected, so there may be fewer superpeers than wanted -- except
///   when no peer at all is capable: then the single best-scored peer serves (someone must).
/// Example, ratio 0.5, rules 256 kbit/s, 0 h: peers {100 kbit/s, 1 h}, {2000, 1}, {800, 3},
/// {5000, 1, behind NAT} -> wanted 2; capable: 1 (score 2000) and 2 (score 2400) -> {2, 1}.
std::vector<std::size_t> elect_superpeers(std::span<const search::Capacity> peers, const ElectionRules& rules);

/// A superpeer with `leaves` leaves is asked by a peer to be its superpeer (ATTACH); the peer
/// says whether it is superpeer-capable itself. Accept (true) unless the superpeer already has
/// max_leaves leaves, or the newcomer is capable and the superpeer has its share (target_leaves
/// or more): a capable peer that is refused everywhere becomes a superpeer itself (Gnutella
/// 0.6), which keeps the share of superpeers near the ratio as the network grows.
/// Example, limits {max 50, target 18}: (10, capable) -> true; (18, capable) -> false;
/// (18, not capable) -> true; (50, not capable) -> false.
bool accept_leaf(std::size_t leaves, bool newcomer_capable, const LeafLimits& limits);

// ----- Leaves announce their files; the superpeer answers for them --------------------------------

/// What a leaf sends to a superpeer that accepted it: one ANNOUNCE per file it shares, each name
/// once, in the order of `shared`. Writes the names to out[0], out[1], ... (out has room for
/// shared.size() names) and returns how many.
/// Example: shared {4, 9, 4, 2} -> out {4, 9, 2}, returns 3.
std::size_t announcement(std::span<const search::NameIndex> shared, std::span<search::NameIndex> out);

/// The superpeer received ANNOUNCE(name) from `leaf`: add name to the leaf's table (once: a
/// name already there is not added again). Only leaves the superpeer accepted have a table
/// (an empty one from the moment they were accepted); an ANNOUNCE from any other peer is ignored.
/// Example: tables {5: [1]}: (5, 7) -> {5: [1, 7]}; (5, 1) -> unchanged; (6, 2) -> unchanged.
void index_announcement(LeafTables& tables, PeerIndex leaf, search::NameIndex name);

/// A leaf left (BYE) or stopped answering: its table goes, with everything it announced.
void forget_leaf(LeafTables& tables, PeerIndex leaf);

/// A QUERY for `query` reached this superpeer: the leaves it answers for, each once, in
/// ascending order of PeerIndex (the order of LeafTables): every leaf with a name in its table
/// that matches the query (catalogue.matches(query, name)), except the requester itself (its
/// own files are no find).
/// Example: tables {3: ["song-1"], 5: ["film"], 8: ["song-2", "song-1"]}, query "song",
/// requester 3 -> {8}.
std::vector<PeerIndex> leaves_answering(const LeafTables& tables, const search::Catalogue& catalogue,
                                        search::NameIndex query, PeerIndex requester);

}  // namespace logic
}  // namespace p2plab::superpeer
