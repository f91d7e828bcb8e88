#pragma once
// Helpers shared by the graded Chord tests (tests/grading/chord-*/ and hidden/chord-*/).
//
// Expectations never come from the code under test: ids and intervals are computed with
// test_util.hpp's Big (its own arithmetic) and RingOracle (Chord by brute force over the sorted
// id list), or with plain uint64 arithmetic for small m. No logic:: function is called here.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "chord/chord_run.hpp"
#include "chord/logic.hpp"
#include "test_util.hpp"

namespace p2plab::grading {

using chord::Contact;
using chord::ContactList;
using test::Big;
using test::RingOracle;

/// The lecture's ring of figure 5 (m = 6): the node ids of its worked lookups (lookup(44) from 52).
inline const std::vector<std::uint64_t> kFigure5 = {4,  7,  13, 14, 16, 19, 23, 26, 30, 33,
                                                    37, 39, 42, 45, 49, 52, 54, 56, 60, 63};

/// Peer handles in unit tests are not the ids: a student who compares .peer with .id, or builds
/// a Contact from an id, is caught. Peer handle of the k-th node of a test ring: kPeerBase + k.
constexpr PeerIndex kPeerBase = 1000;

inline std::string dec(const Id& id) { return id.to_decimal(); }
inline std::string dec(const Big& b) { return b.decimal(); }

/// "45" (the node's id) or "nobody".
inline std::string describe(const Contact& c) {
  if (!c.known()) return "nobody";
  return dec(c.id);
}
inline std::string describe(const ContactList& list) {
  std::string out = "[";
  for (int i = 0; i < list.size(); ++i) out += (i ? ", " : "") + describe(list[i]);
  return out + "]";
}
inline std::string yes_no(bool b) { return b ? "true" : "false"; }

/// True if a and b name the same peer with the same id (both nobody counts as equal).
inline bool same(const Contact& a, const Contact& b) {
  if (!a.known() || !b.known()) return a.known() == b.known();
  return a.peer == b.peer && a.id == b.id;
}
inline bool same(const ContactList& a, const ContactList& b) {
  if (a.size() != b.size()) return false;
  for (int i = 0; i < a.size(); ++i) {
    if (!same(a[i], b[i])) return false;
  }
  return true;
}

// ---- independent interval oracle (clockwise distances in Big, no comparisons of the ids) -------

inline bool oracle_in_open(const Id& x, const Id& a, const Id& b, int m) {
  return test::oracle_in_open(Big::from(x), Big::from(a), Big::from(b), m);
}
inline bool oracle_in_open_closed(const Id& x, const Id& a, const Id& b, int m) {
  return test::oracle_in_open_closed(Big::from(x), Big::from(a), Big::from(b), m);
}
inline bool oracle_in_closed_open(const Id& x, const Id& a, const Id& b, int m) {
  return test::oracle_in_closed_open(Big::from(x), Big::from(a), Big::from(b), m);
}
inline bool oracle_in_closed(const Id& x, const Id& a, const Id& b, int m) {
  const Big X = Big::from(x), A = Big::from(a), B = Big::from(b);
  if (A == B) return true;
  return test::ring_distance(A, X, m) <= test::ring_distance(A, B, m);
}
inline Big oracle_distance(const Id& a, const Id& b, int m) {
  return test::ring_distance(Big::from(a), Big::from(b), m);
}

/// A uniformly random id below 2^m (m <= 160), drawn with the test's own generator.
inline Id random_id(std::mt19937_64& rng, int m) {
  Big b;
  for (auto& w : b.w) w = static_cast<std::uint32_t>(rng());
  return b.masked(m).to_id();
}
/// Ids that make wrap-around bugs show: 0, 1, 2^m - 1, 2^m - 2, 2^(m-1) and neighbours.
inline std::vector<Id> edge_ids(int m) {
  const Big top = Big::all_ones(m);
  std::vector<Big> v = {
      Big(0), Big(1), top, Big::sub(top, Big(1), m), Big::pow2(m - 1), Big::sub(Big::pow2(m - 1), Big(1), m)};
  std::vector<Id> out;
  for (const Big& b : v) out.push_back(b.masked(m).to_id());
  return out;
}

// ---- a ring of nodes as the test knows it -------------------------------------------------------

/// A ring given as a list of ids (any order), with Contacts whose peer handles are kPeerBase + the
/// node's position in sorted order, and brute-force fingers and successor lists.
class TestRing {
 public:
  TestRing(const std::vector<Id>& ids, int m) : oracle_(ids, m), m_(m) {}

