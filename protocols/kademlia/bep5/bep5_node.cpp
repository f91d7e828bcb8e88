// The node program around Dht (dht.hpp): options, the UDP socket, the console, the join through
// --join (a find_node of its own id there, again until it answers or --join-timeout passes),
// answers as text or JSON lines. It does not use the node shell (net/node_shell.hpp): BEP 5's
// datagrams are bencoded KRPC, not the shell's envelope, and its nodes are known by address
// and 160-bit id, without HELLOs.
#include "bep5_node.hpp"

#include <openssl/rand.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "dht.hpp"
#include "p2plab/net/console.hpp"
#include "p2plab/net/monitor.hpp"
#include "p2plab/net/node_shell.hpp"
#include "p2plab/net/udp.hpp"

namespace p2plab::kademlia {

namespace {

using bep5::Dht;
using bep5::DhtConfig;
using bep5::LookupKind;
using bep5::LookupResult;
using krpc::NodeId;
using nlohmann::json;

constexpr int kBadInput = 2;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string arg(const CommandArgs& args, const std::string& name) {
  auto it = args.find(name);
  return it == args.end() ? std::string() : it->second;
}

struct Options {
  net::Endpoint listen{0x7f000001u, 6881};
  std::optional<net::Endpoint> join;
  std::optional<net::Endpoint> monitor;
  std::optional<NodeId> id;
  double join_timeout_s = 10, duration_s = 0;
  bool json = false, quiet = false;
  std::uint64_t seed = 1;
  DhtConfig dht;
};

/// A key as the console takes it: 40 hex digits, or any other word (its SHA-1, as a torrent's
/// name would not be, but a class can type it).
std::optional<NodeId> parse_key(const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (auto hex = krpc::from_hex(text)) return hex;
  return krpc::from_id(sha1_id(text));
}

class Node {
 public:
  Node(const Options& o, const ProtocolModel& model, net::UdpSocket& socket, const net::Endpoint& self,
       const NodeId& id, const std::string& secret)
      : o_(o),
        model_(model),
        socket_(socket),
        self_(self),
        start_(std::chrono::steady_clock::now()),
        dht_(
            id, o.dht,
            [this](const net::Endpoint& to, const std::string& d) {
              if (!socket_.send(to, reinterpret_cast<const std::uint8_t*>(d.data()), d.size())) ++send_failed_;
            },
            secret, o.seed) {}

  int run() {
    if (o_.json) {
      answer(json{{"event", "listening"},
                  {"id", krpc::to_hex(dht_.id())},
                  {"address", self_.to_string()},
                  {"port", self_.port},
                  {"k", o_.dht.k}});
    } else {
      std::printf("p2plab node: kademlia (BEP 5) node %s listening on UDP %s (k = %zu, alpha = %d); type help\n",
                  krpc::to_hex(dht_.id()).c_str(), self_.to_string().c_str(), o_.dht.k, o_.dht.alpha);
      std::fflush(stdout);
    }
    if (o_.join) {
      join_deadline_ = now() + from_ms(o_.join_timeout_s * 1000.0);
      bootstrap_ = dht_.bootstrap(*o_.join, now());
    } else {
      say("the first node of a new DHT (no --join): waiting for others");
    }
    const SimTime end = o_.duration_s > 0 ? from_ms(o_.duration_s * 1000.0) : -1;
    while (!stop_) {
      socket_.receive(std::chrono::milliseconds(20), 64,
                      [this](const std::uint8_t* data, std::size_t size, const net::Endpoint& from) {
                        dht_.receive(std::string_view(reinterpret_cast<const char*>(data), size), from, now());
                      });
      dht_.tick(now());
      for (const LookupResult& r : dht_.take_finished()) {
        if (!finished(r)) return 1;
      }
      console_.poll([this](const std::string& line) { command(line); });
      if (o_.monitor && now() >= next_report_) {
        report();
        next_report_ = now() + from_ms(std::int64_t{500});
      }
      if (net::stop_requested() || (end >= 0 && now() >= end)) stop_ = true;
    }
    if (!o_.quiet) {
      if (o_.json) {
        answer(json{{"event", crash_ ? "stopped" : "left"}});
      } else {
        std::printf("p2plab node: %s\n", crash_ ? "stopped" : "left (a DHT node needs no goodbye)");
      }
    }
    std::fflush(stdout);
    return 0;
  }

