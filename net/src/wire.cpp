#include "p2plab/net/wire.hpp"

namespace p2plab::net::wire {

using nlohmann::json;

const char* to_string(Drop reason) {
  static const char* const names[] = {"oversized", "not_cbor", "not_map", "version",   "protocol",
                                      "bits",      "kind",     "type",    "bad_id",    "bad_contact",
                                      "bad_field", "missing",  "self_id", "table_full"};
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

// ---- Writer ----

Writer::Writer(const Format& format, Kind kind, const Id& sender) : format_(format), doc_(json::object()) {
  doc_["v"] = format.version;
  if (!format.protocol.empty()) doc_["p"] = format.protocol;
  if (format.bits > 0) doc_["m"] = format.bits;
  doc_["k"] = static_cast<int>(kind);
  doc_["s"] = id_json(sender);
}

json Writer::id_json(const Id& id) const {
  if (format_.bits > 0) return json::binary(id_bytes(id));
  return json(id.low64());
}

json Writer::contact_json(const Contact& c) const {
  json a = json::array({id_json(c.id)});
  if (!c.is_sender) {
    a.push_back(c.address.ip);
    a.push_back(c.address.port);
  }
  return a;
}

void Writer::contacts(const char* name, const std::vector<Contact>& values) {
  json list = json::array();
  for (const Contact& c : values) list.push_back(contact_json(c));
  doc_[name] = std::move(list);
}

bool Writer::finish(std::vector<std::uint8_t>& out) const {
  out.clear();
  json::to_cbor(doc_, out);
  return out.size() <= format_.max_datagram;
}

// ---- Reader ----

bool Reader::open(const std::uint8_t* data, std::size_t size) {
  if (size > format_.max_datagram) return fail(Drop::Oversized);
  if (format_.bits < 0 || format_.bits > IdSpace::kMaxBits) return fail(Drop::Bits);
  // strict: the whole datagram is one CBOR item. A malformed one gives "discarded"; a few
  // malformations (a map or array claiming more entries than memory holds) throw even so.
  try {
    doc_ = json::from_cbor(data, data + size, /*strict=*/true, /*allow_exceptions=*/false);
  } catch (const std::exception&) {
    doc_ = json(json::value_t::discarded);
  }
  if (doc_.is_discarded()) return fail(Drop::NotCbor);
  if (!doc_.is_object()) return fail(Drop::NotMap);
  auto v = doc_.find("v");
  if (v == doc_.end() || !v->is_number_unsigned() || v->get<std::uint64_t>() != format_.version) {
    return fail(Drop::Version);
  }
  envelope_fields_ = 3;  // v, k, s
  if (!format_.protocol.empty()) {
    auto p = doc_.find("p");
    if (p == doc_.end() || !p->is_string() || p->get_ref<const std::string&>() != format_.protocol) {
      return fail(Drop::Protocol);
    }
    ++envelope_fields_;
  }
  if (format_.bits > 0) {
    auto m = doc_.find("m");
    if (m == doc_.end() || !m->is_number_unsigned() ||
        m->get<std::uint64_t>() != static_cast<std::uint64_t>(format_.bits)) {
      return fail(Drop::Bits);
    }
    ++envelope_fields_;
  }
  auto k = doc_.find("k");
  if (k == doc_.end() || !k->is_number_unsigned() ||
      k->get<std::uint64_t>() >= static_cast<std::uint64_t>(Kind::Count)) {
    return fail(Drop::Kind);
  }
  kind_ = static_cast<Kind>(k->get<std::uint64_t>());
  auto s = doc_.find("s");
  if (s == doc_.end()) return fail(Drop::Missing);
  return id(*s, sender_);
}

bool Reader::uint(const json& value, std::uint64_t max, std::uint64_t& out) {
  if (!value.is_number_unsigned() || value.get<std::uint64_t>() > max) return fail(Drop::BadField);
  out = value.get<std::uint64_t>();
  return true;
}

bool Reader::id(const json& value, Id& out) {
  if (format_.bits == 0) {
    if (!value.is_number_unsigned()) return fail(Drop::BadId);
    out = Id(value.get<std::uint64_t>());
    return true;
  }
  if (!value.is_binary()) return fail(Drop::BadId);
  const auto parsed = id_from_bytes(value.get_binary());
  if (!parsed || !IdSpace(format_.bits).contains(*parsed)) return fail(Drop::BadId);
  out = *parsed;
  return true;
}

bool Reader::text(const json& value, std::size_t max_bytes, std::string& out) {
  if (!value.is_string() || value.get_ref<const std::string&>().size() > max_bytes) return fail(Drop::BadField);
  out = value.get<std::string>();
  return true;
}

bool Reader::contact(const json& value, Contact& out) {
  if (!value.is_array() || (value.size() != 1 && value.size() != 3)) return fail(Drop::BadContact);
  // A contact's id: m-bit formats say what is wrong with it, 64-bit ones that the contact is bad.
  if (!id(value[0], out.id)) return fail(format_.bits > 0 ? Drop::BadId : Drop::BadContact);
  out.is_sender = value.size() == 1;
  out.address = {};
  if (!out.is_sender) {
    if (!value[1].is_number_unsigned() || !value[2].is_number_unsigned()) return fail(Drop::BadContact);
    const auto ip = value[1].get<std::uint64_t>(), port = value[2].get<std::uint64_t>();
    if (ip == 0 || ip > 0xffffffffu || port == 0 || port > 65535) return fail(Drop::BadContact);
    out.address = Endpoint{static_cast<std::uint32_t>(ip), static_cast<std::uint16_t>(port)};
  }
  return true;
}

bool Reader::contacts(const json& value, std::size_t max, bool may_be_empty, std::vector<Contact>& out) {
  if (!value.is_array() || value.size() > max || (value.empty() && !may_be_empty)) return fail(Drop::BadField);
  out.clear();
  for (const json& item : value) {
    Contact c;
    if (!contact(item, c)) return false;
    out.push_back(c);
  }
  return true;
}

}  // namespace p2plab::net::wire
