#include "p2plab/net/contacts.hpp"

#include <algorithm>

namespace p2plab::net {

ContactTable::ContactTable(const Contact& self, std::size_t capacity) : capacity_(std::max(capacity, kMinCapacity)) {
  contacts_.push_back(self);
  recent_.push_back(1);
  learned_.push_back(0);
  sent_.push_back(0);
  verified_.push_back(1);
  unverified_spent_.push_back(0);
  by_id_[self.id] = 0;
}

PeerIndex ContactTable::learn(const Id& id, const Endpoint& address) {
  if (auto it = by_id_.find(id); it != by_id_.end()) {
    const PeerIndex p = it->second;
    Contact& c = contacts_[p];
    if (c.address.port == 0 && p != 0) c.address = address;
    recent_[p] = 1;
    learned_[p] = turn_;
    return p;
  }
  if (!full()) {
    const auto index = static_cast<PeerIndex>(contacts_.size());
    contacts_.push_back(Contact{id, address, -1});
    recent_.push_back(1);
    learned_.push_back(turn_);
    sent_.push_back(0);
    verified_.push_back(0);
    unverified_spent_.push_back(0);
    by_id_[id] = index;
    return index;
  }
  const PeerIndex index = victim();
  if (index == kNoPeer) return kNoPeer;
  if (on_replace_) on_replace_(index);
  by_id_.erase(contacts_[index].id);
  contacts_[index] = Contact{id, address, -1};
  recent_[index] = 1;
  learned_[index] = turn_;
  sent_[index] = 0;
  verified_[index] = 0;
  unverified_spent_[index] = 0;
  by_id_[id] = index;
  ++replaced_;
  return index;
}

// The CLOCK hand: the first contact that is neither in use, nor named by the datagram being
// handled, nor referenced since the hand last passed it (that one loses its mark and is spared).
PeerIndex ContactTable::victim() {
  if (!in_use_) return kNoPeer;
  if (!in_use_fresh_) {
    marks_.assign(contacts_.size(), 0);
    in_use_(marks_);
    marks_.resize(contacts_.size(), 0);
    in_use_fresh_ = true;
  }
  const std::size_t n = contacts_.size();
  for (std::size_t step = 0; step < 2 * n; ++step) {
    if (hand_ >= n || hand_ == 0) hand_ = 1;
    const std::size_t p = hand_++;
    if (marks_[p] != 0 || learned_[p] == turn_) continue;
    if (recent_[p] != 0) {
      recent_[p] = 0;
      continue;
    }
    marks_[p] = 1;  // taken now: not again within this datagram
    return static_cast<PeerIndex>(p);
  }
  return kNoPeer;
}

PeerIndex ContactTable::find(const Id& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? kNoPeer : it->second;
}

void ContactTable::heard(PeerIndex peer, const Endpoint& address, std::int64_t now_us) {
  if (peer == 0 || peer >= contacts_.size()) return;
  if (!(contacts_[peer].address == address)) {  // another address: not verified there yet
    sent_[peer] = 0;
    verified_[peer] = 0;
  }
  contacts_[peer].address = address;
  contacts_[peer].last_heard_us = now_us;
  recent_[peer] = 1;
  if (sent_[peer] != 0) verified_[peer] = 1;
}

}  // namespace p2plab::net
