// Kademlia's routing table alone (no simulator): XOR and bucket index against bit-by-bit
// arithmetic, least-recently-seen order, ping-the-oldest, replacement cache, stale contacts,
// and closest() against a brute-force sort of every contact. Then the lookup's state machine
// on hand-made answers: alpha, the round after no progress, termination, FIND_VALUE, slow queries.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <vector>

#include "kademlia/peer_tables.hpp"
#include "kademlia/routing_table.hpp"
#include "kademlia/traversal.hpp"
#include "p2plab/rng.hpp"

using namespace p2plab;
using namespace p2plab::kademlia;

namespace {

Id random_id(Rng& rng, int bits) {
  Id id;
  for (auto& limb : id.limb) limb = rng.next_u64();
  return id.low_bits(bits);
}

/// The highest bit where a and b differ, found one bit at a time (the oracle for bucket_index).
int highest_differing_bit(const Id& a, const Id& b) {
  for (int i = 159; i >= 0; --i) {
    if (a.bit(i) != b.bit(i)) return i;
  }
  return -1;
}

std::vector<Id> ids_of(const std::vector<Contact>& contacts) {
  std::vector<Id> out;
  for (const Contact& c : contacts) out.push_back(c.id);
  return out;
}

std::vector<Id> bucket_ids(const RoutingTable& table, int i) {
  std::vector<Id> out;
  for (const BucketEntry& e : table.bucket(i).entries) out.push_back(e.contact.id);
  return out;
}

}  // namespace

TEST_CASE("kademlia routing: XOR distance and bucket index agree with bit-by-bit arithmetic") {
  Rng rng(7);
  for (int bits : {4, 5, 64, 100, 160}) {
    for (int n = 0; n < 200; ++n) {
      const Id a = random_id(rng, bits), b = random_id(rng, bits);
      const Id d = xor_distance(a, b);
      for (int i = 0; i < 160; ++i) REQUIRE(d.bit(i) == (a.bit(i) != b.bit(i)));
      const int i = bucket_index(a, b);
      CHECK(i == highest_differing_bit(a, b));
      if (i >= 0) {
        CHECK(Id::power_of_two(i) <= d);
        CHECK((i == 159 || d < Id::power_of_two(i + 1)));
      }
      CHECK(xor_distance(a, b) == xor_distance(b, a));
    }
  }
  CHECK(bucket_index(Id(5), Id(5)) == -1);
  // The paper's figure: in a 4-bit space, 0b0110 sees 0b0111 in bucket 0, 0b0100 in bucket 1,
  // 0b0000 in bucket 2, 0b1111 in bucket 3.
  CHECK(bucket_index(Id(6), Id(7)) == 0);
  CHECK(bucket_index(Id(6), Id(4)) == 1);
  CHECK(bucket_index(Id(6), Id(0)) == 2);
  CHECK(bucket_index(Id(6), Id(15)) == 3);
}

TEST_CASE("kademlia routing: a bucket keeps least-recently seen first and moves a contact seen again to the back") {
  // 5 bits, self 0: bucket 4 holds 16 .. 31.
  RoutingTable table(Id(0), {.bits = 5, .k = 3, .replacements = 2, .stale_after = 5});
  CHECK(table.heard_from({Id(16), 16}).outcome == Heard::Added);
  CHECK(table.heard_from({Id(17), 17}).outcome == Heard::Added);
  CHECK(table.heard_from({Id(18), 18}).outcome == Heard::Added);
  CHECK(bucket_ids(table, 4) == std::vector<Id>{Id(16), Id(17), Id(18)});
  CHECK(table.heard_from({Id(16), 99}).outcome == Heard::Refreshed);
  CHECK(bucket_ids(table, 4) == std::vector<Id>{Id(17), Id(18), Id(16)});
  CHECK(table.find(Id(16))->contact.address == 99);                // the address it came from last
  CHECK(table.heard_from({Id(0), 0}).outcome == Heard::Ignored);   // itself
  CHECK(table.heard_from({Id(32), 0}).outcome == Heard::Ignored);  // outside the 5-bit space
  CHECK(table.size() == 3);
  for (int i = 0; i < 4; ++i) CHECK(table.bucket(i).entries.empty());
}

