// Routing a message hop by hop to the node numerically closest to its key (lookups, put, get and
// the join message), and the answer back to the requester.
#include <algorithm>

#include "pastry.hpp"

namespace p2plab::pastry {

std::uint32_t Protocol::lookup(PeerIndex x, const Id& key, Purpose purpose, std::uint32_t value) {
  LookupRecord& r = start_record(x, purpose, key);
  const std::uint32_t serial = r.serial;
  r.value = value;
  book_of(x).stats.started();
  Trace& trace = net_.trace();
  if (trace.enabled()) {
    TraceEvent e;
    e.time = net_.now();
    e.kind = TraceKind::LookupStart;
    e.detail = static_cast<std::uint8_t>(purpose);
    e.peer = x;
    e.lookup = serial;
    e.key = key;
    trace.record(e);
  }
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

void Protocol::handle_route(PeerIndex x, Message msg, bool arrived) {
  LookupRecord* record = record_on_route(msg.lookup);
  if (arrived && record != nullptr) record->path.push_back(x);
  if (arrived && msg.purpose == Purpose::Join && x != msg.origin) {
    // The i-th node on the join route (A is the 0-th) gives the newcomer its row i (and the
    // deeper rows it shares with the newcomer); A also its neighbourhood set.
    const int i = msg.hops - 1;
    if (i == 0) {
      Message n;
      n.type = MsgType::JoinNeighbours;
      for (PeerIndex p : peers_[x].neighbours) {
        if (n.count < kMaxList) n.list[n.count++] = p;
      }
      send(x, msg.origin, n);
    }
    send_rows(x, msg.origin, i, msg.lookup);
  }
  // A route longer than any correct one (a loop through stale state) gives up.
  if (msg.hops > 4 * digits_.count() + params_.leaf_set) {
    // (Without records the requester alone knows whether its lookup is still on.)
    if (record != nullptr || (!keep_records_ && msg.lookup != 0)) {
      Message done;
      done.type = MsgType::RouteDone;
      done.lookup = msg.lookup;
      send(x, msg.origin, done);
    }
    return;
  }
  const Decision d = route(x, msg.key);
  RouteStats& route_stats = book_of(x).route_stats;
  ++route_stats.by_rule[static_cast<int>(d.rule)];
  if (d.rule == Decision::Rule::Table) {
    route_stats.table_digits_gained +=
        static_cast<std::uint64_t>(digits_.shared_prefix(net_.id_of(d.next), msg.key) - d.row);
  }
  if (d.rule == Decision::Rule::Deliver) {
    deliver(x, msg);
  } else {
    forward(x, d.next, msg);
  }
}

void Protocol::forward(PeerIndex x, PeerIndex next, Message msg) {
  msg.hops = static_cast<std::uint16_t>(msg.hops + 1);
  const std::uint32_t slot = open_pending(x, next, msg);
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
    case Purpose::Join: {
      // Z, numerically closest to the newcomer: its leaf set becomes the newcomer's.
      Message leaves = leaf_set_message(z, MsgType::JoinLeafSet);
      leaves.lookup = msg.lookup;
      send(z, msg.origin, leaves);
      return;
    }
  }
  if (msg.origin == z) {
    finish(z, msg.lookup, z, done.flag != 0, done.value, msg.hops);
  } else {
    send(z, msg.origin, done);
  }
}

void Protocol::send_rows(PeerIndex node, PeerIndex newcomer, int from_row, std::uint32_t serial) {
  const int shared = digits_.shared_prefix(net_.id_of(node), net_.id_of(newcomer));
  const int last = std::max(from_row, std::min(shared, rows_in_use(node) - 1));
  for (int row = from_row; row <= last; ++row) {
    Message m;
    m.type = MsgType::JoinRow;
    m.row = static_cast<std::uint16_t>(row);
    m.lookup = serial;
    for (int c = 0; c < digits_.columns(); ++c) {
      const PeerIndex e = entry(node, row, c);
      if (e != kNoPeer && m.count < kMaxList) m.list[m.count++] = e;
    }
    send(node, newcomer, m);
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
  r.ok = r.completed && oracle_ && oracle_(owner, r.key, r.purpose == Purpose::Join ? r.from : kNoPeer);
  r.found = found;
  if (r.purpose == Purpose::Get) r.value = value;
  if (r.purpose != Purpose::Join) {
    if (r.completed) {
      book.stats.finished(r.hops, r.end - r.start, r.ok);
    } else {
      book.stats.failed();
    }
  }
  Trace& trace = net_.trace();
  if (trace.enabled()) {
    TraceEvent e;
    e.time = net_.now();
    e.kind = TraceKind::LookupDone;
    e.detail = r.ok ? 1 : 0;
    e.index = static_cast<std::uint16_t>(r.hops);
    e.peer = r.from;
    e.other = owner;
    e.lookup = serial;
    e.key = r.key;
    trace.record(e);
  }
  if (keep_records_) records_.push_back(std::move(r));
}

}  // namespace p2plab::pastry
