#pragma once
// The typed inspection interface: what a protocol shows of one peer, in the lecture's terms.
// The visualizer's inspector and the tests read these snapshots; nobody reaches into a
// protocol's internals.
#include <cstdint>
#include <string>
#include <vector>

#include "p2plab/id.hpp"
#include "p2plab/simulator.hpp"
#include "p2plab/types.hpp"

namespace p2plab {

enum class LinkKind : std::uint8_t { Successor, Predecessor, Finger, Neighbor, Superpeer, Leaf, Server };
const char* to_string(LinkKind kind);

/// One pointer a peer holds to another peer (what the ring and graph views draw).
struct Link {
  LinkKind kind = LinkKind::Successor;
  std::uint16_t index = 0;  // finger i, position in the successor list, ...
  PeerIndex target = kNoPeer;
};

/// A table as the slides draw it (e.g. a finger table: i, start, interval, node).
struct TableView {
  std::string title;
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
};

struct PeerView {
  PeerIndex peer = kNoPeer;
  Id id;
  PeerState state = PeerState::Up;
  std::string role;  // "peer", "server", "superpeer", "leaf", ...
  std::vector<Link> links;
  std::vector<Id> keys;  // what it stores as primary owner
  std::vector<TableView> tables;
};

}  // namespace p2plab
