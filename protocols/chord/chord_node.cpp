// One real Chord peer: see chord_node.hpp. Single-threaded: one loop waits on the UDP socket
// until the next timer is due (SocketTransport::run_once), then reads console lines.
#include "chord_node.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "p2plab/net/console.hpp"
#include "p2plab/net/contacts.hpp"
#include "p2plab/net/socket_transport.hpp"
#include "p2plab/net/udp.hpp"
#include "wire.hpp"

namespace p2plab::chord {

namespace {

using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

bool uses_key(MsgType t) {
  switch (t) {
    case MsgType::FindNext:
    case MsgType::FindSuccessor:
    case MsgType::FoundSuccessor:
    case MsgType::Put:
    case MsgType::Get:
    case MsgType::Replicate:
    case MsgType::HandOver:
    case MsgType::FetchRange:
      return true;
    default:
      return false;
  }
}

bool periodic(std::uint16_t kind) {
  return kind == static_cast<std::uint16_t>(TimerKind::Stabilize) ||
         kind == static_cast<std::uint16_t>(TimerKind::FixFingers) ||
         kind == static_cast<std::uint16_t>(TimerKind::CheckPredecessor);
}

class Node final : public MessageHandler<Message> {
 public:
  Node(const NodeOptions& o, net::UdpSocket& socket, const net::Contact& self)
      : options_(o),
        space_(o.params.m),
        contacts_(self),
        transport_(socket, contacts_, o.seed ^ self.id.limb[0]),
        protocol_(o.params, transport_),
        socket_(socket) {
    transport_.set_handler(this);
    transport_.set_encoder(
        [this](PeerIndex to, const Message& m, std::vector<std::uint8_t>& out) { return encode(to, m, out); });
    transport_.set_receiver(
        [this](const std::uint8_t* data, std::size_t size, const net::Endpoint& from) { receive(data, size, from); });
    transport_.set_send_observer([this](PeerIndex to, const Message& m) { observe(to, m); });
    protocol_.on_join_failed([this](PeerIndex) { rejoin_wanted_ = true; });
    protocol_.reserve(1);
  }

  int run();

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

 private:
  // ---- codec: Message <-> datagram, PeerIndex <-> contact ----
  wire::WireContact wire_contact(PeerIndex p) const {
    wire::WireContact c;
    const net::Contact& contact = contacts_.at(p);
    c.id = contact.id;
    c.is_sender = p == contacts_.self();
    if (!c.is_sender) c.address = {contact.address.ip, contact.address.port};
    return c;
  }
  bool encode(PeerIndex to, const Message& m, std::vector<std::uint8_t>& out) {
    (void)to;
    wire::Datagram d;
    d.kind = wire::Kind::Message;
    d.bits = options_.params.m;
    d.sender = contacts_.at(contacts_.self()).id;
    d.type = m.type;
    d.flag = m.flag;
    d.hops = m.hops;
    d.lookup = m.lookup;
    d.tag = m.tag;
    if (m.origin != kNoPeer) d.origin = wire_contact(m.origin);
    if (m.node != kNoPeer) d.node = wire_contact(m.node);
    for (int j = 0; j < m.count && j < kMaxSuccessors; ++j) {
      if (m.list[j] != kNoPeer) d.list.push_back(wire_contact(m.list[j]));
    }
    if (uses_key(m.type) || m.key != Id()) d.key = m.key;
    if (m.value != kNoValue) {
      if (m.value >= value_count_) return false;
      d.value = protocol_.value(m.value);
    }
    return wire::encode(d, out);
  }
  PeerIndex local_index(const wire::WireContact& c, const net::Endpoint& from) {
    const net::Endpoint address = c.is_sender ? from : net::Endpoint{c.address.ip, c.address.port};
    return contacts_.learn(c.id, address);
  }
  std::uint32_t intern(const std::string& value) {
    if (auto it = value_index_.find(value); it != value_index_.end()) return it->second;
    const std::uint32_t index = protocol_.intern_value(value);
    value_index_.emplace(value, index);
    value_count_ = index + 1;
    return index;
  }
  void drop(wire::Drop why) {
    ++drops_[static_cast<std::size_t>(why)];
    ++dropped_;
  }
  void receive(const std::uint8_t* data, std::size_t size, const net::Endpoint& from) {
    wire::Datagram d;
    wire::Drop why = wire::Drop::NotCbor;
    if (!wire::decode(data, size, options_.params.m, d, why)) return drop(why);
    const Id& own = contacts_.at(contacts_.self()).id;
    if (d.sender == own) return drop(wire::Drop::SelfId);
    if (d.kind == wire::Kind::Hello) {
      send_hello(from, wire::Kind::HelloReply);
      ++accepted_;
      return;
    }
    // Every peer named in the datagram gets a local index before anything is applied.
    const PeerIndex sender = contacts_.learn(d.sender, from);
    if (sender == kNoPeer) return drop(wire::Drop::TableFull);
    Message m;
    m.type = d.type;
    m.flag = d.flag;
    m.hops = d.hops;
    m.lookup = d.lookup;
    m.tag = d.tag;
    if (d.origin && (m.origin = local_index(*d.origin, from)) == kNoPeer) return drop(wire::Drop::TableFull);
    if (d.node && (m.node = local_index(*d.node, from)) == kNoPeer) return drop(wire::Drop::TableFull);
    for (const auto& c : d.list) {
      const PeerIndex p = local_index(c, from);
      if (p == kNoPeer) return drop(wire::Drop::TableFull);
      m.list[m.count++] = p;
    }
    if (d.key) m.key = *d.key;
    if (d.value) m.value = intern(*d.value);
    contacts_.heard(sender, from, transport_.now());
    protocol_.reserve(contacts_.size());
    ++accepted_;
    if (d.kind == wire::Kind::HelloReply) {
      on_hello_reply(sender, from);
      return;
    }
    note_event(sender, contacts_.self(), m.type);
    protocol_.on_message(contacts_.self(), sender, m);
  }
  void send_hello(const net::Endpoint& to, wire::Kind kind) {
    wire::Datagram d;
    d.kind = kind;
    d.bits = options_.params.m;
    d.sender = contacts_.at(contacts_.self()).id;
    std::vector<std::uint8_t> out;
    if (wire::encode(d, out)) socket_.send(to, out.data(), out.size());
  }

