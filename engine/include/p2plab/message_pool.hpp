#pragma once
// Messages in flight, in fixed-size slots that never move (both simulators keep theirs here).
#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>
#include <vector>

#include "p2plab/peer_array.hpp"
#include "p2plab/types.hpp"

namespace p2plab {

/// A message type that says how many of its leading bytes carry information: its fixed fields,
/// then the used part of an array at its end. The simulators copy only those (a lookup step may
/// fill one or two cache lines of a 184-byte message, not three), and prefetch kHotBytes.
template <class Msg>
concept SizedMessage = std::is_trivially_copyable_v<Msg> && requires(const Msg& m) {
  { m.used_bytes() } -> std::convertible_to<std::size_t>;
  { Msg::kHotBytes } -> std::convertible_to<std::size_t>;
};

/// The bytes of a message copied at a size known when compiling, and prefetched at a delivery:
/// all of it, or a SizedMessage's kHotBytes.
template <class Msg>
constexpr std::size_t kMessageHotBytes = [] {
  if constexpr (SizedMessage<Msg>) {
    return std::min<std::size_t>(Msg::kHotBytes, sizeof(Msg));
  } else {
    return sizeof(Msg);
  }
}();

/// to = from, or only from's used bytes (the rest of `to` is left as it was: never read). The
/// first kHotBytes are copied at a size known when compiling (a few vector moves, where a copy of
/// a size known only at run time was a call to memcpy: slower than copying all of it).
template <class Msg>
void copy_message(Msg& to, const Msg& from) {
  if constexpr (SizedMessage<Msg>) {
    constexpr std::size_t head = kMessageHotBytes<Msg>;
    std::memcpy(static_cast<void*>(&to), &from, head);
    if (const std::size_t used = std::min(from.used_bytes(), sizeof(Msg)); used > head) {
      std::memcpy(reinterpret_cast<char*>(&to) + head, reinterpret_cast<const char*>(&from) + head, used - head);
    }
  } else {
    to = from;
  }
}

/// Messages in flight, in fixed-size slots that never move (chunks of 1024), reused through a
/// free list: sending a message allocates nothing once the pool has grown to the traffic.
/// A slot starts on a cache line with its sender, then the message: a delivery's prefetch loads
/// both in as few lines as they fill (a sender kept apart cost one more line per delivery).
template <class Msg>
class MessagePool {
 public:
  MessagePool() = default;
  ~MessagePool() {
    for (Chunk* chunk : chunks_) chunk->~Chunk();
    if (!chunks_.empty()) ::operator delete (chunks_[0], std::align_val_t{alignof(Chunk)});
    for (std::byte* slab : slabs_) HugePageAllocator<std::byte>().deallocate(slab, kSlabBytes);
  }
  MessagePool(const MessagePool&) = delete;
  MessagePool& operator=(const MessagePool&) = delete;
  MessagePool(MessagePool&&) = delete;
  MessagePool& operator=(MessagePool&&) = delete;

  std::uint32_t acquire() {
    if (free_.empty()) {
      const auto first = static_cast<std::uint32_t>(chunks_.size() * kChunk);
      chunks_.push_back(new_chunk());
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
    copy_message(s.message, msg);
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
  std::size_t bytes() const {
    return (chunks_.empty() ? 0 : sizeof(Chunk)) + slabs_.size() * kSlabBytes +
           free_.capacity() * sizeof(std::uint32_t);
  }

 private:
  static constexpr std::uint32_t kChunk = 1024;
  struct alignas(64) Slot {
    PeerIndex sender;
    Msg message;
  };
  // What prefetch loads: the sender and the message (or its first kHotBytes).
  static constexpr std::size_t kUsedBytes = offsetof(Slot, message) + kMessageHotBytes<Msg>;
  struct Chunk {
    std::array<Slot, kChunk> slots;
  };
  // The first chunk is an ordinary allocation (a lab's run needs no more); the others are cut
  // from slabs of whole huge pages, as the peers' arrays (peer_array.hpp): a million peers keep
  // tens of megabytes of messages in flight, read at random, and on 4 KiB pages most deliveries
  // cost a page walk (THP for the whole process: 0.9 of the time at 10^6 peers).
  static constexpr std::size_t kSlabBytes = HugePageAllocator<std::byte>::round_up(sizeof(Chunk));
  static constexpr std::size_t kChunksPerSlab = kSlabBytes / sizeof(Chunk);
  Chunk* new_chunk() {
    if (chunks_.empty()) return new (::operator new (sizeof(Chunk), std::align_val_t{alignof(Chunk)})) Chunk();
    if (slabs_.empty() || slab_used_ == kChunksPerSlab) {
      slabs_.push_back(HugePageAllocator<std::byte>().allocate(kSlabBytes));
      slab_used_ = 0;
    }
    return new (slabs_.back() + sizeof(Chunk) * slab_used_++) Chunk();
  }

  Slot& at(std::uint32_t slot) { return chunks_[slot / kChunk]->slots[slot % kChunk]; }
  const Slot& at(std::uint32_t slot) const { return chunks_[slot / kChunk]->slots[slot % kChunk]; }
  std::vector<Chunk*> chunks_;  // owned: the first by operator new, the others in slabs_
  std::vector<std::byte*> slabs_;
  std::size_t slab_used_ = 0;  // chunks cut from the last slab
  std::vector<std::uint32_t> free_;
};

}  // namespace p2plab
