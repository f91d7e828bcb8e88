#pragma once
// The simulator's future event list, ordered by time and, for equal times, by insertion order
// (so a run never depends on the queue's internals).
//
// A calendar queue: the near future is cut into buckets of kBucketWidth microseconds. Pushing an
// event appends it to its bucket (O(1)); only the current bucket is sorted, when it becomes
// current (so the simulator can see several events ahead, see ahead()).
// Events beyond the calendar's window wait in FarEvents (a sorted run, and a 4-ary heap for
// those out of order) and move into buckets as time advances. Message latencies (up to 100 ms
// in the benchmarks) fall within the window, so in a large run almost every event costs O(1)
// instead of O(log n) cache misses in one big heap; timers of seconds wait in FarEvents. The
// window is no wider: each bucket's block being filled is touched at random, and 1024 of them
// (500 kB) stay in the core's cache where 8192 (4 MB) did not (0.92 of the time at 10^6 peers).
#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <vector>

#include "p2plab/peer_array.hpp"
#include "p2plab/types.hpp"

namespace p2plab {

struct QueuedEvent {
  SimTime time;
  std::uint64_t seq;   // insertion order: breaks ties deterministically
  PeerIndex peer;      // who the event happens to
  std::uint32_t arg;   // message slot, timer cookie or handler argument
  std::uint16_t kind;  // engine event kind (EventKind in simulator.hpp)
  std::uint16_t sub;   // timer kind or handler id
};
static_assert(sizeof(QueuedEvent) == 32, "keep queued events compact: millions live in the queue");

/// A 4-ary min-heap of events (the far events that come out of order, see FarEvents).
class EventHeap {
 public:
  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  const QueuedEvent& top() const { return heap_.front(); }
  std::size_t capacity_bytes() const { return heap_.capacity() * sizeof(QueuedEvent); }
  void clear() { heap_.clear(); }

  static bool before(const QueuedEvent& a, const QueuedEvent& b) {
    return a.time < b.time || (a.time == b.time && a.seq < b.seq);
  }

  void push(const QueuedEvent& e) {
    std::size_t hole = heap_.size();
    heap_.push_back(e);
    while (hole > 0) {
      const std::size_t parent = (hole - 1) / 4;
      if (!before(e, heap_[parent])) break;
      heap_[hole] = heap_[parent];
      hole = parent;
    }
    heap_[hole] = e;
  }

  QueuedEvent pop() {
    QueuedEvent out = heap_.front();
    const QueuedEvent last = heap_.back();
    heap_.pop_back();
    const std::size_t n = heap_.size();
    if (n == 0) return out;
    std::size_t hole = 0;
    for (;;) {
      const std::size_t first = 4 * hole + 1;
      if (first >= n) break;
      std::size_t best = first;
      const std::size_t end = first + 4 < n ? first + 4 : n;
      for (std::size_t c = first + 1; c < end; ++c) {
        if (before(heap_[c], heap_[best])) best = c;
      }
      if (!before(heap_[best], last)) break;
      heap_[hole] = heap_[best];
      hole = best;
    }
    heap_[hole] = last;
    return out;
  }

  /// The smallest of the root's children (the event after top()), or nullptr.
  const QueuedEvent* second() const {
    const std::size_t n = heap_.size();
    if (n < 2) return nullptr;
    std::size_t best = 1;
    for (std::size_t c = 2; c <= 4 && c < n; ++c) {
      if (before(heap_[c], heap_[best])) best = c;
    }
    return &heap_[best];
  }

