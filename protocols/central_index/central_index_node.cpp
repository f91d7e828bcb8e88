// One real central-index peer: see central_index_node.hpp. The shell runs the loop; this file
// maps the protocol's messages to the wire (wire.hpp) and says what the peer is. A peer that is
// not the server answers a HELLO with the server's contact, so any joined peer can be --join.
#include "central_index_node.hpp"

#include "common/search_node.hpp"
#include "wire.hpp"

namespace p2plab::central_index {

namespace {

using nlohmann::json;

class Node final : public search::SearchNode<Protocol> {
 public:
  using SearchNode::SearchNode;

  bool encode(PeerIndex, const Message& m, std::vector<std::uint8_t>& out) override {
    wire::Datagram d;
    d.sender = shell_.self_id().low64();
    d.type = m.type;
    d.flag = m.type == MsgType::SearchResult ? m.flag : 0;
    if (m.type == MsgType::Search || m.type == MsgType::SearchResult || m.type == MsgType::Download ||
        m.type == MsgType::DownloadOk) {
      if (!(d.guid = guid_of(m.query))) return false;
    }
    if ((m.type == MsgType::Register || m.type == MsgType::Search) && !name_to_wire(m.name, d.name)) return false;
    if (m.type == MsgType::SearchResult) {
      for (int i = 0; i < m.count && i < kProvidersPerMessage; ++i) {
        const PeerIndex p = m.providers[static_cast<std::size_t>(i)];
        if (p >= shell_.contacts().size()) return false;
        d.providers.push_back(shell_.wire_contact(p));
      }
    }
    return wire::encode(d, out);
  }
  bool hello_reply(net::wire::Writer& w) override {
    if (is_server()) return true;
    if (protocol_.server() == kNoPeer) return false;  // not joined yet: nothing to tell
    w.contact("n", shell_.wire_contact(protocol_.server()));
    return true;
  }
  bool read(net::wire::Reader& r) override { return wire::read(r, datagram_); }
  // A full contact table replaces contacts the peer no longer needs (silent providers, at the
  // server) instead of refusing newcomers.
  bool contacts_replaceable() const override { return true; }
  void mark_in_use(std::vector<std::uint8_t>& mark) const override { protocol_.mark_peers_in_use(self(), mark); }
  void forget_peer(PeerIndex peer) override { protocol_.forget_peer(peer); }
  bool map(PeerIndex sender, const net::Endpoint& from, net::wire::Drop& why) override {
    const wire::Datagram& d = datagram_;
    server_named_ = kNoPeer;
    if (d.server) {
      if (d.server->id == shell_.self_id()) {
        why = net::wire::Drop::SelfId;
        return false;
      }
      if ((server_named_ = shell_.learn(*d.server, from)) == kNoPeer) return false;
    }
    pending_ = Message{};
    pending_.type = d.type;
    pending_.flag = d.flag;
    for (const auto& c : d.providers) {
      const PeerIndex p = shell_.learn(c, from);
      if (p == kNoPeer) return false;
      pending_.providers[static_cast<std::size_t>(pending_.count++)] = p;
    }
    return intern(d.name, pending_.name) && map_query(d.guid, sender);
  }

  std::string start() override {
    protocol_.join(self(), kNoPeer);  // the first peer: the index server
    return "the index server (peers --join " + shell_.contacts().at(self()).address.to_string() + ")";
  }
  void joined(PeerIndex bootstrap) override {
    const PeerIndex server = server_named_ != kNoPeer ? server_named_ : bootstrap;  // or the server itself
    shell_.say("joining: the index server is " + shell_.id_text(server) + " at " +
               shell_.contacts().at(server).address.to_string());
    protocol_.set_server(server);
    protocol_.join(self(), server);
  }
  std::string leave() override {
    if (protocol_.server() != kNoPeer) protocol_.leave(self());  // UNREGISTER at the server
    return "left";
  }

