#pragma once
// One BEP 5 node's protocol, without sockets: datagrams in (receive), datagrams out (the Send
// callback), time passed in (tick). The node program (bep5_node.cpp) puts it on a UDP socket;
// tests can wire several together in memory.
//
// What it does, after BEP 5 and the Kademlia paper:
// - answers ping, find_node (the k = 8 closest good nodes), get_peers (a token, and the peers
//   announced for the info-hash, or else the closest nodes) and announce_peer (the token must be
//   one this node gave the sender's IP address: SHA-1 over a secret and the address, the secret
//   renewed every 5 minutes, tokens of the current and the previous secret accepted); errors
//   203 (bad arguments, bad token) and 204 (unknown method);
// - keeps the routing table (routing_table.hpp, k = 8): a node that answered this node's query
//   is heard from; a node that only queried is pinged first and enters when it answers (BEP 5's
//   "good" nodes); a full bucket pings its least recently seen contact; unanswered queries count
//   against a contact until it is stale;
// - stores announced peers per info-hash, each for peer_ttl, bounded in hashes and peers;
// - runs iterative lookups: find_node (the join: a lookup of its own id through the bootstrap
//   address, then a lookup of a random id in every bucket farther than its closest neighbour,
//   as the paper's join: without those a node only knows its own neighbourhood), get_peers, and announce (get_peers,
//   then announce_peer with each token to the k closest that answered), alpha queries in flight, done when the k
//   closest seen have answered or failed.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "krpc.hpp"
#include "p2plab/net/endpoint.hpp"
#include "p2plab/rng.hpp"
#include "p2plab/types.hpp"
#include "routing_table.hpp"

namespace p2plab::kademlia::bep5 {

using krpc::NodeId;
using krpc::NodeInfo;

struct DhtConfig {
  std::size_t k = 8;  ///< bucket size and lookup width (BEP 5: 8)
  int alpha = 3;      ///< queries in flight per lookup
  SimTime rpc_timeout = from_ms(std::int64_t{1500});
  SimTime token_period = from_ms(std::int64_t{5 * 60 * 1000});  ///< the token secret's life
  SimTime peer_ttl = from_ms(std::int64_t{30 * 60 * 1000});     ///< an announced peer's life
  SimTime refresh = from_ms(std::int64_t{15 * 60 * 1000});      ///< lookups of its own and a random id
  std::uint32_t stale_after = 2;  ///< unanswered queries in a row (BEP 5: "try once more")
  std::size_t max_hashes = 2000, max_peers_per_hash = 200;
  std::size_t max_values_reply = 50;  ///< peers in one get_peers answer (fits a datagram)
  std::size_t max_lookups = 64, max_in_flight = 1024;
  std::size_t max_candidates = 128;  ///< nodes one lookup keeps (the closest)
  std::size_t max_values_found = 256;
  int max_queries_per_s = 200;                         ///< answered per source address and second (the rest: dropped)
  std::string version = std::string("PL\x00\x01", 4);  ///< "v": client "PL" (p2plab), version 0.1
};

enum class LookupKind : std::uint8_t { FindNode, GetPeers, Announce, Bootstrap, Ping };
const char* to_string(LookupKind k);

/// What a finished lookup found (the console prints it).
struct LookupResult {
  std::uint32_t serial = 0;
  LookupKind kind = LookupKind::FindNode;
  NodeId target{};
  std::vector<NodeInfo> closest;       ///< the k closest that answered, closest first
  std::vector<net::Endpoint> values;   ///< get_peers / announce: the peers found
  std::vector<NodeInfo> values_from;   ///< the nodes that answered with peers
  int rounds = 0;                      ///< longest chain of suggestions followed
  int rpcs = 0, timeouts = 0;          ///< queries sent, queries unanswered
  int announced = 0, announce_ok = 0;  ///< announce: announce_peer sent, and answered without error
  std::vector<NodeInfo> accepted_by;   ///< announce: the nodes that accepted it
  std::vector<std::string> announce_errors;
  SimTime started = 0, finished = 0;
  bool ok = false;  ///< at least one node answered
};

/// Who sent what: per method (queries) and per client ("v": the first two letters, BEP 20).
struct TrafficCounts {
  std::uint64_t queries = 0, responses = 0, errors = 0;
  std::map<std::string, std::uint64_t> queries_by_method;
};

class Dht {
 public:
  using Send = std::function<void(const net::Endpoint& to, const std::string& datagram)>;

