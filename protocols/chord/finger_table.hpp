#pragma once
// The finger tables of all peers, stored compactly. A peer's m fingers form runs of equal
// entries: with N peers on a 2^160 circle, fingers 0..~140 all point to the successor, and only
// about log2 N runs are distinct. Each peer gets a block of up to kRuns runs (a rare table with
// more runs, e.g. while a small-ring join is settling, moves to an overflow table). Each run also
// keeps a 32-bit "print" of its node's id, so routing can compare positions on the circle
// without loading the node's full id (a cache miss in a large ring).
//
// Worked example, m = 6, node 52 of figure 5: fingers 54, 54, 56, 60, 4, 23 are four runs
// {start 0: 54}, {start 2: 56}, {start 3: 60}, {start 4: 4}, {start 5: 23} -> five runs.
#include <array>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "p2plab/peer_array.hpp"
#include "p2plab/types.hpp"

namespace p2plab::chord {

class FingerTables {
 public:
  static constexpr int kRuns = 32;

  struct Run {
    PeerIndex node = kNoPeer;
    std::uint32_t print = 0;
  };

  explicit FingerTables(int m) : m_(m) {}

  void resize(std::size_t peers) {
    if (peers <= blocks_.size()) return;
    blocks_.resize(peers);
  }
  std::size_t size() const { return blocks_.size(); }

  PeerIndex get(PeerIndex n, int i) const {
    const Block& b = blocks_[n];
    if (b.count == kOverflow) return overflow_.at(n)[i].node;
    int r = b.count - 1;
    while (r > 0 && b.start[r] > i) --r;
    return b.runs[r].node;
  }

  /// All m fingers of peer n (decompressed).
  void load(PeerIndex n, Run* out) const {
    const Block& b = blocks_[n];
    if (b.count == kOverflow) {
      const auto& full = overflow_.at(n);
      for (int i = 0; i < m_; ++i) out[i] = full[i];
      return;
    }
    for (int r = 0; r < b.count; ++r) {
      const int end = r + 1 < b.count ? b.start[r + 1] : m_;
      for (int i = b.start[r]; i < end; ++i) out[i] = b.runs[r];
    }
  }

  /// Replaces all m fingers of peer n.
  void store(PeerIndex n, const Run* in) {
    Block& b = blocks_[n];
    int count = 0;
    for (int i = 0; i < m_; ++i) {
      if (i > 0 && in[i].node == in[i - 1].node) continue;
      if (count == kRuns) {
        b.count = kOverflow;
        overflow_[n].assign(in, in + m_);
        return;
      }
      b.runs[count] = in[i];
      b.start[count] = static_cast<std::uint8_t>(i);
      ++count;
    }
    b.count = static_cast<std::uint8_t>(count);
    overflow_.erase(n);
  }

  void set(PeerIndex n, int i, Run value) {
    std::array<Run, 160> all;
    load(n, all.data());
    all[i] = value;
    store(n, all.data());
  }

  /// Visits the runs that contain a finger index <= top, highest first: f(run) returns true to
  /// stop. Each distinct node is visited once per run.
  template <class F>
  void for_each_run_down(PeerIndex n, int top, F&& f) const {
    const Block& b = blocks_[n];
    if (b.count == kOverflow) {
      const auto& full = overflow_.at(n);
      for (int i = top; i >= 0; --i) {
        if (i < top && full[i].node == full[i + 1].node) continue;
        if (f(full[i])) return;
      }
      return;
    }
    for (int r = b.count - 1; r >= 0; --r) {
      if (b.start[r] > top) continue;
      if (f(b.runs[r])) return;
    }
  }

  void prefetch(PeerIndex n) const {
    const char* p = reinterpret_cast<const char*>(&blocks_[n]);
    // A block is not aligned to cache lines: its last bytes (the run count, read first) can sit
    // on a line that no step of 64 from its start reaches.
    for (std::size_t offset = 0; offset < sizeof(Block); offset += 64) __builtin_prefetch(p + offset);
    __builtin_prefetch(p + sizeof(Block) - 1);
  }

  std::size_t bytes() const {
    std::size_t total = blocks_.capacity() * sizeof(Block);
    for (const auto& entry : overflow_) total += entry.second.capacity() * sizeof(Run) + 64;
    return total;
  }
  std::size_t overflowed() const { return overflow_.size(); }

 private:
  static constexpr std::uint8_t kOverflow = 0xff;
  struct Block {
    std::array<Run, kRuns> runs{};
    std::array<std::uint8_t, kRuns> start{};
    std::uint8_t count = 1;  // a fresh table: one run of unknown fingers from 0
  };

  int m_;
  PeerArray<Block> blocks_;
  std::unordered_map<PeerIndex, std::vector<Run>> overflow_;
};

}  // namespace p2plab::chord
