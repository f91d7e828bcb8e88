#pragma once
// The deterministic discrete-event simulator. It knows peers only as dense indices with an id,
// an up/down state and a random stream; what they say to each other is the protocol's business.
#include <cstdint>
#include <array>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "p2plab/event_queue.hpp"
#include "p2plab/id.hpp"
#include "p2plab/metrics.hpp"
#include "p2plab/network.hpp"
#include "p2plab/peer_array.hpp"
#include "p2plab/rng.hpp"
#include "p2plab/trace.hpp"
#include "p2plab/transport.hpp"

namespace p2plab {

/// Everything of the simulator that does not depend on the protocol's message type.
class SimulatorCore {
 public:
  using Handler = std::function<void(PeerIndex, std::uint32_t)>;
  enum EventKind : std::uint16_t { kDeliver = 0, kTimer = 1, kCallback = 2 };

  SimulatorCore(std::uint64_t seed, NetworkConfig network);
  virtual ~SimulatorCore() = default;
  SimulatorCore(const SimulatorCore&) = delete;
  SimulatorCore& operator=(const SimulatorCore&) = delete;

  SimTime current_time() const { return now_; }
  std::uint64_t seed() const { return seed_; }

  // ---- peers -------------------------------------------------------------------------------
  /// Creates a live peer with identifier `id` and returns its index. Its random stream is
  /// derived from (seed, id) alone.
  PeerIndex add_peer(const Id& id);
  /// Crash: the peer stops at once; messages to it are dropped from now on.
  void mark_failed(PeerIndex peer);
  /// Graceful leave: the peer is gone after the protocol has said goodbye.
  void mark_left(PeerIndex peer);
  /// Crashes round(fraction x live) distinct live peers chosen with the scenario's stream.
  void fail_fraction(double fraction);
  bool is_up(PeerIndex peer) const { return state_[peer] == PeerState::Up; }
  PeerState state(PeerIndex peer) const { return state_[peer]; }
  std::size_t peer_count() const { return ids_.size(); }
  std::size_t live_count() const { return live_count_; }
  const Id& peer_id(PeerIndex peer) const { return ids_[peer]; }
  const PeerArray<Id>& ids() const { return ids_; }
  Rng& peer_rng(PeerIndex peer) { return rngs_[peer]; }
  /// The scenario's own stream (random requesters, random keys, who fails).
  Rng& scenario_rng() { return scenario_rng_; }
  const Position* position(PeerIndex peer) const {
    return positions_.empty() ? nullptr : &positions_[peer];
  }

  // ---- ground truth about live peers, for checking protocols (their oracles), never for routing ----
  /// Live peers sorted by id.
  const std::vector<std::pair<Id, PeerIndex>>& live_by_id() const;
  /// The live peer whose id is `id`, or kNoPeer.
  PeerIndex find_live(const Id& id) const;
  /// The live peer just before live `peer` in id order (itself when it is alone), in O(1), while
  /// the live set is unchanged since the last full rebuild of live_by_id() (a benchmark's millions
  /// of checks); false otherwise (then search live_by_id()). Call live_by_id() first: it does
  /// the rebuild.
  bool live_predecessor(PeerIndex peer, PeerIndex& predecessor) const {
    if (!ranks_valid_) return false;
    const std::size_t rank = rank_[peer];
    predecessor = order_[(rank + order_.size() - 1) % order_.size()];
    return true;
  }
  /// Frees live_by_id()'s list (an id copied per peer: 32 bytes at 10^6 peers, in a benchmark
  /// that has built its network from it) and keeps live_predecessor() answering; the list is
  /// rebuilt when asked for again.
  void release_live_by_id();

  // ---- scheduling ------------------------------------------------------------------------------
  /// Registers a callback for scenario operations and workloads; returns its handler number.
  std::uint16_t add_handler(Handler handler);
  virtual void schedule_at(SimTime at, std::uint16_t handler, PeerIndex peer, std::uint32_t arg);

  /// Processes the next event. Returns false when there is none.
  bool step();
  /// Processes every event up to and including time `end`, then sets the clock to `end`.
  virtual void run_until(SimTime end);
  std::uint64_t events_processed() const { return processed_; }
  std::size_t events_pending() const { return queue_.size(); }
  SimTime next_event_time() { return queue_.empty() ? -1 : queue_.top().time; }

