#pragma once
// The visualizer's model, free of any graphics: one lab's run, moved forward and backward one
// engine event at a time. Stepping back re-simulates from the start (the engine is
// deterministic, so the same position always shows the same state). Everything the views
// animate comes from the run's event trace and its typed inspection interface.
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "p2plab/registry.hpp"
#include "p2plab/scenario.hpp"
#include "p2plab/trace.hpp"
#include "p2plab/view_model.hpp"

namespace p2plab::viz {

class LiveRun;

/// One search (the protocol's "lookup" or "query") as the trace tells it, for animation.
struct TracedSearch {
  std::uint32_t id = 0;
  PeerIndex from = kNoPeer;
  Id key;
  std::string key_label;  // the protocol's name for the key (Run::inspect_search), "" for its id
  SimTime start = 0, end = -1;
  bool ok = false;
  int purpose = 0;    // protocol-defined; TraceVocabulary::user_purpose marks the user's searches
  bool user = false;  // a search the user started (TraceVocabulary::is_user_purpose): a lookup, a put's, a get's
  struct Hop {
    SimTime time;
    PeerIndex from, to;
    int index;
    HopStyle style = HopStyle::Forward;  // from the vocabulary's hop_styles
    int kind = 0;                        // the trace's hop kind: its name is the vocabulary's hop_kinds[kind]
    bool forward() const { return style == HopStyle::Forward; }
  };
  std::vector<Hop> hops;
  PeerIndex owner = kNoPeer;
};

/// A message on its way at the session's time: sent, not yet arrived (from the trace's Send events,
/// which carry the arrival time the engine drew).
struct InFlight {
  PeerIndex from = kNoPeer, to = kNoPeer;
  SimTime sent = 0, arrives = 0;
  std::uint8_t type = 0;  ///< the protocol's message type (TraceVocabulary::message_types)
  /// How far it has come at `now`: 0 at the sender, 1 at the receiver.
  float progress(SimTime now) const {
    return arrives > sent ? static_cast<float>(now - sent) / static_cast<float>(arrives - sent) : 1.0f;
  }
};

/// An id typed as text in the JSON a scenario would use: a number while it fits, else a string.
nlohmann::json id_json(const std::string& text);

/// The scenario op an operation of the action panel builds: {"op": op, peer_field: the peer's
/// id, field: typed value...}. `text` gives what is typed for each field; an empty text leaves
/// the field out (the protocol's default). A key is a number, or (the scenario format's
/// convention) a text to hash, given as "name". A bad field sets `error`.
nlohmann::json operation_json(const OperationInfo& operation, const std::string& peer_id,
                              const std::function<std::string(const OperationField&)>& text, std::string& error);

class Session {
 public:
  /// Loads a scenario file; throws ScenarioError on a bad one.
  explicit Session(const std::string& path);
  /// Loads a scenario document (the "new scenario" panel).
  Session(const nlohmann::json& doc, const std::string& name);
  /// Live mode (`p2plab-viz --attach PORT`): real peers' reports instead of a simulation. Time
  /// only moves forward, with the wall clock: advance_to() reads the reports that arrived, the
  /// other time controls do nothing.
  explicit Session(std::unique_ptr<LiveRun> live);
  ~Session();
  bool live() const { return live_ != nullptr; }
  const LiveRun* live_run() const { return live_; }

  /// Live: the live run's, whose protocol is the one its first accepted report names.
  const Scenario& scenario() const { return live_ ? run_->scenario() : scenario_; }
  Run& run() { return *run_; }
  const Run& run() const { return *run_; }
  const SimulatorCore& sim() const { return run_->simulator(); }
  /// The protocol's view model (registered with it): its geometry, link kinds, roles, operations
  /// and parameters. Live: the model of the protocol the reports name (an empty one before).
  const ProtocolModel& model() const;
  /// Where the peers live, which decides the view that draws them.
  Geometry geometry() const { return model().geometry; }
  /// The run's trace vocabulary (message names, hop styles, the user's purpose), read once.
  const TraceVocabulary& vocabulary() const;
  /// What the header calls search `s`: its purpose's word ("put", "fetch") unless it is the
  /// user's plain search, which takes the model's noun ("lookup").
  std::string search_noun(const TracedSearch& s) const;
  /// A search the user started (the ones views animate), not the protocol's own maintenance.
  bool is_user(const TracedSearch& s) const { return s.user; }
  /// True when the run can compute an ideal route to compare a search with (Run::reference_route).
  bool has_reference_route() const;

