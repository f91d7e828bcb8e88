// One real central-index peer: see central_index_node.hpp. The same loop as a real flooding
// peer (protocols/flooding/flooding_node.cpp): wait on the socket until the next timer, then
// the console.
#include "central_index_node.hpp"

#include <array>
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

namespace p2plab::central_index {

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
  }

  int run();

  void on_message(PeerIndex self, PeerIndex from, const Message& msg) override {
    protocol_.on_message(self, from, msg);
  }
  void on_timer(PeerIndex self, std::uint16_t kind, std::uint32_t cookie) override {
    protocol_.on_timer(self, kind, cookie);
  }

 private:
  bool is_server() const { return protocol_.server() == contacts_.self(); }
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
    d.flag = m.type == MsgType::SearchResult ? m.flag : 0;
    if (m.type == MsgType::Search || m.type == MsgType::SearchResult || m.type == MsgType::Download ||
        m.type == MsgType::DownloadOk) {
      if (m.query >= guid_of_.size()) return false;
      d.guid = guid_of_[m.query];
    }
    if (m.type == MsgType::Register || m.type == MsgType::Search) {
      if (m.name >= catalogue_.size()) return false;
      d.name = catalogue_.name(m.name);
    }
    if (m.type == MsgType::SearchResult) {
      for (int i = 0; i < m.count && i < kProvidersPerMessage; ++i) {
        if (m.providers[static_cast<std::size_t>(i)] >= contacts_.size()) return false;
        d.providers.push_back(wire_contact(m.providers[static_cast<std::size_t>(i)]));
      }
    }
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
    // A peer that is not the server answers with the server's contact.
    if (kind == wire::Kind::HelloReply && !is_server()) {
      if (protocol_.server() == kNoPeer) return;  // not joined yet: nothing to tell
      d.server = wire_contact(protocol_.server());
    }
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
  PeerIndex learn(const wire::WireContact& c, const net::Endpoint& from) {
    const net::Endpoint address = c.is_sender ? from : net::Endpoint{c.address.ip, c.address.port};
    return contacts_.learn(Id(c.id), address);
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
    PeerIndex server = kNoPeer;
    if (d.server) {
      if (d.server->id == id_of(contacts_.self())) return drop(wire::Drop::SelfId);
      if ((server = learn(*d.server, from)) == kNoPeer) return drop(wire::Drop::TableFull);
    }
    Message m;
    m.type = d.type;
    m.flag = d.flag;
    for (const auto& c : d.providers) {
      const PeerIndex p = learn(c, from);
      if (p == kNoPeer) return drop(wire::Drop::TableFull);
      m.providers[m.count++] = p;
    }
    if (d.name) {
      if (catalogue_.size() >= kMaxNames) return drop(wire::Drop::TableFull);
      m.name = catalogue_.intern(*d.name);
    }
    if (d.guid) {
      m.query = query_of(*d.guid, sender, m.name);
      if (m.query == search::kNoQuery) return drop(wire::Drop::TableFull);
    }
    // The protocol reads shared[p] and capacities[p] of any peer it knows.
    shared_.resize(contacts_.size());
    capacities_.resize(contacts_.size());
    contacts_.heard(sender, from, transport_.now());
    ++accepted_;
    if (d.kind == wire::Kind::HelloReply) {
      if (joining_ && options_.join && from == *options_.join) {
        joining_ = false;
        if (server == kNoPeer) server = sender;  // the --join peer is the server itself
        say("joining: the index server is " + std::to_string(id_of(server)) + " at " +
            contacts_.at(server).address.to_string());
        protocol_.set_server(server);
        protocol_.join(contacts_.self(), server);
      }
      return;
    }
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
    const PeerIndex server = protocol_.server();
    j["role"] = server == kNoPeer ? "joining" : is_server() ? "server" : "peer";
    j["server"] = server == kNoPeer
                      ? json(nullptr)
                      : json{{"id", std::to_string(id_of(server))}, {"address", contacts_.at(server).address.to_string()}};
    j["shared"] = json::array();
    for (NameIndex n : shared_[0]) j["shared"].push_back(catalogue_.name(n));
    if (is_server()) {  // the index: registered name -> provider ids
      json index = json::object();
      for (const auto& [name, providers] : protocol_.index().providers) {
        if (name >= catalogue_.size() || providers.empty()) continue;
        json ids = json::array();
        for (PeerIndex p : providers) {
          if (p < contacts_.size()) ids.push_back(std::to_string(id_of(p)));
        }
        index[catalogue_.name(name)] = ids;
        if (index.size() >= 1000) break;
      }
      j["index"] = index;
    }
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
      std::printf("%s %s at %s\n  server     %s\n  shared    ", s["role"].get<std::string>().c_str(),
                  s["id"].get<std::string>().c_str(), s["address"].get<std::string>().c_str(),
                  s["server"].is_null() ? "(not known yet)"
                                        : (s["server"]["id"].get<std::string>() + " (" +
                                           s["server"]["address"].get<std::string>() + ")")
                                              .c_str());
      for (const auto& n : s["shared"]) std::printf(" \"%s\"", n.get<std::string>().c_str());
      if (s.contains("index")) std::printf("\n  index      %s", dump(s["index"]).c_str());
      std::printf("\n  datagrams  %s\n", dump(s["datagrams"]).c_str());
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
      if (is_server()) return error("share: the server's own names are indexed when it starts (--share NAME)");
      if (catalogue_.size() >= kMaxNames) return error("share: too many names");
      const NameIndex name = catalogue_.intern(rest);
      shared_[0].push_back(name);
      if (protocol_.server() != kNoPeer) {
        // Joined already: register it now (before joining, join() registers every shared name).
        Message m;
        m.type = MsgType::Register;
        m.name = name;
        transport_.send(contacts_.self(), protocol_.server(), m);
      }
      if (options_.json) answer(json{{"op", "share"}, {"arg", rest}, {"ok", true}});
      return;
    }
    if (op == "search") {
      if (search::Catalogue::keywords(rest).empty() || rest.size() > wire::kMaxNameBytes) {
        return error("search: KEYWORDS need a letter or digit and at most 255 bytes");
      }
      if (protocol_.server() == kNoPeer) return error("search: not joined yet (the server is not known)");
      if (catalogue_.size() >= kMaxNames) return error("search: too many names");
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
      json j{{"op", "search"}, {"arg", it->second}, {"ok", r.downloaded_from != kNoPeer},
             {"hits", hits},   {"ms", static_cast<double>(r.end - r.start) / 1000.0}};
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
};

