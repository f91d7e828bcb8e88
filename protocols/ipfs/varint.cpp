#include "varint.hpp"

#include <string>

namespace p2plab::ipfs {

void append_uvarint(Bytes& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

Bytes uvarint(std::uint64_t value) {
  Bytes out;
  append_uvarint(out, value);
  return out;
}

std::uint64_t read_uvarint(std::string_view bytes, std::size_t& pos, const char* field) {
  constexpr int kMaxBytes = 9;  // the multiformats limit: 63 bits
  std::uint64_t value = 0;
  for (int i = 0; i < kMaxBytes; ++i) {
    if (pos >= bytes.size()) throw FormatError(std::string(field) + ": varint cut short");
    const auto byte = static_cast<std::uint8_t>(bytes[pos++]);
    value |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      if (byte == 0 && i > 0) throw FormatError(std::string(field) + ": varint not minimally encoded");
      return value;
    }
  }
  throw FormatError(std::string(field) + ": varint longer than 9 bytes");
}

}  // namespace p2plab::ipfs
