#include "bitswap.hpp"

#include <algorithm>
#include <set>

#include "dag_pb.hpp"
#include "dag_tree.hpp"
#include "kademlia_run.hpp"
#include "unixfs.hpp"

namespace p2plab::ipfs {

const char* to_string(BitswapType type) {
  switch (type) {
    case BitswapType::WantHave:
      return "WANT_HAVE";
    case BitswapType::WantBlock:
      return "WANT_BLOCK";
    case BitswapType::Have:
      return "HAVE";
    case BitswapType::DontHave:
      return "DONT_HAVE";
    case BitswapType::Block:
      return "BLOCK";
    case BitswapType::End:
      break;
  }
  return "?";
}

// ---- the block table ----------------------------------------------------------------------------

std::uint32_t BlockTable::intern(const Cid& cid) {
  const auto [it, added] = index_.emplace(cid, static_cast<std::uint32_t>(cids_.size()));
  if (added) cids_.push_back(cid);
  return it->second;
}

std::optional<std::uint32_t> BlockTable::find(const Cid& cid) const {
  const auto it = index_.find(cid);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

std::uint32_t BlockTable::add_block(std::uint32_t cid, Bytes bytes) {
  if (const auto known = genuine(cid)) return *known;
  if (!verify(cids_[cid].hash, bytes)) throw FormatError("block does not hash to " + cids_[cid].to_string());
  payloads_.push_back(std::move(bytes));
  const auto index = static_cast<std::uint32_t>(payloads_.size() - 1);
  genuine_[cid] = index;
  return index;
}

std::optional<std::uint32_t> BlockTable::genuine(std::uint32_t cid) const {
  const auto it = genuine_.find(cid);
  if (it == genuine_.end()) return std::nullopt;
  return it->second;
}

std::uint32_t BlockTable::corrupted(std::uint32_t payload) {
  if (const auto it = corrupted_.find(payload); it != corrupted_.end()) return it->second;
  Bytes bad = payloads_[payload];
  if (bad.empty()) {
    bad.push_back('\x01');  // an empty block gets a byte: still not what its CID names
  } else {
    bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 0x01);  // one bit in the middle
  }
  payloads_.push_back(std::move(bad));
  const auto index = static_cast<std::uint32_t>(payloads_.size() - 1);
  corrupted_[payload] = index;
  return index;
}

// ---- Kademlia on the same transport ---------------------------------------------------------------

/// What the Kademlia protocol sees: a Transport of its own messages, each sent wrapped in an IPFS
/// Message (type = the Kademlia type, so the engine counts and traces it by its own name) on
/// the one simulator; Kademlia's timer kinds are below kBlockTimeout, so they go back to it.
class Node::DhtTransport final : public Transport<kademlia::Message> {
 public:
  explicit DhtTransport(Simulator<Message>& sim) : sim_(sim) {}
  SimTime now() const override { return sim_.now(); }
  void send(PeerIndex from, PeerIndex to, const kademlia::Message& msg) override {
    Message wrapped;
    wrapped.type = static_cast<std::uint8_t>(msg.type);
    wrapped.kad = msg;
    sim_.send(from, to, wrapped);
  }
  void set_timer(PeerIndex peer, SimTime delay, std::uint16_t kind, std::uint32_t cookie) override {
    sim_.set_timer(peer, delay, kind, cookie);
  }
  Rng& rng(PeerIndex peer) override { return sim_.rng(peer); }
  const Id& id_of(PeerIndex peer) const override { return sim_.id_of(peer); }
  Trace& trace() override { return sim_.trace(); }