 private:
  SimTime now() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start_).count();
  }
  void say(const std::string& line) const {
    if (o_.quiet) return;
    if (o_.json) return answer(json{{"event", line}});
    std::printf("[%8.3f s] %s\n", static_cast<double>(now()) / 1e6, line.c_str());
    std::fflush(stdout);
  }
  void answer(const json& j) const {
    std::printf("%s\n", dump(j).c_str());
    std::fflush(stdout);
  }
  void error(const std::string& text) const {
    if (o_.json) return answer(json{{"error", text}});
    std::printf("error: %s\n", text.c_str());
    std::fflush(stdout);
  }

  /// A finished lookup: the join's, or a console operation's answer. False: the join failed.
  bool finished(const LookupResult& r) {
    if (r.serial == bootstrap_) {
      if (r.ok) {
        bootstrap_ = 0;
        say("joined through " + o_.join->to_string() + ": " + std::to_string(dht_.table().size()) +
            " nodes in the routing table after " + std::to_string(r.rpcs) + " queries");
        return true;
      }
      if (now() > join_deadline_) {
        std::fprintf(stderr, "p2plab node: no answer from %s within %.0f s: is a DHT node running there?\n",
                     o_.join->to_string().c_str(), o_.join_timeout_s);
        return false;
      }
      bootstrap_ = dht_.bootstrap(*o_.join, now());  // again (it timed out)
      return true;
    }
    if (requests_.erase(r.serial) == 0) return true;  // a refresh
    json j{{"op", bep5::to_string(r.kind)},
           {"target", krpc::to_hex(r.target)},
           {"ok", r.ok},
           {"rounds", r.rounds},
           {"rpcs", r.rpcs},
           {"timeouts", r.timeouts},
           {"ms", static_cast<double>(r.finished - r.started) / 1000.0}};
    auto nodes = [](const std::vector<krpc::NodeInfo>& list) {
      json a = json::array();
      for (const krpc::NodeInfo& n : list)
        a.push_back({{"id", krpc::to_hex(n.id)}, {"address", n.address.to_string()}});
      return a;
    };
    j["closest"] = nodes(r.closest);
    if (r.kind == LookupKind::Ping) {
      j.erase("target");
      if (r.ok) j["id"] = krpc::to_hex(r.closest.front().id);
    }
    if (r.kind == LookupKind::GetPeers || r.kind == LookupKind::Announce) {
      j["values"] = json::array();
      for (const net::Endpoint& v : r.values) j["values"].push_back(v.to_string());
      j["values_from"] = nodes(r.values_from);
    }
    if (r.kind == LookupKind::Announce) {
      j["announced"] = r.announced;
      j["announce_ok"] = r.announce_ok;
      j["accepted_by"] = nodes(r.accepted_by);
      j["announce_errors"] = r.announce_errors;
      j["ok"] = r.announce_ok > 0;
    }
    if (o_.json) {
      answer(j);
      return true;
    }
    std::printf("%s %s: %s, %d rounds, %d queries (%d unanswered), %.1f ms\n", j["op"].get<std::string>().c_str(),
                r.kind == LookupKind::Ping ? "" : krpc::to_hex(r.target).c_str(), r.ok ? "ok" : "FAILED", r.rounds,
                r.rpcs, r.timeouts, j["ms"].get<double>());
    for (const krpc::NodeInfo& n : r.closest)
      std::printf("  node %s at %s\n", krpc::to_hex(n.id).c_str(), n.address.to_string().c_str());
    if (j.contains("values")) std::printf("  peers %s\n", j["values"].dump().c_str());
    if (r.kind == LookupKind::Announce)
      std::printf("  announced to %d nodes, %d accepted\n", r.announced, r.announce_ok);
    std::fflush(stdout);
    return true;
  }

