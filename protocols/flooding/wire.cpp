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
    if (d.ttl != 0) w.uint("ttl", d.ttl);
    if (d.hops != 0) w.uint("h", d.hops);
    if (d.flag != 0) w.uint("f", d.flag);
    if (d.guid) w.uint("q", *d.guid);
    if (d.name) {
      if (d.name->size() > kMaxNameBytes) return false;
      w.text("x", *d.name);
    }
    if (d.node) w.contact("n", *d.node);
    if (d.round != 0) w.uint("r", d.round);
  }
  return w.finish(out);
}

bool read(net::wire::Reader& r, Datagram& d) {
  bool has_type = false;

  d = Datagram{};
  d.kind = r.kind();
  d.sender = r.sender().low64();
  if (d.kind != Kind::Message) return r.fields() == 0 || r.fail(Drop::BadField);
  if (!r.each([&](const std::string& name, const json& value) {
        if (name == "t") return has_type = r.type(value, MsgType::Count, d.type);
        if (name == "ttl") return r.small(value, 255, d.ttl);
        if (name == "h") return r.small(value, 255, d.hops);
        if (name == "f") return r.small(value, 1, d.flag);
        if (name == "r") return r.small(value, 0xffffffffu, d.round);
        if (name == "q") return r.small(value, UINT64_MAX, d.guid.emplace());
        if (name == "x") return r.text(value, kMaxNameBytes, d.name.emplace());
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
