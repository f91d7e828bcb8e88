#pragma once
// The deterministic discrete-event simulator. It knows peers only as dense indices with an id,
// an up/down state and a random stream; what they say to each other is the protocol's business.
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "p2plab/event_queue.hpp"
#include "p2plab/id.hpp"
#include "p2plab/message_pool.hpp"
#include "p2plab/metrics.hpp"
#include "p2plab/network.hpp"
#include "p2plab/peer_array.hpp"
#include "p2plab/peer_record.hpp"
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
  /// Room for `count` peers in all, so that adding that many copies no per-peer array.
  void reserve_peers(std::size_t count);
  /// Crash: the peer stops at once; messages to it are dropped from now on.
  void mark_failed(PeerIndex peer);
  /// Graceful leave: the peer is gone after the protocol has said goodbye.
  void mark_left(PeerIndex peer);
  /// Crashes round(fraction x live) distinct live peers chosen with the scenario's stream.
  void fail_fraction(double fraction);
  bool is_up(PeerIndex peer) const { return state_[peer] == PeerState::Up; }
  PeerState state(PeerIndex peer) const { return state_[peer]; }
  std::size_t peer_count() const { return peers_.size(); }
  std::size_t live_count() const { return live_count_; }
  const Id& peer_id(PeerIndex peer) const { return peers_[peer].id; }
  /// Every peer's id and stream (a trace written as it goes names peers by these ids).
  const PeerRecords& peer_records() const { return peers_; }
  Rng& peer_rng(PeerIndex peer) { return peers_[peer].rng; }
  /// The scenario's own stream (random requesters, random keys, who fails).
  Rng& scenario_rng() { return scenario_rng_; }
  const Position* position(PeerIndex peer) const { return positions_.empty() ? nullptr : &positions_[peer]; }

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
    predecessor = order_[rank > 0 ? rank - 1 : order_.size() - 1];
    return true;
  }
  /// Starts loading what the truth reads about `peer` (its state, id and rank), for oracles
  /// that check many answers at once: their reads then overlap instead of waiting in turn.
  void prefetch_truth(PeerIndex peer) const {
    __builtin_prefetch(&state_[peer]);
    __builtin_prefetch(&peers_[peer]);
    if (ranks_valid_) __builtin_prefetch(&rank_[peer]);
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
  /// Handles one event (a simulator with a message type: handle_event below).
  virtual void dispatch(const QueuedEvent& e) = 0;
  /// Called right after the queue's earliest event is taken: start loading what the next ones
  /// need (prefetch_ahead below).
  virtual void prefetch_after_pop() {}

  /// The engine's prefetch pipeline, in two stages. Start loading the data of the event
  /// kLoadAhead places ahead (its message and its peer's state), and, for the one kFollowAhead
  /// places ahead, whose message should be in cache by now, whatever that message points to (a
  /// peer's finger block, a lookup). Memory latency then overlaps several events' work: one
  /// event of work was too short to hide a load that needs another load first.
  template <class Msg, class Handler>
  void prefetch_ahead(const EventQueue& queue, const MessagePool<Msg>& pool, const Handler& handler) const {
    if (const QueuedEvent* e = queue.ahead(kLoadAhead); e != nullptr && e->peer != kNoPeer) {
      __builtin_prefetch(&state_[e->peer]);
      __builtin_prefetch(&peers_[e->peer]);
      if (e->kind == kTimer) {
        handler.prefetch_timer(e->peer, e->sub, e->arg);
      } else {
        if (e->kind == kDeliver) pool.prefetch(e->arg);
        handler.prefetch(e->peer);
      }
    }
    if (const QueuedEvent* e = queue.ahead(kFollowAhead); e != nullptr && e->peer != kNoPeer && e->kind == kDeliver) {
      handler.prefetch_message(e->peer, pool.message(e->arg));
    }
  }
  // Three and one places: with fewer lines per event (a routing table read through one fixed
  // line per peer) a deeper first stage pays, 0.94x the time of two and one in the 10^6-peer
  // bench (docs/benchmarks.md); three and two 1.11x, four and one about the same as three and
  // one. (When an event loaded more lines, four and two took 1.03x the time of two and one, six
  // and three 1.13x.)
  static constexpr std::size_t kLoadAhead = 3, kFollowAhead = 1;

  /// What an event became, for a simulator that traces it.
  enum class Outcome : std::uint8_t { Delivered, DeadTarget, Timer };
  /// Hands event `e` to the protocol, as both simulators do. A message is read in place from
  /// `pool` (slots never move), counted in `stats` by its type, dropped if its target is down,
  /// and its slot is released when the handler is done, even if the handler throws. A dead
  /// peer's timers die with it. `observe(outcome, from, detail)` sees each delivery, drop and
  /// timer (detail: the message type or the timer kind) before the handler runs.
  template <class Msg, class Handler, class Observe>
  void handle_event(MessagePool<Msg>& pool, MessageStats& stats, Handler& handler, const QueuedEvent& e,
                    Observe&& observe) {
    if (e.kind == kDeliver) {
      const Msg& msg = pool.message(e.arg);
      const PeerIndex from = pool.sender(e.arg);
      struct Release {
        MessagePool<Msg>& pool;
        std::uint32_t slot;
        ~Release() { pool.release(slot); }
      } release{pool, e.arg};
      const auto type = static_cast<std::size_t>(msg.type);
      if (!is_up(e.peer)) {
        ++stats.to_dead[type];
        observe(Outcome::DeadTarget, from, type);
        return;
      }
      ++stats.delivered[type];
      observe(Outcome::Delivered, from, type);
      handler.on_message(e.peer, from, msg);
    } else if (e.kind == kTimer) {
      if (!is_up(e.peer)) return;
      observe(Outcome::Timer, e.peer, e.sub);
      handler.on_timer(e.peer, e.sub, e.arg);
    } else {
      handlers_[e.sub](e.peer, e.arg);
    }
  }

  void note_live_change(PeerIndex peer, bool up);
  /// Counts events processed elsewhere (the parallel simulator's partitions).
  void add_processed(std::uint64_t count) { processed_ += count; }
  void mark_down(PeerIndex peer, PeerState state, TraceKind kind);

  SimTime now_ = 0;
  std::uint64_t seed_;
  EventQueue queue_;
  NetworkModel network_;
  Trace trace_;
  MessageStats messages_;
  PeerRecords peers_;
  PeerArray<PeerState> state_;
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

/// The simulator for one protocol's message type. Messages wait in a reusable pool of fixed-size
/// slots: sending one costs no heap allocation.
// (Transport is the first base: a protocol's calls through it, a few per event, then reach the
// simulator with no thunk adjusting `this` first.)
template <class Msg>
class Simulator final : public Transport<Msg>, public SimulatorCore {
 public:
  using SimulatorCore::SimulatorCore;

  void set_handler(MessageHandler<Msg>* handler) { handler_ = handler; }

  SimTime now() const override { return now_; }
  Rng& rng(PeerIndex peer) override { return peers_[peer].rng; }
  const Id& id_of(PeerIndex peer) const override { return peers_[peer].id; }
  Trace& trace() override { return trace_; }

  void send(PeerIndex from, PeerIndex to, const Msg& msg) override {
    const auto type = static_cast<std::size_t>(msg.type);
    ++messages_.sent[type];
    Rng& stream = peers_[from].rng;
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
    queue_.push(now_ + delay, to, kDeliver, 0, pool_.store(msg, from));
  }

  void set_timer(PeerIndex peer, SimTime delay, std::uint16_t kind, std::uint32_t cookie) override {
    queue_.push(now_ + delay, peer, kTimer, kind, cookie);
  }

  std::size_t pool_bytes() const { return pool_.bytes(); }

 private:
  void prefetch_after_pop() override { prefetch_ahead(queue_, pool_, *handler_); }

  void dispatch(const QueuedEvent& e) override {
    handle_event(pool_, messages_, *handler_, e, [&](Outcome outcome, PeerIndex from, std::size_t detail) {
      if (!trace_.enabled()) return;
      switch (outcome) {
        case Outcome::Delivered:
          record(TraceKind::Deliver, from, e.peer, detail);
          break;
        case Outcome::DeadTarget:
          record(TraceKind::Drop, from, e.peer, detail, static_cast<std::uint16_t>(DropReason::DeadTarget));
          break;
        case Outcome::Timer: {
          TraceEvent t;
          t.time = now_;
          t.kind = TraceKind::Timer;
          t.detail = static_cast<std::uint8_t>(detail);
          t.peer = e.peer;
          trace_.record(t);
          break;
        }
      }
    });
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