  std::string title() const override { return "central-index peer " + shell_.id_text(self()); }
  json state() const override {
    json j = SearchNode::state();
    const PeerIndex server = protocol_.server();
    j["role"] = server == kNoPeer ? "joining" : is_server() ? "server" : "peer";
    j["server"] = server == kNoPeer ? json(nullptr) : contact_json(server);
    if (is_server()) {  // the index: registered name -> provider ids
      json index = json::object();
      for (const auto& [name, providers] : protocol_.index().providers) {
        if (name >= catalogue_.size() || providers.empty()) continue;
        json ids = json::array();
        for (PeerIndex p : providers) {
          if (p < shell_.contacts().size()) ids.push_back(shell_.id_text(p));
        }
        index[catalogue_.name(name)] = ids;
        if (index.size() >= 1000) break;
      }
      j["index"] = index;
    }
    return j;
  }
  std::string state_text(const json& s) const override {
    std::string text = s["role"].get<std::string>() + " " + s["id"].get<std::string>() + " at " +
                       s["address"].get<std::string>() + "\n  server     " +
                       (s["server"].is_null() ? std::string("(not known yet)")
                                              : s["server"]["id"].get<std::string>() + " (" +
                                                    s["server"]["address"].get<std::string>() + ")") +
                       "\n  shared    ";
    for (const auto& n : s["shared"]) text += " \"" + n.get<std::string>() + "\"";
    if (s.contains("index")) text += "\n  index      " + s["index"].dump();
    return text + "\n";
  }

 protected:
  void share(const std::string& name) override {
    if (is_server()) return shell_.error("share: the server's own names are indexed when it starts (--share NAME)");
    if (catalogue_.size() >= limits_.names && !compact_names()) return shell_.error("share: too many names");
    const NameIndex n = catalogue_.intern(name);
    shared_[0].push_back(n);
    if (protocol_.server() != kNoPeer) {
      // Joined already: register it now (before joining, join() registers every shared name).
      Message m;
      m.type = MsgType::Register;
      m.name = n;
      transport_.send(self(), protocol_.server(), m);
    }
    if (shell_.json_mode()) shell_.answer({{"op", "share"}, {"arg", name}, {"ok", true}});
  }
  std::string search_refused() const override {
    return protocol_.server() == kNoPeer ? "not joined yet (the server is not known)" : "";
  }
  bool counts_reached() const override { return false; }

 private:
  bool is_server() const { return protocol_.server() == self(); }

  wire::Datagram datagram_;
  PeerIndex server_named_ = kNoPeer;  // the server a HELLO_REPLY named
};

}  // namespace

ProtocolCommand node_command(const ProtocolModel& model) {
  std::vector<CommandOption> options = {
      net::node_option("rpc-timeout-ms", "A search or download unanswered this long fails", "1000"),
      net::node_option("keepalive-ms",
                       "Period of a peer's keepalive to the server (a restarted server learns the peers back within "
                       "one; it forgets a peer silent for three)",
                       "10000"),
  };
  for (const CommandOption& o : search::node_search_options()) options.push_back(o);
  return net::node_command(
      "One real central-index peer on a UDP socket: the first is the index server, --join makes a peer; console: "
      "share, search, state, leave",
      std::move(options), [model](const CommandArgs& args, net::NodeSetup& setup, std::string& error) {
        Params params;
        double timeout_ms = 1000, keepalive_ms = 10000;
        if (!net::read_option(args, "rpc-timeout-ms", 10.0, 600000.0, timeout_ms, error) ||
            !net::read_option(args, "keepalive-ms", 50.0, 3600000.0, keepalive_ms, error)) {
          return false;
        }
        params.keepalive = from_ms(keepalive_ms);
        search::NodeLimits limits;
        if (!search::read_limits(args, limits, error)) return false;
        params.timeout = from_ms(timeout_ms);
        const std::vector<std::string> shared = net::read_list(args, "share");
        setup.protocol = "central_index";
        setup.format = wire::format();
        setup.model = model;
        setup.make = [params, shared, limits](net::Shell& shell) {
          return std::make_unique<Node>(shell, params, shared, limits);
        };
        return true;
      });
}

}  // namespace p2plab::central_index