  void command(const std::string& line) {
    std::istringstream in(line);
    std::string op;
    in >> op;
    if (op.empty() || op[0] == '#') return;
    if (op == "help") {
      std::printf(
          "commands: state | ping HOST:PORT | find_node ID | get_peers HASH | announce HASH [PORT] | leave | quit\n"
          "  ID, HASH: 40 hex digits, or any other word (its SHA-1); announce: PORT 0 or none: implied_port\n");
      std::fflush(stdout);
      return;
    }
    if (op == "leave" || op == "quit") {
      stop_ = true;
      crash_ = op == "quit";
      return;
    }
    if (op == "state") {
      const json s = state();
      if (o_.json) return answer(json{{"op", "state"}, {"state", s}});
      std::printf("%s\n", s.dump(2, ' ', false, json::error_handler_t::replace).c_str());
      std::fflush(stdout);
      return;
    }
    std::uint32_t serial = 0;
    if (op == "ping") {
      std::string text, why;
      in >> text;
      const auto to = net::parse_endpoint(text, why);
      if (!to || to->ip == 0 || to->port == 0)
        return error("ping: HOST:PORT expected" + (why.empty() ? "" : ": " + why));
      serial = dht_.ping(*to, now());
    } else if (op == "find_node" || op == "get_peers" || op == "announce") {
      std::vector<std::string> words;
      for (std::string w; in >> w;) words.push_back(w);
      const std::size_t most = op == "announce" ? 2 : 1;
      if (words.empty() || words.size() > most)
        return error(op + (op == "announce" ? ": HASH [PORT] expected" : ": one ID or HASH expected") +
                     " (40 hex digits, or one word)");
      const auto key = parse_key(words[0]);
      if (op == "announce") {
        int port = self_.port;
        if (words.size() == 2) {
          const auto number = Id::from_decimal(words[1]);
          if (!number || *number > Id(65535)) return error("announce: PORT must be a number in 0 .. 65535");
          port = static_cast<int>(number->low64());
        }
        serial = dht_.announce(*key, port, now());
      } else {
        serial = op == "find_node" ? dht_.find_node(*key, now()) : dht_.get_peers(*key, now());
      }
    } else {
      return error("unknown command '" + op + "' (try help)");
    }
    if (serial == 0) return error(op + ": busy, " + std::to_string(dht_.running()) + " lookups running");
    requests_.insert(serial);
  }

  /// A state report for the monitor: the routing table's contacts as links (kind 0: bucket
  /// contact, index: the bucket; kind 1: replacement), the info-hashes stored as keys.
  void report() {
    PeerView v;
    v.peer = 0;
    v.id = krpc::to_id(dht_.id());
    v.role = o_.join && !dht_.bootstrapped() ? 1 : 0;  // "joining" until the join lookup answered
    std::vector<Id> ids = {v.id};
    const RoutingTable& t = dht_.table();
    for (int i = 0; i < t.bucket_count() && ids.size() < net::kMaxReportLinks; ++i) {
      const Bucket& b = t.bucket(i);
      for (const BucketEntry& e : b.entries) {
        ids.push_back(e.contact.id);
        v.links.push_back({0, static_cast<std::uint16_t>(i), static_cast<PeerIndex>(ids.size() - 1)});
      }
      for (const Contact& c : b.replacements) {
        ids.push_back(c.id);
        v.links.push_back({1, static_cast<std::uint16_t>(i), static_cast<PeerIndex>(ids.size() - 1)});
      }
    }
    for (const auto& [hash, peers] : dht_.store()) {
      if (v.keys.size() >= net::kMaxReportKeys) break;
      v.keys.push_back(krpc::to_id(hash));
    }
    net::ReportedPeer who = net::report_of(v, model_, [&](PeerIndex p) { return ids.at(p); });
    who.protocol = "kademlia";
    who.bits = 160;
    who.address = self_.to_string();
    who.time_ms = now() / 1000;
    who.key_count = dht_.store().size();
    net::send_report(socket_, *o_.monitor, net::encode_state(who));
  }

