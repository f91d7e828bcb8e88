#pragma once
// The finger tables of all peers, stored compactly. A peer's m fingers form runs of equal
// entries: with N peers on a 2^160 circle, fingers 0..~140 all point to the successor, and only
// about log2 N runs are distinct. Each peer's runs lie in one block of a shared arena, exactly as
// many as it has (a block that grows moves; the old one waits in a free list for a peer with as
// many runs), so a peer pays for the runs it has, not for the most any peer could have. (Blocks
// rounded up to 8 runs cost 25 bytes more per peer at 10^6 peers.) Each run also keeps a 32-bit
// "print" of its node's id, so routing can compare positions on the circle without loading the
// node's full id (a cache miss in a large ring).
//
// A peer's highest runs (the long fingers, which a lookup's first hops use) sit in a fixed
// 64-byte slot of its own, addressed by its index alone: a hop reads one line it could start
// loading as soon as it knew the peer, not a header first and then the block it points to. The
// slot also says where the peer's other runs are. Only peers with more than kHotRuns runs have
// a block.
//
// Worked example, m = 6, node 52 of figure 5: fingers 54, 54, 56, 60, 4, 23 are five runs
// {start 0: 54}, {start 2: 56}, {start 3: 60}, {start 4: 4}, {start 5: 23}, all five in its
// slot, highest first: starts (5, 4, 3, 2, 0), runs 23, 4, 60, 56, 54. A peer of a larger ring
// with eight runs keeps its two lowest (starts 0 and, say, 1) in its block: the two start bytes,
// two bytes of padding, then the two runs (8 bytes each).
#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "p2plab/peer_array.hpp"
#include "p2plab/types.hpp"

namespace p2plab::chord {

class FingerTables {
 public:
  struct Run {
    PeerIndex node = kNoPeer;
    std::uint32_t print = 0;
  };
  static constexpr int kMaxFingers = 160;  // (IdSpace::kMaxBits)

  /// A table as its runs, lowest first: run k holds fingers start[k] up to the next run's start
  /// (the last up to m - 1). Built finger by finger (add), or by store() from m fingers.
  /// Example, node 52 of figure 5: add(0, 54), add(1, 54), add(2, 56), ... gives starts
  /// (0, 2, 3, 4, 5), runs (54, 56, 60, 4, 23).
  struct Runs {
    std::array<std::uint8_t, kMaxFingers> start;
    std::array<Run, kMaxFingers> run;
    int count = 0;
    /// Finger i (fingers come in order) is `value`: a new run unless it is the last run's node.
    void add(int i, Run value) {
      if (count > 0 && run[count - 1].node == value.node) return;
      start[count] = static_cast<std::uint8_t>(i);
      run[count] = value;
      ++count;
    }
  };

  // The first chunk is taken at once (address space only: its pages are touched as blocks are
  // written), so that prefetch_runs needs no branch. It is on ordinary pages: a real-network
  // peer holds one table, and a huge page would make it 2 MiB.
  explicit FingerTables(int m) : m_(m), chunks_(new Unit*[kMaxChunks]) {
    chunks_[chunk_count_++] = new Unit[kChunkUnits];
  }
  ~FingerTables() {
    delete[] chunks_[0];
    for (std::size_t c = 1; c < chunk_count_; ++c) HugePageAllocator<Unit>().deallocate(chunks_[c], kChunkUnits);
  }
  FingerTables(const FingerTables&) = delete;
  FingerTables& operator=(const FingerTables&) = delete;

  void resize(std::size_t peers) {
    if (peers <= slots_.size()) return;
    slots_.resize(peers);
  }
  std::size_t size() const { return slots_.size(); }

  PeerIndex get(PeerIndex n, int i) const {
    // The highest run that starts at or below i (the lowest starts at finger 0); a fresh table
    // has none: one run of unknown fingers.
    PeerIndex node = kNoPeer;
    for_each_stored_run_down(slots_[n], [&](int start, const Run& run) {
      node = run.node;
      return start <= i;
    });
    return node;
  }

  /// All m fingers of peer n (decompressed).
  void load(PeerIndex n, Run* out) const {
    const Slot& s = slots_[n];
    if (s.count == 0) {
      std::fill(out, out + m_, Run{});
      return;
    }
    int end = m_;  // runs from the highest down: each ends where the one above starts
    for_each_stored_run_down(s, [&](int start, const Run& run) {
      for (int i = start; i < end; ++i) out[i] = run;
      end = start;
      return false;
    });
  }

