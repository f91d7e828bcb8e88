// CAN's state: zones, neighbour tables, joins (split), leaves (handover), failures (takeover).
#include "can.hpp"

#include <algorithm>

namespace p2plab::can {

const char* to_string(MsgType type) {
  switch (type) {
    case MsgType::Route:
      return "ROUTE";
    case MsgType::RouteAck:
      return "ROUTE_ACK";
    case MsgType::RouteDone:
      return "ROUTE_DONE";
    case MsgType::JoinGrant:
      return "JOIN_GRANT";
    case MsgType::Update:
      return "UPDATE";
    case MsgType::Takeover:
      return "TAKEOVER";
    case MsgType::Handover:
      return "HANDOVER";
    case MsgType::Count:
      break;
  }
  return "?";
}

const char* to_string(TimerKind kind) {
  switch (kind) {
    case TimerKind::Keepalive:
      return "keepalive";
    case TimerKind::HopTimeout:
      return "hop_timeout";
    case TimerKind::LookupTimeout:
      return "lookup_timeout";
    case TimerKind::TakeoverTimer:
      return "takeover";
    case TimerKind::Retry:
      return "retry";
    case TimerKind::Count:
      break;
  }
  return "?";
}

namespace {

bool contains_peer(const std::vector<PeerIndex>& v, PeerIndex p) { return std::find(v.begin(), v.end(), p) != v.end(); }

}  // namespace

Protocol::Protocol(Params params, Transport<Message>& transport)
    : params_(params), net_(transport), books_(dht::make_books<Book>(transport.partitions(), "can")) {}

const LookupStats& Protocol::stats() const {
  return dht::fold_into_first(books_, [](const Book& b) -> LookupStats& { return b.stats; });
}

std::size_t Protocol::unfinished_lookups() const {
  std::size_t n = 0;
  for (const Book& book : books_) n += book.active.size();
  return n;
}

void Protocol::check_partitions(Purpose purpose) const {
  if (books_.size() > 1 && purpose != Purpose::User) {
    throw std::logic_error("can: only lookups run on a transport of several partitions");
  }
}

LookupRecord& Protocol::start_record(PeerIndex x, Purpose purpose, const Id& key) {
  check_partitions(purpose);
  return book_of(x).open_record(purpose, x, key, net_.now());
}

LookupRecord* Protocol::record_on_route(std::uint32_t serial) {
  return keep_records_ && serial != 0 ? books_[0].find_record(serial) : nullptr;
}

void Protocol::reserve(std::size_t count) {
  if (peers_.size() < count) peers_.resize(count);
}

double Protocol::volume(PeerIndex x) const {
  double v = 0;
  for (const Zone& z : peers_[x].zones) v += z.volume();
  return v;
}

double Protocol::base_volume(PeerIndex x) const {
  const auto it = extra_.find(x);
  return volume(x) - (it == extra_.end() ? 0.0 : it->second.taken);
}

std::vector<PeerIndex> Protocol::neighbour_peers(PeerIndex x) const {
  std::vector<PeerIndex> out;
  for (const Neighbour& n : peers_[x].neighbours) {
    if (!contains_peer(out, n.peer)) out.push_back(n.peer);
  }
  return out;
}

bool Protocol::abuts(PeerIndex x, const Zone& z) const {
  const Box b = box_of(z, params_.d);
  return std::any_of(peers_[x].zones.begin(), peers_[x].zones.end(),
                     [&](const Zone& own) { return adjacent(box_of(own, params_.d), b, params_.d); });
}

bool Protocol::is_dead_to(PeerIndex x, PeerIndex p) const {
  const auto it = extra_.find(x);
  return it != extra_.end() && contains_peer(it->second.dead, p);
}

void Protocol::trace_zones(PeerIndex x, ZoneChange change, PeerIndex other) {
  ++zone_version_;
  Trace& trace = net_.trace();
  if (!trace.enabled()) return;
  TraceEvent e;
  e.time = net_.now();
  e.kind = TraceKind::StateChange;
  e.detail = static_cast<std::uint8_t>(StateField::Zones);
  e.index = static_cast<std::uint16_t>(change);
  e.peer = x;
  e.other = other;
  trace.record(e);
}

void Protocol::send(PeerIndex from, PeerIndex to, const Message& msg) {
  if (LookupRecord* r = record_on_route(msg.lookup)) ++r->messages;
  net_.send(from, to, msg);
}

// ---- life cycle -----------------------------------------------------------------------------------

void Protocol::create(PeerIndex x) {
  reserve(x + 1);
  peers_[x].zones = {Zone{}};
  peers_[x].joined = true;
  trace_zones(x, ZoneChange::Granted, x);
  start_maintenance(x);
}

Point Protocol::draw_join_point(PeerIndex x) {
  Id key;
  Rng& rng = net_.rng(x);
  for (auto& limb : key.limb) limb = rng.next_u64();
  key = key.low_bits(160);
  return point_of(key, params_.d);
}

void Protocol::join(PeerIndex x, PeerIndex via) {
  check_partitions(Purpose::Join);  // (before the point is drawn)
  reserve(x + 1);
  const Point p = draw_join_point(x);
  std::vector<double> c = coordinates(p, params_.d);
  // The join request travels like a lookup of the point, from the bootstrap peer on.
  LookupRecord& r = start_record(x, Purpose::Join, key_at(c, params_.d));
  const std::uint32_t serial = r.serial;
  trace_lookup(TraceKind::LookupStart, r, kNoPeer);
  net_.set_timer(x, params_.lookup_timeout, static_cast<std::uint16_t>(TimerKind::LookupTimeout), serial);
  Message m;
  m.type = MsgType::Route;
  m.purpose = Purpose::Join;
  m.origin = x;
  m.key = r.key;
  m.lookup = serial;
  forward(x, via, m);
}

bool Protocol::split_for(PeerIndex x, const Point& p, Zone& given) {
  PeerState& s = peers_[x];
  const auto it =
      std::find_if(s.zones.begin(), s.zones.end(), [&](const Zone& z) { return contains(z, p, params_.d); });
  if (it == s.zones.end()) return false;
  if (s.zones.size() > 1) {
    // A peer holding a taken-over zone besides its own hands that whole zone over (the paper's
    // background reassignment, done at the next join instead).
    given = *it;
    s.zones.erase(it);
    if (const auto e = extra_.find(x); e != extra_.end())
      e->second.taken = std::max(0.0, e->second.taken - given.volume());
    return true;
  }
  const Zone whole = *it;
  // Dimensions in turn: halving k is along dimension k mod d (box_of), so the half is one bit more.
  if (whole.depth >= std::min(kMaxDepth, 64 * params_.d)) return false;
  const int b =
      static_cast<int>((p.x[static_cast<std::size_t>(whole.depth % params_.d)] >> (63 - whole.depth / params_.d)) & 1u);
  given = whole.child(b);
  *it = whole.child(1 - b);
  return true;
}

void Protocol::move_items(PeerIndex from, PeerIndex to, const Zone& zone) {
  store_.move_if(from, to, [&](const Id& key) { return contains(zone, point_of(key, params_.d), params_.d); });
}

void Protocol::add_zone(PeerIndex x, const Zone& z) {
  auto& zones = peers_[x].zones;
  Zone merged = z;
  // A zone whose buddy this peer holds as well merges with it into their parent: a valid single
  // zone again (the paper's preferred outcome of a handover).
  for (;;) {
    const auto buddy = merged.depth == 0 ? zones.end() : std::find(zones.begin(), zones.end(), merged.buddy());
    if (buddy == zones.end()) break;
    zones.erase(buddy);
    merged = merged.parent();
  }
  zones.push_back(merged);
}

Message Protocol::update_message(PeerIndex x, MsgType type) const {
  Message m;
  m.type = type;
  m.node = x;
  for (const Zone& z : peers_[x].zones) {
    if (m.zone_count < kMaxZones) m.zones[m.zone_count++] = z;
  }
  const auto& table = peers_[x].neighbours;
  m.entries.assign(table.begin(),
                   table.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(table.size(), kMaxList)));
  m.volume = base_volume(x);  // what a takeover race, or an overlap found later, compares
  return m;
}

