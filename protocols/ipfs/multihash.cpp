#include "multihash.hpp"

#include <openssl/sha.h>

#include <cstdio>
#include <string>

#include "varint.hpp"

namespace p2plab::ipfs {

Bytes Multihash::bytes() const {
  Bytes out = uvarint(code);
  append_uvarint(out, digest.size());
  out += digest;
  return out;
}

Multihash sha2_256(std::string_view data) {
  Multihash hash;
  hash.digest.resize(SHA256_DIGEST_LENGTH);
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         reinterpret_cast<unsigned char*>(hash.digest.data()));
  return hash;
}

Multihash read_multihash(std::string_view bytes, std::size_t& pos) {
  Multihash hash;
  hash.code = read_uvarint(bytes, pos, "multihash function code");
  const std::uint64_t length = read_uvarint(bytes, pos, "multihash digest length");
  if (length > bytes.size() - pos) {
    throw FormatError("multihash: digest of " + std::to_string(length) + " bytes, only " +
                      std::to_string(bytes.size() - pos) + " left");
  }
  if (hash.code == kSha2_256 && length != SHA256_DIGEST_LENGTH) {
    throw FormatError("multihash: a sha2-256 digest has 32 bytes, not " + std::to_string(length));
  }
  if (hash.code == kIdentity && length > kMaxIdentityDigest) {
    throw FormatError("multihash: an identity digest of " + std::to_string(length) + " bytes (at most " +
                      std::to_string(kMaxIdentityDigest) + ")");
  }
  hash.digest = Bytes(bytes.substr(pos, length));
  pos += length;
  return hash;
}

bool verify(const Multihash& hash, std::string_view data) {
  if (hash.code == kIdentity) return hash.digest == data;
  if (hash.code != kSha2_256) throw FormatError("multihash: cannot verify a " + hash_name(hash.code) + " digest");
  return sha2_256(data) == hash;
}

std::string hash_name(std::uint64_t code) {
  if (code == kSha2_256) return "sha2-256";
  if (code == kIdentity) return "identity";
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(code));
  return buf;
}

}  // namespace p2plab::ipfs
