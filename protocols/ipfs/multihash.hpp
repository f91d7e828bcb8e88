#pragma once
// Multihash (github.com/multiformats/multihash): a digest that says which function made it,
// <varint function code><varint digest length><digest>. IPFS hashes blocks with sha2-256 (0x12).
#include <cstdint>
#include <string_view>

#include "bytes.hpp"

namespace p2plab::ipfs {

constexpr std::uint64_t kSha2_256 = 0x12;
/// The "hash" that is the data itself (inlined CIDs such as bafkqaaa, the empty raw block).
constexpr std::uint64_t kIdentity = 0x00;
/// The UnixFS spec's limit on an identity digest: longer ones are rejected when read.
constexpr std::size_t kMaxIdentityDigest = 128;

struct Multihash {
  std::uint64_t code = kSha2_256;
  Bytes digest;

  Bytes bytes() const;  ///< <code><length><digest>
  bool operator==(const Multihash&) const = default;
  auto operator<=>(const Multihash&) const = default;
};

/// The sha2-256 multihash of `data` (OpenSSL).
Multihash sha2_256(std::string_view data);

/// Reads a multihash at `pos` and moves `pos` past it; a length beyond the input is a FormatError.
Multihash read_multihash(std::string_view bytes, std::size_t& pos);

/// True when `data` hashes to `hash` (sha2-256, or identity: the data is the digest; another
/// function is a FormatError).
bool verify(const Multihash& hash, std::string_view data);

/// "sha2-256", or the code in hex for a function this code does not know.
std::string hash_name(std::uint64_t code);

}  // namespace p2plab::ipfs