  /// `secret_seed`: bytes for the token secrets (the node program takes 20 from the system's
  /// random source: tokens must not be guessable); `seed`: the random ids of bucket refreshes.
  Dht(const NodeId& self, const DhtConfig& config, Send send, const std::string& secret_seed, std::uint64_t seed);

  // ---- input ----
  void receive(std::string_view datagram, const net::Endpoint& from, SimTime now);
  /// Timeouts, lookups' next queries, token secrets, peer expiry, bucket refresh.
  void tick(SimTime now);

  // ---- operations (a serial, or 0 when too many lookups run) ----
  std::uint32_t bootstrap(const net::Endpoint& via, SimTime now);
  std::uint32_t find_node(const NodeId& target, SimTime now);
  std::uint32_t get_peers(const NodeId& info_hash, SimTime now);
  /// get_peers, then announce_peer(port; implied_port if port is 0) to the k closest.
  std::uint32_t announce(const NodeId& info_hash, int port, SimTime now);
  /// A ping (LookupKind::Ping: `closest` holds the node if it answered).
  std::uint32_t ping(const net::Endpoint& to, SimTime now);
  /// Lookups finished since the last call.
  std::vector<LookupResult> take_finished();

  // ---- state ----
  const NodeId& id() const { return self_; }
  const RoutingTable& table() const { return table_; }
  /// Bootstrap lookups that have ended; whether one found any node.
  bool bootstrapped() const { return bootstrapped_; }
  std::size_t running() const { return lookups_.size(); }
  std::size_t in_flight() const { return outstanding_.size(); }
  /// Announced peers: per info-hash, the peers and when each expires.
  const std::map<NodeId, std::map<std::uint64_t, SimTime>>& store() const { return store_; }
  std::size_t stored_peers() const;
  const std::map<std::string, std::uint64_t>& drops() const { return drops_; }
  std::uint64_t dropped() const { return dropped_; }
  std::uint64_t received() const { return received_; }
  std::uint64_t sent() const { return sent_; }
  /// Queries received per method (also the unknown ones, as "other"), answered or refused.
  const std::map<std::string, std::uint64_t>& queries_received() const { return queries_received_; }
  const std::map<std::string, std::uint64_t>& errors_sent() const { return errors_sent_; }
  const std::map<std::string, TrafficCounts>& clients() const { return clients_; }
  std::uint64_t responses_received() const { return responses_received_; }
  std::uint64_t timeouts() const { return timeouts_; }
  std::uint64_t bad_tokens() const { return bad_tokens_; }
  /// The token this node gives `ip` now (tests).
  std::string token_for(std::uint32_t ip) const;

 private:
  enum class Purpose : std::uint8_t { Lookup, Announce, Verify, Oldest, Ping };
  struct Outstanding {
    net::Endpoint to;
    krpc::Method method = krpc::Method::Ping;
    Purpose purpose = Purpose::Ping;
    std::uint32_t lookup = 0;
    std::optional<NodeId> expected;  ///< the id we think answers (none: a bootstrap address)
    SimTime deadline = 0;
  };
  enum class State : std::uint8_t { Fresh, Asked, Answered, Failed };
  struct Candidate {
    NodeInfo node;
    Id distance;
    State state = State::Fresh;
    int round = 0;
    std::optional<std::string> token;
  };
  struct Lookup {
    LookupResult result;
    Id target;
    std::vector<Candidate> candidates;  ///< sorted by distance, at most max_candidates
    std::set<std::uint64_t> values_seen;
    int port = 0;
    int in_flight = 0;
    bool announcing = false;
  };

