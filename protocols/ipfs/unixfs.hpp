#pragma once
// UnixFS (specs.ipfs.tech/unixfs): what a dag-pb node means as a file system, the protobuf in
// PBNode.Data:
//   message Data { DataType Type = 1; bytes Data = 2; uint64 filesize = 3;
//                  repeated uint64 blocksizes = 4; uint64 hashType = 5; uint64 fanout = 6;
//                  uint32 mode = 7; UnixTime mtime = 8; }
// A file is one node holding its bytes (Data), or a node whose links are its chunks in order,
// blocksizes[i] the file bytes under link i. A directory's links are its entries, by name.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bytes.hpp"

namespace p2plab::ipfs {

enum class UnixfsType : std::uint8_t { Raw = 0, Directory = 1, File = 2, Metadata = 3, Symlink = 4, HamtShard = 5 };

struct UnixfsData {
  UnixfsType type = UnixfsType::File;
  std::optional<Bytes> data;
  std::optional<std::uint64_t> filesize;
  std::vector<std::uint64_t> blocksizes;
  std::optional<std::uint64_t> hash_type, fanout;  ///< HAMT shards only (read, never written here)
  bool operator==(const UnixfsData&) const = default;
};

/// Fields in number order; blocksizes one field each (not packed), as kubo and js-ipfs write.
Bytes encode_unixfs(const UnixfsData& data);
/// Reads mode and mtime and ignores them; a FormatError for anything else unknown.
UnixfsData decode_unixfs(std::string_view message);

std::string unixfs_type_name(UnixfsType type);

}  // namespace p2plab::ipfs