  int m() const { return m_; }
  std::size_t size() const { return oracle_.sorted.size(); }
  const RingOracle& oracle() const { return oracle_; }
  Id id(std::size_t k) const { return oracle_.sorted[k].to_id(); }
  Contact contact_at(std::size_t k) const { return Contact{id(k), kPeerBase + static_cast<PeerIndex>(k)}; }
  Contact contact(const Big& node) const { return contact_at(oracle_.index_of(node)); }
  Contact contact(const Id& node) const { return contact(Big::from(node)); }
  /// successor(key) by brute force.
  Contact successor_of(const Id& key) const { return contact(oracle_.successor_of(Big::from(key))); }
  /// Finger i of node n: successor(n + 2^i).
  Contact finger(const Id& n, int i) const { return contact(oracle_.finger(Big::from(n), i)); }
  /// The j-th successor of node n (j = 1: its successor).
  Contact next(const Id& n, std::size_t j = 1) const { return contact(oracle_.next(Big::from(n), j)); }
  Contact previous(const Id& n) const { return contact(oracle_.previous(Big::from(n))); }

 private:
  RingOracle oracle_;
  int m_;
};

/// What node n knows, owning the arrays a logic::RoutingTable points into.
struct NodeView {
  int m = 0;
  Contact self;
  std::vector<Contact> fingers;
  std::vector<Contact> successors;