  void on_query(const krpc::Message& m, const net::Endpoint& from, SimTime now);
  void on_response(const krpc::Message& m, const net::Endpoint& from, SimTime now);
  void on_error(const krpc::Message& m, const net::Endpoint& from, SimTime now);
  void reply(const krpc::Message& m, const net::Endpoint& to);
  void send_error(const std::string& transaction, int code, const std::string& text, const net::Endpoint& to);
  /// Sends a query; false when too many are in flight.
  bool query(krpc::Message m, const net::Endpoint& to, Purpose purpose, std::uint32_t lookup,
             std::optional<NodeId> expected, SimTime now);
  void heard(const NodeInfo& node, SimTime now);
  void failed(const NodeId& id);
  void verify(const NodeInfo& node, SimTime now);
  std::uint32_t start(LookupKind kind, const NodeId& target, SimTime now);
  void add_candidate(Lookup& l, const NodeInfo& n, int round);
  void step(std::uint32_t serial, Lookup& l, SimTime now);
  void finish(std::uint32_t serial, Lookup& l, SimTime now);
  std::vector<NodeInfo> closest_nodes(const NodeId& target) const;
  /// A random id whose distance from this node's id lies in [2^i, 2^(i+1)): in bucket i.
  NodeId random_id_in_bucket(int i);
  std::string token(std::uint32_t ip, const std::string& secret) const;
  void count_drop(const std::string& reason);
  /// False when `from` has sent more than max_queries_per_s queries this second (no answer:
  /// answers are larger than queries, a flood with a forged source would be amplified).
  bool within_rate(const net::Endpoint& from, SimTime now);
  void count_client(const krpc::Message& m, std::uint64_t TrafficCounts::*field);
  TrafficCounts* client(const krpc::Message& m);

  NodeId self_;
  DhtConfig config_;
  Send send_;
  RoutingTable table_;
  std::string secret_, previous_secret_;
  SimTime next_rotation_ = -1, next_expiry_ = 0, next_refresh_ = 0;
  std::uint64_t secret_counter_ = 0;
  std::uint16_t next_transaction_ = 1;
  std::unordered_map<std::uint16_t, Outstanding> outstanding_;
  std::map<std::uint32_t, Lookup> lookups_;
  std::uint32_t next_serial_ = 1;
  std::vector<LookupResult> finished_;
  std::map<NodeId, std::map<std::uint64_t, SimTime>> store_;
  std::set<std::uint64_t> verifying_;  ///< addresses pinged before they may enter the table
  /// Addresses pinged for that lately, and when: at most one such ping per address per
  /// kVerifyAgain (two nodes whose full buckets cannot take each other would otherwise ping each
  /// other for ever, each ping being a query from a node the other does not hold).
  std::map<std::uint64_t, SimTime> verified_;
  Rng rng_;
  bool bootstrapped_ = false;
  bool refresh_far_buckets_ = false;  ///< a join just ended: look into the buckets beyond the closest neighbour
  // Counters.
  std::map<std::string, std::uint64_t> drops_, queries_received_, errors_sent_;
  std::map<std::string, TrafficCounts> clients_;
  std::unordered_map<std::uint64_t, int> queries_this_second_;  ///< per source (at most 4096; others share one)
  SimTime rate_window_ = 0;
  std::uint64_t dropped_ = 0, received_ = 0, sent_ = 0, responses_received_ = 0, timeouts_ = 0, bad_tokens_ = 0;
};

/// An IPv4 address and port packed in 64 bits (the routing table's opaque address).
inline std::uint64_t pack(const net::Endpoint& e) { return (std::uint64_t{e.ip} << 16) | e.port; }
inline net::Endpoint unpack(std::uint64_t a) {
  return net::Endpoint{static_cast<std::uint32_t>(a >> 16), static_cast<std::uint16_t>(a & 0xffff)};
}

}  // namespace p2plab::kademlia::bep5
