// Plausible mistakes in kademlia-buckets (mistakes.txt lists them; ../mistake.hpp explains).
#include <algorithm>

#include "logic.hpp"
#include "mistake.hpp"

namespace p2plab::kademlia::logic {

namespace {

/// Position of `id` in the bucket's entries, or entries.size().
std::size_t position(const Bucket& bucket, const Id& id) {
  std::size_t i = 0;
  while (i < bucket.entries.size() && bucket.entries[i].contact.id != id) ++i;
  return i;
}

void to_tail(Bucket& bucket, std::size_t at, const Contact& contact, std::int64_t now) {
  BucketEntry e = bucket.entries[at];
  if (at == 0) bucket.ping_pending = false;
  e.contact = contact;
  if (!mistake("refresh-keeps-failures")) e.failures = 0;
  e.stale = false;
  e.last_seen = now;
  bucket.entries.erase(bucket.entries.begin() + static_cast<std::ptrdiff_t>(at));
  if (mistake("refresh-to-head")) {
    bucket.entries.insert(bucket.entries.begin(), e);
  } else {
    bucket.entries.push_back(e);
  }
}

/// Removes entry `at`; the cache's most recent contact (or its oldest, by mistake) takes its place.
std::optional<Contact> replace(Bucket& bucket, std::size_t at) {
  if (at == 0) bucket.ping_pending = false;
  bucket.entries.erase(bucket.entries.begin() + static_cast<std::ptrdiff_t>(at));
  if (bucket.replacements.empty()) return std::nullopt;
  const auto from = mistake("oldest-replacement") ? bucket.replacements.begin() : bucket.replacements.end() - 1;
  const Contact in = *from;
  bucket.replacements.erase(from);
  bucket.entries.push_back({in, 0, false, 0});
  return in;
}

}  // namespace

int bucket_index(const Id& self, const Id& other) {
  const int width = xor_distance(self, other).bit_width();
  if (mistake("index-off-by-one")) return width;
  if (mistake("common-prefix-length")) return 160 - width;
  if (mistake("equal-ids-bucket-zero") && width == 0) return 0;
  return width - 1;
}

HeardResult heard_from(Bucket& bucket, const Contact& contact, std::int64_t now, const RoutingTableConfig& config) {
  const std::size_t at = position(bucket, contact.id);
  if (at < bucket.entries.size()) {
    to_tail(bucket, at, contact, now);
    return {Heard::Refreshed, std::nullopt};
  }
  std::erase_if(bucket.replacements, [&](const Contact& c) { return c.id == contact.id; });
  if (bucket.entries.size() < config.k) {
    bucket.entries.push_back({contact, 0, false, now});
    return {Heard::Added, std::nullopt};
  }
  std::size_t stale = 0;
  while (stale < bucket.entries.size() && !bucket.entries[stale].stale) ++stale;
  if (stale < bucket.entries.size() || mistake("evict-without-ping")) {
    if (stale == bucket.entries.size()) stale = 0;  // the mistake: the head goes, unasked
    if (stale == 0) bucket.ping_pending = false;
    bucket.entries.erase(bucket.entries.begin() + static_cast<std::ptrdiff_t>(stale));
    bucket.entries.push_back({contact, 0, false, now});
    return {Heard::ReplacedStale, std::nullopt};
  }
  if (config.replacements > 0 && !mistake("drop-newcomer")) {
    if (bucket.replacements.size() >= config.replacements) bucket.replacements.erase(bucket.replacements.begin());
    bucket.replacements.push_back(contact);
  }
  HeardResult result{Heard::Cached, std::nullopt};
  const bool due = config.ping_after <= 0 || now - bucket.entries.front().last_seen >= config.ping_after;
  if ((!bucket.ping_pending || mistake("ping-every-newcomer")) && due) {
    bucket.ping_pending = true;
    result.ping_oldest = bucket.entries.front().contact;
  }
  return result;
}

void ping_answered(Bucket& bucket, const Id& id, std::int64_t now) {
  const std::size_t at = position(bucket, id);
  if (at == bucket.entries.size()) return;
  to_tail(bucket, at, bucket.entries[at].contact, now);
  bucket.ping_pending = false;
}

std::optional<Contact> ping_failed(Bucket& bucket, const Id& id) {
  const std::size_t at = position(bucket, id);
  if (at == bucket.entries.size()) return std::nullopt;
  bucket.ping_pending = false;
  return replace(bucket, at);
}

bool rpc_failed(Bucket& bucket, const Id& id, const RoutingTableConfig& config) {
  const std::size_t at = position(bucket, id);
  if (at == bucket.entries.size()) return false;
  BucketEntry& e = bucket.entries[at];
  ++e.failures;
  if (mistake("never-stale")) return false;
  const std::uint32_t limit = mistake("stale-one-late") ? config.stale_after + 1 : config.stale_after;
  if (e.failures < limit) return false;
  if (bucket.replacements.empty()) {
    e.stale = true;
    return false;
  }
  replace(bucket, at);
  return true;
}

}  // namespace p2plab::kademlia::logic
