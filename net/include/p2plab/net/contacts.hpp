#pragma once
// The contact table of one real peer: PeerIndex is a dense LOCAL index. Index 0 is the local
// peer; every remote peer gets the next index the first time it is learned (from a datagram's
// sender, or from a contact inside a message). A peer is known by its id (ids are unique in an
// overlay); its address is the latest one it sent from.
#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "p2plab/id.hpp"
#include "p2plab/net/endpoint.hpp"
#include "p2plab/types.hpp"

namespace p2plab::net {

struct Contact {
  Id id;
  Endpoint address;                 // for the local peer: the address it is bound to
  std::int64_t last_heard_us = -1;  // wall clock of the last datagram from it (-1: never)
};

class ContactTable {
 public:
  /// At most this many contacts (a flood of invented contacts must not eat the memory).
  static constexpr std::size_t kMaxContacts = 1 << 16;

  explicit ContactTable(const Contact& self);

  PeerIndex self() const { return 0; }
  std::size_t size() const { return contacts_.size(); }
  bool full() const { return contacts_.size() >= kMaxContacts; }
  /// The index of the peer with this id; a new index if it is new (address as given). kNoPeer
  /// when the table is full.
  PeerIndex learn(const Id& id, const Endpoint& address);
  /// Index of a known id, or kNoPeer.
  PeerIndex find(const Id& id) const;
  /// A datagram came from this peer at `address`: remembers the address and the time.
  void heard(PeerIndex peer, const Endpoint& address, std::int64_t now_us);
  /// The contact; index out of range: a contact with id 0 and no address.
  const Contact& at(PeerIndex peer) const { return peer < contacts_.size() ? contacts_[peer] : none_; }
  const std::vector<Contact>& all() const { return contacts_; }

 private:
  std::vector<Contact> contacts_;
  std::map<Id, PeerIndex> by_id_;
  Contact none_;
};

}  // namespace p2plab::net
