#pragma once
// What a protocol sees of the world: send a message, set a timer, read the clock, draw random
// numbers. The simulator implements it; the real-network mode implements it on sockets. A
// protocol written against this interface runs unchanged on both.
#include <cstdint>

#include "p2plab/id.hpp"
#include "p2plab/rng.hpp"
#include "p2plab/trace.hpp"
#include "p2plab/types.hpp"

namespace p2plab {

template <class Msg>
class Transport {
 public:
  virtual ~Transport() = default;
  virtual SimTime now() const = 0;
  /// Sends `msg` from peer `from` to peer `to`. Delivery is not guaranteed: a dead target or a
  /// lossy link drops it, and the sender learns of it only by its own timeouts.
  virtual void send(PeerIndex from, PeerIndex to, const Msg& msg) = 0;
  /// Calls the protocol's on_timer(peer, kind, cookie) after `delay`, unless the peer is down.
  virtual void set_timer(PeerIndex peer, SimTime delay, std::uint16_t kind, std::uint32_t cookie) = 0;
  /// The peer's own random stream.
  virtual Rng& rng(PeerIndex peer) = 0;
  /// The identifier a peer address is known by (part of every contact in a real network too).
  virtual const Id& id_of(PeerIndex peer) const = 0;
  /// Where the protocol reports lookup steps and state changes.
  virtual Trace& trace() = 0;
  /// A parallel simulator runs the peers in partitions, one thread each: state a protocol keeps
  /// for a peer's requests (its lookups, its counters) must then belong to the peer's partition.
  /// Every other transport has one.
  virtual std::uint32_t partitions() const { return 1; }
  virtual std::uint32_t partition_of(PeerIndex peer) const {
    (void)peer;
    return 0;
  }
};

/// What the transport calls back into: the protocol's message and timer handlers.
template <class Msg>
class MessageHandler {
 public:
  virtual ~MessageHandler() = default;
  virtual void on_message(PeerIndex self, PeerIndex from, const Msg& msg) = 0;
  virtual void on_timer(PeerIndex self, std::uint16_t kind, std::uint32_t cookie) = 0;
  /// A hint that `peer` handles the next event: a protocol may prefetch its state (optional).
  virtual void prefetch(PeerIndex peer) const { (void)peer; }
  /// A hint that `msg` is delivered to `peer` next: prefetch what the message refers to.
  virtual void prefetch_message(PeerIndex peer, const Msg& msg) const {
    (void)peer;
    (void)msg;
  }
  /// A hint that `peer`'s timer (`kind`, `cookie`) fires soon, instead of prefetch(peer): a
  /// timer may need other state than the peer's routing state (a lookup's timeout: its lookup).
  virtual void prefetch_timer(PeerIndex peer, std::uint16_t kind, std::uint32_t cookie) const {
    (void)kind;
    (void)cookie;
    prefetch(peer);
  }
};

}  // namespace p2plab
