#pragma once
// Monitor reports: what `p2plab node --monitor HOST:PORT` sends to `p2plab-viz --attach PORT`.
// A state report is the reporting peer's PeerView (view_model.hpp) serialized with names instead
// of positions (link kinds and the role by their ProtocolModel names, peers by their ids), so the
// monitor decodes every protocol alike and finds the rest (vocabulary, geometry) in the registry
// under the protocol's name. One CBOR map per datagram, version 2, at most kMaxReportBytes:
//   {"v": 2, "proto": NAME, "m": ID_BITS, "id": ID, "t": MS, "k": "state", "addr": "IP:PORT",
//    "st": STATE, "role": ROLE, "links": [[KIND, INDEX, ID], ...], "keys": [ID, ...], "nkeys": N,
//    "tables": [{"title": T, "cols": [..], "rows": [[CELL, ...], ...], "link": [ROW_LINK, ...]}]}
//   {"v": 2, "proto", "m", "id", "t", "k": "msgs", "e": [[FROM_ID, TO_ID, "TYPE"], ...]}
// IDs are big-endian byte strings; a CELL is [KIND, TEXT, ...]: [0, text], [1, text, number],
// [2, text, id, mark], [3, text, from, to, closed_left, closed_right], [4, text, id or null].
#include <cstdint>
#include <string>
#include <vector>

#include "p2plab/id.hpp"
#include "p2plab/net/udp.hpp"
#include "p2plab/view_model.hpp"

namespace p2plab::net {

constexpr std::uint64_t kMonitorVersion = 2;
constexpr std::size_t kMaxReportLinks = 256;  // links in one state report
constexpr std::size_t kMaxReportKeys = 64;    // keys listed (nkeys counts them all)
constexpr std::size_t kMaxReportTables = 4;   // tables, each at most kMaxReportRows rows
constexpr std::size_t kMaxReportRows = 160;
constexpr std::size_t kMaxReportCells = 8;     // per row (and columns per table)
constexpr std::size_t kMaxReportText = 256;    // bytes of a name, a title or a text cell
constexpr std::size_t kMaxReportEvents = 64;   // message events per "msgs" report
constexpr std::size_t kMaxReportBytes = 8192;  // a report that would be larger loses its tables

/// One link of a reported peer: the kind by its name, the target by its id.
struct ReportedLink {
  std::string kind;
  std::uint16_t index = 0;
  Id target;
  friend bool operator==(const ReportedLink&, const ReportedLink&) = default;
};

/// One peer's state as reported. Peer cells of its tables carry the peer's id in Cell::id.
struct ReportedPeer {
  std::string protocol;
  int bits = 64;
  Id id;
  std::int64_t time_ms = 0;
  std::string address;
  PeerState state = PeerState::Up;
  std::string role;
  std::vector<ReportedLink> links;
  std::vector<Id> keys;
  std::uint64_t key_count = 0;
  std::vector<TableView> tables;
};

struct MonitorEvent {
  Id from, to;
  std::string type;
};

struct MonitorReport {
  enum class Kind : std::uint8_t { State, Events } kind = Kind::State;
  ReportedPeer peer;  ///< State: everything; Events: protocol, bits, id, time_ms
  std::vector<MonitorEvent> events;
};

/// The report of a PeerView: names from `model`, ids of local peers through `id_of`.
ReportedPeer report_of(const PeerView& view, const ProtocolModel& model, const std::function<Id(PeerIndex)>& id_of);

/// Encoded reports; empty when even the smallest form would exceed kMaxReportBytes.
std::vector<std::uint8_t> encode_state(const ReportedPeer& peer);
std::vector<std::uint8_t> encode_events(const ReportedPeer& who, const std::vector<MonitorEvent>& events);
/// Decodes one report; false with `why` (a word) when it is not a valid version-2 report.
bool decode_report(const std::uint8_t* data, std::size_t size, MonitorReport& out, std::string& why);

inline void send_report(UdpSocket& socket, const Endpoint& monitor, const std::vector<std::uint8_t>& report) {
  if (!report.empty() && report.size() <= kMaxReportBytes) socket.send(monitor, report.data(), report.size());
}

}  // namespace p2plab::net
