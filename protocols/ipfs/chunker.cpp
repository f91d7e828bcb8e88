#include "chunker.hpp"

namespace p2plab::ipfs {

bool FixedSizeChunker::next(Bytes& chunk) {
  chunk.resize(chunk_size_);
  in_.read(chunk.data(), static_cast<std::streamsize>(chunk_size_));
  if (in_.bad()) throw ImportError("read error");
  chunk.resize(static_cast<std::size_t>(in_.gcount()));
  const bool first = first_;
  first_ = false;
  return !chunk.empty() || first;
}

}  // namespace p2plab::ipfs
