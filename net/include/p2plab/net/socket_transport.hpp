#pragma once
// Transport<Msg> on a real UDP socket: what lets a protocol written for the simulator run
// unchanged as one real peer. now() is the wall clock (microseconds since the transport was
// made), set_timer() goes on a timer heap, send() encodes the message with the protocol's codec
// into one datagram and sends it to the contact's address. The event loop (run_once) waits on
// the socket until the next timer is due.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <queue>
#include <unordered_map>
#include <vector>

#include "p2plab/net/contacts.hpp"
#include "p2plab/net/udp.hpp"
#include "p2plab/transport.hpp"

namespace p2plab::net {

struct TransportCounters {
  std::uint64_t sent = 0;             // datagrams sent
  std::uint64_t send_failed = 0;      // the system refused them, or the contact has no address
  std::uint64_t not_encodable = 0;    // the codec refused the message (too large, unknown value)
  std::uint64_t received = 0;         // datagrams received (good or bad)
  std::uint64_t timers = 0;           // timers fired
  std::uint64_t bulk_sent = 0;        // bulk messages (storage transfers) sent from the paced queue
  std::uint64_t bulk_dropped = 0;     // bulk messages dropped because the queue was full
  std::uint64_t bulk_merged = 0;      // bulk messages that replaced a queued one about the same thing
  std::uint64_t bulk_unverified = 0;  // bulk messages not sent: the address never answered
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
  /// Pacing: messages `is_bulk` says yes to (storage transfers) wait in a queue of at most
  /// `capacity` and leave at most `per_second` a second, in order, while every other message
  /// (maintenance, lookups) leaves at once: a transfer of thousands of keys never floods the
  /// receiver's socket nor delays a stabilize. Beyond `capacity`, bulk messages are dropped and
  /// counted.
  /// `same` names what a bulk message is about (a key): a newer message about the same thing to
  /// the same peer replaces the queued one in its place, so that a key copied again and again
  /// while the ring settles leaves once, with its latest value.
  /// `answers`: the bulk messages that answer someone's request (a range handed over); to an
  /// address that never answered this peer only the first few of those leave (a forged request
  /// cannot turn this peer into an amplifier aimed at someone else).
  void set_pacing(std::function<bool(const Msg&)> is_bulk, double per_second, std::size_t capacity,
                  std::function<std::uint64_t(const Msg&)> same, std::function<bool(const Msg&)> answers = {}) {
    answers_ = std::move(answers);
    is_bulk_ = std::move(is_bulk);
    bulk_rate_ = per_second;
    bulk_capacity_ = capacity;
    same_ = std::move(same);
  }
  std::size_t bulk_queued() const { return bulk_.size(); }
  /// Calls f(to) for the destination of every queued bulk message.
  template <class F>
  void for_each_queued(F&& f) const {
    for (const BulkId& id : bulk_) f(id.to);
  }

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
    if (is_bulk_ && is_bulk_(msg)) {
      if (answers_ && answers_(msg) && !contacts_.verified(to) && !contacts_.spend_unverified(to)) {
        ++counters_.bulk_unverified;
        return;
      }
      const BulkId id{to, same_(msg)};
      if (auto it = bulk_waiting_.find(id); it != bulk_waiting_.end()) {
        it->second = msg;  // the newer one leaves in the older one's place
        ++counters_.bulk_merged;
        return;
      }
      if (bulk_.size() >= bulk_capacity_) {
        ++counters_.bulk_dropped;
        return;
      }
      bulk_.push_back(id);
      bulk_waiting_.emplace(id, msg);
      return;
    }
    transmit(to, msg);
  }
  /// Encodes and sends one message now.
  void transmit(PeerIndex to, const Msg& msg) {
    if (!encoder_ || !encoder_(to, msg, buffer_)) {
      ++counters_.not_encodable;
      return;
    }
    if (observer_) observer_(to, msg);
    contacts_.sent_to(to);
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
    if (!bulk_.empty()) wait = std::min<SimTime>(wait, 1000);  // the paced queue moves every millisecond
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
    drain_bulk(t);
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
  void drain_bulk(SimTime t) {
    if (bulk_.empty()) {
      bulk_last_ = t;
      bulk_tokens_ = 0;
      return;
    }
    // A token bucket: `bulk_rate_` tokens a second, at most 100 ms worth saved up (a loop turn
    // that took long, under load, does not lower the rate).
    bulk_tokens_ =
        std::min(bulk_tokens_ + static_cast<double>(t - bulk_last_) * bulk_rate_ / 1e6, std::max(1.0, bulk_rate_ / 10));
    bulk_last_ = t;
    while (bulk_tokens_ >= 1 && !bulk_.empty()) {
      bulk_tokens_ -= 1;
      const BulkId id = bulk_.front();
      bulk_.pop_front();
      auto it = bulk_waiting_.find(id);
      const Msg msg = it->second;
      bulk_waiting_.erase(it);
      ++counters_.bulk_sent;
      transmit(id.to, msg);
    }
  }
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
  struct BulkId {
    PeerIndex to;
    std::uint64_t what;
    bool operator==(const BulkId&) const = default;
  };
  struct BulkIdHash {
    std::size_t operator()(const BulkId& b) const { return std::hash<std::uint64_t>()(b.what * 31 + b.to); }
  };
  std::function<bool(const Msg&)> is_bulk_, answers_;
  std::function<std::uint64_t(const Msg&)> same_;
  std::deque<BulkId> bulk_;                                   // the order they leave in
  std::unordered_map<BulkId, Msg, BulkIdHash> bulk_waiting_;  // the message each will carry
  double bulk_rate_ = 0, bulk_tokens_ = 0;
  std::size_t bulk_capacity_ = 0;

  SimTime bulk_last_ = 0;
  TransportCounters counters_;
};

}  // namespace p2plab::net