TEST_CASE(
    "kademlia routing: a full bucket asks to ping its oldest which stays if it answers and is evicted if silent") {
  RoutingTable table(Id(0), {.bits = 5, .k = 2, .replacements = 2, .stale_after = 5});
  table.heard_from({Id(16), 16});
  table.heard_from({Id(17), 17});

  SUBCASE("the oldest answers: kept (moved to the back), the newcomer waits in the cache") {
    const HeardResult r = table.heard_from({Id(20), 20});
    CHECK(r.outcome == Heard::Cached);
    REQUIRE(r.ping_oldest.has_value());
    CHECK(r.ping_oldest->id == Id(16));
    // A second newcomer while the ping is out asks for no second ping.
    const HeardResult r2 = table.heard_from({Id(21), 21});
    CHECK(r2.outcome == Heard::Cached);
    CHECK_FALSE(r2.ping_oldest.has_value());
    table.ping_answered(Id(16));
    CHECK(bucket_ids(table, 4) == std::vector<Id>{Id(17), Id(16)});
    CHECK(ids_of(table.bucket(4).replacements) == std::vector<Id>{Id(20), Id(21)});
    // The next newcomer pings the new oldest, 17.
    const HeardResult r3 = table.heard_from({Id(22), 22});
    REQUIRE(r3.ping_oldest.has_value());
    CHECK(r3.ping_oldest->id == Id(17));
    // The cache holds 2: the oldest candidate (20) made room for 22.
    CHECK(ids_of(table.bucket(4).replacements) == std::vector<Id>{Id(21), Id(22)});
  }
  SUBCASE("the oldest stays silent: evicted, the most recent newcomer takes its place at the back") {
    const HeardResult r = table.heard_from({Id(20), 20});
    REQUIRE(r.ping_oldest.has_value());
    table.heard_from({Id(21), 21});
    const auto promoted = table.ping_failed(Id(16));
    REQUIRE(promoted.has_value());
    CHECK(promoted->id == Id(21));
    CHECK(bucket_ids(table, 4) == std::vector<Id>{Id(17), Id(21)});
    CHECK(ids_of(table.bucket(4).replacements) == std::vector<Id>{Id(20)});
    CHECK_FALSE(table.contains(Id(16)));
  }
  SUBCASE("the oldest shows up by itself while the ping is out: no longer pending") {
    REQUIRE(table.heard_from({Id(20), 20}).ping_oldest.has_value());
    table.heard_from({Id(16), 16});
    const HeardResult r = table.heard_from({Id(21), 21});
    REQUIRE(r.ping_oldest.has_value());
    CHECK(r.ping_oldest->id == Id(17));
  }
}

TEST_CASE("kademlia routing: with ping_after an oldest contact heard from recently is not pinged") {
  RoutingTable table(Id(0), {.bits = 5, .k = 2, .replacements = 2, .stale_after = 5, .ping_after = 100});
  table.heard_from({Id(16), 16}, 1000);
  table.heard_from({Id(17), 17}, 1050);
  const HeardResult early = table.heard_from({Id(20), 20}, 1099);  // 16 was seen 99 ago
  CHECK(early.outcome == Heard::Cached);
  CHECK_FALSE(early.ping_oldest.has_value());
  const HeardResult late = table.heard_from({Id(21), 21}, 1100);  // 100 ago: ping it
  REQUIRE(late.ping_oldest.has_value());
  CHECK(late.ping_oldest->id == Id(16));
  table.ping_answered(Id(16), 1120);
  CHECK(table.find(Id(16))->last_seen == 1120);
  CHECK(bucket_ids(table, 4) == std::vector<Id>{Id(17), Id(16)});
  // The new oldest, 17, was seen at 1050: 70 ago, not yet.
  CHECK_FALSE(table.heard_from({Id(22), 22}, 1120).ping_oldest.has_value());
  CHECK(table.heard_from({Id(22), 22}, 1150).ping_oldest->id == Id(17));
}

