#include "dht.hpp"

#include <openssl/sha.h>

#include <algorithm>

namespace p2plab::kademlia::bep5 {

using krpc::Kind;
using krpc::Message;
using krpc::Method;

const char* to_string(LookupKind k) {
  switch (k) {
    case LookupKind::FindNode:
      return "find_node";
    case LookupKind::GetPeers:
      return "get_peers";
    case LookupKind::Announce:
      return "announce";
    case LookupKind::Bootstrap:
      return "bootstrap";
    case LookupKind::Ping:
      return "ping";
  }
  return "?";
}

namespace {

std::string sha1(const std::string& bytes) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), SHA_DIGEST_LENGTH);
}

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// The client of a message: "v"'s first two letters (BEP 20), "--" when it names none.
std::string client_of(const Message& m) {
  if (m.version.size() < 2) return "--";
  std::string c = m.version.substr(0, 2);
  for (char& ch : c) {
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))) ch = '?';
  }
  return c;
}

constexpr std::size_t kMaxClients = 32;  // distinct client names counted; the others as "??"
// BEP 5: a node heard from within 15 minutes is "good" (a full bucket does not ping it).
constexpr SimTime kGoodFor = from_ms(std::int64_t{15 * 60 * 1000});
constexpr SimTime kVerifyAgain = kGoodFor;  // a querier pinged for admission at most this often
constexpr std::size_t kMaxVerified = 65536;
constexpr std::size_t kRateSources = 4096;  // sources counted one by one; the others share one count

}  // namespace

Dht::Dht(const NodeId& self, const DhtConfig& config, Send send, const std::string& secret_seed, std::uint64_t seed)
    : self_(self),
      config_(config),
      send_(std::move(send)),
      table_(krpc::to_id(self), RoutingTableConfig{160, config.k, config.k, config.stale_after, kGoodFor}),
      rng_(Rng::derive(seed, 5)) {
  secret_ = sha1(secret_seed + "0");
  previous_secret_ = secret_;
}

// ---- input ----

void Dht::receive(std::string_view datagram, const net::Endpoint& from, SimTime now) {
  ++received_;
  Message m;
  krpc::Drop why{};
  bencode::Error berr = bencode::Error::None;
  if (!krpc::decode(datagram, m, why, &berr)) {
    // A query whose transaction id was readable gets BEP 5's error; it is not applied either.
    if ((why == krpc::Drop::BadQuery || why == krpc::Drop::UnknownMethod) && within_rate(from, now)) {
      ++queries_received_[why == krpc::Drop::UnknownMethod ? "other" : "malformed"];
      send_error(m.transaction, why == krpc::Drop::UnknownMethod ? krpc::kMethodUnknown : krpc::kProtocolError,
                 m.error_text, from);
    }
    return count_drop(why == krpc::Drop::Bencode ? bencode::to_string(berr) : krpc::to_string(why));
  }
  if (from.ip == 0 || from.port == 0) return count_drop("bad_source_address");
  if (m.kind == Kind::Query && !within_rate(from, now)) return count_drop("rate_limited");
  switch (m.kind) {
    case Kind::Query:
      return on_query(m, from, now);
    case Kind::Response:
      return on_response(m, from, now);
    case Kind::Error:
      return on_error(m, from, now);
  }
}

