#include "peer_tables.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <stdexcept>

#include "logic.hpp"

namespace p2plab::kademlia {

PeerTables::PeerTables(const RoutingTableConfig& config, const Transport<Message>& ids)
    : config_(config), ids_(ids), scratch_(ids.partitions()) {
  // The checks RoutingTable's constructor makes.
  (void)RoutingTable(Id(), config);
}

void PeerTables::add_through(PeerIndex n) {
  if (tables_.size() <= n) tables_.resize(static_cast<std::size_t>(n) + 1);
}

void PeerTables::reserve(PeerIndex n, std::size_t contacts) {
  flush_for(n);
  tables_[n].slots.reserve(contacts);
}

void PeerTables::shrink(PeerIndex n) {
  flush_for(n);
  tables_[n].slots.shrink_to_fit();
}

void PeerTables::prefetch_entries(PeerIndex n, const Id& key) const {
  if (n >= tables_.size()) return;
  const Table& table = tables_[n];
  const auto lines = [&](std::size_t first, std::size_t count) {
    const char* p = reinterpret_cast<const char*>(table.slots.data() + first);
    for (std::size_t offset = 0; offset < count * sizeof(Slot); offset += 64) __builtin_prefetch(p + offset);
  };
  // Bucket m-1 holds half of all ids, bucket m-2 a quarter...: their entries come first.
  lines(0, std::min<std::size_t>(table.slots.size(), 32));
  // The engine's bucket_index, not the student's: only a hint of which lines to fetch.
  const int i = bucket_index(ids_.id_of(n), key);
  const int j = config_.bits - 1 - i;
  if (i >= 0 && j < table.stored) {
    const auto u = static_cast<std::size_t>(j);
    lines(first_slot(table, u), table.heads[u] & kCountMask);
  }
}

std::size_t PeerTables::first_slot(const Table& table, std::size_t j) {
  std::size_t first = 0;
  for (std::size_t b = 0; b < j; ++b) first += table.heads[b] & kCountMask;
  return first;
}

std::uint64_t PeerTables::top64(const Id& id) const {
  const int shift = config_.bits - 64;
  if (shift <= 0) return id.low64();
  const int limb = shift / 64, offset = shift % 64;
  std::uint64_t v = id.limb[static_cast<std::size_t>(limb)] >> offset;
  if (offset > 0 && limb < 2) v |= id.limb[static_cast<std::size_t>(limb) + 1] << (64 - offset);
  return v;
}

int PeerTables::placement(PeerIndex n, const Id& id) const {
  const Id& self = ids_.id_of(n);
  if (id == self) return -1;  // whatever bucket_index says: a node never lists itself
  const int i = logic::bucket_index(self, id);
  return i >= 0 && i < config_.bits ? i : -1;
}

std::ptrdiff_t PeerTables::stored(PeerIndex n, int i) const {
  const auto j = static_cast<std::size_t>(config_.bits - 1 - i);
  return j < tables_[n].stored ? static_cast<std::ptrdiff_t>(j) : -1;
}

Bucket& PeerTables::open(PeerIndex n, int i) const {
  Scratch& scratch = scratch_of(n);
  if (scratch.open_node == n && scratch.open_index == i) return scratch.open_bucket;
  flush(scratch);
  Bucket& b = scratch.open_bucket;
  b.entries.clear();
  b.replacements.clear();
  b.ping_pending = false;
  if (const std::ptrdiff_t j = stored(n, i); j >= 0) {
    const Table& table = tables_[n];
    const auto u = static_cast<std::size_t>(j);
    const Slot* first = table.slots.data() + first_slot(table, u);
    const Slot* const end = first + (table.heads[u] & kCountMask);
    // The ids are scattered over the simulator's table: ask for all of them before using one.
    for (const Slot* s = first; s != end; ++s) __builtin_prefetch(&ids_.id_of(s->peer));
    for (const Slot* s = first; s != first + (table.heads[u] & kCountMask); ++s)
      b.entries.push_back({{ids_.id_of(s->peer), s->peer}, s->failures, s->stale != 0, s->last_seen});
    if (u < table.replacements.size()) {
      for (PeerIndex p : table.replacements[u]) b.replacements.push_back({ids_.id_of(p), p});
    }
    b.ping_pending = (table.heads[u] & kPingPending) != 0;
  }
  scratch.open_node = n;
  scratch.open_index = i;
  return b;
}

void PeerTables::flush(Scratch& scratch) const {
  if (scratch.open_node == kNoPeer) return;
  const Bucket& b = scratch.open_bucket;
  Table& table = tables_[scratch.open_node];
  const auto j = static_cast<std::size_t>(config_.bits - 1 - scratch.open_index);
  scratch.open_node = kNoPeer;
  if (j >= table.stored) {
    if (b.entries.empty() && b.replacements.empty() && !b.ping_pending) return;  // nothing to keep
    table.stored = static_cast<std::uint8_t>(j + 1);                             // the heads beyond were left zero
  }
  // Bucket j's run of slots grows or shrinks to its new count, then is overwritten.
  const std::size_t first = first_slot(table, j), before = table.heads[j] & kCountMask, after = b.entries.size();
  if (after > kCountMask)
    throw std::length_error("kademlia: a k-bucket holds more than 32767 contacts (k is at most 32)");
  const auto at = table.slots.begin() + static_cast<std::ptrdiff_t>(first);
  if (after > before) table.slots.insert(at + static_cast<std::ptrdiff_t>(before), after - before, Slot{});
  if (after < before)
    table.slots.erase(at + static_cast<std::ptrdiff_t>(after), at + static_cast<std::ptrdiff_t>(before));
  constexpr std::uint32_t kMaxFailures = std::numeric_limits<std::int32_t>::max();
  for (std::size_t e = 0; e < after; ++e) {
    const BucketEntry& from = b.entries[e];
    Slot& s = table.slots[first + e];
    s.order = top64(from.contact.id);
    s.last_seen = from.last_seen;
    s.peer = static_cast<PeerIndex>(from.contact.address);
    s.failures = std::min(from.failures, kMaxFailures) & kMaxFailures;  // the mask: no -Wconversion
    s.stale = from.stale ? 1 : 0;
  }
  table.heads[j] = static_cast<std::uint16_t>(after | (b.ping_pending ? kPingPending : 0));
  if (!b.replacements.empty() && table.replacements.size() <= j) table.replacements.resize(j + 1);
  if (j < table.replacements.size()) {
    std::vector<PeerIndex>& r = table.replacements[j];
    r.assign(b.replacements.size(), kNoPeer);
    for (std::size_t e = 0; e < b.replacements.size(); ++e) r[e] = static_cast<PeerIndex>(b.replacements[e].address);
  }
}

HeardResult PeerTables::heard_from(PeerIndex n, const Contact& contact, std::int64_t now) {
  const int i = placement(n, contact.id);
  if (i < 0) return {};
  return logic::heard_from(open(n, i), contact, now, config_);
}

void PeerTables::ping_answered(PeerIndex n, PeerIndex who, std::int64_t now) {
  const Id& id = ids_.id_of(who);
  if (const int i = placement(n, id); i >= 0) logic::ping_answered(open(n, i), id, now);
}

void PeerTables::ping_failed(PeerIndex n, PeerIndex who) {
  const Id& id = ids_.id_of(who);
  if (const int i = placement(n, id); i >= 0) logic::ping_failed(open(n, i), id);
}

void PeerTables::rpc_failed(PeerIndex n, PeerIndex who) {
  const Id& id = ids_.id_of(who);
  if (const int i = placement(n, id); i >= 0) logic::rpc_failed(open(n, i), id, config_);
}

std::vector<Contact> PeerTables::closest(PeerIndex n, const Id& target, std::size_t count) const {
  const std::vector<PeerIndex>& peers = closest_peers(n, target, count);
  for (PeerIndex p : peers) __builtin_prefetch(&ids_.id_of(p));
  std::vector<Contact> out;
  out.reserve(peers.size());
  for (PeerIndex p : peers) out.push_back({ids_.id_of(p), p});
  return out;
}

const std::vector<PeerIndex>& PeerTables::closest_peers(PeerIndex n, const Id& target, std::size_t count) const {
  Scratch& scratch = scratch_of(n);
  std::vector<PeerIndex>& closest = scratch.closest;
  std::vector<Near>& near = scratch.near;
  closest.clear();
  if (count == 0) return closest;
  flush(scratch);
  const Table& table = tables_[n];
  near.clear();
  // Slot positions of buckets j = 0 .. size-1 (the walk visits them out of order).
  std::array<std::uint32_t, IdSpace::kMaxBits + 1> first{};
  for (std::size_t j = 0; j < table.stored; ++j) first[j + 1] = first[j] + (table.heads[j] & kCountMask);
  auto take = [&](int i) {
    const std::ptrdiff_t j = stored(n, i);
    if (j < 0) return;
    const Slot* s = table.slots.data() + first[static_cast<std::size_t>(j)];
    for (const Slot* end = table.slots.data() + first[static_cast<std::size_t>(j) + 1]; s != end; ++s) {
      if (!s->stale) near.push_back({s->order, s->peer});
    }
  };
  const Id& self = ids_.id_of(n);
  const int b = std::clamp(logic::bucket_index(self, target), -1, config_.bits - 1);
  const int lowest = config_.bits - static_cast<int>(table.stored);
  visit_buckets_by_distance(b, lowest, config_.bits, take, [&] { return near.size() >= count; });
  // By the distances' top 64 bits; only two contacts whose ids agree on those need their ids.
  const std::uint64_t t = top64(target);
  const auto by_distance = [&](const Near& x, const Near& y) {
    const std::uint64_t dx = x.order ^ t, dy = y.order ^ t;
    if (dx != dy) return dx < dy;
    if (x.peer == y.peer) return false;  // a sort may compare an element with itself
    return xor_distance(ids_.id_of(x.peer), target) < xor_distance(ids_.id_of(y.peer), target);
  };
  const std::size_t k = std::min(count, near.size());
  // Distances differ (one bucket entry per id), so any sort gives the same order. A FIND_NODE
  // gathers about k to 2k entries: a plain sort of them beats partial_sort's heap.
  if (near.size() <= 4 * k) {
    std::sort(near.begin(), near.end(), by_distance);
  } else {
    std::partial_sort(near.begin(), near.begin() + static_cast<std::ptrdiff_t>(k), near.end(), by_distance);
  }
  for (std::size_t e = 0; e < k; ++e) closest.push_back(near[e].peer);
  return closest;
}

std::size_t PeerTables::size(PeerIndex n) const {
  flush_for(n);
  return tables_[n].slots.size();
}

int PeerTables::lowest_nonempty(PeerIndex n) const {
  flush_for(n);
  for (int i = 0; i < config_.bits; ++i) {
    const std::ptrdiff_t j = stored(n, i);
    if (j >= 0 && (tables_[n].heads[static_cast<std::size_t>(j)] & kCountMask) != 0) return i;
  }
  return config_.bits;
}

Bucket PeerTables::bucket(PeerIndex n, int i) const {
  flush_for(n);
  Bucket copy = open(n, i);
  flush_for(n);
  return copy;
}

}  // namespace p2plab::kademlia
