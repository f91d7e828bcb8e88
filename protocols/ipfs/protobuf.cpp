#include "protobuf.hpp"

#include <string>

#include "varint.hpp"

namespace p2plab::ipfs::protobuf {

void append_varint_field(Bytes& out, std::uint32_t field, std::uint64_t value) {
  append_uvarint(out, (static_cast<std::uint64_t>(field) << 3) | kVarint);
  append_uvarint(out, value);
}

void append_bytes_field(Bytes& out, std::uint32_t field, std::string_view value) {
  append_uvarint(out, (static_cast<std::uint64_t>(field) << 3) | kLengthDelimited);
  append_uvarint(out, value.size());
  out += value;
}

// Protobuf varints hold 64 bits in up to 10 bytes (the multiformats ones stop at 9).
std::uint64_t read_varint(std::string_view bytes, std::size_t& pos, const char* message) {
  std::uint64_t value = 0;
  for (int i = 0; i < 10; ++i) {
    if (pos >= bytes.size()) throw FormatError(std::string(message) + ": varint cut short at the end");
    const auto byte = static_cast<std::uint8_t>(bytes[pos++]);
    value |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) return value;
  }
  throw FormatError(std::string(message) + ": varint longer than 10 bytes");
}

bool Reader::next(Field& field) {
  if (pos_ >= data_.size()) return false;
  const std::uint64_t key = read_varint(data_, pos_, name_);
  field = Field{};
  field.number = static_cast<std::uint32_t>(key >> 3);
  const auto wire = static_cast<std::uint8_t>(key & 7);
  if (field.number == 0 || key >> 3 > 0x1fffffff) fail(field, "field number out of range");
  if (wire == kVarint) {
    field.wire = kVarint;
    field.varint = read_varint(data_, pos_, name_);
  } else if (wire == kLengthDelimited) {
    field.wire = kLengthDelimited;
    const std::uint64_t length = read_varint(data_, pos_, name_);
    if (length > data_.size() - pos_) fail(field, "length " + std::to_string(length) + " runs past the end");
    field.bytes = data_.substr(pos_, length);
    pos_ += length;
  } else {
    fail(field, "wire type " + std::to_string(wire) + " (only 0 and 2 occur here)");
  }
  return true;
}

void Reader::fail(const Field& field, const std::string& reason) const {
  throw FormatError(std::string(name_) + ": field " + std::to_string(field.number) + ": " + reason);
}

}  // namespace p2plab::ipfs::protobuf