void Protocol::announce(PeerIndex x, const std::vector<PeerIndex>& also) {
  const Message m = update_message(x, MsgType::Update);
  std::vector<PeerIndex> to = neighbour_peers(x);
  for (PeerIndex p : also) {
    if (p != x && !contains_peer(to, p)) to.push_back(p);
  }
  for (PeerIndex p : to) {
    if (!is_dead_to(x, p)) send(x, p, m);
  }
}

void Protocol::announce(PeerIndex x, const std::vector<Neighbour>& entries) {
  std::vector<PeerIndex> also;
  for (const Neighbour& n : entries) also.push_back(n.peer);
  announce(x, also);
}

void Protocol::learn(PeerIndex x, PeerIndex peer, const Zone* zones, int count) {
  if (peer == x) return;
  auto& table = peers_[x].neighbours;
  const bool before = std::any_of(table.begin(), table.end(), [&](const Neighbour& n) { return n.peer == peer; });
  table.erase(std::remove_if(table.begin(), table.end(), [&](const Neighbour& n) { return n.peer == peer; }),
              table.end());
  // A neighbour: one of its zones abuts one of x's. All its zones are kept (it may hold one
  // elsewhere after a takeover): a route may use any, and a takeover takes them all.
  bool now = false;
  for (int i = 0; i < count && !now; ++i) now = abuts(x, zones[i]);
  for (int i = 0; now && i < count; ++i) table.push_back({peer, zones[i]});
  // Heard from the peer itself: any other entry overlapping its zones is stale (zones of live
  // peers never overlap; e.g. the failed peer whose zone it has taken over).
  for (int i = 0; i < count; ++i) {
    std::vector<PeerIndex> stale;
    for (const Neighbour& n : table) {
      if (n.peer != peer && overlaps(n.zone, zones[i]) && !contains_peer(stale, n.peer)) stale.push_back(n.peer);
    }
    for (PeerIndex q : stale) {
      table.erase(std::remove_if(table.begin(), table.end(), [&](const Neighbour& n) { return n.peer == q; }),
                  table.end());
    }
  }
  if (params_.maintenance && now && !before) extra_[x].heard[peer] = net_.now();
  if (!now && before) {
    // No neighbour any more: what it said of itself is history (were it listed again second-hand
    // and fall silent, it must not be taken for a failed neighbour).
    if (const auto e = extra_.find(x); e != extra_.end()) e->second.their_neighbours.erase(peer);
  }
}