TEST_CASE("kademlia routing: a contact is stale after stale_after failures in a row and replaced from the cache") {
  RoutingTable table(Id(0), {.bits = 5, .k = 2, .replacements = 2, .stale_after = 3});
  table.heard_from({Id(16), 16});
  table.heard_from({Id(17), 17});
  CHECK_FALSE(table.rpc_failed(Id(17)));
  CHECK_FALSE(table.rpc_failed(Id(17)));
  table.heard_from({Id(17), 17});  // an answer resets the count
  CHECK(table.find(Id(17))->failures == 0);
  CHECK_FALSE(table.rpc_failed(Id(17)));
  CHECK_FALSE(table.rpc_failed(Id(17)));
  SUBCASE("no replacement: kept but stale, no longer offered, and the next newcomer replaces it") {
    CHECK_FALSE(table.rpc_failed(Id(17)));
    CHECK(table.find(Id(17))->stale);
    CHECK(ids_of(table.closest(Id(17), 5)) == std::vector<Id>{Id(16)});
    CHECK(table.heard_from({Id(25), 25}).outcome == Heard::ReplacedStale);
    CHECK(bucket_ids(table, 4) == std::vector<Id>{Id(16), Id(25)});
  }
  SUBCASE("a replacement waits: the stale contact is dropped for it at once") {
    table.heard_from({Id(30), 30});
    CHECK(table.rpc_failed(Id(17)));
    CHECK(bucket_ids(table, 4) == std::vector<Id>{Id(16), Id(30)});
  }
}

TEST_CASE("kademlia routing: closest() equals a brute-force sort of every contact whatever the target") {
  for (int bits : {6, 20, 160}) {
    Rng rng(static_cast<std::uint64_t>(bits));
    const Id self = random_id(rng, bits);
    RoutingTable table(self, {.bits = bits, .k = 4, .replacements = 0, .stale_after = 5});
    for (int n = 0; n < 300; ++n) {
      const Id id = random_id(rng, bits);
      table.heard_from({id, static_cast<std::uint64_t>(n)});
    }
    // Every contact sits in its bucket, never more than k per bucket.
    for (int i = 0; i < table.bucket_count(); ++i) {
      CHECK(table.bucket(i).entries.size() <= 4);
      for (const BucketEntry& e : table.bucket(i).entries) CHECK(highest_differing_bit(self, e.contact.id) == i);
    }
    const std::vector<Id> all = ids_of(table.contacts());
    CHECK(all.size() == table.size());
    for (int n = 0; n < 100; ++n) {
      const Id target = n == 0 ? self : (n == 1 ? all.front() : random_id(rng, bits));
      for (std::size_t count : {std::size_t{1}, std::size_t{3}, std::size_t{20}, std::size_t{1000}}) {
        std::vector<Id> expected = all;
        std::sort(expected.begin(), expected.end(),
                  [&](const Id& a, const Id& b) { return xor_distance(a, target) < xor_distance(b, target); });
        if (expected.size() > count) expected.resize(count);
        CHECK(ids_of(table.closest(target, count)) == expected);
        CHECK(true_closest(all, target, count) == expected);
      }
    }
  }
}

namespace {
/// Just the peers' ids, as the simulator would give them to PeerTables.
class IdsOnly final : public Transport<Message> {
 public:
  explicit IdsOnly(std::vector<Id> ids) : ids_(std::move(ids)) {}
  SimTime now() const override { return 0; }
  void send(PeerIndex, PeerIndex, const Message&) override {}
  void set_timer(PeerIndex, SimTime, std::uint16_t, std::uint32_t) override {}
  Rng& rng(PeerIndex) override { return rng_; }
  const Id& id_of(PeerIndex peer) const override { return ids_[peer]; }
  Trace& trace() override { return trace_; }

 private:
  std::vector<Id> ids_;
  Rng rng_{1};
  Trace trace_;
};
}  // namespace

