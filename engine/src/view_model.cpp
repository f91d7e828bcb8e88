#include "p2plab/view_model.hpp"

#include <cstdio>

namespace p2plab {

const char* to_string(Geometry geometry) {
  switch (geometry) {
    case Geometry::Ring:
      return "ring";
    case Geometry::XorTrie:
      return "xor_trie";
    case Geometry::Zones:
      return "zones";
    case Geometry::Graph:
      return "graph";
  }
  return "?";
}

int ProtocolModel::link_kind(const std::string& name) const {
  for (std::size_t i = 0; i < link_kinds.size(); ++i) {
    if (link_kinds[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

int ProtocolModel::role(const std::string& name) const {
  for (std::size_t i = 0; i < roles.size(); ++i) {
    if (roles[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

Cell Cell::of_text(std::string text) {
  Cell c;
  c.kind = Kind::Text;
  c.text = std::move(text);
  return c;
}

Cell Cell::of_number(double value) {
  Cell c;
  c.kind = Kind::Number;
  c.number = value;
  // Whole numbers print without a fraction ("3", not "3.000000").
  char buf[64];
  if (value == static_cast<double>(static_cast<long long>(value))) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(value));
  } else {
    std::snprintf(buf, sizeof buf, "%g", value);
  }
  c.text = buf;
  return c;
}

Cell Cell::of_id(const Id& id, bool mark) {
  Cell c;
  c.kind = Kind::Id;
  c.id = id;
  c.mark = mark;
  c.text = id.to_decimal();
  return c;
}

Cell Cell::of_interval(const Id& from, const Id& to, bool closed_left, bool closed_right) {
  Cell c;
  c.kind = Kind::Interval;
  c.id = from;
  c.end = to;
  c.closed_left = closed_left;
  c.closed_right = closed_right;
  // Built by appending (GCC 12 warns falsely about a chain of operator+ here).
  const std::string a = from.to_decimal(), b = to.to_decimal();
  std::string text;
  text.reserve(a.size() + b.size() + 4);
  text.push_back(closed_left ? '[' : '(');
  text.append(a);
  text.push_back(',');
  text.push_back(' ');
  text.append(b);
  text.push_back(closed_right ? ']' : ')');
  c.text = std::move(text);
  return c;
}

Cell Cell::of_peer(PeerIndex peer, std::string id_text) {
  Cell c;
  c.kind = Kind::Peer;
  c.peer = peer;
  c.text = peer == kNoPeer ? std::string("-") : std::move(id_text);
  return c;
}

}  // namespace p2plab