  /// Replaces all m fingers of peer n.
  void store(PeerIndex n, const Run* in) { store(n, compress(in)); }
  void store(PeerIndex n, const Runs& in) {
    Slot& s = slots_[n];
    if (const int cold = cold_count(in.count); cold > s.capacity) {
      release(s);
      s.capacity = static_cast<std::uint8_t>(cold);
      s.offset = allocate(cold);
    }
    write_runs(s, in);
  }

  /// Stores the first tables of many peers from several threads at once (building a converged
  /// ring: half of it was the kernel zeroing the pages the blocks are written to). Each thread
  /// stores through a Filler of its own, which takes whole chunks for itself; the peers' tables
  /// must be fresh (no block yet), each peer stored by one filler. The first filler to need
  /// room goes on in store()'s current chunk; the others take new ones. Of the fillers' last
  /// chunks, only the very last one's rest is used later (by store()); the others' rests stay
  /// unused (never touched: address space, not memory).
  class Filler {
   public:
    explicit Filler(FingerTables& tables) : tables_(tables) {}
    ~Filler() {
      const std::lock_guard<std::mutex> hold(tables_.chunk_lock_);
      if (claimed_ && chunk_ + 1 == tables_.chunk_count_) tables_.chunk_used_ = used_;
    }
    Filler(const Filler&) = delete;
    Filler& operator=(const Filler&) = delete;

    void store(PeerIndex n, const Run* in) { store(n, tables_.compress(in)); }
    void store(PeerIndex n, const Runs& in) {
      Slot& s = tables_.slots_[n];
      if (s.count != 0) throw std::logic_error("chord finger tables: a filler stores only fresh tables");
      if (const int cold = cold_count(in.count); cold > 0) {
        const std::uint32_t units = block_units(cold);
        if (used_ + units > kChunkUnits) claim(units);
        s.capacity = static_cast<std::uint8_t>(cold);
        s.offset = chunk_ * kChunkUnits + used_;
        used_ += units;
      }
      tables_.write_runs(s, in);
    }

   private:
    /// Room in store()'s current chunk if it has some (nobody else's then: whoever takes it or
    /// adds a chunk marks it full), else a new chunk.
    void claim(std::uint32_t units) {
      const std::lock_guard<std::mutex> hold(tables_.chunk_lock_);
      if (tables_.chunk_used_ + units <= kChunkUnits) {
        chunk_ = static_cast<std::uint32_t>(tables_.chunk_count_ - 1);
        used_ = tables_.chunk_used_;
      } else {
        chunk_ = tables_.add_chunk();
        used_ = 0;
      }
      tables_.chunk_used_ = kChunkUnits;
      claimed_ = true;
    }

    FingerTables& tables_;
    std::uint32_t chunk_ = 0;
    std::uint32_t used_ = kChunkUnits;  // no chunk yet
    bool claimed_ = false;
  };

  /// Finger i of peer n becomes `value`, the others stay: the runs are rewritten around it (a
  /// run split in up to three), not all m fingers expanded and compressed again (a finger
  /// changes at most fix_fingers answers while a ring forms: the m = 160 expansion was a seventh
  /// of a 1000-peer ring's run under the sanitizers). Example, runs 0: a, 4: b, 9: c (m = 12),
  /// set finger 6 to d: 0: a, 4: b, 6: d, 7: b, 9: c; set it back to b: 0: a, 4: b, 9: c.
  void set(PeerIndex n, int i, Run value) {
    std::array<std::uint8_t, kMaxFingers> first;  // the stored runs, highest first
    std::array<Run, kMaxFingers> run;
    int count = 0;
    if (slots_[n].count == 0) {
      first[0] = 0;  // a fresh table: one run of unknown fingers
      run[0] = Run{};
      count = 1;
    } else {
      for_each_stored_run_down(slots_[n], [&](int start, const Run& r) {
        first[count] = static_cast<std::uint8_t>(start);
        run[count++] = r;
        return false;
      });
    }
    Runs out;  // lowest first; add() merges a run into the one before it when their nodes agree
    for (int k = count - 1; k >= 0; --k) {
      const int from = first[k], to = k > 0 ? first[k - 1] : m_;  // run k covers fingers [from, to)
      if (i < from || i >= to) {
        out.add(from, run[k]);
        continue;
      }
      if (from < i) out.add(from, run[k]);
      out.add(i, value);
      if (i + 1 < to) out.add(i + 1, run[k]);
    }
    store(n, out);
  }

