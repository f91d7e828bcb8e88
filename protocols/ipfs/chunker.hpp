#pragma once
// The fixed-size chunker: a file cut into pieces of chunk_size bytes, the last one shorter (kubo's
// "size-262144", the lecture's 256 kB chunks). Streams: one chunk in memory at a time.
#include <cstddef>
#include <istream>

#include "bytes.hpp"

namespace p2plab::ipfs {

class FixedSizeChunker {
 public:
  FixedSizeChunker(std::istream& in, std::size_t chunk_size) : in_(in), chunk_size_(chunk_size) {}
  /// The next chunk; false at the end. An empty input is one empty chunk (an empty file is a block
  /// too). A read error is an ImportError.
  bool next(Bytes& chunk);

 private:
  std::istream& in_;
  std::size_t chunk_size_;
  bool first_ = true;
};

}  // namespace p2plab::ipfs