void Protocol::forget(PeerIndex x, PeerIndex peer) { learn(x, peer, nullptr, 0); }

void Protocol::hear_of(PeerIndex x, const Neighbour& n) {
  if (n.peer == x || n.peer == kNoPeer || is_dead_to(x, n.peer) || !abuts(x, n.zone)) return;
  const auto& own = peers_[x].zones;
  auto& table = peers_[x].neighbours;
  const bool known = std::any_of(table.begin(), table.end(), [&](const Neighbour& e) { return e.peer == n.peer; });
  if (known) return;
  if (std::any_of(own.begin(), own.end(), [&](const Zone& z) { return overlaps(z, n.zone); }) ||
      std::any_of(table.begin(), table.end(), [&](const Neighbour& e) { return overlaps(e.zone, n.zone); })) {
    // A contradiction: one of the two is stale, or two peers took over one zone. x cannot tell
    // which from here; it introduces itself to n.peer, whose answer (if it is alive) replaces the
    // stale entry or settles the overlap (settle_overlap).
    if (params_.maintenance) send(x, n.peer, update_message(x, MsgType::Update));
    return;
  }
  table.push_back(n);
  if (params_.maintenance) extra_[x].heard[n.peer] = net_.now();
}

void Protocol::hear_of_all(PeerIndex x, const std::vector<Neighbour>& entries) {
  for (const Neighbour& n : entries) hear_of(x, n);
}

void Protocol::prune(PeerIndex x) {
  auto& table = peers_[x].neighbours;
  std::vector<PeerIndex> gone;
  for (PeerIndex p : neighbour_peers(x)) {
    const bool abutting =
        std::any_of(table.begin(), table.end(), [&](const Neighbour& n) { return n.peer == p && abuts(x, n.zone); });
    if (!abutting) gone.push_back(p);
  }
  table.erase(
      std::remove_if(table.begin(), table.end(), [&](const Neighbour& n) { return contains_peer(gone, n.peer); }),
      table.end());
}