  // ---- joining ----
  void start_join() {
    joining_ = true;
    next_hello_ = transport_.now();
    join_deadline_ = transport_.now() + from_ms(options_.join_timeout_s * 1000.0);
  }
  void on_hello_reply(PeerIndex sender, const net::Endpoint& from) {
    if (!joining_ || !options_.join || !(from == *options_.join)) return;
    joining_ = false;
    joined_once_ = true;
    say("joining through " + contacts_.at(sender).id.to_decimal() + " at " + from.to_string());
    protocol_.join(contacts_.self(), sender);
  }
  void rejoin() {
    rejoin_wanted_ = false;
    if (options_.join) {
      say("out of the ring (join failed or every successor gone): joining again through " + options_.join->to_string());
      start_join();
      return;
    }
    // The peer that created the ring: join again through any peer heard from lately, or start
    // over as a ring of one.
    PeerIndex best = kNoPeer;
    std::int64_t latest = -1;
    for (PeerIndex p = 1; p < contacts_.size(); ++p) {
      if (contacts_.at(p).last_heard_us > latest) {
        latest = contacts_.at(p).last_heard_us;
        best = p;
      }
    }
    if (best != kNoPeer && transport_.now() - latest < from_ms(std::int64_t{5000})) {
      say("out of the ring: joining again through " + contacts_.at(best).id.to_decimal());
      protocol_.join(contacts_.self(), best);
    } else {
      say("out of the ring: starting a new ring of one");
      protocol_.create(contacts_.self());
    }
  }

