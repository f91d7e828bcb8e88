// One real Chord peer: see chord_node.hpp. The shell runs the loop; this file maps Chord's
// messages to the wire, keeps the periodic timers single after a re-join, joins again when the
// peer falls out of the ring, and answers put, get and lookup.
#include "chord_node.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <unordered_map>

#include "chord_run.hpp"
#include "p2plab/net/node_shell.hpp"
#include "wire.hpp"

namespace p2plab::chord {

namespace {

using nlohmann::json;

bool periodic(std::uint16_t kind) {
  return kind == static_cast<std::uint16_t>(TimerKind::Stabilize) ||
         kind == static_cast<std::uint16_t>(TimerKind::FixFingers) ||
         kind == static_cast<std::uint16_t>(TimerKind::CheckPredecessor);
}

class Node final : public net::TransportApp<Message> {
 public:
  Node(net::Shell& shell, const Params& params, std::size_t max_running, double transfer_rate,
       std::size_t transfer_queue)
      : TransportApp(shell),
        params_(params),
        space_(params.m),
        protocol_(params, transport_),
        max_running_(max_running) {
    // Keys moving between peers (copies, hand-overs, answers to FETCH_RANGE) leave paced; the
    // ring's maintenance and the lookups never wait behind them.
    fresh_copies_per_s_ = 4 * transfer_rate;
    fresh_tokens_ = fresh_copies_per_s_;
    transport_.set_pacing(
        [this](const Message& m) {
          // A range moving (copies to a new successor, hand-overs); the copies of a key just put
          // (flag 1) leave at once, so that a put acknowledged is a put copied -- up to 4x the
          // transfer rate: beyond it (a flood of PUTs) they wait in the paced queue too.
          if (m.type == MsgType::HandOver) return true;
          return m.type == MsgType::Replicate && (m.flag == 0 || !take_fresh_copy_token());
        },
        transfer_rate, transfer_queue,
        [](const Message& m) {
          const Id& k = m.key;
          return (k.limb[0] ^ (k.limb[1] * 0x9E3779B97F4A7C15ULL) ^ (k.limb[2] * 0xC2B2AE3D27D4EB4FULL)) +
                 static_cast<std::uint64_t>(m.type);
        },
        // Hand-overs answer a request (NOTIFY, FETCH_RANGE): few to an address never verified.
        [](const Message& m) { return m.type == MsgType::HandOver; });
    protocol_.on_join_failed([this](PeerIndex) {
      rejoin_wanted_ = true;
      ++join_failures_;
      if (rejoin_via_ != kNoPeer) failed_via_.insert(rejoin_via_);  // not through that one again
      rejoin_via_ = kNoPeer;
    });
    protocol_.reserve(1);
  }

  // ---- MessageHandler: everything the protocol gets goes through here ----
  void on_message(PeerIndex self, PeerIndex from, const Message& msg) override {
    protocol_.on_message(self, from, msg);
  }
  void on_timer(PeerIndex self, std::uint16_t kind, std::uint32_t cookie) override {
    // A peer that joins again restarts its periodic timers: the older chain of the same kind
    // ends here, so there is always exactly one.
    if (periodic(kind) && transport_.pending_of(kind) > 0) return;
    protocol_.on_timer(self, kind, cookie);
  }