 private:
  std::vector<QueuedEvent> heap_;
};

/// The far future: events beyond the calendar's window (timers of seconds). Most arrive in
/// order: a lookup's timeout is always the same delay after now, so each is later than the one
/// before. Those are appended to a sorted run, written and read in order; the others go to a
/// heap; the earlier of the two heads comes first. (At 10^6 peers 800,000 lookup timeouts wait
/// at once: in one heap, 26 MB whose lowest levels each pop read from memory, and all of it
/// competing with the peers' state for the cache; in the run, one line is written and one read
/// at a time.)
class FarEvents {
 public:
  bool empty() const { return run_.empty() && heap_.empty(); }
  const QueuedEvent& top() const { return run_first() ? run_.front() : heap_.top(); }
  void push(const QueuedEvent& e) {
    if (run_.empty() || EventHeap::before(run_.back(), e)) {
      run_.push_back(e);
    } else {
      heap_.push(e);
    }
  }
  QueuedEvent pop() {
    if (!run_first()) return heap_.pop();
    const QueuedEvent e = run_.front();
    run_.pop_front();
    return e;
  }
  std::size_t capacity_bytes() const {
    constexpr std::size_t kChunk = 512;  // libstdc++'s deque chunk
    return heap_.capacity_bytes() + (run_.size() * sizeof(QueuedEvent) / kChunk + 1) * kChunk;
  }

 private:
  bool run_first() const { return !run_.empty() && (heap_.empty() || EventHeap::before(run_.front(), heap_.top())); }
  std::deque<QueuedEvent> run_;  // sorted by (time, seq)
  EventHeap heap_;
};

class EventQueue {
 public:
  static constexpr SimTime kBucketWidth = 100;   // microseconds
  static constexpr std::size_t kBuckets = 1024;  // a window of 102.4 ms

  EventQueue() : buckets_(kBuckets) {}

  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  std::uint64_t pushed() const { return next_seq_; }

  void push(SimTime time, PeerIndex peer, std::uint16_t kind, std::uint16_t sub, std::uint32_t arg) {
    const QueuedEvent e{time, next_seq_++, peer, arg, kind, sub};
    ++size_;
    place(e);
  }

  /// Inserts an event whose tie-break (seq) was decided elsewhere: the parallel simulator numbers
  /// its events as one sequential run would, after the fact (parallel_simulator.hpp).
  void push_sequenced(const QueuedEvent& e) {
    ++size_;
    place(e);
  }

  /// A hint that an event at `time` is pushed soon: starts loading, for writing, the line of
  /// its bucket's block it would be written to now (the parallel simulator's transfer places
  /// tens of thousands of events back to back, and each append's store missed the cache).
  /// (Always inlined: GCC 12 found this function free of side effects, a prefetch counting as
  /// none, and deleted its calls.)
  [[gnu::always_inline]] void prefetch_place(SimTime time) const {
    if (time < current_end_ || time >= window_end()) return;
    const Bucket& bucket = buckets_[bucket_of(time)];
    if (bucket.head != kNoBlock && bucket.fill < kBlockEvents) {
      __builtin_prefetch(&blocks_[bucket.head].events[bucket.fill], 1);
    }
  }

  /// push() numbers on from `seq` (after events numbered elsewhere).
  void continue_numbering(std::uint64_t seq) { next_seq_ = std::max(next_seq_, seq); }

  const QueuedEvent& top() {
    settle();
    return late_first() ? late_.front() : current_.back();
  }

  QueuedEvent pop() {
    settle();
    QueuedEvent e;
    take_top(late_first(), e);
    return e;
  }

  /// pop() if the earliest event is before `end` (the simulators' loop: `!empty() && top().time
  /// < end`, then pop(), found the earliest event twice per event).
  bool pop_before(SimTime end, QueuedEvent& out) {
    if (size_ == 0) return false;
    settle();
    const bool late = late_first();
    if ((late ? late_.front() : current_.back()).time >= end) return false;
    take_top(late, out);
    return true;
  }

  /// The event `i` places after top() (ahead(1) comes next) if it is cheap to find, else
  /// nullptr: a prefetch hint that lets the simulator start loading what events need well before
  /// they are handled. It answers within the current events (for i < kPeek, across a bucket's
  /// end too: see take_next_early) while nothing was pushed among them after they were sorted.
  const QueuedEvent* ahead(std::size_t i) const {
    return late_.empty() && i < current_.size() ? &current_[current_.size() - 1 - i] : nullptr;
  }

