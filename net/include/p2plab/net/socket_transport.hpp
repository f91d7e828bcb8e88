#pragma once
// Transport<Msg> on a real UDP socket: what lets a protocol written for the simulator run
// unchanged as one real peer. now() is the wall clock (microseconds since the transport was
// made), set_timer() goes on a timer heap, send() encodes the message with the protocol's codec
// into one datagram and sends it to the contact's address. The event loop (run_once) waits on
// the socket until the next timer is due.
#include <chrono>
#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

#include "p2plab/net/contacts.hpp"
#include "p2plab/net/udp.hpp"
#include "p2plab/transport.hpp"

namespace p2plab::net {

struct TransportCounters {
  std::uint64_t sent = 0;           // datagrams sent
  std::uint64_t send_failed = 0;    // the system refused them, or the contact has no address
  std::uint64_t not_encodable = 0;  // the codec refused the message (too large, unknown value)
  std::uint64_t received = 0;       // datagrams received (good or bad)
  std::uint64_t timers = 0;         // timers fired
};

template <class Msg>
class SocketTransport final : public Transport<Msg> {
 public:
  /// Encodes a message from the local peer to `to` into `out`; false if it cannot be sent.
  using Encoder = std::function<bool(PeerIndex to, const Msg& msg, std::vector<std::uint8_t>& out)>;
  /// Called for every datagram received (the node decodes and dispatches it).
  using Receiver = std::function<void(const std::uint8_t* data, std::size_t size, const Endpoint& from)>;
  /// Observes every message sent (the monitor reports them).
  using SendObserver = std::function<void(PeerIndex to, const Msg& msg)>;

  SocketTransport(UdpSocket& socket, ContactTable& contacts, std::uint64_t seed)
      : socket_(socket), contacts_(contacts), rng_(Rng::derive(seed, 0)), start_(std::chrono::steady_clock::now()) {}

  void set_handler(MessageHandler<Msg>* handler) { handler_ = handler; }
  void set_encoder(Encoder encoder) { encoder_ = std::move(encoder); }
  void set_receiver(Receiver receiver) { receiver_ = std::move(receiver); }
  void set_send_observer(SendObserver observer) { observer_ = std::move(observer); }

  // ---- Transport ----
  SimTime now() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start_).count();
  }
  void send(PeerIndex from, PeerIndex to, const Msg& msg) override {
    if (from != contacts_.self() || to >= contacts_.size()) {
      ++counters_.send_failed;
      return;
    }
    if (to == contacts_.self()) {  // to itself: delivered through the loop, never the network
      loopback_.push_back(msg);
      return;
    }
    if (!encoder_ || !encoder_(to, msg, buffer_)) {
      ++counters_.not_encodable;
      return;
    }
    if (observer_) observer_(to, msg);
    if (socket_.send(contacts_.at(to).address, buffer_.data(), buffer_.size())) {
      ++counters_.sent;
    } else {
      ++counters_.send_failed;
    }
  }
  void set_timer(PeerIndex peer, SimTime delay, std::uint16_t kind, std::uint32_t cookie) override {
    if (peer != contacts_.self()) return;  // only the local peer has timers
    timers_.push(Timer{now() + std::max<SimTime>(delay, 0), next_seq_++, kind, cookie});
  }
  Rng& rng(PeerIndex peer) override {
    (void)peer;
    return rng_;
  }
  const Id& id_of(PeerIndex peer) const override { return contacts_.at(peer).id; }
  Trace& trace() override { return trace_; }

  // ---- event loop ----
  /// Waits for datagrams at most until the next timer is due or `max_wait` passed, handles
  /// what arrived, then fires every due timer. Returns the number of datagrams handled.
  int run_once(std::chrono::microseconds max_wait) {
    deliver_loopback();
    SimTime wait = max_wait.count();
    if (!timers_.empty()) wait = std::min(wait, std::max<SimTime>(timers_.top().at - now(), 0));
    const int got = socket_.receive(std::chrono::microseconds(wait), 256,
                                    [&](const std::uint8_t* data, std::size_t size, const Endpoint& from) {
                                      ++counters_.received;
                                      if (receiver_) receiver_(data, size, from);
                                    });
    deliver_loopback();
    const SimTime t = now();
    while (!timers_.empty() && timers_.top().at <= t) {
      const Timer timer = timers_.top();
      timers_.pop();
      ++counters_.timers;
      if (handler_) handler_->on_timer(contacts_.self(), timer.kind, timer.cookie);
      deliver_loopback();
    }
    return got;
  }
  const TransportCounters& counters() const { return counters_; }
  std::size_t timers_pending() const { return timers_.size(); }
  /// Timers of this kind still waiting (a few dozen at most in a node: a linear scan).
  std::size_t pending_of(std::uint16_t kind) const {
    std::size_t n = 0;
    for (const Timer& t : timers_.container()) n += t.kind == kind;
    return n;
  }

 private:
  struct Timer {
    SimTime at;
    std::uint64_t seq;
    std::uint16_t kind;
    std::uint32_t cookie;
    bool operator>(const Timer& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  void deliver_loopback() {
    // Messages a peer sends itself (a ring of one) are delivered in order, after the handler
    // that sent them returned, as the simulator does. Bounded: a protocol bug that keeps
    // talking to itself cannot hang the loop.
    for (int round = 0; round < 64 && !loopback_.empty(); ++round) {
      std::vector<Msg> batch;
      batch.swap(loopback_);
      for (const Msg& msg : batch) {
        if (handler_) handler_->on_message(contacts_.self(), contacts_.self(), msg);
      }
    }
    loopback_.clear();
  }

  UdpSocket& socket_;
  ContactTable& contacts_;
  Rng rng_;
  Trace trace_;
  std::chrono::steady_clock::time_point start_;
  struct Heap : std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> {
    const std::vector<Timer>& container() const { return this->c; }
  };
  Heap timers_;
  std::uint64_t next_seq_ = 0;
  MessageHandler<Msg>* handler_ = nullptr;
  Encoder encoder_;
  Receiver receiver_;
  SendObserver observer_;
  std::vector<Msg> loopback_;
  std::vector<std::uint8_t> buffer_;
  TransportCounters counters_;
};

}  // namespace p2plab::net
