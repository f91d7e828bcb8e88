#include "chunker.hpp"

#include <algorithm>

namespace p2plab::ipfs {

void ChunkReader::take(Bytes& out, std::uint64_t length) {
  const std::size_t start = out.size();
  out.resize(start + length);
  std::size_t filled = 0;
  while (!ended_ && filled < length) {  // a source may return less than asked (a pipe)
    const std::size_t got = source_(out.data() + start + filled, length - filled);
    if (got == 0) ended_ = true;
    filled += got;
  }
  out.resize(start + filled);
  position_ += filled;
}

Bytes ChunkReader::read(std::uint64_t offset, std::uint64_t length) {
  Bytes skipped;
  while (!ended_ && position_ < offset) {  // a gap: read and drop, a buffer at a time
    skipped.clear();
    take(skipped, std::min<std::uint64_t>(offset - position_, 1 << 16));
  }
  Bytes chunk;
  if (position_ == offset) take(chunk, length);
  return chunk;
}

bool ChunkReader::ends_at(std::uint64_t size) {
  if (position_ > size) return false;
  read(size, 0);
  Bytes beyond;
  take(beyond, 1);
  return position_ == size;
}

}  // namespace p2plab::ipfs
