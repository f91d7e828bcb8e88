#include "krpc.hpp"

#include <algorithm>

namespace p2plab::kademlia::krpc {

using bencode::Value;

Id to_id(const NodeId& n) {
  Id id;
  for (int byte = 0; byte < 20; ++byte) {
    const int bit = (19 - byte) * 8;  // the last byte is the least significant
    id.limb[bit / 64] |= std::uint64_t{n[byte]} << (bit % 64);
  }
  return id;
}

NodeId from_id(const Id& id) {
  NodeId n{};
  for (int byte = 0; byte < 20; ++byte) {
    const int bit = (19 - byte) * 8;
    n[byte] = static_cast<std::uint8_t>(id.limb[bit / 64] >> (bit % 64));
  }
  return n;
}

std::optional<NodeId> from_hex(std::string_view hex) {
  if (hex.size() != 40) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  NodeId n{};
  for (std::size_t i = 0; i < 20; ++i) {
    const int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    n[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return n;
}

std::string to_hex(const NodeId& n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (std::uint8_t b : n) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

std::string compact_peer(const net::Endpoint& e) {
  std::string s(kCompactPeer, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>(e.ip >> (24 - 8 * i));
  s[4] = static_cast<char>(e.port >> 8);
  s[5] = static_cast<char>(e.port);
  return s;
}

std::string compact_node(const NodeInfo& n) { return std::string(n.id.begin(), n.id.end()) + compact_peer(n.address); }

net::Endpoint peer_from_compact(std::string_view six) {
  net::Endpoint e;
  for (int i = 0; i < 4; ++i) e.ip = (e.ip << 8) | static_cast<std::uint8_t>(six[i]);
  e.port = static_cast<std::uint16_t>((static_cast<std::uint8_t>(six[4]) << 8) | static_cast<std::uint8_t>(six[5]));
  return e;
}

const char* to_string(Method m) {
  switch (m) {
    case Method::Ping:
      return "ping";
    case Method::FindNode:
      return "find_node";
    case Method::GetPeers:
      return "get_peers";
    case Method::AnnouncePeer:
      return "announce_peer";
    case Method::Count:
      break;
  }
  return "?";
}

const char* to_string(Drop d) {
  switch (d) {
    case Drop::Oversized:
      return "oversized";
    case Drop::Bencode:
      return "not_bencode";
    case Drop::NotDict:
      return "not_a_dictionary";
    case Drop::NoTransaction:
      return "no_transaction_id";
    case Drop::BadType:
      return "bad_message_type";
    case Drop::BadResponse:
      return "bad_response";
    case Drop::BadError:
      return "bad_error";
    case Drop::BadQuery:
      return "bad_query";
    case Drop::UnknownMethod:
      return "unknown_method";
    case Drop::Count:
      break;
  }
  return "?";
}

namespace {

bool read_id(const Value* v, NodeId& out) {
  if (!v || !v->is_string() || v->string.size() != 20) return false;
  std::copy(v->string.begin(), v->string.end(), out.begin());
  return true;
}

bool read_flag(const Value* v) { return v && v->is_integer() && v->integer != 0; }

std::string id_string(const NodeId& n) { return std::string(n.begin(), n.end()); }

bool fail(Message& out, Drop& why, Drop reason, const char* text) {
  why = reason;
  out.error_text = text;
  return false;
}

// The arguments of a query ("a"), by method.
bool read_query(const Value& top, Message& out, Drop& why) {
  const Value* q = top.find("q");
  if (!q || !q->is_string()) return fail(out, why, Drop::BadQuery, "query without a method name \"q\"");
  const Value* a = top.find("a");
  if (!a || !a->is_dict()) return fail(out, why, Drop::BadQuery, "query without an argument dictionary \"a\"");
  if (q->string == "ping") {
    out.method = Method::Ping;
  } else if (q->string == "find_node") {
    out.method = Method::FindNode;
  } else if (q->string == "get_peers") {
    out.method = Method::GetPeers;
  } else if (q->string == "announce_peer") {
    out.method = Method::AnnouncePeer;
  } else {
    return fail(out, why, Drop::UnknownMethod, "method unknown");
  }
  if (!read_id(a->find("id"), out.id)) return fail(out, why, Drop::BadQuery, "argument \"id\" is not 20 bytes");
  out.read_only = read_flag(a->find("ro"));
  out.bootstrap = read_flag(a->find("bs"));
  switch (out.method) {
    case Method::FindNode:
      if (!read_id(a->find("target"), out.target))
        return fail(out, why, Drop::BadQuery, "argument \"target\" is not 20 bytes");
      break;
    case Method::GetPeers:
    case Method::AnnouncePeer:
      if (!read_id(a->find("info_hash"), out.info_hash))
        return fail(out, why, Drop::BadQuery, "argument \"info_hash\" is not 20 bytes");
      break;
    default:
      break;
  }
  if (out.method == Method::AnnouncePeer) {
    const Value* token = a->find("token");
    if (!token || !token->is_string() || token->string.empty() || token->string.size() > kMaxToken)
      return fail(out, why, Drop::BadQuery, "argument \"token\" missing or too long");
    out.token = token->string;
    out.implied_port = read_flag(a->find("implied_port"));
    const Value* port = a->find("port");
    if (port && port->is_integer() && port->integer > 0 && port->integer <= 65535) {
      out.port = static_cast<int>(port->integer);
    } else if (!out.implied_port || (port && !port->is_integer())) {
      return fail(out, why, Drop::BadQuery, "argument \"port\" is not in 1 .. 65535");
    }
  }
  return true;
}

bool read_response(const Value& top, Message& out, Drop& why) {
  const Value* r = top.find("r");
  if (!r || !r->is_dict()) return fail(out, why, Drop::BadResponse, "response without \"r\"");
  if (!read_id(r->find("id"), out.id)) return fail(out, why, Drop::BadResponse, "\"id\" is not 20 bytes");
  if (const Value* token = r->find("token")) {
    if (!token->is_string() || token->string.size() > kMaxToken)
      return fail(out, why, Drop::BadResponse, "\"token\" is not a short string");
    out.token = token->string;
  }
  if (const Value* nodes = r->find("nodes")) {
    if (!nodes->is_string() || nodes->string.size() % kCompactNode != 0 ||
        nodes->string.size() / kCompactNode > kMaxNodes)
      return fail(out, why, Drop::BadResponse, "\"nodes\" is not a list of 26-byte node infos");
    out.nodes.emplace();
    for (std::size_t at = 0; at < nodes->string.size(); at += kCompactNode) {
      NodeInfo n;
      std::copy_n(nodes->string.begin() + static_cast<std::ptrdiff_t>(at), 20, n.id.begin());
      n.address = peer_from_compact(std::string_view(nodes->string).substr(at + 20, kCompactPeer));
      out.nodes->push_back(n);
    }
  }
  if (const Value* values = r->find("values")) {
    if (!values->is_list() || values->list.size() > kMaxValues)
      return fail(out, why, Drop::BadResponse, "\"values\" is not a list of peers");
    out.values.emplace();
    for (const Value& v : values->list) {
      if (!v.is_string()) return fail(out, why, Drop::BadResponse, "a \"values\" entry is not a string");
      if (v.string.size() == kCompactPeer) {
        out.values->push_back(peer_from_compact(v.string));
      } else if (v.string.size() != 18) {  // 18: an IPv6 peer (BEP 32), not for this IPv4 node
        return fail(out, why, Drop::BadResponse, "a \"values\" entry is neither 6 nor 18 bytes");
      }
    }
  }
  if (const Value* ip = top.find("ip"); ip && ip->is_string() && ip->string.size() == kCompactPeer) {
    out.ip = peer_from_compact(ip->string);
  }
  return true;
}

bool read_error(const Value& top, Message& out, Drop& why) {
  const Value* e = top.find("e");
  if (!e || !e->is_list() || e->list.size() < 2 || !e->list[0].is_integer() || !e->list[1].is_string())
    return fail(out, why, Drop::BadError, "error without [code, message]");
  if (e->list[0].integer < 0 || e->list[0].integer > 999)
    return fail(out, why, Drop::BadError, "error code out of range");
  out.error_code = static_cast<int>(e->list[0].integer);
  out.error_text = e->list[1].string.substr(0, kMaxErrorText);
  return true;
}

}  // namespace

bool decode(std::string_view data, Message& out, Drop& why, bencode::Error* bencode_error) {
  out = Message{};
  if (data.size() > kMaxDatagram) return fail(out, why, Drop::Oversized, "datagram too long");
  Value top;
  bencode::Error berr = bencode::Error::None;
  bencode::Limits limits;
  limits.depth = 8;  // KRPC nests three deep ("r" -> "values" -> a peer); real clients add little
  limits.items = 1024;
  limits.string_bytes = kMaxDatagram;
  if (!bencode::decode(data, top, berr, limits)) {
    if (bencode_error) *bencode_error = berr;
    return fail(out, why, Drop::Bencode, "not bencode");
  }
  if (!top.is_dict()) return fail(out, why, Drop::NotDict, "not a dictionary");
  const Value* t = top.find("t");
  if (!t || !t->is_string() || t->string.empty() || t->string.size() > kMaxTransaction)
    return fail(out, why, Drop::NoTransaction, "no transaction id");
  out.transaction = t->string;
  if (const Value* v = top.find("v"); v && v->is_string()) out.version = v->string.substr(0, kMaxVersion);
  const Value* y = top.find("y");
  if (!y || !y->is_string() || y->string.size() != 1) return fail(out, why, Drop::BadType, "\"y\" is not q, r or e");
  switch (y->string[0]) {
    case 'q':
      out.kind = Kind::Query;
      return read_query(top, out, why);
    case 'r':
      out.kind = Kind::Response;
      return read_response(top, out, why);
    case 'e':
      out.kind = Kind::Error;
      return read_error(top, out, why);
    default:
      return fail(out, why, Drop::BadType, "\"y\" is not q, r or e");
  }
}

std::string encode(const Message& m) {
  Value top = Value::of_dict();
  top.set("t", Value::of(m.transaction));
  if (!m.version.empty()) top.set("v", Value::of(m.version));
  switch (m.kind) {
    case Kind::Query: {
      top.set("y", Value::of(std::string("q")));
      top.set("q", Value::of(std::string(to_string(m.method))));
      Value a = Value::of_dict();
      a.set("id", Value::of(id_string(m.id)));
      if (m.read_only) a.set("ro", Value::of(std::int64_t{1}));
      if (m.bootstrap) a.set("bs", Value::of(std::int64_t{1}));
      if (m.method == Method::FindNode) a.set("target", Value::of(id_string(m.target)));
      if (m.method == Method::GetPeers || m.method == Method::AnnouncePeer)
        a.set("info_hash", Value::of(id_string(m.info_hash)));
      if (m.method == Method::AnnouncePeer) {
        a.set("implied_port", Value::of(std::int64_t{m.implied_port ? 1 : 0}));
        a.set("port", Value::of(std::int64_t{m.port}));
        a.set("token", Value::of(m.token.value_or("")));
      }
      top.set("a", std::move(a));
      break;
    }
    case Kind::Response: {
      top.set("y", Value::of(std::string("r")));
      Value r = Value::of_dict();
      r.set("id", Value::of(id_string(m.id)));
      if (m.token) r.set("token", Value::of(*m.token));
      if (m.nodes) {
        std::string nodes;
        for (const NodeInfo& n : *m.nodes) nodes += compact_node(n);
        r.set("nodes", Value::of(std::move(nodes)));
      }
      if (m.values) {
        Value values = Value::of_list();
        for (const net::Endpoint& e : *m.values) values.list.push_back(Value::of(compact_peer(e)));
        r.set("values", std::move(values));
      }
      if (m.ip) top.set("ip", Value::of(compact_peer(*m.ip)));
      top.set("r", std::move(r));
      break;
    }
    case Kind::Error:
      top.set("y", Value::of(std::string("e")));
      top.set("e", Value::of_list({Value::of(std::int64_t{m.error_code}), Value::of(m.error_text)}));
      break;
  }
  return bencode::encode(top);
}

Message error_reply(std::string transaction, int code, std::string text) {
  Message m;
  m.kind = Kind::Error;
  m.transaction = std::move(transaction);
  m.error_code = code;
  m.error_text = std::move(text);
  return m;
}

}  // namespace p2plab::kademlia::krpc