  /// Visits the runs that contain a finger index <= top, highest first: f(run) returns true to
  /// stop. Each distinct node is visited once per run.
  ///
  /// The first run visited is found without stepping over the ones above top one by one (a
  /// lookup's last hops, close to their key, skipped most of a peer's twenty runs): starts are
  /// distinct, so the k-th run from the top starts at least k below the highest. Example, hot
  /// starts (159, 158, 156, 155, 154, 153), top 155: the first run at or below 155 is at most
  /// 159 - 155 = 4 places down (counting from 0); place 3 (155) is at or below it, place 2 (156)
  /// is not: the visit starts at place 3.
  template <class F>
  void for_each_run_down(PeerIndex n, int top, F&& f) const {
    const Slot& s = slots_[n];
    if (s.count == 0) {
      f(Run{});
      return;
    }
    const int hot = hot_count(s);
    // Hot starts descend: the runs at or below top are places [first, hot), first <= highest - top.
    int first = std::clamp(int{s.hot_start[0]} - top, 0, hot);
    while (first > 0 && s.hot_start[first - 1] <= top) --first;
    for (int k = first; k < hot; ++k) {
      if (f(s.hot[k])) return;
    }
    const int cold = s.count - hot;
    if (cold == 0) return;
    // Cold starts ascend: the runs at or below top are places [0, last], and place r starts at
    // most (cold - 1 - r) below the highest, so last >= top - highest + cold - 1.
    const std::uint8_t* start = starts(s);
    const Run* run = runs(s);
    int last = std::clamp(top - int{start[cold - 1]} + cold - 1, -1, cold - 1);
    while (last + 1 < cold && start[last + 1] <= top) ++last;
    for (int r = last; r >= 0; --r) {
      if (f(run[r])) return;
    }
  }

  // The two prefetch steps are always inlined: a call to a function that only prefetches looks
  // free of side effects to GCC 12, which deleted such calls, unseen, when it did not inline them
  // first (checked in the assembly).
  /// Starts loading peer n's slot; prefetch_runs(n) one stage later loads its block.
  [[gnu::always_inline]] void prefetch(PeerIndex n) const { __builtin_prefetch(&slots_[n]); }
  [[gnu::always_inline]] void prefetch_runs(PeerIndex n) const {
    // Exactly the lines the block spans (none without a block): a line prefetched for nothing
    // holds one of the few misses a core can have in flight.
    const Slot& s = slots_[n];
    const auto begin = reinterpret_cast<std::uintptr_t>(unit(s.offset));
    const std::uintptr_t end = begin + block_units(s.capacity) * sizeof(Unit);
    for (std::uintptr_t line = begin & ~std::uintptr_t{63}; line < end; line += 64) {
      __builtin_prefetch(reinterpret_cast<const void*>(line));
    }
  }

  std::size_t bytes() const {
    std::size_t total = slots_.capacity() * sizeof(Slot) + chunk_count_ * kChunkUnits * sizeof(Unit);
    for (const auto& list : free_) total += list.capacity() * sizeof(std::uint32_t);
    return total;
  }

 private:
  // The arena is counted in 4-byte units (a run's alignment: the start bytes are padded to 4,
  // 1.5 bytes per peer on average, not to 8), in chunks that never move (growing a vector of
  // hundreds of megabytes would hold the old and the new copy at once: a peak of 1.5x); all but
  // the first on huge pages, as every large per-peer array (blocks are read at random). A 32-bit
  // offset reaches 16 GiB of blocks: about 6 x 10^7 peers at m = 160, more than 24 GiB holds.
  using Unit = std::uint32_t;
  static constexpr std::uint32_t kChunkUnits = 1u << 21;  // 8 MiB
  static constexpr std::size_t kMaxChunks = (std::size_t{1} << 32) / kChunkUnits;
  static_assert(alignof(Run) <= sizeof(Unit), "runs start on a unit");
  static constexpr int kHotRuns = 6;
  /// A peer's line: its kHotRuns highest runs, highest first, and where the others are.
  struct alignas(64) Slot {
    std::uint32_t offset = 0;   // first unit of the block in the arena
    std::uint8_t count = 0;     // runs held in all; 0: a fresh table (all fingers unknown)
    std::uint8_t capacity = 0;  // runs the block has room for (0: no block)
    std::uint8_t hot_start[kHotRuns] = {};
    std::uint8_t unused[4] = {};
    Run hot[kHotRuns];
  };
  static_assert(sizeof(Slot) == 64, "a slot is one cache line");
  static int hot_count(const Slot& s) { return std::min<int>(s.count, kHotRuns); }
  static int cold_count(int count) { return std::max(0, count - kHotRuns); }
  /// Calls f(start, run) for each run of s, highest start first, until f returns true.
  template <class F>
  void for_each_stored_run_down(const Slot& s, F&& f) const {
    const int hot = hot_count(s);
    for (int k = 0; k < hot; ++k) {
      if (f(int{s.hot_start[k]}, s.hot[k])) return;
    }
    const int cold = s.count - hot;
    if (cold == 0) return;
    const std::uint8_t* start = starts(s);
    const Run* run = runs(s);
    for (int r = cold - 1; r >= 0; --r) {
      if (f(int{start[r]}, run[r])) return;
    }
  }
  /// A block: `capacity` start bytes, padded to whole units, then `capacity` runs.
  static std::uint32_t start_units(int capacity) {
    return static_cast<std::uint32_t>((capacity + sizeof(Unit) - 1) / sizeof(Unit));
  }
  static std::uint32_t block_units(int capacity) {
    return start_units(capacity) + static_cast<std::uint32_t>(capacity * sizeof(Run) / sizeof(Unit));
  }

