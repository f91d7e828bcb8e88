#pragma once
// The conservative parallel simulator: Simulator<Msg>'s events, in Simulator<Msg>'s order at
// every peer, processed by several threads. The result does not depend on the thread count.
//
// The peers are cut into contiguous partitions, one thread each: equal counts, or equal total
// weight (partition_by_weight: a protocol whose peers carry unequal loads). No message arrives
// sooner than the network's minimum latency L (the lookahead), so the events of a window
// [T, T + L) can only have been caused by events before T, or by events of the same window at the
// same partition: each partition processes its window alone. At the window's end the threads
// meet:
//   1. merge: the windows' logs (of each processed event that caused others: its time,
//      tie-break and how many) are merged in (time, tie-break) order, and every event caused in
//      the window gets the number a one-threaded run would have given it (insertion order); with
//      two partitions both threads share it (each numbers part of the window, the first more
//      while it comes first to the next meeting, prepare_merge). At the same time the last
//      partition's thread starts the next window: it takes the window's arrivals from their
//      source (each thread admits its own when its window starts), most of them drawn ahead by
//      threads that waited at a meeting (draw_while_waiting);
//   2. transfer: the events caused for later windows or other partitions, numbered now, go to
//      their partition's queue (a message is copied into that partition's pool). The threads
//      meet once more before their next windows, which reuse the outboxes. (A second set of
//      outboxes, so that a thread done with its transfer could go on at once, was 2 bytes per
//      peer at 3 x 10^7 peers: over the 400 the issue allows.)
// Inside a window a partition numbers the events it causes provisionally (kProvisional | its
// own count): they only meet events of the same partition, and come after every numbered one.
// Example, two partitions, L = 10 ms, the window [0, 10 ms): partition 0 processes a at 2 ms
// (which sends a message arriving at 31 ms) and c at 5 ms (one timer); partition 1 processes b
// at 3 ms (two messages). The merge orders a, b, c: a's message gets number G, b's G + 1 and
// G + 2, c's timer G + 3, as if one thread had run them.
//
// Workload arrivals (requests no peer's event causes, ArrivalSource) are drawn a window ahead
// and numbered after the previous window's events. What a protocol keeps per request must
// belong to the requester's partition (Transport::partition_of); what it keeps per peer is the
// peer's. Traces, scenario operations (failures, joins) and state shared between peers are for
// the one-threaded Simulator<Msg>: a run with the trace on is refused.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "p2plab/arrivals.hpp"
#include "p2plab/simulator.hpp"
#include "p2plab/window_barrier.hpp"

namespace p2plab {

/// `ProtocolHandler` is the protocol's handler type when it is known where the simulator is declared
/// (a benchmark): a `final` class's calls are then direct, and its inline prefetch hints inline
/// into the event loop (three calls through a virtual table per event otherwise). The engine
/// still knows no protocol: any MessageHandler<Msg> will do.
// (Transport is the first base: a protocol's calls through it, a few per event, then reach the
// simulator with no thunk adjusting `this` first.)
template <class Msg, class ProtocolHandler = MessageHandler<Msg>>
class ParallelSimulator final : public Transport<Msg>, public SimulatorCore {
  static_assert(std::is_base_of_v<MessageHandler<Msg>, ProtocolHandler>, "a handler of this simulator's messages");

 public:
  ParallelSimulator(std::uint64_t seed, NetworkConfig network, unsigned threads)
      : SimulatorCore(seed, network), parts_(std::max(1u, threads)) {
    for (std::size_t i = 0; i < parts_.size(); ++i) {
      parts_[i].index = static_cast<std::uint32_t>(i);
      parts_[i].outbox.resize(parts_.size());
      parts_[i].letters.resize(parts_.size());
    }
  }

  void set_handler(ProtocolHandler* handler) { handler_ = handler; }
  /// Arrivals become callbacks to `handler` (add_handler) with the arrival's peer and arg.
  void set_arrivals(ArrivalSource* source, std::uint16_t handler) {
    arrivals_ = source;
    arrival_handler_ = handler;
  }
  unsigned threads() const { return static_cast<unsigned>(parts_.size()); }

