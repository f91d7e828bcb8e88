#pragma once
// What the real peers of the search protocols (central index, flooding, superpeers) share on top
// of the node shell (net/node_shell.hpp): the protocol with its search context (catalogue, query
// log, shared names), query GUIDs on the wire <-> local query records, the console's `share` and
// `search`, the answers of finished searches, the options --share and --collect-ms.
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/search.hpp"
#include "p2plab/net/node_shell.hpp"

namespace p2plab::search {

constexpr std::size_t kMaxNodeQueries = 1 << 16;  // GUIDs remembered (--max-queries; each opens a query record)
constexpr std::size_t kMaxNodeNames = 1 << 16;    // distinct names and keyword sets (--max-names)
constexpr std::size_t kMaxNodeNameBytes = 255;    // a file name or a query's keywords (the wire's bound)

/// The options every search protocol's node adds to the shell's.
inline std::vector<CommandOption> node_search_options() {
  return {net::node_list("share", "A name this peer shares from the start (repeatable)"),
          net::node_option("max-queries", "Query GUIDs remembered at most (then the oldest is forgotten)",
                           std::to_string(kMaxNodeQueries)),
          net::node_option("max-names",
                           "Distinct names and keyword sets remembered at most (then the table is rebuilt from the "
                           "names in use, forgetting the older half of the queries if need be)",
                           std::to_string(kMaxNodeNames))};
}

/// The limits of a search node's tables (--max-queries, --max-names).
struct NodeLimits {
  std::size_t queries = kMaxNodeQueries, names = kMaxNodeNames;
};

/// Reads --max-queries and --max-names; false with `error` on a bad one.
inline bool read_limits(const CommandArgs& args, NodeLimits& limits, std::string& error) {
  int queries = static_cast<int>(limits.queries), names = static_cast<int>(limits.names);
  if (!net::read_option(args, "max-queries", 16, 1 << 24, queries, error) ||
      !net::read_option(args, "max-names", 16, 1 << 24, names, error)) {
    return false;
  }
  limits.queries = static_cast<std::size_t>(queries);
  limits.names = static_cast<std::size_t>(names);
  return true;
}

/// A protocol whose peers can forget a query (flooding): its node reuses old query numbers.
template <class P>
concept ForgetsQueries = requires(P& p, PeerIndex peer, QueryIndex q) {
  p.forget_query(peer, q);
};

/// A protocol whose own tables hold names (the central index's index, a superpeer's leaf
/// tables): the node keeps those names when it rebuilds a full catalogue, and renames them.
template <class P>
concept KeepsNames = requires(const P& kept, P& p, std::vector<std::uint8_t>& used,
                              const std::vector<NameIndex>& renamed) {
  kept.mark_names_in_use(used);
  p.rename_names(renamed);
};

template <class Protocol>
class SearchNode : public net::TransportApp<typename Protocol::Message> {
 public:
  using Message = typename Protocol::Message;

  SearchNode(net::Shell& shell, const typename Protocol::Params& params, const std::vector<std::string>& shared,
             NodeLimits limits = {})
      : net::TransportApp<Message>(shell),
        limits_(limits),
        shared_(1),
        capacities_(1),
        protocol_(params, this->transport_, Context{&catalogue_, &log_, &shared_, &capacities_}) {
    for (const std::string& name : shared) shared_[0].push_back(catalogue_.intern(name));
  }

