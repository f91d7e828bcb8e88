#include "wire.hpp"

#include <nlohmann/json.hpp>

namespace p2plab::chord::wire {

using nlohmann::json;

const char* to_string(Drop reason) {
  static const char* const names[] = {"oversized", "not_cbor", "not_map",   "version",     "bits",
                                      "kind",      "type",     "bad_id",    "bad_contact", "bad_field",
                                      "missing",   "self_id",  "table_full"};
  const auto i = static_cast<std::size_t>(reason);
  return i < std::size(names) ? names[i] : "?";
}

std::vector<std::uint8_t> id_bytes(const Id& id) {
  std::vector<std::uint8_t> bytes;
  bool started = false;
  for (int limb = 2; limb >= 0; --limb) {
    for (int shift = 56; shift >= 0; shift -= 8) {
      const auto b = static_cast<std::uint8_t>(id.limb[limb] >> shift);
      if (b != 0) started = true;
      if (started) bytes.push_back(b);
    }
  }
  return bytes;
}

std::optional<Id> id_from_bytes(const std::vector<std::uint8_t>& bytes) {
  if (bytes.size() > 20) return std::nullopt;
  Id id;
  for (const std::uint8_t b : bytes) {
    id.limb[2] = (id.limb[2] << 8) | (id.limb[1] >> 56);
    id.limb[1] = (id.limb[1] << 8) | (id.limb[0] >> 56);
    id.limb[0] = (id.limb[0] << 8) | b;
  }
  return id;
}

namespace {

json id_json(const Id& id) { return json::binary(id_bytes(id)); }

json contact_json(const WireContact& c) {
  json a = json::array({id_json(c.id)});
  if (!c.is_sender) {
    a.push_back(c.address.ip);
    a.push_back(c.address.port);
  }
  return a;
}

bool uses_key(MsgType t) {
  switch (t) {
    case MsgType::FindNext:
    case MsgType::FindSuccessor:
    case MsgType::FoundSuccessor:
    case MsgType::Put:
    case MsgType::Get:
    case MsgType::Replicate:
    case MsgType::HandOver:
    case MsgType::FetchRange:
      return true;
    default:
      return false;
  }
}

struct Reader {
  int bits;
  IdSpace space;
  Drop why = Drop::BadField;