  /// Where the threads' time went, in seconds summed over the threads (wall-clock time: for
  /// benchmarks and profiles, never for a result). With one thread only `events` counts.
  struct PhaseTimes {
    double events = 0;                             // processing their windows' events
    double transfer = 0;                           // moving the events caused for other windows into their queues
    double waiting = 0;                            // at the three meetings per window (the sum of these):
    double waiting_events = 0;                     //   for the other threads' events (the first meeting)
    double merging = 0;                            //   merge and next window's start (to the second)
    double waiting_transfer = 0;                   //   for the other threads' transfers (the third)
    double merge = 0;                              // numbering the window's events, on the first partition's thread
    std::uint64_t windows = 0, halved_merges = 0;  // windows; of them merged by two threads
  };
  PhaseTimes phase_times() const {
    PhaseTimes sum;
    for (const Partition& p : parts_) {
      sum.events += p.times.events;
      sum.transfer += p.times.transfer;
      sum.waiting += p.times.waiting_events + p.times.merging + p.times.waiting_transfer;
      sum.waiting_events += p.times.waiting_events;
      sum.merging += p.times.merging;
      sum.waiting_transfer += p.times.waiting_transfer;
    }
    sum.merge = merge_seconds_;
    sum.windows = windows_;
    sum.halved_merges = halved_merges_;
    return sum;
  }

  // ---- Transport ------------------------------------------------------------------------------
  SimTime now() const override { return running_ != nullptr ? running_->now : now_; }
  Rng& rng(PeerIndex peer) override { return peers_[peer].rng; }
  const Id& id_of(PeerIndex peer) const override { return peers_[peer].id; }
  Trace& trace() override { return trace_; }
  std::uint32_t partitions() const override { return static_cast<std::uint32_t>(parts_.size()); }
  std::uint32_t partition_of(PeerIndex peer) const override {
    if (peer == kNoPeer) return 0;
    std::uint32_t part = 0;  // (a few partitions: a scan costs less than a division)
    while (part + 1 < starts_.size() && peer >= starts_[part + 1]) ++part;
    return part;
  }

  void send(PeerIndex from, PeerIndex to, const Msg& msg) override {
    Partition& p = here();
    const auto type = static_cast<std::size_t>(msg.type);
    ++p.messages.sent[type];
    Rng& stream = peers_[from].rng;
    if (network_.lost(stream)) {
      ++p.messages.lost[type];
      return;
    }
    const SimTime delay = network_.latency(stream, position(from), position(to));
    if (running_ != nullptr && parts_.size() > 1) {
      if (const std::uint32_t to_part = partition_of(to); to_part != p.index) {
        // For another partition: the message travels in the outbox, read by that partition's
        // thread while this one goes on using its own pool.
        const std::uint32_t letter = p.letters[to_part].write(msg, from);
        push(p, now() + delay, to, kDeliver, 0, letter);
        return;
      }
    }
    push(p, now() + delay, to, kDeliver, 0, p.pool.store(msg, from));
  }

  void set_timer(PeerIndex peer, SimTime delay, std::uint16_t kind, std::uint32_t cookie) override {
    Partition& p = here();
    push(p, now() + delay, peer, kTimer, kind, cookie);
  }

  // ---- SimulatorCore ----------------------------------------------------------------------------
  void schedule_at(SimTime at, std::uint16_t handler, PeerIndex peer, std::uint32_t arg) override {
    if (running_ == nullptr) {
      SimulatorCore::schedule_at(at, handler, peer, arg);
      return;
    }
    Partition& p = *running_;
    if (partition_of(peer) != p.index && at < window_end_) {
      // Another partition's event inside the lookahead: no conservative schedule can keep it.
      throw std::logic_error("parallel simulator: a callback for another partition's peer within the lookahead");
    }
    push(p, std::max(at, p.now), peer, kCallback, handler, arg);
  }

