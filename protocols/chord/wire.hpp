#pragma once
// Chord's wire format for the real-network mode: its message fields inside the shared envelope
// (net/include/p2plab/net/wire.hpp: "m" the id width, ids as byte strings). See README.md ("Wire
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
#include "p2plab/net/wire.hpp"

namespace p2plab::chord::wire {

using net::wire::Drop;
using net::wire::id_bytes;
using net::wire::id_from_bytes;
using net::wire::Kind;
using net::wire::to_string;
/// A peer as the wire names it: its id, and its address unless it is the datagram's sender.
using WireContact = net::wire::Contact;

constexpr std::uint64_t kVersion = 1;
/// Largest datagram sent or accepted (fits an Ethernet MTU with IP and UDP headers).
constexpr std::size_t kMaxDatagram = 1400;
/// Longest value a PUT may carry (bytes of UTF-8 text).
constexpr std::size_t kMaxValueBytes = 512;

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
/// The message types that carry a key (the handlers need it).
bool uses_key(MsgType t);
/// The message fields of a datagram whose envelope `r` opened (the node shell opens it).
bool read(net::wire::Reader& r, int bits, Datagram& d);
/// The envelope of an overlay of `bits`-bit ids: version 1, "m": bits, ids as byte strings.
net::wire::Format format(int bits);
/// Decodes a datagram for an overlay of `bits`-bit ids. On failure returns false and sets `why`.
bool decode(const std::uint8_t* data, std::size_t size, int bits, Datagram& out, Drop& why);

}  // namespace p2plab::chord::wire
