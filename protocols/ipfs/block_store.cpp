#include "block_store.hpp"

#include <fstream>
#include <iterator>

#include "multibase.hpp"

namespace p2plab::ipfs {

namespace fs = std::filesystem;

fs::path FolderBlockStore::path_of(const Cid& cid) const { return folder_ / base32_encode(cid.hash.bytes()); }

void FolderBlockStore::put(const Cid& cid, std::string_view block) {
  const fs::path path = path_of(cid);
  std::error_code error;
  if (fs::exists(path, error)) return;  // same name, same bytes: content addressing
  fs::create_directories(folder_, error);
  if (error) throw ImportError(folder_.string() + ": cannot create the blocks folder (" + error.message() + ")");
  // Written aside and renamed, so that a reader never sees half a block.
  const fs::path partial = path.string() + ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    out.write(block.data(), static_cast<std::streamsize>(block.size()));
    if (!out) throw ImportError(partial.string() + ": cannot write the block");
  }
  fs::rename(partial, path, error);
  if (error) throw ImportError(path.string() + ": cannot store the block (" + error.message() + ")");
}

std::optional<Bytes> FolderBlockStore::get(const Cid& cid) const {
  const fs::path path = path_of(cid);
  std::error_code error;
  if (!fs::is_regular_file(path, error)) return std::nullopt;
  const std::uintmax_t size = fs::file_size(path, error);
  if (error || size > kMaxBlockFile) {
    throw FormatError(path.string() + ": not a block (" + (error ? error.message() : "larger than 2 MiB") + ")");
  }
  std::ifstream in(path, std::ios::binary);
  Bytes block((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) throw ImportError(path.string() + ": cannot be read");
  if (!verify(cid.hash, block)) {
    throw FormatError(path.string() + ": the block's bytes do not hash to " + cid.to_string() + " (corrupted)");
  }
  return block;
}

}  // namespace p2plab::ipfs
