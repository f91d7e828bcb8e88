#pragma once
// What a DHT's peers store for puts and gets, as CAN's and Pastry's keep it: each peer's items
// (key -> value index) and the values' texts, each kept once (a put's value is interned: records
// and messages carry its index, not the text).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "p2plab/id.hpp"
#include "p2plab/types.hpp"

namespace p2plab::dht {

/// One peer's items, key -> value index.
using StoredItems = std::map<Id, std::uint32_t>;

class ItemStore {
 public:
  /// The index of `value`'s text (the same index for the same text).
  std::uint32_t intern(const std::string& value) {
    const auto [it, added] = value_index_.emplace(value, static_cast<std::uint32_t>(values_.size()));
    if (added) values_.push_back(value);
    return it->second;
  }
  const std::string& value(std::uint32_t index) const { return values_[index]; }

  /// A put arrived at z: it stores `key` -> `value` (over what it stored before).
  void put(PeerIndex z, const Id& key, std::uint32_t value) { items_[z][key] = value; }
  /// A get arrived at z: the value it stores under `key`, if any.
  std::optional<std::uint32_t> get(PeerIndex z, const Id& key) const {
    const auto peer = items_.find(z);
    if (peer == items_.end()) return std::nullopt;
    const auto item = peer->second.find(key);
    if (item == peer->second.end()) return std::nullopt;
    return item->second;
  }
  /// z's items (nullptr: none).
  const StoredItems* items(PeerIndex z) const {
    const auto it = items_.find(z);
    return it == items_.end() ? nullptr : &it->second;
  }
  /// Moves the items of `from` whose key `moves(key)` picks to `to` (a zone handed over).
  template <class Moves>
  void move_if(PeerIndex from, PeerIndex to, Moves moves) {
    const auto it = items_.find(from);
    if (it == items_.end()) return;
    for (auto item = it->second.begin(); item != it->second.end();) {
      if (moves(item->first)) {
        items_[to][item->first] = item->second;
        item = it->second.erase(item);
      } else {
        ++item;
      }
    }
  }

 private:
  std::unordered_map<PeerIndex, StoredItems> items_;
  std::vector<std::string> values_;
  std::unordered_map<std::string, std::uint32_t> value_index_;
};

}  // namespace p2plab::dht