  json state() const {
    json j;
    j["id"] = krpc::to_hex(dht_.id());
    j["address"] = self_.to_string();
    j["k"] = o_.dht.k;
    j["alpha"] = o_.dht.alpha;
    j["joined"] = !o_.join || dht_.bootstrapped();
    const RoutingTable& t = dht_.table();
    json buckets = json::array();
    for (int i = t.bucket_count() - 1; i >= 0; --i) {
      const Bucket& b = t.bucket(i);
      if (b.entries.empty() && b.replacements.empty()) continue;
      json nodes = json::array();
      for (const BucketEntry& e : b.entries) {
        nodes.push_back({{"id", krpc::to_hex(krpc::from_id(e.contact.id))},
                         {"address", bep5::unpack(e.contact.address).to_string()},
                         {"failures", e.failures}});
      }
      buckets.push_back({{"index", i}, {"nodes", nodes}, {"replacements", b.replacements.size()}});
    }
    j["table"] = {{"size", t.size()}, {"buckets", buckets}};
    json by_hash = json::object();
    for (const auto& [hash, peers] : dht_.store()) {
      if (by_hash.size() >= 16) break;
      json list = json::array();
      for (const auto& [peer, expires] : peers) list.push_back(bep5::unpack(peer).to_string());
      by_hash[krpc::to_hex(hash)] = list;
    }
    j["store"] = {{"hashes", dht_.store().size()}, {"peers", dht_.stored_peers()}, {"by_hash", by_hash}};
    j["queries_received"] = dht_.queries_received();
    j["errors_sent"] = dht_.errors_sent();
    json clients = json::object();
    for (const auto& [name, c] : dht_.clients())
      clients[name] = {
          {"queries", c.queries}, {"responses", c.responses}, {"errors", c.errors}, {"by_method", c.queries_by_method}};
    j["clients"] = clients;
    j["responses_received"] = dht_.responses_received();
    j["timeouts"] = dht_.timeouts();
    j["bad_tokens"] = dht_.bad_tokens();
    j["running"] = dht_.running();
    j["in_flight"] = dht_.in_flight();
    j["datagrams"] = {{"received", dht_.received()},
                      {"dropped", dht_.dropped()},
                      {"dropped_by_reason", dht_.drops()},
                      {"sent", dht_.sent()},
                      {"send_failed", send_failed_}};
    return j;
  }

  Options o_;
  ProtocolModel model_;
  net::UdpSocket& socket_;
  net::Endpoint self_;
  std::chrono::steady_clock::time_point start_;
  Dht dht_;
  net::Console console_;
  std::set<std::uint32_t> requests_;
  std::uint32_t bootstrap_ = 0;
  SimTime join_deadline_ = 0;
  std::uint64_t send_failed_ = 0;
  SimTime next_report_ = 0;
  bool stop_ = false, crash_ = false;
};

bool read_options(const CommandArgs& args, Options& o, std::string& error) {
  auto endpoint = [&](const char* name, std::optional<net::Endpoint>& out, bool concrete) {
    const std::string text = arg(args, name);
    if (text.empty()) return true;
    std::string why;
    out = net::parse_endpoint(text, why);
    if (!out) {
      error = std::string("--") + name + ": " + why;
      return false;
    }
    if (concrete && (out->ip == 0 || out->port == 0)) {
      error = std::string("--") + name + ": needs a concrete address and port, e.g. 127.0.0.1:6881";
      return false;
    }
    return true;
  };
  std::optional<net::Endpoint> listen;
  if (!endpoint("listen", listen, false) || !endpoint("join", o.join, true) || !endpoint("monitor", o.monitor, true))
    return false;
  if (listen) o.listen = *listen;
  if (const std::string id = arg(args, "id"); !id.empty()) {
    o.id = krpc::from_hex(id);
    if (!o.id) {
      error = "--id: '" + id + "' is not 40 hex digits (a 160-bit node id)";
      return false;
    }
  }
  o.json = arg(args, "json") == "true";
  o.quiet = arg(args, "quiet") == "true";
  int k = static_cast<int>(o.dht.k), timeout_ms = 1500, ttl_s = 1800, token_s = 300;
  if (!net::read_option(args, "join-timeout", 0.1, 3600.0, o.join_timeout_s, error) ||
      !net::read_option(args, "duration", 0.0, 1e7, o.duration_s, error) ||
      !net::read_option(args, "k", 1, 64, k, error) || !net::read_option(args, "alpha", 1, 16, o.dht.alpha, error) ||
      !net::read_option(args, "rpc-timeout-ms", 10, 600000, timeout_ms, error) ||
      !net::read_option(args, "peer-ttl-s", 1, 86400 * 7, ttl_s, error) ||
      !net::read_option(args, "token-period-s", 1, 86400, token_s, error) ||
      !net::read_option(args, "max-queries-per-s", 1, 1000000, o.dht.max_queries_per_s, error)) {
    return false;
  }
  o.dht.k = static_cast<std::size_t>(k);
  o.dht.rpc_timeout = from_ms(std::int64_t{timeout_ms});
  o.dht.peer_ttl = from_ms(std::int64_t{ttl_s} * 1000);
  o.dht.token_period = from_ms(std::int64_t{token_s} * 1000);
  if (const std::string seed = arg(args, "seed"); !seed.empty()) {
    const auto id = Id::from_decimal(seed);
    if (!id || !id->fits_u64()) {
      error = "--seed: '" + seed + "' is not a number below 2^64";
      return false;
    }
    o.seed = id->low64();
  }
  return true;
}