  std::size_t engine_bytes() const override {
    std::size_t bytes = SimulatorCore::engine_bytes();
    for (const Partition& p : parts_) {
      bytes +=
          p.queue.capacity_bytes() + p.log.capacity() * sizeof(LogEntry) + p.finals.capacity() * sizeof(std::uint64_t);
      for (const auto& box : p.outbox) bytes += box.items.capacity() * sizeof(QueuedEvent);
      for (const auto& letters : p.letters) bytes += letters.items.capacity() * sizeof(Letter);
    }
    return bytes;
  }
  /// Cuts the peers added so far into partitions of equal counts, if the first run (or
  /// partition_by_weight) has not (partition_of is 0 for every peer until then): setup that fills
  /// each partition's state on that partition's thread needs it. Peers added later belong to the
  /// last partition.
  void fix_partitions() {
    if (!starts_.empty()) return;
    const std::size_t block = std::max<std::size_t>(1, (peer_count() + parts_.size() - 1) / parts_.size());
    for (std::size_t k = 0; k < parts_.size(); ++k) {
      starts_.push_back(static_cast<PeerIndex>(std::min(k * block, peer_count())));
    }
  }
  /// Cuts the peers added so far (weight[i] is peer i's) into contiguous partitions of about
  /// equal total weight: what a peer's events are expected to cost, when the peers' loads are
  /// unequal (a peer that owns more of the key space carries more routes). Partition k starts at
  /// the first peer whose preceding weights reach k/threads of the total. Before the first run
  /// and fix_partitions. Which peer is in which partition never changes a result, only how evenly
  /// the threads are busy. Example: weights 3, 1, 1, 1 on two threads: {0}, {1, 2, 3}.
  void partition_by_weight(std::span<const double> weight) {
    if (!starts_.empty()) throw std::logic_error("parallel simulator: the partitions are cut already");
    if (weight.size() != peer_count()) {
      throw std::invalid_argument("parallel simulator: " + std::to_string(weight.size()) + " weights for " +
                                  std::to_string(peer_count()) + " peers");
    }
    double total = 0;
    for (const double w : weight) {
      if (!std::isfinite(w) || w < 0) {
        throw std::invalid_argument("parallel simulator: a peer's weight is not a finite number >= 0");
      }
      total += w;
    }
    if (!std::isfinite(total)) throw std::invalid_argument("parallel simulator: the peers' weights add up to infinity");
    if (total <= 0) {  // no weight to share: equal counts
      fix_partitions();
      return;
    }
    const auto parts = static_cast<double>(parts_.size());
    starts_.push_back(0);
    double before = 0;  // the weights of peers 0 .. i - 1
    for (std::size_t i = 0; i < weight.size(); ++i) {
      while (i > 0 && starts_.size() < parts_.size() && before >= total * static_cast<double>(starts_.size()) / parts) {
        starts_.push_back(static_cast<PeerIndex>(i));
      }
      before += weight[i];
    }
    while (starts_.size() < parts_.size()) starts_.push_back(static_cast<PeerIndex>(weight.size()));
  }
  /// The first peer of each partition (empty before the partitions are cut).
  const std::vector<PeerIndex>& partition_starts() const { return starts_; }
  /// The events each partition processed, over every run. Deterministic (the partitions and the
  /// events are), so how evenly a partitioning shares the work shows without timing.
  std::vector<std::uint64_t> partition_events() const {
    std::vector<std::uint64_t> events;
    for (const Partition& p : parts_) events.push_back(p.processed_before + p.processed);
    return events;
  }

  /// Events not processed yet: the partitions' queues, and those scheduled since the last run.
  std::size_t events_pending() const {
    std::size_t n = SimulatorCore::events_pending();
    for (const Partition& p : parts_) n += p.queue.size();
    return n;
  }
  std::size_t pool_bytes() const {
    std::size_t bytes = 0;
    for (const Partition& p : parts_) bytes += p.pool.bytes();
    return bytes;
  }

  /// Processes every event up to and including `end`, window by window, then sets the clock to
  /// `end`. Peers added after the first call belong to the last partition.
  void run_until(SimTime end) override {
    if (trace_.enabled()) throw std::logic_error("parallel simulator: traces are for the one-threaded simulator");
    if (failed_)
      throw std::logic_error("parallel simulator: an event's handler failed in an earlier run; its state is lost");
    lookahead_ = network_.min_latency();
    if (parts_.size() > 1 && lookahead_ <= 0) {
      throw std::logic_error("parallel simulator: the network's minimum latency is 0: no lookahead to run on");
    }
    fix_partitions();
    adopt_setup_events();
    end_ = end;
    stop_ = !start_window(next_seq_);
    next_seq_ += batch_.size();
    if (!stop_) {
      WindowBarrier meeting(static_cast<std::uint32_t>(parts_.size()));
      std::vector<std::thread> workers;
      for (std::size_t i = 1; i < parts_.size(); ++i) {
        workers.emplace_back([this, i, &meeting] { work(parts_[i], meeting); });
      }
      work(parts_[0], meeting);
      for (std::thread& t : workers) t.join();
    }
    if (failed_) rethrow_first_failure();
    for (Partition& p : parts_) clear_sent(p);
    queue_.continue_numbering(next_seq_);  // events scheduled before the next run come after these
    now_ = std::max(now_, end);
    // Counters are summed (integers: the order of adding never matters).
    for (Partition& p : parts_) {
      messages_.add(p.messages);
      p.messages = MessageStats{};
      add_processed(p.processed);
      p.processed_before += p.processed;
      p.processed = 0;
    }
  }

