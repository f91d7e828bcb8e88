#pragma once
// Helpers shared by the graded Kademlia tests (tests/grading/kademlia-*/ and hidden/kademlia-*/).
//
// Expectations never come from the code under test: distances and bucket indices are computed
// here bit by bit, the k closest by sorting every id; the real protocol runs through the
// registry (as `p2plab run` does) and its result file is checked against that brute force. No
// logic:: function is called here.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "kademlia/logic.hpp"
#include "p2plab/registry.hpp"
#include "p2plab/scenario.hpp"

namespace p2plab::grading::kad {

using kademlia::Bucket;
using kademlia::BucketEntry;
using kademlia::Candidate;
using kademlia::Contact;
using kademlia::Heard;
using kademlia::HeardResult;
using kademlia::RoutingTableConfig;

/// a XOR b, limb by limb (the test's own).
inline Id x_or(const Id& a, const Id& b) {
  Id d;
  for (std::size_t i = 0; i < d.limb.size(); ++i) d.limb[i] = a.limb[i] ^ b.limb[i];
  return d;
}
/// The highest bit where a and b differ (-1 if equal): the bucket of b in a's table.
inline int highest_differing_bit(const Id& a, const Id& b) {
  for (int i = 159; i >= 0; --i) {
    if (a.bit(i) != b.bit(i)) return i;
  }
  return -1;
}
/// A uniformly random 160-bit id from the test's own generator.
inline Id random_id(std::mt19937_64& rng) {
  Id id;
  id.limb = {rng(), rng(), rng() & 0xffffffffu};
  return id;
}

/// Addresses are not ids: a student who confuses the two is caught. Contact of id x: x + 7000.
inline Contact contact(std::uint64_t id) { return Contact{Id(id), id + 7000}; }

inline std::string name(const Id& id) { return id.to_decimal(); }
inline std::string describe(const Bucket& b) {
  std::string out = "[";
  for (std::size_t i = 0; i < b.entries.size(); ++i) {
    const BucketEntry& e = b.entries[i];
    out += (i ? ", " : "") + name(e.contact.id);
    if (e.failures) out += " (" + std::to_string(e.failures) + " failures)";
    if (e.stale) out += " (stale)";
  }
  out += "] replacements [";
  for (std::size_t i = 0; i < b.replacements.size(); ++i) out += (i ? ", " : "") + name(b.replacements[i].id);
  return out + "]" + (b.ping_pending ? " ping pending" : "");
}
inline const char* outcome_name(Heard h) {
  switch (h) {
    case Heard::Ignored:
      return "Ignored";
    case Heard::Refreshed:
      return "Refreshed";
    case Heard::Added:
      return "Added";
    case Heard::ReplacedStale:
      return "ReplacedStale";
    case Heard::Cached:
      return "Cached";
  }
  return "?";
}
/// The ids of the bucket's entries, head first.
inline std::vector<std::uint64_t> entry_ids(const Bucket& b) {
  std::vector<std::uint64_t> out;
  for (const BucketEntry& e : b.entries) out.push_back(e.contact.id.low64());
  return out;
}
inline std::vector<std::uint64_t> replacement_ids(const Bucket& b) {
  std::vector<std::uint64_t> out;
  for (const Contact& c : b.replacements) out.push_back(c.id.low64());
  return out;
}
/// "[1, 2, 3]".
inline std::string list(const std::vector<std::uint64_t>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + std::to_string(v[i]);
  return out + "]";
}

// ---- the real protocol, through the registry ------------------------------------------------------

/// Runs a scenario to its end as `p2plab run` does and returns its result file.
inline nlohmann::json run_scenario(const nlohmann::json& doc) {
  const std::unique_ptr<Run> run = all_protocols().create(parse_scenario(doc, "graded-test.json"));
  run->run_to_end();
  return run->result();
}
/// An id of a result file (a number for m <= 53, a decimal string above).
inline Id id_of(const nlohmann::json& j) {
  if (j.is_number_unsigned()) return Id(j.get<std::uint64_t>());
  const auto id = Id::from_decimal(j.get<std::string>());
  REQUIRE(id.has_value());
  return *id;
}
/// The ids of the live peers of a result.
inline std::vector<Id> live_ids(const nlohmann::json& result) {
  std::vector<Id> ids;
  for (const auto& p : result["peers"]) ids.push_back(id_of(p["id"]));
  return ids;
}
/// The k ids closest to key by XOR among `live`, `from` left out.
inline std::vector<Id> true_k_closest(const std::vector<Id>& live, const Id& key, std::size_t k, const Id& from) {
  std::vector<std::pair<Id, Id>> by_distance;  // (distance, id): every distance computed once
  for (const Id& id : live) {
    if (id != from) by_distance.emplace_back(x_or(id, key), id);
  }
  std::sort(by_distance.begin(), by_distance.end());
  std::vector<Id> out;
  for (std::size_t i = 0; i < by_distance.size() && i < k; ++i) out.push_back(by_distance[i].second);
  return out;
}

struct LookupTally {
  std::size_t total = 0, right = 0;
  std::vector<std::string> wrong;  // the first few, for the message
};
/// Every lookup of a result against the brute force over the live peers.
inline LookupTally check_lookups(const nlohmann::json& result, std::size_t k) {
  LookupTally t;
  const std::vector<Id> live = live_ids(result);
  for (const auto& l : result["lookups"]) {
    ++t.total;
    const std::vector<Id> truth = true_k_closest(live, id_of(l["key"]), k, id_of(l["from"]));
    std::vector<Id> got;
    for (const auto& c : l["closest"]) got.push_back(id_of(c));
    if (got == truth) {
      ++t.right;
    } else if (t.wrong.size() < 3) {
      std::string line = "lookup of " + name(id_of(l["key"])) + " from " + name(id_of(l["from"])) + " returned [";
      for (std::size_t i = 0; i < got.size(); ++i) line += (i ? ", " : "") + name(got[i]);
      line += "], the true " + std::to_string(k) + " closest are [";
      for (std::size_t i = 0; i < truth.size(); ++i) line += (i ? ", " : "") + name(truth[i]);
      t.wrong.push_back(line + "]");
    }
  }
  return t;
}
inline std::string lines(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += "\n  " + s;
  return out;
}

}  // namespace p2plab::grading::kad
