#pragma once
// Flooding, Gnutella 0.4: a random overlay; QUERY is sent to every neighbour but the one it came
// from, until its TTL runs out; duplicates are dropped by GUID; QUERYHITs travel back along the
// reverse path. See README.md beside this file.
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/search.hpp"
#include "common/search_protocol.hpp"
#include "logic.hpp"
#include "p2plab/transport.hpp"
#include "p2plab/view_model.hpp"

namespace p2plab::flooding {

using search::NameIndex;
using search::QueryIndex;

// Positions in the view model's link kinds and roles (register.cpp).
constexpr std::uint8_t kNeighborLink = 0;
constexpr std::uint8_t kPeerRole = 0;

enum class MsgType : std::uint8_t {
  Ping,     // discovery: "who is there?" (TTL 1 or 2)
  Pong,     // "I am": straight back to the pinging peer
  Connect,  // "be my neighbour"
  ConnectOk,
  ConnectRefused,  // the peer has max_degree neighbours already
  Query,           // GUID (the query number), TTL, hops, keywords
  QueryHit,        // "I have it": back along the path the query came
  Download,        // requester -> provider, directly
  DownloadOk,
  Bye,  // graceful leave
  Count
};
const char* to_string(MsgType type);

struct Message {
  MsgType type = MsgType::Ping;
  std::uint8_t ttl = 0;
  std::uint8_t hops = 0;
  std::uint8_t flag = 0;
  QueryIndex query = search::kNoQuery;  // the query's GUID
  NameIndex name = 0;
  PeerIndex node = kNoPeer;  // PING: who asks; QUERYHIT: the provider
  std::uint32_t round = 0;   // PING/PONG: which discovery or keepalive round
};

struct Params {
  int ttl = 7;                                      // Gnutella's default
  int degree = 4;                                   // neighbours a peer tries to keep
  int max_degree = 8;                               // neighbours a peer accepts at most
  SimTime collect = from_ms(std::int64_t{3000});    // the requester waits this long for hits
  SimTime timeout = from_ms(std::int64_t{1000});    // PONG/CONNECT/DOWNLOAD answer time
  SimTime keepalive = from_ms(std::int64_t{5000});  // neighbour liveness check (0: off)
};

class Protocol final : public search::SearchProtocol<Message, Params> {
 public:
  using Message = flooding::Message;
  using Params = flooding::Params;
  static Params parse_params(const Scenario& scenario);

  Protocol(Params params, Transport<Message>& transport, search::Context context);

  void bootstrap(const std::vector<PeerIndex>& peers);
  void join(PeerIndex peer, PeerIndex via);
  void leave(PeerIndex peer);
  /// Floods a query; ttl 0 means the configured TTL.
  void search(PeerIndex from, NameIndex name, QueryIndex query, int ttl);
  /// Peer p forgets query q (GUID cache, route, copies, download): a real peer reuses the numbers
  /// of old queries, so that its tables stay bounded.
  void forget_query(PeerIndex p, QueryIndex q);
  /// Marks (mark[x] = 1) the peers p's state refers to: neighbours, discovery candidates, the
  /// ones it waits for, and the providers of its downloads. (Not the routes back: those are
  /// neighbours, and a hit sent along a forgotten route is only lost.)
  void mark_peers_in_use(PeerIndex p, std::vector<std::uint8_t>& mark) const;

  void on_message(PeerIndex self, PeerIndex from, const Message& msg) override;
  void on_timer(PeerIndex self, std::uint16_t kind, std::uint32_t cookie) override;
  /// The engine's hints (MessageHandler): the peer's record for the event after next, then, for
  /// the next event, the GUID table slots and neighbour list its message will touch. A flood at
  /// 10^5 peers touches peers at random: without them every message waits for memory 3-4 times.
  void prefetch(PeerIndex peer) const override {
    if (peer >= peers_.size()) return;
    __builtin_prefetch(&peers_[peer].neighbors);
    __builtin_prefetch(&peers_[peer].routes);  // the record spans two cache lines
  }
  void prefetch_message(PeerIndex peer, const Message& msg) const override {
    if (peer >= peers_.size() || (msg.type != MsgType::Query && msg.type != MsgType::QueryHit)) return;
    const Peer& p = peers_[peer];
    p.routes.prefetch(msg.query);
    if (msg.type == MsgType::Query) {
      p.cache.prefetch(msg.query);
      __builtin_prefetch(p.neighbors.data());
    }
  }

  std::string role(PeerIndex) const { return "peer"; }
  std::vector<PeerIndex> neighbors(PeerIndex p) const {
    return p < peers_.size() ? peers_[p].neighbors : std::vector<PeerIndex>{};
  }
  std::size_t state_entries(PeerIndex p) const { return neighbors(p).size(); }
  /// The GUID cache of a peer: the GUIDs of the QUERYs it has seen.
  const GuidCache& guid_cache(PeerIndex p) const { return peers_[p].cache; }
  /// The route table of a peer: GUID -> the neighbour the QUERY first came from (itself at the
  /// requester): the reverse path of QUERYHITs.
  const RouteTable& routes(PeerIndex p) const { return peers_[p].routes; }
  /// Role and links (what a view draws every frame); inspect() adds the tables.
  PeerView inspect_links(PeerIndex p) const;
  PeerView inspect(PeerIndex p) const;
  TraceVocabulary vocabulary() const;
  nlohmann::json params_json() const;
  /// Changes a parameter during the run; returns "" or why it cannot.
  std::string set_param(const std::string& name, double value);
  const Params& params() const { return params_; }

 private:
  enum Timer : std::uint16_t { kCollect, kDownloadTimeout, kConnectPhase, kKeepalive, kKeepaliveCheck };
  struct Peer {
    std::vector<PeerIndex> neighbors;
    GuidCache cache;                    // the GUID cache (logic.hpp)
    RouteTable routes;                  // GUID -> where the QUERY came from
    std::vector<PeerIndex> candidates;  // PONGs of the current discovery
    std::vector<PeerIndex> awaiting;    // keepalive PINGs not yet answered
    std::uint32_t round = 0;
  };
  bool connected(PeerIndex a, PeerIndex b) const;
  void link(PeerIndex a, PeerIndex b);
  void unlink(PeerIndex a, PeerIndex b);
  void discover(PeerIndex self, PeerIndex via);
  void try_download(PeerIndex self, QueryIndex q);
  /// Sends copies of a QUERY to the neighbours logic::forward_targets picks (checked: only
  /// neighbours get one, and one query never costs more than a correct flood could).
  void flood(PeerIndex self, PeerIndex came_from, const Message& copy);
  Peer& peer(PeerIndex p) {
    if (p >= peers_.size()) peers_.resize(p + 1);
    return peers_[p];
  }

  std::vector<Peer> peers_;
  std::vector<PeerIndex> targets_;     // scratch for forward_targets (no allocation per message)
  std::vector<std::uint64_t> copies_;  // QUERY copies sent per query (the safety net's count)
};

}  // namespace p2plab::flooding
