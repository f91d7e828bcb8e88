#pragma once
// Blocks in a folder, one file per block named by its multihash in base32 (as kubo's flatfs
// keys them: a CIDv0 and a CIDv1 of the same bytes find the same file). `p2plab ipfs add FILE
// --blocks DIR` fills it, `p2plab ipfs dag CID --blocks DIR` reads it back, checking every block
// against its CID.
#include <filesystem>
#include <optional>
#include <string_view>

#include "cid.hpp"

namespace p2plab::ipfs {

/// A block larger than this in the folder is refused unread (Bitswap's limit is 2 MiB).
constexpr std::uintmax_t kMaxBlockFile = 2 << 20;

class FolderBlockStore {
 public:
  explicit FolderBlockStore(std::filesystem::path folder) : folder_(std::move(folder)) {}
  /// Writes the block unless it is there (creating the folder); an ImportError if it cannot.
  void put(const Cid& cid, std::string_view block);
  /// The block, checked against `cid` (a FormatError if its bytes hash to something else);
  /// nullopt when the folder has no such block.
  std::optional<Bytes> get(const Cid& cid) const;
  std::filesystem::path path_of(const Cid& cid) const;
  const std::filesystem::path& folder() const { return folder_; }

 private:
  std::filesystem::path folder_;
};

}  // namespace p2plab::ipfs
