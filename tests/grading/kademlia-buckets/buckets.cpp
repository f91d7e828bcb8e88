// Graded tests of exercise kademlia-buckets: bucket_index, and the k-bucket's update when a
// contact is heard from, answers a ping, or fails. Expectations: the highest differing bit
// computed bit by bit, and the paper's rules (section 2.2, 4.1) written out step by step; the real
// protocol's buckets against the XOR ranges of the live ids.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "grading.hpp"
#include "kademlia_support.hpp"

using namespace p2plab;
using namespace p2plab::grading::kad;
namespace logic = p2plab::kademlia::logic;

namespace {

using Ids = std::vector<std::uint64_t>;

RoutingTableConfig rules(std::size_t k, std::size_t replacements, std::uint32_t stale_after = 5,
                         std::int64_t ping_after = 0) {
  RoutingTableConfig c;
  c.k = k;
  c.replacements = replacements;
  c.stale_after = stale_after;
  c.ping_after = ping_after;
  return c;
}

/// A bucket holding `ids` (head first), each last seen at 0.
Bucket bucket_of(const std::vector<std::uint64_t>& ids) {
  Bucket b;
  for (std::uint64_t id : ids) b.entries.push_back({contact(id), 0, false, 0});
  return b;
}

/// heard_from(contact(id)) must give `outcome`, ping `ping` (0: nobody) and leave the bucket with
/// these entries and replacements.
void hear(Bucket& b, std::uint64_t id, std::int64_t now, const RoutingTableConfig& config, Heard outcome,
          std::uint64_t ping, const std::vector<std::uint64_t>& entries,
          const std::vector<std::uint64_t>& replacements) {
  const std::string before = describe(b);
  const HeardResult r = logic::heard_from(b, contact(id), now, config);
  INFO("heard from " << id << " at time " << now << " with k = " << config.k << ", bucket before: " << before
                     << ", after: " << describe(b));
  CHECK_MESSAGE(r.outcome == outcome,
                "the outcome should be " << outcome_name(outcome) << ", your code said " << outcome_name(r.outcome));
  if (ping == 0) {
    CHECK_MESSAGE(!r.ping_oldest.has_value(), "nobody should be pinged, your code asked to ping "
                                                  << (r.ping_oldest ? name(r.ping_oldest->id) : ""));
  } else {
    CHECK_MESSAGE(r.ping_oldest.has_value(), "the head " << ping << " should be pinged, your code pinged nobody");
    if (r.ping_oldest) {
      CHECK_MESSAGE(*r.ping_oldest == contact(ping), "the head " << ping << " should be pinged (its contact, with its "
                                                                 << "address), your code asked to ping "
                                                                 << name(r.ping_oldest->id));
    }
  }
  CHECK_MESSAGE(entry_ids(b) == entries,
                "the bucket should hold " << list(entries) << " (head first), it holds " << list(entry_ids(b)));
  CHECK_MESSAGE(replacement_ids(b) == replacements, "the replacement cache should hold " << list(replacements)
                                                                                         << " (oldest first), it holds "
                                                                                         << list(replacement_ids(b)));
}

const BucketEntry* entry(const Bucket& b, std::uint64_t id) {
  for (const BucketEntry& e : b.entries) {
    if (e.contact.id == Id(id)) return &e;
  }
  return nullptr;
}

}  // namespace

GRADED_TEST("kademlia-buckets", 3, "bucket_index is the highest differing bit for every pair of 5-bit ids and random 160-bit ids") {
  int wrong = 0;
  for (std::uint64_t a = 0; a < 32; ++a) {
    for (std::uint64_t b = 0; b < 32; ++b) {
      const int want = highest_differing_bit(Id(a), Id(b));
      const int got = logic::bucket_index(Id(a), Id(b));
      if (got != want && ++wrong <= 3) {
        CHECK_MESSAGE(got == want, "bucket_index("
                                       << a << ", " << b << ") should be " << want << " (XOR " << (a ^ b)
                                       << std::string(want < 0 ? ": the same id" : " lies in [2^i, 2^(i+1))")
                                       << "), your code returned " << got);
      }
    }
  }
  // 160-bit ids: every bit position (across the 64-bit limbs), then random pairs.
  std::mt19937_64 rng(1402);
  for (int i = 0; i < 160; ++i) {
    const Id a = random_id(rng);
    Id b = a;
    b.limb[static_cast<std::size_t>(i / 64)] ^= std::uint64_t{1} << (i % 64);
    if (i > 0) b.limb[0] ^= rng() & ((std::uint64_t{1} << std::min(i, 63)) - 1);  // lower bits may differ too
    const int got = logic::bucket_index(a, b);
    if (got != i && ++wrong <= 6) {
      CHECK_MESSAGE(got == i, "two 160-bit ids whose highest differing bit is "
                                  << i << " (" << name(a) << " and " << name(b) << "): bucket " << i
                                  << " expected, your code returned " << got);
    }
  }
  for (int n = 0; n < 500; ++n) {
    const Id a = random_id(rng), b = random_id(rng);
    const int want = highest_differing_bit(a, b);
    const int got = logic::bucket_index(a, b);
    if (got != want && ++wrong <= 9) {
      CHECK_MESSAGE(got == want, "bucket_index(" << name(a) << ", " << name(b) << ") should be " << want
                                                 << ", your code returned " << got);
    }
  }
  CHECK_MESSAGE(wrong == 0, wrong << " wrong bucket indices (the first are shown above)");
}

