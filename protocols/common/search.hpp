#pragma once
// What the unstructured search protocols (central index, flooding, superpeer) share: the
// workload (peers, shared items, queries, churn from the scenario), the bookkeeping of each query
// (who it reached, what it found, how many messages it caused) and the result document. The
// protocols' own logic stays in their folders; this is the test bench they plug into.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "p2plab/json_util.hpp"
#include "p2plab/registry.hpp"
#include "p2plab/simulator.hpp"
#include "p2plab/trace.hpp"
#include "p2plab/view_model.hpp"

namespace p2plab::search {

using NameIndex = std::uint32_t;
using QueryIndex = std::uint32_t;
constexpr QueryIndex kNoQuery = 0xffffffffu;
/// No name: a forgotten query's, in a real peer whose catalogue was rebuilt without it.
constexpr NameIndex kNoName = 0xffffffffu;

/// File names and the keyword match of the lecture's file-sharing systems: a query matches every
/// shared name that contains all of the query's keywords (case-insensitive words of letters and
/// digits), so "song" finds "Song-1.mp3" and "song-2.mp3".
class Catalogue {
 public:
  NameIndex intern(const std::string& name);
  /// The name's text ("" for kNoName or any index out of range).
  const std::string& name(NameIndex n) const { return n < names_.size() ? names_[n] : no_name_; }
  std::size_t size() const { return names_.size(); }
  /// Does shared name `item` answer query `query`? (Never for kNoName.)
  bool matches(NameIndex query, NameIndex item) const;
  static std::vector<std::string> keywords(const std::string& text);

 private:
  std::vector<std::string> names_;
  std::vector<std::vector<std::string>> words_;  // sorted keywords per name
  std::unordered_map<std::string, NameIndex> index_;
  std::string no_name_;
};

/// Everything measured about one query.
struct QueryRecord {
  PeerIndex from = kNoPeer;
  NameIndex name = 0;
  SimTime start = 0, end = -1;
  std::set<PeerIndex> hits;       // providers found
  std::set<PeerIndex> live_hits;  // of those, alive when found (a stale index entry is not a find)
  std::set<PeerIndex> reached;    // peers that received the query
  std::uint64_t messages = 0;     // every message the query caused
  std::uint64_t duplicates = 0;   // copies dropped as already seen
  int first_hit_hops = -1;
  bool live_provider_existed = false;  // oracle, at the start of the query
  PeerIndex downloaded_from = kNoPeer;
  bool relayed = false;  // the transfer went through a relay (Skype-style NAT traversal)
  PeerIndex relay = kNoPeer;
  bool finished = false;
};

/// The kinds of a query's hops in the trace (a LookupHop's detail), named by describe_hops:
/// the query's copies (forwards, duplicates), its answer's way back (a QUERYHIT one step back
/// along the reverse path, or the index server's reply), and the transfer that follows (a direct
/// download, or the two legs of a relayed one).
enum HopKind : std::uint8_t { kForwardHop = 0, kDuplicateHop = 1, kRelayLeg = 2, kAnswerHop = 3, kDownloadHop = 4 };
/// Names the hop kinds and their drawing in a vocabulary; user queries have purpose 0. A search
/// that `floods` has duplicates and relay legs; one that asks an index has neither (their kinds
/// are then drawn as forwards and the legend does not list them). `answer` names the answer's
/// message ("QUERYHIT", "search result").
void describe_hops(TraceVocabulary& vocabulary, bool floods = true, const std::string& answer = "QUERYHIT");

/// Follows every query as the protocol reports it (a benchmark's oracle check), in place of the
/// log's per-query sets of reached peers: a flood over 10^5 peers would fill one with 4 MB.
class QueryObserver {
 public:
  virtual ~QueryObserver() = default;
  virtual void reached(QueryIndex q, PeerIndex peer) = 0;
  /// QueryLog::hop's report (the duplicate flag and the kind as given there).
  virtual void hop(QueryIndex q, PeerIndex from, PeerIndex to, int hops, bool duplicate, int kind) = 0;
  /// The query has ended (QueryLog::finish, once per query).
  virtual void finished(QueryIndex q) = 0;
};

/// The interface between a protocol and the bench: the protocol reports, the bench records.
class QueryLog {
 public:
  QueryIndex open(PeerIndex from, NameIndex name, SimTime now, bool live_provider_existed);
  void reached(QueryIndex q, PeerIndex peer) {
    if (q == kNoQuery) return;
    if (observer_ != nullptr) {
      observer_->reached(q, peer);
    } else {
      records_[q].reached.insert(peer);
    }
  }
  void message(QueryIndex q) {
    if (q != kNoQuery) ++records_[q].messages;
  }
  void duplicate(QueryIndex q) {
    if (q != kNoQuery) ++records_[q].duplicates;
  }
  void hit(QueryIndex q, PeerIndex provider, int hops);
  void set_liveness(std::function<bool(PeerIndex)> alive) { alive_ = std::move(alive); }
  /// Also report queries in the engine's trace (lookup_start / lookup_hop / lookup_done).
  void set_trace(Trace* trace) { trace_ = trace; }
  /// Reports reached peers, hops and ends to `observer` too; the records' `reached` sets then
  /// stay empty (the observer keeps what it needs).
  void set_observer(QueryObserver* observer) { observer_ = observer; }
  /// The query went from one peer to the next (hops from the requester); duplicates included.
  /// kind kRelayLeg: a leg of a relayed transfer (not part of the query's flood); kAnswerHop:
  /// the answer moved one step back toward the requester (`hops`: its steps so far).
  void hop(QueryIndex q, PeerIndex from, PeerIndex to, int hops, bool duplicate, SimTime now, int kind = 0);
  /// The transfer succeeded; `relay` is the superpeer it went through, or kNoPeer if direct.
  void downloaded(QueryIndex q, PeerIndex provider, PeerIndex relay, SimTime now);
  void finish(QueryIndex q, SimTime now);
  const std::vector<QueryRecord>& records() const { return records_; }
  QueryRecord& record(QueryIndex q) { return records_[q]; }

