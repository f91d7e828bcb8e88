#pragma once
// What an overlay keeps per request, kept per partition of the transport so that a parallel
// run's threads never share it: a peer's pending hops (waiting for their acknowledgement) or
// RPCs in the sender's partition, a lookup in its requester's.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "p2plab/id.hpp"
#include "p2plab/metrics.hpp"
#include "p2plab/types.hpp"

namespace p2plab::dht {

/// Slot numbers (SlotPool, Chord's lookup books) carry their partition in the top 5 bits: at most
/// 32 partitions can be told apart.
constexpr std::uint32_t kMaxPartitions = 32;

/// `partitions`, if a slot number can name each of them; else an error naming `protocol`.
inline std::uint32_t checked_partitions(std::uint32_t partitions, const char* protocol) {
  if (partitions > kMaxPartitions) {
    throw std::invalid_argument(std::string(protocol) + ": " + std::to_string(partitions) +
                                " partitions: a slot number names at most " + std::to_string(kMaxPartitions));
  }
  return partitions;
}

/// Slots for what one partition's peers wait on (a hop's acknowledgement, an RPC's answer, a
/// lookup's rounds). A slot's number carries its partition in the top bits, so that the reply or
/// timer that names it finds it, and only in its own partition's pool (with one partition:
/// slot = index, 0, 1, 2, ...). A slot keeps its contents when closed (the next use may read
/// them: an RPC's tag counts its uses). Example: partition 1's third slot is 1 << 27 | 2.
template <class Pending>
class SlotPool {
 public:
  static constexpr int kPartitionShift = 27;  // (32 - 27 = 5 bits: kMaxPartitions)
  static_assert(kMaxPartitions == 1u << (32 - kPartitionShift));
  static constexpr std::uint32_t kIndexMask = (1u << kPartitionShift) - 1;

  /// A free slot of partition `partition` (the last one closed first): its number.
  std::uint32_t open(std::uint32_t partition) {
    if (!free_.empty()) {
      const std::uint32_t slot = free_.back();
      free_.pop_back();
      return slot;
    }
    slots_.emplace_back();
    return partition << kPartitionShift | static_cast<std::uint32_t>(slots_.size() - 1);
  }
  /// Slot `slot` if it is partition `partition`'s and was ever opened, else nullptr (a stale or
  /// foreign number in a message).
  Pending* find(std::uint32_t partition, std::uint32_t slot) {
    return owns(partition, slot) ? &slots_[slot & kIndexMask] : nullptr;
  }
  const Pending* find(std::uint32_t partition, std::uint32_t slot) const {
    return owns(partition, slot) ? &slots_[slot & kIndexMask] : nullptr;
  }
  Pending& at(std::uint32_t slot) { return slots_[slot & kIndexMask]; }
  const Pending& at(std::uint32_t slot) const { return slots_[slot & kIndexMask]; }
  void close(std::uint32_t slot) { free_.push_back(slot); }
  /// Every slot ever opened, open or closed (for a scan of those in use).
  const std::vector<Pending>& all() const { return slots_; }

 private:
  bool owns(std::uint32_t partition, std::uint32_t slot) const {
    return (slot >> kPartitionShift) == partition && (slot & kIndexMask) < slots_.size();
  }
  std::vector<Pending> slots_;
  std::vector<std::uint32_t> free_;
};

/// Folds every book's figures into the first book's and returns them: `figures(book)` names a
/// book's (a mutable member, with an add(): the books are read between runs, when no thread
/// writes them). Sums: the result does not depend on how the work was partitioned.
template <class Book, class Figures>
auto& fold_into_first(const std::vector<Book>& books, Figures figures) {
  auto& first = figures(books[0]);
  for (std::size_t b = 1; b < books.size(); ++b) {
    auto& other = figures(books[b]);
    first.add(other);
    other = std::remove_reference_t<decltype(other)>{};
  }
  return first;
}

/// Lookup serials of partition `partition` of `partitions`: its n-th is n * partitions +
/// partition (one partition: 1, 2, 3, ...), unique across partitions without a shared counter.
class SerialCounter {
 public:
  std::uint32_t next(std::uint32_t partition, std::uint32_t partitions) { return next_++ * partitions + partition; }

 private:
  std::uint32_t next_ = 1;
};

/// What every protocol's book starts with: which of how many partitions it is (its slot numbers
/// and lookup serials carry it) and its serials. make_books gives each book its partition.
struct PartitionBook {
  std::uint32_t partition = 0, partitions = 1;
  SerialCounter serials;
  std::uint32_t next_serial() { return serials.next(partition, partitions); }
};

/// One book per partition of the transport, each told which it is; an error naming `protocol`
/// if a slot number cannot name them all.
template <class Book>
std::vector<Book> make_books(std::uint32_t partitions, const char* protocol) {
  std::vector<Book> books(checked_partitions(partitions, protocol));
  for (std::uint32_t p = 0; p < partitions; ++p) {
    books[p].partition = p;
    books[p].partitions = partitions;
  }
  return books;
}

/// The book of an overlay that routes hop by hop (Pastry, CAN): the hops its peers wait to have
/// acknowledged, the lookups its peers requested (records by serial), their figures.
template <class Record, class Pending>
struct HopBook : PartitionBook {
  SlotPool<Pending> pending;
  std::unordered_map<std::uint32_t, Record> active;  // by serial
  mutable LookupStats stats;

  /// A new lookup's record under a fresh serial: its purpose, requester, key and start.
  template <class Purpose>
  Record& open_record(Purpose purpose, PeerIndex from, const Id& key, SimTime now) {
    const std::uint32_t serial = next_serial();
    Record& r = active[serial];
    r.serial = serial;
    r.purpose = purpose;
    r.from = from;
    r.key = key;
    r.start = now;
    return r;
  }
  /// The record of lookup `serial` if it is still on.
  Record* find_record(std::uint32_t serial) {
    const auto it = active.find(serial);
    return it == active.end() ? nullptr : &it->second;
  }
  const Record* find_record(std::uint32_t serial) const {
    const auto it = active.find(serial);
    return it == active.end() ? nullptr : &it->second;
  }
  /// Pending slot `slot` if it is this book's.
  Pending* find_pending(std::uint32_t slot) { return pending.find(partition, slot); }
  /// A hop of `holder`'s to `target`, waiting for its acknowledgement until `deadline`: a slot
  /// holding `msg`, tagged with the slot's number (the acknowledgement and the timer name it).
  template <class Msg>
  std::uint32_t open_pending(PeerIndex holder, PeerIndex target, const Msg& msg, SimTime deadline) {
    const std::uint32_t slot = pending.open(partition);
    Pending& p = pending.at(slot);
    p.holder = holder;
    p.target = target;
    p.open = true;
    p.deadline = deadline;
    p.msg = msg;
    p.msg.tag = slot;
    return slot;
  }
  /// The hop in `slot` is settled (acknowledged, or given up): the slot may be reused.
  void close_pending(std::uint32_t slot) {
    pending.at(slot).open = false;
    pending.close(slot);
  }
};

}  // namespace p2plab::dht