GRADED_TEST("kademlia-buckets", 3, "heard_from moves a known contact to the tail and appends a newcomer while there is room") {
  const RoutingTableConfig config = rules(4, 2);
  Bucket b;
  hear(b, 5, 10, config, Heard::Added, 0, {5}, {});
  hear(b, 6, 20, config, Heard::Added, 0, {5, 6}, {});
  hear(b, 7, 30, config, Heard::Added, 0, {5, 6, 7}, {});
  // 5 again, from a new address (a real node behind a new port): to the tail, address updated.
  const std::string before = describe(b);
  const HeardResult r = logic::heard_from(b, Contact{Id(5), 9999}, 40, config);
  CHECK_MESSAGE(r.outcome == Heard::Refreshed, "hearing 5 again (bucket " << before
                                                                          << ") should be Refreshed, your code said "
                                                                          << outcome_name(r.outcome));
  CHECK_MESSAGE((entry_ids(b) == Ids{6, 7, 5}),
                "5 heard again should move to the tail (most recently seen): [6, 7, 5] expected, the bucket holds "
                    << list(entry_ids(b)));
  if (const BucketEntry* e = entry(b, 5)) {
    CHECK_MESSAGE(e->contact.address == 9999, "5 came from a new address: the entry should have it");
    CHECK_MESSAGE(e->last_seen == 40, "5 was heard from at time 40: last_seen should be 40, it is " << e->last_seen);
  }
  // A contact with failures that speaks again is alive: failures forgotten, not stale.
  REQUIRE_MESSAGE((entry_ids(b) == Ids{6, 7, 5}), "the bucket should hold [6, 7, 5], it holds " << list(entry_ids(b)));
  b.entries[0].failures = 3;
  b.entries[0].stale = true;
  hear(b, 6, 50, config, Heard::Refreshed, 0, {7, 5, 6}, {});
  if (const BucketEntry* e = entry(b, 6)) {
    CHECK_MESSAGE(e->failures == 0, "6 answered: its failures should be reset to 0, they are " << e->failures);
    CHECK_MESSAGE(!e->stale, "6 answered: it is no longer stale");
  }
  hear(b, 6, 55, config, Heard::Refreshed, 0, {7, 5, 6}, {});
  hear(b, 8, 60, config, Heard::Added, 0, {7, 5, 6, 8}, {});
  hear(b, 7, 70, config, Heard::Refreshed, 0, {5, 6, 8, 7}, {});
  CHECK_MESSAGE(!b.ping_pending, "no ping was asked for: ping_pending should be false");
}

GRADED_TEST("kademlia-buckets", 3, "heard_from on a full bucket caches the newcomer and pings the least-recently seen head once") {
  const RoutingTableConfig config = rules(3, 2);
  Bucket b = bucket_of({1, 2, 3});
  hear(b, 4, 100, config, Heard::Cached, 1, {1, 2, 3}, {4});
  CHECK_MESSAGE(b.ping_pending, "the head was asked to prove it is alive: ping_pending should be true");
  hear(b, 5, 110, config, Heard::Cached, 0, {1, 2, 3}, {4, 5});  // a ping is out already
  hear(b, 6, 120, config, Heard::Cached, 0, {1, 2, 3}, {5, 6});  // the cache holds 2: its oldest goes
  hear(b, 5, 130, config, Heard::Cached, 0, {1, 2, 3}, {6, 5});  // heard again: the cache's tail
  hear(b, 2, 140, config, Heard::Refreshed, 0, {1, 3, 2}, {6, 5});
  CHECK_MESSAGE(b.ping_pending, "2 is not the head: the ping of 1 is still pending");
  hear(b, 1, 150, config, Heard::Refreshed, 0, {3, 2, 1}, {6, 5});  // the head spoke: alive
  CHECK_MESSAGE(!b.ping_pending, "the head 1 was heard from: no ping pending any more");
  hear(b, 7, 160, config, Heard::Cached, 3, {3, 2, 1}, {5, 7});
  // No replacement cache at all: the newcomer is dropped, the head still pinged.
  Bucket small = bucket_of({8, 9});
  hear(small, 10, 0, rules(2, 0), Heard::Cached, 8, {8, 9}, {});
  // ping_after: a head heard from recently is not pinged (BEP 5's 15 minutes).
  const RoutingTableConfig patient = rules(2, 2, 5, 50);
  Bucket fresh = bucket_of({11, 12});
  fresh.entries[0].last_seen = 90;
  hear(fresh, 13, 100, patient, Heard::Cached, 0, {11, 12}, {13});
  CHECK_MESSAGE(!fresh.ping_pending, "the head was seen 10 ago (ping_after 50): no ping, none pending");
  hear(fresh, 14, 140, patient, Heard::Cached, 11, {11, 12}, {13, 14});
}

