#pragma once
// KRPC, BEP 5's messages: one bencoded dictionary per UDP datagram, a query ("y": "q", method
// "q", arguments "a"), a response ("y": "r", return values "r") or an error ("y": "e", "e":
// [code, message]), each with the transaction id "t" the querier chose. The four methods: ping,
// find_node (target), get_peers (info_hash; the answer: a token, and "values", peers as 6-byte
// compact addresses, or "nodes", 26-byte compact node infos) and announce_peer (info_hash, port
// or implied_port, the token).
//
// decode() is pure and strict: a datagram that is no KRPC message is refused with a reason and
// dropped by the node; a query whose arguments are wrong is refused with error 203 (or 204 for an
// unknown method), which the node sends back since the transaction id was readable. Keys no
// method needs are ignored (real clients add "v", "ip", "ro", "bs", "want", "nodes6", ...); the
// few that mean something are read: "ro" (a read-only node: BEP 43) and "bs" (libtorrent's
// bootstrap lookups), "v" (the client's version, for counting who speaks) and "ip" (BEP 42: the
// address the responder saw).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bencode.hpp"
#include "p2plab/id.hpp"
#include "p2plab/net/endpoint.hpp"

namespace p2plab::kademlia::krpc {

/// A 160-bit node id or info-hash, as on the wire (big-endian bytes).
using NodeId = std::array<std::uint8_t, 20>;

Id to_id(const NodeId& n);
NodeId from_id(const Id& id);
/// 40 hex digits (either case) to an id; nullopt otherwise.
std::optional<NodeId> from_hex(std::string_view hex);
std::string to_hex(const NodeId& n);

constexpr std::size_t kCompactNode = 26;  ///< id (20) + IPv4 (4) + port (2)
constexpr std::size_t kCompactPeer = 6;   ///< IPv4 (4) + port (2)
constexpr std::size_t kMaxTransaction = 32;
constexpr std::size_t kMaxToken = 64;
constexpr std::size_t kMaxVersion = 16;
constexpr std::size_t kMaxNodes = 64;    ///< node infos read from one message (k = 8 in BEP 5)
constexpr std::size_t kMaxValues = 256;  ///< peers read from one message
constexpr std::size_t kMaxErrorText = 256;
constexpr std::size_t kMaxDatagram = 4096;  ///< what a node accepts (real ones stay far below)

struct NodeInfo {
  NodeId id{};
  net::Endpoint address;
  friend bool operator==(const NodeInfo&, const NodeInfo&) = default;
};

/// Compact encodings (network byte order).
std::string compact_peer(const net::Endpoint& e);
std::string compact_node(const NodeInfo& n);
net::Endpoint peer_from_compact(std::string_view six);

enum class Kind : std::uint8_t { Query, Response, Error };
enum class Method : std::uint8_t { Ping, FindNode, GetPeers, AnnouncePeer, Count };
const char* to_string(Method m);

/// BEP 5's error codes.
constexpr int kGenericError = 201, kServerError = 202, kProtocolError = 203, kMethodUnknown = 204;

struct Message {
  std::string transaction;  ///< "t"
  Kind kind = Kind::Query;
  Method method = Method::Ping;  ///< queries only
  NodeId id{};                   ///< the sender's id ("a"."id" or "r"."id"); not in errors
  // Query arguments:
  NodeId target{};     ///< find_node
  NodeId info_hash{};  ///< get_peers, announce_peer
  int port = 0;        ///< announce_peer
  bool implied_port = false;
  bool bootstrap = false;  ///< "bs": 1 (libtorrent's bootstrap get_peers)
  bool read_only = false;  ///< "ro": 1 (BEP 43: do not add the sender to a routing table)
  // Query (announce_peer) or response (get_peers):
  std::optional<std::string> token;
  // Response values:
  std::optional<std::vector<NodeInfo>> nodes;        ///< "nodes"
  std::optional<std::vector<net::Endpoint>> values;  ///< "values" (IPv6 entries skipped)
  std::optional<net::Endpoint> ip;                   ///< "ip" (BEP 42): the requester as seen
  // Error:
  int error_code = 0;
  std::string error_text;
  std::string version;  ///< "v", empty if absent
};

/// Why a datagram was refused (the node counts drops by these names).
enum class Drop : std::uint8_t {
  Oversized,
  Bencode,        ///< not bencode (the bencode error says more)
  NotDict,        ///< bencode, but not a dictionary
  NoTransaction,  ///< "t" missing, not a string, empty or too long
  BadType,        ///< "y" missing or not q, r, e
  BadResponse,    ///< "r" missing or wrong, its "id" not 20 bytes, bad nodes / values / token
  BadError,       ///< "e" not [integer, string]
  BadQuery,       ///< a query with bad arguments: answered with error 203
  UnknownMethod,  ///< a query of another method: answered with error 204
  Count
};
const char* to_string(Drop d);

/// Decodes one datagram. On failure `out.transaction` is set when it was readable, and
/// `error_text` says what was wrong (for the 203 / 204 answer); `bencode_error` (if given) the
/// bencode decoder's reason when `why` is Drop::Bencode.
bool decode(std::string_view data, Message& out, Drop& why, bencode::Error* bencode_error = nullptr);
/// Encodes `m` (keys in sorted order; absent optionals and an empty version are left out).
std::string encode(const Message& m);

/// Convenience constructors.
Message error_reply(std::string transaction, int code, std::string text);

}  // namespace p2plab::kademlia::krpc
