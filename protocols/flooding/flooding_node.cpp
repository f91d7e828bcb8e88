// One real flooding peer: see flooding_node.hpp. The same loop as a real Chord peer
// (protocols/chord/chord_node.cpp): wait on the socket until the next timer, then the console.
#include "flooding_node.hpp"

#include <array>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "p2plab/net/console.hpp"
#include "p2plab/net/contacts.hpp"
#include "p2plab/net/monitor.hpp"
#include "p2plab/net/socket_transport.hpp"
#include "p2plab/net/udp.hpp"
#include "wire.hpp"

namespace p2plab::flooding {

namespace {

using nlohmann::json;
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

constexpr std::size_t kMaxQueries = 1 << 20;  // GUIDs remembered (each opens a query record)
constexpr std::size_t kMaxNames = 1 << 16;    // distinct names and keyword sets

class Node final : public MessageHandler<Message> {
 public:
  Node(const NodeOptions& o, net::UdpSocket& socket, const net::Contact& self)
      : options_(o),
        contacts_(self),
        transport_(socket, contacts_, o.seed ^ self.id.limb[0]),
        shared_(1),
        capacities_(1),
        protocol_(o.params, transport_, search::Context{&catalogue_, &log_, &shared_, &capacities_}),
        socket_(socket) {
    transport_.set_handler(this);
    transport_.set_encoder(
        [this](PeerIndex to, const Message& m, std::vector<std::uint8_t>& out) { return encode(to, m, out); });
    transport_.set_receiver(
        [this](const std::uint8_t* data, std::size_t size, const net::Endpoint& from) { receive(data, size, from); });
    transport_.set_send_observer([this](PeerIndex to, const Message& m) { note_event(contacts_.self(), to, m.type); });
  }

  int run();

  void on_message(PeerIndex self, PeerIndex from, const Message& msg) override {
    protocol_.on_message(self, from, msg);
  }
  void on_timer(PeerIndex self, std::uint16_t kind, std::uint32_t cookie) override {
    protocol_.on_timer(self, kind, cookie);
  }

