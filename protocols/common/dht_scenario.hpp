#pragma once
// The scenario driver the structured overlays share (Chord, Kademlia, Pastry, ...): reads the
// "peers" and "events" of a scenario, creates the initial peers ("oracle" or "join" bootstrap),
// schedules the operations, lookups in batches and churn, and carries out actions. What differs
// between protocols (how a peer joins, what a lookup is, which parameters change during a run)
// is asked of the protocol's run through DhtHooks.
//
// The operations, as in the README's scenario contract:
//   lookup {from, key|name}   put {from?, key|name, value?}   get {from?, key|name}
//   lookups {count, spread_ms}   fail {peer}   leave {peer}   fail_fraction {fraction}
//   join {id?, via?}   set {param, value}
// and a protocol's own operations (DhtRules::extra_ops, e.g. Kademlia's provide {from, key|name|cid}).
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "p2plab/id.hpp"
#include "p2plab/json_util.hpp"
#include "p2plab/scenario.hpp"
#include "p2plab/simulator.hpp"

namespace p2plab::dht {

/// What the driver asks of a protocol's run.
class DhtHooks {
 public:
  virtual ~DhtHooks() = default;
  /// Room for peers 0 .. count - 1 in the protocol's tables.
  virtual void reserve(std::size_t count) = 0;
  /// True when `peer` has finished joining and can serve requests (a newcomer still looking up
  /// its place cannot; applications wait for their join to finish).
  virtual bool serves(PeerIndex peer) const = 0;
  /// `peer` (just added to the simulator) starts the network alone (via == kNoPeer) or joins
  /// through `via`.
  virtual void start_peer(PeerIndex peer, PeerIndex via) = 0;
  /// Bootstrap "oracle": every initial peer has been added; fill the tables from the true network.
  virtual void install_converged() = 0;
  /// Bootstrap "oracle": after install_converged, once per initial peer (its periodic tasks).
  virtual void start_converged_peer(PeerIndex peer) = 0;
  virtual void lookup(PeerIndex from, const Id& key) = 0;
  virtual void put(PeerIndex from, const Id& key, const std::string& value) = 0;
  virtual void get(PeerIndex from, const Id& key) = 0;
  /// A graceful departure, before the peer is marked as left (a protocol without a leave
  /// message does nothing: its peer just stops answering).
  virtual void leave(PeerIndex peer) { (void)peer; }
  /// The op "set": one of DhtRules::settable, checked. `field` names the op for warnings.
  virtual void set_param(const std::string& name, double value, const std::string& field) = 0;
  /// An op of DhtRules::extra_ops, read when the scenario loads (after the driver checked its
  /// field names and "from"): returns its key, or throws a ScenarioError naming the field.
  virtual Id read_extra_op(const std::string& name, const JsonObject& op) {
    (void)name;
    op.fail("op", "not supported by this protocol");
  }
  /// Carries out an op of DhtRules::extra_ops at its time; `from` is a live peer.
  virtual void extra_op(const std::string& name, PeerIndex from, const Id& key) { (void)name, (void)from, (void)key; }
};

/// A parameter the op "set" may change during a run.
struct SettableParam {
  std::string name;
  bool integer = false;
  double max = 1e9;  ///< values from 1 to max
};

/// An operation of one protocol's own (Kademlia's "provide"). The driver checks that the op has no
/// fields but at_ms, op, from and `fields`, requires "from" (a peer of the scenario) and asks
/// DhtHooks::read_extra_op for the rest; at its time it calls DhtHooks::extra_op.
struct ExtraOp {
  std::string name;
  std::vector<std::string> fields;  ///< allowed besides at_ms, op and from, e.g. {"key", "name"}
};

/// `key` (number or decimal string) or `name` (hashed with SHA-1 into the id space), as the
/// common ops read them; errors name the field.
Id read_key(const JsonObject& op, const IdSpace& space);

/// What differs between the protocols' scenarios, as data.
struct DhtRules {
  std::string protocol;  ///< "chord": names the protocol in errors
  int id_bits = 0;
  /// Generated peers hash an address such as "10.0.3.7:<port>" (port as the real protocol's).
  unsigned address_port = 4000;
  std::int64_t max_peers = 100'000'000;
  bool churn = true;  ///< false: a "churn" field is an error
  /// True: a newcomer with no named bootstrap peer is left to the protocol to place (Pastry asks
  /// the nearest peer, start_peer gets kNoPeer); false: it joins through the first initial peer
  /// (bootstrap "join") or a random peer that serves (op "join").
  bool protocol_picks_bootstrap = false;
  std::vector<SettableParam> settable;
  std::vector<ExtraOp> extra_ops = {};  ///< the protocol's own ops, besides the common ones
};

class DhtScenario {
 public:
  /// Reads and checks "peers" and "events" (a typo fails before anything runs); the top level
  /// may hold only "params", "peers", "events" and the generic fields.
  DhtScenario(const Scenario& scenario, DhtRules rules, SimulatorCore& sim, DhtHooks& hooks);
  ~DhtScenario();
  DhtScenario(const DhtScenario&) = delete;
  DhtScenario& operator=(const DhtScenario&) = delete;

  /// Creates the initial peers and schedules the operations. Idempotent.
  void start();
  /// Carries out an operation now (Run::act).
  void act(const nlohmann::json& op);
  /// Runs to the scenario's end, timing the wall clock.
  void run_to_end();

  /// A random peer that serves, other than `except`; after 64 unlucky draws the first one in id
  /// order; kNoPeer when none does.
  PeerIndex random_live_peer(PeerIndex except = kNoPeer);
  /// A peer whose join failed: another live peer for it to join through, with a warning naming
  /// both; kNoPeer (no warning) when `peer` is down or no other peer serves.
  PeerIndex rejoin_through(PeerIndex peer);
  /// A uniform key of the id space (from the scenario's stream).
  Id random_key();
  /// An id no live peer has: a generated address hashed with SHA-1, as a real node does.
  Id fresh_peer_id();
  /// The peer a scenario id names, alive or not (the latest one with that id).
  PeerIndex peer_by_id(const Id& id) const;
  /// Adds a peer with `id` that joins through `via` (see DhtHooks::start_peer), with a lifetime
  /// when the scenario has churn.
  PeerIndex add_and_join(const Id& id, PeerIndex via);

  void warn(std::string warning) { warnings_.push_back(std::move(warning)); }
  const std::vector<std::string>& warnings() const { return warnings_; }
  double wall_ms() const { return wall_ms_; }

 private:
  struct Op;
  Op parse_op(const JsonObject& e);
  void execute(const Op& op);
  void schedule_departure(PeerIndex peer);
  void depart(PeerIndex peer);
  void next_in_batch(std::uint32_t batch);
  /// The live peer with `id`, or kNoPeer with a warning naming the op's field.
  PeerIndex live_peer(const Op& op, const Id& id, const char* role);

  const Scenario& scenario_;
  DhtRules rules_;
  SimulatorCore& sim_;
  DhtHooks& hooks_;
  std::vector<Op> ops_;
  struct Batch {  // a "lookups" operation in progress
    std::uint64_t remaining;
    SimTime cursor, end;
  };
  std::vector<Batch> batches_;
  std::vector<Id> initial_ids_;
  std::set<Id> known_ids_;  // every id a scenario or action may name
  std::uint16_t op_handler_ = 0, churn_handler_ = 0, lookup_handler_ = 0, join_handler_ = 0;
  std::uint64_t address_counter_ = 0;
  std::vector<std::string> warnings_;
  bool started_ = false;
  double wall_ms_ = 0;
};

}  // namespace p2plab::dht
