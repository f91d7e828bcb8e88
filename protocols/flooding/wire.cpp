#include "wire.hpp"

namespace p2plab::flooding::wire {

using nlohmann::json;

const net::wire::Format& format() {
  static const net::wire::Format f{kVersion, "flooding", 0, kMaxDatagram};
  return f;
}

namespace {
bool uses_guid(MsgType t) {
  return t == MsgType::Query || t == MsgType::QueryHit || t == MsgType::Download || t == MsgType::DownloadOk;
}
}  // namespace

bool encode(const Datagram& d, std::vector<std::uint8_t>& out) {
  net::wire::Writer w(format(), d.kind, Id(d.sender));
  if (d.kind == Kind::Message) {
    w.uint("t", static_cast<std::uint64_t>(d.type));
    search::wire::write_ttl_and_hops(w, d);
    if (d.flag != 0) w.uint("f", d.flag);
    if (!search::wire::write_guid_and_name(w, d)) return false;
    if (d.node) w.contact("n", *d.node);
    if (d.round != 0) w.uint("r", d.round);
  }
  return w.finish(out);
}

bool read(net::wire::Reader& r, Datagram& d) {
  bool has_type = false;

  search::wire::open_datagram(r, d);
  if (d.kind != Kind::Message) return r.fields() == 0 || r.fail(Drop::BadField);
  if (!r.each([&](const std::string& name, const json& value) {
        if (name == "t") return has_type = r.type(value, MsgType::Count, d.type);
        if (auto valid = search::wire::read_ttl_or_hops(r, name, value, d)) return *valid;
        if (name == "f") return r.small(value, 1, d.flag);
        if (name == "r") return r.small(value, 0xffffffffu, d.round);
        if (auto valid = search::wire::read_guid_or_name(r, name, value, d)) return *valid;
        if (name == "n") return r.contact(value, d.node.emplace());
        return r.fail(Drop::BadField);  // unknown field: another version's message
      }))
    return false;
  if (d.kind == Kind::Message) {
    // What the handlers rely on.
    const bool needs_node = d.type == MsgType::Ping || d.type == MsgType::Pong || d.type == MsgType::QueryHit;
    if (!has_type || (uses_guid(d.type) && !d.guid) || (d.type == MsgType::Query && !d.name) ||
        (needs_node && !d.node)) {
      return r.fail(Drop::Missing);
    }
  }
  return true;
}

bool decode(const std::uint8_t* data, std::size_t size, Datagram& out, Drop& why) {
  return net::wire::decode(
      format(), data, size, [](net::wire::Reader& r, Datagram& d) { return read(r, d); }, out, why);
}

}  // namespace p2plab::flooding::wire
