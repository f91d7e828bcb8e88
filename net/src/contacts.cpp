#include "p2plab/net/contacts.hpp"

namespace p2plab::net {

ContactTable::ContactTable(const Contact& self) {
  contacts_.push_back(self);
  by_id_[self.id] = 0;
}

PeerIndex ContactTable::learn(const Id& id, const Endpoint& address) {
  if (auto it = by_id_.find(id); it != by_id_.end()) {
    Contact& c = contacts_[it->second];
    if (c.address.port == 0 && it->second != 0) c.address = address;
    return it->second;
  }
  if (full()) return kNoPeer;
  const auto index = static_cast<PeerIndex>(contacts_.size());
  contacts_.push_back(Contact{id, address, -1});
  by_id_[id] = index;
  return index;
}

PeerIndex ContactTable::find(const Id& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? kNoPeer : it->second;
}

void ContactTable::heard(PeerIndex peer, const Endpoint& address, std::int64_t now_us) {
  if (peer == 0 || peer >= contacts_.size()) return;
  contacts_[peer].address = address;
  contacts_[peer].last_heard_us = now_us;
}

}  // namespace p2plab::net