void Dht::on_query(const Message& m, const net::Endpoint& from, SimTime now) {
  if (m.id == self_) return count_drop("own_id");
  ++queries_received_[krpc::to_string(m.method)];
  count_client(m, &TrafficCounts::queries);
  if (TrafficCounts* c = client(m)) ++c->queries_by_method[krpc::to_string(m.method)];
  Message r;
  r.kind = Kind::Response;
  r.transaction = m.transaction;
  r.id = self_;
  r.version = config_.version;
  switch (m.method) {
    case Method::Ping:
      break;
    case Method::FindNode:
      r.nodes = closest_nodes(m.target);
      break;
    case Method::GetPeers: {
      r.token = token(from.ip, secret_);
      // Nodes always (libtorrent's lookups go on towards the closest), peers when known.
      r.nodes = closest_nodes(m.info_hash);
      if (auto it = store_.find(m.info_hash); it != store_.end()) {
        r.values.emplace();
        // The latest announced first (they expire last).
        std::vector<std::pair<SimTime, std::uint64_t>> peers;
        for (const auto& [peer, expires] : it->second) peers.emplace_back(expires, peer);
        std::sort(peers.rbegin(), peers.rend());
        for (std::size_t i = 0; i < peers.size() && i < config_.max_values_reply; ++i)
          r.values->push_back(unpack(peers[i].second));
      }
      break;
    }
    case Method::AnnouncePeer: {
      if (m.token != token(from.ip, secret_) && m.token != token(from.ip, previous_secret_)) {
        ++bad_tokens_;
        return send_error(m.transaction, krpc::kProtocolError, "bad token", from);
      }
      const net::Endpoint peer{from.ip, static_cast<std::uint16_t>(m.implied_port ? from.port : m.port)};
      auto it = store_.find(m.info_hash);
      if (it == store_.end()) {
        if (store_.size() >= config_.max_hashes)
          return send_error(m.transaction, krpc::kServerError, "store full", from);
        it = store_.emplace(m.info_hash, std::map<std::uint64_t, SimTime>{}).first;
      }
      auto& peers = it->second;
      if (peers.count(pack(peer)) == 0 && peers.size() >= config_.max_peers_per_hash) {
        // Full: the peer that would expire first makes room.
        auto oldest = std::min_element(peers.begin(), peers.end(),
                                       [](const auto& a, const auto& b) { return a.second < b.second; });
        peers.erase(oldest);
      }
      peers[pack(peer)] = now + config_.peer_ttl;
      break;
    }
    case Method::Count:
      break;
  }
  reply(r, from);
  // The querier enters the routing table once it has answered a query of ours (a "good" node);
  // a read-only node (BEP 43) never does.
  if (m.read_only) return;
  const BucketEntry* known = table_.find(krpc::to_id(m.id));
  if (known && known->contact.address == pack(from)) {
    heard(NodeInfo{m.id, from}, now);
  } else if (!known) {
    verify(NodeInfo{m.id, from}, now);
  }
}

void Dht::on_response(const Message& m, const net::Endpoint& from, SimTime now) {
  ++responses_received_;
  count_client(m, &TrafficCounts::responses);
  std::uint16_t t = 0;
  if (m.transaction.size() == 2)
    t = static_cast<std::uint16_t>((static_cast<std::uint8_t>(m.transaction[0]) << 8) |
                                   static_cast<std::uint8_t>(m.transaction[1]));
  auto it = outstanding_.find(t);
  if (m.transaction.size() != 2 || it == outstanding_.end()) return count_drop("unexpected_response");
  if (it->second.to != from) return count_drop("response_from_other_address");
  // A node answering with this node's id is lying (or is this node): the query times out.
  if (m.id == self_) return count_drop("own_id");
  const Outstanding o = it->second;
  outstanding_.erase(it);
  const NodeInfo node{m.id, from};
  heard(node, now);
  switch (o.purpose) {
    case Purpose::Verify:
      verifying_.erase(pack(from));
      return;
    case Purpose::Oldest:
      if (o.expected) table_.ping_answered(krpc::to_id(*o.expected), now);
      return;
    case Purpose::Ping:
    case Purpose::Lookup:
    case Purpose::Announce:
      break;
  }
  auto l = lookups_.find(o.lookup);
  if (l == lookups_.end()) return;
  Lookup& lookup = l->second;
  --lookup.in_flight;
  if (o.purpose == Purpose::Ping) {
    lookup.result.closest = {node};
    lookup.result.ok = true;
    return finish(l->first, lookup, now);
  }
  if (o.purpose == Purpose::Announce) {
    ++lookup.result.announce_ok;
    lookup.result.accepted_by.push_back(node);
    return step(l->first, lookup, now);
  }
  // A lookup's answer: the node is done; what it suggests is one round further.
  auto c = std::find_if(lookup.candidates.begin(), lookup.candidates.end(),
                        [&](const Candidate& x) { return x.node.id == m.id; });
  int round = 1;
  if (c == lookup.candidates.end() && !o.expected) {  // the bootstrap address (its id unknown until now)
    add_candidate(lookup, node, 1);
    c = std::find_if(lookup.candidates.begin(), lookup.candidates.end(),
                     [&](const Candidate& x) { return x.node.id == m.id; });
  }
  if (c != lookup.candidates.end()) {
    c->state = State::Answered;
    c->node.address = from;
    c->token = m.token;
    round = c->round;
  }
  lookup.result.rounds = std::max(lookup.result.rounds, round);
  if (m.nodes) {
    for (const NodeInfo& n : *m.nodes) add_candidate(lookup, n, round + 1);
  }
  if (m.values && !m.values->empty()) {
    if (lookup.result.values_from.size() < config_.k) lookup.result.values_from.push_back(node);
    for (const net::Endpoint& v : *m.values) {
      if (lookup.values_seen.size() >= config_.max_values_found) break;
      if (lookup.values_seen.insert(pack(v)).second) lookup.result.values.push_back(v);
    }
  }
  step(l->first, lookup, now);
}

