#include "p2plab/metrics.hpp"

#include <numeric>

namespace p2plab {

std::uint64_t MessageStats::total_sent() const { return std::accumulate(sent.begin(), sent.end(), std::uint64_t{0}); }
std::uint64_t MessageStats::total_delivered() const {
  return std::accumulate(delivered.begin(), delivered.end(), std::uint64_t{0});
}
void MessageStats::add(const MessageStats& other) {
  for (std::size_t i = 0; i < kMaxMessageTypes; ++i) {
    sent[i] += other.sent[i];
    delivered[i] += other.delivered[i];
    lost[i] += other.lost[i];
    to_dead[i] += other.to_dead[i];
  }
}

std::uint64_t MessageStats::total_dropped() const {
  return std::accumulate(lost.begin(), lost.end(), std::uint64_t{0}) +
         std::accumulate(to_dead.begin(), to_dead.end(), std::uint64_t{0});
}

void LookupStats::finished(std::uint32_t hops, SimTime latency, bool correct) {
  ++finished_;
  if (correct) ++correct_;
  if (hops >= hops_.size()) hops_.resize(hops + 1, 0);
  ++hops_[hops];
  hop_sum_ += hops;
  const auto ms = static_cast<std::size_t>(latency / 1000);
  if (ms >= latency_ms_.size()) latency_ms_.resize(ms + 1, 0);
  ++latency_ms_[ms];
  latency_sum_ += latency;
}

void LookupStats::add(const LookupStats& other) {
  started_ += other.started_;
  finished_ += other.finished_;
  correct_ += other.correct_;
  failed_ += other.failed_;
  hop_sum_ += other.hop_sum_;
  latency_sum_ += other.latency_sum_;
  auto add_histogram = [](std::vector<std::uint64_t>& into, const std::vector<std::uint64_t>& from) {
    if (from.size() > into.size()) into.resize(from.size(), 0);
    for (std::size_t i = 0; i < from.size(); ++i) into[i] += from[i];
  };
  add_histogram(hops_, other.hops_);
  add_histogram(latency_ms_, other.latency_ms_);
}

double LookupStats::success_rate() const {
  const std::uint64_t ended = finished_ + failed_;
  return ended == 0 ? 1.0 : static_cast<double>(correct_) / static_cast<double>(ended);
}

double LookupStats::mean_hops() const {
  return finished_ == 0 ? 0.0 : static_cast<double>(hop_sum_) / static_cast<double>(finished_);
}

namespace {
// Smallest bucket b such that at least q of all samples lie in buckets 0..b.
std::size_t quantile_bucket(const std::vector<std::uint64_t>& histogram, std::uint64_t total, double q) {
  if (total == 0) return 0;
  const auto need = static_cast<std::uint64_t>(q * static_cast<double>(total) + 0.999999);
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < histogram.size(); ++b) {
    seen += histogram[b];
    if (seen >= need) return b;
  }
  return histogram.empty() ? 0 : histogram.size() - 1;
}
}  // namespace

std::uint32_t LookupStats::hops_quantile(double q) const {
  return static_cast<std::uint32_t>(quantile_bucket(hops_, finished_, q));
}

double LookupStats::mean_latency_ms() const {
  return finished_ == 0 ? 0.0 : to_ms(latency_sum_) / static_cast<double>(finished_);
}

double LookupStats::latency_quantile_ms(double q) const {
  // The upper edge of the bucket: "99% of lookups took less than this".
  return finished_ == 0 ? 0.0 : static_cast<double>(quantile_bucket(latency_ms_, finished_, q) + 1);
}

}  // namespace p2plab
