// One real superpeer-protocol peer: see superpeer_node.hpp. The shell runs the loop; this file
// maps the protocol's messages to the wire (wire.hpp) and says what the peer is.
#include "superpeer_node.hpp"

#include "common/search_node.hpp"
#include "wire.hpp"

namespace p2plab::superpeer {

namespace {

using nlohmann::json;

class Node final : public search::SearchNode<Protocol> {
 public:
  Node(net::Shell& shell, const Params& params, const std::vector<std::string>& shared, search::NodeLimits limits)
      : SearchNode(shell, params, shared, limits), params_(params) {}

  bool encode(PeerIndex, const Message& m, std::vector<std::uint8_t>& out) override {
    wire::Datagram d;
    if (!to_wire(m, d)) return false;
    if ((m.type == MsgType::Query || m.type == MsgType::Announce) && !name_to_wire(m.name, d.name)) return false;
    if (m.node != kNoPeer) d.node = shell_.wire_contact(m.node);
    if (m.relay != kNoPeer) d.relay = shell_.wire_contact(m.relay);
    if (m.type == MsgType::SuperpeerList) {
      for (std::size_t i = 0; i < m.flag && i < m.list.size(); ++i) {
        if (m.list[i] != kNoPeer) d.list.push_back(shell_.wire_contact(m.list[i]));
      }
      d.flag = static_cast<std::uint8_t>(d.list.size());
    }
    return wire::encode(d, out);
  }
  bool read(net::wire::Reader& r) override { return wire::read(r, datagram_); }
  // A full contact table replaces contacts the peer no longer needs instead of refusing
  // newcomers.
  bool contacts_replaceable() const override { return true; }
  void mark_in_use(std::vector<std::uint8_t>& mark) const override { protocol_.mark_peers_in_use(self(), mark); }
  void forget_peer(PeerIndex peer) override { protocol_.forget_peer(self(), peer); }
  bool map(PeerIndex sender, const net::Endpoint& from, net::wire::Drop&) override {
    const wire::Datagram& d = datagram_;
    from_wire(d);
    if (d.node && (pending_.node = shell_.learn(*d.node, from)) == kNoPeer) return false;
    if (d.relay && (pending_.relay = shell_.learn(*d.relay, from)) == kNoPeer) return false;
    for (std::size_t i = 0; i < d.list.size() && i < pending_.list.size(); ++i) {
      if ((pending_.list[i] = shell_.learn(d.list[i], from)) == kNoPeer) return false;
    }
    return intern(d.name, pending_.name) && map_query(d.guid, sender);
  }

  std::string start() override {
    protocol_.join(self(), kNoPeer);
    return "first peer of a new overlay: a superpeer";
  }

  std::string title() const override { return "superpeer-protocol peer " + shell_.id_text(self()); }
  std::string settings() const override {
    return "degree " + std::to_string(params_.degree) + ", TTL " + std::to_string(params_.ttl);
  }
  json state() const override {
    json j = state_with_neighbors();
    j["role"] = protocol_.role(self());
    return j;
  }
  std::string state_text(const json& s) const override {
    return "peer " + s["id"].get<std::string>() + " (" + s["role"].get<std::string>() + ") at " +
           s["address"].get<std::string>() + neighbor_lines(s);
  }

 protected:
  void share(const std::string& name) override {
    shared_[0].push_back(catalogue_.intern(name));
    // A leaf that is attached already tells its superpeers (as its ATTACH would have).
    if (!protocol_.is_superpeer(self())) {
      Message announce;
      announce.type = MsgType::Announce;
      announce.name = shared_[0].back();
      for (PeerIndex s : protocol_.superpeers_of(self())) transport_.send(self(), s, announce);
    }
    if (shell_.json_mode()) shell_.answer({{"op", "share"}, {"arg", name}, {"ok", true}});
  }

 private:
  Params params_;
  wire::Datagram datagram_;
};

}  // namespace

ProtocolCommand node_command(const ProtocolModel& model) {
  std::vector<CommandOption> options = {
      net::node_option("ttl", "TTL of a query among the superpeers", "4"),
      net::node_option("degree", "Superpeer overlay degree", "4"),
      net::node_option("superpeer-ratio", "Target share of superpeers (a superpeer refuses capable leaves beyond it)",
                       "0.1"),
      net::node_option("collect-ms", "How long a search waits for hits", "3000"),
      net::node_option("rpc-timeout-ms", "An answer missing this long means the peer failed", "1000"),
  };
  for (const CommandOption& o : search::node_search_options()) options.push_back(o);
  return net::node_command(
      "One real superpeer-protocol peer (leaf or superpeer) on a UDP socket; console: share, search, state, leave",
      std::move(options), [model](const CommandArgs& args, net::NodeSetup& setup, std::string& error) {
        Params params;
        double collect_ms = 3000, timeout_ms = 1000;
        if (!net::read_option(args, "ttl", 1, 255, params.ttl, error) ||
            !net::read_option(args, "degree", 1, 100, params.degree, error) ||
            !net::read_option(args, "superpeer-ratio", 0.01, 1.0, params.superpeer_ratio, error) ||
            !net::read_option(args, "collect-ms", 10.0, 600000.0, collect_ms, error) ||
            !net::read_option(args, "rpc-timeout-ms", 10.0, 600000.0, timeout_ms, error)) {
          return false;
        }
        search::NodeLimits limits;
        if (!search::read_limits(args, limits, error)) return false;
        params.collect = from_ms(collect_ms);
        params.timeout = from_ms(timeout_ms);
        const std::vector<std::string> shared = net::read_list(args, "share");
        setup.protocol = "superpeer";
        setup.format = wire::format();
        setup.model = model;
        setup.make = [params, shared, limits](net::Shell& shell) {
          return std::make_unique<Node>(shell, params, shared, limits);
        };
        return true;
      });
}

}  // namespace p2plab::superpeer
