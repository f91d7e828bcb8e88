// libFuzzer target for the wire envelope (net/wire.hpp), every protocol's decoder (Chord, flooding,
// superpeers, central index, Kademlia's BEP 5: bencode and KRPC) and the monitor reports
// (net/monitor.hpp) (clang: -fsanitize=fuzzer,address).
// Built by tests/net/run_fuzz.sh (ctest: "net_fuzz_wire"), or with -DP2PLAB_FUZZ=ON when the compiler is clang.
// Whatever the bytes, decode() must return without a crash, a leak or undefined behaviour, and what it accepts must be
// within bounds and encode again to the same datagram.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "central_index/wire.hpp"
#include "flooding/wire.hpp"
#include "kademlia/bep5/bencode.hpp"
#include "kademlia/bep5/krpc.hpp"
#include "p2plab/net/monitor.hpp"
#include "p2plab/net/wire.hpp"
#include "superpeer/wire.hpp"
#include "wire.hpp"

using namespace p2plab;
using namespace p2plab::chord;

namespace {
void require(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The envelope alone: whatever it accepts names a known kind and a sender inside the id space.
  for (const net::wire::Format& f : {net::wire::Format{1, "x", 0, 1400}, net::wire::Format{1, "", 24, 1400}}) {
    net::wire::Reader r(f);
    if (!r.open(data, size)) {
      require(r.why() < net::wire::Drop::Count);
      continue;
    }
    require(r.kind() < net::wire::Kind::Count);
    require(f.bits == 0 || IdSpace(f.bits).contains(r.sender()));
    std::size_t fields = 0;
    r.each([&](const std::string&, const nlohmann::json&) { return ++fields > 0; });
    require(fields == r.fields());
  }
  // Monitor reports: what decodes is within its bounds and encodes again to the same report.
  net::MonitorReport report;
  std::string report_why;
  if (net::decode_report(data, size, report, report_why)) {
    const net::ReportedPeer& p = report.peer;
    require(p.links.size() <= net::kMaxReportLinks && p.keys.size() <= net::kMaxReportKeys &&
            p.tables.size() <= net::kMaxReportTables && report.events.size() <= net::kMaxReportEvents);
    const auto again =
        report.kind == net::MonitorReport::Kind::State ? net::encode_state(p) : net::encode_events(p, report.events);
    net::MonitorReport back;  // (empty: larger than a report may be once numbers are re-encoded)
    require(again.empty() || net::decode_report(again.data(), again.size(), back, report_why));
    require(again.empty() || (back.peer.id == p.id && back.peer.links == p.links && back.peer.keys == p.keys &&
                              back.events.size() == report.events.size()));
  } else {
    require(!report_why.empty());
  }
  for (const int bits : {16, 160}) {
    wire::Datagram d;
    wire::Drop why{};
    if (!wire::decode(data, size, bits, d, why)) {
      require(why < wire::Drop::Count);
      continue;
    }
    const IdSpace space(bits);
    require(space.contains(d.sender));
    require(d.list.size() <= static_cast<std::size_t>(kMaxSuccessors));
    require(!d.key || space.contains(*d.key));
    require(!d.value || d.value->size() <= wire::kMaxValueBytes);
    std::vector<std::uint8_t> again;
    require(wire::encode(d, again));
    wire::Datagram back;
    require(wire::decode(again.data(), again.size(), bits, back, why));
    require(back.sender == d.sender && back.list == d.list && back.key == d.key && back.value == d.value &&
            back.type == d.type && back.tag == d.tag && back.lookup == d.lookup);
  }
  flooding::wire::Datagram f;
  flooding::wire::Drop fwhy{};
  if (flooding::wire::decode(data, size, f, fwhy)) {
    std::vector<std::uint8_t> again;
    require(!f.name || f.name->size() <= flooding::wire::kMaxNameBytes);
    require(flooding::wire::encode(f, again));
    flooding::wire::Datagram back;
    require(flooding::wire::decode(again.data(), again.size(), back, fwhy));
    require(back.sender == f.sender && back.guid == f.guid && back.name == f.name && back.node == f.node);
  } else {
    require(fwhy < flooding::wire::Drop::Count);
  }
  superpeer::wire::Datagram s;
  superpeer::wire::Drop swhy{};
  if (superpeer::wire::decode(data, size, s, swhy)) {
    std::vector<std::uint8_t> again;
    require(s.list.size() <= superpeer::wire::kMaxList);
    require(superpeer::wire::encode(s, again));
    superpeer::wire::Datagram back;
    require(superpeer::wire::decode(again.data(), again.size(), back, swhy));
    require(back.sender == s.sender && back.list == s.list && back.relay == s.relay && back.name == s.name);
  }
  central_index::wire::Datagram c;
  central_index::wire::Drop cwhy{};
  if (central_index::wire::decode(data, size, c, cwhy)) {
    std::vector<std::uint8_t> again;
    require(c.providers.size() <= static_cast<std::size_t>(central_index::kProvidersPerMessage));
    require(!c.name || c.name->size() <= central_index::wire::kMaxNameBytes);
    require(central_index::wire::encode(c, again));
    central_index::wire::Datagram back;
    require(central_index::wire::decode(again.data(), again.size(), back, cwhy));
    require(back.sender == c.sender && back.kind == c.kind && back.type == c.type && back.guid == c.guid &&
            back.name == c.name && back.providers == c.providers && back.server == c.server && back.flag == c.flag);
  } else {
    require(cwhy < central_index::wire::Drop::Count);
  }
  // Kademlia (BEP 5): accepted bencode is the one encoding of its value; an accepted KRPC message
  // is within its bounds and survives encode and decode.
  using namespace p2plab::kademlia;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  bencode::Value v;
  bencode::Error berr{};
  if (!bencode::decode(text, v, berr)) {
    // KRPC decodes with tighter limits: what bencode refuses, it refuses too (not run again).
    require(berr != bencode::Error::None && berr < bencode::Error::Count);
    return 0;
  }
  require(bencode::encode(v) == text);
  krpc::Message m;
  krpc::Drop kwhy{};
  if (krpc::decode(text, m, kwhy, &berr)) {
    require(!m.transaction.empty() && m.transaction.size() <= krpc::kMaxTransaction);
    require(!m.token || m.token->size() <= krpc::kMaxToken);
    require(!m.nodes || m.nodes->size() <= krpc::kMaxNodes);
    require(!m.values || m.values->size() <= krpc::kMaxValues);
    const std::string again = krpc::encode(m);
    krpc::Message back;
    require(krpc::decode(again, back, kwhy));
    require(back.kind == m.kind && back.transaction == m.transaction && back.id == m.id && back.method == m.method &&
            back.target == m.target && back.info_hash == m.info_hash && back.token == m.token &&
            back.nodes == m.nodes && back.values == m.values && back.port == m.port &&
            back.implied_port == m.implied_port && back.error_code == m.error_code && back.error_text == m.error_text &&
            back.version == m.version);
    require(krpc::encode(back) == again);
  } else {
    require(kwhy < krpc::Drop::Count);
  }
  return 0;
}