 private:
  std::uint64_t id_of(PeerIndex p) const { return contacts_.at(p).id.low64(); }
  wire::WireContact wire_contact(PeerIndex p) const {
    wire::WireContact c;
    c.id = id_of(p);
    c.is_sender = p == contacts_.self();
    if (!c.is_sender) c.address = {contacts_.at(p).address.ip, contacts_.at(p).address.port};
    return c;
  }
  bool encode(PeerIndex to, const Message& m, std::vector<std::uint8_t>& out) {
    (void)to;
    wire::Datagram d;
    d.sender = id_of(contacts_.self());
    d.type = m.type;
    d.ttl = m.ttl;
    d.hops = m.hops;
    d.flag = m.flag;
    d.round = m.round;
    if (m.query != search::kNoQuery) {
      if (m.query >= guid_of_.size()) return false;
      d.guid = guid_of_[m.query];
    }
    if (m.type == MsgType::Query) {
      if (m.name >= catalogue_.size()) return false;
      d.name = catalogue_.name(m.name);
    }
    if (m.node != kNoPeer) d.node = wire_contact(m.node);
    return wire::encode(d, out);
  }
  void drop(wire::Drop why) {
    ++drops_[static_cast<std::size_t>(why)];
    ++dropped_;
  }
  void send_hello(const net::Endpoint& to, wire::Kind kind) {
    wire::Datagram d;
    d.kind = kind;
    d.sender = id_of(contacts_.self());
    std::vector<std::uint8_t> out;
    if (wire::encode(d, out)) socket_.send(to, out.data(), out.size());
  }
  QueryIndex query_of(std::uint64_t guid, PeerIndex from, NameIndex name) {
    if (auto it = query_of_guid_.find(guid); it != query_of_guid_.end()) return it->second;
    if (guid_of_.size() >= kMaxQueries) return search::kNoQuery;
    const QueryIndex q = log_.open(from, name, transport_.now(), false);
    guid_of_.resize(q + 1, 0);
    guid_of_[q] = guid;
    query_of_guid_[guid] = q;
    return q;
  }
  void receive(const std::uint8_t* data, std::size_t size, const net::Endpoint& from) {
    wire::Datagram d;
    wire::Drop why = wire::Drop::NotCbor;
    if (!wire::decode(data, size, d, why)) return drop(why);
    if (d.sender == id_of(contacts_.self())) return drop(wire::Drop::SelfId);
    if (d.kind == wire::Kind::Hello) {
      send_hello(from, wire::Kind::HelloReply);
      ++accepted_;
      return;
    }
    const PeerIndex sender = contacts_.learn(Id(d.sender), from);
    if (sender == kNoPeer) return drop(wire::Drop::TableFull);
    Message m;
    m.type = d.type;
    m.ttl = d.ttl;
    m.hops = d.hops;
    m.flag = d.flag;
    m.round = d.round;
    if (d.node) {
      const net::Endpoint address = d.node->is_sender ? from : net::Endpoint{d.node->address.ip, d.node->address.port};
      m.node = contacts_.learn(Id(d.node->id), address);
      if (m.node == kNoPeer) return drop(wire::Drop::TableFull);
    }
    if (d.name) {
      if (catalogue_.size() >= kMaxNames) return drop(wire::Drop::TableFull);
      m.name = catalogue_.intern(*d.name);
    }
    if (d.guid) {
      m.query = query_of(*d.guid, sender, m.name);
      if (m.query == search::kNoQuery) return drop(wire::Drop::TableFull);
    }
    contacts_.heard(sender, from, transport_.now());
    ++accepted_;
    if (d.kind == wire::Kind::HelloReply) {
      if (joining_ && options_.join && from == *options_.join) {
        joining_ = false;
        say("joining through " + std::to_string(d.sender) + " at " + from.to_string());
        protocol_.join(contacts_.self(), sender);
      }
      return;
    }
    note_event(sender, contacts_.self(), m.type);
    protocol_.on_message(contacts_.self(), sender, m);
  }

