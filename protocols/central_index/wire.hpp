#pragma once
// The central index's (Napster) wire format for the real-network mode: one message per UDP
// datagram, a CBOR map (see README.md beside this file, "Wire format"). decode() is pure and
// strict, like flooding's (protocols/flooding/wire.hpp).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "central_index.hpp"

namespace p2plab::central_index::wire {

constexpr std::uint64_t kVersion = 1;
constexpr std::size_t kMaxDatagram = 1400;
constexpr std::size_t kMaxNameBytes = 255;  // a file name or a query's keywords

enum class Kind : std::uint8_t { Message = 0, Hello = 1, HelloReply = 2, Count };

enum class Drop : std::uint8_t {
  Oversized,
  NotCbor,
  NotMap,
  Version,
  Protocol,
  Kind,
  Type,
  BadId,
  BadContact,
  BadField,
  Missing,
  SelfId,
  TableFull,
  Count
};
const char* to_string(Drop reason);

struct Address {
  std::uint32_t ip = 0;
  std::uint16_t port = 0;
  friend bool operator==(const Address&, const Address&) = default;
};
struct WireContact {
  std::uint64_t id = 0;
  bool is_sender = true;  // no address on the wire: the datagram's sender
  Address address;
  friend bool operator==(const WireContact&, const WireContact&) = default;
};

struct Datagram {
  Kind kind = Kind::Message;
  std::uint64_t sender = 0;
  MsgType type = MsgType::Register;
  std::uint8_t flag = 0;              // SEARCH_RESULT: 1 on the last part
  std::optional<std::uint64_t> guid;  // the search's GUID (SEARCH, SEARCH_RESULT, DOWNLOAD, DOWNLOAD_OK)
  std::optional<std::string> name;    // REGISTER: the shared name; SEARCH: the keywords
  std::vector<WireContact> providers;  // SEARCH_RESULT: up to kProvidersPerMessage
  std::optional<WireContact> server;   // HELLO_REPLY from a peer that is not the server: the server
};

bool encode(const Datagram& d, std::vector<std::uint8_t>& out);
bool decode(const std::uint8_t* data, std::size_t size, Datagram& out, Drop& why);

}  // namespace p2plab::central_index::wire