void Dht::on_error(const Message& m, const net::Endpoint& from, SimTime now) {
  count_client(m, &TrafficCounts::errors);
  std::uint16_t t = 0;
  if (m.transaction.size() == 2)
    t = static_cast<std::uint16_t>((static_cast<std::uint8_t>(m.transaction[0]) << 8) |
                                   static_cast<std::uint8_t>(m.transaction[1]));
  auto it = outstanding_.find(t);
  if (m.transaction.size() != 2 || it == outstanding_.end() || it->second.to != from)
    return count_drop("unexpected_error");
  const Outstanding o = it->second;
  outstanding_.erase(it);
  if (o.purpose == Purpose::Verify) verifying_.erase(pack(from));
  auto l = lookups_.find(o.lookup);
  if (o.purpose == Purpose::Verify || o.purpose == Purpose::Oldest || l == lookups_.end()) return;
  Lookup& lookup = l->second;
  --lookup.in_flight;
  if (o.purpose == Purpose::Announce) {
    if (lookup.result.announce_errors.size() < 8)
      lookup.result.announce_errors.push_back(std::to_string(m.error_code) + " " + m.error_text);
  } else if (o.expected) {
    for (Candidate& c : lookup.candidates) {
      if (c.node.id == *o.expected) c.state = State::Failed;
    }
  }
  if (o.purpose == Purpose::Ping) return finish(l->first, lookup, now);
  step(l->first, lookup, now);
}