 private:
  Simulator<Message>& sim_;
};

/// A fetch's session (as kubo's Bitswap sessions): the providers found for the root, asked for
/// every block of the DAG, and what each has said.
struct Node::Session {
  struct Peer {
    PeerIndex peer = kNoPeer;
    bool has = false;         // answered HAVE or sent a good block
    bool answered = false;    // said anything (HAVE, DONT_HAVE, a block)
    bool bad = false;         // sent a block that does not hash to its CID: never asked again
    bool silent = false;      // a want-block to it timed out
    SimTime last_block = -1;  // when its latest block came (a peer still sending is not silent)
    std::set<std::uint32_t> dont_have;
  };
  std::vector<Peer> peers;
  std::set<std::uint32_t> seen;     // blocks of the DAG met so far (here or wanted)
  std::set<std::uint32_t> pending;  // blocks not here yet
  std::size_t next = 0;             // round robin over the peers: blocks come from several
  bool providers_known = false;
  std::uint32_t lookup = 0;  // the find_providers serial
};

Node::Node(kademlia::Params params, Simulator<Message>& sim, BlockTable& blocks, BitswapParams bitswap)
    : sim_(sim),
      dht_transport_(std::make_unique<DhtTransport>(sim)),
      dht_(params, *dht_transport_),
      blocks_(blocks),
      bitswap_(bitswap) {
  dht_.set_on_record([this](const kademlia::LookupRecord& r) {
    if (r.purpose == kademlia::Purpose::FindProviders) on_providers(r);
    if (on_lookup_) on_lookup_(r);
  });
}

Node::~Node() = default;

bool Node::store(PeerIndex peer, std::uint32_t cid, std::uint32_t payload) {
  if (stores_.size() <= peer) stores_.resize(peer + 1);
  return stores_[peer].emplace(cid, payload).second;
}

bool Node::has(PeerIndex peer, std::uint32_t cid) const { return peer < stores_.size() && stores_[peer].count(cid); }

const std::map<std::uint32_t, std::uint32_t>& Node::store_of(PeerIndex peer) const {
  static const std::map<std::uint32_t, std::uint32_t> empty;
  return peer < stores_.size() ? stores_[peer] : empty;
}

void Node::set_corrupt(PeerIndex peer) {
  if (corrupt_.size() <= peer) corrupt_.resize(peer + 1);
  corrupt_[peer] = true;
}

bool Node::corrupt(PeerIndex peer) const { return peer < corrupt_.size() && corrupt_[peer]; }

void Node::send_bitswap(PeerIndex from, PeerIndex to, BitswapType type, std::uint32_t cid, std::uint32_t payload) {
  Message msg;
  msg.type = static_cast<std::uint8_t>(type);
  msg.cid = cid;
  msg.payload = payload;
  sim_.send(from, to, msg);
}

// ---- messages and timers ------------------------------------------------------------------------

void Node::on_message(PeerIndex self, PeerIndex from, const Message& msg) {
  if (msg.type < kKademliaTypes) {
    dht_.on_message(self, from, msg.kad);
    return;
  }
  switch (static_cast<BitswapType>(msg.type)) {
    case BitswapType::WantHave:
      // Bitswap 1.2: a want-have is answered with HAVE, or DONT_HAVE when sendDontHave is set
      // (always here: the requester then asks elsewhere at once instead of waiting).
      send_bitswap(self, from, has(self, msg.cid) ? BitswapType::Have : BitswapType::DontHave, msg.cid);
      return;
    case BitswapType::WantBlock: {
      if (!has(self, msg.cid)) {
        send_bitswap(self, from, BitswapType::DontHave, msg.cid);
        return;
      }
      std::uint32_t payload = stores_[self].at(msg.cid);
      if (corrupt(self)) payload = blocks_.corrupted(payload);
      if (bitswap_.upload_mbps <= 0) {
        send_bitswap(self, from, BitswapType::Block, msg.cid, payload);
        return;
      }
      // The uplink sends one block after the other: this one leaves when the bytes queued before
      // it and its own have gone out. Worked example: 262,158 bytes at 8 Mbit/s take 262 ms; two
      // asked at once leave at 262 ms and 524 ms.
      if (uplink_free_.size() <= self) uplink_free_.resize(self + 1, 0);
      const SimTime start = std::max(sim_.now(), uplink_free_[self]);
      const double bits = 8.0 * static_cast<double>(blocks_.payload(payload).size());
      uplink_free_[self] = start + from_ms(bits / (bitswap_.upload_mbps * 1000.0));
      outgoing_.push_back({self, from, msg.cid, payload});
      sim_.set_timer(self, uplink_free_[self] - sim_.now(), kBlockSent,
                     static_cast<std::uint32_t>(outgoing_.size() - 1));
      return;
    }
    case BitswapType::Have:
      for (std::uint32_t f = 0; f < fetches_.size(); ++f) {
        if (fetches_[f].from != self || fetches_[f].done) continue;
        for (Session::Peer& p : sessions_[f].peers) {
          if (p.peer != from) continue;
          p.has = p.answered = true;
        }
      }
      return;
    case BitswapType::DontHave:
      on_dont_have(self, from, msg.cid);
      return;
    case BitswapType::Block:
      on_block(self, from, msg.cid, msg.payload);
      return;
    case BitswapType::End:
      return;
  }
}

void Node::on_timer(PeerIndex self, std::uint16_t kind, std::uint32_t cookie) {
  if (kind == kBlockSent) {
    const Outgoing& o = outgoing_[cookie];
    send_bitswap(o.from, o.to, BitswapType::Block, o.cid, o.payload);
    return;
  }
  if (kind != kBlockTimeout) {
    dht_.on_timer(self, kind, cookie);
    return;
  }
  Want& w = wants_[cookie];
  if (!w.open || sim_.now() < w.deadline) return;
  // A peer that has sent a block since this want was made is busy, not gone (its uplink sends
  // the blocks asked before): the want waits another block_timeout from that block.
  for (const Session::Peer& p : sessions_[w.fetch].peers) {
    if (p.peer == w.peer && p.last_block >= 0 && p.last_block + bitswap_.block_timeout > sim_.now()) {
      w.deadline = p.last_block + bitswap_.block_timeout;
      sim_.set_timer(self, w.deadline - sim_.now(), kBlockTimeout, cookie);
      return;
    }
  }
  w.open = false;
  FetchRecord& f = fetches_[w.fetch];
  ++f.timeouts;
  --f.bitswap_messages;  // the answer counted with the want never came
  for (Session::Peer& p : sessions_[w.fetch].peers) p.silent |= p.peer == w.peer;
  trace_fetch(f, TraceKind::LookupHop, w.peer, kademlia::kTimeoutHop, static_cast<std::uint16_t>(f.arrivals.size()));
  want(w.fetch, w.cid);
}

std::optional<std::uint32_t> Node::open_want(PeerIndex self, PeerIndex peer, std::uint32_t cid) const {
  for (std::uint32_t i = 0; i < wants_.size(); ++i) {
    const Want& w = wants_[i];
    if (w.open && w.cid == cid && w.peer == peer && fetches_[w.fetch].from == self) return i;
  }
  return std::nullopt;
}

// ---- fetching -------------------------------------------------------------------------------------

std::uint32_t Node::fetch(PeerIndex peer, std::uint32_t root) {
  const auto index = static_cast<std::uint32_t>(fetches_.size());
  FetchRecord f;
  f.serial = index + 1;
  f.trace_serial = dht_.reserve_serial();
  f.from = peer;
  f.root = root;
  f.start = sim_.now();
  fetches_.push_back(f);
  sessions_.emplace_back();
  trace_fetch(fetches_[index], TraceKind::LookupStart, kNoPeer, kFetchPurpose, 0);
  // The local store first (kubo's blockstore): what is here is walked, not asked for.
  discover(index, root);
  if (fetches_[index].done) return index + 1;
  if (sessions_[index].pending.empty()) {
    fetches_[index].complete = true;
    end_fetch(index, "");
    return index + 1;
  }
  const Id key = kademlia::key_from_digest(kademlia_identifier(blocks_.cid(root)), dht_.params().m);
  const std::uint32_t lookup = dht_.find_providers(peer, key);
  sessions_[index].lookup = lookup;
  fetch_of_lookup_[lookup] = index;
  return index + 1;
}

void Node::on_providers(const kademlia::LookupRecord& record) {
  const auto it = fetch_of_lookup_.find(record.serial);
  if (it == fetch_of_lookup_.end()) return;
  const std::uint32_t index = it->second;
  fetch_of_lookup_.erase(it);
  FetchRecord& f = fetches_[index];
  if (f.done) return;
  Session& s = sessions_[index];
  f.lookup_rounds = static_cast<std::uint32_t>(record.rounds);
  f.lookup_messages = record.rpcs;
  for (const kademlia::PathStep& step : record.path) f.lookup_messages += step.answered ? 1 : 0;
  for (PeerIndex p : record.providers) {
    if (p == f.from) continue;
    f.providers.push_back(p);
    Session::Peer peer;
    peer.peer = p;
    s.peers.push_back(std::move(peer));
  }
  s.providers_known = true;
  if (s.peers.empty()) {
    end_fetch(index,
              "no provider found for the root: no record at the k closest to its key (none was announced, or "
              "every record expired without being announced again)");
    return;
  }
  // Bitswap 1.2 in a session: want-block to one provider, want-have to the others (who has it?).
  const std::uint32_t root = f.root;
  const std::vector<std::uint32_t> pending(s.pending.begin(), s.pending.end());
  for (std::uint32_t cid : pending) {
    if (!fetches_[index].done) want(index, cid);
  }
  if (fetches_[index].done) return;
  for (const Session::Peer& p : sessions_[index].peers) {
    if (open_want(f.from, p.peer, root)) continue;
    send_bitswap(f.from, p.peer, BitswapType::WantHave, root);
    FetchRecord& g = fetches_[index];
    g.bitswap_messages += 2;  // the want-have and its HAVE or DONT_HAVE
    if (std::find(g.contacted.begin(), g.contacted.end(), p.peer) == g.contacted.end()) g.contacted.push_back(p.peer);
  }
}

// Meets `cid` in the walk of the DAG: a block already here (or that has just `arrived`) is
// walked into (its links met in turn), one not here becomes pending and, once the providers are
// known, wanted.
void Node::discover(std::uint32_t fetch, std::uint32_t cid, bool arrived) {
  Session& s = sessions_[fetch];
  if (!s.seen.insert(cid).second) return;  // a DAG may link a block twice: one copy is enough
  const PeerIndex self = fetches_[fetch].from;
  if (!has(self, cid)) {
    s.pending.insert(cid);
    if (s.providers_known) want(fetch, cid);
    return;
  }
  if (!arrived) ++fetches_[fetch].blocks_local;
  std::vector<DagLink> links;
  try {
    links = describe_block(blocks_.cid(cid), blocks_.payload(stores_[self].at(cid))).links;
  } catch (const FormatError& e) {
    end_fetch(fetch, std::string("a block of the DAG is not UnixFS: ") + e.what());
    return;
  }
  for (const DagLink& link : links) {
    if (fetches_[fetch].done) return;
    discover(fetch, blocks_.intern(link.cid));
  }
}

// Asks for one block: WANT_BLOCK to the next provider of the session that may have it (round
// robin; those that said HAVE or nothing yet first), with a timeout.
void Node::want(std::uint32_t fetch, std::uint32_t cid) {
  Session& s = sessions_[fetch];
  const std::size_t n = s.peers.size();
  std::optional<std::size_t> pick;
  for (int pass = 0; pass < 2 && !pick; ++pass) {
    for (std::size_t j = 0; j < n; ++j) {
      const Session::Peer& p = s.peers[(s.next + j) % n];
      if (p.bad || p.silent || p.dont_have.count(cid)) continue;
      // First the peers that have the root or have not answered yet (a provider's record says it
      // has the DAG: asking several at once spreads the blocks over their uplinks), then those
      // that lacked some other block.
      if (pass == 0 && !p.has && p.answered) continue;
      pick = (s.next + j) % n;
      break;
    }
  }
  if (!pick) {
    std::size_t bad = 0, silent = 0;
    for (const Session::Peer& p : s.peers) {
      bad += p.bad ? 1 : 0;
      silent += p.silent ? 1 : 0;
    }
    std::string reason = "no provider left to ask for block " + blocks_.cid(cid).to_string() + " (of " +
                         std::to_string(n) + " found: " + std::to_string(bad) + " sent corrupted blocks, " +
                         std::to_string(silent) + " did not answer, " + std::to_string(n - bad - silent) +
                         " do not have it)";
    if (bad == n) reason = "every provider found sent corrupted blocks (rejected: they do not hash to their CIDs)";
    if (silent == n) reason = "every provider found is down: no answer within block_timeout_ms";
    end_fetch(fetch, reason);
    return;
  }
  s.next = *pick + 1;
  const PeerIndex peer = s.peers[*pick].peer;
  FetchRecord& f = fetches_[fetch];
  if (std::find(f.contacted.begin(), f.contacted.end(), peer) == f.contacted.end()) f.contacted.push_back(peer);
  f.bitswap_messages += 2;  // the want-block and its block or DONT_HAVE (a timeout: no answer)
  wants_.push_back({fetch, cid, peer, true, sim_.now() + bitswap_.block_timeout});
  send_bitswap(f.from, peer, BitswapType::WantBlock, cid);
  sim_.set_timer(f.from, bitswap_.block_timeout, kBlockTimeout, static_cast<std::uint32_t>(wants_.size() - 1));
}

// Bitswap's promise is the CID: the bytes are hashed here, and a block that does not hash to the
// CID it was sent for is rejected, whoever sent it.
void Node::on_block(PeerIndex self, PeerIndex from, std::uint32_t cid, std::uint32_t payload) {
  const auto w = open_want(self, from, cid);
  if (!w) return;  // not asked of this peer, or given up on (timed out): ignored
  Want& want_entry = wants_[*w];
  want_entry.open = false;
  const std::uint32_t index = want_entry.fetch;
  FetchRecord& f = fetches_[index];
  Session& s = sessions_[index];
  const bool verified = verify(blocks_.cid(cid).hash, blocks_.payload(payload));
  f.arrivals.push_back({cid, from, sim_.now(), verified});
  trace_fetch(f, TraceKind::LookupHop, from, verified ? kBlockHop : kCorruptHop,
              static_cast<std::uint16_t>(std::min<std::size_t>(f.arrivals.size(), 65535)));
  for (Session::Peer& p : s.peers) {
    if (p.peer != from) continue;
    (verified ? p.has : p.bad) = true;
    p.answered = true;
    p.last_block = sim_.now();
  }
  if (!verified) {
    ++f.corrupted;
    want(index, cid);
    return;
  }
  ++f.blocks;
  f.bytes += blocks_.payload(payload).size();
  store(self, cid, payload);
  s.pending.erase(cid);
  s.seen.erase(cid);  // met again, now here: walked into
  discover(index, cid, true);
  if (fetches_[index].done) return;
  const bool wants_open =
      std::any_of(wants_.begin(), wants_.end(), [&](const Want& x) { return x.open && x.fetch == index; });
  if (sessions_[index].pending.empty() && !wants_open) {
    fetches_[index].complete = true;
    end_fetch(index, "");
  }
}

void Node::on_dont_have(PeerIndex self, PeerIndex from, std::uint32_t cid) {
  for (std::uint32_t f = 0; f < fetches_.size(); ++f) {
    if (fetches_[f].from != self || fetches_[f].done) continue;
    for (Session::Peer& p : sessions_[f].peers) {
      if (p.peer != from) continue;
      p.dont_have.insert(cid);
      p.answered = true;
    }
  }
  const auto w = open_want(self, from, cid);
  if (!w) return;  // the answer to a want-have
  wants_[*w].open = false;
  ++fetches_[wants_[*w].fetch].dont_haves;
  want(wants_[*w].fetch, cid);
}

void Node::end_fetch(std::uint32_t index, std::string reason) {
  FetchRecord& f = fetches_[index];
  if (f.done) return;
  f.done = true;
  f.end = sim_.now();
  f.reason = std::move(reason);
  for (Want& w : wants_) {
    if (w.fetch == index) w.open = false;
  }
  trace_fetch(f, TraceKind::LookupDone, f.arrivals.empty() ? kNoPeer : f.arrivals.back().from, f.complete ? 1 : 0,
              static_cast<std::uint16_t>(std::min<std::size_t>(f.blocks, 65535)));
  if (on_fetch_done_) on_fetch_done_(f);
}

void Node::trace_fetch(const FetchRecord& f, TraceKind kind, PeerIndex other, std::uint8_t detail,
                       std::uint16_t index) {
  Trace& trace = sim_.trace();
  if (!trace.enabled()) return;
  TraceEvent e;
  e.time = sim_.now();
  e.kind = kind;
  e.detail = detail;
  e.index = index;
  // A block hop goes from the provider to the requester (the block flows towards it).
  e.peer = kind == TraceKind::LookupHop ? other : f.from;
  e.other = kind == TraceKind::LookupHop ? f.from : other;
  e.lookup = f.trace_serial;
  e.key = kademlia::key_from_digest(kademlia_identifier(blocks_.cid(f.root)), dht_.params().m);
  trace.record(e);
}

// ---- reading a file back --------------------------------------------------------------------------

namespace {

bool append_file(const Cid& cid, const std::function<const Bytes*(const Cid&)>& lookup, Bytes& out, std::string& why,
                 int depth) {
  const Bytes* block = lookup(cid);
  if (!block) {
    why = "block " + cid.to_string() + " is not at hand";
    return false;
  }
  if (depth > 64) {
    why = "the DAG is deeper than 64 levels";
    return false;
  }
  if (cid.codec == kRaw) {
    out += *block;
    return true;
  }
  try {
    const PbNode node = decode_pb_node(*block);
    const UnixfsData data = node.data ? decode_unixfs(*node.data) : UnixfsData{};
    if (!node.data || (data.type != UnixfsType::File && data.type != UnixfsType::Raw)) {
      why = "block " + cid.to_string() + " is not a UnixFS file node";
      return false;
    }
    if (data.data) out += *data.data;
    for (const PbLink& link : node.links) {
      if (!append_file(link.hash, lookup, out, why, depth + 1)) return false;
    }
  } catch (const FormatError& e) {
    why = e.what();
    return false;
  }
  return true;
}

}  // namespace

std::optional<Bytes> read_file(const Cid& root, const std::function<const Bytes*(const Cid&)>& lookup,
                               std::string& why) {
  Bytes out;
  if (!append_file(root, lookup, out, why, 0)) return std::nullopt;
  return out;
}

}  // namespace p2plab::ipfs
