#pragma once
// Bencode (BEP 3), the encoding of BitTorrent's metainfo files and of BEP 5's KRPC messages:
// integers i42e, byte strings 4:spam, lists l...e, dictionaries d...e with byte-string keys in
// sorted order. Debian packages no C++ bencode library, hence this small one.
//
// The decoder is strict and bounded, as every decoder of datagrams from strangers must be: it
// refuses integers with leading zeros, "-0" or out of the 64-bit range, string lengths with
// leading zeros, dictionary keys out of order or repeated, nesting deeper than Limits::depth,
// more than Limits::items values, and anything after the first complete value. Whatever it
// accepts encodes again to the same bytes (bencode has exactly one encoding per value).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace p2plab::kademlia::bencode {

struct Value;
using List = std::vector<Value>;
/// Entries sorted by key (byte order), keys unique.
using Dict = std::vector<std::pair<std::string, Value>>;

struct Value {
  enum class Type : std::uint8_t { Integer, String, ListType, DictType };
  Type type = Type::Integer;
  std::int64_t integer = 0;
  std::string string;
  List list;
  Dict dict;

  static Value of(std::int64_t i);
  static Value of(std::string s);
  static Value of_list(List l = {});
  static Value of_dict(Dict d = {});

  bool is_integer() const { return type == Type::Integer; }
  bool is_string() const { return type == Type::String; }
  bool is_list() const { return type == Type::ListType; }
  bool is_dict() const { return type == Type::DictType; }
  /// A dictionary's value under `key`, or null (also when this is no dictionary).
  const Value* find(std::string_view key) const;
  /// Sets `key` in a dictionary, keeping the keys sorted.
  Value& set(std::string key, Value v);

  friend bool operator==(const Value&, const Value&) = default;
};

/// Why a decode failed.
enum class Error : std::uint8_t {
  None,
  Truncated,       ///< the input ends inside a value
  BadInteger,      ///< not digits, a leading zero, "-0", or outside the 64-bit range
  BadLength,       ///< a string length that is not a plain decimal number
  UnexpectedByte,  ///< a byte that starts no value
  KeyNotString,    ///< a dictionary key that is not a byte string
  KeyOrder,        ///< dictionary keys not in strictly increasing byte order
  TooDeep,         ///< nested deeper than Limits::depth
  TooMany,         ///< more values than Limits::items
  TooLong,         ///< a string longer than Limits::string_bytes
  Trailing,        ///< bytes after the first complete value
  Count
};
const char* to_string(Error e);

struct Limits {
  int depth = 16;                    ///< lists and dictionaries nested at most this deep
  std::size_t items = 4096;          ///< values in all (memory stays proportional to this)
  std::size_t string_bytes = 65536;  ///< one string's length at most
};

/// Decodes exactly one value filling all of `data`; false with `why` otherwise.
bool decode(std::string_view data, Value& out, Error& why, const Limits& limits = {});
/// The one encoding of `v` (dictionary keys written in sorted order whatever the entries' order).
void encode(const Value& v, std::string& out);
std::string encode(const Value& v);

}  // namespace p2plab::kademlia::bencode
