#include "wire.hpp"

namespace p2plab::central_index::wire {

using nlohmann::json;

const net::wire::Format& format() {
  static const net::wire::Format f{kVersion, "central_index", 0, kMaxDatagram};
  return f;
}

namespace {
bool uses_guid(MsgType t) {
  return t == MsgType::Search || t == MsgType::SearchResult || t == MsgType::Download || t == MsgType::DownloadOk;
}
}  // namespace

bool encode(const Datagram& d, std::vector<std::uint8_t>& out) {
  net::wire::Writer w(format(), d.kind, Id(d.sender));
  if (d.kind == Kind::HelloReply && d.server) w.contact("n", *d.server);
  if (d.kind == Kind::Message) {
    w.uint("t", static_cast<std::uint64_t>(d.type));
    if (d.flag != 0) w.uint("f", d.flag);
    if (!search::wire::write_guid_and_name(w, d)) return false;
    if (d.type == MsgType::SearchResult) {
      if (d.providers.size() > static_cast<std::size_t>(kProvidersPerMessage)) return false;
      w.contacts("c", d.providers);
    }
  }
  return w.finish(out);
}

bool read(net::wire::Reader& r, Datagram& d) {
  bool has_type = false, has_list = false;

  search::wire::open_datagram(r, d);
  if (d.kind != Kind::Message) {
    // A HELLO_REPLY may name the server (with its address); nothing else rides on a hello.
    return r.each([&](const std::string& name, const json& value) {
      if (d.kind != Kind::HelloReply || name != "n") return r.fail(Drop::BadField);
      return r.contact(value, d.server.emplace()) && (!d.server->is_sender || r.fail(Drop::BadContact));
    });
  }
  if (!r.each([&](const std::string& name, const json& value) {
        if (name == "t") return has_type = r.type(value, MsgType::Count, d.type);
        if (name == "f") return r.small(value, 1, d.flag);
        if (auto valid = search::wire::read_guid_or_name(r, name, value, d)) return *valid;
        if (name == "c") {
          has_list = true;
          return r.contacts(value, static_cast<std::size_t>(kProvidersPerMessage), true, d.providers);
        }
        return r.fail(Drop::BadField);  // unknown field: another version's message
      }))
    return false;
  if (d.kind == Kind::Message) {
    // What the handlers rely on; fields a type does not use are refused.
    const bool needs_name = d.type == MsgType::Register || d.type == MsgType::Search;
    const bool is_result = d.type == MsgType::SearchResult;
    if (!has_type || (uses_guid(d.type) && !d.guid) || (needs_name && !d.name) || (is_result && !has_list)) {
      return r.fail(Drop::Missing);
    }
    if ((!uses_guid(d.type) && d.guid) || (!needs_name && d.name) || (!is_result && (has_list || d.flag != 0))) {
      return r.fail(Drop::BadField);
    }
  }
  return true;
}

bool decode(const std::uint8_t* data, std::size_t size, Datagram& out, Drop& why) {
  return net::wire::decode(
      format(), data, size, [](net::wire::Reader& r, Datagram& d) { return read(r, d); }, out, why);
}

}  // namespace p2plab::central_index::wire
