// Greedy routing to a key's point, hop by hop (lookups, put, get and the join request), and the
// answer back to the requester.
#include <algorithm>

#include "can.hpp"

namespace p2plab::can {

Decision Protocol::route(PeerIndex x, const Point& p, PeerIndex avoid) const {
  const PeerState& s = peers_[x];
  const int d = params_.d;
  Decision decision;
  double best = -1;
  for (const Zone& z : s.zones) {
    if (contains(z, p, d)) return decision;  // deliver here
    const double dist = distance2(box_of(z, d), p, d);
    if (best < 0 || dist < best) best = dist;
  }
  // The paper: "forwards the message to the neighbour with coordinates closest to the
  // destination". Only a neighbour strictly closer than this peer's own zones is a step forward
  // (so a route never loops); equal distances: the neighbour learnt first.
  decision.distance = x == avoid ? 1e300 : best;
  for (const Neighbour& n : s.neighbours) {
    if (is_dead_to(x, n.peer) || n.peer == avoid) continue;
    const double dist = distance2(box_of(n.zone, d), p, d);
    if (dist < decision.distance) {
      decision.distance = dist;
      decision.next = n.peer;
    }
  }
  decision.stuck = decision.next == kNoPeer;
  return decision;
}

std::uint32_t Protocol::lookup(PeerIndex x, const Id& key, Purpose purpose, std::uint32_t value) {
  LookupRecord& r = start_record(x, purpose, key);
  const std::uint32_t serial = r.serial;
  r.value = value;
  book_of(x).stats.started();
  trace_lookup(TraceKind::LookupStart, r, kNoPeer);
  net_.set_timer(x, params_.lookup_timeout, static_cast<std::uint16_t>(TimerKind::LookupTimeout), serial);
  Message m;
  m.type = MsgType::Route;
  m.purpose = purpose;
  m.origin = x;
  m.key = key;
  m.lookup = serial;
  m.value = value;
  handle_route(x, m, true);
  return serial;
}

void Protocol::probe(PeerIndex x, const Zone& zone) {
  LookupRecord& r =
      start_record(x, Purpose::Probe, key_at(coordinates(centre_of(zone, params_.d), params_.d), params_.d));
  const std::uint32_t serial = r.serial;
  net_.set_timer(x, params_.lookup_timeout, static_cast<std::uint16_t>(TimerKind::LookupTimeout), serial);
  Message m;
  m.type = MsgType::Route;
  m.purpose = Purpose::Probe;
  m.origin = x;
  m.key = r.key;
  m.lookup = serial;
  handle_route(x, m, true);
}

std::uint32_t Protocol::open_pending(PeerIndex holder, PeerIndex target, const Message& msg, SimTime wait,
                                     TimerKind kind) {
  const std::uint32_t slot = book_of(holder).open_pending(holder, target, msg, net_.now() + wait);
  net_.set_timer(holder, wait, static_cast<std::uint16_t>(kind), slot);
  return slot;
}

const Protocol::Pending* Protocol::expire(PeerIndex holder, std::uint32_t slot) {
  Pending* p = pending_at(holder, slot);
  if (p == nullptr || !p->open || net_.now() < p->deadline) return nullptr;
  book_of(holder).close_pending(slot);
  return p;
}

void Protocol::handle_route(PeerIndex x, Message msg, bool arrived) {
  if (LookupRecord* record = record_on_route(msg.lookup); arrived && record != nullptr) record->path.push_back(x);
  const bool probing = msg.purpose == Purpose::Probe;
  const Decision decision = route(x, point_of(msg.key, params_.d), probing ? msg.origin : kNoPeer);
  if (decision.next == kNoPeer && !decision.stuck) {
    deliver(x, msg);
    return;
  }
  if (decision.stuck && probing) return;  // around the origin there is no way on: the probe ends
  if (decision.stuck) {
    // The point lies in a zone whose owner has failed and no one has taken it over yet (or this
    // peer's table is not complete yet): hold the message and try again.
    open_pending(x, kNoPeer, msg, params_.rpc_timeout, TimerKind::Retry);
    return;
  }
  forward(x, decision.next, msg);
}

void Protocol::forward(PeerIndex x, PeerIndex next, Message msg) {
  msg.hops = static_cast<std::uint16_t>(msg.hops + 1);
  const std::uint32_t slot = open_pending(x, next, msg, params_.rpc_timeout, TimerKind::HopTimeout);
  Trace& trace = net_.trace();
  if (trace.enabled() && msg.lookup != 0) {
    TraceEvent e;
    e.time = net_.now();
    e.kind = TraceKind::LookupHop;
    e.detail = kStepHop;
    e.index = msg.hops;
    e.peer = x;
    e.other = next;
    e.lookup = msg.lookup;
    e.key = msg.key;
    trace.record(e);
  }
  send(x, next, pending_at(x, slot)->msg);
}

void Protocol::deliver(PeerIndex z, const Message& msg) {
  Message done;
  done.type = MsgType::RouteDone;
  done.lookup = msg.lookup;
  done.node = z;
  done.hops = msg.hops;
  switch (msg.purpose) {
    case Purpose::User:
      break;
    case Purpose::Put:
      store_.put(z, msg.key, msg.value);
      done.flag = 1;
      break;
    case Purpose::Get:
      if (const auto value = store_.get(z, msg.key)) {
        done.flag = 1;
        done.value = *value;
      }
      break;
    case Purpose::Probe:
      if (z != msg.origin) send(z, msg.origin, update_message(z, MsgType::Update));
      break;
    case Purpose::Join: {
      // The owner of the newcomer's point splits its zone and hands over the half with the point
      // (and the keys in it); its neighbours are listed so the newcomer can find its own.
      Zone given;
      const std::vector<PeerIndex> around = neighbour_peers(z);
      if (!split_for(z, point_of(msg.key, params_.d), given)) {
        send(z, msg.origin, done);  // done.node = z, but no grant: the join fails
        return;
      }
      trace_zones(z, ZoneChange::Split, msg.origin);
      move_items(z, msg.origin, given);
      Message grant = update_message(z, MsgType::JoinGrant);  // its table before the split
      grant.lookup = msg.lookup;
      grant.zone_count = 0;
      grant.zones[grant.zone_count++] = given;
      for (const Zone& own : peers_[z].zones) {
        if (grant.zone_count < kMaxZones) grant.zones[grant.zone_count++] = own;
      }
      prune(z);
      learn(z, msg.origin, &given, 1);
      send(z, msg.origin, grant);
      announce(z, around);  // its old neighbours learn its smaller zone (some are neighbours no more)
      return;
    }
  }
  if (msg.origin == z) {
    finish(z, msg.lookup, z, done.flag != 0, done.value, msg.hops);
  } else {
    send(z, msg.origin, done);
  }
}

void Protocol::finish(PeerIndex requester, std::uint32_t serial, PeerIndex owner, bool found, std::uint32_t value,
                      std::uint32_t hops) {
  Book& book = book_of(requester);
  const auto it = book.active.find(serial);
  if (it == book.active.end()) return;
  LookupRecord r = std::move(it->second);
  book.active.erase(it);
  r.end = net_.now();
  r.owner = owner;
  r.completed = owner != kNoPeer;
  if (keep_records_) hops = r.path.empty() ? 0 : static_cast<std::uint32_t>(r.path.size() - 1);
  r.hops = hops;
  r.found = found;
  if (r.purpose == Purpose::Probe) return;  // maintenance, no lookup of the workload
  if (r.purpose == Purpose::Join) {
    // A join is no lookup of the workload: told in the trace (the views animate it), not counted.
    r.ok = peers_[r.from].joined;
    trace_lookup(TraceKind::LookupDone, r, owner);
    if (!r.ok && join_failed_) join_failed_(r.from);
    return;
  }
  r.ok = r.completed && oracle_ && oracle_(owner, r.key);
  if (r.purpose == Purpose::Get) r.value = value;
  if (r.completed) {
    book.stats.finished(r.hops, r.end - r.start, r.ok);
  } else {
    book.stats.failed();
  }
  trace_lookup(TraceKind::LookupDone, r, owner);
  if (keep_records_) records_.push_back(std::move(r));
}

void Protocol::trace_lookup(TraceKind kind, const LookupRecord& r, PeerIndex other) {
  Trace& trace = net_.trace();
  if (!trace.enabled()) return;
  TraceEvent e;
  e.time = net_.now();
  e.kind = kind;
  e.detail = kind == TraceKind::LookupStart ? static_cast<std::uint8_t>(r.purpose) : r.ok ? 1 : 0;
  e.index = static_cast<std::uint16_t>(r.hops);
  e.peer = r.from;
  e.other = other;
  e.lookup = r.serial;
  e.key = r.key;
  trace.record(e);
}

}  // namespace p2plab::can
