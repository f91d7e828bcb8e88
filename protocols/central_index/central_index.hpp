#pragma once
// Central index, Napster-style: one server holds the index of every peer's files; searches are
// one request to the server, downloads go peer to peer. See README.md beside this file.
#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/search.hpp"
#include "common/search_protocol.hpp"
#include "logic.hpp"
#include "p2plab/transport.hpp"
#include "p2plab/view_model.hpp"

namespace p2plab::central_index {

using search::NameIndex;
using search::QueryIndex;

// Positions in the view model's link kinds and roles (register.cpp).
constexpr std::uint8_t kServerLink = 0, kClientLink = 1;
constexpr std::uint8_t kPeerRole = 0, kServerRole = 1;

enum class MsgType : std::uint8_t {
  Register,      // peer -> server: "I share this file"
  Unregister,    // peer -> server: "I am leaving: forget my files"
  Search,        // peer -> server: keywords
  SearchResult,  // server -> peer: up to kProvidersPerMessage providers; flag = 1 on the last part
  Download,      // peer -> provider: the transfer request (peer to peer)
  DownloadOk,    // provider -> peer: the file
  Keepalive,     // peer -> server: "still here" (the server drops peers it stops hearing from)
  Count
};
const char* to_string(MsgType type);

constexpr int kProvidersPerMessage = 16;

struct Message {
  MsgType type = MsgType::Register;
  std::uint8_t flag = 0;
  std::uint8_t count = 0;
  QueryIndex query = search::kNoQuery;
  NameIndex name = 0;
  std::array<PeerIndex, kProvidersPerMessage> providers{};
};

struct Params {
  std::uint64_t server = 0;  // id of the index server (all peers know its address)
  bool server_given = false;
  SimTime timeout = from_ms(std::int64_t{2000});     // a search or download unanswered this long fails
  SimTime keepalive = from_ms(std::int64_t{10000});  // 0: no keepalives (crashed peers stay indexed)
};

class Protocol final : public search::SearchProtocol<Message, Params> {
 public:
  using Message = central_index::Message;
  using Params = central_index::Params;
  static Params parse_params(const Scenario& scenario);

  Protocol(Params params, Transport<Message>& transport, search::Context context);

  void bootstrap(const std::vector<PeerIndex>& peers);
  void join(PeerIndex peer, PeerIndex via);
  void leave(PeerIndex peer);
  void search(PeerIndex from, NameIndex name, QueryIndex query, int ttl);

  void on_message(PeerIndex self, PeerIndex from, const Message& msg) override;
  void on_timer(PeerIndex self, std::uint16_t kind, std::uint32_t cookie) override;

  PeerIndex server() const { return server_; }
  /// Real network mode: each peer runs its own Protocol and learns which of its local peers is
  /// the server (from the HELLO_REPLY) before it joins.
  void set_server(PeerIndex p) { server_ = p; }
  /// The server's index as it is (name -> providers, provider -> names).
  const Index& index() const { return index_; }
  /// The providers the server lists for a name (its index, for inspection and tests).
  std::set<PeerIndex> indexed_providers(NameIndex name) const;
  std::string role(PeerIndex p) const { return p == server_ ? "server" : "peer"; }
  std::vector<PeerIndex> neighbors(PeerIndex p) const;
  std::size_t state_entries(PeerIndex p) const;
  /// Role and links (what a view draws every frame); inspect() adds the tables.
  PeerView inspect_links(PeerIndex p) const;
  PeerView inspect(PeerIndex p) const;
  TraceVocabulary vocabulary() const;
  nlohmann::json params_json() const;
  /// Changes a parameter during the run; returns "" or why it cannot.
  std::string set_param(const std::string& name, double value);

  // ---- real network mode: a peer's tables stay bounded (net/node_shell.hpp) -----------------
  /// Names one provider may have in the index; further REGISTERs of new names are ignored.
  static constexpr std::size_t kMaxNamesPerProvider = 4096;
  /// A query's record is reused: forget its search and download.
  void forget_query(PeerIndex self, QueryIndex q) {
    (void)self;
    downloads_.forget(q);
  }
  /// The peers `self` still needs (their contacts are not replaced): the server, the providers
  /// of running downloads and, at the server, the providers heard from within the sweep's window
  /// (a silent one is forgotten by the next sweep anyway).
  void mark_peers_in_use(PeerIndex self, std::vector<std::uint8_t>& mark) const;
  /// A peer whose contact was replaced: the server forgets its files.
  void forget_peer(PeerIndex peer) { index_remove_peer(peer); }
  /// The names the index holds, and the index renamed after the node rebuilt its catalogue.
  void mark_names_in_use(std::vector<std::uint8_t>& used) const;
  void rename_names(const std::vector<NameIndex>& renamed);

 private:
  enum Timer : std::uint16_t { kSearchTimeout, kDownloadTimeout, kKeepalive, kSweep };
  void try_download(PeerIndex self, QueryIndex q);
  void index_add(PeerIndex peer, NameIndex name) { logic::register_file(index_, peer, name); }
  void index_remove_peer(PeerIndex peer);

  PeerIndex server_ = kNoPeer;
  // At the server: name -> providers, and provider -> names (to unregister): logic.hpp's Index;
  // and when each peer was last heard of.
  Index index_;
  std::map<PeerIndex, SimTime> last_seen_;
};

}  // namespace p2plab::central_index