 private:
  static constexpr std::uint64_t kProvisional = std::uint64_t{1} << 63;
  static constexpr SimTime kNoLookaheadWindow = 1000;  // one partition on a network without minimum latency

  struct Letter {  // a message for another partition, with its sender
    Msg msg;
    PeerIndex sender;
  };
  /// The letters of a window for one partition. Slots are kept from window to window and
  /// written over: a letter copies only the message's used bytes (as the pool does), where a
  /// new element was a whole message built and copied twice.
  struct alignas(64) LetterBox {
    std::vector<Letter> items;
    std::size_t used = 0;  // letters of this window: items[0, used)
    std::uint32_t write(const Msg& msg, PeerIndex sender) {
      if (used == items.size()) items.emplace_back();
      Letter& letter = items[used];
      letter.sender = sender;
      copy_message(letter.msg, msg);
      return static_cast<std::uint32_t>(used++);
    }
  };
  struct LogEntry {
    SimTime time;
    std::uint64_t seq;         // numbered, or provisional (caused in this window by this partition)
    std::uint64_t first_push;  // the provisional number of the first event it caused
  };
  using Clock = std::chrono::steady_clock;
  static double seconds(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
  }
  // A vector whose header has a cache line of its own. The outboxes' headers were 24-byte
  // elements of one small allocation per partition, and malloc puts such allocations side by
  // side: the two threads' headers shared lines that each thread writes at every push.
  template <class T>
  struct alignas(64) OwnLine {
    std::vector<T> items;
  };
  struct alignas(64) Partition {  // (its own cache lines: each thread writes its partition's counters)
    std::uint32_t index = 0;
    EventQueue queue;
    MessagePool<Msg> pool;
    MessageStats messages;
    SimTime now = 0;
    std::uint64_t processed = 0;         // this run's events
    std::uint64_t processed_before = 0;  // earlier runs'
    // This window:
    std::vector<LogEntry> log;
    std::uint64_t local_pushes = 0;            // events caused: the next provisional number
    bool handled_own = false;                  // an event caused for this window (numbered provisionally)
    std::vector<std::uint64_t> finals;         // provisional number -> the sequential run's number
    std::vector<OwnLine<QueuedEvent>> outbox;  // per partition: events for later windows
    std::vector<LetterBox> letters;            // per other partition: the messages its outbox delivers
    SimTime earliest_staged = std::numeric_limits<SimTime>::max();
    PhaseTimes times;
    std::exception_ptr failure;  // what a handler (or the arrivals) threw, at `failed_at`
    SimTime failed_at = 0;
  };

  /// Runs `f` (code of the protocol's: an event's handler, the arrivals) on p's thread. What it
  /// throws is kept, not let loose on a worker thread (which would end the process): the threads
  /// stop together at their next meeting and run_until throws it on the caller's thread.
  template <class F>
  void guarded(Partition& p, F&& f) {
    try {
      f();
    } catch (...) {
      p.failure = std::current_exception();
      p.failed_at = p.now;
      const std::lock_guard<std::mutex> hold(failure_lock_);
      failed_ = true;
    }
  }
  /// The failure a sequential run would have met first: the earliest event's (lowest partition
  /// on a tie; the windows are the same for any thread count, so is the failing one).
  [[noreturn]] void rethrow_first_failure() {
    const Partition* first = nullptr;
    for (const Partition& p : parts_) {
      if (p.failure && (first == nullptr || p.failed_at < first->failed_at)) first = &p;
    }
    std::rethrow_exception(first->failure);
  }

  static inline thread_local Partition* running_ = nullptr;

  void dispatch(const QueuedEvent&) override {
    throw std::logic_error("parallel simulator: step() is for the one-threaded simulator; use run_until");
  }

  Partition& here() { return running_ != nullptr ? *running_ : parts_[0]; }

