#pragma once
// Basic vocabulary shared by the engine, the protocols and the tools.
#include <cstdint>
#include <limits>

namespace p2plab {

/// Simulated time in microseconds since the start of the run. Integer so that every machine
/// computes the same schedule.
using SimTime = std::int64_t;

constexpr SimTime from_ms(double ms) { return static_cast<SimTime>(ms * 1000.0 + (ms >= 0 ? 0.5 : -0.5)); }
constexpr SimTime from_ms(std::int64_t ms) { return ms * 1000; }
constexpr double to_ms(SimTime t) { return static_cast<double>(t) / 1000.0; }

/// Dense index of a peer in the simulation: 0, 1, 2, ... in order of creation. Never reused, so a
/// handle to a crashed peer stays a handle to that crashed peer.
using PeerIndex = std::uint32_t;
constexpr PeerIndex kNoPeer = std::numeric_limits<PeerIndex>::max();

/// A peer is up, crashed (no goodbye), or gone after a graceful leave.
enum class PeerState : std::uint8_t { Up, Failed, Left };

}  // namespace p2plab
