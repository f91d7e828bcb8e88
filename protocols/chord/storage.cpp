// Chord as a distributed hash table (the paper's "DHash"-like use): put and get at the key's
// owner found by find_successor, copies on the owner's successors (replication, the ToN
// version), and keys moving when the ring changes: a new predecessor takes its part over
// (hand_over_keys, called by notify), a leaving peer hands everything to its successor.
#include <algorithm>

#include "chord.hpp"

namespace p2plab::chord {

// Is n (with its current predecessor) the owner of key: key in (predecessor, n]?
bool Protocol::is_primary(PeerIndex n, const Id& key) const {
  return logic::is_responsible(contact(n), contact(predecessor_[n]), key);
}

bool Protocol::store(PeerIndex n, const Id& key, std::uint32_t value) {
  auto& items = items_[n];
  if (params_.max_items != 0 && items.size() >= params_.max_items) {
    auto it = items.find(key);
    if (it == items.end()) return false;
    it->second = value;
    return true;
  }
  items[key] = value;
  return true;
}

std::vector<std::uint32_t> Protocol::compact_values() {
  std::vector<std::uint32_t> remap(values_.size(), kNoValue);
  std::vector<std::string> kept;
  auto keep = [&](std::uint32_t& v) {
    if (v >= values_.size()) {
      v = kNoValue;
      return;
    }
    if (remap[v] == kNoValue) {
      remap[v] = static_cast<std::uint32_t>(kept.size());
      kept.push_back(std::move(values_[v]));
    }
    v = remap[v];
  };
  for (auto& [peer, items] : items_) {
    for (auto& [key, value] : items) keep(value);
  }
  for (LookupBook& book : books_) {
    for (Lookup& l : book.slots) {  // (for other purposes `value` is not a value index)
      if (l.purpose != Purpose::Put) continue;
      if (l.serial != 0 && l.value != kNoValue) {
        keep(l.value);
      } else {
        l.value = kNoValue;
      }
    }
  }
  values_ = std::move(kept);
  return remap;
}

std::uint32_t Protocol::intern_value(std::string value) {
  values_.push_back(std::move(value));
  return static_cast<std::uint32_t>(values_.size() - 1);
}

// ---- put and get: find_successor(key), then one request to the owner -----------------------------

// The lookup of a put or get found the owner: store or read there (the requester itself may be
// the owner), with the lookup's timeout guarding the request.
void Protocol::storage_request(std::uint32_t index, PeerIndex owner) {
  Lookup& l = lookup_at(index);
  const PeerIndex n = l.origin;
  l.storage_phase = true;
  l.owner = owner;
  if (owner == n) {
    if (l.purpose == Purpose::Put) {
      const bool stored = store(n, l.key, l.value);
      if (stored) replicate(n, l.key, l.value);
      finish(index, owner, true, stored, l.value);
    } else {
      auto& items = items_[n];
      auto it = items.find(l.key);
      finish(index, owner, true, it != items.end(), it != items.end() ? it->second : kNoValue);
    }
    return;
  }
  Message m;
  m.type = l.purpose == Purpose::Put ? MsgType::Put : MsgType::Get;
  m.key = l.key;
  m.value = l.value;
  m.lookup = index;
  m.tag = ++l.tag;
  send(n, owner, m);
  arm_timeout(index);
}

void Protocol::answer_put(PeerIndex self, PeerIndex from, const Message& msg) {
  const bool stored = store(self, msg.key, msg.value);
  if (stored) replicate(self, msg.key, msg.value);
  Message ack;
  ack.type = MsgType::PutAck;
  ack.lookup = msg.lookup;
  ack.tag = msg.tag;
  ack.flag = stored ? 1 : 0;
  send(self, from, ack);
}

void Protocol::answer_get(PeerIndex self, PeerIndex from, const Message& msg) {
  Message reply;
  reply.type = MsgType::GetReply;
  reply.lookup = msg.lookup;
  reply.tag = msg.tag;
  auto& items = items_[self];
  auto it = items.find(msg.key);
  reply.flag = it != items.end() ? 1 : 0;
  reply.value = it != items.end() ? it->second : kNoValue;
  if (items.empty()) items_.erase(self);
  send(self, from, reply);
}

// Back at the requester: PUT_ACK or GET_REPLY ends the put or get.
void Protocol::storage_reply(PeerIndex self, const Message& msg) {
  if (!has_lookup(msg.lookup)) return;
  Lookup& l = lookup_at(msg.lookup);
  if (l.serial == 0 || l.origin != self || l.tag != msg.tag || !l.storage_phase) return;
  finish(msg.lookup, l.owner, true, msg.flag != 0, msg.type == MsgType::GetReply ? msg.value : l.value);
}

// ---- replication: the owner keeps copies on its successors ----------------------------------------

// The copies of one key (fresh: just put, flag 1, which a real peer sends at once instead of
// pacing it like the copies of a whole range).
void Protocol::replicate(PeerIndex n, const Id& key, std::uint32_t value, bool fresh) {
  const ContactList holders = logic::replica_holders(contact(n), neighbours(n).successors, params_.successors);
  for (const Contact& holder : holders) {
    if (!valid(holder) || holder.peer == n) continue;
    const PeerIndex s = holder.peer;
    Message m;
    m.type = MsgType::Replicate;
    m.flag = fresh ? 1 : 0;
    m.key = key;
    m.value = value;
    send(n, s, m);
  }
}

void Protocol::replicate_all_primary(PeerIndex n, const PeerIndex* skip, int skip_count, const KeyRange* only) {
  auto it = items_.find(n);
  if (it == items_.end()) return;
  const ContactList holders = logic::replica_holders(contact(n), neighbours(n).successors, params_.successors);
  std::vector<PeerIndex> to;
  for (const Contact& holder : holders) {
    if (!valid(holder) || holder.peer == n || std::find(skip, skip + skip_count, holder.peer) != skip + skip_count) {
      continue;
    }
    if (std::find(to.begin(), to.end(), holder.peer) == to.end()) to.push_back(holder.peer);
  }
  if (to.empty()) return;
  for (const auto& [key, value] : it->second) {
    if (!is_primary(n, key)) continue;
    if (only != nullptr && !logic::in_open_closed(key, only->after, only->last)) continue;
    for (PeerIndex s : to) {
      Message m;
      m.type = MsgType::Replicate;
      m.key = key;
      m.value = value;
      send(n, s, m);
    }
  }
}

// ---- key hand-over: keys change owner when the ring changes ---------------------------------------

// A key handed over (HAND_OVER) is stored; if it is now this peer's own, its copies go out too.
void Protocol::take_over(PeerIndex self, const Message& msg) {
  if (store(self, msg.key, msg.value) && is_primary(self, msg.key)) replicate(self, msg.key, msg.value, false);
}

// notify made `newcomer` n's predecessor; `old` was the one before (kNoPeer: none).
// Example (lecture ring): 45 holds (42, 45]; 44 joins between 42 and 45, and once 45 accepts it,
// 44 owns (42, 44]: 45 sends it the keys it holds there (say 43) and keeps them as replicas.
// Without an old predecessor (it had failed), n's range grew and where the newcomer's part
// begins is unknown: n sends what it holds outside (newcomer, n], and the newcomer keeps what is
// not its own as extra copies.
void Protocol::hand_over_keys(PeerIndex n, PeerIndex old, PeerIndex newcomer) {
  if (old != kNoPeer && old != n) {
    hand_over_range(n, transport_.id_of(old), transport_.id_of(newcomer), newcomer);
    return;
  }
  hand_over_range(n, transport_.id_of(n), transport_.id_of(newcomer), newcomer);
  // n owns the failed peer's range now: copy it onward. Only that range, when n knows where it
  // ends: n's own keys are on its replica holders already. Example (r = 3): 45 held (42, 45] and
  // copies of (39, 42]; 42 dies and 39 notifies 45: 45 copies (39, 42] to its three successors,
  // not (42, 45] again.
  if (const auto lost = lost_predecessor_.find(n); lost != lost_predecessor_.end()) {
    const KeyRange gained{transport_.id_of(newcomer), lost->second};
    lost_predecessor_.erase(lost);
    replicate_all_primary(n, nullptr, 0, &gained);
  } else {
    replicate_all_primary(n);
  }
  // n's own range grew to (newcomer, n]: keys of the failed predecessor that n never held (it
  // joined after they were put) are still copied on n's successors. Fetch them (FETCH_RANGE,
  // answered by hand_over_range).
  if (successor(n) != kNoPeer && successor(n) != n) {
    Message fetch;
    fetch.type = MsgType::FetchRange;
    fetch.key = transport_.id_of(newcomer);
    send(n, successor(n), fetch);
  }
}

bool Protocol::fetch_own_range(PeerIndex n) {
  const PeerIndex p = predecessor_[n], s = successor(n);
  if (p == kNoPeer || p == n || s == kNoPeer || s == n) return false;
  Message fetch;
  fetch.type = MsgType::FetchRange;
  fetch.key = transport_.id_of(p);
  send(n, s, fetch);
  return true;
}

// A leaving n hands every key it owns to its successor `to`, and forgets all it stored.
void Protocol::hand_over_all(PeerIndex n, PeerIndex to) {
  auto it = items_.find(n);
  if (it == items_.end()) return;
  for (const auto& [key, value] : it->second) {
    if (!is_primary(n, key)) continue;
    Message h;
    h.type = MsgType::HandOver;
    h.key = key;
    h.value = value;
    send(n, to, h);
  }
  items_.erase(it);
}

// Sends `to` the keys n holds in (from_exclusive, to_inclusive].
void Protocol::hand_over_range(PeerIndex n, const Id& from_exclusive, const Id& to_inclusive, PeerIndex to) {
  auto it = items_.find(n);
  if (it == items_.end()) return;
  for (const auto& [key, value] : it->second) {
    if (!logic::in_open_closed(key, from_exclusive, to_inclusive)) continue;
    Message m;
    m.type = MsgType::HandOver;
    m.key = key;
    m.value = value;
    send(n, to, m);
  }
}

}  // namespace p2plab::chord
