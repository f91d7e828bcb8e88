#pragma once
// The typed view model: what a protocol shows of itself and of each peer, in the lecture's terms.
// Every protocol fills it; the visualizer, the command line, `compare`, the result JSON and the
// live monitor (net/) read it, and none of them knows a protocol by name.
//
// Three parts:
// - ProtocolModel, once per protocol (registered with it): the geometry its ids live in, the kinds
//   of links and the roles it has (with how to draw them), its operations and parameters (for the
//   visualizer's panels), how it builds a scenario for the "new scenario" panel and `compare`.
// - PeerView, per peer and per moment (Run::inspect): id, state, role, links, keys, and tables
//   whose cells are typed (an id, an interval, a peer reference), so that a view can mark a finger's
//   start on the ring or highlight the row a hop used without parsing text.
// - SearchView, per search (Run::inspect_search): how the protocol names what a search looks for.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "p2plab/id.hpp"
#include "p2plab/types.hpp"

namespace p2plab {

// ---- per protocol ------------------------------------------------------------------------------

/// Where a protocol's peers live, which decides the view that draws them.
enum class Geometry : std::uint8_t {
  Ring,     ///< an identifier circle of m bits (Chord, Pastry's ring): peers at their id's angle
  XorTrie,  ///< XOR distance over m bits (Kademlia): a binary trie / k-bucket view
  Zones,    ///< d-dimensional zones of a torus (CAN): 2-D zones drawn as rectangles
  Graph,    ///< no id space: a free graph, laid out by its links (Napster, Gnutella)
};
const char* to_string(Geometry geometry);

/// Colour classes a protocol picks for its roles and link kinds; each theme (dark, projector)
/// maps them to its own colours, so a protocol never names an RGB value.
enum class Colour : std::uint8_t { Neutral, Blue, Green, Orange, Red, Purple, Teal, Grey };

/// How a view draws the links of one kind.
enum class LinkDrawing : std::uint8_t {
  Hidden,    ///< listed in the inspector only (e.g. a predecessor, a server's view of its clients)
  Always,    ///< a line from every live peer to the target (overlay links)
  Selected,  ///< only the selected peer's (Chord's fingers: thousands otherwise)
  Adjacent,  ///< the link to the next peer along the geometry, index 0 only (Chord's successor):
             ///< drawn along the geometry (an arc on the ring), not across it
  Span,      ///< as Selected, and on the ring the range they cover drawn as one arc through the
             ///< selected peer (Pastry's leaf set: L/2 smaller and L/2 larger ids)
};

/// One kind of pointer a peer holds. A protocol registers its kinds in order; Link::kind is the
/// position in that list.
struct LinkKindInfo {
  std::string name;    ///< the lecture's word, also the name in JSON and monitor reports: "finger"
  std::string legend;  ///< one line for the legend: "finger of the selected peer"
  Colour colour = Colour::Neutral;
  LinkDrawing drawing = LinkDrawing::Always;
};

/// One role a peer can have ("peer", "server", "superpeer", "leaf"). PeerView::role is the
/// position in ProtocolModel::roles.
struct RoleInfo {
  std::string name;    ///< the lecture's word, also the name in JSON and monitor reports
  std::string legend;  ///< one line for the legend
  Colour colour = Colour::Blue;
  float size = 1.0f;  ///< relative dot size (a server is drawn larger than a peer)
  int tier = 0;       ///< graph views: lower tiers sit inside (superpeers 0, leaves 1)
};

/// An input of an operation (a field of the scenario op it builds).
struct OperationField {
  enum class Kind : std::uint8_t { Key, Name, Number, Peer };
  std::string name;   ///< the JSON field: "key", "name", "ttl"
  std::string label;  ///< what the panel shows
  Kind kind = Kind::Name;
  std::string help;
  std::string default_value;
};

/// An operation the action panel offers; it builds the scenario op {"op": op, ...}.
struct OperationInfo {
  std::string op;     ///< "lookup", "put", "query", "join", ...
  std::string label;  ///< button text: "lookup", "query"
  std::string help;
  /// The field that names the selected peer ("from", "peer"), or "" when none is needed.
  std::string peer_field;
  std::vector<OperationField> fields;
};

/// A parameter of the protocol: for the new-scenario panel, and for `set` during a run.
struct ParameterInfo {
  std::string name;   ///< as in the scenario's "params": "m", "ttl", "stabilize_ms"
  std::string label;  ///< "m (id bits)", "TTL"
  std::string help;
  double min = 0, max = 0, default_value = 0;
  bool integer = true;
  bool in_new_scenario = true;  ///< offered when a scenario is created
  bool settable = false;        ///< can be changed during a run (op "set")
};

/// What the "new scenario" panel and `compare` ask a protocol to build.
struct ScenarioRequest {
  int peers = 16;
  std::uint64_t seed = 1;
  std::map<std::string, double> params;  ///< values of ParameterInfo by name (missing: default)
  bool join = false;                     ///< peers join one by one through the protocol
  /// compare: the searches to run, as (requester rank, target rank) pairs the protocol maps to
  /// its own requests; empty: the protocol's default workload.
  std::vector<std::pair<int, int>> searches;
  /// compare: the shared items "item-0" .. "item-<items - 1>", each on `replicas` peers (or stored
  /// once), searched for by target rank; search i starts at first_search_ms + i * search_gap_ms.
  /// The caller sets the network, the bootstrap and the run time.
  int items = 20, replicas = 2;
  int first_search_ms = 1000, search_gap_ms = 5000;
};

struct ProtocolModel {
  Geometry geometry = Geometry::Graph;
  std::string search_noun = "lookup";  ///< what one search is called: "lookup", "query"
  /// What one step of a search is called in the views' headers ("hop"; Kademlia: "round", as
  /// its hops' index is the round of parallel queries they belong to).
  std::string hop_noun = "hop";
  std::vector<LinkKindInfo> link_kinds;
  std::vector<RoleInfo> roles;
  std::vector<OperationInfo> operations;
  std::vector<ParameterInfo> parameters;
  std::string complexity;  ///< the lecture's claim for one search: "O(log N)"
  /// Ring: a key belongs to the first peer at or after it (Chord's successor(k)), so the ring
  /// view draws each peer's arc of responsibility (predecessor, peer]. False where another rule
  /// decides (Pastry: the numerically closest peer).
  bool key_owner_is_successor = false;
  /// Builds a scenario document for a request (the new-scenario panel, compare).
  std::function<nlohmann::json(const ScenarioRequest&)> make_scenario;

