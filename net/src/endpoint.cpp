#include "p2plab/net/endpoint.hpp"

#include <SFML/Network/IpAddress.hpp>

#include <charconv>

namespace p2plab::net {

std::string Endpoint::to_string() const { return sf::IpAddress(ip).toString() + ":" + std::to_string(port); }

std::optional<Endpoint> parse_endpoint(const std::string& text, std::string& error) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    error = "'" + text + "' is not HOST:PORT (e.g. 127.0.0.1:4000)";
    return std::nullopt;
  }
  const std::string host = text.substr(0, colon), port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    error = "'" + port_text + "' is not a port number (0 .. 65535)";
    return std::nullopt;
  }
  Endpoint e;
  e.port = static_cast<std::uint16_t>(port);
  if (host == "0.0.0.0" || host == "*") {
    e.ip = 0;
  } else {
    const sf::IpAddress address(host);
    if (address == sf::IpAddress::None) {
      error = "'" + host + "' is not an IPv4 address or a host name that resolves";
      return std::nullopt;
    }
    e.ip = address.toInteger();
  }
  return e;
}

std::uint32_t local_lan_address() {
  const sf::IpAddress local = sf::IpAddress::getLocalAddress();
  return local == sf::IpAddress::None || local == sf::IpAddress::Any ? sf::IpAddress::LocalHost.toInteger()
                                                                     : local.toInteger();
}

}  // namespace p2plab::net