  void say(const std::string& line) {
    if (options_.quiet) return;
    if (options_.json) return answer(json{{"event", line}});
    std::printf("[%8.3f s] %s\n", static_cast<double>(transport_.now()) / 1e6, line.c_str());
    std::fflush(stdout);
  }
  void answer(const json& j) {
    std::printf("%s\n", dump(j).c_str());
    std::fflush(stdout);
  }
  void error(const std::string& text) {
    if (options_.json) return answer(json{{"error", text}});
    std::printf("error: %s\n", text.c_str());
    std::fflush(stdout);
  }
  json state_json() const {
    json j;
    j["id"] = std::to_string(id_of(contacts_.self()));
    j["address"] = contacts_.at(contacts_.self()).address.to_string();
    j["neighbors"] = json::array();
    for (PeerIndex n : protocol_.neighbors(contacts_.self())) {
      j["neighbors"].push_back({{"id", std::to_string(id_of(n))}, {"address", contacts_.at(n).address.to_string()}});
    }
    j["shared"] = json::array();
    for (NameIndex n : shared_[0]) j["shared"].push_back(catalogue_.name(n));
    j["contacts"] = contacts_.size() - 1;
    json drops = json::object();
    for (std::size_t r = 0; r < drops_.size(); ++r) {
      if (drops_[r] != 0) drops[wire::to_string(static_cast<wire::Drop>(r))] = drops_[r];
    }
    const net::TransportCounters& c = transport_.counters();
    j["datagrams"] = {{"received", c.received},     {"accepted", accepted_}, {"dropped", dropped_},
                      {"dropped_by_reason", drops}, {"sent", c.sent},        {"send_failed", c.send_failed}};
    return j;
  }
  void command(const std::string& line) {
    std::istringstream in(line);
    std::string op;
    in >> op;
    if (op.empty() || op[0] == '#') return;
    if (op == "state") {
      const json s = state_json();
      if (options_.json) return answer(json{{"op", "state"}, {"state", s}});
      std::printf("peer %s at %s\n  neighbours ", s["id"].get<std::string>().c_str(),
                  s["address"].get<std::string>().c_str());
      for (const auto& n : s["neighbors"])
        std::printf(" %s (%s)", n["id"].get<std::string>().c_str(), n["address"].get<std::string>().c_str());
      std::printf("\n  shared     ");
      for (const auto& n : s["shared"]) std::printf(" \"%s\"", n.get<std::string>().c_str());
      std::printf("\n  datagrams   %s\n", dump(s["datagrams"]).c_str());
      std::fflush(stdout);
      return;
    }
    if (op == "help") {
      std::printf("commands: state | share NAME | search KEYWORDS | leave | quit\n");
      std::fflush(stdout);
      return;
    }
    if (op == "leave" || op == "quit") {
      stop_ = true;
      crash_ = op == "quit";
      return;
    }
    std::string rest;
    std::getline(in >> std::ws, rest);
    if (op == "share") {
      if (search::Catalogue::keywords(rest).empty() || rest.size() > wire::kMaxNameBytes) {
        return error("share: NAME needs a letter or digit and at most 255 bytes");
      }
      shared_[0].push_back(catalogue_.intern(rest));
      if (options_.json) answer(json{{"op", "share"}, {"arg", rest}, {"ok", true}});
      return;
    }
    if (op == "search") {
      if (search::Catalogue::keywords(rest).empty() || rest.size() > wire::kMaxNameBytes) {
        return error("search: KEYWORDS need a letter or digit and at most 255 bytes");
      }
      const NameIndex name = catalogue_.intern(rest);
      const std::uint64_t guid = transport_.rng(0).next_u64();
      const QueryIndex q = query_of(guid, contacts_.self(), name);
      if (q == search::kNoQuery) return error("search: too many queries");
      protocol_.search(contacts_.self(), name, q, 0);
      pending_[q] = rest;
      return;
    }
    error("unknown command '" + op + "' (try help)");
  }
  void report_finished() {
    for (auto it = pending_.begin(); it != pending_.end();) {
      const search::QueryRecord& r = log_.records()[it->first];
      if (!r.finished) {
        ++it;
        continue;
      }
      json hits = json::array();
      for (PeerIndex p : r.hits) hits.push_back(std::to_string(id_of(p)));
      json j{{"op", "search"}, {"arg", it->second},           {"ok", r.downloaded_from != kNoPeer},
             {"hits", hits},   {"reached", r.reached.size()}, {"ms", static_cast<double>(r.end - r.start) / 1000.0}};
      j["downloaded_from"] =
          r.downloaded_from != kNoPeer ? json(std::to_string(id_of(r.downloaded_from))) : json(nullptr);
      if (options_.json) {
        answer(j);
      } else {
        std::printf("search %s: %zu hits %s, %s\n", it->second.c_str(), r.hits.size(), dump(hits).c_str(),
                    r.downloaded_from != kNoPeer
                        ? ("downloaded from " + std::to_string(id_of(r.downloaded_from))).c_str()
                        : "nothing downloaded");
        std::fflush(stdout);
      }
      it = pending_.erase(it);
    }
  }
  // ---- monitor (net/include/p2plab/net/monitor.hpp) ----
  void note_event(PeerIndex from, PeerIndex to, MsgType type) {
    if (!options_.monitor || events_.size() >= net::kMaxReportEvents) return;
    events_.push_back({id_of(from), id_of(to), to_string(type)});
  }
  void report_to_monitor(bool state) {
    if (!options_.monitor) return;
    const std::int64_t t = transport_.now() / 1000;
    if (!state) {
      if (events_.empty()) return;
      net::send_report(socket_, *options_.monitor, net::encode_events_report("flooding", id_of(contacts_.self()), t, events_));
      events_.clear();
      return;
    }
    net::UnstructuredState s;
    s.proto = "flooding";
    s.id = id_of(contacts_.self());
    s.time_ms = t;
    s.address = contacts_.at(contacts_.self()).address.to_string();
    s.role = "peer";
    for (PeerIndex n : protocol_.neighbors(contacts_.self())) s.neighbors.push_back(id_of(n));
    s.shared = shared_[0].size();
    net::send_report(socket_, *options_.monitor, net::encode_state_report(s));
  }

