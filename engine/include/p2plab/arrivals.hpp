#pragma once
// Requests no peer's event causes (a workload's lookups), as a stream the parallel simulator
// draws ahead of time (parallel_simulator.hpp). A header of its own: a workload needs it without
// the simulator's threads.
#include <cstdint>
#include <vector>

#include "p2plab/types.hpp"

namespace p2plab {

/// A workload's exogenous arrivals, drawn ahead of time: the parallel simulator asks for those
/// of the next window before the window runs.
class ArrivalSource {
 public:
  struct Arrival {
    SimTime time;
    PeerIndex peer;
    std::uint32_t arg;
  };
  virtual ~ArrivalSource() = default;
  /// The time of the next arrival, or -1 when there is none.
  virtual SimTime next_time() const = 0;
  /// Appends the arrivals before `end` to `out` in time order; their args stay valid until the
  /// next call.
  virtual void take_before(SimTime end, std::vector<Arrival>& out) = 0;
  /// May draw the next arrival now if it comes before `horizon`, to hand it out later
  /// (take_before); false when there is none to draw (or the source does not draw ahead). The
  /// simulator calls it on a thread that is waiting for the others, while their handlers run:
  /// it must not change what take_before handed out last (their args).
  virtual bool draw_one_ahead(SimTime horizon) {
    (void)horizon;
    return false;
  }
};

}  // namespace p2plab
