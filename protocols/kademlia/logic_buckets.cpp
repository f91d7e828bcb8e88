// p2plab: reference-only (tools/make-student-release leaves this file out of the student tree)
// Reference solution of exercise kademlia-buckets (see logic.hpp for the contract and
// exercises/kademlia-buckets/README.md for the task). Not part of the student release.
#include <algorithm>

#include "logic.hpp"

namespace p2plab::kademlia::logic {

namespace {

std::vector<BucketEntry>::iterator find_entry(Bucket& bucket, const Id& id) {
  return std::find_if(bucket.entries.begin(), bucket.entries.end(),
                      [&](const BucketEntry& e) { return e.contact.id == id; });
}

/// Seen again: to the tail (most recently seen), alive after all. The address may change (a real
/// node behind a new port).
void refresh(Bucket& bucket, std::vector<BucketEntry>::iterator it, const Contact& contact, std::int64_t now) {
  if (it == bucket.entries.begin()) bucket.ping_pending = false;  // the head proved itself alive
  BucketEntry e = *it;
  e.contact = contact;
  e.failures = 0;
  e.stale = false;
  e.last_seen = now;
  bucket.entries.erase(it);
  bucket.entries.push_back(e);
}

/// Evicts `it` and moves the most recent replacement, if any, to the tail.
void evict(Bucket& bucket, std::vector<BucketEntry>::iterator it) {
  if (it == bucket.entries.begin()) bucket.ping_pending = false;
  bucket.entries.erase(it);
  if (bucket.replacements.empty()) return;
  // last_seen 0: how fresh the cached contact is is not known, so it may be pinged at once.
  bucket.entries.push_back({bucket.replacements.back(), 0, false, 0});
  bucket.replacements.pop_back();
}

}  // namespace

int bucket_index(const Id& self, const Id& other) { return xor_distance(self, other).bit_width() - 1; }

HeardResult heard_from(Bucket& bucket, const Contact& contact, std::int64_t now, const RoutingTableConfig& config) {
  if (const auto it = find_entry(bucket, contact.id); it != bucket.entries.end()) {
    refresh(bucket, it, contact, now);
    return {Heard::Refreshed, std::nullopt};
  }
  // A newcomer is no longer merely a replacement candidate.
  std::erase_if(bucket.replacements, [&](const Contact& c) { return c.id == contact.id; });
  if (bucket.entries.size() < config.k) {
    bucket.entries.push_back({contact, 0, false, now});
    return {Heard::Added, std::nullopt};
  }
  const auto stale =
      std::find_if(bucket.entries.begin(), bucket.entries.end(), [](const BucketEntry& e) { return e.stale; });
  if (stale != bucket.entries.end()) {
    if (stale == bucket.entries.begin()) bucket.ping_pending = false;
    bucket.entries.erase(stale);
    bucket.entries.push_back({contact, 0, false, now});
    return {Heard::ReplacedStale, std::nullopt};
  }
  if (config.replacements > 0) {
    if (bucket.replacements.size() >= config.replacements) bucket.replacements.erase(bucket.replacements.begin());
    bucket.replacements.push_back(contact);
  }
  HeardResult result{Heard::Cached, std::nullopt};
  const BucketEntry& head = bucket.entries.front();
  if (!bucket.ping_pending && (config.ping_after <= 0 || now - head.last_seen >= config.ping_after)) {
    bucket.ping_pending = true;
    result.ping_oldest = head.contact;
  }
  return result;
}

void ping_answered(Bucket& bucket, const Id& id, std::int64_t now) {
  const auto it = find_entry(bucket, id);
  if (it == bucket.entries.end()) return;
  refresh(bucket, it, it->contact, now);
  bucket.ping_pending = false;
}

std::optional<Contact> ping_failed(Bucket& bucket, const Id& id) {
  const auto it = find_entry(bucket, id);
  if (it == bucket.entries.end()) return std::nullopt;
  bucket.ping_pending = false;
  const bool replaced = !bucket.replacements.empty();
  evict(bucket, it);
  if (!replaced) return std::nullopt;
  return bucket.entries.back().contact;
}

bool rpc_failed(Bucket& bucket, const Id& id, const RoutingTableConfig& config) {
  const auto it = find_entry(bucket, id);
  if (it == bucket.entries.end()) return false;
  if (++it->failures < config.stale_after) return false;
  if (bucket.replacements.empty()) {
    it->stale = true;
    return false;
  }
  evict(bucket, it);
  return true;
}

}  // namespace p2plab::kademlia::logic
