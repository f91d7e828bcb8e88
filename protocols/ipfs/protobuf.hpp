#pragma once
// The few protobuf wire rules dag-pb and UnixFS need (protobuf.dev/programming-guides/encoding):
// a field is a key varint (number << 3 | wire type) then a varint (type 0) or a length-prefixed
// byte string (type 2). Written by hand rather than with a protobuf library: the two messages are
// tiny and fixed, and dag-pb asks for one exact byte layout (links before data, no unknown
// fields) that a generated encoder does not promise.
#include <cstdint>
#include <string_view>

#include "bytes.hpp"

namespace p2plab::ipfs::protobuf {

enum WireType : std::uint8_t { kVarint = 0, kLengthDelimited = 2 };

void append_varint_field(Bytes& out, std::uint32_t field, std::uint64_t value);
void append_bytes_field(Bytes& out, std::uint32_t field, std::string_view value);

/// A protobuf varint (up to 10 bytes, 64 bits) at `pos`, moving `pos` on; `message` names the
/// input in a FormatError.
std::uint64_t read_varint(std::string_view bytes, std::size_t& pos, const char* message);

struct Field {
  std::uint32_t number = 0;
  WireType wire = kVarint;
  std::uint64_t varint = 0;  ///< when wire is kVarint
  std::string_view bytes;    ///< when wire is kLengthDelimited (a view into the message)
};

/// Reads a message field by field; another wire type than 0 or 2, or a field running past the
/// end, is a FormatError naming `message`.
class Reader {
 public:
  Reader(std::string_view message, const char* name) : data_(message), name_(name) {}
  bool next(Field& field);
  /// A FormatError "<message>: field N: <reason>".
  [[noreturn]] void fail(const Field& field, const std::string& reason) const;

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
  const char* name_;
};

}  // namespace p2plab::ipfs::protobuf
