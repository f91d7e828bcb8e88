#pragma once
// What the wire formats of the unstructured search protocols (central index, flooding,
// superpeer) share inside the envelope (net/include/p2plab/net/wire.hpp): the limits, and the
// fields of a query: its GUID "q" and keywords or file name "x", and, in the protocols that pass
// a query on, its TTL "ttl" and hops "h". Each protocol's wire.cpp keeps its own fields and the
// rules of which message needs which.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "p2plab/net/wire.hpp"

namespace p2plab::search::wire {

constexpr std::uint64_t kVersion = 1;
constexpr std::size_t kMaxDatagram = 1400;
constexpr std::size_t kMaxNameBytes = 255;  // a file name or a query's keywords

/// Starts reading datagram d from the envelope `r` opened: its kind and sender, nothing else.
template <class Datagram>
void open_datagram(const net::wire::Reader& r, Datagram& d) {
  d = Datagram{};
  d.kind = r.kind();
  d.sender = r.sender().low64();
}

/// Writes d's GUID and name (when set); false if the name is too long.
template <class Datagram>
bool write_guid_and_name(net::wire::Writer& w, const Datagram& d) {
  if (d.guid) w.uint("q", *d.guid);
  if (d.name) {
    if (d.name->size() > kMaxNameBytes) return false;
    w.text("x", *d.name);
  }
  return true;
}

/// Reads field `name` if it is the GUID or the name: whether it was valid; nullopt if it is
/// another field.
template <class Datagram>
std::optional<bool> read_guid_or_name(net::wire::Reader& r, const std::string& name, const nlohmann::json& value,
                                      Datagram& d) {
  if (name == "q") return r.small(value, UINT64_MAX, d.guid.emplace());
  if (name == "x") return r.text(value, kMaxNameBytes, d.name.emplace());
  return std::nullopt;
}

/// Writes d's TTL and hops (when not 0).
template <class Datagram>
void write_ttl_and_hops(net::wire::Writer& w, const Datagram& d) {
  if (d.ttl != 0) w.uint("ttl", d.ttl);
  if (d.hops != 0) w.uint("h", d.hops);
}

/// Reads field `name` if it is the TTL or the hops: whether it was valid; nullopt if it is
/// another field.
template <class Datagram>
std::optional<bool> read_ttl_or_hops(net::wire::Reader& r, const std::string& name, const nlohmann::json& value,
                                     Datagram& d) {
  if (name == "ttl") return r.small(value, 255, d.ttl);
  if (name == "h") return r.small(value, 255, d.hops);
  return std::nullopt;
}

}  // namespace p2plab::search::wire
