#pragma once
// Multibase (github.com/multiformats/multibase): binary as text, the first character naming the
// alphabet. CIDv1 is written 'b' + base32 (RFC 4648, lower case, no padding); CIDv0 is bare
// base58btc (the Bitcoin alphabet, no prefix: "Qm..."), 'z' + base58btc as a multibase.
#include <string>
#include <string_view>

#include "bytes.hpp"

namespace p2plab::ipfs {

constexpr char kBase32Prefix = 'b';
constexpr char kBase58btcPrefix = 'z';

std::string base58btc_encode(std::string_view bytes);
/// A character outside the alphabet is a FormatError naming it and its position.
Bytes base58btc_decode(std::string_view text);

std::string base32_encode(std::string_view bytes);  ///< lower case, no padding
/// Lower case only (as multibase 'b' says), no padding; bits left over must be zero.
Bytes base32_decode(std::string_view text);

/// Text with a multibase prefix ('b' or 'z') to bytes; another prefix is a FormatError.
Bytes multibase_decode(std::string_view text);

}  // namespace p2plab::ipfs
