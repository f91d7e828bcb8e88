#pragma once
// IPFS on the simulated network: every peer is a Kademlia node (the Kademlia module's Protocol,
// reused whole through its headers) with a block store, and speaks a Bitswap-style block exchange
// (specs/bitswap: want-have, want-block, have, dont-have, block) over the same transport. A fetch
// finds the root's providers with GET_PROVIDERS, asks them for the root, walks the DAG as blocks
// arrive (a node's links are discovered when its block is verified) and checks every block
// against its CID: a block whose bytes hash to anything else is rejected, counted and asked of
// another provider. README.md maps the specifications to the functions here.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cid.hpp"
#include "kademlia.hpp"
#include "p2plab/simulator.hpp"

namespace p2plab::ipfs {

/// The message kinds: Kademlia's (0 .. kademlia::MsgType::Count - 1, carried in Message::kad),
/// then Bitswap's. A real Bitswap message batches wantlist entries, block presences and blocks;
/// here each travels alone (one message per entry), which makes every step visible.
enum class BitswapType : std::uint8_t {
  WantHave = static_cast<std::uint8_t>(kademlia::MsgType::Count),  // do you have this block?
  WantBlock,                                                       // send me this block
  Have,                                                            // I have it
  DontHave,                                                        // I do not (sendDontHave was set)
  Block,                                                           // the block's bytes
  End
};
constexpr std::uint8_t kKademliaTypes = static_cast<std::uint8_t>(kademlia::MsgType::Count);
const char* to_string(BitswapType type);

/// One simulated message: a Kademlia RPC, or a Bitswap entry naming a block by its index in the
/// run's BlockTable (a block's bytes travel as an index into the table's payloads: the receiver
/// hashes those bytes, so a corrupted copy is a different payload with the same CID).
struct Message {
  std::uint8_t type = 0;
  std::uint32_t cid = 0;      // Bitswap: the block's CID (BlockTable index)
  std::uint32_t payload = 0;  // Block: the bytes sent (BlockTable payload index)
  kademlia::Message kad;      // type < kKademliaTypes
};

/// Bitswap's timers, after Kademlia's timer kinds: a want-block unanswered in time goes
/// elsewhere; a block leaves its sender once its uplink has sent the bytes before it.
constexpr std::uint16_t kBlockTimeout = static_cast<std::uint16_t>(kademlia::TimerKind::Count);
constexpr std::uint16_t kBlockSent = kBlockTimeout + 1;

struct BitswapParams {
  SimTime block_timeout = from_ms(std::int64_t{3000});  // a want-block unanswered this long goes elsewhere
  /// A peer's upload rate for blocks in Mbit/s: a block of B bytes leaves 8 B / rate after the
  /// blocks queued before it (one uplink per peer, blocks in the order asked). 0: no limit, a
  /// block costs only the network's latency.
  double upload_mbps = 0;
};

/// Every CID and every block's bytes the run has seen, interned: messages and stores refer to
/// them by index.
class BlockTable {
 public:
  std::uint32_t intern(const Cid& cid);
  std::optional<std::uint32_t> find(const Cid& cid) const;
  const Cid& cid(std::uint32_t index) const { return cids_[index]; }
  std::size_t cids() const { return cids_.size(); }
  /// The genuine bytes of `cid` (checked: they must hash to it); returns their payload index.
  std::uint32_t add_block(std::uint32_t cid, Bytes bytes);
  /// Payload index of the genuine bytes, if known.
  std::optional<std::uint32_t> genuine(std::uint32_t cid) const;
  /// A copy of a block with one byte changed, as a corrupted peer sends it.
  std::uint32_t corrupted(std::uint32_t payload);
  const Bytes& payload(std::uint32_t index) const { return payloads_[index]; }

 private:
  std::vector<Cid> cids_;
  std::map<Cid, std::uint32_t> index_;
  std::vector<Bytes> payloads_;
  std::map<std::uint32_t, std::uint32_t> genuine_, corrupted_;  // cid -> payload, payload -> corrupted copy
};

/// One fetch as the result reports it.
struct FetchRecord {
  std::uint32_t serial = 0;        // 1, 2, ... in the order fetches started
  std::uint32_t trace_serial = 0;  // its search number in the trace
  PeerIndex from = kNoPeer;
  std::uint32_t root = 0;  // CID index
  SimTime start = 0, end = -1;
  std::vector<PeerIndex> providers;  // found by GET_PROVIDERS, in the order heard
  std::vector<PeerIndex> contacted;  // peers sent a Bitswap want, in order
  std::uint32_t blocks = 0;          // blocks received and verified
  std::uint64_t bytes = 0;           // their bytes
  std::uint32_t blocks_local = 0;    // blocks already in the fetcher's store (not transferred)
  std::uint32_t corrupted = 0;       // blocks rejected: their bytes do not hash to their CID
  std::uint32_t timeouts = 0, dont_haves = 0;
  std::uint32_t lookup_rounds = 0, lookup_messages = 0;  // the provider lookup (GET_PROVIDERS and answers)
  /// Bitswap messages of this fetch: each want-block and what came back, each want-have and its answer.
  std::uint32_t bitswap_messages = 0;
  struct Arrival {
    std::uint32_t cid = 0;
    PeerIndex from = kNoPeer;
    SimTime at = 0;
    bool verified = false;
  };
  std::vector<Arrival> arrivals;  // every block that came, in order (rejected ones too)
  bool done = false;              // finished (all blocks, or failed)
  bool complete = false;          // every block of the DAG is here and verified
  std::string reason;             // why it failed
};

/// Trace: a fetch is a search of purpose kFetchPurpose (after Kademlia's), numbered among the
/// DHT's lookups (FetchRecord::trace_serial); its hops are blocks coming from providers.
constexpr std::uint8_t kFetchPurpose = 8;
constexpr std::uint8_t kBlockHop = 2, kCorruptHop = 3;  // after kademlia::kQueryHop, kTimeoutHop

class Node final : public MessageHandler<Message> {
 public:
  Node(kademlia::Params params, Simulator<Message>& sim, BlockTable& blocks, BitswapParams bitswap);
  ~Node() override;