  // ---- the wire ----
  bool encode(PeerIndex, const Message& m, std::vector<std::uint8_t>& out) override {
    wire::Datagram d;
    d.bits = params_.m;
    d.sender = shell_.self_id();
    d.type = m.type;
    d.flag = m.flag;
    d.hops = m.hops;
    d.lookup = m.lookup;
    d.tag = m.tag;
    if (m.origin != kNoPeer) d.origin = shell_.wire_contact(m.origin);
    if (m.node != kNoPeer) d.node = shell_.wire_contact(m.node);
    for (int j = 0; j < m.count && j < kMaxSuccessors; ++j) {
      if (m.list[j] != kNoPeer) d.list.push_back(shell_.wire_contact(m.list[j]));
    }
    if (wire::uses_key(m.type) || m.key != Id()) d.key = m.key;
    if (m.value != kNoValue) {
      if (m.value >= value_count_) return false;
      d.value = protocol_.value(m.value);
    }
    return wire::encode(d, out);
  }
  const char* name_of(const Message& m) const override { return to_string(m.type); }
  bool read(net::wire::Reader& r) override { return wire::read(r, params_.m, datagram_); }
  bool map(PeerIndex, const net::Endpoint& from, net::wire::Drop&) override {
    const wire::Datagram& d = datagram_;
    pending_ = Message{};
    pending_.type = d.type;
    pending_.flag = d.flag;
    pending_.hops = d.hops;
    pending_.lookup = d.lookup;
    pending_.tag = d.tag;
    if (d.origin && (pending_.origin = shell_.learn(*d.origin, from)) == kNoPeer) return false;
    if (d.node && (pending_.node = shell_.learn(*d.node, from)) == kNoPeer) return false;
    for (const auto& c : d.list) {
      const PeerIndex p = shell_.learn(c, from);
      if (p == kNoPeer) return false;
      pending_.list[pending_.count++] = p;
    }
    if (d.key) pending_.key = *d.key;
    if (d.value) pending_.value = intern(*d.value);
    protocol_.reserve(shell_.contacts().size());
    return true;
  }
  const char* pending_name() const override { return to_string(pending_.type); }
  void deliver(PeerIndex sender) override {
    // NOTIFY makes the sender this peer's predecessor, which then gets a key range: only from a
    // peer that answered a PING at its address, echoing the PING's random tag (a forger that
    // only invents source addresses never sees the tag); its next NOTIFY counts.
    if (pending_.type == MsgType::Pong) {
      const auto nonce = notify_nonce_.find(sender);
      if (nonce != notify_nonce_.end() && nonce->second == pending_.tag) {
        notify_nonce_.erase(nonce);
        proven_at_[sender] = shell_.contacts().at(sender).address;
      }
    }
    if (pending_.type == MsgType::Notify && !proven(sender)) {
      if (notify_nonce_.size() >= kMaxNotifyNonces) notify_nonce_.clear();  // a flood of NOTIFYs
      Message ping;
      ping.type = MsgType::Ping;
      ping.tag = static_cast<std::uint32_t>(nonce_rng_());
      notify_nonce_[sender] = ping.tag;
      transport_.send(self(), sender, ping);
      ++notify_unverified_;
      return;
    }
    protocol_.on_message(self(), sender, pending_);
  }
  /// Token bucket of the copies of keys just put (a second's worth at most).
  bool take_fresh_copy_token() {
    const SimTime now = transport_.now();
    fresh_tokens_ = std::min(fresh_copies_per_s_,
                             fresh_tokens_ + static_cast<double>(now - fresh_refilled_) * 1e-6 * fresh_copies_per_s_);
    fresh_refilled_ = now;
    if (fresh_tokens_ < 1) return false;
    fresh_tokens_ -= 1;
    return true;
  }
  /// The sender answered a NOTIFY's PING with its tag, from the address it has now.
  bool proven(PeerIndex peer) const {
    const auto at = proven_at_.find(peer);
    return shell_.contacts().verified(peer) && at != proven_at_.end() &&
           at->second == shell_.contacts().at(peer).address;
  }
  void forget_peer(PeerIndex peer) override {
    notify_nonce_.erase(peer);
    proven_at_.erase(peer);
  }

  // ---- the contact table: peers the routing state and running lookups name stay ----
  bool contacts_replaceable() const override { return true; }
  void mark_in_use(std::vector<std::uint8_t>& mark) const override {
    protocol_.mark_peers_in_use(self(), mark);
    transport_.for_each_queued([&](PeerIndex to) {
      if (to < mark.size()) mark[to] = 1;
    });
  }

