#include "multibase.hpp"

#include <cstdint>
#include <vector>

namespace p2plab::ipfs {

namespace {

constexpr std::string_view kBase58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
constexpr std::string_view kBase32Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

std::string bad_character(std::string_view alphabet_name, std::string_view text, std::size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  std::string shown = c >= 0x20 && c < 0x7f ? std::string("'") + text[i] + "'" : "byte " + std::to_string(c);
  return std::string(alphabet_name) + ": " + shown + " at position " + std::to_string(i + 1) +
         " is not in its alphabet";
}

}  // namespace

// Base conversion by repeated division (quadratic, fine for the 34-38 bytes of a CID).
std::string base58btc_encode(std::string_view bytes) {
  std::size_t zeros = 0;
  while (zeros < bytes.size() && bytes[zeros] == 0) ++zeros;
  std::vector<std::uint8_t> digits;  // base 58, least significant first
  for (std::size_t i = zeros; i < bytes.size(); ++i) {
    unsigned carry = static_cast<std::uint8_t>(bytes[i]);
    for (std::uint8_t& d : digits) {
      carry += static_cast<unsigned>(d) << 8;
      d = static_cast<std::uint8_t>(carry % 58);
      carry /= 58;
    }
    while (carry > 0) {
      digits.push_back(static_cast<std::uint8_t>(carry % 58));
      carry /= 58;
    }
  }
  std::string out(zeros, '1');  // every leading zero byte is a '1'
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) out.push_back(kBase58Alphabet[*it]);
  return out;
}

Bytes base58btc_decode(std::string_view text) {
  std::size_t ones = 0;
  while (ones < text.size() && text[ones] == '1') ++ones;
  std::vector<std::uint8_t> bytes;  // base 256, least significant first
  for (std::size_t i = ones; i < text.size(); ++i) {
    const std::size_t value = kBase58Alphabet.find(text[i]);
    if (value == std::string_view::npos) throw FormatError(bad_character("base58btc", text, i));
    unsigned carry = static_cast<unsigned>(value);
    for (std::uint8_t& b : bytes) {
      carry += static_cast<unsigned>(b) * 58;
      b = static_cast<std::uint8_t>(carry & 0xff);
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push_back(static_cast<std::uint8_t>(carry & 0xff));
      carry >>= 8;
    }
  }
  Bytes out(ones, '\0');
  for (auto it = bytes.rbegin(); it != bytes.rend(); ++it) out.push_back(static_cast<char>(*it));
  return out;
}

std::string base32_encode(std::string_view bytes) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : bytes) {
    buffer = (buffer << 8) | static_cast<std::uint8_t>(c);
    bits += 8;
    while (bits >= 5) {
      out.push_back(kBase32Alphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kBase32Alphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

Bytes base32_decode(std::string_view text) {
  Bytes out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const std::size_t value = kBase32Alphabet.find(text[i]);
    if (value == std::string_view::npos) throw FormatError(bad_character("base32 (lower case)", text, i));
    buffer = (buffer << 5) | static_cast<std::uint32_t>(value);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<char>((buffer >> (bits - 8)) & 0xff));
      bits -= 8;
    }
  }
  // What is left is padding to a whole character: fewer than 5 bits, all zero.
  if (bits >= 5 || (buffer & ((1u << bits) - 1)) != 0) {
    throw FormatError("base32: " + std::to_string(text.size()) + " characters do not end on a whole byte");
  }
  return out;
}

Bytes multibase_decode(std::string_view text) {
  if (text.empty()) throw FormatError("multibase: empty text");
  if (text[0] == kBase32Prefix) return base32_decode(text.substr(1));
  if (text[0] == kBase58btcPrefix) return base58btc_decode(text.substr(1));
  throw FormatError(std::string("multibase: prefix '") + text[0] +
                    "' is not supported here (b = base32, z = base58btc)");
}

}  // namespace p2plab::ipfs
