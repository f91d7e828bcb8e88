#pragma once
// Monitor reports of the unstructured protocols' real peers (flooding, superpeer): what
// `--monitor HOST:PORT` sends to `p2plab-viz --attach PORT`. One CBOR map per datagram, version
// 1, documented in protocols/flooding/README.md ("Monitor reports"). Chord has its own report
// (ids of m bits, fingers: protocols/chord/chord_node.cpp); these name peers by their 64-bit ids.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "p2plab/net/udp.hpp"

namespace p2plab::net {

constexpr std::size_t kMaxReportLinks = 256;   // ids per link list in one state report
constexpr std::size_t kMaxReportEvents = 64;   // message events per "msgs" report
constexpr std::size_t kMaxReportBytes = 8192;  // a report that would be larger is not sent

/// One unstructured peer's state, as reported.
struct UnstructuredState {
  std::string proto;  // "flooding" or "superpeer"
  std::uint64_t id = 0;
  std::int64_t time_ms = 0;
  std::string address;
  std::string role;  // "peer" (flooding), "superpeer" or "leaf"
  std::vector<std::uint64_t> neighbors, superpeers, leaves;
  std::uint64_t shared = 0;  // names this peer shares
};

struct MonitorEvent {
  std::uint64_t from = 0, to = 0;
  std::string type;
};

inline nlohmann::json report_header(const std::string& proto, std::uint64_t id, std::int64_t time_ms,
                                    const char* kind) {
  return nlohmann::json{{"v", 1}, {"proto", proto}, {"id", id}, {"t", time_ms}, {"k", kind}};
}

/// {"v":1, "proto", "id", "t", "k":"state", "addr", "role", "nbrs", "sps", "leaves", "nshared"}
inline std::vector<std::uint8_t> encode_state_report(const UnstructuredState& s) {
  nlohmann::json j = report_header(s.proto, s.id, s.time_ms, "state");
  j["addr"] = s.address;
  j["role"] = s.role;
  auto list = [](const std::vector<std::uint64_t>& ids) {
    nlohmann::json a = nlohmann::json::array();
    for (std::size_t i = 0; i < ids.size() && i < kMaxReportLinks; ++i) a.push_back(ids[i]);
    return a;
  };
  j["nbrs"] = list(s.neighbors);
  j["sps"] = list(s.superpeers);
  j["leaves"] = list(s.leaves);
  j["nshared"] = s.shared;
  std::vector<std::uint8_t> out;
  nlohmann::json::to_cbor(j, out);
  return out;
}

/// {"v":1, "proto", "id", "t", "k":"msgs", "e": [[from, to, "TYPE"], ...]}
inline std::vector<std::uint8_t> encode_events_report(const std::string& proto, std::uint64_t id,
                                                      std::int64_t time_ms, const std::vector<MonitorEvent>& events) {
  nlohmann::json j = report_header(proto, id, time_ms, "msgs");
  j["e"] = nlohmann::json::array();
  for (std::size_t i = 0; i < events.size() && i < kMaxReportEvents; ++i)
    j["e"].push_back(nlohmann::json::array({events[i].from, events[i].to, events[i].type}));
  std::vector<std::uint8_t> out;
  nlohmann::json::to_cbor(j, out);
  return out;
}

inline void send_report(UdpSocket& socket, const Endpoint& monitor, const std::vector<std::uint8_t>& report) {
  if (!report.empty() && report.size() <= kMaxReportBytes) socket.send(monitor, report.data(), report.size());
}

}  // namespace p2plab::net