int run_node(const CommandArgs& args, const ProtocolModel& model) {
  Options o;
  std::string error;
  if (!read_options(args, o, error)) {
    std::fprintf(stderr, "p2plab node: %s\n", error.c_str());
    return kBadInput;
  }
  net::UdpSocket socket;
  net::Endpoint self;
  if (!net::bind_node_socket(socket, o.listen, self)) return 1;
  const NodeId id = o.id ? *o.id : krpc::from_id(sha1_id(net::default_id_source(self)));
  // The token secret must be unpredictable (a guessed secret lets anyone announce for others).
  unsigned char secret[20];
  if (RAND_bytes(secret, sizeof secret) != 1) {
    std::fprintf(stderr, "p2plab node: no random bytes for the token secret (OpenSSL RAND_bytes failed)\n");
    return 1;
  }
  net::install_stop_signals();
  Node node(o, model, socket, self, id, std::string(reinterpret_cast<const char*>(secret), sizeof secret));
  return node.run();
}

}  // namespace

ProtocolCommand node_command(const ProtocolModel& model) {
  using net::node_flag;
  using net::node_option;
  ProtocolCommand c;
  c.summary =
      "One real Kademlia node speaking BitTorrent's DHT (BEP 5) on UDP; console: ping, find_node, "
      "get_peers, announce, state, leave";
  c.options = {
      node_option("listen", "UDP address to listen on, HOST:PORT (port 0: any free port)", "127.0.0.1:6881"),
      node_option("join", "Join the DHT through the node at HOST:PORT (a p2plab node, libtorrent, aria2, ...)"),
      node_option("id", "This node's id, 40 hex digits (default: SHA-1 of IP:PORT)"),
      node_option("monitor",
                  "Report state to a monitor (p2plab-viz --attach PORT) at HOST:PORT: the routing table as links"),
      node_option("join-timeout", "Seconds to wait for the --join node to answer", "10"),
      node_option("duration", "Exit after this many seconds (0: run until leave or Ctrl-C)", "0"),
      node_flag("json", "Console answers as one JSON object per line (for scripts and tests)"),
      [] {
        CommandOption quiet = node_flag("quiet", "Print answers only, no event lines");
        quiet.short_name = "q";
        return quiet;
      }(),
      node_option("seed", "Seed of the node's random stream (refresh targets)", "1"),
      node_option("k", "Bucket size and lookup width (BEP 5: 8)", "8"),
      node_option("alpha", "Queries in flight per lookup", "3"),
      node_option("rpc-timeout-ms", "A query unanswered this long failed", "1500"),
      node_option("peer-ttl-s", "Seconds an announced peer is kept", "1800"),
      node_option("token-period-s", "Seconds between token secret renewals (tokens live two periods)", "300"),
      node_option("max-queries-per-s", "Queries answered per source address and second (the others: dropped)", "200"),
  };
  c.run = [model](const CommandArgs& args) { return run_node(args, model); };
  return c;
}

}  // namespace p2plab::kademlia