void Protocol::remove_zone(PeerIndex x, const Zone& z) { subtract(peers_[x].zones, z); }

void Protocol::leave(PeerIndex x) {
  PeerState& s = peers_[x];
  if (!s.joined) return;
  // The paper: the zone goes to a neighbour it can merge with, else to the neighbour with the
  // smallest zone. Here: the smallest neighbour (volumes as this peer knows them), which merges
  // when it is the buddy.
  PeerIndex heir = kNoPeer;
  double best = 0;
  for (PeerIndex p : neighbour_peers(x)) {
    if (is_dead_to(x, p)) continue;
    double v = 0;
    for (const Neighbour& n : s.neighbours) {
      if (n.peer == p) v += n.zone.volume();
    }
    const bool buddy = std::any_of(s.zones.begin(), s.zones.end(), [&](const Zone& z) {
      return z.depth > 0 && std::any_of(s.neighbours.begin(), s.neighbours.end(),
                                        [&](const Neighbour& n) { return n.peer == p && n.zone == z.buddy(); });
    });
    if (buddy) v = -1;  // a merge beats any size
    if (heir == kNoPeer || v < best) {
      heir = p;
      best = v;
    }
  }
  if (heir != kNoPeer) {
    Message m = update_message(x, MsgType::Handover);
    for (const Zone& z : s.zones) move_items(x, heir, z);
    send(x, heir, m);
  }
  s.joined = false;
  s.zones.clear();
  s.neighbours.clear();
  extra_.erase(x);
  trace_zones(x, ZoneChange::HandedOver, heir);
}

void Protocol::start_maintenance(PeerIndex x) {
  if (!params_.maintenance) return;
  // Spread the first updates over one period, so that peers do not all talk at once.
  const auto offset = static_cast<SimTime>(net_.rng(x).below(static_cast<std::uint64_t>(params_.keepalive) + 1));
  net_.set_timer(x, offset, static_cast<std::uint16_t>(TimerKind::Keepalive), 0);
}

// ---- the oracle bootstrap ----------------------------------------------------------------------------

void Protocol::install(const std::vector<std::vector<Zone>>& zones_by_peer) {
  reserve(zones_by_peer.size());
  const int d = params_.d;
  std::vector<std::pair<Box, PeerIndex>> boxes;
  for (PeerIndex x = 0; x < zones_by_peer.size(); ++x) {
    peers_[x].zones = zones_by_peer[x];
    peers_[x].neighbours.clear();
    peers_[x].joined = !zones_by_peer[x].empty();
    for (const Zone& z : zones_by_peer[x]) boxes.emplace_back(box_of(z, d), x);
  }
  // Every pair of zones (a small network, or a test's grid).
  std::size_t k = 0;
  for (PeerIndex x = 0; x < zones_by_peer.size(); ++x) {
    for (const Zone& z : zones_by_peer[x]) {
      const Box& own = boxes[k++].first;
      std::size_t j = 0;
      for (PeerIndex y = 0; y < zones_by_peer.size(); ++y) {
        for (const Zone& other : zones_by_peer[y]) {
          const Box& b = boxes[j++].first;
          if (y == x || !adjacent(own, b, d)) continue;
          const auto& table = peers_[x].neighbours;
          if (std::none_of(table.begin(), table.end(),
                           [&](const Neighbour& n) { return n.peer == y && n.zone == other; }))
            peers_[x].neighbours.push_back({y, other});
        }
      }
      (void)z;
    }
  }
  ++zone_version_;
}

