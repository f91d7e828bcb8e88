#include "routing_table.hpp"

#include <algorithm>
#include <stdexcept>

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
  const int i = bucket_index(self_, id);
  if (i < 0 || i >= config_.bits) return nullptr;
  Bucket* b = bucket_for(i, false);
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

HeardResult RoutingTable::heard_from(const Contact& contact, std::int64_t now) {
  const int i = bucket_index(self_, contact.id);
  if (i < 0 || i >= config_.bits) return {};
  Bucket& b = *bucket_for(i, true);
  const auto it = std::find_if(b.entries.begin(), b.entries.end(),
                               [&](const BucketEntry& e) { return e.contact.id == contact.id; });
  if (it != b.entries.end()) {
    // Seen again: to the back (most recently seen), alive after all. The address may change
    // (a real node behind a new port).
    const bool was_oldest = it == b.entries.begin();
    BucketEntry e = *it;
    e.contact = contact;
    e.failures = 0;
    e.stale = false;
    e.last_seen = now;
    b.entries.erase(it);
    b.entries.push_back(e);
    if (was_oldest) b.ping_pending = false;  // it proved itself alive
    return {Heard::Refreshed, std::nullopt};
  }
  // A newcomer is no longer merely a replacement candidate.
  std::erase_if(b.replacements, [&](const Contact& c) { return c.id == contact.id; });
  if (b.entries.size() < config_.k) {
    b.entries.push_back({contact, 0, false, now});
    return {Heard::Added, std::nullopt};
  }
  const auto stale = std::find_if(b.entries.begin(), b.entries.end(), [](const BucketEntry& e) { return e.stale; });
  if (stale != b.entries.end()) {
    if (stale == b.entries.begin()) b.ping_pending = false;
    b.entries.erase(stale);
    b.entries.push_back({contact, 0, false, now});
    return {Heard::ReplacedStale, std::nullopt};
  }
  if (config_.replacements > 0) {
    if (b.replacements.size() >= config_.replacements) b.replacements.erase(b.replacements.begin());
    b.replacements.push_back(contact);
  }
  HeardResult result{Heard::Cached, std::nullopt};
  if (!b.ping_pending && (config_.ping_after <= 0 || now - b.entries.front().last_seen >= config_.ping_after)) {
    b.ping_pending = true;
    result.ping_oldest = b.entries.front().contact;
  }
  return result;
}

void RoutingTable::ping_answered(const Id& id, std::int64_t now) {
  Bucket* b = nullptr;
  const BucketEntry* e = find_entry(id, &b);
  if (!e) return;
  const Contact contact = e->contact;
  heard_from(contact, now);  // to the back, failures reset
  b->ping_pending = false;
}

std::optional<Contact> RoutingTable::ping_failed(const Id& id) {
  Bucket* b = nullptr;
  BucketEntry* e = find_entry(id, &b);
  if (!e) return std::nullopt;
  b->ping_pending = false;
  b->entries.erase(b->entries.begin() + (e - b->entries.data()));
  if (b->replacements.empty()) return std::nullopt;
  promote_replacement(*b);
  return b->entries.back().contact;
}

bool RoutingTable::rpc_failed(const Id& id) {
  Bucket* b = nullptr;
  BucketEntry* e = find_entry(id, &b);
  if (!e) return false;
  if (++e->failures < config_.stale_after) return false;
  if (b->replacements.empty()) {
    e->stale = true;
    return false;
  }
  if (e == b->entries.data()) b->ping_pending = false;
  b->entries.erase(b->entries.begin() + (e - b->entries.data()));
  promote_replacement(*b);
  return true;
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
  // Distances from target of the contacts in bucket j, with b = bucket_index(self, target):
  // j == b: below 2^b; j < b: in [2^b, 2^(b+1)); j > b: in [2^j, 2^(j+1)). So the groups {b},
  // {all j < b}, {b+1}, {b+2}, ... come in increasing distance: gather whole groups until
  // there are enough, then sort (each distance computed once).
  std::vector<std::pair<Id, const Contact*>> found;
  auto take = [&](int j) {
    const Bucket* bucket = bucket_at(j);
    if (!bucket) return;
    for (const BucketEntry& e : bucket->entries) {
      if (!e.stale) found.emplace_back(xor_distance(e.contact.id, target), &e.contact);
    }
  };
  const int b = bucket_index(self_, target);
  if (b >= 0) {
    take(b);
    if (found.size() < count) {
      // Only buckets from the lowest one stored up: the others were never used.
      const int lowest = config_.bits - static_cast<int>(buckets_.size());
      for (int j = b - 1; j >= lowest; --j) take(j);
    }
  }
  for (int j = b + 1; j < config_.bits && found.size() < count; ++j) take(j);
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