void Dht::tick(SimTime now) {
  if (next_rotation_ < 0) next_rotation_ = now + config_.token_period;
  if (now >= next_rotation_) {
    previous_secret_ = secret_;
    secret_ = sha1(secret_ + std::to_string(++secret_counter_));
    next_rotation_ = now + config_.token_period;
  }
  // Queries unanswered in time.
  std::vector<std::uint16_t> expired;
  for (const auto& [t, o] : outstanding_) {
    if (now >= o.deadline) expired.push_back(t);
  }
  std::sort(expired.begin(), expired.end());  // the same order on every run
  for (std::uint16_t t : expired) {
    const Outstanding o = outstanding_.at(t);
    outstanding_.erase(t);
    ++timeouts_;
    if (o.purpose == Purpose::Verify) {
      verifying_.erase(pack(o.to));
      continue;
    }
    if (o.purpose == Purpose::Oldest) {
      if (o.expected) table_.ping_failed(krpc::to_id(*o.expected));
      continue;
    }
    if (o.expected) failed(*o.expected);
    auto l = lookups_.find(o.lookup);
    if (l == lookups_.end()) continue;
    Lookup& lookup = l->second;
    --lookup.in_flight;
    ++lookup.result.timeouts;
    if (o.purpose == Purpose::Ping) {
      finish(l->first, lookup, now);
      continue;
    }
    if (o.expected) {
      for (Candidate& c : lookup.candidates) {
        if (c.node.id == *o.expected && c.state == State::Asked) c.state = State::Failed;
      }
    }
    step(l->first, lookup, now);
  }
  // Lookups waiting for room to send (too many queries were in flight).
  std::vector<std::uint32_t> serials;
  for (const auto& [serial, l] : lookups_) serials.push_back(serial);
  for (std::uint32_t serial : serials) {
    auto l = lookups_.find(serial);
    if (l != lookups_.end() && l->second.in_flight == 0) step(serial, l->second, now);
  }
  // Announced peers expire; verified addresses are forgotten.
  if (now >= next_expiry_) {
    next_expiry_ = now + from_ms(std::int64_t{1000});
    for (auto it = verified_.begin(); it != verified_.end();)
      it = now >= it->second + kVerifyAgain ? verified_.erase(it) : std::next(it);
    for (auto it = store_.begin(); it != store_.end();) {
      for (auto p = it->second.begin(); p != it->second.end();)
        p = p->second <= now ? it->second.erase(p) : std::next(p);
      it = it->second.empty() ? store_.erase(it) : std::next(it);
    }
  }
  // After a join: one lookup per bucket beyond the closest neighbour's (paper, section 2.3).
  if (refresh_far_buckets_) {
    refresh_far_buckets_ = false;
    for (int i = table_.lowest_nonempty() + 1; i < table_.bucket_count(); ++i) find_node(random_id_in_bucket(i), now);
  }
  // Refresh: a lookup of its own id and of a random one, when the table holds anyone.
  if (next_refresh_ == 0) next_refresh_ = now + config_.refresh;
  if (now >= next_refresh_) {
    next_refresh_ = now + config_.refresh;
    if (table_.size() > 0) {
      find_node(self_, now);
      NodeId random{};
      for (auto& b : random) b = static_cast<std::uint8_t>(rng_.next_u64());
      find_node(random, now);
    }
  }
}

// ---- operations ----

std::uint32_t Dht::start(LookupKind kind, const NodeId& target, SimTime now) {
  if (lookups_.size() >= config_.max_lookups) return 0;
  const std::uint32_t serial = next_serial_++;
  Lookup& l = lookups_[serial];
  l.result.serial = serial;
  l.result.kind = kind;
  l.result.target = target;
  l.result.started = now;
  l.target = krpc::to_id(target);
  for (const Contact& c : table_.closest(l.target, config_.k)) {
    add_candidate(l, NodeInfo{krpc::from_id(c.id), unpack(c.address)}, 1);
  }
  return serial;
}

std::uint32_t Dht::bootstrap(const net::Endpoint& via, SimTime now) {
  const std::uint32_t serial = start(LookupKind::Bootstrap, self_, now);
  if (serial == 0) return 0;
  Lookup& l = lookups_.at(serial);
  Message q;
  q.method = Method::FindNode;
  q.target = self_;
  if (query(q, via, Purpose::Lookup, serial, std::nullopt, now)) {
    ++l.in_flight;
    ++l.result.rpcs;
  }
  step(serial, l, now);
  return serial;
}

std::uint32_t Dht::find_node(const NodeId& target, SimTime now) {
  const std::uint32_t serial = start(LookupKind::FindNode, target, now);
  if (serial != 0) step(serial, lookups_.at(serial), now);
  return serial;
}

std::uint32_t Dht::get_peers(const NodeId& info_hash, SimTime now) {
  const std::uint32_t serial = start(LookupKind::GetPeers, info_hash, now);
  if (serial != 0) step(serial, lookups_.at(serial), now);
  return serial;
}

std::uint32_t Dht::announce(const NodeId& info_hash, int port, SimTime now) {
  const std::uint32_t serial = start(LookupKind::Announce, info_hash, now);
  if (serial == 0) return 0;
  lookups_.at(serial).port = port;
  step(serial, lookups_.at(serial), now);
  return serial;
}

std::uint32_t Dht::ping(const net::Endpoint& to, SimTime now) {
  if (lookups_.size() >= config_.max_lookups) return 0;
  const std::uint32_t serial = next_serial_++;
  Lookup& l = lookups_[serial];
  l.result.serial = serial;
  l.result.kind = LookupKind::Ping;
  l.result.started = now;
  Message q;
  q.method = Method::Ping;
  if (!query(q, to, Purpose::Ping, serial, std::nullopt, now)) {
    finish(serial, l, now);
    return serial;
  }
  ++l.in_flight;
  ++l.result.rpcs;
  return serial;
}

