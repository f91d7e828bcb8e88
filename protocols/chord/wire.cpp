#include "wire.hpp"

namespace p2plab::chord::wire {

using nlohmann::json;

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

net::wire::Format format(int bits) { return net::wire::Format{kVersion, "", bits, kMaxDatagram}; }

bool encode(const Datagram& d, std::vector<std::uint8_t>& out) {
  const net::wire::Format f = format(d.bits);
  net::wire::Writer w(f, d.kind, d.sender);
  if (d.kind == Kind::Message) {
    w.uint("t", static_cast<std::uint64_t>(d.type));
    if (d.flag != 0) w.uint("f", d.flag);
    if (d.hops != 0) w.uint("h", d.hops);
    if (d.lookup != 0) w.uint("l", d.lookup);
    if (d.tag != 0) w.uint("g", d.tag);
    if (d.origin) w.contact("o", *d.origin);
    if (d.node) w.contact("n", *d.node);
    if (!d.list.empty()) {
      if (d.list.size() > static_cast<std::size_t>(kMaxSuccessors)) return false;
      w.contacts("c", d.list);
    }
    if (d.key) w.id("y", *d.key);
    if (d.value) {
      if (d.value->size() > kMaxValueBytes) return false;
      w.text("x", *d.value);
    }
  }
  return w.finish(out);
}

bool read(net::wire::Reader& r, int bits, Datagram& d) {
  bool has_type = false;

  d = Datagram{};
  d.bits = bits;
  d.kind = r.kind();
  d.sender = r.sender();
  if (d.kind != Kind::Message) return r.fields() == 0 || r.fail(Drop::BadField);  // v, m, k, s only
  if (!r.each([&](const std::string& name, const json& value) {
        if (name == "t") return has_type = r.type(value, MsgType::Count, d.type);
        if (name == "f") return r.small(value, 1, d.flag);
        if (name == "h") return r.small(value, 255, d.hops);
        if (name == "l") return r.small(value, 0xffffffffu, d.lookup);
        if (name == "g") return r.small(value, 0xffffffffu, d.tag);
        if (name == "o") return r.contact(value, d.origin.emplace());
        if (name == "n") return r.contact(value, d.node.emplace());
        if (name == "c") return r.contacts(value, static_cast<std::size_t>(kMaxSuccessors), false, d.list);
        if (name == "y") return r.id(value, d.key.emplace());
        if (name == "x") return r.text(value, kMaxValueBytes, d.value.emplace());
        return r.fail(Drop::BadField);  // unknown field: another version's message
      }))
    return false;
  if (d.kind == Kind::Message) {
    // What each message type cannot do without (the handlers rely on it).
    const bool needs_path = d.type == MsgType::FindSuccessor || d.type == MsgType::FoundSuccessor;
    if (!has_type || (uses_key(d.type) && !d.key) || (needs_path && (!d.origin || d.list.empty())) ||
        (d.type == MsgType::FindNextReply && d.flag != 0 && !d.node)) {
      return r.fail(Drop::Missing);
    }
  }
  return true;
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
  return net::wire::decode(
      format(bits), data, size, [bits](net::wire::Reader& r, Datagram& d) { return read(r, bits, d); }, out, why);
}

}  // namespace p2plab::chord::wire
