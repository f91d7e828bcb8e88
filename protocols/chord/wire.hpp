#pragma once
// Chord's wire format for the real-network mode: one message per UDP datagram, CBOR (RFC 8949)
// through nlohmann_json's binary formats. Documented in README.md beside this file ("Wire
// format"). decode() is pure (no state touched) and strict: anything that does not decode, has
// another version or id width, is truncated or oversized, names an unknown message type or an
// id >= 2^m, or carries a field out of range is refused with a reason, never half-applied.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chord.hpp"
#include "p2plab/id.hpp"

namespace p2plab::chord::wire {

constexpr std::uint64_t kVersion = 1;
/// Largest datagram sent or accepted (fits an Ethernet MTU with IP and UDP headers).
constexpr std::size_t kMaxDatagram = 1400;
/// Longest value a PUT may carry (bytes of UTF-8 text).
constexpr std::size_t kMaxValueBytes = 512;

enum class Kind : std::uint8_t {
  Message = 0,     // a Chord message (the protocol's Message)
  Hello = 1,       // "who are you?" (a new peer learns its bootstrap peer's id)
  HelloReply = 2,  // "I am <sender id>"
  Count
};

/// Why a datagram was dropped (counted per reason by the node).
enum class Drop : std::uint8_t {
  Oversized,   // longer than kMaxDatagram
  NotCbor,     // not one well-formed CBOR item (includes truncated data)
  NotMap,      // CBOR, but not a map
  Version,     // "v" missing or not kVersion
  Bits,        // "m" missing or not this overlay's m
  Kind,        // "k" unknown
  Type,        // message type unknown
  BadId,       // an id that is not a byte string of up to 20 bytes, or >= 2^m
  BadContact,  // a contact that is not [id] or [id, ip, port]
  BadField,    // a field of the wrong type or out of range, or an unknown field
  Missing,     // a field the message type needs is missing
  SelfId,      // the sender claims our own id from another address
  TableFull,   // it names more new peers than the contact table takes
  Count
};
const char* to_string(Drop reason);

struct Address {
  std::uint32_t ip = 0;  // IPv4, host byte order
  std::uint16_t port = 0;
  friend bool operator==(const Address&, const Address&) = default;
};

/// A peer as the wire names it: its id, and its address unless it is the datagram's sender.
struct WireContact {
  Id id;
  bool is_sender = true;  // no address on the wire: "the peer that sent this datagram"
  Address address;
  friend bool operator==(const WireContact&, const WireContact&) = default;
};

/// One datagram, decoded but not yet mapped to local peer indices.
struct Datagram {
  Kind kind = Kind::Message;
  int bits = 0;
  Id sender;
  // Kind::Message only:
  MsgType type = MsgType::Ping;
  std::uint8_t flag = 0, hops = 0;
  std::uint32_t lookup = 0, tag = 0;
  std::optional<WireContact> origin, node;
  std::vector<WireContact> list;  // at most kMaxSuccessors
  std::optional<Id> key;
  std::optional<std::string> value;
};

/// Encodes into `out`; false if the result would exceed kMaxDatagram.
bool encode(const Datagram& d, std::vector<std::uint8_t>& out);
/// Decodes a datagram for an overlay of `bits`-bit ids. On failure returns false and sets `why`.
bool decode(const std::uint8_t* data, std::size_t size, int bits, Datagram& out, Drop& why);

/// Id <-> big-endian bytes without leading zeros (0 is the empty string).
std::vector<std::uint8_t> id_bytes(const Id& id);
std::optional<Id> id_from_bytes(const std::vector<std::uint8_t>& bytes);

}  // namespace p2plab::chord::wire