int Node::run() {
  const net::Contact& self = contacts_.at(contacts_.self());
  if (options_.json) {
    answer(json{{"event", "listening"},
                {"id", std::to_string(id_of(0))},
                {"address", self.address.to_string()},
                {"port", self.address.port}});
  } else {
    std::printf("p2plab node: central-index peer %s listening on UDP %s; type help for commands\n",
                std::to_string(id_of(0)).c_str(), self.address.to_string().c_str());
    std::fflush(stdout);
  }
  for (const std::string& name : options_.shared) shared_[0].push_back(catalogue_.intern(name));
  if (options_.join) {
    joining_ = true;
    join_deadline_ = transport_.now() + from_ms(options_.join_timeout_s * 1000.0);
  } else {
    protocol_.join(contacts_.self(), kNoPeer);  // the first peer: the index server
    say("the index server (peers --join " + self.address.to_string() + ")");
  }
  const SimTime end = options_.duration_s > 0 ? from_ms(options_.duration_s * 1000.0) : -1;
  while (!stop_) {
    transport_.run_once(std::chrono::milliseconds(20));
    const SimTime now = transport_.now();
    if (joining_ && now >= next_hello_) {
      if (now > join_deadline_) {
        std::fprintf(stderr, "p2plab node: no answer from %s within %.0f s: is the server (or a joined peer) running there?\n",
                     options_.join->to_string().c_str(), options_.join_timeout_s);
        return 1;
      }
      send_hello(*options_.join, wire::Kind::Hello);
      next_hello_ = now + from_ms(std::int64_t{300});
    }
    read_console();
    report_finished();
    if (net::stop_requested()) stop_ = true;
    if (end >= 0 && now >= end) stop_ = true;
  }
  if (!crash_ && protocol_.server() != kNoPeer) {
    protocol_.leave(contacts_.self());  // UNREGISTER at the server
    transport_.run_once(std::chrono::milliseconds(0));
  }
  if (!options_.quiet) {
    if (options_.json) {
      answer(json{{"event", crash_ ? "stopped" : "left"}});
    } else {
      std::printf("p2plab node: %s\n", crash_ ? "stopped (no goodbye)" : "left");
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

}  // namespace p2plab::central_index