TEST_CASE("kademlia routing: the simulation's compact tables hold what a RoutingTable holds after the same events") {
  // The oracle: one RoutingTable (whole contacts) per owner, fed the same random mix of
  // messages, answered and failed pings and failed RPCs, interleaved over three owners so that
  // PeerTables keeps switching the bucket it has open. Without a replacement cache stale
  // contacts stay (and are replaced by newcomers); with one they are replaced from it.
  std::array<int, 5> outcomes{};  // by Heard: every case of heard_from is met
  for (const auto& [bits, replacements] :
       {std::pair{10, std::size_t{2}}, std::pair{70, std::size_t{0}}, std::pair{160, std::size_t{2}}}) {
    Rng rng(static_cast<std::uint64_t>(bits) + 1);
    std::vector<Id> ids;
    while (ids.size() < 400) {
      const Id id = random_id(rng, bits);
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    }
    const RoutingTableConfig config{
        .bits = bits, .k = 4, .replacements = replacements, .stale_after = 2, .ping_after = 30};
    IdsOnly transport(ids);
    PeerTables tables(config, transport);
    tables.add_through(2);
    std::vector<RoutingTable> oracle;
    for (PeerIndex n = 0; n < 3; ++n) oracle.emplace_back(ids[n], config);
    for (std::int64_t now = 0; now < 3000; ++now) {
      const auto n = static_cast<PeerIndex>(rng.below(3));
      const auto p = static_cast<PeerIndex>(rng.below(ids.size()));
      switch (rng.below(10)) {
        case 0:
          tables.ping_answered(n, p, now);
          oracle[n].ping_answered(ids[p], now);
          break;
        case 1:
          tables.ping_failed(n, p);
          oracle[n].ping_failed(ids[p]);
          break;
        case 2:
          tables.rpc_failed(n, p);
          oracle[n].rpc_failed(ids[p]);
          break;
        default: {
          const HeardResult got = tables.heard_from(n, p, now), want = oracle[n].heard_from({ids[p], p}, now);
          REQUIRE(got.outcome == want.outcome);
          REQUIRE(got.ping_oldest == want.ping_oldest);
          ++outcomes[static_cast<std::size_t>(got.outcome)];
        }
      }
      if (now % 100 != 99) continue;
      for (PeerIndex o = 0; o < 3; ++o) {
        REQUIRE(tables.size(o) == oracle[o].size());
        REQUIRE(tables.lowest_nonempty(o) == oracle[o].lowest_nonempty());
        for (int i = 0; i < bits; ++i) {
          const Bucket got = tables.bucket(o, i);
          const Bucket& want = oracle[o].bucket(i);
          REQUIRE(got.entries.size() == want.entries.size());
          for (std::size_t e = 0; e < got.entries.size(); ++e) {
            CHECK(got.entries[e].contact == want.entries[e].contact);
            CHECK(got.entries[e].failures == want.entries[e].failures);
            CHECK(got.entries[e].stale == want.entries[e].stale);
            CHECK(got.entries[e].last_seen == want.entries[e].last_seen);
          }
          CHECK(got.replacements == want.replacements);
          CHECK(got.ping_pending == want.ping_pending);
        }
        const Id target = rng.below(2) == 0 ? random_id(rng, bits) : ids[rng.below(ids.size())];
        for (std::size_t count : {std::size_t{1}, std::size_t{5}, std::size_t{21}, std::size_t{400}}) {
          CHECK(tables.closest(o, target, count) == oracle[o].closest(target, count));
        }
      }
    }
  }
  for (std::size_t o = 0; o < outcomes.size(); ++o) CHECK_MESSAGE(outcomes[o] > 0, o);
}

// ---- the lookup's state machine (traversal.hpp) ------------------------------------------------

namespace {
std::vector<Id> asked_ids(const std::vector<Candidate>& round) {
  std::vector<Id> out;
  for (const Candidate& c : round) out.push_back(c.contact.id);
  return out;
}
Contact node(std::uint64_t id) { return {Id(id), id}; }
}  // namespace