  // ---- console ----
  void say(const std::string& line) {
    if (options_.quiet) return;
    if (options_.json) {
      answer(json{{"event", line}});
    } else {
      std::printf("[%8.3f s] %s\n", static_cast<double>(transport_.now()) / 1e6, line.c_str());
      std::fflush(stdout);
    }
  }
  void answer(const json& j) {
    std::printf("%s\n", dump(j).c_str());
    std::fflush(stdout);
  }
  void error(const std::string& text) {
    if (options_.json) {
      answer(json{{"error", text}});
    } else {
      std::printf("error: %s\n", text.c_str());
      std::fflush(stdout);
    }
  }
  std::optional<Id> parse_key(const std::string& text) {
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
    const net::Contact& c = contacts_.at(p);
    return json{{"id", c.id.to_decimal()}, {"address", c.address.to_string()}};
  }
  json state_json() const {
    const PeerSnapshot s = protocol_.snapshot(contacts_.self());
    json j;
    j["id"] = s.id.to_decimal();
    j["address"] = contacts_.at(contacts_.self()).address.to_string();
    j["m"] = options_.params.m;
    j["in_ring"] = protocol_.in_ring(contacts_.self());
    j["predecessor"] = contact_json(s.predecessor);
    j["successors"] = json::array();
    for (PeerIndex p : s.successors) j["successors"].push_back(contact_json(p));
    j["fingers"] = json::array();
    for (const FingerEntry& f : s.fingers) {
      j["fingers"].push_back(f.node == kNoPeer ? json(nullptr) : json(contacts_.at(f.node).id.to_decimal()));
    }
    j["keys"] = json::array();
    for (const Id& k : s.keys) j["keys"].push_back(k.to_decimal());
    j["replicas"] = s.replicas.size();
    j["contacts"] = contacts_.size() - 1;
    const net::TransportCounters& c = transport_.counters();
    json drops = json::object();
    for (std::size_t r = 0; r < drops_.size(); ++r) {
      if (drops_[r] != 0) drops[wire::to_string(static_cast<wire::Drop>(r))] = drops_[r];
    }
    j["datagrams"] = {{"received", c.received},          {"accepted", accepted_}, {"dropped", dropped_},
                      {"dropped_by_reason", drops},      {"sent", c.sent},        {"send_failed", c.send_failed},
                      {"not_encodable", c.not_encodable}};
    return j;
  }
  void print_state() {
    if (options_.json) {
      answer(json{{"op", "state"}, {"state", state_json()}});
      return;
    }
    const PeerSnapshot s = protocol_.snapshot(contacts_.self());
    auto name = [&](PeerIndex p) {
      if (p == kNoPeer) return std::string("none");
      return contacts_.at(p).id.to_decimal() + " (" + contacts_.at(p).address.to_string() + ")";
    };
    std::ostringstream o;
    o << "peer " << s.id.to_decimal() << " at " << contacts_.at(contacts_.self()).address.to_string()
      << ", m = " << options_.params.m << (protocol_.in_ring(contacts_.self()) ? ", in the ring" : ", NOT in a ring")
      << "\n";
    o << "  predecessor  " << name(s.predecessor) << "\n  successors  ";
    for (PeerIndex p : s.successors) o << " " << name(p);
    o << "\n  fingers      (i: start -> node; equal neighbours merged)\n";
    for (std::size_t i = 0; i < s.fingers.size();) {
      std::size_t j = i;
      while (j + 1 < s.fingers.size() && s.fingers[j + 1].node == s.fingers[i].node) ++j;
      o << "    " << i;
      if (j > i) o << ".." << j;
      o << ": " << s.fingers[i].start.to_decimal() << " -> "
        << (s.fingers[i].node == kNoPeer ? std::string("?") : contacts_.at(s.fingers[i].node).id.to_decimal()) << "\n";
      i = j + 1;
    }
    o << "  keys         " << s.keys.size() << " as owner";
    for (std::size_t k = 0; k < s.keys.size() && k < 8; ++k) o << (k ? ", " : ": ") << s.keys[k].to_decimal();
    if (s.keys.size() > 8) o << ", ...";
    o << "; " << s.replicas.size() << " replicas\n";
    const net::TransportCounters& c = transport_.counters();
    o << "  datagrams    " << c.received << " received, " << accepted_ << " accepted, " << dropped_ << " dropped";
    for (std::size_t r = 0; r < drops_.size(); ++r) {
      if (drops_[r] != 0) o << " (" << wire::to_string(static_cast<wire::Drop>(r)) << ": " << drops_[r] << ")";
    }
    o << ", " << c.sent << " sent\n";
    std::fputs(o.str().c_str(), stdout);
    std::fflush(stdout);
  }
  void command(const std::string& line) {
    std::istringstream in(line);
    std::string op;
    in >> op;
    if (op.empty() || op[0] == '#') return;
    if (op == "state") return print_state();
    if (op == "help") {
      std::printf(
          "commands: state | put KEY VALUE | get KEY | lookup KEY | leave | quit\n"
          "  KEY: a number below 2^m, or any other word (hashed with SHA-1 mod 2^m)\n");
      std::fflush(stdout);
      return;
    }
    if (op == "leave") {
      stop_ = true;
      return;
    }
    if (op == "quit") {  // stops without a goodbye (like a crash)
      stop_ = true;
      crash_ = true;
      return;
    }
    if (op != "put" && op != "get" && op != "lookup") return error("unknown command '" + op + "' (try help)");
    std::string key_text;
    in >> key_text;
    const auto key = parse_key(key_text);
    if (!key)
      return error(op + ": missing or bad KEY (a number below 2^" + std::to_string(options_.params.m) + ", or a name)");
    if (!protocol_.in_ring(contacts_.self())) return error(op + ": not in a ring yet");
    Pending p{op, key_text, *key};
    std::uint32_t serial = 0;
    if (op == "put") {
      std::string value;
      std::getline(in >> std::ws, value);
      if (value.size() > wire::kMaxValueBytes) {
        return error("put: VALUE is longer than " + std::to_string(wire::kMaxValueBytes) + " bytes");
      }
      serial = protocol_.put(contacts_.self(), *key, intern(value));
    } else if (op == "get") {
      serial = protocol_.get(contacts_.self(), *key);
    } else {
      serial = protocol_.lookup(contacts_.self(), *key);
    }
    pending_[serial] = p;
  }
  void report_finished() {
    const auto& records = protocol_.records();
    for (; records_seen_ < records.size(); ++records_seen_) {
      const LookupRecord& r = records[records_seen_];
      auto it = pending_.find(r.serial);
      if (it == pending_.end()) continue;
      const Pending p = it->second;
      pending_.erase(it);
      const bool ok = r.completed && (p.op == "lookup" || r.found);
      json j{{"op", p.op}, {"arg", p.arg},   {"key", p.key.to_decimal()},
             {"ok", ok},   {"hops", r.hops}, {"ms", static_cast<double>(r.end - r.start) / 1000.0}};
      j["owner"] = r.owner != kNoPeer ? json(contacts_.at(r.owner).id.to_decimal()) : json(nullptr);
      if (p.op == "get" && r.found && r.value != kNoValue && r.value < value_count_)
        j["value"] = protocol_.value(r.value);
      if (options_.json) {
        answer(j);
      } else {
        std::printf("%s %s (key %s): %s, owner %s, %u hops, %.1f ms%s%s\n", p.op.c_str(), p.arg.c_str(),
                    p.key.to_decimal().c_str(), ok ? "ok" : (r.completed ? "NOT FOUND" : "FAILED"),
                    j["owner"].is_null() ? "?" : j["owner"].get<std::string>().c_str(), r.hops, j["ms"].get<double>(),
                    j.contains("value") ? ", value: " : "", j.contains("value") ? dump(j["value"]).c_str() : "");
        std::fflush(stdout);
      }
    }
  }
  void read_console() {
    console_.poll([this](const std::string& line) { command(line); });
  }

