// One real flooding peer: see flooding_node.hpp. The shell runs the loop; this file maps the
// protocol's messages to the wire (wire.hpp) and says what the peer is.
#include "flooding_node.hpp"

#include "common/search_node.hpp"
#include "wire.hpp"

namespace p2plab::flooding {

namespace {

using nlohmann::json;

class Node final : public search::SearchNode<Protocol> {
 public:
  Node(net::Shell& shell, const Params& params, const std::vector<std::string>& shared, search::NodeLimits limits)
      : SearchNode(shell, params, shared, limits), params_(params) {}

  // The contact table: neighbours, candidates and download providers stay; others may go.
  bool contacts_replaceable() const override { return true; }
  void mark_in_use(std::vector<std::uint8_t>& mark) const override { protocol_.mark_peers_in_use(self(), mark); }

  bool encode(PeerIndex, const Message& m, std::vector<std::uint8_t>& out) override {
    wire::Datagram d;
    if (!to_wire(m, d)) return false;
    d.round = m.round;
    if ((m.type == MsgType::Query) && !name_to_wire(m.name, d.name)) return false;
    if (m.node != kNoPeer) d.node = shell_.wire_contact(m.node);
    return wire::encode(d, out);
  }
  bool read(net::wire::Reader& r) override { return wire::read(r, datagram_); }
  bool map(PeerIndex sender, const net::Endpoint& from, net::wire::Drop&) override {
    const wire::Datagram& d = datagram_;
    from_wire(d);
    pending_.round = d.round;
    if (d.node && (pending_.node = shell_.learn(*d.node, from)) == kNoPeer) return false;
    return intern(d.name, pending_.name) && map_query(d.guid, sender);
  }

  std::string start() override {
    protocol_.join(self(), kNoPeer);
    return "first peer of a new overlay";
  }

  std::string title() const override { return "flooding peer " + shell_.id_text(self()); }
  std::string settings() const override {
    return "degree " + std::to_string(params_.degree) + ", TTL " + std::to_string(params_.ttl);
  }
  json state() const override { return state_with_neighbors(); }
  std::string state_text(const json& s) const override {
    return "peer " + s["id"].get<std::string>() + " at " + s["address"].get<std::string>() + neighbor_lines(s);
  }

 private:
  Params params_;
  wire::Datagram datagram_;
};

}  // namespace

ProtocolCommand node_command(const ProtocolModel& model) {
  std::vector<CommandOption> options = {
      net::node_option("ttl", "TTL of a query", "7"),
      net::node_option("degree", "Neighbours a peer keeps (it accepts twice as many)", "4"),
      net::node_option("collect-ms", "How long a search waits for hits", "3000"),
      net::node_option("rpc-timeout-ms", "A PONG, CONNECT or DOWNLOAD unanswered this long means the peer failed",
                       "1000"),
  };
  for (const CommandOption& o : search::node_search_options()) options.push_back(o);
  return net::node_command("One real flooding peer on a UDP socket; console: share, search, state, leave",
                           std::move(options),
                           [model](const CommandArgs& args, net::NodeSetup& setup, std::string& error) {
                             Params params;
                             double collect_ms = 3000, timeout_ms = 1000;
                             if (!net::read_option(args, "ttl", 1, 255, params.ttl, error) ||
                                 !net::read_option(args, "degree", 1, 100, params.degree, error) ||
                                 !net::read_option(args, "collect-ms", 10.0, 600000.0, collect_ms, error) ||
                                 !net::read_option(args, "rpc-timeout-ms", 10.0, 600000.0, timeout_ms, error)) {
                               return false;
                             }
                             search::NodeLimits limits;
                             if (!search::read_limits(args, limits, error)) return false;
                             params.max_degree = 2 * params.degree;
                             params.collect = from_ms(collect_ms);
                             params.timeout = from_ms(timeout_ms);
                             const std::vector<std::string> shared = net::read_list(args, "share");
                             setup.protocol = "flooding";
                             setup.format = wire::format();
                             setup.model = model;
                             setup.make = [params, shared, limits](net::Shell& shell) {
                               return std::make_unique<Node>(shell, params, shared, limits);
                             };
                             return true;
                           });
}

}  // namespace p2plab::flooding
