#pragma once
// What the structured overlays report alike: the run's summary from its lookup statistics, the
// metrics block of the result (messages by type, hop histogram), the state the live peers hold,
// and the per-search figures `compare` and the charts read from the lookup records.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/item_store.hpp"
#include "p2plab/json_util.hpp"
#include "p2plab/metrics.hpp"
#include "p2plab/registry.hpp"
#include "p2plab/simulator.hpp"

namespace p2plab::dht {

/// The summary of a run whose searches are the lookups in `stats`; `unfinished`: lookups still
/// on their way at the end.
RunSummary lookup_summary(const LookupStats& stats, const SimulatorCore& sim, std::uint64_t unfinished, double wall_ms);

/// The result's "metrics": the summary, messages by type (named by `message_types`, the trace
/// vocabulary's), the hop histogram and the mean state per live peer.
nlohmann::json lookup_metrics(const RunSummary& summary, const SimulatorCore& sim,
                              const std::vector<std::string>& message_types, const LookupStats& stats,
                              const StateSize& state);

/// Routing state per live peer: `entries(peer)` for each, their mean and maximum.
StateSize live_state_size(const SimulatorCore& sim, const std::function<double(PeerIndex)>& entries);

/// A peer's keys (its StoredItems, item_store.hpp; nullptr: none), in key order: what its view
/// lists.
std::vector<Id> stored_keys(const StoredItems* items);
/// Its keys as the result's "keys" of a peer: ids of `id_bits` bits.
nlohmann::json stored_keys_json(const StoredItems* items, int id_bits);
/// Whether it stores `key` (Run::holds).
inline bool stores(const StoredItems* items, const Id& key) { return items != nullptr && items->count(key) != 0; }

/// Messages each finished user lookup caused, in the order they finished (Run::messages_per_search).
template <class Record, class Purpose>
std::vector<std::uint32_t> user_search_messages(const std::vector<Record>& records, Purpose user) {
  std::vector<std::uint32_t> out;
  for (const Record& r : records) {
    if (r.purpose == user && r.completed) out.push_back(r.messages);
  }
  return out;
}

/// compare's searches: make_scenario turns each into a get of a stored key, so a get that does
/// not find it is a false negative (Run::requested_searches). `found(record)` says whether it did.
template <class Record, class Purpose, class Found>
std::vector<SearchOutcome> get_outcomes(const std::vector<Record>& records, Purpose get, Found found) {
  std::vector<SearchOutcome> out;
  for (const Record& r : records) {
    if (r.purpose != get) continue;
    SearchOutcome o;
    o.messages = r.messages;
    o.has_hops = o.has_latency = true;
    o.hops = r.hops;
    o.latency_ms = to_ms(r.end - r.start);
    o.found = found(r);
    o.false_negative = !o.found;
    out.push_back(o);
  }
  return out;
}

/// Which value a put's or get's record shows: only the one a get found (CAN, Pastry), or any
/// the record holds (Chord: a put's value too).
enum class RecordValue { FoundByGet, Any };

/// One lookup record in the result, as the routed overlays write it: serial, requester, key,
/// owner, hops, path, start, latency, ok, completed, messages; then `extra(j)` adds the protocol's
/// own fields (Pastry's key in digits, CAN's point, Chord's owner_alive). A user's lookup goes to
/// `lookups`; a put's or get's to `storage` with its op, whether it found the key, and its value
/// as `shown` says (`value_of(index)`; `no_value`: none). `id_of(peer)` writes a peer's id.
template <class Record, class IdOf, class ValueOf, class Extra>
void add_record(const Record& r, int id_bits, const IdOf& id_of, const ValueOf& value_of, std::uint32_t no_value,
                RecordValue shown, const Extra& extra, nlohmann::json& lookups, nlohmann::json& storage) {
  using Purpose = decltype(r.purpose);
  nlohmann::json j;
  j["lookup"] = r.serial;
  j["from"] = id_of(r.from);
  j["key"] = id_to_json(r.key, id_bits);
  j["owner"] = id_of(r.owner);
  j["hops"] = r.hops;
  nlohmann::json path = nlohmann::json::array();
  for (const PeerIndex p : r.path) path.push_back(id_of(p));
  j["path"] = std::move(path);
  j["start_ms"] = to_ms(r.start);
  j["latency_ms"] = to_ms(r.end - r.start);
  j["ok"] = r.ok;
  j["completed"] = r.completed;
  j["messages"] = r.messages;
  extra(j);
  if (r.purpose == Purpose::User) {
    lookups.push_back(std::move(j));
    return;
  }
  j["op"] = r.purpose == Purpose::Put ? "put" : "get";
  j["found"] = r.found;
  const bool show = r.value != no_value && (shown == RecordValue::Any || (r.purpose == Purpose::Get && r.found));
  j["value"] = show ? nlohmann::json(value_of(r.value)) : nlohmann::json(nullptr);
  storage.push_back(std::move(j));
}

}  // namespace p2plab::dht