  void push(Partition& p, SimTime at, PeerIndex peer, std::uint16_t kind, std::uint16_t sub, std::uint32_t arg) {
    if (running_ == nullptr) {  // setup: the core's queue, taken over when the run starts
      queue_.push(at, peer, kind, sub, arg);
      return;
    }
    if (parts_.size() == 1) {  // one partition: its order is the sequential order, numbered at once
      p.queue.push_sequenced(QueuedEvent{at, next_seq_++, peer, arg, kind, sub});
      return;
    }
    const std::uint64_t seq = kProvisional | p.local_pushes++;
    const std::uint32_t to = partition_of(peer);
    if (to == p.index && at < window_end_) {
      p.queue.push_sequenced(QueuedEvent{at, seq, peer, arg, kind, sub});
      p.handled_own = true;
    } else {
      // Built in place, field by field: an event built on the stack and copied in was loaded
      // back as two 16-byte vectors from the field-sized stores just made, a store-forwarding
      // stall on 80 % of this function's samples (perf annotate, two threads, 10^6 peers).
      p.outbox[to].items.emplace_back(at, seq, peer, arg, kind, sub);
      p.earliest_staged = std::min(p.earliest_staged, at);
    }
  }

  /// Events scheduled before the run (in the core's queue, numbered there) go to their partitions.
  void adopt_setup_events() {
    next_seq_ = std::max(next_seq_, queue_.pushed());
    while (!queue_.empty()) {
      QueuedEvent e = queue_.pop();
      Partition& to = parts_[partition_of(e.peer)];
      if (e.kind == kDeliver && to.index != 0) {  // sent before the run: from partition 0's pool
        MessagePool<Msg>& setup_pool = parts_[0].pool;
        const std::uint32_t slot = to.pool.store(setup_pool.message(e.arg), setup_pool.sender(e.arg));
        setup_pool.release(e.arg);
        e.arg = slot;
      }
      to.queue.push_sequenced(e);
    }
  }

  /// A thread's loop. Its window; the first meeting; then the first partition's thread numbers
  /// the window's events (merge) while the last partition's starts the next window (its start
  /// and arrivals, numbered after the window's events: their count is known before the merge);
  /// the second meeting; its transfer; the third meeting (the outboxes it clears next are read
  /// by the others' transfers).
  void work(Partition& p, WindowBarrier& meeting) {
    running_ = &p;
    Clock::time_point start = Clock::now();
    for (;;) {
      clear_sent(p);
      admit_arrivals(p);
      guarded(p, [&] { process_window(p); });
      const Clock::time_point processed = Clock::now();
      const auto draw = [&] { return draw_while_waiting(p); };
      meeting.arrive_and_wait(
          [this] {
            arrivals_first_ = next_seq_;
            for (const Partition& part : parts_) arrivals_first_ += part.local_pushes;
            prepare_merge();
            ++windows_;
            halved_merges_ += split_.halves ? 1 : 0;
          },
          draw);
      const Clock::time_point met = Clock::now();
      if (failed_) break;  // (set before the meeting: every thread sees it, and all stop here)
      if (p.index == 0) {
        const Clock::time_point merge_start = Clock::now();
        merge_first_part();
        merge_seconds_ += seconds(merge_start, Clock::now());
      } else if (p.index == 1 && split_.halves) {
        merge_second_half();
      }
      if (p.index + 1 == parts_.size()) guarded(p, [&] { stop_ = !start_window(arrivals_first_); });
      meeting.arrive_and_wait(
          [this] {
            next_seq_ = arrivals_first_ + batch_.size();  // (the merge numbered the window's events up to there)
            stop_ = stop_ || failed_;
            // The second thread also starts the next window: the first merges more of the next
            // log while it came first (timing decides only who numbers what, never a number).
            if (split_.halves) {
              const double step = running_->index == 0 ? -kShareStep : kShareStep;
              first_share_ = std::clamp(first_share_ + step, kShareMin, kShareMax);
            }
          },
          draw);
      const Clock::time_point merged = Clock::now();
      transfer_into(p);
      const Clock::time_point transferred = Clock::now();
      meeting.arrive_and_wait([] {}, draw);
      const Clock::time_point next = Clock::now();
      p.times.events += seconds(start, processed);
      p.times.transfer += seconds(merged, transferred);
      p.times.waiting_events += seconds(processed, met);
      p.times.merging += seconds(met, merged);
      p.times.waiting_transfer += seconds(transferred, next);
      start = next;
      if (stop_) break;
    }
    running_ = nullptr;
  }

