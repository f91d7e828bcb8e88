#pragma once
// A UDP address (IPv4 + port), parsed from "HOST:PORT" with clear errors.
#include <cstdint>
#include <optional>
#include <string>

namespace p2plab::net {

struct Endpoint {
  std::uint32_t ip = 0;  // IPv4 in host byte order; 0 = any / unknown
  std::uint16_t port = 0;

  friend bool operator==(const Endpoint&, const Endpoint&) = default;
  std::string to_string() const;
  bool loopback() const { return (ip >> 24) == 127; }
};

/// Parses "HOST:PORT" (HOST a dotted IPv4 address or a name to resolve, PORT 0 .. 65535).
/// Returns nullopt and sets `error` to a one-line reason on bad input.
std::optional<Endpoint> parse_endpoint(const std::string& text, std::string& error);

/// This machine's address on its LAN (the one used to reach other hosts), or 127.0.0.1 if there
/// is none. No packet is sent.
std::uint32_t local_lan_address();

}  // namespace p2plab::net