  chord::logic::RoutingTable table() const {
    chord::logic::RoutingTable t;
    t.m = m;
    t.self = self;
    t.fingers = std::span<const Contact>(fingers.data(), fingers.size());
    t.successors = std::span<const Contact>(successors.data(), successors.size());
    return t;
  }
  std::string fingers_text() const {
    std::string out;
    for (std::size_t i = 0; i < fingers.size(); ++i) out += (i ? ", " : "") + describe(fingers[i]);
    return out;
  }
  std::string successors_text() const {
    std::string out;
    for (std::size_t i = 0; i < successors.size(); ++i) out += (i ? ", " : "") + describe(successors[i]);
    return out;
  }
};

/// Node n of the ring with brute-force fingers and a successor list of min(r, N - 1) entries
/// (a ring of one: [n]).
inline NodeView node_view(const TestRing& ring, const Id& n, int r) {
  NodeView v;
  v.m = ring.m();
  v.self = ring.contact(n);
  for (int i = 0; i < ring.m(); ++i) v.fingers.push_back(ring.finger(n, i));
  const std::size_t count = ring.size() == 1 ? 1 : std::min<std::size_t>(static_cast<std::size_t>(r), ring.size() - 1);
  for (std::size_t j = 1; j <= count; ++j) v.successors.push_back(ring.next(n, j));
  return v;
}

// ---- the routing contract by brute force ----------------------------------------------------------

/// closest_preceding_finger by its definition: among the known entries of n's fingers and
/// successor list that lie in (n, key), the one farthest from n (n itself if none). For tables
/// whose known fingers grow in distance with i (as brute-force fingers do) this is exactly the
/// paper's scan from m-1 down plus the ToN successor-list rule.
inline Contact oracle_closest_preceding(const NodeView& v, const Id& key) {
  Contact best = v.self;
  Big best_distance(0);
  auto consider = [&](const Contact& c) {
    if (!c.known() || c.peer == v.self.peer) return;
    if (!oracle_in_open(c.id, v.self.id, key, v.m)) return;
    const Big d = oracle_distance(v.self.id, c.id, v.m);
    if (best_distance < d) {
      best = c;
      best_distance = d;
    }
  };
  for (const Contact& f : v.fingers) consider(f);
  for (const Contact& s : v.successors) consider(s);
  return best;
}

struct ExpectedStep {
  bool done = false;
  Contact node;
};
inline ExpectedStep oracle_step(const NodeView& v, const Id& key) {
  if (v.successors.empty() || !v.successors[0].known()) return {false, Contact{}};
  const Contact& s = v.successors[0];
  if (oracle_in_open_closed(key, v.self.id, s.id, v.m)) return {true, s};
  const Contact next = oracle_closest_preceding(v, key);
  return {false, next.peer == v.self.peer ? s : next};
}
inline std::string describe(const ExpectedStep& s) {
  return s.done ? "done, the owner is " + describe(s.node) : "not done, ask " + describe(s.node) + " next";
}
inline std::string describe(const chord::logic::Step& s) {
  return s.done ? "done, the owner is " + describe(s.node) : "not done, ask " + describe(s.node) + " next";
}
inline bool same(const chord::logic::Step& got, const ExpectedStep& want) {
  return got.done == want.done && same(got.node, want.node);
}

// ---- running the real protocol ---------------------------------------------------------------------

/// A Chord scenario (see README.md for the format): m, successor list length r, the peers' ids,
/// "oracle" (converged ring installed at time 0) or "join" (real joins, one by one), events.
inline nlohmann::json chord_scenario(int m, int r, const std::vector<std::uint64_t>& ids, const std::string& bootstrap,
                                     const nlohmann::json& events, double run_ms, std::uint64_t seed = 5,
                                     const nlohmann::json& extra_params = nlohmann::json::object()) {
  nlohmann::json params = {{"m", m},
                           {"successors", r},
                           {"stabilize_ms", 100},
                           {"fix_fingers_ms", 100},
                           {"check_predecessor_ms", 200},
                           {"rpc_timeout_ms", 300}};
  for (const auto& [k, v] : extra_params.items()) params[k] = v;
  return {{"protocol", "chord"},     {"seed", seed},
          {"params", params},        {"network", {{"latency", {{"model", "uniform"}, {"min_ms", 2}, {"max_ms", 20}}}}},
          {"peers", {{"ids", ids}}}, {"bootstrap", bootstrap},
          {"join_interval_ms", 100}, {"events", events},
          {"run_ms", run_ms}};
}

/// Runs a scenario to its end and hands back the run (snapshots: run->protocol().snapshot(p);
/// lookups, puts and gets: run->protocol().records()).
inline std::unique_ptr<chord::ChordRun> run_scenario(const nlohmann::json& doc) {
  auto run = test::make_chord_run(doc);
  run->run_to_end();
  return run;
}

/// The protocol's view of every live peer after a run (successors, predecessor, fingers, keys).
inline std::vector<chord::PeerSnapshot> live_snapshots(const chord::ChordRun& run) {
  std::vector<chord::PeerSnapshot> out;
  for (PeerIndex p = 0; p < run.simulator().peer_count(); ++p) {
    if (run.simulator().is_up(p)) out.push_back(run.protocol().snapshot(p));
  }
  return out;
}

/// The id of a peer index in a run ("nobody" for kNoPeer).
inline std::string peer_name(const chord::ChordRun& run, PeerIndex p) {
  return p == kNoPeer ? std::string("nobody") : dec(run.simulator().peer_id(p));
}
inline std::string path_text(const chord::ChordRun& run, const std::vector<PeerIndex>& path) {
  std::string out;
  const std::size_t shown = std::min<std::size_t>(path.size(), 12);
  for (std::size_t i = 0; i < shown; ++i) out += (i ? " -> " : "") + peer_name(run, path[i]);
  if (shown < path.size()) out += " -> ... (" + std::to_string(path.size()) + " peers in all)";
  return out;
}

/// n distinct random ids below 2^m (m <= 64), in random order.
inline std::vector<std::uint64_t> random_u64_ids(std::size_t n, int m, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint64_t> ids;
  while (ids.size() < n) {
    const std::uint64_t v = m == 64 ? rng() : rng() & ((std::uint64_t{1} << m) - 1);
    if (std::find(ids.begin(), ids.end(), v) == ids.end()) ids.push_back(v);
  }
  return ids;
}

/// User lookups of a run judged by the brute force over the live peers: wrong owners, gave-ups,
/// and the hop counts.
struct LookupCheck {
  std::size_t total = 0, right = 0, max_hops = 0;
  double mean_hops = 0;
  std::vector<std::string> wrong;  // first few, in the student's terms
};
inline LookupCheck check_user_lookups(const chord::ChordRun& run) {
  const RingOracle oracle = test::live_oracle(run);
  LookupCheck c;
  double hops = 0;
  for (const chord::LookupRecord& r : run.protocol().records()) {
    if (r.purpose != chord::Purpose::User) continue;
    ++c.total;
    const Big want = oracle.successor_of(Big::from(r.key));
    const bool right = r.completed && r.owner != kNoPeer && Big::from(run.simulator().peer_id(r.owner)) == want;
    if (right) {
      ++c.right;
      hops += r.hops;
      c.max_hops = std::max<std::size_t>(c.max_hops, r.hops);
    } else if (c.wrong.size() < 5) {
      c.wrong.push_back("lookup(" + dec(r.key) + ") from " + peer_name(run, r.from) + " should answer " +
                        want.decimal() + (r.completed ? ", it answered " + peer_name(run, r.owner) : ", it gave up") +
                        " (path " + path_text(run, r.path) + ")");
    }
  }
  c.mean_hops = c.right ? hops / static_cast<double>(c.right) : 0;
  return c;
}
/// Collects the cases a test got wrong: the first few become failure messages, the rest are
/// counted (an exhaustive test must not print a quarter of a million lines).
class Mistakes {
 public:
  explicit Mistakes(int shown = 6) : shown_(shown) {}
  void add(const std::string& what) {
    if (count_ < shown_) FAIL_CHECK(what);
    ++count_;
  }
  /// Call at the end of the test: checks that no case was wrong and says how many were.
  void summary(const std::string& of_what) const {
    CHECK_MESSAGE(
        count_ == 0,
        count_ << " wrong " << of_what << " in all"
               << (count_ > shown_ ? " (the first " + std::to_string(shown_) + " are shown above)" : std::string()));
  }
  int count() const { return count_; }

 private:
  int shown_;
  int count_ = 0;
};

inline std::string lines(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += "\n  " + s;
  return out;
}

}  // namespace p2plab::grading