  // ---- life ----
  std::string start() override {
    protocol_.create(self());
    return "created a new ring";
  }
  void joined(PeerIndex bootstrap) override {
    shell_.say("joining through " + shell_.id_text(bootstrap) + " at " +
               shell_.contacts().at(bootstrap).address.to_string());
    bootstrap_ = bootstrap;
    protocol_.join(self(), bootstrap);
  }
  void tick() override {
    if (protocol_.in_ring(self())) {
      rejoin_backoff_ = 0;
      join_failures_ = 0;
      failed_via_.clear();
      // A new predecessor or successor: the successor's copies of this peer's range come back
      // (a peer restarted empty gets its keys again; otherwise they merge with what it has).
      const std::pair<PeerIndex, PeerIndex> link{protocol_.predecessor(self()), protocol_.successor(self())};
      if (link != fetched_for_ && protocol_.fetch_own_range(self())) fetched_for_ = link;
      // The --join peer restarted without --join is a ring of its own that nobody knows: every
      // 2 s a NOTIFY to it (ignored by a peer with a closer predecessor) brings it into this ring.
      if (bootstrap_ != kNoPeer && transport_.now() >= next_bootstrap_notify_) {
        next_bootstrap_notify_ = transport_.now() + from_ms(std::int64_t{2000});
        if (bootstrap_ != link.first && bootstrap_ != link.second) protocol_.send_notify(self(), bootstrap_);
      }
    }
    // Joins again after a pause that doubles with every failure (up to 2 s): two peers that
    // each wait for the other to be in a ring (a ring of 2 restarted) do not livelock.
    if (rejoin_wanted_ && !shell_.joining() && transport_.now() >= next_rejoin_) {
      rejoin_backoff_ = std::min<SimTime>(std::max<SimTime>(2 * rejoin_backoff_, from_ms(std::int64_t{100})),
                                          from_ms(std::int64_t{2000}));
      next_rejoin_ = transport_.now() + rejoin_backoff_;
      rejoin();
    }
    report_finished();
    protocol_.clear_records();  // reported: a long-running peer keeps none
    records_seen_ = 0;
    // Values no stored key and no running put refers to any more are dropped (an overwritten
    // value, a copy handed on): the value table stays proportional to what the peer stores.
    if (protocol_.value_count() > 2 * protocol_.stored_items(self()) + 2 * requests_.size() + 256) compact_values();
  }
  std::string leave() override {
    if (protocol_.in_ring(self())) protocol_.leave(self());  // hands its keys over, links predecessor and successor
    return "left the ring";
  }

  // ---- console ----
  std::string title() const override { return "chord peer " + shell_.id_text(self()); }
  std::string settings() const override {
    return "m = " + std::to_string(params_.m) + ", r = " + std::to_string(params_.successors);
  }
  json listening() const override { return {{"m", params_.m}}; }
  std::string help() const override {
    return "put KEY VALUE | get KEY | lookup KEY\n"
           "  KEY: a number below 2^m, or any other word (hashed with SHA-1 mod 2^m)";
  }
  bool command(const std::string& op, std::istream& in) override {
    if (op != "put" && op != "get" && op != "lookup") return false;
    std::string key_text;
    in >> key_text;
    const auto key = parse_key(key_text);
    if (!key) {
      shell_.error(op + ": missing or bad KEY (a number below 2^" + std::to_string(params_.m) + ", or a name)");
      return true;
    }
    if (!protocol_.in_ring(self())) {
      shell_.error(op + ": not in a ring yet");
      return true;
    }
    if (requests_.size() >= max_running_) {
      shell_.error(op + ": busy, " + std::to_string(requests_.size()) + " operations running (try again later)");
      return true;
    }
    std::uint32_t serial = 0;
    if (op == "put") {
      std::string value;
      std::getline(in >> std::ws, value);
      if (value.size() > wire::kMaxValueBytes) {
        shell_.error("put: VALUE is longer than " + std::to_string(wire::kMaxValueBytes) + " bytes");
        return true;
      }
      serial = protocol_.put(self(), *key, intern(value));
    } else if (op == "get") {
      serial = protocol_.get(self(), *key);
    } else {
      serial = protocol_.lookup(self(), *key);
    }
    requests_[serial] = Request{op, key_text, *key};
    return true;
  }
  json state() const override {
    const PeerSnapshot s = protocol_.snapshot(self());
    json j;
    j["m"] = params_.m;
    j["in_ring"] = protocol_.in_ring(self());
    j["predecessor"] = contact_json(s.predecessor);
    j["successors"] = json::array();
    for (PeerIndex p : s.successors) j["successors"].push_back(contact_json(p));
    j["fingers"] = json::array();
    for (const FingerEntry& f : s.fingers)
      j["fingers"].push_back(f.node == kNoPeer ? json(nullptr) : json(shell_.id_text(f.node)));
    j["keys"] = json::array();
    for (const Id& k : s.keys) j["keys"].push_back(k.to_decimal());
    j["replicas"] = s.replicas.size();
    // What the peer's memory holds (bounded: --max-keys, --max-running, --max-contacts).
    j["memory"] = {{"stored", protocol_.stored_items(self())},
                   {"values", protocol_.value_count()},
                   {"records", protocol_.records().size()},
                   {"running", requests_.size()}};
    j["notify_unverified"] = notify_unverified_;
    return j;
  }
  std::string state_text(const json&) const override {
    const PeerSnapshot s = protocol_.snapshot(self());
    auto name = [&](PeerIndex p) {
      if (p == kNoPeer) return std::string("none");
      return shell_.id_text(p) + " (" + shell_.contacts().at(p).address.to_string() + ")";
    };
    std::ostringstream o;
    o << "peer " << s.id.to_decimal() << " at " << shell_.contacts().at(self()).address.to_string()
      << ", m = " << params_.m << (protocol_.in_ring(self()) ? ", in the ring" : ", NOT in a ring") << "\n";
    o << "  predecessor  " << name(s.predecessor) << "\n  successors  ";
    for (PeerIndex p : s.successors) o << " " << name(p);
    o << "\n  fingers      (i: start -> node; equal neighbours merged)\n";
    for (std::size_t i = 0; i < s.fingers.size();) {
      std::size_t j = i;
      while (j + 1 < s.fingers.size() && s.fingers[j + 1].node == s.fingers[i].node) ++j;
      o << "    " << i;
      if (j > i) o << ".." << j;
      o << ": " << s.fingers[i].start.to_decimal() << " -> "
        << (s.fingers[i].node == kNoPeer ? std::string("?") : shell_.id_text(s.fingers[i].node)) << "\n";
      i = j + 1;
    }
    o << "  keys         " << s.keys.size() << " as owner";
    for (std::size_t k = 0; k < s.keys.size() && k < 8; ++k) o << (k ? ", " : ": ") << s.keys[k].to_decimal();
    if (s.keys.size() > 8) o << ", ...";
    o << "; " << s.replicas.size() << " replicas\n";
    return o.str();
  }