void Protocol::install_random_joins(const std::vector<PeerIndex>& peers) {
  // The joins one by one, without messages: each newcomer draws its point as join() would, the
  // owner is found in the binary trie of zones, splits, and the neighbour tables are updated as
  // the join's updates would update them. O(N (depth + degree^2)): a million peers in seconds.
  if (peers.empty()) return;
  reserve(*std::max_element(peers.begin(), peers.end()) + std::size_t{1});
  struct Node {
    std::uint32_t child[2] = {0, 0};  // 0: a leaf
    PeerIndex owner = kNoPeer;
  };
  std::vector<Node> trie(1);
  trie.reserve(2 * peers.size());
  std::vector<std::uint32_t> leaf_of(peers_.size(), 0);
  const int d = params_.d;
  const PeerIndex first = peers.front();
  peers_[first].zones = {Zone{}};
  peers_[first].joined = true;
  trie[0].owner = first;
  for (std::size_t i = 1; i < peers.size(); ++i) {
    const PeerIndex y = peers[i];
    const Point p = draw_join_point(y);
    std::uint32_t node = 0;
    for (int k = 0; trie[node].child[0] != 0; ++k) {
      node = trie[node].child[(p.x[static_cast<std::size_t>(k % d)] >> (63 - k / d)) & 1u];
    }
    const PeerIndex x = trie[node].owner;
    Zone given;
    if (!split_for(x, p, given)) continue;  // a zone halved 64 times per axis: never in practice
    const auto b = static_cast<std::uint32_t>(given.bit(given.depth - 1));
    const auto low = static_cast<std::uint32_t>(trie.size());
    trie.emplace_back();
    trie.emplace_back();
    trie[node].child[0] = low;
    trie[node].child[1] = low + 1;
    trie[low + b].owner = y;
    trie[low + 1 - b].owner = x;
    peers_[y].zones = {given};
    peers_[y].joined = true;
    // The newcomer's neighbours are among the owner's and the owner itself; each of them learns
    // both halves as they are now.
    const std::vector<PeerIndex> around = neighbour_peers(x);
    prune(x);
    learn(x, y, &given, 1);
    learn(y, x, peers_[x].zones.data(), static_cast<int>(peers_[x].zones.size()));
    for (PeerIndex n : around) {
      learn(n, x, peers_[x].zones.data(), static_cast<int>(peers_[x].zones.size()));
      learn(n, y, &given, 1);
      learn(y, n, peers_[n].zones.data(), static_cast<int>(peers_[n].zones.size()));
    }
  }
  ++zone_version_;
}

// ---- maintenance: updates, failure detection, takeover ------------------------------------------------

void Protocol::presume_dead(PeerIndex x, PeerIndex f) {
  if (f == x || is_dead_to(x, f)) return;
  Extra& e = extra_[x];
  // A neighbour heard from directly has told x its own neighbours, who are told of the takeover.
  // One known second-hand only (from a neighbour's table, e.g. after several neighbours failed
  // at once and x took over a zone next to it) may have moved, or its zone been taken over by a
  // peer x does not know: x probes the zone first and takes it over only if nobody answers.
  const bool confirmed = e.their_neighbours.count(f) != 0;
  if (confirmed || params_.maintenance) e.dead.push_back(f);
  Orphan orphan;
  orphan.failed = f;
  orphan.second_hand = !confirmed;
  for (const Neighbour& n : peers_[x].neighbours) {
    if (n.peer == f) orphan.zones.push_back(n.zone);
  }
  if (const auto it = e.their_neighbours.find(f); it != e.their_neighbours.end()) orphan.neighbours = it->second;
  forget(x, f);
  e.heard.erase(f);
  if (orphan.zones.empty() || !params_.maintenance) return;
  if (!confirmed) {
    // The claim goes to x's neighbours around the zone (the only ones x knows of).
    for (const Neighbour& n : peers_[x].neighbours) {
      const bool around = std::any_of(orphan.zones.begin(), orphan.zones.end(), [&](const Zone& z) {
        return adjacent(box_of(z, params_.d), box_of(n.zone, params_.d), params_.d);
      });
      if (around) orphan.neighbours.push_back(n);
    }
    for (const Zone& z : orphan.zones) probe(x, z);
  }
  if (peers_[x].zones.size() + orphan.zones.size() > static_cast<std::size_t>(kMaxZones))
    return;  // full: others take it
  // The paper's takeover timer: in proportion to this peer's volume, so that the smallest
  // neighbour's fires first and it takes over; after a probe, the probe's time on top.
  double lost = 0;
  for (const Zone& z : orphan.zones) lost += z.volume();
  const double ratio = std::min(4.0, volume(x) / lost);
  const SimTime wait = static_cast<SimTime>(static_cast<double>(params_.takeover) * ratio) + 1 +
                       (confirmed ? SimTime{0} : params_.dead_after);
  orphan.timer_running = true;
  e.orphans.push_back(orphan);
  net_.set_timer(x, wait, static_cast<std::uint16_t>(TimerKind::TakeoverTimer), f);
}

