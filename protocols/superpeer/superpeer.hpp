#pragma once
// Superpeers, Gnutella 0.6 / Skype: peers with enough capacity are elected superpeers; the
// others become leaves that attach to one to three superpeers and announce their files there.
// Queries flood only among superpeers, which answer from their leaves' tables. In the Skype
// variant, a leaf behind NAT can only be reached through its superpeer, which relays transfers.
// See README.md beside this file.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/search.hpp"
#include "common/search_protocol.hpp"
#include "logic.hpp"
#include "p2plab/transport.hpp"
#include "p2plab/view_model.hpp"

namespace p2plab::superpeer {

using search::NameIndex;
using search::QueryIndex;

// Positions in the view model's link kinds and roles (register.cpp): a link to a superpeer (a
// leaf's, or another superpeer's), and a superpeer's link to one of its leaves.
// A leaf's link to its superpeer, a superpeer's to its leaf (the same link seen from the other
// end), a superpeer's to another superpeer (the overlay the queries flood).
constexpr std::uint8_t kSuperpeerLink = 0, kLeafLink = 1, kOverlayLink = 2;
constexpr std::uint8_t kSuperpeerRole = 0, kLeafRole = 1;

enum class MsgType : std::uint8_t {
  HelloSuperpeers,  // newcomer -> known peer: "which superpeers do you know?"
  SuperpeerList,    //   up to 8 superpeers
  Attach,           // leaf -> superpeer: "be my superpeer"
  AttachOk,
  AttachRefused,  // the superpeer has its maximum of leaves
  Announce,       // leaf -> superpeer: one entry of its file table
  Connect,        // superpeer -> superpeer: overlay link
  ConnectOk,
  Ping,  // liveness of superpeers and neighbours
  Pong,
  Query,     // leaf -> its superpeers, then superpeer -> superpeers (TTL)
  QueryHit,  // back along the reverse path; carries provider and provider's superpeer
  Download,  // requester -> provider (or -> the provider's superpeer to relay)
  DownloadOk,
  Bye,  // graceful leave
  Count
};
const char* to_string(MsgType type);

struct Message {
  MsgType type = MsgType::Ping;
  std::uint8_t ttl = 0;
  std::uint8_t hops = 0;
  std::uint8_t flag = 0;  // SuperpeerList: count; Download/DownloadOk: 1 = relayed
  QueryIndex query = search::kNoQuery;
  NameIndex name = 0;
  PeerIndex node = kNoPeer;   // QueryHit: provider; Download: final target; relay: requester
  PeerIndex relay = kNoPeer;  // QueryHit: the provider's superpeer
  std::array<PeerIndex, 8> list{};
};

struct Params {
  double superpeer_ratio = 0.1;     // target share of superpeers among peers
  double min_bandwidth_kbps = 256;  // below this a peer never becomes a superpeer
  double min_uptime_h = 0;          // ... nor with less uptime
  int leaves_per_superpeer = 50;    // most leaves a superpeer accepts
  int superpeers_per_leaf = 2;      // 1 .. 3, as in Gnutella 0.6
  int degree = 4;                   // superpeer overlay neighbours
  int ttl = 4;                      // query TTL among superpeers
  bool relay = false;               // Skype: reach NATed peers through their superpeer
  SimTime collect = from_ms(std::int64_t{3000});
  SimTime timeout = from_ms(std::int64_t{1000});
  SimTime keepalive = from_ms(std::int64_t{5000});
};

class Protocol final : public search::SearchProtocol<Message, Params> {
 public:
  using Message = superpeer::Message;
  using Params = superpeer::Params;
  static Params parse_params(const Scenario& scenario);

  Protocol(Params params, Transport<Message>& transport, search::Context context);

  void bootstrap(const std::vector<PeerIndex>& peers);
  void join(PeerIndex peer, PeerIndex via);
  void leave(PeerIndex peer);
  void search(PeerIndex from, NameIndex name, QueryIndex query, int ttl);

  void on_message(PeerIndex self, PeerIndex from, const Message& msg) override;
  void on_timer(PeerIndex self, std::uint16_t kind, std::uint32_t cookie) override;

