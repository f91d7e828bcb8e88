// Gnutella 0.6 / Skype superpeers: every rule of the protocol is here. See README.md.
#include "superpeer.hpp"

#include <algorithm>
#include <cmath>
#include <span>
#include <tuple>

#include "p2plab/json_util.hpp"

namespace p2plab::superpeer {

const char* to_string(MsgType type) {
  static const char* const names[] = {
      "HELLO_SUPERPEERS", "SUPERPEER_LIST", "ATTACH", "ATTACH_OK", "ATTACH_REFUSED", "ANNOUNCE",
      "CONNECT",          "CONNECT_OK",     "PING",   "PONG",      "QUERY",          "QUERYHIT",
      "DOWNLOAD",         "DOWNLOAD_OK",    "BYE"};
  const auto i = static_cast<std::size_t>(type);
  return i < std::size(names) ? names[i] : "?";
}

Params Protocol::parse_params(const Scenario& scenario) {
  Params p;
  if (!scenario.doc.contains("params")) return p;
  const JsonObject o(scenario.doc.at("params"), scenario.file, "params");
  o.only_keys({"superpeer_ratio", "min_bandwidth_kbps", "min_uptime_h", "leaves_per_superpeer", "superpeers_per_leaf",
               "degree", "ttl", "relay", "collect_ms", "timeout_ms", "keepalive_ms"});
  p.superpeer_ratio = o.get_number("superpeer_ratio", 0.1, 0.0001, 1.0);
  p.min_bandwidth_kbps = o.get_number("min_bandwidth_kbps", 256.0, 0.0, 1e9);
  p.min_uptime_h = o.get_number("min_uptime_h", 0.0, 0.0, 1e6);
  p.leaves_per_superpeer = static_cast<int>(o.get_int("leaves_per_superpeer", 50, 1, 100000));
  p.superpeers_per_leaf = static_cast<int>(o.get_int("superpeers_per_leaf", 2, 1, 3));
  p.degree = static_cast<int>(o.get_int("degree", 4, 1, 1000));
  p.ttl = static_cast<int>(o.get_int("ttl", 4, 1, 255));
  p.relay = o.get_bool("relay", false);
  read_times(o, p);
  return p;
}

Protocol::Protocol(Params params, Transport<Message>& transport, search::Context context)
    : SearchProtocol(params, transport, context) {}

nlohmann::json Protocol::params_json() const {
  nlohmann::json out = {{"superpeer_ratio", params_.superpeer_ratio},
                        {"min_bandwidth_kbps", params_.min_bandwidth_kbps},
                        {"min_uptime_h", params_.min_uptime_h},
                        {"leaves_per_superpeer", params_.leaves_per_superpeer},
                        {"superpeers_per_leaf", params_.superpeers_per_leaf},
                        {"degree", params_.degree},
                        {"ttl", params_.ttl},
                        {"relay", params_.relay}};
  out.update(times_json());
  return out;
}

std::string Protocol::set_param(const std::string& name, double value) { return set_ttl_or_collect(name, value); }

TraceVocabulary Protocol::vocabulary() const {
  return vocabulary_with({"collect", "download_timeout", "keepalive", "keepalive_check", "attach_phase"});
}

ElectionRules Protocol::rules() const {
  return {params_.min_bandwidth_kbps, params_.min_uptime_h, params_.superpeer_ratio};
}

bool Protocol::capable(PeerIndex p) const { return logic::superpeer_capable((*context_.capacities)[p], rules()); }

double Protocol::score(PeerIndex p) const { return logic::superpeer_score((*context_.capacities)[p]); }

bool Protocol::reachable_directly(PeerIndex from, PeerIndex to) const {
  (void)from;
  return !(*context_.capacities)[to].behind_nat;  // a peer behind NAT accepts no incoming connection
}

void Protocol::link_superpeers(PeerIndex a, PeerIndex b) {
  if (a == b) return;
  auto& na = peer(a).neighbors;
  if (std::find(na.begin(), na.end(), b) == na.end()) na.push_back(b);
  auto& nb = peer(b).neighbors;
  if (std::find(nb.begin(), nb.end(), a) == nb.end()) nb.push_back(a);
}

void Protocol::bootstrap(const std::vector<PeerIndex>& peers) {
  // The election: capable peers ranked by bandwidth x uptime; the best superpeer_ratio of all
  // peers become superpeers (at least one; if nobody is capable, the best-scored peer serves).
  for (PeerIndex p : peers) peer(p);
  std::vector<search::Capacity> capacities;
  for (PeerIndex p : peers) capacities.push_back((*context_.capacities)[p]);
  std::vector<PeerIndex> sps;
  for (std::size_t i : logic::elect_superpeers(capacities, rules())) {
    if (i >= peers.size() || peers_[peers[i]].superpeer) continue;  // not a peer, or named twice
    peers_[peers[i]].superpeer = true;
    sps.push_back(peers[i]);
  }
  // Superpeers form a random overlay among themselves.
  for (PeerIndex s : sps) {
    Rng& rng = transport_.rng(s);
    for (int attempt = 0; attempt < 20 * params_.degree &&
                          static_cast<int>(peers_[s].neighbors.size()) < params_.degree && sps.size() > 1;
         ++attempt) {
      const PeerIndex t = sps[rng.below(sps.size())];
      if (t != s && static_cast<int>(peers_[t].neighbors.size()) < 2 * params_.degree) link_superpeers(s, t);
    }
  }
  // Leaves attach to superpeers_per_leaf superpeers with room, and their tables are announced.
  for (PeerIndex p : peers) {
    if (peers_[p].superpeer || sps.empty()) continue;
    Rng& rng = transport_.rng(p);
    for (int attempt = 0; attempt < 50 && static_cast<int>(peers_[p].superpeers.size()) < params_.superpeers_per_leaf;
         ++attempt) {
      const PeerIndex s = sps[rng.below(sps.size())];
      auto& mine = peers_[p].superpeers;
      if (std::find(mine.begin(), mine.end(), s) != mine.end()) continue;
      if (static_cast<int>(peers_[s].leaves.size()) >= params_.leaves_per_superpeer) continue;
      mine.push_back(s);
      peers_[s].leaves[p];  // accepted: an empty table, filled by what the leaf announces
      const auto& shared = (*context_.shared)[p];
      names_.resize(std::max(names_.size(), shared.size()));
      const std::span<NameIndex> out(names_.data(), shared.size());
      const std::size_t count = std::min(logic::announcement(shared, out), out.size());
      for (std::size_t i = 0; i < count; ++i) logic::index_announcement(peers_[s].leaves, p, out[i]);
    }
    peers_[p].known = peers_[p].superpeers;
  }
  for (PeerIndex p : peers) start_keepalive(p, kKeepalive);
}

void Protocol::join(PeerIndex p, PeerIndex via) {
  peer(p);
  if (params_.keepalive > 0) transport_.set_timer(p, params_.keepalive, kKeepalive, 0);
  if (via == kNoPeer) {
    peers_[p].superpeer = true;  // the very first peer: someone has to be a superpeer
    return;
  }
  peers_[p].bootstrap = via;
  ask_for_superpeers(p, via);
}

void Protocol::ask_for_superpeers(PeerIndex self, PeerIndex via) {
  Peer& me = peer(self);
  ++me.round;
  Message m;
  m.type = MsgType::HelloSuperpeers;
  send(self, via, m);
  transport_.set_timer(self, params_.timeout, kAttachPhase, me.round);
}

void Protocol::become_superpeer(PeerIndex self) {
  // Promotion: the superpeers it knew (as a leaf, or from lists) become its overlay neighbours.
  Peer& me = peer(self);
  me.superpeer = true;
  std::vector<PeerIndex> candidates = me.known;
  for (PeerIndex s : me.superpeers) {
    if (std::find(candidates.begin(), candidates.end(), s) == candidates.end()) candidates.push_back(s);
  }
  me.superpeers.clear();
  connect_more(self, candidates);
}

void Protocol::connect_more(PeerIndex self, const std::vector<PeerIndex>& candidates) {
  Peer& me = peer(self);
  int wanted = params_.degree - static_cast<int>(me.neighbors.size());
  for (PeerIndex s : candidates) {
    if (wanted <= 0) break;
    if (s == self || std::find(me.neighbors.begin(), me.neighbors.end(), s) != me.neighbors.end()) continue;
    Message c;
    c.type = MsgType::Connect;
    send(self, s, c);
    --wanted;
  }
}

void Protocol::attach(PeerIndex leaf, PeerIndex sp) {
  Message m;
  m.type = MsgType::Attach;
  m.flag = capable(leaf) ? 1 : 0;  // Gnutella 0.6's "X-Ultrapeer: True" header
  send(leaf, sp, m);
}

void Protocol::announce(PeerIndex leaf, PeerIndex sp) {
  const auto& shared = (*context_.shared)[leaf];
  names_.resize(std::max(names_.size(), shared.size()));
  const std::span<NameIndex> out(names_.data(), shared.size());
  const std::size_t count = std::min(logic::announcement(shared, out), out.size());
  for (std::size_t i = 0; i < count; ++i) {
    Message m;
    m.type = MsgType::Announce;
    m.name = out[i];
    send(leaf, sp, m);
  }
}

void Protocol::leave(PeerIndex p) {
  Peer& me = peer(p);
  Message bye;
  bye.type = MsgType::Bye;
  for (PeerIndex n : neighbors(p)) send(p, n, bye);
  me.neighbors.clear();
  me.leaves.clear();
  me.superpeers.clear();
}

void Protocol::drop(PeerIndex self, PeerIndex gone) {
  Peer& me = peer(self);
  auto erase = [gone](std::vector<PeerIndex>& v) { v.erase(std::remove(v.begin(), v.end(), gone), v.end()); };
  erase(me.neighbors);
  erase(me.superpeers);
  erase(me.known);
  logic::forget_leaf(me.leaves, gone);
}

void Protocol::forget_query(PeerIndex self, QueryIndex q) {
  if (self < peers_.size()) peers_[self].seen.erase(q);
  downloads_.forget(q);
}

void Protocol::mark_peers_in_use(PeerIndex self, std::vector<std::uint8_t>& mark) const {
  if (self >= peers_.size()) return;
  auto use = [&](PeerIndex p) {
    if (p < mark.size()) mark[p] = 1;
  };
  const Peer& me = peers_[self];
  for (PeerIndex p : me.neighbors) use(p);
  for (PeerIndex p : me.superpeers) use(p);
  for (std::size_t i = 0; i < me.known.size() && i < kKnownKept; ++i) use(me.known[i]);
  for (PeerIndex p : me.awaiting) use(p);
  for (const auto& entry : me.leaves) use(entry.first);
  use(me.bootstrap);
  downloads_.mark_providers(mark);
}

void Protocol::mark_names_in_use(std::vector<std::uint8_t>& used) const {
  for (const Peer& p : peers_) {
    for (const auto& [leaf, names] : p.leaves) {
      for (NameIndex n : names) {
        if (n < used.size()) used[n] = 1;
      }
    }
  }
}

void Protocol::rename_names(const std::vector<NameIndex>& renamed) {
  for (Peer& p : peers_) {
    for (auto& [leaf, names] : p.leaves) {
      std::vector<NameIndex> kept;
      for (NameIndex n : names) {
        if (n < renamed.size() && renamed[n] != search::kNoName) kept.push_back(renamed[n]);
      }
      names = std::move(kept);
    }
  }
}

void Protocol::search(PeerIndex from, NameIndex name, QueryIndex q, int ttl) {
  Peer& me = peer(from);
  me.seen[q] = from;
  downloads_.open(q);
  Message m;
  m.type = MsgType::Query;
  m.ttl = static_cast<std::uint8_t>(ttl > 0 ? ttl : params_.ttl);
  m.hops = 1;
  m.query = q;
  m.name = name;
  m.node = from;
  if (me.superpeer) {
    // A superpeer answers from its own leaves first, then floods to its superpeer neighbours.
    answer_from_leaves(from, from, m);
    for (PeerIndex n : me.neighbors) send(from, n, m, q);
  } else {
    for (PeerIndex s : me.superpeers) send(from, s, m, q);
  }
  transport_.set_timer(from, params_.collect, kCollect, q);
}

void Protocol::answer_from_leaves(PeerIndex sp, PeerIndex back, const Message& query) {
  auto hit_for = [&](PeerIndex provider) {
    if (provider == query.node) return;  // the requester's own files are no find
    Message hit;
    hit.type = MsgType::QueryHit;
    hit.query = query.query;
    hit.node = provider;
    hit.relay = sp;
    hit.hops = static_cast<std::uint8_t>(back == sp ? 0 : query.hops);
    if (back == sp) {
      on_message(sp, sp, hit);  // the requester is this superpeer itself
    } else {
      send(sp, back, hit, query.query);
    }
  };
  if (context_.has_match(sp, query.name)) hit_for(sp);
  const LeafTables& leaves = peers_[sp].leaves;
  const std::vector<PeerIndex> answering = logic::leaves_answering(leaves, *context_.catalogue, query.name, query.node);
  for (std::size_t i = 0; i < answering.size(); ++i) {
    const PeerIndex leaf = answering[i];
    // Only this superpeer's leaves, each once (student code may return anything).
    if (!leaves.count(leaf) || std::find(answering.begin(), answering.begin() + static_cast<std::ptrdiff_t>(i), leaf) !=
                                   answering.begin() + static_cast<std::ptrdiff_t>(i)) {
      continue;
    }
    hit_for(leaf);
  }
}

void Protocol::try_download(PeerIndex self, QueryIndex q) {
  while (const search::Downloads::Candidate* c = downloads_.current(q)) {
    Message m;
    m.type = MsgType::Download;
    m.query = q;
    if (reachable_directly(self, c->provider)) {
      send(self, c->provider, m, q);
    } else if (params_.relay && c->relay != kNoPeer) {
      m.flag = kRelayRequest;  // Skype: through the provider's superpeer
      m.node = c->provider;
      send(self, c->relay, m, q);
    } else {
      downloads_.skip(q);  // behind NAT and no relay: this provider cannot be reached
      continue;
    }
    transport_.set_timer(self, params_.timeout, kDownloadTimeout, q);
    return;
  }
  give_up(q);
}

void Protocol::on_message(PeerIndex self, PeerIndex from, const Message& msg) {
  Peer& me = peer(self);
  switch (msg.type) {
    case MsgType::HelloSuperpeers: {
      Message reply;
      reply.type = MsgType::SuperpeerList;
      std::vector<PeerIndex> list;
      if (me.superpeer) list.push_back(self);
      for (PeerIndex p : me.superpeer ? me.neighbors : me.known) list.push_back(p);
      for (PeerIndex p : list) {
        if (reply.flag < reply.list.size() && p != from) reply.list[reply.flag++] = p;
      }
      send(self, from, reply);
      return;
    }
    case MsgType::SuperpeerList:
      for (int i = 0; i < msg.flag; ++i) {
        if (std::find(me.known.begin(), me.known.end(), msg.list[i]) == me.known.end()) me.known.push_back(msg.list[i]);
      }
      return;
    case MsgType::Attach: {
      // A superpeer keeps the target ratio locally: once it has its share of leaves,
      // superpeers_per_leaf x (1/ratio - 1), it refuses capable newcomers, which then become
      // superpeers themselves; others it takes up to its maximum of leaves.
      const LeafLimits limits{
          static_cast<std::size_t>(params_.leaves_per_superpeer),
          static_cast<std::size_t>(
              std::max(1.0, std::round(params_.superpeers_per_leaf * (1.0 / params_.superpeer_ratio - 1.0))))};
      const bool full = !logic::accept_leaf(me.leaves.size(), msg.flag != 0, limits);
      Message reply;
      const bool ok = me.superpeer && !full;
      reply.type = ok ? MsgType::AttachOk : MsgType::AttachRefused;
      if (ok) me.leaves[from];  // its table arrives in ANNOUNCE messages
      send(self, from, reply);
      return;
    }
    case MsgType::AttachOk:
      if (me.superpeer || static_cast<int>(me.superpeers.size()) >= params_.superpeers_per_leaf ||
          std::find(me.superpeers.begin(), me.superpeers.end(), from) != me.superpeers.end()) {
        Message bye;  // not needed any more
        bye.type = MsgType::Bye;
        send(self, from, bye);
        return;
      }
      me.superpeers.push_back(from);
      announce(self, from);
      return;
    case MsgType::AttachRefused:
      // Gnutella 0.6: a capable peer that finds the superpeers full becomes a superpeer itself.
      if (!me.superpeer && me.superpeers.empty() && capable(self)) become_superpeer(self);
      return;
    case MsgType::Announce:
      if (me.superpeer) {
        const auto table = me.leaves.find(from);
        if (table != me.leaves.end() && table->second.size() >= kMaxNamesPerLeaf) return;  // one leaf cannot fill it
        logic::index_announcement(me.leaves, from, msg.name);
      }
      return;
    case MsgType::Connect: {
      if (!me.superpeer) return;
      link_superpeers(self, from);
      Message ok;
      ok.type = MsgType::ConnectOk;
      send(self, from, ok);
      return;
    }
    case MsgType::ConnectOk:
      if (me.superpeer) link_superpeers(self, from);
      return;
    case MsgType::Ping: {
      Message pong;
      pong.type = MsgType::Pong;
      pong.flag = me.superpeer ? 1 : 0;
      send(self, from, pong);
      return;
    }
    case MsgType::Pong:
      me.awaiting.erase(std::remove(me.awaiting.begin(), me.awaiting.end(), from), me.awaiting.end());
      return;
    case MsgType::Bye:
      drop(self, from);
      return;
    case MsgType::Query: {
      if (!me.superpeer) return;  // leaves do not route queries
      if (me.seen.count(msg.query)) {
        context_.log->duplicate(msg.query);
        context_.log->hop(msg.query, from, self, msg.hops, true, transport_.now());
        return;
      }
      me.seen[msg.query] = from;
      context_.log->reached(msg.query, self);
      context_.log->hop(msg.query, from, self, msg.hops, false, transport_.now());
      answer_from_leaves(self, from, msg);
      if (msg.ttl > 1) {
        Message fwd = msg;
        fwd.ttl = static_cast<std::uint8_t>(msg.ttl - 1);
        fwd.hops = static_cast<std::uint8_t>(msg.hops + 1);
        for (PeerIndex n : me.neighbors) {
          if (n != from) send(self, n, fwd, msg.query);
        }
      }
      return;
    }
    case MsgType::QueryHit: {
      auto it = me.seen.find(msg.query);
      if (it == me.seen.end()) return;
      context_.log->hop(msg.query, from, self, 0, false, transport_.now(), search::kAnswerHop);
      if (it->second == self) {
        if (!downloads_.collecting(msg.query)) return;
        downloads_.add(msg.query, {msg.hops, msg.node, msg.relay});
        context_.log->hit(msg.query, msg.node, msg.hops);
      } else {
        send(self, it->second, msg, msg.query);
      }
      return;
    }
    case MsgType::Download: {
      // Relayed transfers (Skype): flag 1 = requester -> relay, flag 2 = relay -> provider.
      if (msg.flag == kRelayRequest) {
        Message fwd = msg;
        fwd.flag = kRelayed;
        fwd.node = from;  // the requester, so that the answer can be handed back
        send(self, msg.node, fwd, msg.query);
        return;
      }
      context_.log->reached(msg.query, self);
      Message reply;
      reply.type = MsgType::DownloadOk;
      reply.query = msg.query;
      reply.flag = msg.flag;  // 0: direct; kRelayed: back through the relay
      reply.node = msg.node;  // relayed: the requester
      send(self, from, reply, msg.query);
      return;
    }
    case MsgType::DownloadOk: {
      if (msg.flag == kRelayed) {
        Message fwd = msg;
        fwd.flag = kRelayDone;
        fwd.node = from;  // the provider
        send(self, msg.node, fwd, msg.query);
        return;
      }
      const bool relayed = msg.flag == kRelayDone;
      download_done(msg.query, relayed ? msg.node : from, relayed ? from : kNoPeer);
      return;
    }
    case MsgType::Count:
      return;
  }
}

void Protocol::on_timer(PeerIndex self, std::uint16_t kind, std::uint32_t cookie) {
  Peer& me = peer(self);
  switch (kind) {
    case kCollect:
      if (!downloads_.active(cookie)) return;
      downloads_.stop_collecting(cookie);
      try_download(self, cookie);
      return;
    case kDownloadTimeout:
      if (!downloads_.active(cookie)) return;
      downloads_.skip(cookie);
      try_download(self, cookie);
      return;
    case kAttachPhase: {
      if (cookie != me.round || me.superpeer) return;
      int wanted = params_.superpeers_per_leaf - static_cast<int>(me.superpeers.size());
      bool asked = false;
      for (PeerIndex s : me.known) {
        if (wanted <= 0) break;
        if (std::find(me.superpeers.begin(), me.superpeers.end(), s) != me.superpeers.end()) continue;
        attach(self, s);
        asked = true;
        --wanted;
      }
      if (!asked && me.superpeers.empty()) {
        // The peer asked may itself be new and know nobody yet: ask again a few times before
        // concluding that there is no superpeer and serving as one.
        if (me.known.empty() && me.bootstrap != kNoPeer && ++me.asks <= 5) {
          ask_for_superpeers(self, me.bootstrap);
        } else {
          become_superpeer(self);
        }
      }
      return;
    }
    case kKeepalive: {
      ++me.round;
      me.awaiting = neighbors(self);
      Message ping;
      ping.type = MsgType::Ping;
      for (PeerIndex n : me.awaiting) send(self, n, ping);
      transport_.set_timer(self, params_.timeout, kKeepaliveCheck, me.round);
      transport_.set_timer(self, params_.keepalive, kKeepalive, 0);
      return;
    }
    case kKeepaliveCheck: {
      if (cookie != me.round) return;
      for (PeerIndex gone : std::vector<PeerIndex>(me.awaiting)) drop(self, gone);
      me.awaiting.clear();
      if (!me.superpeer && static_cast<int>(me.superpeers.size()) < params_.superpeers_per_leaf) {
        // Lost a superpeer: re-attach to another one we know, or ask for more.
        if (me.known.size() > me.superpeers.size()) {
          ++me.round;
          on_timer(self, kAttachPhase, me.round);
        } else if (!me.superpeers.empty()) {
          ask_for_superpeers(self, me.superpeers.front());
        } else if (capable(self)) {
          become_superpeer(self);
        }
      } else if (me.superpeer && static_cast<int>(me.neighbors.size()) < params_.degree) {
        // Too few superpeer neighbours: connect to others we heard of, and hear of more.
        connect_more(self, me.known);
        const PeerIndex ask =
            !me.neighbors.empty() ? me.neighbors[transport_.rng(self).below(me.neighbors.size())] : me.bootstrap;
        if (ask != kNoPeer) {
          Message hello;
          hello.type = MsgType::HelloSuperpeers;
          send(self, ask, hello);
        }
      }
      return;
    }
    default:
      return;
  }
}

std::vector<PeerIndex> Protocol::neighbors(PeerIndex p) const {
  if (p >= peers_.size()) return {};
  const Peer& me = peers_[p];
  if (!me.superpeer) return me.superpeers;
  std::vector<PeerIndex> out = me.neighbors;
  for (const auto& entry : me.leaves) out.push_back(entry.first);
  return out;
}

std::size_t Protocol::state_entries(PeerIndex p) const {
  if (p >= peers_.size()) return 0;
  const Peer& me = peers_[p];
  std::size_t entries = me.neighbors.size() + me.superpeers.size();
  for (const auto& entry : me.leaves) entries += 1 + entry.second.size();
  return entries;
}

PeerView Protocol::inspect_links(PeerIndex p) const {
  PeerView v;
  v.role = is_superpeer(p) ? kSuperpeerRole : kLeafRole;
  if (p >= peers_.size()) return v;
  if (p < context_.capacities->size() && (*context_.capacities)[p].behind_nat) v.tag = "NAT";
  const Peer& me = peers_[p];
  if (me.superpeer) {
    for (PeerIndex n : me.neighbors) v.links.push_back({kOverlayLink, 0, n});
    for (const auto& entry : me.leaves) v.links.push_back({kLeafLink, 0, entry.first});
  } else {
    for (PeerIndex s : me.superpeers) v.links.push_back({kSuperpeerLink, 0, s});
  }
  return v;
}

PeerView Protocol::inspect(PeerIndex p) const {
  PeerView v = inspect_links(p);
  if (p >= peers_.size()) return v;
  const Peer& me = peers_[p];
  const search::Capacity& c = (*context_.capacities)[p];
  TableView cap;
  cap.title = "Capacity";
  cap.help = "What the election looks at: fast, long-lived peers not behind a NAT become superpeers.";
  cap.columns = {"bandwidth (kbit/s)", "uptime (h)", "behind NAT", "superpeer capable"};
  cap.rows.push_back({{Cell::of_number(static_cast<double>(static_cast<long long>(c.bandwidth_kbps))),
                       Cell::of_text(std::to_string(c.uptime_h)), Cell::of_text(c.behind_nat ? "yes" : "no"),
                       Cell::of_text(capable(p) ? "yes" : "no")},
                      -1});
  v.tables.push_back(std::move(cap));
  if (me.superpeer) {
    TableView leaves;
    leaves.title = "Leaves and their file tables";
    leaves.help = "Each leaf announced its files to this superpeer, which answers queries for them.";
    leaves.columns = {"leaf", "files"};
    int link = static_cast<int>(me.neighbors.size());  // the leaf links follow the superpeer links
    for (const auto& [leaf, table] : me.leaves) {
      std::string files;
      for (NameIndex n : table) files += (files.empty() ? "" : ", ") + context_.catalogue->name(n);
      leaves.rows.push_back({{Cell::of_peer(leaf, transport_.id_of(leaf).to_decimal()), Cell::of_text(files)}, link++});
    }
    v.tables.push_back(std::move(leaves));
  }
  return v;
}

}  // namespace p2plab::superpeer