  // ---- monitor ----
  PeerView view() const override {
    return peer_view(protocol_.snapshot(self()), PeerState::Up,
                     [this](PeerIndex p) { return p == kNoPeer ? std::string("-") : shell_.id_text(p); });
  }

 private:
  struct Request {
    std::string op, arg;
    Id key;
  };

  void compact_values() {
    protocol_.compact_values();
    value_index_.clear();
    value_count_ = static_cast<std::uint32_t>(protocol_.value_count());
    for (std::uint32_t v = 0; v < value_count_; ++v) value_index_.emplace(protocol_.value(v), v);
  }
  std::uint32_t intern(const std::string& value) {
    if (auto it = value_index_.find(value); it != value_index_.end()) return it->second;
    const std::uint32_t index = protocol_.intern_value(value);
    value_index_.emplace(value, index);
    value_count_ = index + 1;
    return index;
  }
  std::optional<Id> parse_key(const std::string& text) const {
    if (text.empty()) return std::nullopt;
    if (text.find_first_not_of("0123456789") == std::string::npos) {
      const auto id = Id::from_decimal(text);
      if (!id || !space_.contains(*id)) return std::nullopt;
      return id;
    }
    return space_.hash(text);  // a name: SHA-1 mod 2^m, as "name" in a scenario
  }
  json contact_json(PeerIndex p) const {
    if (p == kNoPeer) return nullptr;
    return json{{"id", shell_.id_text(p)}, {"address", shell_.contacts().at(p).address.to_string()}};
  }
  void rejoin() {
    rejoin_wanted_ = false;
    if (shell_.basics().join) {
      // Every other attempt after failed ones: the bootstrap peer (which answered) becomes the
      // successor directly. A lookup of this peer's own id fails while the ring still names its
      // previous incarnation (same id, restarted at once) as the owner.
      if (join_failures_ >= 2 && join_failures_ % 2 == 0 && bootstrap_ != kNoPeer) {
        shell_.say("out of the ring: joining again with " + shell_.id_text(bootstrap_) + " as successor");
        protocol_.join_with_successor(self(), bootstrap_);
        return;
      }
      shell_.say("out of the ring (join failed or every successor gone): joining again through " +
                 shell_.basics().join->to_string());
      shell_.start_join();
      return;
    }
    // The peer that created the ring: join again through a peer heard from lately (not one a
    // join through has failed since it was last in a ring), or start over as a ring of one.
    const net::ContactTable& contacts = shell_.contacts();
    PeerIndex best = kNoPeer;
    std::int64_t latest = -1;
    for (PeerIndex p = 1; p < contacts.size(); ++p) {
      if (contacts.at(p).last_heard_us > latest && failed_via_.count(p) == 0) {
        latest = contacts.at(p).last_heard_us;
        best = p;
      }
    }
    if (best != kNoPeer && transport_.now() - latest < from_ms(std::int64_t{5000})) {
      shell_.say("out of the ring: joining again through " + shell_.id_text(best));
      rejoin_via_ = best;
      protocol_.join(self(), best);
    } else {
      shell_.say("out of the ring: starting a new ring of one");
      protocol_.create(self());
    }
  }
  void report_finished() {
    const auto& records = protocol_.records();
    for (; records_seen_ < records.size(); ++records_seen_) {
      const LookupRecord& r = records[records_seen_];
      auto it = requests_.find(r.serial);
      if (it == requests_.end()) continue;
      const Request p = it->second;
      requests_.erase(it);
      const bool ok = r.completed && (p.op == "lookup" || r.found);
      // What happened, in words: a get was found or not found, a put stored or refused (the
      // owner is full), and any of them failed when a peer stopped answering.
      std::string result =
          ok ? (p.op == "get"   ? "found"
                : p.op == "put" ? "stored"
                                : "ok")
             : (r.completed ? (p.op == "put" ? "refused (the owner is full)" : "not found") : "failed");
      json j{{"op", p.op}, {"arg", p.arg},   {"key", p.key.to_decimal()},
             {"ok", ok},   {"hops", r.hops}, {"ms", static_cast<double>(r.end - r.start) / 1000.0}};
      j["owner"] = r.owner != kNoPeer ? json(shell_.id_text(r.owner)) : json(nullptr);
      if (!r.completed) {
        if (r.silent != kNoPeer && r.silent != self()) {
          const std::string at = shell_.id_text(r.silent) + " at " + shell_.contacts().at(r.silent).address.to_string();
          j["timeout_at"] = at;
          result += " (timeout at " + at + ")";
        } else {
          result += " (no route)";
        }
      }
      j["result"] = result;
      if (p.op == "get" && r.found && r.value != kNoValue && r.value < value_count_)
        j["value"] = protocol_.value(r.value);
      if (shell_.json_mode()) {
        shell_.answer(j);
        continue;
      }
      std::printf("%s %s (key %s): %s, owner %s, %u hops, %.1f ms%s%s\n", p.op.c_str(), p.arg.c_str(),
                  p.key.to_decimal().c_str(), result.c_str(),
                  j["owner"].is_null() ? "?" : j["owner"].get<std::string>().c_str(), r.hops, j["ms"].get<double>(),
                  j.contains("value") ? ", value: " : "", j.contains("value") ? j["value"].dump().c_str() : "");
      std::fflush(stdout);
    }
  }

