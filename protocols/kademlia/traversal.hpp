#pragma once
// Kademlia's iterative node lookup (paper 2.3) as a state machine with no transport: the caller
// asks which contacts to query in the next round, sends the RPCs, and reports each answer or
// timeout. The simulation (kademlia.cpp) drives it; a real node can drive it over sockets.
//
// Which contacts a round asks and when the lookup is done are decided by logic::choose_round, the
// function of exercise kademlia-lookup (logic.hpp); this class keeps the candidates and counts.
// Rounds are synchronous: a round ends when every query it sent has answered or timed out.
//   round 1: the alpha closest contacts of the requester's own table;
//   next round: if the last round brought a contact closer than the closest seen before it,
//     the alpha closest not yet asked among the k closest seen; otherwise all the not yet asked
//     among the k closest seen;
//   done: when the k closest seen (leaving out those that did not answer) have all answered.
// FIND_VALUE uses the same rounds and stops at the first answer that carries the value.
// The paper lets the next round begin before all alpha answers are in: a caller with a round
// timeout calls mark_slow() when it expires; the slow queries stay open (a late answer still
// counts, a timeout still fails them) but no longer hold the round up.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "routing_table.hpp"

namespace p2plab::kademlia {

/// The address a contact suggested by the requester itself (its own table) carries in
/// Candidate::suggested_by.
constexpr std::uint64_t kSuggestedBySelf = ~std::uint64_t{0};

struct Candidate {
  enum class State : std::uint8_t { NotAsked, Asked, Answered, Failed };
  Contact contact;
  Id distance;  // contact.id XOR target
  State state = State::NotAsked;
  std::uint64_t suggested_by = kSuggestedBySelf;  // address of the node whose answer named it first
  std::uint16_t round = 0;                        // the round it was asked in (0: not asked)
  bool slow = false;        // asked, not answered within the round's time: no longer holds the round up
  std::uint32_t heard = 0;  // the order in which the lookup heard of it (0: first)
};

class Traversal {
 public:
  /// `self`: the requester, never a candidate (other nodes' answers name it too).
  Traversal(const Id& target, const Id& self, std::size_t k, std::size_t alpha);

  const Id& target() const { return target_; }
  /// The requester's own closest contacts to start with.
  void add_initial(const std::vector<Contact>& contacts);
  /// Starts the next round: the candidates to query now (marked asked; copies, with who
  /// suggested each). Empty when the lookup is done (or nothing was ever known): then done().
  /// When the k closest seen have not all answered but the rest are slow queries still out,
  /// it returns nothing and done() stays false: call again when one of them ends.
  std::vector<Candidate> next_round();
  /// `from` answered with `suggested` (the k closest it knows). False if `from` was not asked.
  bool on_answer(const Id& from, const std::vector<Contact>& suggested);
  /// `from` did not answer in time.
  bool on_failure(const Id& from);
  /// FIND_VALUE: `from` returned the value; the lookup is over.
  void on_value(const Id& from);

  /// The queries of the current round still out no longer hold it up (see above).
  void mark_slow();
  /// True when no query of the current round is still out (slow ones aside).
  bool round_over() const { return in_flight_ == 0; }
  /// Queries marked slow and still out.
  std::uint32_t slow_out() const { return slow_out_; }
  bool done() const { return done_; }
  bool found_value() const { return found_; }
  /// The up to k closest contacts that answered, closest first (the lookup's result).
  std::vector<Contact> closest_answered() const;
  /// FIND_VALUE caching: the closest contact that answered without the value (none: nullptr).
  const Candidate* closest_without_value() const;
  /// Candidates closer to the target than `c` (how far a cached copy is from the key's home).
  std::size_t closer_than(const Candidate& c) const;

  int rounds() const { return round_; }
  std::uint32_t queries() const { return queries_; }
  /// The round in which the closest contact that answered was asked (0 if none answered).
  int round_closest_asked() const;
  /// Every candidate seen, in the order the lookup heard of them (Candidate::heard).
  const std::vector<Candidate>& candidates() const { return candidates_; }
  /// Asked candidates in the order they were asked (by round; within a round closest first).
  std::vector<const Candidate*> asked_in_order() const;

 private:
  /// A candidate's place in the distance order: its distance beside its index, so that a search
  /// reads one compact array.
  struct Ranked {
    Id distance;
    std::uint32_t index = 0;
  };
  Candidate* find(const Id& id);
  /// The first position in by_distance_ whose candidate is not closer than distance d.
  std::vector<Ranked>::const_iterator lower_bound(const Id& d) const;
  void settle(const Candidate& c);
  void add(const Contact& contact, std::uint64_t suggested_by);

  Id target_, self_;
  std::size_t k_, alpha_;
  // Candidates in the order heard of (what choose_round takes, no copy), and their indices
  // sorted by distance: a newcomer shifts 32-byte entries, not 80-byte candidates.
  std::vector<Candidate> candidates_;
  std::vector<Ranked> by_distance_;
  int round_ = 0;
  std::uint32_t queries_ = 0, in_flight_ = 0, slow_out_ = 0;
  Id best_before_round_;  // closest distance seen when the current round started
  bool any_before_round_ = false;
  bool done_ = false, found_ = false;
  Id value_from_;
};

}  // namespace p2plab::kademlia