  // ---- monitor ----
  void note_event(PeerIndex from, PeerIndex to, MsgType type) {
    if (!options_.monitor || events_.size() >= 64) return;
    events_.push_back({from, to, type});
  }
  void observe(PeerIndex to, const Message& m) { note_event(contacts_.self(), to, m.type); }
  void report_to_monitor(bool state) {
    if (!options_.monitor) return;
    json j;
    j["v"] = 1;
    j["proto"] = "chord";
    j["m"] = options_.params.m;
    j["id"] = json::binary(wire::id_bytes(contacts_.at(contacts_.self()).id));
    j["t"] = transport_.now() / 1000;
    if (state) {
      j["k"] = "state";
      const PeerSnapshot s = protocol_.snapshot(contacts_.self());
      auto id_of = [&](PeerIndex p) { return json::binary(wire::id_bytes(contacts_.at(p).id)); };
      j["addr"] = contacts_.at(contacts_.self()).address.to_string();
      j["pred"] = s.predecessor == kNoPeer ? json(nullptr) : id_of(s.predecessor);
      j["succ"] = json::array();
      for (PeerIndex p : s.successors) j["succ"].push_back(id_of(p));
      j["fingers"] = json::array();  // [i, id] where the finger changes
      for (std::size_t i = 0; i < s.fingers.size(); ++i) {
        if (s.fingers[i].node == kNoPeer || (i > 0 && s.fingers[i].node == s.fingers[i - 1].node)) continue;
        j["fingers"].push_back(json::array({i, id_of(s.fingers[i].node)}));
      }
      j["keys"] = json::array();
      for (std::size_t k = 0; k < s.keys.size() && k < 16; ++k)
        j["keys"].push_back(json::binary(wire::id_bytes(s.keys[k])));
      j["nkeys"] = s.keys.size();
    } else {
      if (events_.empty()) return;
      j["k"] = "msgs";
      j["e"] = json::array();
      for (const auto& e : events_) {
        j["e"].push_back(json::array({json::binary(wire::id_bytes(contacts_.at(e.from).id)),
                                      json::binary(wire::id_bytes(contacts_.at(e.to).id)), to_string(e.type)}));
      }
      events_.clear();
    }
    std::vector<std::uint8_t> out;
    json::to_cbor(j, out);
    if (out.size() <= 8192) socket_.send(*options_.monitor, out.data(), out.size());
  }