  int link_kind(const std::string& name) const;  ///< position, or -1
  int role(const std::string& name) const;       ///< position, or -1
};

// ---- per search --------------------------------------------------------------------------------

/// One search as its protocol names it (Run::inspect_search), beside what the trace says of it
/// (who, when, the key's id): what a view writes where the id alone would not be the lecture's
/// word.
struct SearchView {
  /// The key as the protocol's users name it, short enough for a view's header (a content
  /// identifier, abbreviated as the protocol abbreviates it elsewhere); "" when the key's id is its
  /// name (views then print the id).
  std::string key_label;
};

// ---- per peer ----------------------------------------------------------------------------------

/// One pointer a peer holds to another peer.
struct Link {
  std::uint8_t kind = 0;    ///< position in ProtocolModel::link_kinds
  std::uint16_t index = 0;  ///< finger i, position in the successor list, ...
  PeerIndex target = kNoPeer;
};

/// A table cell, typed so that a view can use it (mark an id, follow a peer) as well as print it.
struct Cell {
  enum class Kind : std::uint8_t { Text, Number, Id, Interval, Peer };
  Kind kind = Kind::Text;
  std::string text;   ///< Text; for the others the printed form (filled by the constructors)
  double number = 0;  ///< Number
  Id id, end;         ///< Id: id; Interval: [id, end) or as the closed flags say
  bool closed_left = true, closed_right = false;
  bool mark = false;         ///< an Id a view marks on the geometry (a finger's start)
  PeerIndex peer = kNoPeer;  ///< Peer

  static Cell of_text(std::string text);
  static Cell of_number(double value);
  static Cell of_id(const Id& id, bool mark = false);
  static Cell of_interval(const Id& from, const Id& to, bool closed_left = true, bool closed_right = false);
  /// `id_text` is the peer's id as printed ("-" for kNoPeer).
  static Cell of_peer(PeerIndex peer, std::string id_text);
};

/// A table as the slides draw it (a finger table: i, start, interval, successor).
struct TableView {
  struct Row {
    std::vector<Cell> cells;
    int link = -1;  ///< the position in PeerView::links this row shows, or -1
    /// Something is wrong with the row, views mark it in red: its peer is suspected gone (RPCs to
    /// it failed), or a corrupted copy of its block was rejected.
    bool stale = false;
    /// The row's peer waits for a slot and is not used for routing yet (a replacement cache).
    bool waiting = false;
    /// A tree table (a Merkle DAG): the row's depth below the first row, the rows in preorder, so
    /// that a view can draw the table as a tree (each row a node under the last row above it one
    /// level up); -1 in a flat table.
    int depth = -1;
    /// A colour class a view may tint the row with (a tree's node: stored, wanted, rejected).
    Colour colour = Colour::Neutral;
  };
  std::string title;
  std::string help;  ///< the "(?)" text beside the table
  std::vector<std::string> columns;
  std::vector<Row> rows;
  /// XOR geometry: the column whose Interval cell is the range of XOR distances from this peer
  /// the row's group covers ([2^i, 2^(i+1)) for k-bucket i), so that a trie view can shade that
  /// subtree and list the rows as buckets; -1 when the table has none.
  int distance_column = -1;
  /// Rows carry depths (Row::depth): a view may draw the table as a tree.
  bool is_tree() const { return !rows.empty() && rows.front().depth >= 0; }
};

/// A zone of Geometry::Zones (CAN): the axis-aligned box [lo, hi) of the unit torus [0, 1)^d,
/// one entry per dimension (hi up to 1.0, where the torus wraps).
struct ZoneBox {
  std::vector<double> lo, hi;
};

/// One peer as its protocol shows it.
struct PeerView {
  PeerIndex peer = kNoPeer;
  Id id;
  PeerState state = PeerState::Up;
  std::uint8_t role = 0;  ///< position in ProtocolModel::roles
  std::vector<Link> links;
  std::vector<Id> keys;  ///< what it stores as primary owner (marked on the geometry)
  std::vector<TableView> tables;
  std::string tag;  ///< a short word a view writes beside the peer ("NAT"), or ""
  /// Geometry::Zones: the zones the peer owns (several for a while after it took over a failed
  /// neighbour's); a crashed peer's are the zones it held when it crashed.
  std::vector<ZoneBox> zones;
};

}  // namespace p2plab