  std::size_t capacity_bytes() const {
    return far_.capacity_bytes() + (current_.capacity() + late_.capacity() + next_.capacity()) * sizeof(QueuedEvent) +
           buckets_.capacity() * sizeof(Bucket) + blocks_.capacity() * sizeof(Block) +
           next_block_.capacity() * sizeof(std::uint32_t) + free_blocks_.capacity() * sizeof(std::uint32_t);
  }

 private:
  // std heap functions build a max-heap: "later" puts the earliest event on top; sorting by it
  // puts the earliest last. (A function object, not a function pointer: the heap operations then
  // inline it. Passed as a pointer, GCC 12 called it on every comparison of every pop.)
  struct Later {
    bool operator()(const QueuedEvent& a, const QueuedEvent& b) const { return EventHeap::before(b, a); }
  };
  /// Whether the earliest event is one pushed into the current bucket after it was sorted.
  bool late_first() const {
    return !late_.empty() && (current_.empty() || EventHeap::before(late_.front(), current_.back()));
  }

  /// The calendar's slots hold the buckets from the current range's last one (taken, so its slot
  /// is free for the next lap) on.
  SimTime window_end() const { return current_end_ + static_cast<SimTime>(kBuckets - 1) * kBucketWidth; }
  std::size_t bucket_of(SimTime time) const {  // (times are never negative: unsigned arithmetic is shorter)
    return static_cast<std::size_t>(static_cast<std::uint64_t>(time) / kBucketWidth % kBuckets);
  }

  /// Removes the earliest event (from late_ when `late`, else the current bucket's) into `out`.
  void take_top(bool late, QueuedEvent& out) {
    --size_;
    if (late) {
      std::pop_heap(late_.begin(), late_.end(), Later{});
      out = late_.back();
      late_.pop_back();
      return;
    }
    out = current_.back();
    current_.pop_back();
    if (current_.size() <= kPeek) take_next_early();
  }

  // Every event pushed comes here: the common case (a bucket of the window) is a few
  // instructions with no call; the rest (before the current bucket's end, or past the
  // window) goes out of line.
  [[gnu::always_inline]] void place(const QueuedEvent& e) {
    if (e.time >= current_end_ && e.time < window_end()) [[likely]] {
      append(bucket_of(e.time), e);
    } else {
      place_outside_window(e);
    }
  }
  [[gnu::noinline]] void place_outside_window(const QueuedEvent& e) {
    if (e.time < current_end_) {
      late_.push_back(e);
      std::push_heap(late_.begin(), late_.end(), Later{});
    } else {
      far_.push(e);
    }
  }

  // A bucket is a chain of fixed blocks from one shared pool, the block being filled first. (A
  // vector per bucket kept the most it had ever held: in a 10^6-peer benchmark 8192 buckets held 8x
  // the events pending, 30 of the run's 650 bytes per peer.) A block is 16 events on 8 whole
  // cache lines; how many the block being filled holds is kept in its bucket, and each block's
  // link in its own array, so that appending an event only writes to the block, never reads it
  // first (a read of the block's count waited for memory in 6 of 10 appends' time).
  static constexpr std::uint32_t kNoBlock = 0xffffffffu;
  static constexpr std::uint32_t kBlockEvents = 16;
  struct alignas(64) Block {
    std::array<QueuedEvent, kBlockEvents> events;
  };
  static_assert(sizeof(Block) == 512);
  struct Bucket {
    std::uint32_t head = kNoBlock;  // the block being filled
    std::uint32_t fill = 0;         // events in it
  };