  /// A thread waiting at a meeting draws arrivals ahead, one per call (the meeting calls it
  /// while it returns true), up to kArrivalsAhead windows past the current one; start_window
  /// hands out what was drawn and draws the rest. The first thread done with its events, its
  /// merge or its transfer draws while the others still work: at 10^6 peers a window has about a
  /// thousand arrivals, 50 us of drawing, that all threads waited for when start_window drew them.
  /// One thread draws at a time (drawing_: a try-lock here, held by start_window while it reads
  /// the arrivals and writes window_end_, so a draw still running when the meeting ends is safe).
  bool draw_while_waiting(Partition& p) {
    if (arrivals_ == nullptr || drawing_.exchange(true, std::memory_order_acquire)) return false;
    bool drew = false;
    guarded(p, [&] { drew = arrivals_->draw_one_ahead(window_end_ + kArrivalsAhead * lookahead_); });
    drawing_.store(false, std::memory_order_release);
    return drew;
  }

  /// The window's events at this partition, in (time, seq) order, with the engine's prefetch
  /// pipeline (SimulatorCore::prefetch_ahead). With more than one partition each that caused
  /// events is logged with the first provisional number it handed out (the merge reads how many
  /// it caused from the next entry).
  void process_window(Partition& p) {
    EventQueue& q = p.queue;
    const bool log = parts_.size() > 1;
    QueuedEvent e;
    while (q.pop_before(window_end_, e)) {
      prefetch_ahead(q, p.pool, *handler_);
      p.now = e.time;
      ++p.processed;
      const std::uint64_t first_push = p.local_pushes;
      handle_event(p.pool, p.messages, *handler_, e, [](Outcome, PeerIndex, std::size_t) {});
      // An event that caused none takes no number: the merge need not see it (a lookup's answer
      // at its requester, a timeout after the answer: about one event in six in the benchmark).
      if (log && p.local_pushes != first_push) p.log.push_back(LogEntry{e.time, e.seq, first_push});
    }
  }

  /// Numbers every event caused in the window as the sequential run would: walk the processed
  /// events of all partitions in (time, seq) order and hand out numbers to what each caused.
  /// An event caused in this window has a provisional number whose cause comes earlier in the
  /// same log, so it is numbered by the time it is compared. Each log ends with a sentinel (no
  /// event, after every time) whose first_push closes the last event's range.
  ///
  /// With two partitions the two threads share the work when they can: the events before a time
  /// T (the middle of the longer log) come before all others in any order, and how many events
  /// they caused is read off the logs (first_push at the first entry at or after T), so the
  /// second thread numbers the rest from there at the same time. Not when an event caused in
  /// the window was handled in it (a provisional number in a log: comparing it needs its final
  /// number, which the other half may be handing out).
  /// Example: logs a = (1 ms, caused 2), (4 ms, 1), (6 ms, 3) and b = (2 ms, 1), (5 ms, 2),
  /// numbers from G. T = 4 ms: the first thread merges a's (1 ms) and b's (2 ms), numbers G to
  /// G + 2; the second starts at G + 2 + 1 (a's and b's first_push at their 4 and 5 ms entries).
  void prepare_merge() {
    split_ = MergeSplit{};
    if (parts_.size() == 1) return;
    bool provisional = false;
    for (Partition& p : parts_) {
      p.finals.resize(p.local_pushes);
      p.log.push_back(LogEntry{std::numeric_limits<SimTime>::max(), 0, p.local_pushes});
      provisional = provisional || p.handled_own;
    }
    if (parts_.size() != 2) return;
    const auto& la = parts_[0].log;
    const auto& lb = parts_[1].log;
    split_.a = la.size() - 1;  // the sentinels: unless halved, the first part is the whole merge
    split_.b = lb.size() - 1;
    if (provisional || la.size() + lb.size() < kSplitAtLeast) return;
    const auto& longer = la.size() >= lb.size() ? la : lb;
    const auto at = static_cast<std::size_t>(static_cast<double>(longer.size() - 1) * first_share_);
    const SimTime middle = longer[std::min(at, longer.size() - 1)].time;
    auto first_at = [middle](const std::vector<LogEntry>& log) {
      return static_cast<std::size_t>(
          std::lower_bound(log.begin(), log.end(), middle, [](const LogEntry& e, SimTime t) { return e.time < t; }) -
          log.begin());
    };
    split_.halves = true;
    split_.a = first_at(la);
    split_.b = first_at(lb);
    split_.seq = next_seq_ + la[split_.a].first_push + lb[split_.b].first_push;
  }

