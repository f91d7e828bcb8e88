#pragma once
// The simulated underlay: how long a message takes from one peer to another, and whether it is
// lost on the way.
#include <cstdint>
#include <string>
#include <vector>

#include "p2plab/rng.hpp"
#include "p2plab/types.hpp"

namespace p2plab {

struct LatencyModel {
  enum class Kind { Constant, Uniform, Coordinates };
  Kind kind = Kind::Uniform;
  double ms = 50;                    // constant
  double min_ms = 10, max_ms = 100;  // uniform, drawn per message
  // coordinates: peers sit uniformly in a square of side `area` (abstract distance units);
  // latency = base_ms + ms_per_unit * euclidean distance, plus uniform jitter in [0, jitter_ms].
  double base_ms = 5, ms_per_unit = 1, area = 100, jitter_ms = 0;

  std::string describe() const;
};

struct NetworkConfig {
  LatencyModel latency;
  double loss = 0;  // probability that any one message is lost
};

/// Per-peer position in the plane (only for the coordinates model).
struct Position {
  float x = 0, y = 0;
};

class NetworkModel {
 public:
  explicit NetworkModel(NetworkConfig config)
      : config_(config),
        uniform_low_(from_ms(config.latency.min_ms)),
        uniform_span_(static_cast<std::uint64_t>(from_ms(config.latency.max_ms) - uniform_low_) + 1) {}
  const NetworkConfig& config() const { return config_; }
  bool uses_positions() const { return config_.latency.kind == LatencyModel::Kind::Coordinates; }
  Position place(Rng& rng) const;
  /// One message's latency in microseconds; `rng` is the sender's stream. The uniform model
  /// inline, its bounds in microseconds computed once: every message sent draws here.
  SimTime latency(Rng& rng, const Position* from, const Position* to) const {
    if (config_.latency.kind == LatencyModel::Kind::Uniform) return uniform_latency(rng);
    return other_latency(rng, from, to);
  }
  bool lost(Rng& rng) const { return rng.chance(config_.loss); }
  /// The least latency() can return: no message arrives sooner (the parallel simulator's lookahead).
  SimTime min_latency() const;

 private:
  SimTime uniform_latency(Rng& rng) const {  // Rng::between(low, high), its bounds converted once
    return uniform_low_ + static_cast<SimTime>(rng.below(uniform_span_));
  }
  SimTime other_latency(Rng& rng, const Position* from, const Position* to) const;

  NetworkConfig config_;
  SimTime uniform_low_;         // the uniform model's least latency (us)
  std::uint64_t uniform_span_;  // and how many values it draws from
};

}  // namespace p2plab