  Trace& event_trace() { return trace_; }
  const Trace& event_trace() const { return trace_; }
  const MessageStats& messages() const { return messages_; }
  const NetworkModel& network() const { return network_; }
  /// Bytes of memory the engine itself holds per peer and in its queue (for the benchmark).
  virtual std::size_t engine_bytes() const;

 protected:
  virtual void dispatch(const QueuedEvent& e) = 0;
  /// Called with the next event while the current one is handled: start loading its data.
  virtual void prefetch(const QueuedEvent& next) { (void)next; }
  /// Like prefetch, one stage later: the event's message may be read to find what it refers to.
  virtual void prefetch_next(const QueuedEvent& next) { (void)next; }
  void note_live_change(PeerIndex peer, bool up);
  void call_handler(std::uint16_t handler, PeerIndex peer, std::uint32_t arg) { handlers_[handler](peer, arg); }
  /// Counts events processed elsewhere (the parallel simulator's partitions).
  void add_processed(std::uint64_t count) { processed_ += count; }
  void mark_down(PeerIndex peer, PeerState state, TraceKind kind);

  SimTime now_ = 0;
  std::uint64_t seed_;
  EventQueue queue_;
  NetworkModel network_;
  Trace trace_;
  MessageStats messages_;
  PeerArray<Id> ids_;
  PeerArray<PeerState> state_;
  PeerArray<Rng> rngs_;
  std::vector<Position> positions_;
  std::size_t live_count_ = 0;

 private:
  Rng scenario_rng_;
  std::vector<Handler> handlers_;
  std::uint64_t processed_ = 0;
  // Sorted live ids; rebuilt lazily after mass changes, patched in place after single ones.
  mutable std::vector<std::pair<Id, PeerIndex>> live_sorted_;
  mutable bool live_dirty_ = false;
  mutable PeerArray<std::uint32_t> rank_;  // peer -> position in id order, valid when ranks_valid_
  mutable PeerArray<PeerIndex> order_;     // live peers in id order, valid when ranks_valid_
  mutable bool ranks_valid_ = false;
  std::size_t pending_live_changes_ = 0;
};

/// Messages in flight, in fixed-size slots that never move (chunks of 1024), reused through a
/// free list: sending a message allocates nothing once the pool has grown to the traffic.
template <class Msg>
class MessagePool {
 public:
  std::uint32_t acquire() {
    if (free_.empty()) {
      const auto first = static_cast<std::uint32_t>(chunks_.size() * kChunk);
      chunks_.push_back(std::make_unique<Chunk>());
      for (std::uint32_t i = kChunk; i-- > 1;) free_.push_back(first + i);
      return first;
    }
    const std::uint32_t slot = free_.back();
    free_.pop_back();
    return slot;
  }
  void release(std::uint32_t slot) { free_.push_back(slot); }
  Msg& message(std::uint32_t slot) { return chunks_[slot / kChunk]->messages[slot % kChunk]; }
  PeerIndex& sender(std::uint32_t slot) { return chunks_[slot / kChunk]->senders[slot % kChunk]; }
  void prefetch(std::uint32_t slot) const {
    const Chunk& chunk = *chunks_[slot / kChunk];
    const char* p = reinterpret_cast<const char*>(&chunk.messages[slot % kChunk]);
    for (std::size_t offset = 0; offset < sizeof(Msg); offset += 64) __builtin_prefetch(p + offset);
    __builtin_prefetch(p + sizeof(Msg) - 1);  // its last line, where the steps of 64 end short of it
    __builtin_prefetch(&chunk.senders[slot % kChunk]);
  }
  std::size_t bytes() const { return chunks_.size() * sizeof(Chunk) + free_.capacity() * sizeof(std::uint32_t); }