  void read_console() {
    console_.poll([this](const std::string& line) { command(line); });
  }

  NodeOptions options_;
  net::ContactTable contacts_;
  net::SocketTransport<Message> transport_;
  search::Catalogue catalogue_;
  search::QueryLog log_;
  std::vector<std::vector<NameIndex>> shared_;  // only index 0 (this peer) shares anything here
  std::vector<search::Capacity> capacities_;
  Protocol protocol_;
  net::UdpSocket& socket_;
  std::vector<std::uint64_t> guid_of_;
  std::unordered_map<std::uint64_t, QueryIndex> query_of_guid_;
  std::map<QueryIndex, std::string> pending_;
  std::array<std::uint64_t, static_cast<std::size_t>(wire::Drop::Count)> drops_{};
  std::uint64_t dropped_ = 0, accepted_ = 0;
  bool joining_ = false, stop_ = false, crash_ = false;
  SimTime next_hello_ = 0, join_deadline_ = 0;
  net::Console console_;
  std::vector<net::MonitorEvent> events_;
};

int Node::run() {
  const net::Contact& self = contacts_.at(contacts_.self());
  if (options_.json) {
    answer(json{{"event", "listening"},
                {"id", std::to_string(id_of(0))},
                {"address", self.address.to_string()},
                {"port", self.address.port}});
  } else {
    std::printf("p2plab node: flooding peer %s listening on UDP %s (degree %d, TTL %d); type help for commands\n",
                std::to_string(id_of(0)).c_str(), self.address.to_string().c_str(), options_.params.degree,
                options_.params.ttl);
    std::fflush(stdout);
  }
  for (const std::string& name : options_.shared) shared_[0].push_back(catalogue_.intern(name));
  if (options_.join) {
    joining_ = true;
    join_deadline_ = transport_.now() + from_ms(options_.join_timeout_s * 1000.0);
  } else {
    protocol_.join(contacts_.self(), kNoPeer);
    say("first peer of a new overlay");
  }
  const SimTime end = options_.duration_s > 0 ? from_ms(options_.duration_s * 1000.0) : -1;
  SimTime next_state_report = 0, next_event_report = 0;
  while (!stop_) {
    transport_.run_once(std::chrono::milliseconds(20));
    const SimTime now = transport_.now();
    if (joining_ && now >= next_hello_) {
      if (now > join_deadline_) {
        std::fprintf(stderr, "p2plab node: no answer from %s within %.0f s: is a peer running there?\n",
                     options_.join->to_string().c_str(), options_.join_timeout_s);
        return 1;
      }
      send_hello(*options_.join, wire::Kind::Hello);
      next_hello_ = now + from_ms(std::int64_t{300});
    }
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
  if (!crash_) {
    protocol_.leave(contacts_.self());  // BYE to every neighbour
    transport_.run_once(std::chrono::milliseconds(0));
  }
  if (!options_.quiet) {
    if (options_.json) {
      answer(json{{"event", crash_ ? "stopped" : "left"}});
    } else {
      std::printf("p2plab node: %s\n", crash_ ? "stopped (no goodbye)" : "left the overlay");
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
  self.id = Id(options.id ? *options.id : IdSpace(64).hash(net::default_id_source(self.address)).low64());
  net::install_stop_signals();
  Node node(options, socket, self);
  return node.run();
}

}  // namespace p2plab::flooding