  /// The first partition's thread: two logs up to the split (all of them if not halved), or
  /// the whole merge of more.
  void merge_first_part() {
    if (parts_.size() == 2) {
      merge_two(parts_[0], parts_[1], 0, split_.a, 0, split_.b, next_seq_);
    } else if (parts_.size() > 2) {
      merge_many();
    }
  }
  /// The second partition's thread, when halved: from the split to the sentinels.
  void merge_second_half() {
    merge_two(parts_[0], parts_[1], split_.a, parts_[0].log.size() - 1, split_.b, parts_[1].log.size() - 1, split_.seq);
  }

  static std::uint64_t final_seq(const Partition& p, std::uint64_t seq) {
    return (seq & kProvisional) != 0 ? p.finals[seq & ~kProvisional] : seq;
  }
  /// The events that log entry `e` of `p` caused get the next numbers, from `seq` on.
  static void number_caused(Partition& p, const LogEntry* e, std::uint64_t& seq) {
    for (std::uint64_t k = e->first_push; k < e[1].first_push; ++k) p.finals[k] = seq++;
  }

  /// Two partitions (a 2-core machine): entries [xi, x_end) of a's log and [yi, y_end) of b's,
  /// numbered from `seq`; one comparison of the two heads per event. The entries at the ends are
  /// after every one before them (a sentinel, or the first at or after the split's time).
  static void merge_two(Partition& a, Partition& b, std::size_t xi, std::size_t x_end, std::size_t yi,
                        std::size_t y_end, std::uint64_t seq) {
    const LogEntry* x = a.log.data() + xi;
    const LogEntry* y = b.log.data() + yi;
    const LogEntry* const x_stop = a.log.data() + x_end;
    const LogEntry* const y_stop = b.log.data() + y_end;
    while (x != x_stop || y != y_stop) {
      const bool take_x = x->time != y->time ? x->time < y->time : final_seq(a, x->seq) < final_seq(b, y->seq);
      if (take_x) {
        number_caused(a, x++, seq);
      } else {
        number_caused(b, y++, seq);
      }
    }
  }

  /// Any count: the earliest head of all logs, ties by number.
  void merge_many() {
    std::uint64_t seq = next_seq_;
    std::vector<std::size_t>& next = merge_next_;
    next.assign(parts_.size(), 0);
    for (;;) {
      std::size_t best = 0;
      for (std::size_t i = 1; i < parts_.size(); ++i) {
        const LogEntry& head = parts_[i].log[next[i]];
        const LogEntry& best_head = parts_[best].log[next[best]];
        if (head.time < best_head.time ||
            (head.time == best_head.time && head.time != std::numeric_limits<SimTime>::max() &&
             final_seq(parts_[i], head.seq) < final_seq(parts_[best], best_head.seq))) {
          best = i;
        }
      }
      Partition& p = parts_[best];
      if (next[best] + 1 == p.log.size()) break;  // the earliest head is a sentinel: all merged
      number_caused(p, &p.log[next[best]++], seq);
    }
  }

  /// The events caused for this partition in the window, numbered now, into its queue.
  void transfer_into(Partition& p) {
    for (Partition& from : parts_) {
      const std::vector<QueuedEvent>& items = from.outbox[p.index].items;
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (i + kPlaceAhead < items.size()) p.queue.prefetch_place(items[i + kPlaceAhead].time);
        const QueuedEvent& staged = items[i];
        QueuedEvent e = staged;
        e.seq = from.finals[staged.seq & ~kProvisional];
        if (e.kind == kDeliver && from.index != p.index) {
          const Letter& letter = from.letters[p.index].items[staged.arg];
          e.arg = p.pool.store(letter.msg, letter.sender);
        }
        p.queue.push_sequenced(e);
      }
    }
  }