GRADED_TEST("kademlia-buckets", 4, "the pinged head is kept at the tail when it answers and replaced by the newest replacement when it fails") {
  const RoutingTableConfig config = rules(3, 2);
  Bucket b = bucket_of({1, 2, 3});
  hear(b, 4, 100, config, Heard::Cached, 1, {1, 2, 3}, {4});
  logic::ping_answered(b, Id(1), 200);
  CHECK_MESSAGE((entry_ids(b) == Ids{2, 3, 1}),
                "1 answered the ping: it stays, at the tail ([2, 3, 1]), the bucket holds " << list(entry_ids(b)));
  CHECK_MESSAGE((replacement_ids(b) == Ids{4}),
                "the newcomer 4 stays in the replacement cache, the cache holds " << list(replacement_ids(b)));
  CHECK_MESSAGE(!b.ping_pending, "the ping was answered: ping_pending should be false");
  if (const BucketEntry* e = entry(b, 1)) CHECK_MESSAGE(e->last_seen == 200, "1 answered at 200: last_seen 200");
  hear(b, 5, 210, config, Heard::Cached, 2, {2, 3, 1}, {4, 5});
  std::optional<Contact> in = logic::ping_failed(b, Id(2));
  CHECK_MESSAGE((entry_ids(b) == Ids{3, 1, 5}),
                "2 failed the ping: evicted, and the newest replacement 5 takes its place at the tail: [3, 1, 5] "
                "expected, the bucket holds "
                    << list(entry_ids(b)));
  CHECK_MESSAGE((replacement_ids(b) == Ids{4}),
                "5 left the cache: [4] expected, the cache holds " << list(replacement_ids(b)));
  CHECK_MESSAGE((in && *in == contact(5)), "ping_failed should return the contact that took 2's place: 5");
  CHECK_MESSAGE(!b.ping_pending, "the ping has ended: ping_pending should be false");
  hear(b, 6, 220, config, Heard::Cached, 3, {3, 1, 5}, {4, 6});
  in = logic::ping_failed(b, Id(3));
  CHECK_MESSAGE((entry_ids(b) == Ids{1, 5, 6}),
                "3 failed the ping: [1, 5, 6] expected, the bucket holds " << list(entry_ids(b)));
  CHECK_MESSAGE((in && *in == contact(6)), "ping_failed should return 6");
  const Bucket before = b;
  in = logic::ping_failed(b, Id(99));
  CHECK_MESSAGE((!in && entry_ids(b) == entry_ids(before) && replacement_ids(b) == replacement_ids(before)),
                "ping_failed of 99, not in the bucket, should change nothing and return nothing");
  logic::ping_answered(b, Id(99), 300);
  CHECK_MESSAGE(entry_ids(b) == entry_ids(before), "ping_answered of 99, not in the bucket, should change nothing");
  // No replacement: the failed head is evicted and the bucket has room for the next newcomer.
  Bucket small = bucket_of({8, 9});
  hear(small, 10, 0, rules(2, 0), Heard::Cached, 8, {8, 9}, {});
  in = logic::ping_failed(small, Id(8));
  CHECK_MESSAGE((!in && entry_ids(small) == std::vector<std::uint64_t>{9}),
                "8 failed the ping and the cache is empty: the bucket should hold [9] and nothing takes 8's place, it "
                "holds "
                    << list(entry_ids(small)));
  hear(small, 10, 10, rules(2, 0), Heard::Added, 0, {9, 10}, {});
}

