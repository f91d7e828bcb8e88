#pragma once
// The contact table of one real peer: PeerIndex is a dense LOCAL index. Index 0 is the local
// peer; every remote peer gets an index the first time it is learned (from a datagram's sender,
// or from a contact inside a message). A peer is known by its id (ids are unique in an overlay);
// its address is the latest one it sent from.
//
// The table holds at most `capacity` contacts (--max-contacts). When it is full, a new contact
// takes the index of an old one the protocol no longer uses (the CLOCK approximation of "least
// recently used": a contact heard or learned since the hand last passed gets a second chance), so
// a flood of invented contacts cannot lock honest peers out; only when every contact is in use
// is a new one refused (kNoPeer).
#include <cstddef>
#include <cstdint>
#include <functional>
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
  /// The default capacity (--max-contacts): 65,536 contacts, about 6 MB.
  static constexpr std::size_t kDefaultCapacity = 1 << 16;
  static constexpr std::size_t kMinCapacity = 16;

  explicit ContactTable(const Contact& self, std::size_t capacity = kDefaultCapacity);

  PeerIndex self() const { return 0; }
  std::size_t size() const { return contacts_.size(); }
  std::size_t capacity() const { return capacity_; }
  bool full() const { return contacts_.size() >= capacity_; }
  /// Marks (mark[p] = 1) the contacts the protocol still refers to; those are never replaced.
  /// Without one, no contact is ever replaced (a full table refuses new ones).
  using InUse = std::function<void(std::vector<std::uint8_t>& mark)>;
  void set_in_use(InUse in_use) { in_use_ = std::move(in_use); }
  /// Called with the index of a contact that was replaced, before the new one takes it.
  void set_on_replace(std::function<void(PeerIndex)> on_replace) { on_replace_ = std::move(on_replace); }
  /// A new datagram is being handled: what it names is kept until the next one.
  void begin_datagram() {
    ++turn_;
    in_use_fresh_ = false;
  }
  /// The index of the peer with this id; a new index if it is new (address as given), perhaps
  /// one of a replaced contact. kNoPeer when the table is full of contacts in use.
  PeerIndex learn(const Id& id, const Endpoint& address);
  /// Index of a known id, or kNoPeer.
  PeerIndex find(const Id& id) const;
  /// A datagram came from this peer at `address`: remembers the address and the time.
  void heard(PeerIndex peer, const Endpoint& address, std::int64_t now_us);
  /// The contact; index out of range: a contact with id 0 and no address.
  const Contact& at(PeerIndex peer) const { return peer < contacts_.size() ? contacts_[peer] : none_; }
  const std::vector<Contact>& all() const { return contacts_; }
  /// Contacts replaced so far.
  std::uint64_t replaced() const { return replaced_; }
  /// Return routability, cheaply: a contact is verified once a datagram came from its address
  /// after this peer had sent one there (a forger who only invents source addresses never sees
  /// what was sent). A changed address needs verifying again.
  void sent_to(PeerIndex peer) {
    if (peer < sent_.size()) sent_[peer] = 1;
  }
  bool verified(PeerIndex peer) const { return peer == 0 || (peer < verified_.size() && verified_[peer] != 0); }
  /// A transfer to an unverified contact: true for the first kUnverifiedTransfers (then false
  /// until it is verified).
  static constexpr std::uint8_t kUnverifiedTransfers = 4;
  bool spend_unverified(PeerIndex peer) {
    if (peer >= unverified_spent_.size() || unverified_spent_[peer] >= kUnverifiedTransfers) return false;
    ++unverified_spent_[peer];
    return true;
  }

 private:
  PeerIndex victim();

  std::size_t capacity_;
  std::vector<Contact> contacts_;
  std::vector<std::uint8_t> recent_;                              // CLOCK's reference bit
  std::vector<std::uint64_t> learned_;                            // the turn (datagram) it was learned or heard in
  std::vector<std::uint8_t> sent_, verified_, unverified_spent_;  // return routability (sent_to, verified)
  std::map<Id, PeerIndex> by_id_;
  Contact none_;
  InUse in_use_;
  std::function<void(PeerIndex)> on_replace_;
  std::vector<std::uint8_t> marks_;
  bool in_use_fresh_ = false;
  std::uint64_t turn_ = 1, replaced_ = 0;
  std::size_t hand_ = 1;
};

}  // namespace p2plab::net
