#include "p2plab/net/node_shell.hpp"

#include <cstdio>
#include <sstream>

namespace p2plab::net {

using nlohmann::json;

namespace {

constexpr int kBadInput = 2;
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

int bad(const std::string& text) {
  std::fprintf(stderr, "p2plab node: %s\n", text.c_str());
  return kBadInput;
}

std::string arg(const CommandArgs& args, const std::string& name) {
  auto it = args.find(name);
  return it == args.end() ? std::string() : it->second;
}

}  // namespace

std::vector<CommandOption> node_shell_options() {
  return {
      node_option("listen",
                  "UDP address to listen on, HOST:PORT (port 0: any free port; 0.0.0.0:PORT to be reachable from "
                  "other machines)",
                  "127.0.0.1:4000"),
      node_option("join", "Join through the peer at HOST:PORT (default: the first peer of a new overlay)"),
      node_option("id", "This peer's id, a number below 2^(id bits) (default: SHA-1 of IP:PORT)"),
      node_option("monitor", "Report state and messages to a monitor (p2plab-viz --attach PORT) at HOST:PORT"),
      node_option("join-timeout", "Seconds to wait for the --join peer to answer", "10"),
      node_option("duration", "Leave and exit after this many seconds (0: run until leave or Ctrl-C)", "0"),
      node_flag("json", "Console answers as one JSON object per line (for scripts and tests)"),
      [] {
        CommandOption quiet = node_flag("quiet", "Print answers only, no event lines");
        quiet.short_name = "q";
        return quiet;
      }(),
      node_option("seed", "Seed of the peer's random stream (timer phases)", "1"),
      node_option("max-contacts", "Contacts remembered at most (when full, one no longer in use is replaced)",
                  std::to_string(ContactTable::kDefaultCapacity)),
      node_option("new-contacts-per-s", "New contacts one sender address may introduce per second", "256"),
  };
}

namespace {

bool read_basics(const CommandArgs& args, NodeBasics& b, std::string& error) {
  auto endpoint = [&](const char* name, std::optional<Endpoint>& out, bool concrete) {
    const std::string text = arg(args, name);
    if (text.empty()) return true;
    std::string why;
    out = parse_endpoint(text, why);
    if (!out) {
      error = std::string("--") + name + ": " + why;
      return false;
    }
    if (concrete && (out->ip == 0 || out->port == 0)) {
      error = std::string("--") + name + ": needs a concrete address and port, e.g. 192.168.1.20:4000";
      return false;
    }
    return true;
  };
  std::optional<Endpoint> listen;
  if (!endpoint("listen", listen, false) || !endpoint("join", b.join, true) || !endpoint("monitor", b.monitor, true)) {
    return false;
  }
  if (listen) b.listen = *listen;
  b.id = arg(args, "id");
  b.json = arg(args, "json") == "true";
  b.quiet = arg(args, "quiet") == "true";
  int max_contacts = static_cast<int>(b.max_contacts);
  if (!read_option(args, "join-timeout", 0.1, 3600.0, b.join_timeout_s, error) ||
      !read_option(args, "duration", 0.0, 1e7, b.duration_s, error) ||
      !read_option(args, "max-contacts", static_cast<long>(ContactTable::kMinCapacity), 1L << 24, max_contacts,
                   error) ||
      !read_option(args, "new-contacts-per-s", 1, 1000000, b.new_contacts_per_s, error)) {
    return false;
  }
  b.max_contacts = static_cast<std::size_t>(max_contacts);
  const std::string seed = arg(args, "seed");
  if (!seed.empty()) {
    const auto id = Id::from_decimal(seed);
    if (!id || !id->fits_u64()) {
      error = "--seed: '" + seed + "' is not a number below 2^64";
      return false;
    }
    b.seed = id->low64();
  }
  return true;
}

int run_node(const CommandArgs& args, const NodeConfigure& configure) {
  NodeBasics basics;
  NodeSetup setup;
  std::string error;
  if (!read_basics(args, basics, error) || !configure(args, setup, error)) return bad(error);
  const IdSpace space(setup.id_bits);
  std::optional<Id> id;
  if (!basics.id.empty()) {
    id = Id::from_decimal(basics.id);
    if (!id || !space.contains(*id)) {
      return bad("--id: '" + basics.id + "' is not a number below 2^" + std::to_string(setup.id_bits));
    }
  }
  UdpSocket socket;
  Contact self;
  if (!bind_node_socket(socket, basics.listen, self.address)) return 1;
  self.id = id ? *id : space.hash(default_id_source(self.address));  // SHA-1 of "IP:PORT" mod 2^bits
  install_stop_signals();
  Shell shell(basics, setup, socket, self);
  std::unique_ptr<NodeApp> app = setup.make(shell);
  return shell.run(*app);
}

}  // namespace

CommandOption node_option(std::string name, std::string help, std::string default_value, std::string short_name) {
  CommandOption o;
  o.name = std::move(name);
  o.help = std::move(help);
  o.default_value = std::move(default_value);
  o.short_name = std::move(short_name);
  return o;
}

CommandOption node_flag(std::string name, std::string help) {
  CommandOption o = node_option(std::move(name), std::move(help));
  o.flag = true;
  return o;
}

CommandOption node_list(std::string name, std::string help) {
  CommandOption o = node_option(std::move(name), std::move(help));
  o.repeatable = true;
  return o;
}

ProtocolCommand node_command(std::string summary, std::vector<CommandOption> options, NodeConfigure configure) {
  ProtocolCommand c;
  c.summary = std::move(summary);
  c.options = node_shell_options();
  c.options.insert(c.options.end(), options.begin(), options.end());
  c.run = [configure = std::move(configure)](const CommandArgs& args) { return run_node(args, configure); };
  return c;
}

bool read_option(const CommandArgs& args, const std::string& name, long min, long max, int& out, std::string& error) {
  const std::string text = arg(args, name);
  if (text.empty()) return true;  // absent: the protocol's default stays
  try {
    std::size_t used = 0;
    const long value = std::stol(text, &used);
    if (used == text.size() && value >= min && value <= max) {
      out = static_cast<int>(value);
      return true;
    }
  } catch (const std::exception&) {
  }
  error = "--" + name + ": '" + text + "' is not a whole number in [" + std::to_string(min) + ", " +
          std::to_string(max) + "]";
  return false;
}

bool read_option(const CommandArgs& args, const std::string& name, double min, double max, double& out,
                 std::string& error) {
  const std::string text = arg(args, name);
  if (text.empty()) return true;
  try {
    std::size_t used = 0;
    const double value = std::stod(text, &used);
    if (used == text.size() && value >= min && value <= max) {
      out = value;
      return true;
    }
  } catch (const std::exception&) {
  }
  std::ostringstream range;
  range << "[" << min << ", " << max << "]";
  error = "--" + name + ": '" + text + "' is not a number in " + range.str();
  return false;
}

std::vector<std::string> read_list(const CommandArgs& args, const std::string& name) {
  std::vector<std::string> values;
  std::istringstream in(arg(args, name));
  for (std::string line; std::getline(in, line);) values.push_back(line);
  return values;
}

// ---- Shell ----

Shell::Shell(const NodeBasics& basics, const NodeSetup& setup, UdpSocket& socket, const Contact& self)
    : basics_(basics),
      setup_(setup),
      socket_(socket),
      contacts_(self, basics.max_contacts),
      drops_(static_cast<std::size_t>(wire::Drop::Count), 0) {}

wire::Contact Shell::wire_contact(PeerIndex p) const {
  wire::Contact c;
  const Contact& contact = contacts_.at(p);
  c.id = contact.id;
  c.is_sender = p == contacts_.self();
  if (!c.is_sender) c.address = contact.address;
  return c;
}

PeerIndex Shell::learn(const wire::Contact& c, const Endpoint& from) {
  return learn_budgeted(c.id, c.is_sender ? from : c.address, from);
}

PeerIndex Shell::learn_budgeted(const Id& id, const Endpoint& address, const Endpoint& from) {
  if (const PeerIndex known = contacts_.find(id); known != kNoPeer) return contacts_.learn(id, address);
  const SimTime now = app_->now();
  if (now >= budget_window_) {  // a new second: every sender's budget is full again
    new_contacts_.clear();
    budget_window_ = now + from_ms(std::int64_t{1000});
  }
  std::uint64_t key = (std::uint64_t{from.ip} << 16) | from.port;
  if (new_contacts_.size() >= kBudgetSenders && new_contacts_.count(key) == 0) key = 0;  // the shared budget
  int& used = new_contacts_[key];
  if (used >= basics_.new_contacts_per_s) {
    ++over_budget_;
    return kNoPeer;
  }
  const PeerIndex p = contacts_.learn(id, address);
  if (p != kNoPeer) ++used;
  return p;
}

void Shell::drop(wire::Drop why) {
  ++drops_[static_cast<std::size_t>(why)];
  ++dropped_;
}

void Shell::send_hello(const Endpoint& to, wire::Kind kind) {
  wire::Writer w(setup_.format, kind, self_id());
  if (kind == wire::Kind::HelloReply && !app_->hello_reply(w)) return;
  std::vector<std::uint8_t> out;
  if (w.finish(out)) socket_.send(to, out.data(), out.size());
}

void Shell::receive(const std::uint8_t* data, std::size_t size, const Endpoint& from) {
  wire::Reader r(setup_.format);
  if (!r.open(data, size) || !app_->read(r)) return drop(r.why());
  if (r.sender() == self_id()) return drop(wire::Drop::SelfId);
  if (r.kind() == wire::Kind::Hello) {
    send_hello(from, wire::Kind::HelloReply);
    ++accepted_;
    return;
  }
  // Every peer named in the datagram gets a local index before anything is applied.
  contacts_.begin_datagram();
  const PeerIndex sender = learn_budgeted(r.sender(), from, from);
  if (sender == kNoPeer) return drop(wire::Drop::TableFull);
  wire::Drop why = wire::Drop::TableFull;
  if (!app_->map(sender, from, why)) return drop(why);
  contacts_.heard(sender, from, app_->now());
  ++accepted_;
  if (r.kind() == wire::Kind::HelloReply) {
    if (joining_ && basics_.join && from == *basics_.join) {
      joining_ = false;
      joined_once_ = true;
      app_->joined(sender);
    }
    return;
  }
  note_event(sender, contacts_.self(), app_->pending_name());
  app_->deliver(sender);
}

void Shell::start_join() {
  joining_ = true;
  next_hello_ = app_->now();
  join_deadline_ = app_->now() + from_ms(basics_.join_timeout_s * 1000.0);
}

void Shell::say(const std::string& line) const {
  if (basics_.quiet) return;
  if (basics_.json) return answer(json{{"event", line}});
  std::printf("[%8.3f s] %s\n", static_cast<double>(app_->now()) / 1e6, line.c_str());
  std::fflush(stdout);
}

void Shell::answer(const json& j) const {
  std::printf("%s\n", dump(j).c_str());
  std::fflush(stdout);
}

void Shell::error(const std::string& text) const {
  if (basics_.json) return answer(json{{"error", text}});
  std::printf("error: %s\n", text.c_str());
  std::fflush(stdout);
}

json Shell::state_json() const {
  json j = app_->state();
  j["id"] = self_id().to_decimal();
  j["address"] = contacts_.at(contacts_.self()).address.to_string();
  j["contacts"] = contacts_.size() - 1;
  j["contacts_replaced"] = contacts_.replaced();
  j["contacts_over_budget"] = over_budget_;
  json drops = json::object();
  for (std::size_t r = 0; r < drops_.size(); ++r) {
    if (drops_[r] != 0) drops[wire::to_string(static_cast<wire::Drop>(r))] = drops_[r];
  }
  const TransportCounters& c = app_->counters();
  j["datagrams"] = {{"received", c.received},          {"accepted", accepted_}, {"dropped", dropped_},
                    {"dropped_by_reason", drops},      {"sent", c.sent},        {"send_failed", c.send_failed},
                    {"not_encodable", c.not_encodable}};
  if (c.bulk_sent + c.bulk_dropped + c.bulk_unverified + app_->queued() > 0) {
    j["transfers"] = {{"sent", c.bulk_sent},
                      {"queued", app_->queued()},
                      {"merged", c.bulk_merged},
                      {"dropped", c.bulk_dropped},
                      {"not_to_unverified", c.bulk_unverified}};
  }
  return j;
}

void Shell::command(const std::string& line) {
  std::istringstream in(line);
  std::string op;
  in >> op;
  if (op.empty() || op[0] == '#') return;
  if (op == "state") {
    const json s = state_json();
    if (basics_.json) return answer(json{{"op", "state"}, {"state", s}});
    std::printf("%s  datagrams   %s\n", app_->state_text(s).c_str(), dump(s["datagrams"]).c_str());
    std::fflush(stdout);
    return;
  }
  if (op == "help") {
    std::printf("commands: state | %s | leave | quit (no goodbye)\n", app_->help().c_str());
    std::fflush(stdout);
    return;
  }
  if (op == "leave" || op == "quit") {
    stop_ = true;
    crash_ = op == "quit";
    return;
  }
  if (!app_->command(op, in)) error("unknown command '" + op + "' (try help)");
}

void Shell::note_event(PeerIndex from, PeerIndex to, const char* type) {
  if (!basics_.monitor || events_.size() >= kMaxReportEvents) return;
  events_.push_back({contacts_.at(from).id, contacts_.at(to).id, type});
}

void Shell::report(bool state) {
  if (!basics_.monitor) return;
  ReportedPeer who;
  if (state) {
    who = report_of(app_->view(), setup_.model, [this](PeerIndex p) { return contacts_.at(p).id; });
    who.address = contacts_.at(contacts_.self()).address.to_string();
  }
  who.protocol = setup_.protocol;
  who.bits = setup_.id_bits;
  who.id = self_id();
  who.time_ms = app_->now() / 1000;
  if (state) return send_report(socket_, *basics_.monitor, encode_state(who));
  if (events_.empty()) return;
  send_report(socket_, *basics_.monitor, encode_events(who, events_));
  events_.clear();
}

int Shell::run(NodeApp& app) {
  app_ = &app;
  if (app.contacts_replaceable()) {
    contacts_.set_in_use([this](std::vector<std::uint8_t>& mark) {
      mark[contacts_.self()] = 1;
      if (basics_.join) {  // the bootstrap peer stays: re-joins go through it
        for (PeerIndex p = 1; p < contacts_.size(); ++p) mark[p] |= contacts_.at(p).address == *basics_.join;
      }
      app_->mark_in_use(mark);
    });
    contacts_.set_on_replace([this](PeerIndex p) { app_->forget_peer(p); });
  }
  const Contact& self = contacts_.at(contacts_.self());
  if (basics_.json) {
    json j = app.listening();
    j["event"] = "listening";
    j["id"] = self.id.to_decimal();
    j["address"] = self.address.to_string();
    j["port"] = self.address.port;
    answer(j);
  } else {
    const std::string settings = app.settings();
    std::printf("p2plab node: %s listening on UDP %s%s; type help for commands\n", app.title().c_str(),
                self.address.to_string().c_str(), settings.empty() ? "" : (" (" + settings + ")").c_str());
    std::fflush(stdout);
  }
  if (basics_.join) {
    start_join();
  } else {
    joined_once_ = true;
    say(app.start());
  }
  const SimTime end = basics_.duration_s > 0 ? from_ms(basics_.duration_s * 1000.0) : -1;
  SimTime next_state_report = 0, next_event_report = 0;
  while (!stop_) {
    app.poll(std::chrono::milliseconds(20));
    const SimTime now = app.now();
    if (joining_ && now >= next_hello_) {
      if (!joined_once_ && now > join_deadline_) {
        std::fprintf(stderr, "p2plab node: no answer from %s within %.0f s: is a peer running there?\n",
                     basics_.join->to_string().c_str(), basics_.join_timeout_s);
        return 1;
      }
      send_hello(*basics_.join, wire::Kind::Hello);
      next_hello_ = now + from_ms(std::int64_t{300});
    }
    console_.poll([this](const std::string& line) { command(line); });
    app.tick();
    if (now >= next_event_report) {
      report(false);
      next_event_report = now + from_ms(std::int64_t{200});
    }
    if (now >= next_state_report) {
      report(true);
      next_state_report = now + from_ms(std::int64_t{500});
    }
    if (stop_requested()) stop_ = true;
    if (end >= 0 && now >= end) stop_ = true;
  }
  std::string how = "stopped (no goodbye)";
  if (!crash_) {
    how = app.leave();
    app.poll(std::chrono::milliseconds(0));
    // The keys handed over leave at the paced rate: wait for them (at most 30 s).
    const SimTime deadline = app.now() + from_ms(std::int64_t{30000});
    while (app.queued() > 0 && app.now() < deadline) app.poll(std::chrono::milliseconds(1));
  }
  if (!basics_.quiet) {
    if (basics_.json) {
      answer(json{{"event", crash_ ? "stopped" : "left"}});
    } else {
      std::printf("p2plab node: %s\n", how.c_str());
    }
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace p2plab::net