  void on_message(PeerIndex self, PeerIndex from, const Message& msg) override {
    protocol_.on_message(self, from, msg);
  }
  void on_timer(PeerIndex self, std::uint16_t kind, std::uint32_t cookie) override {
    protocol_.on_timer(self, kind, cookie);
  }
  const char* name_of(const Message& m) const override { return to_string(m.type); }
  const char* pending_name() const override { return to_string(pending_.type); }
  void deliver(PeerIndex sender) override {
    // The protocol reads shared[p] and capacities[p] of any peer it knows (remote: unknown).
    shared_.resize(this->shell_.contacts().size());
    capacities_.resize(this->shell_.contacts().size());
    protocol_.on_message(this->self(), sender, pending_);
  }
  PeerView view() const override { return protocol_.inspect(this->self()); }
  std::string help() const override { return "share NAME | search KEYWORDS"; }
  bool command(const std::string& op, std::istream& in) override {
    if (op != "share" && op != "search") return false;
    std::string rest;
    std::getline(in >> std::ws, rest);
    if (Catalogue::keywords(rest).empty() || rest.size() > kMaxNodeNameBytes) {
      this->shell_.error(op == "share" ? "share: NAME needs a letter or digit and at most 255 bytes"
                                       : "search: KEYWORDS need a letter or digit and at most 255 bytes");
      return true;
    }
    if (op == "share") {
      share(rest);
      return true;
    }
    if (const std::string refused = search_refused(); !refused.empty()) {
      this->shell_.error("search: " + refused);
      return true;
    }
    if (catalogue_.size() >= limits_.names && !compact_names()) {
      this->shell_.error("search: too many names");
      return true;
    }
    const NameIndex name = catalogue_.intern(rest);
    const std::uint64_t guid = this->transport_.rng(0).next_u64();
    const QueryIndex q = query_of(guid, this->self(), name);
    if (q == kNoQuery) {
      this->shell_.error("search: too many queries");
      return true;
    }
    protocol_.search(this->self(), name, q, 0);
    searching_[q] = rest;
    return true;
  }
  /// Answers the searches that finished.
  void tick() override {
    for (auto it = searching_.begin(); it != searching_.end();) {
      const QueryRecord& r = log_.records()[it->first];
      if (!r.finished) {
        ++it;
        continue;
      }
      nlohmann::json hits = nlohmann::json::array();
      for (PeerIndex p : r.hits) hits.push_back(this->shell_.id_text(p));
      nlohmann::json j{{"op", "search"},
                       {"arg", it->second},
                       {"ok", r.downloaded_from != kNoPeer},
                       {"hits", hits},
                       {"ms", static_cast<double>(r.end - r.start) / 1000.0}};
      if (counts_reached()) j["reached"] = r.reached.size();
      j["downloaded_from"] = r.downloaded_from != kNoPeer ? nlohmann::json(this->shell_.id_text(r.downloaded_from))
                                                          : nlohmann::json(nullptr);
      if (this->shell_.json_mode()) {
        this->shell_.answer(j);
      } else {
        std::printf("search %s: %zu hits %s, %s\n", it->second.c_str(), r.hits.size(), hits.dump().c_str(),
                    r.downloaded_from != kNoPeer
                        ? ("downloaded from " + this->shell_.id_text(r.downloaded_from)).c_str()
                        : "nothing downloaded");
        std::fflush(stdout);
      }
      it = searching_.erase(it);
    }
  }
  /// The --join peer answered: join the overlay through it.
  void joined(PeerIndex bootstrap) override {
    this->shell_.say("joining through " + this->shell_.id_text(bootstrap) + " at " +
                     this->shell_.contacts().at(bootstrap).address.to_string());
    protocol_.join(this->self(), bootstrap);
  }
  std::string leave() override {
    protocol_.leave(this->self());  // BYE to every neighbour
    return "left the overlay";
  }
  /// The protocol's part of `state`: what the peer shares.
  nlohmann::json state() const override {
    nlohmann::json j;
    j["tables"] = {{"queries", guid_of_.size()},
                   {"queries_forgotten", queries_forgotten_},
                   {"names", catalogue_.size()},
                   {"names_rebuilt", names_compacted_}};
    j["shared"] = nlohmann::json::array();
    for (NameIndex n : shared_[0]) j["shared"].push_back(catalogue_.name(n));
    return j;
  }

 protected:
  /// `share NAME`; a protocol that tells someone (its superpeers, the server) overrides it.
  virtual void share(const std::string& name) {
    shared_[0].push_back(catalogue_.intern(name));
    if (this->shell_.json_mode()) this->shell_.answer({{"op", "share"}, {"arg", name}, {"ok", true}});
  }
  /// Why a search cannot start now ("" when it can).
  virtual std::string search_refused() const { return ""; }
  /// Whether a search's answer says how many peers it reached (a flood does).
  virtual bool counts_reached() const { return true; }

