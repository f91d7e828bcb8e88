#pragma once
// The figures of a benchmark run that must not depend on how it was run (the thread count, the
// records kept): the parallel-simulator tests of each overlay compare them.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "p2plab/metrics.hpp"
#include "p2plab/simulator.hpp"

namespace p2plab::test {

struct BenchFigures {
  std::uint64_t events = 0, messages = 0, started = 0, finished = 0, correct = 0;
  std::vector<std::uint64_t> hops;  // histogram
  double mean_latency_ms = 0, p99_latency_ms = 0;
  bool operator==(const BenchFigures&) const = default;
};

inline BenchFigures bench_figures(const LookupStats& stats, const SimulatorCore& sim) {
  return {sim.events_processed(),  sim.messages().total_sent(),    stats.started_count(),
          stats.finished_count(),  stats.correct_count(),          stats.hop_histogram(),
          stats.mean_latency_ms(), stats.latency_quantile_ms(0.99)};
}

/// The records of a run of a hop-by-hop overlay (Pastry, CAN) by their own account: one per
/// finished lookup, and each hop one more step along its path, as many as ROUTE_DONE said.
template <class Records>
void check_records_count_hops(const Records& finished, const LookupStats& stats) {
  CHECK(finished.size() == stats.finished_count());
  for (const auto& r : finished) CHECK(r.hops + 1 == r.path.size());
}

/// A bench's network run with records on one thread, `run(options, true)`, then without at 1, 2
/// and 3 threads: all must give the same figures. Returns the recorded run's, for the caller's
/// checks of what they say.
template <class Options, class Run>
auto figures_at_any_thread_count(Options o, Run run) {
  o.threads = 1;
  const auto recorded = run(o, true);
  CHECK(run(o, false) == recorded);
  for (const unsigned threads : {2u, 3u}) {
    CAPTURE(threads);
    o.threads = threads;
    CHECK(run(o, false) == recorded);
  }
  return recorded;
}

}  // namespace p2plab::test
