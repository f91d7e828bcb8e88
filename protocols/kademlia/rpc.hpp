#pragma once
// Kademlia's four RPCs (paper 2.3) as simulated messages: PING, STORE, FIND_NODE, FIND_VALUE,
// each with its reply, and libp2p kad-dht's provider records: ADD_PROVIDER, GET_PROVIDERS. A reply echoes the request's
// rpc slot and tag so the requester matches it to what it asked (and ignores a late reply to a request it already gave
// up on).
#include <array>
#include <cstdint>

#include "p2plab/id.hpp"
#include "p2plab/types.hpp"

namespace p2plab::kademlia {

/// The largest k a simulated reply carries (a FIND_NODE answer lists up to k contacts).
constexpr int kMaxK = 32;
/// The most providers a GET_PROVIDERS answer carries (kad-dht's k = 20): the first 20 records.
constexpr int kMaxProviders = 20;

enum class MsgType : std::uint8_t {
  Ping,
  Pong,
  Store,  // key, value, time to live
  StoreReply,
  FindNode,        // key: the target
  FindNodeReply,   // count contacts in `nodes`, closest first
  FindValue,       // key
  FindValueReply,  // found = 1: `value`; else count contacts in `nodes`
  AddProvider,     // key: the sender provides it (kad-dht: only the sender's own record counts)
  AddProviderReply,
  GetProviders,       // key
  GetProvidersReply,  // provider_count providers in `providers`, count closer contacts in `nodes`
  Count
};
const char* to_string(MsgType type);

constexpr std::uint32_t kNoValue = 0xffffffffu;

/// Every Kademlia message. Fixed size: the simulator keeps them in a reusable pool. A contact
/// travels as the peer's address (PeerIndex); its id is the transport's id_of(address), as a
/// real contact carries id and address together.
struct Message {
  MsgType type = MsgType::Ping;
  std::uint8_t count = 0;           // valid entries in `nodes`
  std::uint8_t found = 0;           // FindValueReply: the value is in `value`
  std::uint8_t cached = 0;          // Store: a cached copy (paper 2.3), not a replica of the k closest
  std::uint8_t provider_count = 0;  // GetProvidersReply: valid entries in `providers`
  std::uint32_t rpc = 0;            // the requester's RPC slot
  std::uint32_t tag = 0;            // the slot's generation
  std::uint32_t value = kNoValue;   // index into the run's value table
  std::int64_t ttl = 0;             // Store: microseconds until the copy expires
  Id key;
  std::array<PeerIndex, kMaxK> nodes{};
  std::array<PeerIndex, kMaxProviders> providers{};
};

enum class TimerKind : std::uint16_t {
  RpcTimeout,         // cookie: the RPC slot
  Refresh,            // bucket refresh check (paper 2.3)
  Republish,          // hourly republication of stored pairs (paper 2.5)
  RepublishOriginal,  // the original publisher's republication (every 24 h)
  RoundTimeout,       // a lookup round's queries still out stop holding it up; cookie: lookup slot
  ProviderRepublish,  // a provider announces its keys again (kad-dht: every 22 h)
  Count
};
const char* to_string(TimerKind kind);

}  // namespace p2plab::kademlia
