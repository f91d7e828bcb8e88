#pragma once
// Messages in flight, in fixed-size slots that never move (both simulators keep theirs here).
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "p2plab/types.hpp"

namespace p2plab {

/// Messages in flight, in fixed-size slots that never move (chunks of 1024), reused through a
/// free list: sending a message allocates nothing once the pool has grown to the traffic.
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
    message(slot) = msg;
    this->sender(slot) = sender;
    return slot;
  }
  void release(std::uint32_t slot) { free_.push_back(slot); }
  Msg& message(std::uint32_t slot) { return chunks_[slot / kChunk]->messages[slot % kChunk]; }
  const Msg& message(std::uint32_t slot) const { return chunks_[slot / kChunk]->messages[slot % kChunk]; }
  PeerIndex& sender(std::uint32_t slot) { return chunks_[slot / kChunk]->senders[slot % kChunk]; }
  void prefetch(std::uint32_t slot) const {
    const Chunk& chunk = *chunks_[slot / kChunk];
    const char* p = reinterpret_cast<const char*>(&chunk.messages[slot % kChunk]);
    for (std::size_t offset = 0; offset < sizeof(Msg); offset += 64) __builtin_prefetch(p + offset);
    __builtin_prefetch(p + sizeof(Msg) - 1);  // its last line, where the steps of 64 end short of it
    __builtin_prefetch(&chunk.senders[slot % kChunk]);
  }
  std::size_t bytes() const { return chunks_.size() * sizeof(Chunk) + free_.capacity() * sizeof(std::uint32_t); }

 private:
  static constexpr std::uint32_t kChunk = 1024;
  struct Chunk {
    std::array<Msg, kChunk> messages;
    std::array<PeerIndex, kChunk> senders;
  };
  std::vector<std::unique_ptr<Chunk>> chunks_;
  std::vector<std::uint32_t> free_;
};

}  // namespace p2plab