 private:
  static constexpr std::uint32_t kChunk = 1024;
  struct Chunk {
    std::array<Msg, kChunk> messages;
    std::array<PeerIndex, kChunk> senders;
  };
  std::vector<std::unique_ptr<Chunk>> chunks_;
  std::vector<std::uint32_t> free_;
};

/// The simulator for one protocol's message type. Messages wait in a reusable pool of fixed-size
/// slots: sending one costs no heap allocation.
template <class Msg>
class Simulator final : public SimulatorCore, public Transport<Msg> {
 public:
  using SimulatorCore::SimulatorCore;

  void set_handler(MessageHandler<Msg>* handler) { handler_ = handler; }

  SimTime now() const override { return now_; }
  Rng& rng(PeerIndex peer) override { return rngs_[peer]; }
  const Id& id_of(PeerIndex peer) const override { return ids_[peer]; }
  Trace& trace() override { return trace_; }

  void send(PeerIndex from, PeerIndex to, const Msg& msg) override {
    const auto type = static_cast<std::size_t>(msg.type);
    ++messages_.sent[type];
    Rng& stream = rngs_[from];
    if (network_.lost(stream)) {
      ++messages_.lost[type];
      if (trace_.enabled()) {
        record(TraceKind::Send, from, to, type);
        record(TraceKind::Drop, from, to, type, static_cast<std::uint16_t>(DropReason::Loss));
      }
      return;
    }
    const SimTime delay = network_.latency(stream, position(from), position(to));
    if (trace_.enabled()) record(TraceKind::Send, from, to, type, 0, now_ + delay);
    const std::uint32_t slot = pool_.acquire();
    pool_.message(slot) = msg;
    pool_.sender(slot) = from;
    queue_.push(now_ + delay, to, kDeliver, 0, slot);
  }

  void set_timer(PeerIndex peer, SimTime delay, std::uint16_t kind, std::uint32_t cookie) override {
    queue_.push(now_ + delay, peer, kTimer, kind, cookie);
  }

  std::size_t pool_bytes() const { return pool_.bytes(); }

 private:
  void prefetch(const QueuedEvent& next) override {
    if (next.kind == kDeliver) pool_.prefetch(next.arg);
    __builtin_prefetch(&state_[next.peer]);
    __builtin_prefetch(&rngs_[next.peer]);
    handler_->prefetch(next.peer);
  }

  void prefetch_next(const QueuedEvent& next) override {
    if (next.kind == kDeliver) handler_->prefetch_message(next.peer, pool_.message(next.arg));
  }

  void dispatch(const QueuedEvent& e) override {
    if (e.kind == kDeliver) {
      // Read in place (pool slots never move) and released when the handler is done.
      const Msg& msg = pool_.message(e.arg);
      const PeerIndex from = pool_.sender(e.arg);
      struct Release {
        MessagePool<Msg>& pool;
        std::uint32_t slot;
        ~Release() { pool.release(slot); }
      } release{pool_, e.arg};
      const auto type = static_cast<std::size_t>(msg.type);
      if (!is_up(e.peer)) {
        ++messages_.to_dead[type];
        if (trace_.enabled()) record(TraceKind::Drop, from, e.peer, type, static_cast<std::uint16_t>(DropReason::DeadTarget));
        return;
      }
      ++messages_.delivered[type];
      if (trace_.enabled()) record(TraceKind::Deliver, from, e.peer, type);
      handler_->on_message(e.peer, from, msg);
    } else if (e.kind == kTimer) {
      if (!is_up(e.peer)) return;  // a dead peer's timers die with it
      if (trace_.enabled()) {
        TraceEvent t;
        t.time = now_;
        t.kind = TraceKind::Timer;
        t.detail = static_cast<std::uint8_t>(e.sub);
        t.peer = e.peer;
        trace_.record(t);
      }
      handler_->on_timer(e.peer, e.sub, e.arg);
    }
  }

  void record(TraceKind kind, PeerIndex from, PeerIndex to, std::size_t type, std::uint16_t index = 0,
              SimTime until = -1) {
    TraceEvent t;
    t.time = now_;
    t.until = until;
    t.kind = kind;
    t.detail = static_cast<std::uint8_t>(type);
    t.index = index;
    t.peer = from;
    t.other = to;
    trace_.record(t);
  }

  MessageHandler<Msg>* handler_ = nullptr;
  MessagePool<Msg> pool_;
};

}  // namespace p2plab