void Protocol::take_over(PeerIndex x, Orphan& orphan) {
  Message claim = update_message(x, MsgType::Takeover);
  claim.node = orphan.failed;
  claim.volume = base_volume(x);  // the smaller wins a race
  for (const Zone& z : orphan.zones) {
    add_zone(x, z);
    extra_[x].taken += z.volume();
  }
  trace_zones(x, ZoneChange::TakenOver, orphan.failed);
  // The claim carries the new zones: the failed peer's neighbours learn who holds its zone now.
  claim.zone_count = 0;
  for (const Zone& z : peers_[x].zones) {
    if (claim.zone_count < kMaxZones) claim.zones[claim.zone_count++] = z;
  }
  std::vector<PeerIndex> told;
  for (const Neighbour& n : orphan.neighbours) {
    if (n.peer == x || is_dead_to(x, n.peer) || contains_peer(told, n.peer)) continue;
    told.push_back(n.peer);
    send(x, n.peer, claim);
  }
  // The failed peer's neighbours that abut the new zones become this peer's neighbours (one
  // that has failed as well is noticed by its silence, and its zone taken over in turn).
  hear_of_all(x, orphan.neighbours);
  announce(x, std::vector<PeerIndex>{});
}

void Protocol::give_up(PeerIndex x, const std::vector<Zone>& zones, PeerIndex winner) {
  // Only what x held counts (a zone given up twice, e.g. to a claim and to the winner's update,
  // must not lower x's base volume twice: the race compares base volumes).
  const double before_volume = volume(x);
  for (const Zone& z : zones) remove_zone(x, z);
  extra_[x].taken = std::max(0.0, extra_[x].taken - (before_volume - volume(x)));
  trace_zones(x, ZoneChange::GivenUp, winner);
  std::vector<PeerIndex> before = neighbour_peers(x);
  before.push_back(winner);
  prune(x);
  announce(x, before);
}

void Protocol::settle_overlap(PeerIndex x, PeerIndex from, const Message& update) {
  // Two dyadic zones overlap only if one contains the other: the deeper one is the overlap.
  std::vector<Zone> overlap;
  for (const Zone& own : peers_[x].zones) {
    for (int i = 0; i < update.zone_count; ++i) {
      const Zone& theirs = update.zones[static_cast<std::size_t>(i)];
      if (overlaps(own, theirs)) overlap.push_back(own.depth >= theirs.depth ? own : theirs);
    }
  }
  if (overlap.empty()) return;
  double lost = 0, theirs = 0;
  for (const Zone& z : overlap) lost += z.volume();
  for (int i = 0; i < update.zone_count; ++i) theirs += update.zones[static_cast<std::size_t>(i)].volume();
  const double kept = volume(x) - lost, kept_theirs = theirs - lost;
  // A peer that would be left with no zone keeps it (its own zone, taken over by mistake, e.g.
  // after stale news of it); otherwise the takeover race's rule: the smaller base volume wins.
  const double mine = base_volume(x);
  const bool sender_wins = (kept == 0) != (kept_theirs == 0)
                               ? kept_theirs == 0
                               : update.volume < mine || (update.volume == mine && from < x);
  // The loser gives the overlap up (never its last zone); the winner tells the loser.
  if (sender_wins && kept > 0) {
    give_up(x, overlap, from);
  } else if (!sender_wins) {
    send(x, from, update_message(x, MsgType::Update));
  }
}

