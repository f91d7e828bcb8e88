#pragma once
// The central index's (Napster) wire format for the real-network mode: its message fields inside
// the shared envelope (net/include/p2plab/net/wire.hpp); see README.md beside this file ("Wire format"). decode() is
// pure and strict, like flooding's (protocols/flooding/wire.hpp).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "central_index.hpp"
#include "common/search_wire.hpp"
#include "p2plab/net/wire.hpp"

namespace p2plab::central_index::wire {

using net::wire::Drop;
using net::wire::Kind;
using net::wire::to_string;
using WireContact = net::wire::Contact;

using search::wire::kMaxDatagram;
using search::wire::kMaxNameBytes;
using search::wire::kVersion;

/// The envelope: version 1, "p": "central_index", 64-bit ids.
const net::wire::Format& format();

struct Datagram {
  Kind kind = Kind::Message;
  std::uint64_t sender = 0;
  MsgType type = MsgType::Register;
  std::uint8_t flag = 0;               // SEARCH_RESULT: 1 on the last part
  std::optional<std::uint64_t> guid;   // the search's GUID (SEARCH, SEARCH_RESULT, DOWNLOAD, DOWNLOAD_OK)
  std::optional<std::string> name;     // REGISTER: the shared name; SEARCH: the keywords
  std::vector<WireContact> providers;  // SEARCH_RESULT: up to kProvidersPerMessage
  std::optional<WireContact> server;   // HELLO_REPLY from a peer that is not the server: the server
};

bool encode(const Datagram& d, std::vector<std::uint8_t>& out);
/// The message fields of a datagram whose envelope `r` opened (the node shell opens it).
bool read(net::wire::Reader& r, Datagram& d);
bool decode(const std::uint8_t* data, std::size_t size, Datagram& out, Drop& why);

}  // namespace p2plab::central_index::wire
