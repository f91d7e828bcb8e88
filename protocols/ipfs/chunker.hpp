#pragma once
// Reading a file's chunks: the chunker's ranges (logic::chunk_ranges, exercise ipfs-cid) read from
// a stream in file order, one chunk in memory at a time.
#include <cstddef>
#include <cstdint>
#include <functional>

#include "bytes.hpp"

namespace p2plab::ipfs {

/// Reads up to `size` bytes into `buffer`; returns how many, 0 at the end. A read error throws
/// ImportError (it must not pass for the end of the file: the CID would name a shorter file).
using ByteSource = std::function<std::size_t(char* buffer, std::size_t size)>;

/// Reads the bytes of ranges that come in file order (each starts at or after the end of the one
/// before; bytes between two ranges are skipped).
class ChunkReader {
 public:
  explicit ChunkReader(ByteSource source) : source_(std::move(source)) {}
  /// The `length` bytes from `offset` (offset >= position()). Fewer when the stream ends before.
  Bytes read(std::uint64_t offset, std::uint64_t length);
  std::uint64_t position() const { return position_; }
  /// True when the stream holds exactly `size` bytes: the bytes up to `size` are read (skipped),
  /// and no byte follows.
  bool ends_at(std::uint64_t size);

 private:
  /// Appends up to `length` bytes from the stream to `out`.
  void take(Bytes& out, std::uint64_t length);

  ByteSource source_;
  std::uint64_t position_ = 0;
  bool ended_ = false;
};

}  // namespace p2plab::ipfs