void Protocol::on_timer(PeerIndex self, std::uint16_t kind, std::uint32_t cookie) {
  switch (static_cast<TimerKind>(kind)) {
    case TimerKind::Keepalive: {
      if (!peers_[self].joined) return;
      Extra& e = extra_[self];
      // Silent neighbours are presumed failed; everyone else hears from this peer.
      std::vector<PeerIndex> silent;
      for (PeerIndex p : neighbour_peers(self)) {
        const auto it = e.heard.find(p);
        if (it == e.heard.end()) {
          e.heard[p] = net_.now();
        } else if (net_.now() - it->second > params_.dead_after) {
          silent.push_back(p);
        }
      }
      for (PeerIndex p : silent) presume_dead(self, p);
      announce(self, std::vector<PeerIndex>{});
      net_.set_timer(self, params_.keepalive, static_cast<std::uint16_t>(TimerKind::Keepalive), 0);
      return;
    }
    case TimerKind::TakeoverTimer: {
      const auto ex = extra_.find(self);
      if (ex == extra_.end() || !peers_[self].joined) return;
      auto& orphans = ex->second.orphans;
      const auto it = std::find_if(orphans.begin(), orphans.end(),
                                   [&](const Orphan& o) { return o.failed == cookie && o.timer_running; });
      if (it == orphans.end()) return;  // someone smaller has taken over
      it->timer_running = false;
      if (it->second_hand) {
        // What the probe (or any update) has shown to be held by a live peer is not orphaned.
        for (const Neighbour& n : peers_[self].neighbours) subtract(it->zones, n.zone);
        for (const Zone& z : peers_[self].zones) subtract(it->zones, z);
        if (it->zones.empty()) {
          orphans.erase(it);
          return;
        }
      }
      take_over(self, *it);
      return;
    }
    case TimerKind::HopTimeout: {
      const Pending* slot = expire(self, cookie);
      if (slot == nullptr) return;
      const PeerIndex holder = slot->holder, target = slot->target;
      Message msg = slot->msg;
      if (net_.trace().enabled() && msg.lookup != 0) {
        TraceEvent e;
        e.time = net_.now();
        e.kind = TraceKind::LookupHop;
        e.detail = kTimeoutHop;
        e.index = msg.hops;
        e.peer = holder;
        e.other = target;
        e.lookup = msg.lookup;
        e.key = msg.key;
        net_.trace().record(e);
      }
      if (!peers_[holder].joined) return;  // a newcomer's bootstrap peer did not answer
      presume_dead(holder, target);
      msg.hops = static_cast<std::uint16_t>(msg.hops - 1);
      handle_route(holder, msg, false);
      return;
    }
    case TimerKind::Retry: {
      const Pending* slot = expire(self, cookie);
      if (slot == nullptr) return;
      const PeerIndex holder = slot->holder;
      const Message msg = slot->msg;
      if (peers_[holder].joined && still_on(msg.lookup)) handle_route(holder, msg, false);
      return;
    }
    case TimerKind::LookupTimeout:
      finish(self, cookie, kNoPeer, false, kNoValue);  // (nothing if it has ended)
      return;
    case TimerKind::Count:
      return;
  }
}

