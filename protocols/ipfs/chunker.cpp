#include "chunker.hpp"

namespace p2plab::ipfs {

bool FixedSizeChunker::next(Bytes& chunk) {
  chunk.resize(chunk_size_);
  std::size_t filled = 0;
  while (!ended_ && filled < chunk_size_) {  // a source may return less than asked (a pipe)
    const std::size_t got = source_(chunk.data() + filled, chunk_size_ - filled);
    if (got == 0) ended_ = true;
    filled += got;
  }
  chunk.resize(filled);
  const bool first = first_;
  first_ = false;
  return !chunk.empty() || first;
}

}  // namespace p2plab::ipfs
