#include "wire.hpp"

#include <nlohmann/json.hpp>

namespace p2plab::central_index::wire {

using nlohmann::json;

const char* to_string(Drop reason) {
  static const char* const names[] = {"oversized", "not_cbor", "not_map",   "version",     "protocol",
                                      "kind",      "type",     "bad_id",    "bad_contact", "bad_field",
                                      "missing",   "self_id",  "table_full"};
  const auto i = static_cast<std::size_t>(reason);
  return i < std::size(names) ? names[i] : "?";
}

namespace {

json contact_json(const WireContact& c) {
  json a = json::array({c.id});
  if (!c.is_sender) {
    a.push_back(c.address.ip);
    a.push_back(c.address.port);
  }
  return a;
}

bool read_contact(const json& j, WireContact& c) {
  if (!j.is_array() || (j.size() != 1 && j.size() != 3) || !j[0].is_number_unsigned()) return false;
  c.id = j[0].get<std::uint64_t>();
  c.is_sender = j.size() == 1;
  if (!c.is_sender) {
    if (!j[1].is_number_unsigned() || !j[2].is_number_unsigned()) return false;
    const auto ip = j[1].get<std::uint64_t>(), port = j[2].get<std::uint64_t>();
    if (ip == 0 || ip > 0xffffffffu || port == 0 || port > 65535) return false;
    c.address = {static_cast<std::uint32_t>(ip), static_cast<std::uint16_t>(port)};
  }
  return true;
}

bool uses_guid(MsgType t) {
  return t == MsgType::Search || t == MsgType::SearchResult || t == MsgType::Download || t == MsgType::DownloadOk;
}

}  // namespace

bool encode(const Datagram& d, std::vector<std::uint8_t>& out) {
  json j = json::object();
  j["v"] = kVersion;
  j["p"] = "central_index";
  j["k"] = static_cast<int>(d.kind);
  j["s"] = d.sender;
  if (d.kind == Kind::HelloReply && d.server) j["n"] = contact_json(*d.server);
  if (d.kind == Kind::Message) {
    j["t"] = static_cast<int>(d.type);
    if (d.flag != 0) j["f"] = d.flag;
    if (d.guid) j["q"] = *d.guid;
    if (d.name) {
      if (d.name->size() > kMaxNameBytes) return false;
      j["x"] = *d.name;
    }
    if (d.type == MsgType::SearchResult) {
      if (d.providers.size() > static_cast<std::size_t>(kProvidersPerMessage)) return false;
      j["c"] = json::array();
      for (const WireContact& c : d.providers) j["c"].push_back(contact_json(c));
    }
  }
  out.clear();
  json::to_cbor(j, out);
  return out.size() <= kMaxDatagram;
}

bool decode(const std::uint8_t* data, std::size_t size, Datagram& out, Drop& why) {
  auto fail = [&](Drop d) {
    why = d;
    return false;
  };
  if (size > kMaxDatagram) return fail(Drop::Oversized);
  json j;
  try {
    j = json::from_cbor(data, data + size, /*strict=*/true, /*allow_exceptions=*/false);
  } catch (const std::exception&) {
    j = json(json::value_t::discarded);
  }
  if (j.is_discarded()) return fail(Drop::NotCbor);
  if (!j.is_object()) return fail(Drop::NotMap);
  auto v = j.find("v");
  if (v == j.end() || !v->is_number_unsigned() || v->get<std::uint64_t>() != kVersion) return fail(Drop::Version);
  auto p = j.find("p");
  if (p == j.end() || !p->is_string() || p->get_ref<const std::string&>() != "central_index") {
    return fail(Drop::Protocol);
  }
  auto k = j.find("k");
  if (k == j.end() || !k->is_number_unsigned() || k->get<std::uint64_t>() >= static_cast<std::uint64_t>(Kind::Count)) {
    return fail(Drop::Kind);
  }
  Datagram d;
  d.kind = static_cast<Kind>(k->get<std::uint64_t>());
  auto s = j.find("s");
  if (s == j.end()) return fail(Drop::Missing);
  if (!s->is_number_unsigned()) return fail(Drop::BadId);
  d.sender = s->get<std::uint64_t>();
  if (d.kind != Kind::Message) {
    auto n = j.find("n");
    if (d.kind == Kind::HelloReply && n != j.end()) {
      WireContact c;
      if (!read_contact(*n, c) || c.is_sender) return fail(Drop::BadContact);
      d.server = c;
      if (j.size() != 5) return fail(Drop::BadField);
    } else if (j.size() != 4) {
      return fail(Drop::BadField);
    }
    out = std::move(d);
    return true;
  }
  bool has_type = false, has_list = false;
  for (auto item = j.begin(); item != j.end(); ++item) {
    const std::string& name = item.key();
    const json& value = item.value();
    if (name == "v" || name == "p" || name == "k" || name == "s") continue;
    if (name == "t") {
      if (!value.is_number_unsigned() || value.get<std::uint64_t>() >= static_cast<std::uint64_t>(MsgType::Count)) {
        return fail(Drop::Type);
      }
      d.type = static_cast<MsgType>(value.get<std::uint64_t>());
      has_type = true;
    } else if (name == "f") {
      if (!value.is_number_unsigned() || value.get<std::uint64_t>() > 1) return fail(Drop::BadField);
      d.flag = static_cast<std::uint8_t>(value.get<std::uint64_t>());
    } else if (name == "q") {
      if (!value.is_number_unsigned()) return fail(Drop::BadField);
      d.guid = value.get<std::uint64_t>();
    } else if (name == "x") {
      if (!value.is_string() || value.get_ref<const std::string&>().size() > kMaxNameBytes) return fail(Drop::BadField);
      d.name = value.get<std::string>();
    } else if (name == "c") {
      if (!value.is_array() || value.size() > static_cast<std::size_t>(kProvidersPerMessage)) {
        return fail(Drop::BadField);
      }
      for (const auto& c : value) {
        WireContact contact;
        if (!read_contact(c, contact)) return fail(Drop::BadContact);
        d.providers.push_back(contact);
      }
      has_list = true;
    } else {
      return fail(Drop::BadField);
    }
  }
  if (!has_type) return fail(Drop::Missing);
  // What the handlers rely on; fields a type does not use are refused.
  const bool needs_name = d.type == MsgType::Register || d.type == MsgType::Search;
  const bool is_result = d.type == MsgType::SearchResult;
  if ((uses_guid(d.type) && !d.guid) || (needs_name && !d.name) || (is_result && !has_list)) {
    return fail(Drop::Missing);
  }
  if ((!uses_guid(d.type) && d.guid) || (!needs_name && d.name) || (!is_result && (has_list || d.flag != 0))) {
    return fail(Drop::BadField);
  }
  out = std::move(d);
  return true;
}

}  // namespace p2plab::central_index::wire
