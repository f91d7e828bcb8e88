#pragma once
// The protocol plug-in interface. A protocol module registers a factory under its name; the
// command line, the benchmark and the visualizer create runs through it and never name a
// protocol's types.
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "p2plab/protocol_command.hpp"
#include "p2plab/scenario.hpp"
#include "p2plab/simulator.hpp"
#include "p2plab/trace.hpp"
#include "p2plab/view_model.hpp"

namespace p2plab {

/// The figures printed after a run (and stored under "metrics" in the result).
struct RunSummary {
  std::string operation = "lookups";  // what the protocol's searches are called: lookups, queries
  std::uint64_t peers_total = 0, peers_live = 0;
  // Every search started ends as exactly one of: ok (the right answer, by the protocol's oracle),
  // wrong (an answer the oracle rejects: stale or inconsistent routing state; for a query, a false
  // negative), failed (gave up after timeouts; for a query, nothing to find), or unfinished
  // (still running at the end, or its requester crashed).
  std::uint64_t lookups = 0, lookups_ok = 0, lookups_wrong = 0, lookups_failed = 0, lookups_unfinished = 0;
  double success_rate = 1;
  double mean_hops = 0;
  std::uint32_t p99_hops = 0;
  double mean_latency_ms = 0, p99_latency_ms = 0;
  std::uint64_t messages_sent = 0, messages_delivered = 0, messages_dropped = 0;
  std::uint64_t events = 0;
  double simulated_ms = 0;
  double wall_ms = 0;
  nlohmann::json to_json() const;
  std::string to_text() const;
};

/// A route as an ideal instance of a protocol would take it (Run::reference_route).
struct RouteView {
  std::vector<PeerIndex> path;  // the requester first, then every peer the lookup visits
  PeerIndex owner = kNoPeer;    // the answer
};

/// How one search of a scenario's workload ended (what `compare` tabulates).
struct SearchOutcome {
  double messages = 0;  ///< every message the search caused
  bool has_hops = false, has_latency = false;
  double hops = 0;        ///< hops to the answer (when has_hops)
  double latency_ms = 0;  ///< time to the answer (when has_latency)
  bool found = false;
  bool false_negative = false;  ///< not found although a live peer had it
};

/// Routing state per live peer: the distinct peers each one knows.
struct StateSize {
  double mean = 0, max = 0;
};

/// One simulation of one scenario, whatever the protocol.
class Run {
 public:
  virtual ~Run() = default;
  virtual SimulatorCore& simulator() = 0;
  const SimulatorCore& simulator() const { return const_cast<Run*>(this)->simulator(); }
  virtual const Scenario& scenario() const = 0;
  virtual int id_bits() const = 0;
  /// Ids are read as digits in base 2^d (Pastry: its b, so a 16-bit id reads "65a1", and a route
  /// gains a digit per hop); 0: as decimal numbers.
  virtual int id_digit_bits() const { return 0; }
  /// An id as the protocol's users read it: decimal, or id_bits() / d digits in base 2^d.
  std::string id_text(const Id& id) const;
  virtual TraceVocabulary vocabulary() const = 0;
  /// Creates the initial peers and schedules the scenario's operations. Separate from the
  /// constructor so that a trace can be switched on first and see every join. Idempotent.
  virtual void start() = 0;
  /// Runs to the scenario's end (run_ms); starts the run first if needed.
  virtual void run_to_end() = 0;
  virtual RunSummary summary() const = 0;
  /// The full result document (the contract in README.md).
  virtual nlohmann::json result() const = 0;
  /// A typed snapshot of one peer for inspectors.
  virtual PeerView inspect(PeerIndex peer) const = 0;
  /// Only the role and links of inspect() (what a view draws every frame): cheaper.
  virtual PeerView inspect_links(PeerIndex peer) const { return inspect(peer); }
  /// Messages each finished user lookup or query caused, in the order they finished.
  virtual std::vector<std::uint32_t> messages_per_search() const = 0;
  /// Carries out a scenario operation now: the same JSON as an entry of "events", without
  /// at_ms (what the visualizer's buttons do). Throws ScenarioError for a bad one.
  virtual void act(const nlohmann::json& op) = 0;
  /// The route a lookup of `key` from `from` takes in an ideal instance of the protocol: every
  /// peer's state converged on the live peers now, computed by brute force from the sorted ids
  /// (an oracle, independent of the code under test). The visualizer draws it beside the route
  /// the run's own code took. Empty path: the protocol has no such notion.
  virtual RouteView reference_route(PeerIndex from, const Id& key) const {
    (void)from;
    (void)key;
    return {};
  }
  /// One sentence in the lecture's words on the step a search takes at `event`, a LookupStart,
  /// LookupHop or LookupDone of the trace that has just happened: e.g. Chord's "52: the farthest
  /// finger preceding 44 is finger 5 -> 23". Read from the peers' state now, so it is told right
  /// when the event happens (the views tell the latest step of the current search). "" when the
  /// protocol has no such sentence.
  virtual std::string narrate(const TraceEvent& event) const {
    (void)event;
    return "";
  }
  /// The search a LookupStart event of the trace starts, as the protocol names it (its key's
  /// label). Empty fields: the trace's own (the key's id).
  virtual SearchView inspect_search(const TraceEvent& start) const {
    (void)start;
    return {};
  }
  /// Geometry::Zones: the point of the torus [0, 1)^d a key is hashed to (what a view marks for
  /// the current search); empty when the protocol has no such notion.
  virtual std::vector<double> key_point(const Id& key) const {
    (void)key;
    return {};
  }
  /// True when `peer` holds what a search for `key` looks for (a shared file the query's name
  /// matches; a stored key): views mark the holders, reached or not (a flood that misses every
  /// holder is a false negative). False when the protocol has no such notion.
  virtual bool holds(PeerIndex peer, const Id& key) const {
    (void)peer;
    (void)key;
    return false;
  }
  /// Leave the per-peer and per-search arrays out of result() (for very large runs).
  virtual void set_brief(bool brief) { (void)brief; }
  /// The routing state the live peers hold now.
  virtual StateSize state_size() const { return {}; }
  /// The outcome of every search of the workload ProtocolModel::make_scenario built for
  /// ScenarioRequest::searches, in the order they were asked for.
  virtual std::vector<SearchOutcome> requested_searches() const { return {}; }
};

struct ProtocolInfo {
  std::string name;
  std::string description;  // one line, for `p2plab list`
  /// Empty for a module registered for its tools only (commands, no simulation yet): runs, labs,
  /// panels, compare and the views skip it (simulated() is false), `p2plab list` says so.
  std::function<std::unique_ptr<Run>(const Scenario&)> create;
  ProtocolModel model;  // what views, panels and `compare` know of the protocol
  ProtocolCommand bench;
  /// `p2plab node --protocol NAME`: one real peer on a UDP socket (usually built on the node
  /// shell, net/include/p2plab/net/node_shell.hpp); empty when the protocol has no real mode.
  ProtocolCommand node;  // `p2plab bench NAME ...`, if the protocol has a benchmark
  /// `p2plab NAME COMMAND ...`: the protocol's own tools, each with its name and arguments (e.g.
  /// content addressing's `add FILE`); usually none.
  std::vector<ProtocolCommand> commands;
  bool simulated() const { return static_cast<bool>(create); }
};

class ProtocolRegistry {
 public:
  void add(ProtocolInfo info);
  const ProtocolInfo* find(const std::string& name) const;
  const std::vector<ProtocolInfo>& all() const { return protocols_; }
  /// The protocols that can be simulated (ProtocolInfo::simulated), in registration order.
  std::vector<const ProtocolInfo*> simulated() const;
  /// A simulated protocol by name; nullptr for an unknown one or one with tools only.
  const ProtocolInfo* find_simulated(const std::string& name) const;
  std::string names() const;
  std::string simulated_names() const;
  /// Creates the run for a loaded scenario; an unknown protocol, or one with tools only, is a
  /// ScenarioError.
  std::unique_ptr<Run> create(const Scenario& scenario) const;

 private:
  std::vector<ProtocolInfo> protocols_;
};

/// Registers a protocol defined in any translation unit linked into a program (a test's toy
/// protocol), without editing the list of built-in ones: a namespace-scope
/// `const p2plab::RegisterProtocol registration{info};` adds it to registered_protocols().
class RegisterProtocol {
 public:
  explicit RegisterProtocol(ProtocolInfo info);
};

/// Every protocol registered through RegisterProtocol so far, in order of registration.
const std::vector<ProtocolInfo>& registered_protocols();

/// The registry of the program: the protocol modules built into the tree, then every protocol
/// registered through RegisterProtocol. Defined where the built-in modules are listed
/// (protocols/register_all.cpp, library p2plab_protocols), so that tools name no protocol.
const ProtocolRegistry& all_protocols();

}  // namespace p2plab