  bool is_superpeer(PeerIndex p) const { return p < peers_.size() && peers_[p].superpeer; }
  /// The election rule (logic::superpeer_capable, logic::superpeer_score): capable (not behind
  /// NAT, enough bandwidth and uptime), scored by bandwidth x uptime.
  bool capable(PeerIndex p) const;
  double score(PeerIndex p) const;
  ElectionRules rules() const;
  const std::vector<PeerIndex>& superpeers_of(PeerIndex leaf) const { return peers_[leaf].superpeers; }
  const LeafTables& leaf_tables(PeerIndex sp) const { return peers_[sp].leaves; }
  std::string role(PeerIndex p) const { return is_superpeer(p) ? "superpeer" : "leaf"; }
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
  /// Names one leaf may have in its superpeer's table; further ANNOUNCEs of new names are ignored.
  static constexpr std::size_t kMaxNamesPerLeaf = 4096;
  /// Superpeers heard of that a peer keeps as contacts for re-attaching (others may be replaced).
  static constexpr std::size_t kKnownKept = 64;
  /// A query's record is reused: forget its GUID-cache entry and its download.
  void forget_query(PeerIndex self, QueryIndex q);
  /// The peers `self` still needs (their contacts are not replaced): overlay neighbours, its
  /// superpeers or leaves, the first superpeers heard of, peers pinged, the providers of running
  /// downloads. (A reverse path through a replaced contact loses that QUERYHIT: the new peer at
  /// that index knows no such query and drops it.)
  void mark_peers_in_use(PeerIndex self, std::vector<std::uint8_t>& mark) const;
  /// A peer whose contact was replaced: forgotten as neighbour, superpeer, leaf.
  void forget_peer(PeerIndex self, PeerIndex peer) { drop(self, peer); }
  /// The names the leaves' tables hold, and those tables renamed after the node rebuilt its
  /// catalogue.
  void mark_names_in_use(std::vector<std::uint8_t>& used) const;
  void rename_names(const std::vector<NameIndex>& renamed);

 private:
  enum Timer : std::uint16_t { kCollect, kDownloadTimeout, kKeepalive, kKeepaliveCheck, kAttachPhase };
  // Download flags: a relayed transfer goes requester -> relay -> provider and back.
  enum RelayLeg : std::uint8_t { kDirect = 0, kRelayRequest = 1, kRelayed = 2, kRelayDone = 3 };
  struct Peer {
    bool superpeer = false;
    std::vector<PeerIndex> neighbors;                // superpeer: other superpeers
    LeafTables leaves;                               // superpeer: leaf -> its file table
    std::vector<PeerIndex> superpeers;               // leaf: its superpeers
    std::vector<PeerIndex> known;                    // superpeers heard of (for re-attaching)
    std::unordered_map<QueryIndex, PeerIndex> seen;  // GUID cache
    std::vector<PeerIndex> awaiting;                 // keepalive PINGs not yet answered
    std::uint32_t round = 0;
    PeerIndex bootstrap = kNoPeer;  // the peer it joined through
    int asks = 0;                   // HELLO_SUPERPEERS sent while knowing no superpeer
  };
  Peer& peer(PeerIndex p) {
    if (p >= peers_.size()) peers_.resize(p + 1);
    return peers_[p];
  }
  void link_superpeers(PeerIndex a, PeerIndex b);
  void drop(PeerIndex self, PeerIndex gone);
  void attach(PeerIndex leaf, PeerIndex sp);
  void become_superpeer(PeerIndex self);
  void connect_more(PeerIndex self, const std::vector<PeerIndex>& candidates);
  void announce(PeerIndex leaf, PeerIndex sp);
  void ask_for_superpeers(PeerIndex self, PeerIndex via);
  void answer_from_leaves(PeerIndex sp, PeerIndex back, const Message& query);
  void try_download(PeerIndex self, QueryIndex q);
  bool reachable_directly(PeerIndex from, PeerIndex to) const;

  std::vector<Peer> peers_;
  std::vector<NameIndex> names_;  // scratch for logic::announcement
};

}  // namespace p2plab::superpeer