std::vector<LookupResult> Dht::take_finished() { return std::exchange(finished_, {}); }

// ---- lookups ----

void Dht::add_candidate(Lookup& l, const NodeInfo& n, int round) {
  if (n.id == self_ || n.address.ip == 0 || n.address.port == 0) return;
  for (const Candidate& c : l.candidates) {
    if (c.node.id == n.id) return;
  }
  Candidate c;
  c.node = n;
  c.distance = xor_distance(krpc::to_id(n.id), l.target);
  c.round = round;
  auto at = std::upper_bound(l.candidates.begin(), l.candidates.end(), c.distance,
                             [](const Id& d, const Candidate& x) { return d < x.distance; });
  l.candidates.insert(at, c);
  if (l.candidates.size() > config_.max_candidates) l.candidates.pop_back();
}

void Dht::step(std::uint32_t serial, Lookup& l, SimTime now) {
  if (l.announcing) {
    if (l.in_flight == 0) finish(serial, l, now);
    return;
  }
  // Among the k closest not known to have failed: ask the fresh ones, alpha at a time.
  std::size_t seen = 0;
  bool open = false;
  for (Candidate& c : l.candidates) {
    if (c.state == State::Failed) continue;
    if (seen++ >= config_.k) break;
    if (c.state == State::Asked) open = true;
    if (c.state != State::Fresh) continue;
    open = true;
    if (l.in_flight >= config_.alpha) continue;
    Message q;
    if (l.result.kind == LookupKind::FindNode || l.result.kind == LookupKind::Bootstrap) {
      q.method = Method::FindNode;
      q.target = l.result.target;
    } else {
      q.method = Method::GetPeers;
      q.info_hash = l.result.target;
    }
    if (!query(q, c.node.address, Purpose::Lookup, serial, c.node.id, now)) break;  // tick tries again
    c.state = State::Asked;
    ++l.in_flight;
    ++l.result.rpcs;
  }
  if (open || l.in_flight > 0) return;
  if (l.result.kind != LookupKind::Announce) return finish(serial, l, now);
  // The k closest that answered, each with the token it gave.
  l.announcing = true;
  std::size_t asked = 0;
  for (const Candidate& c : l.candidates) {
    if (asked >= config_.k) break;
    if (c.state != State::Answered || !c.token) continue;
    ++asked;
    Message q;
    q.method = Method::AnnouncePeer;
    q.info_hash = l.result.target;
    q.port = l.port;
    q.implied_port = l.port == 0;
    q.token = c.token;
    if (query(q, c.node.address, Purpose::Announce, serial, c.node.id, now)) {
      ++l.in_flight;
      ++l.result.rpcs;
      ++l.result.announced;
    }
  }
  if (l.in_flight == 0) finish(serial, l, now);
}

void Dht::finish(std::uint32_t serial, Lookup& l, SimTime now) {
  LookupResult r = std::move(l.result);
  r.finished = now;
  if (r.kind != LookupKind::Ping) {
    for (const Candidate& c : l.candidates) {
      if (r.closest.size() >= config_.k) break;
      if (c.state == State::Answered) r.closest.push_back(c.node);
    }
    r.ok = !r.closest.empty();
  }
  if (r.kind == LookupKind::Bootstrap && r.ok) {
    bootstrapped_ = true;
    refresh_far_buckets_ = true;  // in tick(): not while a lookup is being finished
  }
  // Queries of this lookup still in flight are answered into nothing.
  for (auto& [t, o] : outstanding_) {
    if (o.lookup == serial) o.lookup = 0;
  }
  finished_.push_back(std::move(r));
  lookups_.erase(serial);
}

// ---- sending and the table ----

