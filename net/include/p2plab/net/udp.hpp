#pragma once
// One UDP socket (SFML-network) and the wait for "a datagram arrived or the next timer is due".
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "p2plab/net/endpoint.hpp"

namespace p2plab::net {

class UdpSocket {
 public:
  UdpSocket();
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  /// Binds to `local` (port 0: any free port). Returns false and sets `error` on failure.
  bool bind(const Endpoint& local, std::string& error);
  /// The port actually bound (the one chosen by the system for port 0).
  std::uint16_t local_port() const;
  /// Sends one datagram; false if the system refused it (the caller counts it).
  bool send(const Endpoint& to, const std::uint8_t* data, std::size_t size);
  /// Waits at most `timeout` for a datagram, then calls `on_datagram` for each waiting one (at
  /// most `max_batch`). Datagrams longer than the receive buffer are reported with their real
  /// length capped at kMaxUdp + 1, so the caller can count them as oversized.
  int receive(std::chrono::microseconds timeout, int max_batch,
              const std::function<void(const std::uint8_t*, std::size_t, const Endpoint&)>& on_datagram);

  static constexpr std::size_t kMaxUdp = 65507;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<std::uint8_t> buffer_;
};

/// What every real peer does first: binds `socket` to `listen` (port 0: any free port) and
/// returns the address it is reachable at; on failure prints "p2plab node: --listen: <why>" to
/// stderr and returns false.
bool bind_node_socket(UdpSocket& socket, const Endpoint& listen, Endpoint& bound);

/// The text a peer's default id is hashed from: "IP:PORT" of its bound address, with this
/// machine's LAN address in place of 0.0.0.0 (so that laptops all listening on 0.0.0.0:4000
/// still get distinct ids).
std::string default_id_source(const Endpoint& bound);

}  // namespace p2plab::net