  bool fail(Drop d) {
    why = d;
    return false;
  }
  bool id(const json& j, Id& out) {
    if (!j.is_binary()) return fail(Drop::BadId);
    const auto parsed = id_from_bytes(j.get_binary());
    if (!parsed || !space.contains(*parsed)) return fail(Drop::BadId);
    out = *parsed;
    return true;
  }
  bool uint(const json& j, std::uint64_t max, std::uint64_t& out) {
    if (!j.is_number_unsigned()) return fail(Drop::BadField);
    out = j.get<std::uint64_t>();
    if (out > max) return fail(Drop::BadField);
    return true;
  }
  bool contact(const json& j, WireContact& out) {
    if (!j.is_array() || (j.size() != 1 && j.size() != 3)) return fail(Drop::BadContact);
    if (!id(j[0], out.id)) return false;
    out.is_sender = j.size() == 1;
    if (!out.is_sender) {
      std::uint64_t ip = 0, port = 0;
      if (!j[1].is_number_unsigned() || !j[2].is_number_unsigned()) return fail(Drop::BadContact);
      ip = j[1].get<std::uint64_t>();
      port = j[2].get<std::uint64_t>();
      if (ip > 0xffffffffu || port == 0 || port > 65535 || ip == 0) return fail(Drop::BadContact);
      out.address = Address{static_cast<std::uint32_t>(ip), static_cast<std::uint16_t>(port)};
    }
    return true;
  }
};

}  // namespace

bool encode(const Datagram& d, std::vector<std::uint8_t>& out) {
  json j = json::object();
  j["v"] = kVersion;
  j["m"] = d.bits;
  j["k"] = static_cast<int>(d.kind);
  j["s"] = id_json(d.sender);
  if (d.kind == Kind::Message) {
    j["t"] = static_cast<int>(d.type);
    if (d.flag != 0) j["f"] = d.flag;
    if (d.hops != 0) j["h"] = d.hops;
    if (d.lookup != 0) j["l"] = d.lookup;
    if (d.tag != 0) j["g"] = d.tag;
    if (d.origin) j["o"] = contact_json(*d.origin);
    if (d.node) j["n"] = contact_json(*d.node);
    if (!d.list.empty()) {
      if (d.list.size() > static_cast<std::size_t>(kMaxSuccessors)) return false;
      json list = json::array();
      for (const auto& c : d.list) list.push_back(contact_json(c));
      j["c"] = std::move(list);
    }
    if (d.key) j["y"] = id_json(*d.key);
    if (d.value) {
      if (d.value->size() > kMaxValueBytes) return false;
      j["x"] = *d.value;
    }
  }
  out.clear();
  json::to_cbor(j, out);
  return out.size() <= kMaxDatagram;
}

bool decode(const std::uint8_t* data, std::size_t size, int bits, Datagram& out, Drop& why) {
  if (size > kMaxDatagram) {
    why = Drop::Oversized;
    return false;
  }
  if (bits < 1 || bits > IdSpace::kMaxBits) {
    why = Drop::Bits;
    return false;
  }
  // strict: the whole datagram is one CBOR item. A malformed one gives "discarded"; a few
  // malformations (a map or array claiming more entries than memory holds) throw even so.
  json j;
  try {
    j = json::from_cbor(data, data + size, /*strict=*/true, /*allow_exceptions=*/false);
  } catch (const std::exception&) {
    j = json(json::value_t::discarded);
  }
  if (j.is_discarded()) {
    why = Drop::NotCbor;
    return false;
  }
  if (!j.is_object()) {
    why = Drop::NotMap;
    return false;
  }
  Reader r{bits, IdSpace(bits)};
  auto done = [&](bool ok) {
    if (!ok) why = r.why;
    return ok;
  };
  Datagram d;
  std::uint64_t u = 0;
  auto v = j.find("v");
  if (v == j.end() || !v->is_number_unsigned() || v->get<std::uint64_t>() != kVersion) {
    why = Drop::Version;
    return false;
  }
  auto m = j.find("m");
  if (m == j.end() || !m->is_number_unsigned() || m->get<std::uint64_t>() != static_cast<std::uint64_t>(bits)) {
    why = Drop::Bits;
    return false;
  }
  d.bits = bits;
  auto k = j.find("k");
  if (k == j.end() || !k->is_number_unsigned() || k->get<std::uint64_t>() >= static_cast<std::uint64_t>(Kind::Count)) {
    why = Drop::Kind;
    return false;
  }
  d.kind = static_cast<Kind>(k->get<std::uint64_t>());
  auto s = j.find("s");
  if (s == j.end()) {
    why = Drop::Missing;
    return false;
  }
  if (!r.id(*s, d.sender)) return done(false);
  if (d.kind != Kind::Message) {
    if (j.size() != 4) return done(r.fail(Drop::BadField));  // v, m, k, s and nothing else
    out = std::move(d);
    return true;
  }
  bool has_type = false;
  for (const auto& [name, value] : j.items()) {
    if (name == "v" || name == "m" || name == "k" || name == "s") continue;
    if (name == "t") {
      if (!value.is_number_unsigned() || value.get<std::uint64_t>() >= static_cast<std::uint64_t>(MsgType::Count)) {
        why = Drop::Type;
        return false;
      }
      d.type = static_cast<MsgType>(value.get<std::uint64_t>());
      has_type = true;
    } else if (name == "f") {
      if (!r.uint(value, 1, u)) return done(false);
      d.flag = static_cast<std::uint8_t>(u);
    } else if (name == "h") {
      if (!r.uint(value, 255, u)) return done(false);
      d.hops = static_cast<std::uint8_t>(u);
    } else if (name == "l") {
      if (!r.uint(value, 0xffffffffu, u)) return done(false);
      d.lookup = static_cast<std::uint32_t>(u);
    } else if (name == "g") {
      if (!r.uint(value, 0xffffffffu, u)) return done(false);
      d.tag = static_cast<std::uint32_t>(u);
    } else if (name == "o" || name == "n") {
      WireContact c;
      if (!r.contact(value, c)) return done(false);
      (name == "o" ? d.origin : d.node) = c;
    } else if (name == "c") {
      if (!value.is_array() || value.empty() || value.size() > static_cast<std::size_t>(kMaxSuccessors)) {
        return done(r.fail(Drop::BadField));
      }
      for (const auto& item : value) {
        WireContact c;
        if (!r.contact(item, c)) return done(false);
        d.list.push_back(c);
      }
    } else if (name == "y") {
      Id key;
      if (!r.id(value, key)) return done(false);
      d.key = key;
    } else if (name == "x") {
      if (!value.is_string() || value.get_ref<const std::string&>().size() > kMaxValueBytes) {
        return done(r.fail(Drop::BadField));
      }
      d.value = value.get<std::string>();
    } else {
      return done(r.fail(Drop::BadField));  // unknown field: another version's message
    }
  }
  if (!has_type) {
    why = Drop::Missing;
    return false;
  }
  // What each message type cannot do without (the handlers rely on it).
  const bool needs_path = d.type == MsgType::FindSuccessor || d.type == MsgType::FoundSuccessor;
  if ((uses_key(d.type) && !d.key) || (needs_path && (!d.origin || d.list.empty())) ||
      (d.type == MsgType::FindNextReply && d.flag != 0 && !d.node)) {
    why = Drop::Missing;
    return false;
  }
  out = std::move(d);
  return true;
}

}  // namespace p2plab::chord::wire