GRADED_TEST("kademlia-buckets", 3, "a contact is stale after stale_after failed RPCs and then replaced from the cache or by the next newcomer") {
  const RoutingTableConfig config = rules(3, 2, 3);
  Bucket b = bucket_of({1, 2, 3});
  for (int n = 1; n <= 2; ++n) {
    const bool removed = logic::rpc_failed(b, Id(2), config);
    CHECK_MESSAGE(!removed, "after " << n << " failed RPCs of 3 (stale_after 3), 2 is not removed");
  }
  const BucketEntry* two = entry(b, 2);
  CHECK_MESSAGE((two && two->failures == 2 && !two->stale),
                "2 failed 2 RPCs: failures 2, not stale yet; bucket " << describe(b));
  const bool removed = logic::rpc_failed(b, Id(2), config);
  two = entry(b, 2);
  CHECK_MESSAGE((!removed && two && two->stale),
                "2 failed its 3rd RPC (stale_after 3) with an empty replacement cache: kept but marked stale, and "
                "rpc_failed returns false; bucket "
                    << describe(b));
  hear(b, 4, 100, config, Heard::ReplacedStale, 0, {1, 3, 4}, {});
  hear(b, 5, 110, config, Heard::Cached, 1, {1, 3, 4}, {5});
  for (int n = 1; n <= 2; ++n) CHECK_FALSE(logic::rpc_failed(b, Id(3), config));
  CHECK_MESSAGE(logic::rpc_failed(b, Id(3), config),
                "3 failed its 3rd RPC and the cache holds 5: 3 is removed at once (rpc_failed returns true)");
  CHECK_MESSAGE(
      (entry_ids(b) == Ids{1, 4, 5}),
      "3 removed, the newest replacement 5 at the tail: [1, 4, 5] expected, the bucket holds " << list(entry_ids(b)));
  CHECK_MESSAGE(replacement_ids(b).empty(),
                "5 left the cache: it should be empty, it holds " << list(replacement_ids(b)));
  CHECK_MESSAGE(b.ping_pending, "3 was not the head: the ping of 1 is still pending");
  // The head goes stale while its ping is out: the next newcomer replaces it, no ping pending.
  for (int n = 1; n <= 3; ++n) CHECK_FALSE(logic::rpc_failed(b, Id(1), config));
  hear(b, 6, 120, config, Heard::ReplacedStale, 0, {4, 5, 6}, {});
  CHECK_MESSAGE(!b.ping_pending, "the pinged head 1 was replaced: no ping pending any more");
  CHECK_FALSE(logic::rpc_failed(b, Id(99), config));
  CHECK_MESSAGE((entry_ids(b) == Ids{4, 5, 6}), "rpc_failed of 99, not in the bucket, changes nothing");
}

GRADED_TEST("kademlia-buckets", 2, "end to end: 48 nodes join a 6-bit network and every bucket holds only its XOR range and every lookup finds the true k closest") {
  std::vector<std::uint64_t> ids;
  std::mt19937_64 rng(77);
  while (ids.size() < 48) {
    const std::uint64_t id = rng() % 64;
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  nlohmann::json events = nlohmann::json::array();
  events.push_back({{"at_ms", 40000}, {"op", "lookups"}, {"count", 150}, {"spread_ms", 15000}});
  const nlohmann::json doc = {
      {"protocol", "kademlia"},
      {"seed", 12},
      {"params", {{"m", 6}, {"k", 4}, {"alpha", 2}, {"replacements", 3}, {"rpc_timeout_ms", 500}}},
      {"network", {{"latency", {{"model", "uniform"}, {"min_ms", 10}, {"max_ms", 60}}}}},
      {"peers", {{"ids", ids}}},
      {"bootstrap", "join"},
      {"join_interval_ms", 400},
      {"events", events},
      {"run_ms", 60000}};
  const nlohmann::json result = run_scenario(doc);
  std::vector<std::string> misplaced;
  std::size_t contacts = 0;
  for (const auto& peer : result["peers"]) {
    const Id self = id_of(peer["id"]);
    for (const auto& bucket : peer["buckets"]) {
      const int i = bucket["i"].get<int>();
      CHECK_MESSAGE(bucket["contacts"].size() <= 4, "node " << name(self) << "'s bucket " << i << " holds "
                                                            << bucket["contacts"].size() << " contacts, k = 4 at most");
      for (const char* field : {"contacts", "replacements"}) {
        for (const auto& c : bucket.value(field, nlohmann::json::array())) {
          ++contacts;
          const int want = highest_differing_bit(self, id_of(c));
          if (want != i && misplaced.size() < 5) {
            misplaced.push_back("node " + name(self) + " holds " + name(id_of(c)) + " in bucket " + std::to_string(i) +
                                " (" + field + "), it belongs in bucket " + std::to_string(want) + " (XOR " +
                                name(x_or(self, id_of(c))) + ")");
          }
        }
      }
    }
  }
  CHECK_MESSAGE(contacts >= 48 * 8,
                "the 48 nodes know only " << contacts << " contacts in all: their buckets barely fill");
  CHECK_MESSAGE(misplaced.empty(), "contacts in the wrong bucket:" << lines(misplaced));
  const LookupTally t = check_lookups(result, 4);
  CHECK_MESSAGE(t.total == 150, "150 lookups should have finished, " << t.total << " did");
  CHECK_MESSAGE(t.right == t.total, (t.total - t.right)
                                        << " of " << t.total
                                        << " lookups did not return the true 4 closest:" << lines(t.wrong));
}
