#include "pastry.hpp"

#include <algorithm>
#include <stdexcept>

namespace p2plab::pastry {

const char* to_string(MsgType type) {
  switch (type) {
    case MsgType::Route:
      return "ROUTE";
    case MsgType::RouteAck:
      return "ROUTE_ACK";
    case MsgType::RouteDone:
      return "ROUTE_DONE";
    case MsgType::JoinRow:
      return "JOIN_ROW";
    case MsgType::JoinLeafSet:
      return "JOIN_LEAF_SET";
    case MsgType::JoinNeighbours:
      return "JOIN_NEIGHBOURS";
    case MsgType::Announce:
      return "ANNOUNCE";
    case MsgType::LeafPing:
      return "LEAF_PING";
    case MsgType::LeafPong:
      return "LEAF_PONG";
    case MsgType::RowRequest:
      return "ROW_REQUEST";
    case MsgType::RowReply:
      return "ROW_REPLY";
    case MsgType::Leaving:
      return "LEAVING";
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
    case TimerKind::Count:
      break;
  }
  return "?";
}

namespace {

bool contains(const std::vector<PeerIndex>& v, PeerIndex p) { return std::find(v.begin(), v.end(), p) != v.end(); }

bool erase_value(std::vector<PeerIndex>& v, PeerIndex p) {
  const auto it = std::find(v.begin(), v.end(), p);
  if (it == v.end()) return false;
  v.erase(it);
  return true;
}

}  // namespace

Protocol::Protocol(Params params, Transport<Message>& transport)
    : params_(params),
      digits_(params.m, params.b),
      net_(transport),
      books_(dht::make_books<Book>(transport.partitions(), "pastry")) {}

void Protocol::reserve(std::size_t count) {
  if (peers_.size() < count) peers_.resize(count);
}

const LookupStats& Protocol::stats() const {
  return dht::fold_into_first(books_, [](const Book& b) -> LookupStats& { return b.stats; });
}

const RouteStats& Protocol::route_stats() const {
  return dht::fold_into_first(books_, [](const Book& b) -> RouteStats& { return b.route_stats; });
}

std::size_t Protocol::unfinished_lookups() const {
  std::size_t n = 0;
  for (const Book& book : books_) n += book.active.size();
  return n;
}

LookupRecord& Protocol::start_record(PeerIndex x, Purpose purpose, const Id& key) {
  if (books_.size() > 1 && purpose != Purpose::User) {
    // Puts, gets and joins change state other peers share (stored items, leaf sets).
    throw std::logic_error("pastry: only lookups run on a transport of several partitions");
  }
  return book_of(x).open_record(purpose, x, key, net_.now());
}

LookupRecord* Protocol::record_on_route(std::uint32_t serial) {
  return keep_records_ && serial != 0 ? books_[0].find_record(serial) : nullptr;
}

PeerIndex Protocol::entry(PeerIndex x, int row, int column) const {
  const std::size_t i =
      static_cast<std::size_t>(row) * static_cast<std::size_t>(digits_.columns()) + static_cast<std::size_t>(column);
  const auto& table = peers_[x].table;
  return i < table.size() ? table[i] : kNoPeer;
}

PeerIndex& Protocol::cell(PeerIndex x, int row, int column) {
  auto& table = peers_[x].table;
  const auto columns = static_cast<std::size_t>(digits_.columns());
  const std::size_t i = static_cast<std::size_t>(row) * columns + static_cast<std::size_t>(column);
  if (i >= table.size()) table.resize((static_cast<std::size_t>(row) + 1) * columns, kNoPeer);
  return table[i];
}

std::size_t Protocol::state_entries(PeerIndex x) const {
  const PeerState& s = peers_[x];
  std::vector<PeerIndex> all(s.smaller.begin(), s.smaller.end());
  all.insert(all.end(), s.larger.begin(), s.larger.end());
  all.insert(all.end(), s.neighbours.begin(), s.neighbours.end());
  for (PeerIndex p : s.table) {
    if (p != kNoPeer) all.push_back(p);
  }
  std::sort(all.begin(), all.end());
  return static_cast<std::size_t>(std::unique(all.begin(), all.end()) - all.begin());
}

void Protocol::trace_state(PeerIndex x, StateField field, PeerIndex value) {
  Trace& trace = net_.trace();
  if (!trace.enabled()) return;
  TraceEvent e;
  e.time = net_.now();
  e.kind = TraceKind::StateChange;
  e.detail = static_cast<std::uint8_t>(field);
  e.peer = x;
  e.other = value;
  trace.record(e);
}

// ---- the paper's route(msg, key) at one node ------------------------------------------------------

Decision Protocol::route(PeerIndex x, const Id& key) const {
  const PeerState& s = peers_[x];
  const IdSpace& space = digits_.space();
  const Id& self = net_.id_of(x);
  Decision d;
  d.next = x;
  if (key == self) return d;
  // (1) Key within the leaf set's range: the numerically closest of the leaves and x. A side
  // with fewer than L/2 entries means x knows every peer on that side: the whole ring is in range.
  const auto half = static_cast<std::size_t>(params_.leaf_set / 2);
  const bool in_range = s.smaller.size() < half || s.larger.size() < half ||
                        space.sub(self, key) <= space.sub(self, net_.id_of(s.smaller.back())) ||
                        space.sub(key, self) <= space.sub(net_.id_of(s.larger.back()), self);
  if (in_range) {
    PeerIndex best = x;
    for (const auto* side : {&s.smaller, &s.larger}) {
      for (PeerIndex leaf : *side) {
        if (digits_.closer(net_.id_of(leaf), net_.id_of(best), key)) best = leaf;
      }
    }
    d.rule = best == x ? Decision::Rule::Deliver : Decision::Rule::LeafSet;
    d.next = best;
    return d;
  }
  // (2) The routing table's entry that shares one more digit with the key.
  const int l = digits_.shared_prefix(self, key);
  const int column = digits_.digit(key, l);
  const PeerIndex e = entry(x, l, column);
  if (e != kNoPeer) {
    d.rule = Decision::Rule::Table;
    d.next = e;
    d.row = l;
    d.column = column;
    return d;
  }
  // (3) The rare case: any known node sharing at least l digits and numerically closer.
  PeerIndex best = x;
  auto consider = [&](PeerIndex t) {
    if (t == kNoPeer || t == best) return;
    const Id& id = net_.id_of(t);
    if (digits_.shared_prefix(id, key) >= l && digits_.closer(id, net_.id_of(best), key)) best = t;
  };
  for (PeerIndex t : s.smaller) consider(t);
  for (PeerIndex t : s.larger) consider(t);
  for (PeerIndex t : s.table) consider(t);
  for (PeerIndex t : s.neighbours) consider(t);
  d.rule = best == x ? Decision::Rule::Deliver : Decision::Rule::RareCase;
  d.next = best;
  d.row = l;
  return d;
}

// ---- state updates ------------------------------------------------------------------------------

bool Protocol::is_dead_to(PeerIndex x, PeerIndex p) const { return contains(peers_[x].dead, p); }

int Protocol::consider(PeerIndex x, PeerIndex p) {
  if (p == kNoPeer || p == x || is_dead_to(x, p)) return 0;
  PeerState& s = peers_[x];
  const Id& self = net_.id_of(x);
  const Id& id = net_.id_of(p);
  if (id == self) return 0;
  const IdSpace& space = digits_.space();
  const auto half = static_cast<std::size_t>(params_.leaf_set / 2);
  int changed = 0;
  // Leaf set: the L/2 nearest counter-clockwise (smaller) and clockwise (larger), each side on
  // its own (in a network of at most L/2 + 1 peers both sides hold every other peer).
  auto insert_side = [&](std::vector<PeerIndex>& side, bool clockwise) {
    if (contains(side, p)) return;
    auto distance = [&](PeerIndex q) {
      return clockwise ? space.sub(net_.id_of(q), self) : space.sub(self, net_.id_of(q));
    };
    const Id dp = distance(p);
    std::size_t pos = 0;
    while (pos < side.size() && distance(side[pos]) < dp) ++pos;
    if (pos >= half) return;
    side.insert(side.begin() + static_cast<std::ptrdiff_t>(pos), p);
    if (side.size() > half) side.pop_back();
    changed |= kLeafSetChanged;
    trace_state(x, StateField::LeafSet, p);
  };
  insert_side(s.smaller, false);
  insert_side(s.larger, true);
  // Routing table: row = shared prefix length, column = p's next digit; the nearer peer wins.
  const int row = digits_.shared_prefix(self, id);
  PeerIndex& c = cell(x, row, digits_.digit(id, row));
  if (c == kNoPeer || (c != p && proximity(x, p) < proximity(x, c))) {
    c = p;
    changed |= kTableChanged;
    trace_state(x, StateField::RoutingTable, p);
  }
  // Neighbourhood set: the M nearest in the underlay.
  const auto limit = static_cast<std::size_t>(params_.neighbourhood);
  if (limit > 0 && !contains(s.neighbours, p)) {
    const double dp = proximity(x, p);
    std::size_t pos = 0;
    while (pos < s.neighbours.size() && proximity(x, s.neighbours[pos]) <= dp) ++pos;
    if (pos < limit) {
      s.neighbours.insert(s.neighbours.begin() + static_cast<std::ptrdiff_t>(pos), p);
      if (s.neighbours.size() > limit) s.neighbours.pop_back();
      changed |= kNeighboursChanged;
    }
  }
  return changed;
}

void Protocol::consider_list(PeerIndex x, const Message& msg, PeerIndex sender) {
  erase_value(peers_[x].dead, sender);  // it just spoke: alive
  const bool announce = peers_[x].joined && msg.type != MsgType::Announce;
  auto learn = [&](PeerIndex p) {
    const int changed = consider(x, p);
    if (changed != 0 && announce && (msg.type == MsgType::JoinRow || msg.type == MsgType::JoinNeighbours)) {
      Message hello;
      hello.type = MsgType::Announce;
      send(x, p, hello);
    }
    // A new leaf learnt from another leaf set is asked for its own: each answer names peers
    // nearer to x on that side, so a leaf set that lost several neighbours in a row walks back to
    // its true neighbours (and the new leaf learns of x).
    if ((changed & kLeafSetChanged) != 0 && msg.type == MsgType::LeafPong && p != sender && peers_[x].joined) {
      ping(x, p);
    }
  };
  learn(sender);
  for (int i = 0; i < msg.count; ++i) learn(msg.list[static_cast<std::size_t>(i)]);
}

void Protocol::presume_dead(PeerIndex x, PeerIndex p) {
  PeerState& s = peers_[x];
  if (p == kNoPeer || p == x || contains(s.dead, p)) return;
  s.dead.push_back(p);
  if (s.dead.size() > 4096) s.dead.erase(s.dead.begin());
  const bool lost_smaller = erase_value(s.smaller, p), lost_larger = erase_value(s.larger, p);
  erase_value(s.neighbours, p);
  std::vector<std::pair<int, int>> lost_cells;
  const int columns = digits_.columns();
  for (std::size_t i = 0; i < s.table.size(); ++i) {
    if (s.table[i] != p) continue;
    s.table[i] = kNoPeer;
    lost_cells.emplace_back(static_cast<int>(i) / columns, static_cast<int>(i) % columns);
  }
  if (lost_smaller || lost_larger) trace_state(x, StateField::LeafSet, kNoPeer);
  if (!s.joined) return;
  // Leaf-set repair: ask the farthest live leaf on the side that lost one for its leaf set. A
  // side left empty (L/2 neighbours in a row failed) asks the nearest peer on that side it knows
  // of from its other tables.
  const IdSpace& space = digits_.space();
  const Id& self = net_.id_of(x);
  for (const bool smaller : {true, false}) {
    if (!(smaller ? lost_smaller : lost_larger)) continue;
    const std::vector<PeerIndex>& side = smaller ? s.smaller : s.larger;
    PeerIndex ask = side.empty() ? kNoPeer : side.back();
    if (ask == kNoPeer) {
      Id best;
      auto nearer = [&](PeerIndex q) {
        if (q == kNoPeer) return;
        const Id d = smaller ? space.sub(self, net_.id_of(q)) : space.sub(net_.id_of(q), self);
        if (ask == kNoPeer || d < best) {
          ask = q;
          best = d;
        }
      };
      for (PeerIndex q : s.table) nearer(q);
      for (PeerIndex q : s.neighbours) nearer(q);
      for (PeerIndex q : smaller ? s.larger : s.smaller) nearer(q);
    }
    if (ask != kNoPeer) ping(x, ask);
  }
  // Lazy routing-table repair: ask a peer of the same row (else of the next) for its entry.
  for (const auto& [row, column] : lost_cells) {
    PeerIndex ask = kNoPeer;
    for (int r = row; r < rows_in_use(x) && ask == kNoPeer; ++r) {
      for (int c = 0; c < columns && ask == kNoPeer; ++c) {
        if (c != column) ask = entry(x, r, c);
      }
    }
    if (ask == kNoPeer) continue;
    Message request;
    request.type = MsgType::RowRequest;
    request.row = static_cast<std::uint16_t>(row);
    request.flag = static_cast<std::uint8_t>(column);
    send(x, ask, request);
  }
}

// ---- messages and timers ---------------------------------------------------------------------------

void Protocol::send(PeerIndex from, PeerIndex to, Message msg) {
  if (LookupRecord* r = record_on_route(msg.lookup)) ++r->messages;
  net_.send(from, to, msg);
}

std::uint32_t Protocol::open_pending(PeerIndex holder, PeerIndex target, const Message& msg) {
  const std::uint32_t slot = book_of(holder).open_pending(holder, target, msg, net_.now() + params_.rpc_timeout);
  net_.set_timer(holder, params_.rpc_timeout, static_cast<std::uint16_t>(TimerKind::HopTimeout), slot);
  return slot;
}

void Protocol::ping(PeerIndex x, PeerIndex leaf) {
  Message m;
  m.type = MsgType::LeafPing;
  const std::uint32_t slot = open_pending(x, leaf, m);
  send(x, leaf, pending_at(x, slot)->msg);
}

Message Protocol::leaf_set_message(PeerIndex x, MsgType type) const {
  Message m;
  m.type = type;
  const PeerState& s = peers_[x];
  for (const auto* side : {&s.smaller, &s.larger}) {
    for (PeerIndex p : *side) {
      if (m.count < kMaxList && std::find(m.list.begin(), m.list.begin() + m.count, p) == m.list.begin() + m.count) {
        m.list[m.count++] = p;
      }
    }
  }
  return m;
}

void Protocol::on_message(PeerIndex self, PeerIndex from, const Message& msg) {
  switch (msg.type) {
    case MsgType::Route: {
      Message ack;
      ack.type = MsgType::RouteAck;
      ack.tag = msg.tag;
      ack.lookup = msg.lookup;
      send(self, from, ack);
      handle_route(self, msg, true);
      return;
    }
    case MsgType::RouteAck:
    case MsgType::LeafPong: {
      if (Pending* p = pending_at(self, msg.tag); p != nullptr && p->open && p->holder == self && p->target == from) {
        book_of(self).close_pending(msg.tag);
      }
      if (msg.type == MsgType::LeafPong) consider_list(self, msg, from);
      return;
    }
    case MsgType::RouteDone:
      finish(self, msg.lookup, msg.node, msg.flag != 0, msg.value, msg.hops);
      return;
    case MsgType::JoinRow:
    case MsgType::JoinNeighbours:
    case MsgType::Announce:
    case MsgType::RowReply:
      consider_list(self, msg, from);
      if (msg.type == MsgType::RowReply && msg.node != kNoPeer) consider(self, msg.node);
      return;
    case MsgType::JoinLeafSet: {
      consider_list(self, msg, from);
      PeerState& s = peers_[self];
      if (!s.joined) {
        s.joined = true;
        finish(self, msg.lookup, from, false, kNoValue);
        // Tell every node in the new state (leaf set, routing table, neighbourhood set).
        std::vector<PeerIndex> all(s.smaller.begin(), s.smaller.end());
        all.insert(all.end(), s.larger.begin(), s.larger.end());
        all.insert(all.end(), s.neighbours.begin(), s.neighbours.end());
        for (PeerIndex p : s.table) {
          if (p != kNoPeer) all.push_back(p);
        }
        std::sort(all.begin(), all.end());
        all.erase(std::unique(all.begin(), all.end()), all.end());
        for (PeerIndex p : all) {
          Message hello;
          hello.type = MsgType::Announce;
          send(self, p, hello);
        }
        start_maintenance(self);
      }
      return;
    }
    case MsgType::LeafPing: {
      consider_list(self, Message{}, from);
      Message pong = leaf_set_message(self, MsgType::LeafPong);
      pong.tag = msg.tag;
      send(self, from, pong);
      return;
    }
    case MsgType::RowRequest: {
      Message reply;
      reply.type = MsgType::RowReply;
      reply.node = msg.row < digits_.count() ? entry(self, msg.row, msg.flag) : kNoPeer;
      send(self, from, reply);
      return;
    }
    case MsgType::Leaving:
      presume_dead(self, from);
      for (int i = 0; i < msg.count; ++i) consider(self, msg.list[static_cast<std::size_t>(i)]);
      return;
    case MsgType::Count:
      return;
  }
}

void Protocol::on_timer(PeerIndex self, std::uint16_t kind, std::uint32_t cookie) {
  switch (static_cast<TimerKind>(kind)) {
    case TimerKind::Keepalive: {
      if (!params_.maintenance || !peers_[self].joined) return;
      const Message leaves = leaf_set_message(self, MsgType::LeafPing);
      for (int i = 0; i < leaves.count; ++i) ping(self, leaves.list[static_cast<std::size_t>(i)]);
      net_.set_timer(self, params_.keepalive, static_cast<std::uint16_t>(TimerKind::Keepalive), 0);
      return;
    }
    case TimerKind::HopTimeout: {
      Pending* slot = pending_at(self, cookie);
      if (slot == nullptr) return;
      Pending& p = *slot;
      // An earlier use's timer fires before this use's deadline: it leaves the slot alone.
      if (!p.open || p.holder != self || net_.now() < p.deadline) return;
      book_of(self).close_pending(cookie);
      const PeerIndex target = p.target;
      const Message msg = p.msg;
      if (msg.type == MsgType::Route) {
        Trace& trace = net_.trace();
        if (trace.enabled() && msg.lookup != 0) {
          TraceEvent e;
          e.time = net_.now();
          e.kind = TraceKind::LookupHop;
          e.detail = kTimeoutHop;
          e.index = msg.hops;
          e.peer = self;
          e.other = target;
          e.lookup = msg.lookup;
          e.key = msg.key;
          trace.record(e);
        }
        presume_dead(self, target);
        if (msg.purpose == Purpose::Join && msg.origin == self && !peers_[self].joined) {
          // The newcomer's nearby node A does not answer: it cannot route on its own.
          finish(self, msg.lookup, kNoPeer, false, kNoValue);
          if (join_failed_) join_failed_(self);
          return;
        }
        Message again = msg;
        again.hops = static_cast<std::uint16_t>(again.hops - 1);
        handle_route(self, again, false);
      } else {
        presume_dead(self, target);
      }
      return;
    }
    case TimerKind::LookupTimeout: {
      const LookupRecord* r = book_of(self).find_record(cookie);
      if (r == nullptr) return;
      const bool join = r->purpose == Purpose::Join;
      finish(self, cookie, kNoPeer, false, kNoValue);
      if (join && !peers_[self].joined && join_failed_) join_failed_(self);
      return;
    }
    case TimerKind::Count:
      return;
  }
}

}  // namespace p2plab::pastry