  Params params_;
  IdSpace space_;
  Protocol protocol_;
  wire::Datagram datagram_;
  Message pending_;
  std::unordered_map<std::string, std::uint32_t> value_index_;
  std::uint32_t value_count_ = 0;
  bool rejoin_wanted_ = false;
  std::uint64_t notify_unverified_ = 0;               // NOTIFYs answered with a PING (the sender was not verified)
  double fresh_copies_per_s_ = 0, fresh_tokens_ = 0;  // see take_fresh_copy_token
  SimTime fresh_refilled_ = 0;
  static constexpr std::size_t kMaxNotifyNonces = 4096;
  std::unordered_map<PeerIndex, std::uint32_t> notify_nonce_;  // the tag of the PING sent to a NOTIFY's sender
  std::unordered_map<PeerIndex, net::Endpoint> proven_at_;     // senders that echoed it, and from where
  // Tags an attacker must not guess: from the system's entropy, not the peer's seeded RNG.
  std::mt19937 nonce_rng_{std::random_device{}()};
  int join_failures_ = 0;                                          // since the peer was last in a ring
  PeerIndex bootstrap_ = kNoPeer;                                  // the --join peer's contact, once it answered
  SimTime next_bootstrap_notify_ = 0;                              // the next NOTIFY to it (see tick)
  std::pair<PeerIndex, PeerIndex> fetched_for_{kNoPeer, kNoPeer};  // (predecessor, successor) at the last FETCH_RANGE
  SimTime next_rejoin_ = 0, rejoin_backoff_ = 0;
  PeerIndex rejoin_via_ = kNoPeer;  // the peer the creator joins through again
  std::set<PeerIndex> failed_via_;  // peers a join through failed since the last time in a ring
  std::map<std::uint32_t, Request> requests_;
  std::size_t records_seen_ = 0;
  std::size_t max_running_;
};

}  // namespace

ProtocolCommand node_command(const ProtocolModel& model) {
  std::vector<CommandOption> options = {
      net::node_option("bits", "Identifier bits m (every peer of one ring must agree)", "32", "m"),
      net::node_option("successors", "Successor list length r (replicas per key)", "3", "r"),
      net::node_option("lookup", "Lookups iterative or recursive", "iterative"),
      net::node_option("stabilize-ms", "Period of stabilize", "500"),
      net::node_option("fix-fingers-ms", "Period of fix_fingers", "500"),
      net::node_option("check-predecessor-ms", "Period of check_predecessor", "1000"),
      net::node_option("rpc-timeout-ms", "An RPC unanswered this long means the peer failed", "1000"),
      net::node_option("max-keys", "Keys this peer stores at most, own and copies (a put beyond: refused)", "200000"),
      net::node_option("max-running", "Console operations (put, get, lookup) running at once at most", "4096"),
      net::node_option("transfer-rate", "Keys sent to other peers (copies, hand-overs) per second at most", "2000"),
      net::node_option("transfer-queue", "Keys waiting to be sent at most (beyond: dropped and counted)", "100000"),
  };
  return net::node_command(
      "One real Chord peer on a UDP socket; console: put, get, lookup, state, leave", std::move(options),
      [model](const CommandArgs& args, net::NodeSetup& setup, std::string& error) {
        Params params;
        double stabilize = 500, fix_fingers = 500, check_predecessor = 1000, rpc_timeout = 1000;
        int max_keys = 200000, max_running = 4096, transfer_queue = 100000;
        double transfer_rate = 2000;
        if (!net::read_option(args, "bits", 4, 160, params.m, error) ||
            !net::read_option(args, "successors", 1, 32, params.successors, error) ||
            !net::read_option(args, "stabilize-ms", 10.0, 600000.0, stabilize, error) ||
            !net::read_option(args, "fix-fingers-ms", 10.0, 600000.0, fix_fingers, error) ||
            !net::read_option(args, "check-predecessor-ms", 10.0, 600000.0, check_predecessor, error) ||
            !net::read_option(args, "rpc-timeout-ms", 10.0, 600000.0, rpc_timeout, error) ||
            !net::read_option(args, "max-keys", 1, 100000000, max_keys, error) ||
            !net::read_option(args, "max-running", 1, 1000000, max_running, error) ||
            !net::read_option(args, "transfer-rate", 10.0, 1e6, transfer_rate, error) ||
            !net::read_option(args, "transfer-queue", 1, 10000000, transfer_queue, error)) {
          return false;
        }
        params.max_items = static_cast<std::size_t>(max_keys);
        const auto lookup = args.find("lookup");
        const std::string style = lookup == args.end() ? "iterative" : lookup->second;
        if (style != "iterative" && style != "recursive") {
          error = "--lookup: '" + style + "' is neither iterative nor recursive";
          return false;
        }
        params.recursive = style == "recursive";
        params.stabilize = from_ms(stabilize);
        params.fix_fingers = from_ms(fix_fingers);
        params.check_predecessor = from_ms(check_predecessor);
        params.rpc_timeout = from_ms(rpc_timeout);
        setup.protocol = "chord";
        setup.id_bits = params.m;
        setup.format = wire::format(params.m);
        setup.model = model;
        setup.make = [params, max_running, transfer_rate, transfer_queue](net::Shell& shell) {
          return std::make_unique<Node>(shell, params, static_cast<std::size_t>(max_running), transfer_rate,
                                        static_cast<std::size_t>(transfer_queue));
        };
        return true;
      });
}

}  // namespace p2plab::chord