  void append(std::size_t index, const QueuedEvent& e) {
    Bucket& bucket = buckets_[index];
    if (bucket.head == kNoBlock || bucket.fill == kBlockEvents) [[unlikely]]
      start_block(bucket);
    blocks_[bucket.head].events[bucket.fill++] = e;
    ++in_buckets_;
  }
  /// A bucket's first block, or a new one when its block is full (one append in 16).
  [[gnu::noinline]] void start_block(Bucket& bucket) {
    std::uint32_t block;
    if (free_blocks_.empty()) {
      block = static_cast<std::uint32_t>(blocks_.size());
      blocks_.emplace_back();
      next_block_.push_back(kNoBlock);
    } else {
      block = free_blocks_.back();
      free_blocks_.pop_back();
    }
    next_block_[block] = bucket.head;
    bucket.head = block;
    bucket.fill = 0;
  }

  /// Makes the current bucket hold the earliest events (precondition: not empty()).
  void settle() {
    while (current_.empty() && late_.empty()) {
      // The next bucket; if there is nothing in the window, straight the earliest far event's.
      const SimTime start = in_buckets_ == 0 ? far_.top().time / kBucketWidth * kBucketWidth : current_end_;
      current_end_ = start + kBucketWidth;
      admit_far();
      take_bucket(bucket_of(start), start, current_);
    }
  }

  /// The window moved: far events that now fall inside it go to their buckets.
  void admit_far() {
    while (!far_.empty() && far_.top().time < window_end()) {
      const QueuedEvent e = far_.pop();
      append(bucket_of(e.time), e);
    }
  }

  /// When the current events run low, the next bucket's join them (sorted, before them in the
  /// vector: they pop later), so that ahead() sees past the bucket's end: otherwise the first
  /// events of every bucket arrived unannounced, their memory not loaded ahead (at 10^6 peers a
  /// partition's bucket holds about 60 events: 3 % of them). Events pushed later into the range
  /// taken go to late_, as for the current bucket; the calendar's window moves on by a bucket.
  void take_next_early() {
    const SimTime next_start = current_end_;
    const std::size_t index = bucket_of(next_start);
    if (buckets_[index].head == kNoBlock) return;  // (a sparse run: nothing to see ahead)
    take_bucket(index, next_start, next_);
    next_.insert(next_.end(), current_.begin(), current_.end());
    current_.swap(next_);
    current_end_ = next_start + kBucketWidth;
    admit_far();
  }
  static constexpr std::size_t kPeek = 4;  // the simulator looks 2 events ahead

  /// The bucket's events become the current ones, sorted by (time, seq) latest first (a total
  /// order: how they were stored never shows). A counting sort on the microsecond within the
  /// bucket (in a large run about one event per microsecond), the blocks read oldest first so
  /// that events of one microsecond mostly arrive in insertion order; then an insertion sort
  /// swaps the few that did not (an event moved in from the far heap, or numbered by the parallel
  /// simulator's merge). Example, width 4 from t = 100: events (102, #7), (100, #9), (102, #5)
  /// count 1, 0, 2, 0 per microsecond; places run latest first, so 103 takes none, 102 places 0-1,
  /// 101 none, 100 place 2; scattered from each microsecond's end backwards: [(102, #5), (102, #7),
  /// (100, #9)]; the insertion sort swaps the first two (#7, inserted after #5, is the later):
  /// pops from the back then give (100, #9), (102, #5), (102, #7). A bucket of one block (a
  /// lab's sparse run: a counting sort over 100 microseconds would cost more than its events)
  /// is read backwards and left to the insertion sort alone.
  void take_bucket(std::size_t index, SimTime start, std::vector<QueuedEvent>& out) {
    Bucket& bucket = buckets_[index];
    if (bucket.head == kNoBlock) return;  // (a small run passes many empty buckets)
    chain_.clear();
    for (std::uint32_t block = bucket.head; block != kNoBlock; block = next_block_[block]) chain_.push_back(block);
    // Every block is full but the one being filled (the chain's first).
    auto held = [&](std::size_t k) { return k == 0 ? bucket.fill : kBlockEvents; };
    const auto total = static_cast<std::uint32_t>(bucket.fill + (chain_.size() - 1) * kBlockEvents);
    if (total <= kBlockEvents) {
      // A sparse bucket (a lab's run) is sorted by the insertion sort alone: its events, stored in
      // insertion order, arrive latest first when read backwards.
      const Block& b = blocks_[chain_[0]];
      out.assign(b.events.rbegin() + (kBlockEvents - total), b.events.rend());
    } else {
      // Per microsecond: its count, then where its places end.
      std::array<std::uint32_t, static_cast<std::size_t>(kBucketWidth)> end{};
      for (std::size_t k = 0; k < chain_.size(); ++k) {
        const Block& b = blocks_[chain_[k]];
        for (std::uint32_t i = 0; i < held(k); ++i) ++end[static_cast<std::size_t>(b.events[i].time - start)];
      }
      for (std::uint32_t rest = total, us = 0; us < end.size(); ++us) {
        const std::uint32_t count = end[us];
        end[us] = rest;  // microsecond us ends where the earlier ones' places begin
        rest -= count;
      }
      out.resize(total);
      for (std::size_t k = chain_.size(); k-- > 0;) {
        const Block& b = blocks_[chain_[k]];
        for (std::uint32_t i = 0; i < held(k); ++i) {
          out[--end[static_cast<std::size_t>(b.events[i].time - start)]] = b.events[i];
        }
      }
    }
    free_blocks_.insert(free_blocks_.end(), chain_.begin(), chain_.end());
    bucket = Bucket{};
    in_buckets_ -= total;
    prefetch_bucket(bucket_of(start + kBucketWidth));
    for (std::size_t i = 1; i < out.size(); ++i) {
      if (!Later{}(out[i], out[i - 1])) continue;
      const QueuedEvent e = out[i];
      std::size_t j = i;
      for (; j > 0 && Later{}(e, out[j - 1]); --j) out[j] = out[j - 1];
      out[j] = e;
    }
  }

