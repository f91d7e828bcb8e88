#pragma once
// Counters every run keeps, cheap enough for millions of peers: messages by type and lookup
// statistics kept as histograms (exact for hops, 1 ms resolution for latency).
#include <array>
#include <cstdint>
#include <vector>

#include "p2plab/types.hpp"

namespace p2plab {

constexpr std::size_t kMaxMessageTypes = 32;

struct MessageStats {
  std::array<std::uint64_t, kMaxMessageTypes> sent{}, delivered{}, lost{}, to_dead{};
  std::uint64_t total_sent() const;
  std::uint64_t total_delivered() const;
  std::uint64_t total_dropped() const;
  /// Adds another run's (or another partition's) counts.
  void add(const MessageStats& other);
};

/// Hops and latencies of finished lookups.
class LookupStats {
 public:
  void started() { ++started_; }
  void finished(std::uint32_t hops, SimTime latency, bool correct);
  void failed() { ++failed_; }  // gave up: no answer within the protocol's retries
  /// `count` answers counted by finished(..., false) found correct by a later check (a
  /// benchmark checks its answers in batches).
  void confirmed(std::uint64_t count) { correct_ += count; }

  std::uint64_t started_count() const { return started_; }
  std::uint64_t finished_count() const { return finished_; }
  std::uint64_t correct_count() const { return correct_; }
  std::uint64_t failed_count() const { return failed_; }
  /// Correct answers among finished and failed lookups (1.0 when there were none).
  double success_rate() const;
  double mean_hops() const;
  std::uint32_t hops_quantile(double q) const;
  double mean_latency_ms() const;
  double latency_quantile_ms(double q) const;
  const std::vector<std::uint64_t>& hop_histogram() const { return hops_; }
  /// Adds the lookups counted in `other` (a partition of a parallel run): every figure is a sum
  /// of integers, so the order of adding never changes a result.
  void add(const LookupStats& other);

 private:
  std::uint64_t started_ = 0, finished_ = 0, correct_ = 0, failed_ = 0;
  std::vector<std::uint64_t> hops_;        // hops_[h] = lookups with h hops
  std::vector<std::uint64_t> latency_ms_;  // latency_ms_[t] = lookups taking [t, t+1) ms
  SimTime latency_sum_ = 0;                // microseconds: an integer sum is exact in any order
  std::uint64_t hop_sum_ = 0;
};

}  // namespace p2plab
