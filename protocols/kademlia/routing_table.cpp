#include "routing_table.hpp"

#include <algorithm>
#include <stdexcept>

#include "logic.hpp"

namespace p2plab::kademlia {

Id xor_distance(const Id& a, const Id& b) {
  Id d;
  for (std::size_t i = 0; i < d.limb.size(); ++i) d.limb[i] = a.limb[i] ^ b.limb[i];
  return d;
}

int bucket_index(const Id& self, const Id& other) { return xor_distance(self, other).bit_width() - 1; }

RoutingTable::RoutingTable(const Id& self, const RoutingTableConfig& config) : self_(self), config_(config) {
  if (config.bits < 1 || config.bits > IdSpace::kMaxBits)
    throw std::invalid_argument("RoutingTable: bits out of range");
  if (config.k == 0) throw std::invalid_argument("RoutingTable: k must be at least 1");
  if (config.stale_after == 0) throw std::invalid_argument("RoutingTable: stale_after must be at least 1");
}

Bucket* RoutingTable::bucket_for(int i, bool create) {
  const auto j = static_cast<std::size_t>(config_.bits - 1 - i);
  if (j >= buckets_.size()) {
    if (!create) return nullptr;
    buckets_.resize(j + 1);
  }
  return &buckets_[j];
}

const Bucket* RoutingTable::bucket_at(int i) const {
  if (i < 0 || i >= config_.bits) return nullptr;
  const auto j = static_cast<std::size_t>(config_.bits - 1 - i);
  return j < buckets_.size() ? &buckets_[j] : nullptr;
}

const Bucket& RoutingTable::bucket(int i) const {
  static const Bucket empty;
  const Bucket* b = bucket_at(i);
  return b ? *b : empty;
}

BucketEntry* RoutingTable::find_entry(const Id& id, Bucket** bucket_out) {
  Bucket* b = bucket_holding(id);
  if (!b) return nullptr;
  for (BucketEntry& e : b->entries) {
    if (e.contact.id == id) {
      if (bucket_out) *bucket_out = b;
      return &e;
    }
  }
  return nullptr;
}

const BucketEntry* RoutingTable::find(const Id& id) const {
  return const_cast<RoutingTable*>(this)->find_entry(id, nullptr);
}

bool RoutingTable::contains(const Id& id) const { return find(id) != nullptr; }

void RoutingTable::promote_replacement(Bucket& bucket) {
  if (bucket.replacements.empty() || bucket.entries.size() >= config_.k) return;
  // last_seen 0: how fresh the cached contact is is not known, so it may be pinged at once.
  bucket.entries.push_back({bucket.replacements.back(), 0, false, 0});
  bucket.replacements.pop_back();
}

int RoutingTable::placement(const Id& id) const {
  if (id == self_) return -1;  // whatever bucket_index says: a node never lists itself
  const int i = logic::bucket_index(self_, id);
  return i >= 0 && i < config_.bits ? i : -1;
}

Bucket* RoutingTable::bucket_holding(const Id& id) {
  const int i = placement(id);
  return i < 0 ? nullptr : bucket_for(i, false);
}

HeardResult RoutingTable::heard_from(const Contact& contact, std::int64_t now) {
  const int i = placement(contact.id);
  if (i < 0) return {};
  return logic::heard_from(*bucket_for(i, true), contact, now, config_);
}

void RoutingTable::ping_answered(const Id& id, std::int64_t now) {
  if (Bucket* b = bucket_holding(id)) logic::ping_answered(*b, id, now);
}

std::optional<Contact> RoutingTable::ping_failed(const Id& id) {
  Bucket* b = bucket_holding(id);
  return b ? logic::ping_failed(*b, id) : std::nullopt;
}

bool RoutingTable::rpc_failed(const Id& id) {
  Bucket* b = bucket_holding(id);
  return b && logic::rpc_failed(*b, id, config_);
}

bool RoutingTable::remove(const Id& id) {
  Bucket* b = nullptr;
  BucketEntry* e = find_entry(id, &b);
  if (!e) return false;
  if (e == b->entries.data()) b->ping_pending = false;
  b->entries.erase(b->entries.begin() + (e - b->entries.data()));
  promote_replacement(*b);
  return true;
}

std::vector<Contact> RoutingTable::closest(const Id& target, std::size_t count) const {
  std::vector<Contact> out;
  if (count == 0) return out;
  // Whole groups of buckets, nearest first (visit_buckets_by_distance), until there are enough;
  // then sort them (each distance computed once).
  std::vector<std::pair<Id, const Contact*>> found;
  auto take = [&](int j) {
    const Bucket* bucket = bucket_at(j);
    if (!bucket) return;
    for (const BucketEntry& e : bucket->entries) {
      if (!e.stale) found.emplace_back(xor_distance(e.contact.id, target), &e.contact);
    }
  };
  // The bucket the target would be placed in (student code may answer anything: kept in range).
  const int b = std::clamp(logic::bucket_index(self_, target), -1, config_.bits - 1);
  // Only buckets from the lowest one stored up: the others were never used.
  const int lowest = config_.bits - static_cast<int>(buckets_.size());
  visit_buckets_by_distance(b, lowest, config_.bits, take, [&] { return found.size() >= count; });
  const std::size_t n = std::min(count, found.size());
  const auto by_distance = [](const auto& x, const auto& y) { return x.first < y.first; };
  std::partial_sort(found.begin(), found.begin() + static_cast<std::ptrdiff_t>(n), found.end(), by_distance);
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(*found[i].second);
  return out;
}

std::size_t RoutingTable::size() const {
  std::size_t n = 0;
  for (const Bucket& b : buckets_) n += b.entries.size();
  return n;
}

std::vector<Contact> RoutingTable::contacts() const {
  std::vector<Contact> out;
  for (int i = 0; i < config_.bits; ++i) {
    for (const BucketEntry& e : bucket(i).entries) out.push_back(e.contact);
  }
  return out;
}

int RoutingTable::lowest_nonempty() const {
  for (int i = 0; i < config_.bits; ++i) {
    if (!bucket(i).entries.empty()) return i;
  }
  return config_.bits;
}

std::vector<Id> true_closest(const std::vector<Id>& ids, const Id& target, std::size_t count) {
  std::vector<Id> out = ids;
  const auto by_distance = [&](const Id& x, const Id& y) { return closer(target, x, y); };
  if (out.size() > count) {
    std::nth_element(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(count), out.end(), by_distance);
    out.resize(count);
  }
  std::sort(out.begin(), out.end(), by_distance);
  return out;
}

}  // namespace p2plab::kademlia
