#pragma once
// Flooding's (Gnutella 0.4) wire format for the real-network mode: its message fields inside the
// shared envelope (net/include/p2plab/net/wire.hpp); see README.md beside this file ("Wire
// format"). decode() is pure and strict.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/search_wire.hpp"
#include "flooding.hpp"
#include "p2plab/net/wire.hpp"

namespace p2plab::flooding::wire {

using net::wire::Drop;
using net::wire::Kind;
using net::wire::to_string;
using WireContact = net::wire::Contact;

using search::wire::kMaxDatagram;
using search::wire::kMaxNameBytes;
using search::wire::kVersion;

/// The envelope: version 1, "p": "flooding", 64-bit ids.
const net::wire::Format& format();

struct Datagram {
  Kind kind = Kind::Message;
  std::uint64_t sender = 0;
  MsgType type = MsgType::Ping;
  std::uint8_t ttl = 0, hops = 0, flag = 0;
  std::optional<std::uint64_t> guid;  // the query's GUID (QUERY, QUERYHIT, DOWNLOAD, DOWNLOAD_OK)
  std::optional<std::string> name;    // QUERY: the keywords
  std::optional<WireContact> node;    // PING: who asks; PONG: who answers; QUERYHIT: the provider
  std::uint32_t round = 0;
};

bool encode(const Datagram& d, std::vector<std::uint8_t>& out);
/// The message fields of a datagram whose envelope `r` opened (the node shell opens it).
bool read(net::wire::Reader& r, Datagram& d);
bool decode(const std::uint8_t* data, std::size_t size, Datagram& out, Drop& why);

}  // namespace p2plab::flooding::wire
