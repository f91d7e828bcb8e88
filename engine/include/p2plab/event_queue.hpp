#pragma once
// The simulator's future event list: a 4-ary min-heap of small fixed-size records, ordered by
// time and, for equal times, by insertion order (so a run never depends on heap internals).
#include <cstdint>
#include <vector>

#include "p2plab/types.hpp"

namespace p2plab {

struct QueuedEvent {
  SimTime time;
  std::uint64_t seq;     // insertion order: breaks ties deterministically
  PeerIndex peer;        // who the event happens to
  std::uint32_t arg;     // message slot, timer cookie or handler argument
  std::uint16_t kind;    // engine event kind (EventKind in simulator.hpp)
  std::uint16_t sub;     // timer kind or handler id
};
static_assert(sizeof(QueuedEvent) == 32, "keep queued events compact: millions live in the queue");

class EventQueue {
 public:
  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  const QueuedEvent& top() const { return heap_.front(); }
  /// The event after top() (the smallest of the root's children), or nullptr.
  const QueuedEvent* second() const {
    const std::size_t n = heap_.size();
    if (n < 2) return nullptr;
    std::size_t best = 1;
    for (std::size_t c = 2; c <= 4 && c < n; ++c) {
      if (before(heap_[c], heap_[best])) best = c;
    }
    return &heap_[best];
  }
  std::uint64_t pushed() const { return next_seq_; }
  std::size_t capacity_bytes() const { return heap_.capacity() * sizeof(QueuedEvent); }

  void push(SimTime time, PeerIndex peer, std::uint16_t kind, std::uint16_t sub, std::uint32_t arg) {
    QueuedEvent e{time, next_seq_++, peer, arg, kind, sub};
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

  void clear() { heap_.clear(); }

 private:
  static bool before(const QueuedEvent& a, const QueuedEvent& b) {
    return a.time < b.time || (a.time == b.time && a.seq < b.seq);
  }
  std::vector<QueuedEvent> heap_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace p2plab