  std::uint64_t position() const { return position_; }
  /// The time shown: every event up to it has happened, none after it. Between two events when
  /// time was advanced (advance_to, playing), so that messages are seen on their way.
  SimTime now() const { return live_ ? run_->simulator().current_time() : view_time_; }
  SimTime end_time() const { return scenario_.run_time; }
  /// No event is left before the scenario's end (the clock may still move on to end_time()).
  bool at_end() const;
  /// At the end, and the clock shows the scenario's end: nothing more to play.
  bool finished() const { return at_end() && now() >= end_time(); }

  /// One engine event forward; false at the end.
  bool step();
  /// One engine event back.
  void step_back();
  /// To exactly `events` processed events (forward, or back by re-simulating).
  void seek(std::uint64_t events);
  /// Forward through every event up to time t, and the clock to exactly t (never past the
  /// scenario's end; never back).
  void advance_to(SimTime t);
  /// Forward until the next user lookup or query ends; false if none does.
  bool step_search();
  /// Back to the position before the last search (lookup or query) started.
  void step_search_back();

  const std::vector<TraceEvent>& trace() const { return run_->simulator().event_trace().events(); }
  /// Searches from the trace so far (the user's: is_user()). Kept up to date
  /// incrementally: reading it every frame costs only the trace events since the last call.
  const std::vector<TracedSearch>& searches() const;
  /// The search to animate: followed from its start to its end (one that starts while it is on
  /// its way is skipped), and shown finished until the next one starts.
  const TracedSearch* current_search(const std::vector<TracedSearch>& all) const;
  /// The latest steps of `search` that have happened (its LookupStart, LookupHop or LookupDone
  /// events at the latest time one happened: a last hop and the answer come together), for the
  /// protocol to tell (Run::narrate); empty if none.
  std::vector<const TraceEvent*> last_steps(const TracedSearch& search) const;
  /// The sentences of `search`'s latest steps (Run::narrate), each told at the moment its step
  /// happened, from the peers' state then: a search still shown seconds later is not re-told from
  /// a state that has changed since (a finger fixed, a peer joined). Empty if none.
  std::vector<std::string> story(const TracedSearch& search) const;
  /// Messages on their way at now(), in the order they were sent.
  std::vector<InFlight> in_flight() const;
  /// Those of them that carry `search`: sent by a peer while it handled the search, i.e. at the
  /// moment the search started there or one of its messages arrived there (the query, each
  /// forward, each answer: the causal chain from the requester).
  std::vector<InFlight> in_flight_of(const TracedSearch& search, const std::vector<InFlight>& all) const;

  /// Injects a scenario operation now (the same JSON as a scenario event, without at_ms), e.g.
  /// {"op": "lookup", "from": 52, "key": 44}. It is replayed at the same position after a step
  /// back. Returns an error text, or "" if done.
  std::string act(const nlohmann::json& op);
  struct Action {
    std::uint64_t position;  ///< taken after this many events
    SimTime time;            ///< at this time (between events when the clock was between them)
    nlohmann::json op;
  };
  const std::vector<Action>& actions() const { return actions_; }

 private:
  void rebuild();
  bool raw_step();
  void tell_new_steps();
  void apply_actions();

  Scenario scenario_;
  std::unique_ptr<Run> run_;
  LiveRun* live_ = nullptr;  // run_, when attached to real peers
  std::uint64_t position_ = 0;
  SimTime view_time_ = 0;
  std::vector<Action> actions_;
  mutable std::vector<TracedSearch> searches_;
  mutable std::vector<std::size_t> search_index_;  // lookup id -> position in searches_
  mutable std::size_t trace_scanned_ = 0;
  mutable std::size_t flight_scanned_ = 0;  // trace events whose latency max_flight_ has seen
  mutable SimTime max_flight_ = 0;          // the longest latency of any message so far
  std::size_t next_action_ = 0;
  // The user's searches' latest steps told at the moment they happened: lookup id -> (time, sentences).
  struct Told {
    SimTime time = -1;
    std::vector<std::string> sentences;
  };
  std::unordered_map<std::uint32_t, Told> told_;
  std::unordered_set<std::uint32_t> user_lookups_;
  std::size_t told_scanned_ = 0;
  std::uint64_t generation_ = 0;  // rebuild() counts up: caches of an older run are void
  // in_flight_of's causal chain of one search, extended by the events since the last frame.
  struct ChainCache {
    std::uint32_t search = UINT32_MAX;
    std::uint64_t generation = 0;
    SimTime start = -1;
    std::size_t scanned = 0;
    std::set<std::pair<PeerIndex, SimTime>> handling, carried;
  };
  mutable ChainCache chain_;
  // Read once per protocol (a live run learns its protocol from the first report).
  mutable std::string model_for_ = "\n", vocabulary_for_ = "\n", reference_for_ = "\n";
  mutable const ProtocolModel* model_ = nullptr;
  mutable TraceVocabulary vocabulary_;
  mutable bool has_reference_ = false;
};

}  // namespace p2plab::viz
