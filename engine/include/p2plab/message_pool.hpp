#pragma once
// Messages in flight, in fixed-size slots that never move (both simulators keep theirs here).
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "p2plab/types.hpp"

namespace p2plab {

/// Messages in flight, in fixed-size slots that never move (chunks of 1024), reused through a
/// free list: sending a message allocates nothing once the pool has grown to the traffic.
/// A slot starts on a cache line with its sender, then the message: a delivery's prefetch loads
/// both in as few lines as they fill (a sender kept apart cost one more line per delivery).
template <class Msg>
class MessagePool {
 public:
  std::uint32_t acquire() {
    if (free_.empty()) {
      const auto first = static_cast<std::uint32_t>(chunks_.size() * kChunk);
      chunks_.push_back(std::make_unique<Chunk>());
      for (std::uint32_t i = kChunk; i-- > 1;) free_.push_back(first + i);
      return first;
    }
    const std::uint32_t slot = free_.back();
    free_.pop_back();
    return slot;
  }
  /// A slot holding `msg` from `sender`.
  std::uint32_t store(const Msg& msg, PeerIndex sender) {
    const std::uint32_t slot = acquire();
    Slot& s = at(slot);
    s.sender = sender;
    s.message = msg;
    return slot;
  }
  void release(std::uint32_t slot) { free_.push_back(slot); }
  Msg& message(std::uint32_t slot) { return at(slot).message; }
  const Msg& message(std::uint32_t slot) const { return at(slot).message; }
  PeerIndex sender(std::uint32_t slot) const { return at(slot).sender; }
  /// Starts loading the slot: its sender and message.
  void prefetch(std::uint32_t slot) const {
    const char* p = reinterpret_cast<const char*>(&at(slot));
    for (std::size_t offset = 0; offset < kUsedBytes; offset += 64) __builtin_prefetch(p + offset);
  }
  std::size_t bytes() const { return chunks_.size() * sizeof(Chunk) + free_.capacity() * sizeof(std::uint32_t); }

 private:
  static constexpr std::uint32_t kChunk = 1024;
  struct alignas(64) Slot {
    PeerIndex sender;
    Msg message;
  };
  static constexpr std::size_t kUsedBytes = offsetof(Slot, message) + sizeof(Msg);
  struct Chunk {
    std::array<Slot, kChunk> slots;
  };
  Slot& at(std::uint32_t slot) { return chunks_[slot / kChunk]->slots[slot % kChunk]; }
  const Slot& at(std::uint32_t slot) const { return chunks_[slot / kChunk]->slots[slot % kChunk]; }
  std::vector<std::unique_ptr<Chunk>> chunks_;
  std::vector<std::uint32_t> free_;
};

}  // namespace p2plab
