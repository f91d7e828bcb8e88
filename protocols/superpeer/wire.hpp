#pragma once
// Superpeers' (Gnutella 0.6 / Skype) wire format for the real-network mode: its message fields
// inside the shared envelope (net/include/p2plab/net/wire.hpp); see README.md beside this file
// ("Wire format"). decode() is pure and strict; the layout extends flooding's.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/search_wire.hpp"
#include "p2plab/net/wire.hpp"
#include "superpeer.hpp"

namespace p2plab::superpeer::wire {

using net::wire::Drop;
using net::wire::Kind;
using net::wire::to_string;
using WireContact = net::wire::Contact;

using search::wire::kMaxDatagram;
using search::wire::kMaxNameBytes;
using search::wire::kVersion;
constexpr std::size_t kMaxList = 8;  // superpeers in a SUPERPEER_LIST

/// The envelope: version 1, "p": "superpeer", 64-bit ids.
const net::wire::Format& format();

struct Datagram {
  Kind kind = Kind::Message;
  std::uint64_t sender = 0;
  MsgType type = MsgType::Ping;
  std::uint8_t ttl = 0, hops = 0, flag = 0;
  std::optional<std::uint64_t> guid;  // the query's GUID (QUERY, QUERYHIT, DOWNLOAD, DOWNLOAD_OK)
  std::optional<std::string> name;    // QUERY: the keywords; ANNOUNCE: a shared name
  std::optional<WireContact> node;    // QUERY: requester; QUERYHIT: provider; DOWNLOAD(_OK): relay target
  std::optional<WireContact> relay;   // QUERYHIT: the provider's superpeer
  std::vector<WireContact> list;      // SUPERPEER_LIST: up to 8 superpeers
};

bool encode(const Datagram& d, std::vector<std::uint8_t>& out);
/// The message fields of a datagram whose envelope `r` opened (the node shell opens it).
bool read(net::wire::Reader& r, Datagram& d);
bool decode(const std::uint8_t* data, std::size_t size, Datagram& out, Drop& why);

}  // namespace p2plab::superpeer::wire