  struct Pending {
    std::string op, arg;
    Id key;
  };
  struct Event {
    PeerIndex from, to;
    MsgType type;
  };

  NodeOptions options_;
  IdSpace space_;
  net::ContactTable contacts_;
  net::SocketTransport<Message> transport_;
  Protocol protocol_;
  net::UdpSocket& socket_;
  std::unordered_map<std::string, std::uint32_t> value_index_;
  std::uint32_t value_count_ = 0;
  std::array<std::uint64_t, static_cast<std::size_t>(wire::Drop::Count)> drops_{};
  std::uint64_t dropped_ = 0, accepted_ = 0;
  bool joining_ = false, joined_once_ = false, rejoin_wanted_ = false;
  SimTime next_hello_ = 0, join_deadline_ = 0;
  bool stop_ = false, crash_ = false;
  net::Console console_;
  std::map<std::uint32_t, Pending> pending_;
  std::size_t records_seen_ = 0;
  std::vector<Event> events_;
};

int Node::run() {
  const net::Contact& self = contacts_.at(contacts_.self());
  if (options_.json) {
    answer(json{{"event", "listening"},
                {"id", self.id.to_decimal()},
                {"address", self.address.to_string()},
                {"port", self.address.port},
                {"m", options_.params.m}});
  } else {
    std::printf("p2plab node: chord peer %s listening on UDP %s (m = %d, r = %d); type help for commands\n",
                self.id.to_decimal().c_str(), self.address.to_string().c_str(), options_.params.m,
                options_.params.successors);
    std::fflush(stdout);
  }
  if (options_.join) {
    start_join();
  } else {
    protocol_.create(contacts_.self());
    joined_once_ = true;
    say("created a new ring");
  }
  const SimTime end = options_.duration_s > 0 ? from_ms(options_.duration_s * 1000.0) : -1;
  SimTime next_state_report = 0, next_event_report = 0;
  while (!stop_) {
    transport_.run_once(std::chrono::milliseconds(20));
    const SimTime now = transport_.now();
    if (joining_ && now >= next_hello_) {
      if (!joined_once_ && now > join_deadline_) {
        std::fprintf(stderr, "p2plab node: no answer from %s within %.0f s: is a peer running there?\n",
                     options_.join->to_string().c_str(), options_.join_timeout_s);
        return 1;
      }
      send_hello(*options_.join, wire::Kind::Hello);
      next_hello_ = now + from_ms(std::int64_t{300});
    }
    if (rejoin_wanted_ && !joining_) rejoin();
    read_console();
    report_finished();
    if (now >= next_event_report) {
      report_to_monitor(false);
      next_event_report = now + from_ms(std::int64_t{200});
    }
    if (now >= next_state_report) {
      report_to_monitor(true);
      next_state_report = now + from_ms(std::int64_t{500});
    }
    if (net::stop_requested()) stop_ = true;
    if (end >= 0 && now >= end) stop_ = true;
  }
  if (!crash_ && protocol_.in_ring(contacts_.self())) {
    protocol_.leave(contacts_.self());  // hands its keys over, links predecessor and successor
    transport_.run_once(std::chrono::milliseconds(0));
  }
  if (!options_.quiet) {
    if (options_.json) {
      answer(json{{"event", crash_ ? "stopped" : "left"}});
    } else {
      std::printf("p2plab node: %s\n", crash_ ? "stopped (no goodbye)" : "left the ring");
    }
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace

int run_node(const NodeOptions& options) {
  net::UdpSocket socket;
  net::Contact self;
  if (!net::bind_node_socket(socket, options.listen, self.address)) return 1;
  // The default id: SHA-1 of "IP:PORT" mod 2^m.
  self.id = options.id ? *options.id : IdSpace(options.params.m).hash(net::default_id_source(self.address));
  net::install_stop_signals();
  Node node(options, socket, self);
  return node.run();
}

}  // namespace p2plab::chord
