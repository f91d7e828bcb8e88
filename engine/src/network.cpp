#include "p2plab/network.hpp"

#include <cmath>
#include <sstream>

namespace p2plab {

std::string LatencyModel::describe() const {
  std::ostringstream out;
  switch (kind) {
    case Kind::Constant:
      out << "constant " << ms << " ms";
      break;
    case Kind::Uniform:
      out << "uniform " << min_ms << "-" << max_ms << " ms";
      break;
    case Kind::Coordinates:
      out << "coordinates: " << base_ms << " ms + " << ms_per_unit << " ms/unit in a " << area << "x" << area
          << " plane";
      if (jitter_ms > 0) out << " + jitter up to " << jitter_ms << " ms";
      break;
  }
  return out.str();
}

Position NetworkModel::place(Rng& rng) const {
  const double side = config_.latency.area;
  const double x = rng.uniform() * side;
  const double y = rng.uniform() * side;
  return {static_cast<float>(x), static_cast<float>(y)};
}

SimTime NetworkModel::other_latency(Rng& rng, const Position* from, const Position* to) const {
  const LatencyModel& m = config_.latency;
  switch (m.kind) {
    case LatencyModel::Kind::Constant:
      return from_ms(m.ms);
    case LatencyModel::Kind::Uniform:
      return uniform_latency(rng);  // (latency() draws these itself)
    case LatencyModel::Kind::Coordinates: {
      double distance = 0;
      if (from != nullptr && to != nullptr) {
        const double dx = static_cast<double>(from->x) - to->x, dy = static_cast<double>(from->y) - to->y;
        distance = std::sqrt(dx * dx + dy * dy);  // sqrt is correctly rounded by IEEE-754
      }
      double ms = m.base_ms + m.ms_per_unit * distance;
      if (m.jitter_ms > 0) ms += rng.uniform() * m.jitter_ms;
      return from_ms(ms);
    }
  }
  return 0;
}

SimTime NetworkModel::min_latency() const {
  const LatencyModel& m = config_.latency;
  switch (m.kind) {
    case LatencyModel::Kind::Constant:
      return from_ms(m.ms);
    case LatencyModel::Kind::Uniform:
      return from_ms(m.min_ms);
    case LatencyModel::Kind::Coordinates:
      return from_ms(m.base_ms);  // distance and jitter only add
  }
  return 0;
}

}  // namespace p2plab
