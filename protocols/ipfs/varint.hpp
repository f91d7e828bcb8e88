#pragma once
// The unsigned varint of the multiformats (github.com/multiformats/unsigned-varint): 7 bits per
// byte, least significant group first, the high bit set on every byte but the last. CIDs and
// multihashes prefix their codes and lengths with it; protobuf uses the same encoding.
#include <cstdint>
#include <string_view>

#include "bytes.hpp"

namespace p2plab::ipfs {

/// Appends `value` as an unsigned varint.
void append_uvarint(Bytes& out, std::uint64_t value);
Bytes uvarint(std::uint64_t value);

/// Reads an unsigned varint at `pos` and moves `pos` past it. The multiformats rules: at most 9
/// bytes (63 bits) and minimal (no trailing zero group); `field` names the value in the error.
std::uint64_t read_uvarint(std::string_view bytes, std::size_t& pos, const char* field);

}  // namespace p2plab::ipfs
