#pragma once
// The node shell: what every real peer (`p2plab node --protocol X`) shares, whatever the protocol.
// It binds the socket, names the peer, checks every datagram's envelope (net/wire.hpp) and counts
// the dropped ones by reason, answers HELLOs and sends them to the --join peer until it answers,
// reads console lines (state, help, leave, quit; the rest goes to the protocol), sends monitor
// reports (net/monitor.hpp) and stops on SIGINT / SIGTERM, --duration or `leave`.
//
// A protocol's node (protocols/*/*_node.cpp) gives only its own part, a NodeApp: its message
// mapping (read / map / deliver, encode), its console commands, its state, its view for the
// monitor; and its own command-line options, through node_command().
#include <chrono>
#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "p2plab/net/console.hpp"
#include "p2plab/net/contacts.hpp"
#include "p2plab/net/monitor.hpp"
#include "p2plab/net/socket_transport.hpp"
#include "p2plab/net/udp.hpp"
#include "p2plab/net/wire.hpp"
#include "p2plab/protocol_command.hpp"
#include "p2plab/view_model.hpp"

namespace p2plab::net {

/// The shell's own options, common to every protocol's node.
struct NodeBasics {
  Endpoint listen;
  std::optional<Endpoint> join;     ///< bootstrap peer; none: the first peer of a new overlay
  std::optional<Endpoint> monitor;  ///< where to send monitor reports
  std::string id;                   ///< --id as given; "" is SHA-1 of "IP:PORT" mod 2^bits
  bool json = false, quiet = false;
  double join_timeout_s = 10, duration_s = 0;
  std::uint64_t seed = 1;
  std::size_t max_contacts = ContactTable::kDefaultCapacity;  ///< --max-contacts
  int new_contacts_per_s = 256;  ///< --new-contacts-per-s: new contacts one sender address may introduce per second
};

class Shell;

/// One protocol's part of a real peer.
class NodeApp {
 public:
  virtual ~NodeApp() = default;

  // ---- the transport (TransportApp implements these) ----
  virtual void poll(std::chrono::microseconds max_wait) = 0;
  virtual SimTime now() const = 0;
  virtual const TransportCounters& counters() const = 0;
  /// Messages still waiting to leave (the paced storage transfers): a leaving peer waits for them.
  virtual std::size_t queued() const { return 0; }

  // ---- receiving: the envelope checked out ----
  /// Reads the message's fields into a pending message (pure); false: refused (r.why()).
  virtual bool read(wire::Reader& r) = 0;
  /// Maps the peers the pending message names to local indices; false with `why` (the table is
  /// full unless it says otherwise).
  virtual bool map(PeerIndex sender, const Endpoint& from, wire::Drop& why) = 0;
  /// The pending message's type name (monitor events), then its delivery to the protocol.
  virtual const char* pending_name() const = 0;
  virtual void deliver(PeerIndex sender) = 0;
  /// Fields a HELLO_REPLY carries besides the envelope (the central index: the server); false:
  /// no reply (nothing to tell yet).
  virtual bool hello_reply(wire::Writer&) { return true; }

  // ---- the contact table (net/contacts.hpp) ----
  /// Whether contacts the protocol no longer uses may be replaced when the table is full; a
  /// protocol that says yes marks the ones it uses in mark_in_use and forgets a replaced one in
  /// forget_peer. No (the default): a full table refuses new contacts.
  virtual bool contacts_replaceable() const { return false; }
  virtual void mark_in_use(std::vector<std::uint8_t>& mark) const { (void)mark; }
  virtual void forget_peer(PeerIndex peer) { (void)peer; }

  // ---- life ----
  /// No --join: the first peer (creates a ring, becomes the index server...). The line it says.
  virtual std::string start() = 0;
  /// The --join peer answered (its contact is `bootstrap`).
  virtual void joined(PeerIndex bootstrap) = 0;
  /// After every turn of the loop: finished requests, re-joins.
  virtual void tick() {}
  /// Graceful leave (`leave`, SIGTERM, --duration); not called after `quit`. The word for it.
  virtual std::string leave() = 0;

  // ---- console ----
  /// What the peer is ("<protocol> peer 42"), and its settings shown after the address.
  virtual std::string title() const = 0;
  virtual std::string settings() const { return ""; }
  virtual nlohmann::json listening() const { return nlohmann::json::object(); }  ///< extra fields
  virtual std::string help() const = 0;  ///< the protocol's commands, for `help`
  /// A console command; false when the protocol does not know it.
  virtual bool command(const std::string& op, std::istream& args) = 0;
  /// The protocol's part of `state` (the shell adds id, address, contacts, datagrams).
  virtual nlohmann::json state() const = 0;
  /// `state` for people: the protocol's lines (the shell adds the datagram line).
  virtual std::string state_text(const nlohmann::json& state) const = 0;

