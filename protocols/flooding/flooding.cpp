// Gnutella 0.4 flooding: every rule of the protocol is here. See README.md.
#include "flooding.hpp"

#include <algorithm>
#include <optional>
#include <span>

#include "p2plab/json_util.hpp"

namespace p2plab::flooding {

const char* to_string(MsgType type) {
  static const char* const names[] = {"PING",  "PONG",     "CONNECT",  "CONNECT_OK",  "CONNECT_REFUSED",
                                      "QUERY", "QUERYHIT", "DOWNLOAD", "DOWNLOAD_OK", "BYE"};
  const auto i = static_cast<std::size_t>(type);
  return i < std::size(names) ? names[i] : "?";
}

Params Protocol::parse_params(const Scenario& scenario) {
  Params p;
  if (!scenario.doc.contains("params")) return p;
  const JsonObject o(scenario.doc.at("params"), scenario.file, "params");
  o.only_keys({"ttl", "degree", "max_degree", "collect_ms", "timeout_ms", "keepalive_ms"});
  p.ttl = static_cast<int>(o.get_int("ttl", 7, 1, 255));
  p.degree = static_cast<int>(o.get_int("degree", 4, 1, 1000));
  p.max_degree = static_cast<int>(o.get_int("max_degree", 2 * p.degree, p.degree, 10000));
  read_times(o, p);
  return p;
}

Protocol::Protocol(Params params, Transport<Message>& transport, search::Context context)
    : SearchProtocol(params, transport, context) {}

nlohmann::json Protocol::params_json() const {
  nlohmann::json out = {{"ttl", params_.ttl}, {"degree", params_.degree}, {"max_degree", params_.max_degree}};
  out.update(times_json());
  return out;
}

std::string Protocol::set_param(const std::string& name, double value) { return set_ttl_or_collect(name, value); }

TraceVocabulary Protocol::vocabulary() const {
  return vocabulary_with({"collect", "download_timeout", "connect_phase", "keepalive", "keepalive_check"});
}

bool Protocol::connected(PeerIndex a, PeerIndex b) const {
  if (a >= peers_.size()) return false;
  const auto& n = peers_[a].neighbors;
  return std::find(n.begin(), n.end(), b) != n.end();
}

void Protocol::link(PeerIndex a, PeerIndex b) {
  if (a == b || connected(a, b)) return;
  peer(a).neighbors.push_back(b);
  peer(b).neighbors.push_back(a);
}

void Protocol::unlink(PeerIndex a, PeerIndex b) {
  auto drop = [this](PeerIndex x, PeerIndex y) {
    auto& n = peer(x).neighbors;
    n.erase(std::remove(n.begin(), n.end(), y), n.end());
  };
  drop(a, b);
  drop(b, a);
}

void Protocol::bootstrap(const std::vector<PeerIndex>& peers) {
  // A random overlay as the join protocol builds it: each peer in turn picks random partners
  // until it has `degree` of them, among peers that still accept (fewer than max_degree).
  for (PeerIndex p : peers) peer(p);
  if (peers.size() < 2) return;
  for (PeerIndex p : peers) {
    Rng& rng = transport_.rng(p);
    int attempts = 0;
    while (static_cast<int>(peers_[p].neighbors.size()) < params_.degree && attempts++ < 20 * params_.degree) {
      const PeerIndex q = peers[rng.below(peers.size())];
      if (q == p || connected(p, q) || static_cast<int>(peers_[q].neighbors.size()) >= params_.max_degree) continue;
      link(p, q);
    }
  }
  for (PeerIndex p : peers) start_keepalive(p, kKeepalive);
}

void Protocol::join(PeerIndex p, PeerIndex via) {
  peer(p);
  if (params_.keepalive > 0) transport_.set_timer(p, params_.keepalive, kKeepalive, 0);
  if (via == kNoPeer) return;  // the first peer: nobody to know yet
  discover(p, via);
}

void Protocol::discover(PeerIndex self, PeerIndex via) {
  // PING with TTL 2 through a known peer: it and its neighbours answer with PONG; after the
  // timeout the newcomer connects to some of them.
  Peer& me = peer(self);
  me.candidates.clear();
  me.candidates.push_back(via);
  ++me.round;
  Message m;
  m.type = MsgType::Ping;
  m.ttl = 2;
  m.node = self;
  m.round = me.round;
  send(self, via, m);
  transport_.set_timer(self, params_.timeout, kConnectPhase, me.round);
}

void Protocol::leave(PeerIndex p) {
  Message m;
  m.type = MsgType::Bye;
  for (PeerIndex n : peer(p).neighbors) send(p, n, m);
  const auto neighbors = peer(p).neighbors;
  for (PeerIndex n : neighbors) unlink(p, n);
}

void Protocol::search(PeerIndex from, NameIndex name, QueryIndex q, int ttl) {
  // The requester marks its own GUID: copies coming back are dropped, hits for it stop here.
  Peer& me = peer(from);
  me.cache.first_time(q);
  logic::remember_route(me.routes, q, from);
  downloads_.open(q);
  Message m;
  m.type = MsgType::Query;
  m.ttl = static_cast<std::uint8_t>(ttl > 0 ? ttl : params_.ttl);
  m.hops = 1;
  m.query = q;
  m.name = name;
  flood(from, kNoPeer, m);
  transport_.set_timer(from, params_.collect, kCollect, q);
}

void Protocol::forget_query(PeerIndex p, QueryIndex q) {
  Peer& me = peer(p);
  me.cache.forget(q);
  me.routes.erase(q);
  if (q < copies_.size()) copies_[q] = 0;
  downloads_.forget(q);
}

void Protocol::mark_peers_in_use(PeerIndex p, std::vector<std::uint8_t>& mark) const {
  if (p >= peers_.size()) return;
  auto use = [&](PeerIndex x) {
    if (x != kNoPeer && x < mark.size()) mark[x] = 1;
  };
  const Peer& me = peers_[p];
  for (PeerIndex x : me.neighbors) use(x);
  for (PeerIndex x : me.candidates) use(x);
  for (PeerIndex x : me.awaiting) use(x);
  downloads_.mark_providers(mark);
}

void Protocol::flood(PeerIndex self, PeerIndex came_from, const Message& copy) {
  const std::vector<PeerIndex>& neighbors = peers_[self].neighbors;
  targets_.resize(std::max(targets_.size(), neighbors.size()));
  const std::span<PeerIndex> out(targets_.data(), neighbors.size());
  const std::size_t count = std::min(logic::forward_targets(neighbors, came_from, out), out.size());
  // Safety net for broken solutions (a TTL that never runs out and a GUID cache that forgets):
  // a correct flood sends each peer's copies at most once, so it never reaches this budget.
  const std::uint64_t budget =
      2 * static_cast<std::uint64_t>(peers_.size()) * static_cast<std::uint64_t>(params_.max_degree + 1);
  if (copy.query >= copies_.size()) copies_.resize(std::max<std::size_t>(copy.query + 1, 2 * copies_.size()), 0);
  for (std::size_t i = 0; i < count; ++i) {
    const PeerIndex n = out[i];
    if (!connected(self, n) || copies_[copy.query] >= budget) continue;  // only neighbours get copies
    ++copies_[copy.query];
    send(self, n, copy, copy.query);
  }
}

void Protocol::try_download(PeerIndex self, QueryIndex q) { download_from_current(self, q, kDownloadTimeout); }

void Protocol::on_message(PeerIndex self, PeerIndex from, const Message& msg) {
  Peer& me = peer(self);
  switch (msg.type) {
    case MsgType::Ping: {
      Message pong;
      pong.type = MsgType::Pong;
      pong.node = self;
      pong.round = msg.round;
      if (msg.node != self) send(self, msg.node, pong);
      if (msg.ttl > 1) {
        Message fwd = msg;
        fwd.ttl = static_cast<std::uint8_t>(msg.ttl - 1);
        for (PeerIndex n : me.neighbors) {
          if (n != from && n != msg.node) send(self, n, fwd);
        }
      }
      return;
    }
    case MsgType::Pong:
      if (msg.round == me.round) {
        if (std::find(me.candidates.begin(), me.candidates.end(), msg.node) == me.candidates.end()) {
          me.candidates.push_back(msg.node);
        }
        me.awaiting.erase(std::remove(me.awaiting.begin(), me.awaiting.end(), from), me.awaiting.end());
      }
      return;
    case MsgType::Connect: {
      Message reply;
      const bool accept = static_cast<int>(me.neighbors.size()) < params_.max_degree || connected(self, from);
      reply.type = accept ? MsgType::ConnectOk : MsgType::ConnectRefused;
      if (accept) link(self, from);
      send(self, from, reply);
      return;
    }
    case MsgType::ConnectOk:
      link(self, from);
      return;
    case MsgType::ConnectRefused:
      return;
    case MsgType::Bye:
      unlink(self, from);
      if (static_cast<int>(me.neighbors.size()) < params_.degree && !me.neighbors.empty()) {
        discover(self, me.neighbors[transport_.rng(self).below(me.neighbors.size())]);
      }
      return;
    case MsgType::Query: {
      if (msg.query == search::kNoQuery) return;
      if (!me.cache.first_time(msg.query)) {
        context_.log->duplicate(msg.query);  // seen this GUID before: drop, never forward twice
        context_.log->hop(msg.query, from, self, msg.hops, true, transport_.now());
        return;
      }
      logic::remember_route(me.routes, msg.query, from);
      context_.log->reached(msg.query, self);
      context_.log->hop(msg.query, from, self, msg.hops, false, transport_.now());
      if (context_.has_match(self, msg.name)) {
        Message hit;
        hit.type = MsgType::QueryHit;
        hit.query = msg.query;
        hit.node = self;
        hit.hops = msg.hops;
        send(self, from, hit, msg.query);
      }
      // The hop limit: a QUERY that has travelled 255 hops goes no further, whatever the TTL.
      if (msg.hops >= kMaxHops) return;
      if (const std::optional<QueryHeader> next = logic::forward({msg.ttl, msg.hops})) {
        Message fwd = msg;
        fwd.ttl = next->ttl;
        fwd.hops = next->hops;
        flood(self, from, fwd);
      }
      return;
    }
    case MsgType::QueryHit: {
      if (msg.query == search::kNoQuery) return;
      const PeerIndex next = logic::reverse_path_next(me.routes, msg.query);
      if (next == kNoPeer || next >= peers_.size()) return;  // no reverse path known: the hit is lost
      // The hit's TTL field counts its steps back (0 when the holder sent it).
      context_.log->hop(msg.query, from, self, msg.ttl + 1, false, transport_.now(), search::kAnswerHop);
      if (next == self) {
        if (!downloads_.collecting(msg.query)) return;
        downloads_.add(msg.query, {msg.hops, msg.node, kNoPeer});
        context_.log->hit(msg.query, msg.node, msg.hops);
      } else if (msg.ttl < kMaxHops) {
        // One step back along the query's path. A hit carries the steps it has taken back in
        // its TTL field, so that a broken route table cannot pass it round in circles forever.
        Message back = msg;
        back.ttl = static_cast<std::uint8_t>(msg.ttl + 1);
        send(self, next, back, msg.query);
      }
      return;
    }
    case MsgType::Download:
      answer_download(self, from, msg.query);
      return;
    case MsgType::DownloadOk: {
      download_done(msg.query, from, kNoPeer);
      return;
    }
    case MsgType::Count:
      return;
  }
}

void Protocol::on_timer(PeerIndex self, std::uint16_t kind, std::uint32_t cookie) {
  Peer& me = peer(self);
  switch (kind) {
    case kCollect: {
      // Hits are in: take the best (fewest hops, then lowest id) and connect to the provider.
      if (!downloads_.active(cookie)) return;
      downloads_.stop_collecting(cookie);
      try_download(self, cookie);
      return;
    }
    case kDownloadTimeout:
      if (!downloads_.active(cookie)) return;
      downloads_.skip(cookie);
      try_download(self, cookie);
      return;
    case kConnectPhase: {
      if (cookie != me.round) return;
      // Connect to random candidates until the target degree is reached.
      Rng& rng = transport_.rng(self);
      auto candidates = me.candidates;
      int wanted = params_.degree - static_cast<int>(me.neighbors.size());
      while (wanted > 0 && !candidates.empty()) {
        const std::size_t i = rng.below(candidates.size());
        const PeerIndex c = candidates[i];
        candidates.erase(candidates.begin() + static_cast<std::ptrdiff_t>(i));
        if (c == self || connected(self, c)) continue;
        Message m;
        m.type = MsgType::Connect;
        send(self, c, m);
        --wanted;
      }
      return;
    }
    case kKeepalive: {
      // PING every neighbour (TTL 1); those that stay silent are gone and get replaced.
      ++me.round;
      me.candidates.clear();
      me.awaiting = me.neighbors;
      Message m;
      m.type = MsgType::Ping;
      m.ttl = 1;
      m.node = self;
      m.round = me.round;
      for (PeerIndex n : me.neighbors) send(self, n, m);
      transport_.set_timer(self, params_.timeout, kKeepaliveCheck, me.round);
      transport_.set_timer(self, params_.keepalive, kKeepalive, 0);
      return;
    }
    case kKeepaliveCheck: {
      if (cookie != me.round) return;
      const auto silent = me.awaiting;
      for (PeerIndex n : silent) unlink(self, n);
      me.awaiting.clear();
      if (static_cast<int>(me.neighbors.size()) < params_.degree && !me.neighbors.empty()) {
        discover(self, me.neighbors[transport_.rng(self).below(me.neighbors.size())]);
      }
      return;
    }
    default:
      return;
  }
}

PeerView Protocol::inspect_links(PeerIndex p) const {
  PeerView v;
  v.role = kPeerRole;
  for (PeerIndex q : neighbors(p)) v.links.push_back({kNeighborLink, 0, q});
  return v;
}

PeerView Protocol::inspect(PeerIndex p) const {
  PeerView v = inspect_links(p);
  TableView n;
  n.title = "Neighbours";
  n.help = "The peers this one floods queries to (and accepts them from).";
  n.columns = {"neighbour"};
  for (std::size_t k = 0; k < v.links.size(); ++k) {
    const PeerIndex q = v.links[k].target;
    n.rows.push_back({{Cell::of_peer(q, transport_.id_of(q).to_decimal())}, static_cast<int>(k)});
  }
  v.tables.push_back(std::move(n));
  TableView cache;
  cache.title = "GUID cache (query -> came from)";
  cache.help = "Queries seen recently and the neighbour each came from: duplicates are dropped, hits go back this way.";
  cache.columns = {"query", "from"};
  if (p < peers_.size()) {
    std::vector<std::pair<QueryIndex, PeerIndex>> entries = peers_[p].routes.entries();
    std::sort(entries.begin(), entries.end());
    for (const auto& [q, from] : entries) {
      const Cell came_from = from == p              ? Cell::of_text("(own query)")
                             : from < peers_.size() ? Cell::of_peer(from, transport_.id_of(from).to_decimal())
                                                    : Cell::of_text("?");
      cache.rows.push_back({{Cell::of_number(q), came_from}, -1});
    }
  }
  v.tables.push_back(std::move(cache));
  return v;
}

}  // namespace p2plab::flooding
