#include "p2plab/net/udp.hpp"

#include <cerrno>
#include <cstdio>

#include <sys/socket.h>
#include <SFML/Network/IpAddress.hpp>
#include <SFML/Network/SocketSelector.hpp>
#include <SFML/Network/UdpSocket.hpp>
#include <SFML/System/Err.hpp>

namespace p2plab::net {

struct UdpSocket::Impl {
  /// sf::UdpSocket with its native handle reachable (for SO_RCVBUF).
  struct NativeUdpSocket : sf::UdpSocket {
    using sf::UdpSocket::getHandle;
  };
  NativeUdpSocket socket;
  sf::SocketSelector selector;
};

UdpSocket::UdpSocket() : impl_(std::make_unique<Impl>()), buffer_(kMaxUdp + 1) {}
UdpSocket::~UdpSocket() = default;

bool UdpSocket::bind(const Endpoint& local, std::string& error) {
  const sf::IpAddress address = local.ip == 0 ? sf::IpAddress::Any : sf::IpAddress(local.ip);
  errno = 0;
  // SFML would print its own line to stderr; the caller says what went wrong.
  std::streambuf* const sfml_errors = sf::err().rdbuf(nullptr);
  const bool bound = impl_->socket.bind(local.port, address) == sf::Socket::Done;
  const int why = errno;
  sf::err().rdbuf(sfml_errors);
  if (!bound) {
    error = "cannot bind UDP " + local.to_string();
    if (why == EADDRINUSE) {
      error += ": port " + std::to_string(local.port) + " is already in use (another peer? pick another port, or 0)";
    } else if (why == EADDRNOTAVAIL) {
      error += ": not an address of this machine";
    } else {
      error += " (port in use, or not an address of this machine)";
    }
    return false;
  }
  impl_->socket.setBlocking(false);
  // A larger receive buffer rides out bursts (ignored beyond the system's rmem_max).
  const int bytes = 4 << 20;
  ::setsockopt(impl_->socket.getHandle(), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  // SFML enables broadcast on every UDP socket; a peer only ever sends to one peer at a time.
  const int off = 0;
  ::setsockopt(impl_->socket.getHandle(), SOL_SOCKET, SO_BROADCAST, &off, sizeof off);
  impl_->selector.add(impl_->socket);
  return true;
}

std::uint16_t UdpSocket::local_port() const { return impl_->socket.getLocalPort(); }

bool UdpSocket::send(const Endpoint& to, const std::uint8_t* data, std::size_t size) {
  if (to.port == 0 || size > kMaxUdp) return false;
  sf::IpAddress address(to.ip);
  return impl_->socket.send(data, size, address, to.port) == sf::Socket::Done;
}

int UdpSocket::receive(std::chrono::microseconds timeout, int max_batch,
                       const std::function<void(const std::uint8_t*, std::size_t, const Endpoint&)>& on_datagram) {
  if (timeout.count() > 0 && !impl_->selector.wait(sf::microseconds(timeout.count()))) return 0;
  int count = 0;
  while (count < max_batch) {
    std::size_t received = 0;
    sf::IpAddress from;
    unsigned short port = 0;
    const sf::Socket::Status status = impl_->socket.receive(buffer_.data(), buffer_.size(), received, from, port);
    if (status != sf::Socket::Done) break;
    ++count;
    on_datagram(buffer_.data(), received, Endpoint{from.toInteger(), static_cast<std::uint16_t>(port)});
  }
  return count;
}

bool bind_node_socket(UdpSocket& socket, const Endpoint& listen, Endpoint& bound) {
  std::string error;
  if (!socket.bind(listen, error)) {
    std::fprintf(stderr, "p2plab node: --listen: %s\n", error.c_str());
    return false;
  }
  bound = listen;
  bound.port = socket.local_port();
  return true;
}

std::string default_id_source(const Endpoint& bound) {
  Endpoint named = bound;
  if (named.ip == 0) named.ip = local_lan_address();
  return named.to_string();
}

}  // namespace p2plab::net