  Unit* unit(std::uint32_t offset) const { return chunks_[offset / kChunkUnits] + offset % kChunkUnits; }

  Runs compress(const Run* in) const {
    Runs out;
    for (int i = 0; i < m_; ++i) out.add(i, in[i]);
    return out;
  }
  /// Writes the runs of `in`: the highest kHotRuns into s, the others into its block (room
  /// enough), lowest first.
  void write_runs(Slot& s, const Runs& in) {
    const int count = in.count;
    const int cold = cold_count(count);
    std::uint8_t* start = cold > 0 ? starts(s) : nullptr;
    Run* run = cold > 0 ? runs(s) : nullptr;
    for (int r = 0; r < count; ++r) {
      if (r < cold) {
        start[r] = in.start[r];
        run[r] = in.run[r];
      } else {
        s.hot_start[count - 1 - r] = in.start[r];
        s.hot[count - 1 - r] = in.run[r];
      }
    }
    s.count = static_cast<std::uint8_t>(count);
  }
  /// A new chunk on huge pages; its index.
  std::uint32_t add_chunk() {
    if (chunk_count_ == kMaxChunks) {
      throw std::length_error("chord finger tables: more than 16 GiB of finger blocks (32-bit offsets)");
    }
    chunks_[chunk_count_] = HugePageAllocator<Unit>().allocate(kChunkUnits);
    return static_cast<std::uint32_t>(chunk_count_++);
  }
  std::uint8_t* starts(const Slot& s) const { return reinterpret_cast<std::uint8_t*>(unit(s.offset)); }
  Run* runs(const Slot& s) const { return reinterpret_cast<Run*>(unit(s.offset + start_units(s.capacity))); }

  std::uint32_t allocate(int capacity) {
    auto& list = free_list(capacity);
    if (!list.empty()) {
      const std::uint32_t offset = list.back();
      list.pop_back();
      return offset;
    }
    const std::uint32_t units = block_units(capacity);
    // A block never straddles two chunks: the rest of a chunk too small for it stays unused.
    if (chunk_used_ + units > kChunkUnits) {
      add_chunk();
      chunk_used_ = 0;
    }
    const auto offset = static_cast<std::uint32_t>((chunk_count_ - 1) * kChunkUnits + chunk_used_);
    chunk_used_ += units;
    return offset;
  }
  void release(const Slot& s) {
    if (s.capacity > 0) free_list(s.capacity).push_back(s.offset);
  }
  std::vector<std::uint32_t>& free_list(int capacity) {
    const auto slot = static_cast<std::size_t>(capacity);
    if (free_.size() <= slot) free_.resize(slot + 1);
    return free_[slot];
  }

  int m_;
  PeerArray<Slot> slots_;
  // The chunks (after the first, on huge pages: blocks are read at random), in a table that never
  // moves: a filler reads its chunk's address while another adds one.
  std::unique_ptr<Unit*[]> chunks_;
  std::size_t chunk_count_ = 0;
  std::uint32_t chunk_used_ = 0;                  // units handed out of the last chunk
  std::mutex chunk_lock_;                         // fillers taking chunks
  std::vector<std::vector<std::uint32_t>> free_;  // by capacity: blocks given back, for reuse
};

}  // namespace p2plab::chord
