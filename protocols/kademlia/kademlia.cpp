#include "kademlia.hpp"

#include <algorithm>
#include <set>

#include "p2plab/parallel.hpp"

namespace p2plab::kademlia {

const char* to_string(MsgType type) {
  switch (type) {
    case MsgType::Ping:
      return "PING";
    case MsgType::Pong:
      return "PING_REPLY";
    case MsgType::Store:
      return "STORE";
    case MsgType::StoreReply:
      return "STORE_REPLY";
    case MsgType::FindNode:
      return "FIND_NODE";
    case MsgType::FindNodeReply:
      return "FIND_NODE_REPLY";
    case MsgType::FindValue:
      return "FIND_VALUE";
    case MsgType::FindValueReply:
      return "FIND_VALUE_REPLY";
    case MsgType::AddProvider:
      return "ADD_PROVIDER";
    case MsgType::AddProviderReply:
      return "ADD_PROVIDER_REPLY";
    case MsgType::GetProviders:
      return "GET_PROVIDERS";
    case MsgType::GetProvidersReply:
      return "GET_PROVIDERS_REPLY";
    case MsgType::Count:
      break;
  }
  return "?";
}

const char* to_string(TimerKind kind) {
  switch (kind) {
    case TimerKind::RpcTimeout:
      return "rpc_timeout";
    case TimerKind::Refresh:
      return "refresh";
    case TimerKind::Republish:
      return "republish";
    case TimerKind::RepublishOriginal:
      return "republish_original";
    case TimerKind::RoundTimeout:
      return "round_timeout";
    case TimerKind::ProviderRepublish:
      return "provider_republish";
    case TimerKind::Count:
      break;
  }
  return "?";
}

const char* to_string(Purpose purpose) {
  switch (purpose) {
    case Purpose::User:
      return "lookup";
    case Purpose::Join:
      return "join";
    case Purpose::Refresh:
      return "refresh";
    case Purpose::Put:
      return "put";
    case Purpose::Get:
      return "get";
    case Purpose::Republish:
      return "republish";
    case Purpose::Provide:
      return "provide";
    case Purpose::FindProviders:
      return "find_providers";
  }
  return "?";
}

// ---- ranges of the sorted id list ------------------------------------------------------------

namespace {

using Sorted = std::vector<std::pair<Id, PeerIndex>>;

/// [first, last) in `sorted` of the ids that agree with x on every bit from j up (the subtree of
/// height j that holds x): x with its low j bits cleared, and 2^j ids from there.
std::pair<std::size_t, std::size_t> subtree_range(const Sorted& sorted, int bits, const Id& x, int j) {
  const auto at = [&](const Id& v) {
    return static_cast<std::size_t>(
        std::lower_bound(sorted.begin(), sorted.end(), v, [](const auto& e, const Id& y) { return e.first < y; }) -
        sorted.begin());
  };
  if (j >= bits) return {0, sorted.size()};
  const Id low = x - x.low_bits(j);
  const Id high = low + Id::power_of_two(j);
  return {at(low), high == Id() ? sorted.size() : at(high)};
}

}  // namespace

std::vector<PeerIndex> true_closest_live(const Sorted& live_sorted, int bits, const Id& key, std::size_t k,
                                         PeerIndex exclude, const Id& exclude_id) {
  // The smallest subtree around key holding k live nodes besides `exclude`: every node outside
  // it is farther from key than every node inside (they differ from key at a higher bit).
  const int exclude_bit = exclude == kNoPeer ? bits : bucket_index(key, exclude_id);  // -1: exclude is key
  auto members = [&](int j) {
    const auto [a, b] = subtree_range(live_sorted, bits, key, j);
    // exclude lies in the subtree of height j around key iff it differs from key below bit j.
    const std::size_t n = b - a;
    return n > 0 && exclude != kNoPeer && exclude_bit < j ? n - 1 : n;
  };
  int lo = 0, hi = bits;
  while (lo < hi) {
    const int mid = (lo + hi) / 2;
    if (members(mid) >= k) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  const auto [a, b] = subtree_range(live_sorted, bits, key, lo);
  std::vector<std::pair<Id, PeerIndex>> in;
  for (std::size_t i = a; i < b; ++i) {
    if (live_sorted[i].second != exclude)
      in.emplace_back(xor_distance(live_sorted[i].first, key), live_sorted[i].second);
  }
  const std::size_t take = std::min(k, in.size());
  std::partial_sort(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(take), in.end());
  std::vector<PeerIndex> out;
  for (std::size_t i = 0; i < take; ++i) out.push_back(in[i].second);
  return out;
}

// ---- nodes -------------------------------------------------------------------------------------

namespace {
RoutingTableConfig table_config(const Params& params) {
  RoutingTableConfig c;
  c.bits = params.m;
  c.k = static_cast<std::size_t>(params.k);
  c.replacements = static_cast<std::size_t>(params.replacements);
  c.stale_after = static_cast<std::uint32_t>(params.stale_after);
  c.ping_after = params.ping_after;
  return c;
}
}  // namespace

Protocol::Protocol(Params params, Transport<Message>& transport)
    : params_(params),
      transport_(transport),
      tables_(table_config(params_), transport),
      books_(dht::make_books<Book>(transport.partitions(), "kademlia")) {}

const LookupStats& Protocol::stats() const {
  return dht::fold_into_first(books_, [](const Book& b) -> LookupStats& { return b.stats; });
}

const KademliaStats& Protocol::kademlia_stats() const {
  return dht::fold_into_first(books_, [](const Book& b) -> KademliaStats& { return b.kstats; });
}

Protocol::Node& Protocol::node(PeerIndex n) {
  if (nodes_.size() <= n) {
    nodes_.resize(static_cast<std::size_t>(n) + 1);
    tables_.add_through(n);
  }
  return nodes_[n];
}

void Protocol::create(PeerIndex n) { node(n).joined = true; }

void Protocol::join(PeerIndex n, PeerIndex via) {
  Node& self = node(n);
  if (via == kNoPeer || via == n) {
    self.joined = true;
    return;
  }
  tables_.heard_from(n, via, transport_.now());
  start_lookup(n, transport_.id_of(n), Purpose::Join, kNoValue);
}

void Protocol::install_oracle_tables(const Sorted& live_sorted) {
  if (live_sorted.empty()) return;
  node(std::max_element(live_sorted.begin(), live_sorted.end(), [](const auto& a, const auto& b) {
         return a.second < b.second;
       })->second);  // every node's state exists before the threads start: none grows the arrays
  // In id order: neighbours' searches of the sorted list then read the same lines. (Each table
  // draws from its own node's random stream: neither the order nor the thread changes it.)
  run_on_threads(transport_.partitions(), [&](std::size_t t) {
    for (const auto& [id, p] : live_sorted) {
      if (transport_.partition_of(p) == t) install_oracle_table(p, live_sorted);
    }
  });
}

void Protocol::install_oracle_table(PeerIndex n, const Sorted& live_sorted) {
  Node& self = node(n);
  self.joined = true;
  const Id& x = transport_.id_of(n);
  Rng& rng = transport_.rng(n);
  const auto k = static_cast<std::size_t>(params_.k);
  // [lo, hi): n's subtree of height i + 1 in live_sorted (the ids that agree with x from bit i + 1
  // up), from the whole id space down. Its ids with bit i clear come first: the half without x is
  // bucket i's range, found by one binary search inside the last range, so that n's table costs
  // O(log^2 N) steps, mostly in memory the search before it touched.
  struct Range {
    std::size_t a, b;  // bucket i's ids: live_sorted[a, b)
  };
  // Scratch kept by each thread from table to table (10^6 tables of about 20 buckets each:
  // an allocation per bucket was 5 % of the build).
  thread_local std::vector<Range> ranges;  // bucket m-1 first
  thread_local std::vector<std::size_t> chosen;
  ranges.clear();
  std::size_t contacts = 0;
  std::size_t lo = 0, hi = live_sorted.size();
  for (int i = params_.m - 1; i >= 0; --i) {
    // Nobody but n in its subtree of height i + 1: every lower bucket is empty too.
    if (hi - lo <= 1) break;
    const auto first = live_sorted.begin() + static_cast<std::ptrdiff_t>(lo);
    const auto last = live_sorted.begin() + static_cast<std::ptrdiff_t>(hi);
    const auto split = static_cast<std::size_t>(
        std::partition_point(first, last, [&](const auto& e) { return !e.first.bit(i); }) - live_sorted.begin());
    const bool upper = x.bit(i);
    ranges.push_back(upper ? Range{lo, split} : Range{split, hi});
    contacts += std::min(k, ranges.back().b - ranges.back().a);
    (upper ? lo : hi) = split;
  }
  tables_.reserve(n, contacts);  // one allocation for the whole table
  const SimTime now = transport_.now();
  for (const auto& [a, b] : ranges) {
    const std::size_t count = b - a;
    chosen.clear();
    if (count <= k) {
      for (std::size_t j = a; j < b; ++j) chosen.push_back(j);
    } else {
      while (chosen.size() < k) {
        const std::size_t j = a + static_cast<std::size_t>(rng.below(count));
        if (std::find(chosen.begin(), chosen.end(), j) == chosen.end()) chosen.push_back(j);
      }
    }
    // The chosen entries are scattered over live_sorted: ask for all of them, then insert them
    // (in the order chosen: it is the buckets' least-recently-seen order).
    for (std::size_t j : chosen) __builtin_prefetch(&live_sorted[j]);
    for (std::size_t j : chosen) {
      tables_.heard_from(n, Contact{live_sorted[j].first, live_sorted[j].second}, now);
    }
  }
  tables_.shrink(n);  // in case the bucket functions kept fewer: no spare capacity in 10^6 tables
}

void Protocol::start_maintenance(PeerIndex n) {
  if (!params_.maintenance) return;
  Node& self = node(n);
  self.bucket_touched.assign(static_cast<std::size_t>(params_.m), transport_.now());
  // A random phase per node, so that a network built at once does not refresh in lockstep.
  Rng& rng = transport_.rng(n);
  auto phase = [&](SimTime period) {
    return period / 2 + static_cast<SimTime>(rng.below(static_cast<std::uint64_t>(period / 2) + 1));
  };
  if (params_.refresh > 0)
    transport_.set_timer(n, phase(params_.refresh), static_cast<std::uint16_t>(TimerKind::Refresh), 0);
  if (params_.republish > 0) {
    transport_.set_timer(n, phase(params_.republish), static_cast<std::uint16_t>(TimerKind::Republish), 0);
  }
  if (params_.republish_original > 0) {
    transport_.set_timer(n, params_.republish_original, static_cast<std::uint16_t>(TimerKind::RepublishOriginal), 0);
  }
}

// ---- RPCs --------------------------------------------------------------------------------------

// Paper 2.2: every message, request or reply, updates the receiver's bucket for the sender.
void Protocol::heard_from(PeerIndex self, PeerIndex from) {
  node(self);  // its state exists from its first message on
  const HeardResult r = tables_.heard_from(self, from, transport_.now());
  if (r.outcome == Heard::Added || r.outcome == Heard::ReplacedStale) offer_items(self, from);
  if (r.ping_oldest) {
    Message ping;
    ping.type = MsgType::Ping;
    send_rpc(self, static_cast<PeerIndex>(r.ping_oldest->address), ping, RpcPurpose::PingOldest, 0);
  }
}

std::uint32_t Protocol::send_rpc(PeerIndex from, PeerIndex to, Message msg, RpcPurpose purpose, std::uint32_t lookup) {
  Book& book = book_of(from);
  const std::uint32_t slot = book.rpcs.open(book.partition);
  Rpc& rpc = book.rpcs.at(slot);
  rpc.from = from;
  rpc.to = to;
  ++rpc.tag;
  rpc.lookup = lookup;
  rpc.serial = purpose == RpcPurpose::Lookup ? lookup_at(lookup).serial : 0;
  rpc.purpose = purpose;
  rpc.open = true;
  msg.rpc = slot;
  msg.tag = rpc.tag;
  transport_.send(from, to, msg);
  // The slot is freed when this timer fires (answered or not), so no late timer hits a new RPC.
  transport_.set_timer(from, params_.rpc_timeout, static_cast<std::uint16_t>(TimerKind::RpcTimeout), slot);
  return slot;
}

void Protocol::answer(PeerIndex self, PeerIndex to, const Message& request, Message reply) {
  reply.rpc = request.rpc;
  reply.tag = request.tag;
  transport_.send(self, to, reply);
}

void Protocol::fill_closest(PeerIndex self, const Id& key, PeerIndex requester, Message& reply) const {
  const auto k = static_cast<std::size_t>(params_.k);
  for (const PeerIndex p : tables_.closest_peers(self, key, k + 1)) {
    if (reply.count == k) break;
    if (p == requester) continue;  // it knows itself
    reply.nodes[reply.count++] = p;
  }
}

void Protocol::on_message(PeerIndex self, PeerIndex from, const Message& msg) {
  heard_from(self, from);
  Message reply;
  reply.key = msg.key;
  switch (msg.type) {
    case MsgType::Ping:
      reply.type = MsgType::Pong;
      answer(self, from, msg, reply);
      return;
    case MsgType::Store:
      keep_item(self, msg.key, msg.value, msg.ttl, msg.cached != 0);
      reply.type = MsgType::StoreReply;
      answer(self, from, msg, reply);
      return;
    case MsgType::FindNode:
      reply.type = MsgType::FindNodeReply;
      fill_closest(self, msg.key, from, reply);
      answer(self, from, msg, reply);
      return;
    case MsgType::FindValue: {
      reply.type = MsgType::FindValueReply;
      const std::uint32_t value = stored_value(self, msg.key);
      if (value != kNoValue) {
        reply.found = 1;
        reply.value = value;
      } else {
        fill_closest(self, msg.key, from, reply);
      }
      answer(self, from, msg, reply);
      return;
    }
    case MsgType::AddProvider:
      // kad-dht: the record names the sender, never a third peer.
      add_provider_record(self, msg.key, from);
      reply.type = MsgType::AddProviderReply;
      answer(self, from, msg, reply);
      return;
    case MsgType::GetProviders: {
      reply.type = MsgType::GetProvidersReply;
      for (PeerIndex p : providers_at(self, msg.key)) {
        if (reply.provider_count == kMaxProviders) break;
        reply.providers[reply.provider_count++] = p;
      }
      fill_closest(self, msg.key, from, reply);
      answer(self, from, msg, reply);
      return;
    }
    case MsgType::Pong:
    case MsgType::StoreReply:
    case MsgType::FindNodeReply:
    case MsgType::FindValueReply:
    case MsgType::AddProviderReply:
    case MsgType::GetProvidersReply: {
      Book& book = book_of(self);
      Rpc* const found = book.rpcs.find(book.partition, msg.rpc);
      if (found == nullptr) return;
      Rpc& rpc = *found;
      if (!rpc.open || rpc.tag != msg.tag || rpc.from != self || rpc.to != from) return;  // late or forged
      rpc.open = false;
      if (rpc.purpose == RpcPurpose::PingOldest) {
        tables_.ping_answered(self, from, transport_.now());
      } else if (rpc.purpose == RpcPurpose::Lookup) {
        on_lookup_reply(rpc, from, msg);
      }
      return;
    }
    case MsgType::Count:
      return;
  }
}

void Protocol::on_timer(PeerIndex self, std::uint16_t kind, std::uint32_t cookie) {
  switch (static_cast<TimerKind>(kind)) {
    case TimerKind::RpcTimeout: {
      auto& pool = book_of(self).rpcs;
      Rpc& rpc = pool.at(cookie);
      if (rpc.open) {
        rpc.open = false;
        if (rpc.purpose == RpcPurpose::PingOldest) {
          tables_.ping_failed(self, rpc.to);  // evicted; the newest replacement takes its place
        } else {
          tables_.rpc_failed(self, rpc.to);
          if (rpc.purpose == RpcPurpose::Lookup) on_lookup_timeout(rpc);
        }
      }
      pool.close(cookie);
      return;
    }
    case TimerKind::Refresh:
      refresh_buckets(self, false);
      transport_.set_timer(self, params_.refresh, kind, 0);
      return;
    case TimerKind::Republish: {
      // Paper 2.5: every stored pair is republished hourly, unless a STORE for it arrived within
      // the hour (then the other k - 1 holders got one too); cached copies only expire.
      Node& me = node(self);
      const SimTime now = transport_.now();
      std::erase_if(me.items, [&](const Item& item) { return item.expires <= now; });
      std::vector<Item> due;
      for (Item& item : me.items) {
        if (item.cached || now - item.stored < params_.republish) continue;
        item.stored = now;
        due.push_back(item);
      }
      for (const Item& item : due) {
        start_lookup(self, item.key, Purpose::Republish, item.value, item.expires - now);
      }
      transport_.set_timer(self, params_.republish, kind, 0);
      return;
    }
    case TimerKind::RepublishOriginal: {
      const auto published = node(self).published;
      for (const auto& [key, value] : published) start_lookup(self, key, Purpose::Republish, value, params_.expire);
      transport_.set_timer(self, params_.republish_original, kind, 0);
      return;
    }
    case TimerKind::ProviderRepublish: {
      // kad-dht: the provider announces each key again before its records expire (22 h < 48 h).
      const std::vector<Id> provided = node(self).provided;
      for (const Id& key : provided) start_lookup(self, key, Purpose::Provide, kNoValue);
      transport_.set_timer(self, params_.provider_republish, kind, 0);
      return;
    }
    case TimerKind::RoundTimeout: {
      Book& book = book_of(self);
      Lookup* const found = book.lookups.find(book.partition, cookie);
      if (found == nullptr) return;
      Lookup& l = *found;
      // Only the timer of the lookup's current round (a slot is reused by later lookups).
      if (l.serial == 0 || l.origin != self || l.round_deadline != transport_.now() || l.traversal->round_over())
        return;
      l.round_deadline = -1;
      l.traversal->mark_slow();
      next_round(cookie);
      return;
    }
    case TimerKind::Count:
      return;
  }
}

// ---- storage -----------------------------------------------------------------------------------

std::uint32_t Protocol::stored_value(PeerIndex n, const Id& key) const {
  if (n >= nodes_.size()) return kNoValue;
  const SimTime now = transport_.now();
  for (const Item& item : nodes_[n].items) {
    if (item.key == key && item.expires > now) return item.value;
  }
  return kNoValue;
}

void Protocol::keep_item(PeerIndex n, const Id& key, std::uint32_t value, SimTime ttl, bool cached) {
  Node& me = node(n);
  const SimTime now = transport_.now();
  for (Item& item : me.items) {
    if (item.key != key) continue;
    item.value = value;
    item.expires = std::max(item.expires, now + ttl);
    item.stored = now;
    item.cached = item.cached && cached;  // a replica stays a replica
    return;
  }
  me.items.push_back({key, value, now + ttl, now, cached});
}

void Protocol::store_at(PeerIndex from, PeerIndex to, const Id& key, std::uint32_t value, SimTime ttl, bool cached) {
  if (to == from) {
    keep_item(from, key, value, ttl, cached);
    return;
  }
  Message msg;
  msg.type = MsgType::Store;
  msg.key = key;
  msg.value = value;
  msg.ttl = ttl;
  msg.cached = cached ? 1 : 0;
  send_rpc(from, to, msg, RpcPurpose::Store, 0);
}

std::vector<PeerIndex> Protocol::providers_at(PeerIndex n, const Id& key) const {
  std::vector<PeerIndex> out;
  if (n >= nodes_.size()) return out;
  const SimTime now = transport_.now();
  for (const ProviderRecord& r : nodes_[n].provider_records) {
    if (r.key == key && r.expires > now) out.push_back(r.provider);
  }
  return out;
}

void Protocol::add_provider_record(PeerIndex n, const Id& key, PeerIndex provider) {
  std::vector<ProviderRecord>& records = node(n).provider_records;
  const SimTime now = transport_.now();
  std::erase_if(records, [&](const ProviderRecord& r) { return r.expires <= now; });
  const SimTime expires = now + params_.provider_expire;
  for (ProviderRecord& r : records) {
    if (r.key == key && r.provider == provider) {
      r.expires = expires;  // announced again: valid for another provider_expire
      return;
    }
  }
  records.push_back({key, provider, expires});
}

// Paper 2.5: a node that learns of a new node closer to some of its keys than the k-th closest
// it knows stores those pairs at the newcomer.
void Protocol::offer_items(PeerIndex n, PeerIndex newcomer) {
  Node& me = node(n);
  if (me.items.empty()) return;
  const SimTime now = transport_.now();
  const Id& id = transport_.id_of(newcomer);
  const auto k = static_cast<std::size_t>(params_.k);
  std::vector<Item> offer;
  for (const Item& item : me.items) {
    if (item.cached || item.expires <= now) continue;
    const std::vector<Contact> closest = tables_.closest(n, item.key, k + 1);
    // Among the k closest (the newcomer is in the table now) it is one to hold the pair.
    bool among = false;
    for (std::size_t i = 0; i < closest.size() && i < k; ++i) among |= closest[i].id == id;
    if (among) offer.push_back(item);
  }
  for (const Item& item : offer) store_at(n, newcomer, item.key, item.value, item.expires - now, false);
}

// ---- lookups -----------------------------------------------------------------------------------

std::uint32_t Protocol::lookup(PeerIndex n, const Id& key, Purpose purpose) {
  return start_lookup(n, key, purpose, kNoValue);
}

std::uint32_t Protocol::put(PeerIndex n, const Id& key, std::uint32_t value) {
  Node& me = node(n);
  const auto it = std::find_if(me.published.begin(), me.published.end(), [&](const auto& p) { return p.first == key; });
  if (it == me.published.end()) {
    me.published.emplace_back(key, value);
  } else {
    it->second = value;
  }
  return start_lookup(n, key, Purpose::Put, value);
}

std::uint32_t Protocol::get(PeerIndex n, const Id& key) {
  // The requester's own copy answers at once (round 0).
  return start_lookup(n, key, Purpose::Get, kNoValue);
}

std::uint32_t Protocol::provide(PeerIndex n, const Id& key) {
  Node& me = node(n);
  if (std::find(me.provided.begin(), me.provided.end(), key) == me.provided.end()) {
    if (me.provided.empty() && params_.maintenance && params_.provider_republish > 0) {
      transport_.set_timer(n, params_.provider_republish, static_cast<std::uint16_t>(TimerKind::ProviderRepublish), 0);
    }
    me.provided.push_back(key);
  }
  return start_lookup(n, key, Purpose::Provide, kNoValue);
}

std::uint32_t Protocol::find_providers(PeerIndex n, const Id& key) {
  return start_lookup(n, key, Purpose::FindProviders, kNoValue);
}

void Protocol::note_providers(Lookup& l, const std::vector<PeerIndex>& found) {
  for (PeerIndex p : found) {
    if (std::find(l.providers.begin(), l.providers.end(), p) == l.providers.end()) l.providers.push_back(p);
  }
}

void Protocol::touch_bucket(PeerIndex n, const Id& key) {
  Node& me = node(n);
  const int i = bucket_index(transport_.id_of(n), key);
  if (i >= 0 && static_cast<std::size_t>(i) < me.bucket_touched.size()) {
    me.bucket_touched[static_cast<std::size_t>(i)] = transport_.now();
  }
}

Id Protocol::random_id_in_bucket(PeerIndex n, int i) {
  Rng& rng = transport_.rng(n);
  Id r;
  for (auto& limb : r.limb) limb = rng.next_u64();
  return xor_distance(xor_distance(transport_.id_of(n), Id::power_of_two(i)), r.low_bits(i));
}

void Protocol::refresh_buckets(PeerIndex n, bool all_above_closest) {
  Node& me = node(n);
  const int lowest = tables_.lowest_nonempty(n);
  const SimTime now = transport_.now();
  // After a join: every bucket farther than the closest neighbour (paper 2.3). Periodically:
  // those without a lookup for `refresh` (the lowest non-empty one too).
  for (int i = all_above_closest ? lowest + 1 : lowest; i < params_.m; ++i) {
    if (!all_above_closest) {
      if (static_cast<std::size_t>(i) >= me.bucket_touched.size()) break;
      if (now - me.bucket_touched[static_cast<std::size_t>(i)] < params_.refresh) continue;
    }
    start_lookup(n, random_id_in_bucket(n, i), Purpose::Refresh, kNoValue);
  }
}

std::uint32_t Protocol::start_lookup(PeerIndex n, const Id& key, Purpose purpose, std::uint32_t value, SimTime ttl) {
  if (books_.size() > 1 && purpose != Purpose::User) {
    // Stores, provider records, joins and refreshes change state other peers share.
    throw std::logic_error("kademlia: only lookups run on a transport of several partitions");
  }
  Book& book = book_of(n);
  const std::uint32_t index = book.lookups.open(book.partition);
  node(n);  // its state exists from its first lookup on
  Lookup& l = book.lookups.at(index);
  l.serial = book.next_serial();
  l.purpose = purpose;
  l.origin = n;
  l.value = value;
  l.ttl = ttl > 0 ? ttl : params_.expire;
  l.start = transport_.now();
  l.value_found = kNoValue;
  l.found_at = kNoPeer;
  l.providers.clear();
  l.round_deadline = -1;
  l.traversal.emplace(key, transport_.id_of(n), static_cast<std::size_t>(params_.k),
                      static_cast<std::size_t>(params_.alpha));
  l.traversal->add_initial(tables_.closest(n, key, static_cast<std::size_t>(params_.k)));
  touch_bucket(n, key);
  if (purpose == Purpose::User) book.stats.started();
  const std::uint32_t serial = l.serial;
  Trace& trace = transport_.trace();
  if (trace.enabled()) {
    TraceEvent e;
    e.time = transport_.now();
    e.kind = TraceKind::LookupStart;
    e.detail = static_cast<std::uint8_t>(purpose);
    e.peer = n;
    e.lookup = serial;
    e.key = key;
    trace.record(e);
  }
  if (purpose == Purpose::Get) {
    if (const std::uint32_t own = stored_value(n, key); own != kNoValue) {
      l.value_found = own;
      l.found_at = n;
      l.traversal->on_value(transport_.id_of(n));
      finish(index);
      return serial;
    }
  }
  // kad-dht: the requester's own provider store answers first.
  if (purpose == Purpose::FindProviders) note_providers(l, providers_at(n, key));
  next_round(index);
  return serial;
}

void Protocol::trace_hop(const Lookup& l, PeerIndex from, PeerIndex to, int round, std::uint8_t kind) {
  Trace& trace = transport_.trace();
  if (!trace.enabled()) return;
  TraceEvent e;
  e.time = transport_.now();
  e.kind = TraceKind::LookupHop;
  e.detail = kind;
  e.index = static_cast<std::uint16_t>(std::min(round, 65535));
  e.peer = from;
  e.other = to;
  e.lookup = l.serial;
  e.key = l.traversal->target();
  trace.record(e);
}

void Protocol::next_round(std::uint32_t index) {
  Lookup& l = lookup_at(index);
  const std::vector<Candidate> ask = l.traversal->next_round();
  if (l.traversal->done()) {
    finish(index);
    return;
  }
  if (ask.empty()) return;  // only slow queries left among the k closest: wait for them
  if (params_.round_timeout > 0) {
    l.round_deadline = transport_.now() + params_.round_timeout;
    transport_.set_timer(l.origin, params_.round_timeout, static_cast<std::uint16_t>(TimerKind::RoundTimeout), index);
  }
  const int round = l.traversal->rounds();
  const PeerIndex origin = l.origin;
  Message msg;
  msg.type = l.purpose == Purpose::Get             ? MsgType::FindValue
             : l.purpose == Purpose::FindProviders ? MsgType::GetProviders
                                                   : MsgType::FindNode;
  msg.key = l.traversal->target();
  for (const Candidate& c : ask) {
    const auto to = static_cast<PeerIndex>(c.contact.address);
    const PeerIndex by = c.suggested_by == kSuggestedBySelf ? origin : static_cast<PeerIndex>(c.suggested_by);
    trace_hop(lookup_at(index), by, to, round, kQueryHop);
    send_rpc(origin, to, msg, RpcPurpose::Lookup, index);
  }
}

void Protocol::on_lookup_reply(const Rpc& rpc, PeerIndex from, const Message& msg) {
  const std::uint32_t index = rpc.lookup;
  Lookup& l = lookup_at(index);
  if (l.serial != rpc.serial || l.serial == 0 || l.traversal->done()) return;  // that lookup is over
  if (msg.type == MsgType::FindValueReply && msg.found) {
    l.value_found = msg.value;
    l.found_at = from;
    l.traversal->on_value(transport_.id_of(from));
    finish(index);
    return;
  }
  if (msg.type == MsgType::GetProvidersReply) {
    const auto n = std::min<std::size_t>(msg.provider_count, kMaxProviders);
    note_providers(
        l, std::vector<PeerIndex>(msg.providers.begin(), msg.providers.begin() + static_cast<std::ptrdiff_t>(n)));
  }
  std::vector<Contact> suggested;
  const std::size_t count = std::min<std::size_t>(msg.count, kMaxK);
  suggested.reserve(count);
  for (std::size_t i = 0; i < count; ++i) __builtin_prefetch(&transport_.id_of(msg.nodes[i]));  // scattered ids
  for (std::size_t i = 0; i < count; ++i) suggested.push_back(contact_of(msg.nodes[i]));
  l.traversal->on_answer(transport_.id_of(from), suggested);
  if (l.traversal->round_over()) next_round(index);
}

void Protocol::on_lookup_timeout(const Rpc& rpc) {
  const std::uint32_t index = rpc.lookup;
  Lookup& l = lookup_at(index);
  if (l.serial != rpc.serial || l.serial == 0 || l.traversal->done()) return;
  l.traversal->on_failure(transport_.id_of(rpc.to));
  trace_hop(l, l.origin, rpc.to, l.traversal->rounds(), kTimeoutHop);
  if (l.traversal->round_over()) next_round(index);
}

void Protocol::finish(std::uint32_t index) {
  Lookup& l = lookup_at(index);
  Book& book = book_of(l.origin);
  const Traversal& t = *l.traversal;
  const PeerIndex origin = l.origin;
  const Purpose purpose = l.purpose;
  const Id target = t.target();
  const SimTime now = transport_.now();
  std::vector<PeerIndex> closest;
  for (const Contact& c : t.closest_answered()) closest.push_back(static_cast<PeerIndex>(c.address));
  const bool found = l.value_found != kNoValue;
  const std::uint32_t value = purpose == Purpose::Get ? l.value_found : l.value;
  const SimTime ttl = l.ttl;
  ProvidersCheck providers_check;
  if (purpose == Purpose::FindProviders && providers_oracle_)
    providers_check = providers_oracle_(origin, target, l.providers);
  const bool ok = purpose == Purpose::Get             ? found
                  : purpose == Purpose::FindProviders ? providers_check.ok
                                                      : (oracle_ && oracle_(origin, target, closest));
  if (purpose == Purpose::User) {
    book.stats.finished(static_cast<std::uint32_t>(t.rounds()), now - l.start, ok);
    ++book.kstats.lookups;
    book.kstats.rpcs += t.queries();
    book.kstats.rounds_to_closest += static_cast<std::uint64_t>(t.round_closest_asked());
  }
  // Paper 2.3: a get caches the pair at the closest node that answered without it, for less
  // time the more nodes lie between that node and the key.
  PeerIndex cached_at = kNoPeer;
  SimTime cache_ttl = 0;
  if (purpose == Purpose::Get && found && params_.cache && l.found_at != origin) {
    if (const Candidate* c = t.closest_without_value()) {
      cached_at = static_cast<PeerIndex>(c->contact.address);
      cache_ttl = std::max<SimTime>(params_.expire >> std::min<std::size_t>(t.closer_than(*c), 30), 1);
    }
  }
  std::optional<std::size_t> recorded;
  if (keep_records_ && purpose != Purpose::Join && purpose != Purpose::Refresh && purpose != Purpose::Republish) {
    LookupRecord r;
    r.serial = l.serial;
    r.purpose = purpose;
    r.from = origin;
    r.key = target;
    r.closest = closest;
    r.rounds = t.rounds();
    r.round_closest_asked = t.round_closest_asked();
    r.rpcs = t.queries();
    for (const Candidate* c : t.asked_in_order()) {
      PathStep step;
      step.round = c->round;
      step.asked = static_cast<PeerIndex>(c->contact.address);
      step.suggested_by = c->suggested_by == kSuggestedBySelf ? origin : static_cast<PeerIndex>(c->suggested_by);
      step.answered = c->state == Candidate::State::Answered;
      r.path.push_back(step);
    }
    r.start = l.start;
    r.end = now;
    r.ok = ok;
    r.value = value;
    r.found = found;
    r.found_at = l.found_at;
    r.cached_at = cached_at;
    r.providers = l.providers;
    r.providers_down = std::move(providers_check.down);
    records_.push_back(std::move(r));
    recorded = records_.size() - 1;
  }
  Trace& trace = transport_.trace();
  if (trace.enabled()) {
    TraceEvent e;
    e.time = now;
    e.kind = TraceKind::LookupDone;
    e.detail = ok ? 1 : 0;
    e.index = static_cast<std::uint16_t>(std::min(t.rounds(), 65535));
    e.peer = origin;
    e.other = found ? l.found_at : (closest.empty() ? kNoPeer : closest.front());
    e.lookup = l.serial;
    e.key = target;
    trace.record(e);
  }
  // The slot is free from here: what follows may start lookups (and move the book's slots).
  l.serial = 0;
  l.traversal.reset();
  book.lookups.close(index);

  switch (purpose) {
    case Purpose::Join:
      node(origin).joined = true;
      refresh_buckets(origin, true);
      break;
    case Purpose::Put:
    case Purpose::Republish:
    case Purpose::Provide: {
      // STORE (ADD_PROVIDER) at the k closest found; the requester keeps a copy (its own record)
      // too if it is one of them. A republished pair keeps its expiry: only the original
      // publisher renews it (paper 2.5).
      std::vector<PeerIndex> targets = closest;
      const Id own = xor_distance(transport_.id_of(origin), target);
      const bool among = targets.size() < static_cast<std::size_t>(params_.k) ||
                         own < xor_distance(transport_.id_of(targets.back()), target);
      if (among && targets.size() == static_cast<std::size_t>(params_.k)) targets.pop_back();  // it is one of the k
      if (purpose == Purpose::Provide) {
        if (among) add_provider_record(origin, target, origin);
        Message msg;
        msg.type = MsgType::AddProvider;
        msg.key = target;
        for (PeerIndex p : targets) send_rpc(origin, p, msg, RpcPurpose::Store, 0);
        break;
      }
      if (among) keep_item(origin, target, value, ttl, false);
      for (PeerIndex p : targets) store_at(origin, p, target, value, ttl, false);
      break;
    }
    case Purpose::Get:
      if (cached_at != kNoPeer) store_at(origin, cached_at, target, value, cache_ttl, true);
      break;
    case Purpose::User:
    case Purpose::Refresh:
    case Purpose::FindProviders:
      break;
  }
  if (on_record_ && recorded) {
    const LookupRecord record = records_[*recorded];  // a copy: the callback may add records
    on_record_(record);
  }
}

std::size_t Protocol::unfinished_lookups() const {
  std::size_t n = 0;
  for (const Book& book : books_) {
    const auto& all = book.lookups.all();
    n += static_cast<std::size_t>(std::count_if(
        all.begin(), all.end(), [](const Lookup& l) { return l.serial != 0 && l.purpose == Purpose::User; }));
  }
  return n;
}

PeerSnapshot Protocol::snapshot(PeerIndex n) const {
  PeerSnapshot s;
  s.peer = n;
  s.id = transport_.id_of(n);
  if (n >= nodes_.size()) return s;
  const Node& me = nodes_[n];
  s.joined = me.joined;
  for (int i = 0; i < params_.m; ++i) {
    const Bucket b = tables_.bucket(n, i);
    if (b.entries.empty() && b.replacements.empty()) continue;
    PeerSnapshot::BucketSnapshot bs;
    bs.index = i;
    for (const BucketEntry& e : b.entries) {
      bs.contacts.push_back(static_cast<PeerIndex>(e.contact.address));
      bs.failures.push_back(e.failures);
      bs.stale.push_back(e.stale);
    }
    for (const Contact& c : b.replacements) bs.replacements.push_back(static_cast<PeerIndex>(c.address));
    s.buckets.push_back(std::move(bs));
  }
  const SimTime now = transport_.now();
  for (const Item& item : me.items) {
    if (item.expires > now) s.items.push_back(item);
  }
  for (const ProviderRecord& r : me.provider_records) {
    if (r.expires > now) s.provider_records.push_back(r);
  }
  return s;
}

ProvidersCheck check_providers(const Protocol& protocol, const SimulatorCore& sim, const Id& key,
                               const std::vector<PeerIndex>& found) {
  const Params& p = protocol.params();
  std::set<PeerIndex> expected, live_found;
  for (PeerIndex holder : true_closest_live(sim.live_by_id(), p.m, key, static_cast<std::size_t>(p.k), kNoPeer, Id())) {
    for (PeerIndex provider : protocol.providers_at(holder, key)) {
      if (sim.is_up(provider)) expected.insert(provider);
    }
  }
  ProvidersCheck check;
  for (PeerIndex provider : found) {
    if (sim.is_up(provider)) {
      live_found.insert(provider);
    } else {
      check.down.push_back(provider);
    }
  }
  check.ok = live_found == expected;
  return check;
}

}  // namespace p2plab::kademlia