void Protocol::on_message(PeerIndex self, PeerIndex from, const Message& msg) {
  if (params_.maintenance && peers_[self].joined) {
    Extra& e = extra_[self];
    e.heard[from] = net_.now();
    // A peer that speaks is alive (a crashed peer never does): presumed dead by mistake, e.g.
    // after an acknowledgement came too late.
    if (const auto it = std::find(e.dead.begin(), e.dead.end(), from); it != e.dead.end()) e.dead.erase(it);
  }
  switch (msg.type) {
    case MsgType::Route: {
      Message ack;
      ack.type = MsgType::RouteAck;
      ack.tag = msg.tag;
      send(self, from, ack);
      if (!peers_[self].joined) return;
      handle_route(self, msg, true);
      return;
    }
    case MsgType::RouteAck: {
      if (const Pending* p = pending_at(self, msg.tag); p != nullptr && p->open && p->target == from)
        book_of(self).close_pending(msg.tag);
      return;
    }
    case MsgType::RouteDone:
      finish(self, msg.lookup, msg.node, msg.flag != 0, msg.value, msg.hops);
      return;
    case MsgType::JoinGrant: {
      PeerState& s = peers_[self];
      if (s.joined || book_of(self).find_record(msg.lookup) == nullptr) return;
      s.zones = {msg.zones[0]};
      s.joined = true;
      trace_zones(self, ZoneChange::Granted, from);
      learn(self, from, msg.zones.data() + 1, msg.zone_count - 1);
      hear_of_all(self, msg.entries);  // the owner's neighbours that abut the new zone
      finish(self, msg.lookup, from, false, kNoValue);
      announce(self, msg.entries);
      start_maintenance(self);
      return;
    }
    case MsgType::Update: {
      if (!peers_[self].joined || is_dead_to(self, from)) return;
      const auto& table = peers_[self].neighbours;
      const bool before = std::any_of(table.begin(), table.end(), [&](const Neighbour& n) { return n.peer == from; });
      learn(self, from, msg.zones.data(), msg.zone_count);
      if (params_.maintenance) {
        settle_overlap(self, from, msg);
        // A live peer holds these zones (e.g. the answer to a probe, from a peer that does not
        // abut this one): they are nobody's orphans.
        auto& orphans = extra_[self].orphans;
        for (Orphan& o : orphans) {
          if (o.failed == from) o.zones.clear();  // it speaks: alive
          for (int i = 0; o.second_hand && i < msg.zone_count; ++i)
            subtract(o.zones, msg.zones[static_cast<std::size_t>(i)]);
        }
        orphans.erase(std::remove_if(orphans.begin(), orphans.end(), [](const Orphan& o) { return o.zones.empty(); }),
                      orphans.end());
      }
      const bool now = std::any_of(table.begin(), table.end(), [&](const Neighbour& n) { return n.peer == from; });
      if (params_.maintenance && now) {
        extra_[self].their_neighbours[from] = msg.entries;
        hear_of_all(self, msg.entries);
      }
      if (now && !before) send(self, from, update_message(self, MsgType::Update));  // so that it learns this one
      if (!now && msg.flag == 0) {
        // The sender takes this peer for a neighbour (stale news of its zones, or messages that
        // overtook each other): it hears the truth, or it would presume this live peer failed.
        Message truth = update_message(self, MsgType::Update);
        truth.flag = 1;  // not to be answered in turn
        send(self, from, truth);
      }
      return;
    }
    case MsgType::Takeover: {
      if (!peers_[self].joined) return;
      const PeerIndex failed = msg.node;
      Extra& e = extra_[self];
      const auto it =
          std::find_if(e.orphans.begin(), e.orphans.end(), [&](const Orphan& o) { return o.failed == failed; });
      // Who wins: the smaller base volume (ties: the peer that came first).
      const double mine = base_volume(self);
      const bool sender_wins = msg.volume < mine || (msg.volume == mine && from < self);
      if (it != e.orphans.end()) {
        if (!sender_wins) {
          // This peer is smaller: it tells the sender, which gives the zone up.
          Message claim = update_message(self, MsgType::Takeover);
          claim.node = failed;
          claim.volume = mine;
          send(self, from, claim);
          return;
        }
        const Orphan orphan = *it;
        e.orphans.erase(it);
        if (!orphan.timer_running) give_up(self, orphan.zones, from);
      }
      if (!contains_peer(e.dead, failed)) e.dead.push_back(failed);
      forget(self, failed);
      learn(self, from, msg.zones.data(), msg.zone_count);
      return;
    }
    case MsgType::Handover: {
      if (!peers_[self].joined) return;
      for (int i = 0; i < msg.zone_count; ++i) add_zone(self, msg.zones[static_cast<std::size_t>(i)]);
      trace_zones(self, ZoneChange::TakenOver, from);
      forget(self, from);
      if (params_.maintenance) extra_[self].dead.push_back(from);
      // The leaver's neighbours learn who holds its zone now (a claim no one contests).
      Message claim = update_message(self, MsgType::Takeover);
      claim.node = from;
      claim.volume = -1;
      for (const Neighbour& n : msg.entries) {
        if (n.peer != self) send(self, n.peer, claim);
      }
      hear_of_all(self, msg.entries);
      announce(self, msg.entries);
      return;
    }
    case MsgType::Count:
      return;
  }
}

}  // namespace p2plab::can