  // ---- monitor ----
  /// This peer as its protocol shows it (targets: local contact indices).
  virtual PeerView view() const = 0;
};

/// What a protocol's node command hands the shell once its options are read.
struct NodeSetup {
  std::string protocol;  ///< the name in monitor reports
  int id_bits = 64;      ///< ids are below 2^id_bits (--id, the default id)
  wire::Format format;   ///< its datagrams' envelope
  ProtocolModel model;   ///< link kind and role names for the monitor reports
  std::function<std::unique_ptr<NodeApp>(Shell&)> make;
};

/// Reads the protocol's options; false with `error` ("--ttl: ...") on a bad one.
using NodeConfigure = std::function<bool(const CommandArgs& args, NodeSetup& setup, std::string& error)>;

/// Options of a node command: with a value (and its default), a flag, a repeatable one.
CommandOption node_option(std::string name, std::string help, std::string default_value = "",
                          std::string short_name = "");
CommandOption node_flag(std::string name, std::string help);
CommandOption node_list(std::string name, std::string help);

/// The shell's own options (--listen, --join, --id, --monitor, ...): every node command has them.
std::vector<CommandOption> node_shell_options();

/// The `node` command of a protocol: the shell's options, then `options`; `configure` reads the
/// latter. Registered as ProtocolInfo::node.
ProtocolCommand node_command(std::string summary, std::vector<CommandOption> options, NodeConfigure configure);

/// Option readers for NodeConfigure: the value of `name` (present: it has a default or was
/// given), checked against [min, max]; false with `error` otherwise.
bool read_option(const CommandArgs& args, const std::string& name, long min, long max, int& out, std::string& error);
bool read_option(const CommandArgs& args, const std::string& name, double min, double max, double& out,
                 std::string& error);
/// A repeatable option's values (given several times: one per line).
std::vector<std::string> read_list(const CommandArgs& args, const std::string& name);

class Shell {
 public:
  Shell(const NodeBasics& basics, const NodeSetup& setup, UdpSocket& socket, const Contact& self);

  int run(NodeApp& app);

  // ---- for the protocol's node ----
  const NodeBasics& basics() const { return basics_; }
  const wire::Format& format() const { return setup_.format; }
  UdpSocket& socket() { return socket_; }
  ContactTable& contacts() { return contacts_; }
  const ContactTable& contacts() const { return contacts_; }
  const Id& self_id() const { return contacts_.at(contacts_.self()).id; }
  std::string id_text(PeerIndex p) const { return contacts_.at(p).id.to_decimal(); }
  /// The wire form of a local contact (the local peer: "the sender").
  wire::Contact wire_contact(PeerIndex p) const;
  /// The local index of a contact named in a datagram from `from`; kNoPeer when the table is
  /// full of contacts in use, or when `from` has introduced more new contacts this second than
  /// --new-contacts-per-s allows.
  PeerIndex learn(const wire::Contact& c, const Endpoint& from);
  /// Joins again through the --join peer (HELLOs until it answers).
  void start_join();
  bool joining() const { return joining_; }
  /// Event lines (not with --quiet), answers (JSON lines with --json), errors.
  void say(const std::string& line) const;
  void answer(const nlohmann::json& j) const;
  void error(const std::string& text) const;
  bool json_mode() const { return basics_.json; }
  /// A message sent by this peer (the transport's observer) or received: for the monitor.
  void note_event(PeerIndex from, PeerIndex to, const char* type);
  /// Every datagram the socket received.
  void receive(const std::uint8_t* data, std::size_t size, const Endpoint& from);

 private:
  void drop(wire::Drop why);
  PeerIndex learn_budgeted(const Id& id, const Endpoint& address, const Endpoint& from);
  void send_hello(const Endpoint& to, wire::Kind kind);
  void command(const std::string& line);
  nlohmann::json state_json() const;
  void report(bool state);

  NodeBasics basics_;
  NodeSetup setup_;
  UdpSocket& socket_;
  ContactTable contacts_;
  NodeApp* app_ = nullptr;
  Console console_;
  std::vector<std::uint64_t> drops_;
  std::uint64_t dropped_ = 0, accepted_ = 0;
  bool joining_ = false, joined_once_ = false, stop_ = false, crash_ = false;
  SimTime next_hello_ = 0, join_deadline_ = 0;
  std::vector<MonitorEvent> events_;
  // New contacts per sender address in the current second (at most kBudgetSenders addresses;
  // the others share one budget), and the contacts refused for it.
  static constexpr std::size_t kBudgetSenders = 4096;
  std::unordered_map<std::uint64_t, int> new_contacts_;
  SimTime budget_window_ = 0;
  std::uint64_t over_budget_ = 0;
};

/// The transport half of a NodeApp: a SocketTransport<Msg> on the shell's socket and contact
/// table, whose datagrams go to the shell and whose sends are monitor events.
template <class Msg>
class TransportApp : public NodeApp, public MessageHandler<Msg> {
 public:
  explicit TransportApp(Shell& shell)
      : shell_(shell), transport_(shell.socket(), shell.contacts(), shell.basics().seed ^ shell.self_id().limb[0]) {
    transport_.set_handler(this);
    transport_.set_encoder(
        [this](PeerIndex to, const Msg& m, std::vector<std::uint8_t>& out) { return encode(to, m, out); });
    transport_.set_receiver(
        [this](const std::uint8_t* data, std::size_t size, const Endpoint& from) { shell_.receive(data, size, from); });
    transport_.set_send_observer(
        [this](PeerIndex to, const Msg& m) { shell_.note_event(shell_.contacts().self(), to, name_of(m)); });
  }
  void poll(std::chrono::microseconds max_wait) override { transport_.run_once(max_wait); }
  std::size_t queued() const override { return transport_.bulk_queued(); }
  SimTime now() const override { return transport_.now(); }
  const TransportCounters& counters() const override { return transport_.counters(); }

 protected:
  /// Encodes a message of this peer to `to`; false if it cannot be sent.
  virtual bool encode(PeerIndex to, const Msg& m, std::vector<std::uint8_t>& out) = 0;
  virtual const char* name_of(const Msg& m) const = 0;
  PeerIndex self() const { return shell_.contacts().self(); }

  Shell& shell_;
  SocketTransport<Msg> transport_;
};

}  // namespace p2plab::net