  kademlia::Protocol& dht() { return dht_; }
  const kademlia::Protocol& dht() const { return dht_; }
  BlockTable& blocks() { return blocks_; }
  const BlockTable& blocks() const { return blocks_; }

  /// Puts a block (cid index -> payload index) into `peer`'s store; false when it was there.
  bool store(PeerIndex peer, std::uint32_t cid, std::uint32_t payload);
  bool has(PeerIndex peer, std::uint32_t cid) const;
  /// `peer`'s store: cid index -> payload index, in CID-index order.
  const std::map<std::uint32_t, std::uint32_t>& store_of(PeerIndex peer) const;
  /// From now on `peer` sends a corrupted copy of every block it is asked for.
  void set_corrupt(PeerIndex peer);
  bool corrupt(PeerIndex peer) const;

  /// `peer` fetches the DAG below `root`: GET_PROVIDERS for it, then Bitswap. `on_done` is called
  /// when it ends. Returns the fetch's serial (index + 1 in records()).
  std::uint32_t fetch(PeerIndex peer, std::uint32_t root);
  const std::vector<FetchRecord>& fetches() const { return fetches_; }
  /// Called when a fetch ends (complete or failed).
  void set_on_fetch_done(std::function<void(const FetchRecord&)> callback) { on_fetch_done_ = std::move(callback); }
  /// Called with every Kademlia lookup record (the DHT's set_on_record is the node's own).
  void set_on_lookup(std::function<void(const kademlia::LookupRecord&)> callback) { on_lookup_ = std::move(callback); }

  void on_message(PeerIndex self, PeerIndex from, const Message& msg) override;
  void on_timer(PeerIndex self, std::uint16_t kind, std::uint32_t cookie) override;

 private:
  class DhtTransport;
  struct Want {
    std::uint32_t fetch = 0, cid = 0;
    PeerIndex peer = kNoPeer;
    bool open = false;
    SimTime deadline = 0;  // block_timeout after the want, or after the peer's latest block
  };
  struct Session;  // a fetch's providers and what each said

  void send_bitswap(PeerIndex from, PeerIndex to, BitswapType type, std::uint32_t cid, std::uint32_t payload = 0);
  void on_providers(const kademlia::LookupRecord& record);
  void discover(std::uint32_t fetch, std::uint32_t cid, bool arrived = false);
  void want(std::uint32_t fetch, std::uint32_t cid);
  void on_block(PeerIndex self, PeerIndex from, std::uint32_t cid, std::uint32_t payload);
  void on_dont_have(PeerIndex self, PeerIndex from, std::uint32_t cid);
  void end_fetch(std::uint32_t fetch, std::string reason);
  std::optional<std::uint32_t> open_want(PeerIndex self, PeerIndex peer, std::uint32_t cid) const;
  void trace_fetch(const FetchRecord& f, TraceKind kind, PeerIndex other, std::uint8_t detail, std::uint16_t index);

  Simulator<Message>& sim_;
  std::unique_ptr<DhtTransport> dht_transport_;
  kademlia::Protocol dht_;
  BlockTable& blocks_;
  BitswapParams bitswap_;
  struct Outgoing {  // a block waiting for its sender's uplink
    PeerIndex from = kNoPeer, to = kNoPeer;
    std::uint32_t cid = 0, payload = 0;
  };
  std::vector<Outgoing> outgoing_;
  std::vector<SimTime> uplink_free_;  // per peer: when its uplink has sent what is queued
  std::vector<std::map<std::uint32_t, std::uint32_t>> stores_;
  std::vector<bool> corrupt_;
  std::vector<FetchRecord> fetches_;
  std::vector<Session> sessions_;
  std::vector<Want> wants_;
  std::map<std::uint32_t, std::uint32_t> fetch_of_lookup_;  // find_providers serial -> fetch
  std::function<void(const FetchRecord&)> on_fetch_done_;
  std::function<void(const kademlia::LookupRecord&)> on_lookup_;
};

/// The file below `root` read back through `lookup` (a CID -> its verified bytes, nullptr when
/// not at hand): the leaves' data in DAG order, depth first. nullopt when a block is missing or
/// is not a UnixFS file node; `why` says which.
std::optional<Bytes> read_file(const Cid& root, const std::function<const Bytes*(const Cid&)>& lookup,
                               std::string& why);

}  // namespace p2plab::ipfs