  // ---- the wire: names and GUIDs ----
  /// The fields flooding-style messages share (type, TTL, hops, flag, the query's GUID) into a
  /// wire datagram of this peer; false when the query is not in the log.
  template <class Datagram>
  bool to_wire(const Message& m, Datagram& d) const {
    d.sender = this->shell_.self_id().low64();
    d.type = m.type;
    d.ttl = m.ttl;
    d.hops = m.hops;
    d.flag = m.flag;
    return m.query == kNoQuery || (d.guid = guid_of(m.query)).has_value();
  }
  /// The same fields of a received datagram into the pending message (a new one).
  template <class Datagram>
  void from_wire(const Datagram& d) {
    pending_ = Message{};
    pending_.type = d.type;
    pending_.ttl = d.ttl;
    pending_.hops = d.hops;
    pending_.flag = d.flag;
  }
  /// The local query record of a GUID (a new one the first time). When --max-queries GUIDs are
  /// remembered, a protocol that can forget queries reuses the oldest record (not one of this
  /// peer's own searches that may still be running); the others get kNoQuery.
  QueryIndex query_of(std::uint64_t guid, PeerIndex from, NameIndex name) {
    if (auto it = query_of_guid_.find(guid); it != query_of_guid_.end()) return it->second;
    QueryIndex q = kNoQuery;
    if (guid_of_.size() < limits_.queries) {
      q = log_.open(from, name, this->transport_.now(), false);
      guid_of_.resize(q + 1, 0);
    } else if constexpr (ForgetsQueries<Protocol>) {
      if ((q = reuse_query()) == kNoQuery) return kNoQuery;
      QueryRecord& r = log_.record(q);
      r = QueryRecord{};
      r.from = from;
      r.name = name;
      r.start = this->transport_.now();
    } else {
      return kNoQuery;
    }
    guid_of_[q] = guid;
    query_of_guid_[guid] = q;
    return q;
  }
  /// The oldest query record that may be reused (its GUID forgotten), or kNoQuery.
  QueryIndex reuse_query() {
    for (std::size_t step = 0; step < guid_of_.size(); ++step) {
      const auto q = static_cast<QueryIndex>(next_reuse_++ % guid_of_.size());
      if (!forgettable(q)) continue;
      forget(q);
      return q;
    }
    return kNoQuery;
  }
  /// This peer's own searches keep their record while they run and a while after (their timers
  /// may still be pending).
  bool forgettable(QueryIndex q) const {
    const QueryRecord& r = log_.records()[q];
    return searching_.count(q) == 0 && !(r.from == this->self() && this->transport_.now() - r.start < kOwnQueryKept);
  }
  void forget(QueryIndex q) {
    if (auto it = query_of_guid_.find(guid_of_[q]); it != query_of_guid_.end() && it->second == q) {
      query_of_guid_.erase(it);
      protocol_.forget_query(this->self(), q);
      ++queries_forgotten_;
    }
  }
  /// The catalogue is full: a protocol that can forget queries rebuilds it from the names still
  /// in use (shared ones, those of remembered queries, those in the protocol's own tables); if
  /// that frees nothing, it forgets the older half of the queries it remembers and rebuilds
  /// again. False for the others (they refuse new names).
  bool compact_names() {
    if constexpr (ForgetsQueries<Protocol>) {
      if (rebuild_catalogue()) return true;
      const std::size_t half = guid_of_.size() / 2;
      for (std::size_t step = 0, forgotten = 0; step < guid_of_.size() && forgotten < half; ++step) {
        const auto q = static_cast<QueryIndex>(next_reuse_++ % guid_of_.size());
        if (!forgettable(q) || !query_of_guid_.count(guid_of_[q])) continue;
        forget(q);
        ++forgotten;
      }
      return rebuild_catalogue();
    } else {
      return false;
    }
  }
  /// A new catalogue of the names in use, every holder renamed; true if it has room.
  bool rebuild_catalogue() {
    std::vector<std::uint8_t> used(catalogue_.size(), 0);
    auto use = [&](NameIndex n) {
      if (n < used.size()) used[n] = 1;
    };
    for (NameIndex n : shared_[0]) use(n);
    for (const auto& [guid, q] : query_of_guid_) use(log_.records()[q].name);
    for (const auto& [q, text] : searching_) use(log_.records()[q].name);
    if constexpr (KeepsNames<Protocol>) protocol_.mark_names_in_use(used);
    Catalogue kept;
    std::vector<NameIndex> renamed(catalogue_.size(), kNoName);
    for (NameIndex n = 0; n < catalogue_.size(); ++n) {
      if (used[n]) renamed[n] = kept.intern(catalogue_.name(n));
    }
    auto rename = [&](NameIndex n) { return n < renamed.size() ? renamed[n] : kNoName; };
    for (NameIndex& n : shared_[0]) n = rename(n);
    // Forgotten records keep no name (kNoName) until they are reused.
    for (QueryIndex q = 0; q < log_.records().size(); ++q) log_.record(q).name = rename(log_.records()[q].name);
    if constexpr (KeepsNames<Protocol>) protocol_.rename_names(renamed);
    catalogue_ = std::move(kept);
    ++names_compacted_;
    return catalogue_.size() < limits_.names;
  }
  /// The GUID of a local query, or nothing (not a query of this peer's log).
  std::optional<std::uint64_t> guid_of(QueryIndex q) const {
    if (q == kNoQuery || q >= guid_of_.size()) return std::nullopt;
    return guid_of_[q];
  }
  /// A local name for the wire; false when it is not in the catalogue.
  bool name_to_wire(NameIndex name, std::optional<std::string>& out) const {
    if (name >= catalogue_.size()) return false;
    out = catalogue_.name(name);
    return true;
  }
  /// A name read from the wire, interned; false when the catalogue is full (of names in use).
  bool intern(const std::optional<std::string>& name, NameIndex& out) {
    if (!name) return true;
    if (catalogue_.size() >= limits_.names && !compact_names()) return false;
    out = catalogue_.intern(*name);
    return true;
  }
  /// The pending message's query: the GUID's record (a new one: from `sender`).
  bool map_query(const std::optional<std::uint64_t>& guid, PeerIndex sender) {
    if (!guid) return true;
    pending_.query = query_of(*guid, sender, pending_.name);
    return pending_.query != kNoQuery;
  }
  /// `state` with the peer's overlay neighbours, and those lines for people.
  nlohmann::json state_with_neighbors() const {
    nlohmann::json j = SearchNode::state();
    j["neighbors"] = nlohmann::json::array();
    for (PeerIndex n : protocol_.neighbors(this->self())) j["neighbors"].push_back(contact_json(n));
    return j;
  }
  static std::string neighbor_lines(const nlohmann::json& s) {
    std::string text = "\n  neighbours ";
    for (const auto& n : s["neighbors"]) {
      text += " " + n["id"].get<std::string>() + " (" + n["address"].get<std::string>() + ")";
    }
    text += "\n  shared     ";
    for (const auto& n : s["shared"]) text += " \"" + n.get<std::string>() + "\"";
    return text + "\n";
  }
  nlohmann::json contact_json(PeerIndex p) const {
    return {{"id", this->shell_.id_text(p)}, {"address", this->shell_.contacts().at(p).address.to_string()}};
  }

  static constexpr SimTime kOwnQueryKept = 60'000'000;  // 60 s
  NodeLimits limits_;
  std::size_t next_reuse_ = 0;
  std::uint64_t queries_forgotten_ = 0, names_compacted_ = 0;
  Catalogue catalogue_;
  QueryLog log_;
  std::vector<std::vector<NameIndex>> shared_;  // only index 0 (this peer) shares anything here
  std::vector<Capacity> capacities_;
  Protocol protocol_;
  Message pending_;  // the message being received (read, map, deliver)
  std::vector<std::uint64_t> guid_of_;
  std::unordered_map<std::uint64_t, QueryIndex> query_of_guid_;
  std::map<QueryIndex, std::string> searching_;  // this peer's searches not answered yet
};

}  // namespace p2plab::search