  /// The window's arrivals at this partition into its queue, on its own thread: start_window
  /// (on the last partition's thread) only takes them from the source. Written from there into
  /// each partition's queue or list, every line was the other core's to fetch while all threads
  /// waited (60 of the 130 us of a window's merge phase at 10^6 peers); read here, the lines of
  /// the batch arrive in order.
  void admit_arrivals(Partition& p) {
    for (std::size_t i = 0; i < batch_.size(); ++i) {
      const ArrivalSource::Arrival& a = batch_[i];
      if (partition_of(a.peer) == p.index) {
        p.queue.push_sequenced(QueuedEvent{a.time, batch_first_ + i, a.peer, a.arg, kCallback, arrival_handler_});
      }
    }
  }

  /// Before a window: its outboxes and its log are empty again.
  void clear_sent(Partition& p) {
    for (auto& box : p.outbox) box.items.clear();
    for (auto& letters : p.letters) letters.used = 0;
    p.log.clear();
    p.local_pushes = 0;
    p.handled_own = false;
    p.earliest_staged = std::numeric_limits<SimTime>::max();
  }

  /// Starts the next window at the earliest pending event or arrival; false when none is left
  /// up to end_. The window's arrivals (batch_) are numbered from `first`, after
  /// every event caused so far (the merge may still be handing out those numbers).
  bool start_window(std::uint64_t first) {
    while (drawing_.exchange(true, std::memory_order_acquire)) WindowBarrier::pause();
    struct Unlock {
      std::atomic<bool>& lock;
      ~Unlock() { lock.store(false, std::memory_order_release); }
    } unlock{drawing_};
    batch_.clear();
    SimTime start = std::numeric_limits<SimTime>::max();
    for (Partition& p : parts_) {
      if (!p.queue.empty()) start = std::min(start, p.queue.top().time);
      start = std::min(start, p.earliest_staged);
    }
    if (arrivals_ != nullptr && arrivals_->next_time() >= 0) start = std::min(start, arrivals_->next_time());
    if (start > end_) return false;
    // (One partition needs no lookahead, but its windows are those of any other count: the
    // arrivals' numbering depends on them.)
    window_end_ = std::min(start + (lookahead_ > 0 ? lookahead_ : kNoLookaheadWindow), end_ + 1);
    if (arrivals_ != nullptr) {
      arrivals_->take_before(window_end_, batch_);
      batch_first_ = first;
    }
    return true;
  }

  std::vector<Partition> parts_;
  ProtocolHandler* handler_ = nullptr;
  ArrivalSource* arrivals_ = nullptr;
  std::uint16_t arrival_handler_ = 0;
  std::vector<ArrivalSource::Arrival> batch_;  // the next window's arrivals (start_window, admit_arrivals)
  std::uint64_t batch_first_ = 0;              // the first one's number
  std::vector<std::size_t> merge_next_;        // merge_many(): per partition, log entries merged
  struct MergeSplit {
    bool halves = false;       // two threads share the merge
    std::size_t a = 0, b = 0;  // where the first part ends in each log (the second half starts)
    std::uint64_t seq = 0;     // its first number
  };
  MergeSplit split_;
  std::uint64_t windows_ = 0, halved_merges_ = 0;
  static constexpr std::size_t kPlaceAhead = 8;      // transfer_into: events whose place is prefetched ahead
  static constexpr std::size_t kSplitAtLeast = 256;  // log entries: a smaller window is merged by one thread
  // The first thread's share of a halved merge (of the longer log, prepare_merge), moved by
  // kShareStep after each window toward the thread that came to the meeting first.
  double first_share_ = 0.5;
  static constexpr double kShareStep = 0.01, kShareMin = 0.25, kShareMax = 0.9;
  double merge_seconds_ = 0;
  std::vector<PeerIndex> starts_;     // each partition's first peer, fixed by the first run
  SimTime lookahead_ = 0;             // the network's minimum latency
  SimTime window_end_ = 0;            // the current window is [start, window_end_)
  SimTime end_ = 0;                   // run_until's end
  std::uint64_t next_seq_ = 0;        // the next number of the sequential order
  std::uint64_t arrivals_first_ = 0;  // the next window's first arrival's number
  bool stop_ = false;
  std::atomic<bool> drawing_{false};            // a thread draws arrivals (draw_while_waiting, start_window)
  static constexpr SimTime kArrivalsAhead = 2;  // windows past the current one drawn while waiting
  bool failed_ = false;                         // a handler threw (a partition's failure): the run stops, for good
  std::mutex failure_lock_;
};

}  // namespace p2plab