 private:
  std::vector<QueryRecord> records_;
  std::function<bool(PeerIndex)> alive_;
  Trace* trace_ = nullptr;
  QueryObserver* observer_ = nullptr;
};

/// Peer capacities for superpeer election (Gnutella 0.6 "ultrapeer capable", Skype supernodes).
struct Capacity {
  double bandwidth_kbps = 1000;
  double uptime_h = 1;
  bool behind_nat = false;
};

/// What the bench gives every unstructured protocol: the catalogue of names, the query log to
/// report to, and per peer (by PeerIndex) the names it shares and its capacity.
struct Context {
  const Catalogue* catalogue = nullptr;
  QueryLog* log = nullptr;
  const std::vector<std::vector<NameIndex>>* shared = nullptr;
  const std::vector<Capacity>* capacities = nullptr;

  /// Does peer p share a name that answers query name q?
  bool has_match(PeerIndex p, NameIndex q) const {
    if (p >= shared->size()) return false;
    for (NameIndex n : (*shared)[p]) {
      if (catalogue->matches(q, n)) return true;
    }
    return false;
  }
};

/// Reads the common parts of an unstructured scenario and drives a protocol P through it.
/// P provides: `using Message`, `struct Params`, `static Params parse_params(const Scenario&)`,
/// `P(Params, Transport<Message>&, Context)`, and the life-cycle and inspection methods used below.
struct Workload {
  std::vector<std::uint64_t> ids;  // peer ids (plain numbers)
  std::vector<Capacity> capacities;
  std::vector<std::pair<std::size_t, NameIndex>> items;  // (position in ids, name)
  struct Op {
    enum class Kind { Query, Queries, Fail, FailFraction, Leave, Join, Set };
    Kind kind = Kind::Query;
    SimTime at = 0;
    std::string field;
    std::uint64_t from = 0, peer = 0;
    bool has_from = false, has_id = false;
    NameIndex name = 0;
    std::int64_t count = 0;
    SimTime spread = 0;
    double fraction = 0;
    std::uint64_t id = 0;
    int ttl = 0;        // query: a TTL for this query only (0: the protocol's)
    std::string param;  // set: which parameter, to `number`
    double number = 0;
  };
  std::vector<Op> ops;
};

/// Parses peers, items, events and capacities (`params` are the protocol's to check).
Workload parse_workload(const Scenario& scenario, Catalogue& catalogue);

/// Parses one operation (an entry of "events", or a visualizer action); `known` holds the ids
/// that exist so far (a join adds its id).
Workload::Op parse_event(const JsonObject& e, std::set<std::uint64_t>& known, bool has_items, Catalogue& catalogue);

/// The result's "queries" array and the summary figures.
nlohmann::json queries_json(const QueryLog& log, const Catalogue& catalogue, const std::vector<std::uint64_t>& ids);

// ---- what the unstructured protocols' view models share (their register.cpp) ----

/// A scenario for ProtocolModel::make_scenario: the shared items and either a few random queries
/// (the "new scenario" panel) or, for compare, one query per requested search. `params` and
/// `capacities` (null: none) are the protocol's.
nlohmann::json search_scenario(const ScenarioRequest& request, const std::string& protocol, nlohmann::json params,
                               nlohmann::json capacities);
/// query (a file name from the selected peer), fail, leave.
std::vector<OperationInfo> search_operations();
/// The TTL a query may travel, set per scenario and during a run.
ParameterInfo ttl_parameter(const std::string& help);
/// A request's value of a parameter, or `fallback`.
double request_param(const ScenarioRequest& request, const std::string& name, double fallback);

}  // namespace p2plab::search