bool Dht::query(Message m, const net::Endpoint& to, Purpose purpose, std::uint32_t lookup,
                std::optional<NodeId> expected, SimTime now) {
  if (outstanding_.size() >= config_.max_in_flight) return false;
  // A transaction id not in use (ids wrap after 65535 queries).
  while (next_transaction_ == 0 || outstanding_.count(next_transaction_) != 0) ++next_transaction_;
  const std::uint16_t t = next_transaction_++;
  m.kind = Kind::Query;
  m.transaction = std::string{static_cast<char>(t >> 8), static_cast<char>(t & 0xff)};
  m.id = self_;
  m.version = config_.version;
  outstanding_[t] = Outstanding{to, m.method, purpose, lookup, expected, now + config_.rpc_timeout};
  send_(to, krpc::encode(m));
  ++sent_;
  return true;
}

void Dht::reply(const Message& m, const net::Endpoint& to) {
  send_(to, krpc::encode(m));
  ++sent_;
}

void Dht::send_error(const std::string& transaction, int code, const std::string& text, const net::Endpoint& to) {
  ++errors_sent_[std::to_string(code)];
  Message e = krpc::error_reply(transaction, code, text);
  e.version = config_.version;
  reply(e, to);
}

void Dht::heard(const NodeInfo& node, SimTime now) {
  const HeardResult r = table_.heard_from(Contact{krpc::to_id(node.id), pack(node.address)}, now);
  if (r.ping_oldest) {
    Message q;
    q.method = Method::Ping;
    query(q, unpack(r.ping_oldest->address), Purpose::Oldest, 0, krpc::from_id(r.ping_oldest->id), now);
  }
}

void Dht::failed(const NodeId& id) {
  if (table_.contains(krpc::to_id(id))) table_.rpc_failed(krpc::to_id(id));
}

void Dht::verify(const NodeInfo& node, SimTime now) {
  // At most half the queries in flight verify newcomers: a flood of queriers cannot starve lookups.
  const std::uint64_t address = pack(node.address);
  if (verifying_.count(address) != 0 || outstanding_.size() >= config_.max_in_flight / 2) return;
  if (auto it = verified_.find(address); it != verified_.end() && now < it->second + kVerifyAgain) return;
  if (verified_.size() >= kMaxVerified) return;  // tick() forgets the old ones
  Message q;
  q.method = Method::Ping;
  if (query(q, node.address, Purpose::Verify, 0, node.id, now)) {
    verifying_.insert(address);
    verified_[address] = now;
  }
}

std::vector<NodeInfo> Dht::closest_nodes(const NodeId& target) const {
  std::vector<NodeInfo> out;
  for (const Contact& c : table_.closest(krpc::to_id(target), config_.k))
    out.push_back(NodeInfo{krpc::from_id(c.id), unpack(c.address)});
  return out;
}

NodeId Dht::random_id_in_bucket(int i) {
  NodeId id = self_;
  for (int bit = 0; bit <= i; ++bit) {
    const bool flip = bit == i || (rng_.next_u64() & 1) != 0;  // bit i differs, the ones below at random
    if (flip) id[19 - bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
  }
  return id;
}

std::string Dht::token(std::uint32_t ip, const std::string& secret) const {
  return sha1(secret + be32(ip)).substr(0, 8);
}

std::string Dht::token_for(std::uint32_t ip) const { return token(ip, secret_); }

std::size_t Dht::stored_peers() const {
  std::size_t n = 0;
  for (const auto& [hash, peers] : store_) n += peers.size();
  return n;
}

bool Dht::within_rate(const net::Endpoint& from, SimTime now) {
  if (now >= rate_window_) {
    queries_this_second_.clear();
    rate_window_ = now + from_ms(std::int64_t{1000});
  }
  std::uint64_t key = pack(from);
  if (queries_this_second_.size() >= kRateSources && queries_this_second_.count(key) == 0) key = 0;
  return ++queries_this_second_[key] <= config_.max_queries_per_s;
}

void Dht::count_drop(const std::string& reason) {
  ++dropped_;
  ++drops_[reason];
}

TrafficCounts* Dht::client(const Message& m) {
  std::string name = client_of(m);
  if (clients_.count(name) == 0 && clients_.size() >= kMaxClients) name = "??";
  return &clients_[name];
}

void Dht::count_client(const Message& m, std::uint64_t TrafficCounts::*field) { ++(client(m)->*field); }

}  // namespace p2plab::kademlia::bep5