  /// Starts loading the blocks of the bucket taken next: their events were written up to a
  /// calendar's window ago and have left the cache since, and the count of take_bucket's sort
  /// waited for each of its lines (a third of its time, at 10^6 peers). A bucket's events span
  /// a tenth of a millisecond of simulated time, some microseconds of work: time enough.
  /// (Always inlined: a function that only prefetches is deleted as having no effect otherwise,
  /// see prefetch_place.)
  [[gnu::always_inline]] void prefetch_bucket(std::size_t index) const {
    const Bucket& bucket = buckets_[index];
    if (bucket.head == kNoBlock) return;
    const char* first = reinterpret_cast<const char*>(&blocks_[bucket.head]);
    for (std::uint32_t line = 0; line < bucket.fill * sizeof(QueuedEvent); line += 64) __builtin_prefetch(first + line);
    for (std::uint32_t block = next_block_[bucket.head]; block != kNoBlock; block = next_block_[block]) {
      const char* p = reinterpret_cast<const char*>(&blocks_[block]);
      for (std::size_t line = 0; line < sizeof(Block); line += 64) __builtin_prefetch(p + line);
    }
  }

  std::vector<Bucket> buckets_;
  // (On huge pages, as the peers' arrays: a large run's blocks span tens of megabytes, read and
  // written at random, and 4 KiB pages cost a page walk per access once their count outgrows the
  // TLB.)
  std::vector<Block, HugePageAllocator<Block>> blocks_;
  std::vector<std::uint32_t> next_block_;  // per block: the one filled before it in its bucket
  std::vector<std::uint32_t> free_blocks_;
  std::vector<std::uint32_t> chain_;  // the current bucket's blocks, newest first (take_bucket)
  // The events before current_end_ (one bucket's, or two near the first one's end):
  // those there when the bucket was taken, sorted latest first (pop from the back), and those
  // pushed into the range since, in a binary heap.
  std::vector<QueuedEvent> current_;
  std::vector<QueuedEvent> late_;
  std::vector<QueuedEvent> next_;  // take_next_early's working space
  FarEvents far_;
  SimTime current_end_ = kBucketWidth;
  std::size_t size_ = 0, in_buckets_ = 0;
  std::uint64_t next_seq_ = 0;
};

}  // namespace p2plab