TEST_CASE("kademlia traversal: alpha closest first and all remaining of the k closest after a round with no progress") {
  // 8 bits, target 0: the distance of node n is n itself. Requester 200, k = 3, alpha = 2.
  Traversal t(Id(0), Id(200), 3, 2);
  t.add_initial({node(64), node(32), node(128), node(16)});
  // Round 1: the alpha = 2 closest it knows.
  CHECK(asked_ids(t.next_round()) == std::vector<Id>{Id(16), Id(32)});
  CHECK_FALSE(t.round_over());
  // 16 answers with 8 (closer) and the requester itself (never a candidate); 32 with 4.
  CHECK(t.on_answer(Id(16), {node(8), node(200)}));
  CHECK_FALSE(t.round_over());
  CHECK(t.on_answer(Id(32), {node(4)}));
  CHECK_FALSE(t.on_answer(Id(32), {node(2)}));  // a second answer from 32 is ignored
  CHECK(t.round_over());
  // It got closer: round 2 asks alpha of the k = 3 closest not yet asked {4, 8, 16}: 4 and 8.
  CHECK(asked_ids(t.next_round()) == std::vector<Id>{Id(4), Id(8)});
  CHECK(t.rounds() == 2);
  // 4 answers with nothing closer, 8 is silent.
  t.on_answer(Id(4), {node(16), node(32)});
  t.on_failure(Id(8));
  REQUIRE(t.round_over());
  // No progress: the k closest that have not failed are {4, 16, 32}, all answered: done.
  CHECK(t.next_round().empty());
  CHECK(t.done());
  CHECK(ids_of(t.closest_answered()) == std::vector<Id>{Id(4), Id(16), Id(32)});
  CHECK(t.queries() == 4);
  CHECK(t.round_closest_asked() == 2);
  // Who suggested whom: 8 came from 16's answer, 4 from 32's.
  for (const Candidate* c : t.asked_in_order()) {
    if (c->contact.id == Id(8)) CHECK(c->suggested_by == 16);
    if (c->contact.id == Id(4)) CHECK(c->suggested_by == 32);
    if (c->contact.id == Id(16)) CHECK(c->suggested_by == kSuggestedBySelf);
  }
}

TEST_CASE("kademlia traversal: a round that brings nothing closer asks every remaining one of the k closest") {
  Traversal t(Id(0), Id(255), 4, 1);
  t.add_initial({node(40), node(50), node(60), node(70), node(80)});
  CHECK(asked_ids(t.next_round()) == std::vector<Id>{Id(40)});
  t.on_answer(Id(40), {node(45)});                                              // farther than 40: no progress
  CHECK(asked_ids(t.next_round()) == std::vector<Id>{Id(45), Id(50), Id(60)});  // all of the 4 closest left
  t.on_answer(Id(45), {});
  t.on_answer(Id(50), {node(1)});  // progress again: back to alpha = 1
  t.on_answer(Id(60), {});
  CHECK(asked_ids(t.next_round()) == std::vector<Id>{Id(1)});
  t.on_answer(Id(1), {});
  CHECK(t.next_round().empty());
  CHECK(t.done());
  CHECK(ids_of(t.closest_answered()) == std::vector<Id>{Id(1), Id(40), Id(45), Id(50)});
}

TEST_CASE("kademlia traversal: FIND_VALUE stops at the value and slow queries no longer hold a round up") {
  SUBCASE("value") {
    Traversal t(Id(0), Id(255), 3, 3);
    t.add_initial({node(8), node(16), node(32)});
    t.next_round();
    t.on_answer(Id(16), {node(4)});
    t.on_value(Id(8));
    CHECK(t.done());
    CHECK(t.found_value());
    // Cache at the closest that answered without the value: 16 (8 had it).
    REQUIRE(t.closest_without_value() != nullptr);
    CHECK(t.closest_without_value()->contact.id == Id(16));
  }
  SUBCASE("slow") {
    Traversal t(Id(0), Id(255), 2, 2);
    t.add_initial({node(8), node(16), node(32)});
    t.next_round();  // asks 8 and 16
    t.on_answer(Id(16), {node(4)});
    t.mark_slow();  // 8 is late: the next round goes on without it
    CHECK(t.round_over());
    CHECK(t.slow_out() == 1);
    CHECK(asked_ids(t.next_round()) == std::vector<Id>{Id(4)});
    t.on_answer(Id(4), {});
    // The k = 2 closest are 4 and 8; 8 is still out: not done, nothing to ask.
    CHECK(t.next_round().empty());
    CHECK_FALSE(t.done());
    t.on_answer(Id(8), {});  // the late answer counts
    CHECK(t.slow_out() == 0);
    CHECK(t.next_round().empty());
    CHECK(t.done());
    CHECK(ids_of(t.closest_answered()) == std::vector<Id>{Id(4), Id(8)});
  }
}
