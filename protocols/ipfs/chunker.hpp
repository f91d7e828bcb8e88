#pragma once
// The fixed-size chunker: a file cut into pieces of chunk_size bytes, the last one shorter (kubo's
// "size-262144", the lecture's 256 kB chunks). Streams: one chunk in memory at a time.
#include <cstddef>
#include <functional>

#include "bytes.hpp"

namespace p2plab::ipfs {

/// Reads up to `size` bytes into `buffer`; returns how many, 0 at the end. A read error throws
/// ImportError (it must not pass for the end of the file: the CID would name a shorter file).
using ByteSource = std::function<std::size_t(char* buffer, std::size_t size)>;

class FixedSizeChunker {
 public:
  FixedSizeChunker(ByteSource source, std::size_t chunk_size) : source_(std::move(source)), chunk_size_(chunk_size) {}
  /// The next chunk; false at the end. An empty input is one empty chunk (an empty file is a block
  /// too).
  bool next(Bytes& chunk);

 private:
  ByteSource source_;
  std::size_t chunk_size_;
  bool first_ = true;
  bool ended_ = false;
};

}  // namespace p2plab::ipfs
