// Chord's wire codec (protocols/chord/wire.*): every message type survives a round trip, and
// garbage never gets in: random buffers, mutated and truncated datagrams, wrong versions, ids
// past 2^m, overlong lists and values are all refused with a reason.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <map>
#include <vector>

#include "datagram_noise.hpp"
#include "flooding/wire.hpp"
#include "p2plab/net/monitor.hpp"
#include "p2plab/rng.hpp"
#include "superpeer/wire.hpp"
#include "wire.hpp"

using namespace p2plab;
using namespace p2plab::chord;
using nlohmann::json;

namespace {

wire::Datagram sample(MsgType type, int bits, Rng& rng) {
  const IdSpace space(bits);
  auto random_id = [&] { return space.reduce(Id(rng.next_u64())); };
  wire::Datagram d;
  d.kind = wire::Kind::Message;
  d.bits = bits;
  d.sender = random_id();
  d.type = type;
  d.flag = static_cast<std::uint8_t>(rng.below(2));
  d.hops = static_cast<std::uint8_t>(rng.below(40));
  d.lookup = static_cast<std::uint32_t>(rng.next_u64());
  d.tag = static_cast<std::uint32_t>(rng.next_u64());
  d.origin = wire::WireContact{random_id(), true, {}};
  d.node = wire::WireContact{random_id(), false, {0x7f000001u, static_cast<std::uint16_t>(1 + rng.below(65535))}};
  const auto count = 1 + rng.below(kMaxSuccessors);
  for (std::uint64_t j = 0; j < count; ++j) {
    d.list.push_back(wire::WireContact{random_id(), false, {0x7f000001u, static_cast<std::uint16_t>(4000 + j)}});
  }
  d.key = random_id();
  if (type == MsgType::Put || type == MsgType::Replicate) d.value = "value " + std::to_string(rng.below(1000));
  return d;
}

bool same(const wire::Datagram& a, const wire::Datagram& b) {
  return a.kind == b.kind && a.bits == b.bits && a.sender == b.sender && a.type == b.type && a.flag == b.flag &&
         a.hops == b.hops && a.lookup == b.lookup && a.tag == b.tag && a.origin == b.origin && a.node == b.node &&
         a.list == b.list && a.key == b.key && a.value == b.value;
}

/// What an accepted datagram must satisfy, whatever bytes it came from.
void check_valid(const wire::Datagram& d, int bits) {
  const IdSpace space(bits);
  REQUIRE(space.contains(d.sender));
  REQUIRE(static_cast<int>(d.kind) < static_cast<int>(wire::Kind::Count));
  REQUIRE(static_cast<int>(d.type) < static_cast<int>(MsgType::Count));
  REQUIRE(d.list.size() <= static_cast<std::size_t>(kMaxSuccessors));
  REQUIRE(d.flag <= 1);
  for (const auto& c : d.list) {
    REQUIRE(space.contains(c.id));
    if (!c.is_sender) REQUIRE(c.address.port != 0);
  }
  if (d.key) REQUIRE(space.contains(*d.key));
  if (d.value) REQUIRE(d.value->size() <= wire::kMaxValueBytes);
  // An accepted datagram encodes again to something that decodes to the same thing.
  std::vector<std::uint8_t> again;
  REQUIRE(wire::encode(d, again));
  wire::Datagram back;
  wire::Drop why{};
  REQUIRE(wire::decode(again.data(), again.size(), bits, back, why));
  REQUIRE(same(d, back));
}

/// 10000 datagrams for a search protocol's decoder: half random bytes, half `seeds` (valid
/// datagrams) with 1 to 3 bytes replaced or cut off. `decode` checks what it accepts and says
/// whether it did; random bytes must never pass, and most mutated datagrams must not.
template <class Decode>
void fuzz_search_wire(Rng& rng, const std::vector<std::vector<std::uint8_t>>& seeds, Decode decode) {
  int random_accepted = 0, dropped = 0;
  for (int i = 0; i < 10000; ++i) {
    const bool random = i % 2 == 0;
    const std::vector<std::uint8_t> b = random ? test::random_datagram(rng) : test::mutated_datagram(rng, seeds);
    if (decode(b)) {
      random_accepted += random ? 1 : 0;
    } else {
      ++dropped;
    }
  }
  CHECK(random_accepted == 0);
  CHECK(dropped > 7500);
}

}  // namespace

TEST_CASE("every Chord message type survives the wire for m = 6 and 32 and 64 and 160" * doctest::test_suite("net")) {
  Rng rng(7);
  for (const int bits : {6, 32, 64, 160}) {
    for (int t = 0; t < static_cast<int>(MsgType::Count); ++t) {
      const wire::Datagram d = sample(static_cast<MsgType>(t), bits, rng);
      std::vector<std::uint8_t> bytes;
      REQUIRE(wire::encode(d, bytes));
      CHECK(bytes.size() <= wire::kMaxDatagram);
      wire::Datagram back;
      wire::Drop why{};
      REQUIRE(wire::decode(bytes.data(), bytes.size(), bits, back, why));
      CHECK(same(d, back));
    }
  }
  // Hello carries the sender's id and nothing else.
  wire::Datagram hello;
  hello.kind = wire::Kind::Hello;
  hello.bits = 160;
  hello.sender = IdSpace(160).max_id();
  std::vector<std::uint8_t> bytes;
  REQUIRE(wire::encode(hello, bytes));
  wire::Datagram back;
  wire::Drop why{};
  REQUIRE(wire::decode(bytes.data(), bytes.size(), 160, back, why));
  CHECK(back.kind == wire::Kind::Hello);
  CHECK(back.sender == hello.sender);
}

TEST_CASE("the wire refuses what it must refuse and names the reason" * doctest::test_suite("net")) {
  Rng rng(11);
  const wire::Datagram good = sample(MsgType::FindNext, 16, rng);
  std::vector<std::uint8_t> bytes;
  REQUIRE(wire::encode(good, bytes));
  wire::Datagram out;
  wire::Drop why{};
  auto refuse = [&](const json& j) {
    const std::vector<std::uint8_t> b = json::to_cbor(j);
    const bool accepted = wire::decode(b.data(), b.size(), 16, out, why);
    CHECK_FALSE(accepted);
    return why;
  };
  const json base = json::from_cbor(bytes);
  json j = base;
  j["v"] = 2;
  CHECK(refuse(j) == wire::Drop::Version);
  j = base;
  j.erase("v");
  CHECK(refuse(j) == wire::Drop::Version);
  j = base;
  j["m"] = 32;
  CHECK(refuse(j) == wire::Drop::Bits);  // another overlay's id width
  j = base;
  j["t"] = static_cast<int>(MsgType::Count);
  CHECK(refuse(j) == wire::Drop::Type);
  j = base;
  j["k"] = 9;
  CHECK(refuse(j) == wire::Drop::Kind);
  j = base;
  j["y"] = json::binary({0x01, 0x00, 0x00});  // 65536 = 2^16: one past the largest id
  CHECK(refuse(j) == wire::Drop::BadId);
  j = base;
  j["s"] = json::binary(std::vector<std::uint8_t>(21, 0));  // longer than 160 bits
  CHECK(refuse(j) == wire::Drop::BadId);
  j = base;
  j["c"] = json::array();
  for (int k = 0; k <= kMaxSuccessors; ++k) j["c"].push_back(json::array({json::binary({1})}));
  CHECK(refuse(j) == wire::Drop::BadField);  // 33 contacts
  j = base;
  j["c"] = json::array({json::array({json::binary({1}), 0x7f000001, 0})});
  CHECK(refuse(j) == wire::Drop::BadContact);  // port 0
  j = base;
  j["x"] = std::string(wire::kMaxValueBytes + 1, 'a');
  CHECK(refuse(j) == wire::Drop::BadField);
  j = base;
  j["f"] = 2;
  CHECK(refuse(j) == wire::Drop::BadField);
  j = base;
  j["zz"] = 1;
  CHECK(refuse(j) == wire::Drop::BadField);  // unknown field
  j = base;
  j.erase("y");
  CHECK(refuse(j) == wire::Drop::Missing);  // FIND_NEXT without its key
  CHECK(refuse(json::array({1, 2, 3})) == wire::Drop::NotMap);
  // Every truncation of a good datagram is refused.
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    CHECK_FALSE(wire::decode(bytes.data(), n, 16, out, why));
    CHECK(why == wire::Drop::NotCbor);
  }
  // Trailing bytes: not one CBOR item.
  std::vector<std::uint8_t> longer = bytes;
  longer.push_back(0);
  CHECK_FALSE(wire::decode(longer.data(), longer.size(), 16, out, why));
  std::vector<std::uint8_t> huge(wire::kMaxDatagram + 1, 0xa0);
  CHECK_FALSE(wire::decode(huge.data(), huge.size(), 16, out, why));
  CHECK(why == wire::Drop::Oversized);
  // Deep nesting within the size limit is refused without exhausting the stack.
  std::vector<std::uint8_t> nested(wire::kMaxDatagram, 0x81);
  CHECK_FALSE(wire::decode(nested.data(), nested.size(), 16, out, why));
}

TEST_CASE("10000 random and mutated datagrams: garbage is always refused and survivors are valid" *
          doctest::test_suite("net")) {
  Rng rng(2024);
  std::vector<std::vector<std::uint8_t>> seeds;
  for (int t = 0; t < static_cast<int>(MsgType::Count); ++t) {
    std::vector<std::uint8_t> b;
    REQUIRE(wire::encode(sample(static_cast<MsgType>(t), 32, rng), b));
    seeds.push_back(b);
  }
  std::map<wire::Drop, int> drops;
  int random_accepted = 0, mutated_accepted = 0, mutated_dropped = 0;
  for (int i = 0; i < 10000; ++i) {
    std::vector<std::uint8_t> b;
    const bool random = i % 2 == 0;
    if (random) {
      b.resize(rng.below(1600));
      for (auto& byte : b) byte = static_cast<std::uint8_t>(rng.next_u64());
    } else {
      b = seeds[rng.below(seeds.size())];
      const auto edits = 1 + rng.below(4);
      for (std::uint64_t e = 0; e < edits && !b.empty(); ++e) {
        const auto at = rng.below(b.size());
        switch (rng.below(4)) {
          case 0:
            b[at] = static_cast<std::uint8_t>(rng.next_u64());
            break;  // replace a byte
          case 1:
            b[at] ^= static_cast<std::uint8_t>(1u << rng.below(8));
            break;  // flip a bit
          case 2:
            b.resize(at);
            break;  // truncate
          default:
            b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), static_cast<std::uint8_t>(rng.next_u64()));
        }
      }
    }
    wire::Datagram d;
    wire::Drop why{};
    if (wire::decode(b.data(), b.size(), 32, d, why)) {
      check_valid(d, 32);
      (random ? random_accepted : mutated_accepted) += 1;
    } else {
      ++drops[why];
      if (!random) ++mutated_dropped;
    }
  }
  CHECK(random_accepted == 0);    // random bytes never make a Chord datagram
  CHECK(mutated_dropped > 2500);  // most mutations break it; the rest decode to valid values
  int total = 0;
  for (const auto& [reason, count] : drops) {
    MESSAGE(std::string(wire::to_string(reason)) << ": " << count);
    total += count;
  }
  CHECK(total + random_accepted + mutated_accepted == 10000);
  CHECK(drops[wire::Drop::Oversized] > 0);
  CHECK(drops[wire::Drop::NotCbor] > 0);
}

TEST_CASE(
    "flooding's wire: every message type survives it and 10000 random or mutated datagrams never pass as garbage" *
    doctest::test_suite("net")) {
  namespace fw = flooding::wire;
  Rng rng(31);
  std::vector<std::vector<std::uint8_t>> seeds;
  for (int t = 0; t < static_cast<int>(flooding::MsgType::Count); ++t) {
    fw::Datagram d;
    d.sender = rng.next_u64();
    d.type = static_cast<flooding::MsgType>(t);
    d.ttl = static_cast<std::uint8_t>(rng.below(8));
    d.hops = static_cast<std::uint8_t>(rng.below(8));
    d.guid = rng.next_u64();
    d.name = "song " + std::to_string(t);
    d.node = fw::WireContact{Id(rng.next_u64()), false, {0x7f000001u, 4000}};
    d.round = static_cast<std::uint32_t>(rng.below(100));
    std::vector<std::uint8_t> bytes;
    REQUIRE(fw::encode(d, bytes));
    fw::Datagram back;
    fw::Drop why{};
    REQUIRE(fw::decode(bytes.data(), bytes.size(), back, why));
    CHECK((back.sender == d.sender && back.type == d.type && back.ttl == d.ttl && back.hops == d.hops &&
           back.guid == d.guid && back.name == d.name && back.node == d.node && back.round == d.round));
    for (std::size_t n = 0; n < bytes.size(); ++n) CHECK_FALSE(fw::decode(bytes.data(), n, back, why));
    seeds.push_back(bytes);
  }
  // A Chord datagram is not a flooding one.
  wire::Datagram chord_hello;
  chord_hello.kind = wire::Kind::Hello;
  chord_hello.bits = 32;
  std::vector<std::uint8_t> other;
  REQUIRE(wire::encode(chord_hello, other));
  fw::Datagram out;
  fw::Drop why{};
  CHECK_FALSE(fw::decode(other.data(), other.size(), out, why));
  CHECK(why == fw::Drop::Protocol);
  fuzz_search_wire(rng, seeds, [](const std::vector<std::uint8_t>& b) {
    fw::Datagram d;
    fw::Drop reason{};
    if (!fw::decode(b.data(), b.size(), d, reason)) return false;
    CHECK((d.name ? d.name->size() <= fw::kMaxNameBytes : true));
    if (d.node && !d.node->is_sender) CHECK(d.node->address.port != 0);
    return true;
  });
}

TEST_CASE(
    "superpeers' wire: every message type survives it and 10000 random or mutated datagrams never pass as garbage" *
    doctest::test_suite("net")) {
  namespace sw = superpeer::wire;
  Rng rng(37);
  std::vector<std::vector<std::uint8_t>> seeds;
  for (int t = 0; t < static_cast<int>(superpeer::MsgType::Count); ++t) {
    sw::Datagram d;
    d.sender = rng.next_u64();
    d.type = static_cast<superpeer::MsgType>(t);
    d.ttl = static_cast<std::uint8_t>(rng.below(8));
    d.hops = static_cast<std::uint8_t>(rng.below(8));
    d.guid = rng.next_u64();
    d.name = "song " + std::to_string(t);
    d.node = sw::WireContact{Id(rng.next_u64()), true, {}};
    d.relay = sw::WireContact{Id(rng.next_u64()), false, {0x7f000001u, 4001}};
    if (d.type == superpeer::MsgType::SuperpeerList) {
      for (std::uint64_t i = 0; i <= rng.below(sw::kMaxList); ++i)
        d.list.push_back({Id(rng.next_u64()), false, {0x7f000001u, 4002}});
      d.list.resize(std::min(d.list.size(), sw::kMaxList));
      d.flag = static_cast<std::uint8_t>(d.list.size());
    } else {
      d.flag = static_cast<std::uint8_t>(rng.below(4));
    }
    std::vector<std::uint8_t> bytes;
    REQUIRE(sw::encode(d, bytes));
    sw::Datagram back;
    sw::Drop why{};
    REQUIRE(sw::decode(bytes.data(), bytes.size(), back, why));
    CHECK((back.sender == d.sender && back.type == d.type && back.ttl == d.ttl && back.hops == d.hops &&
           back.flag == d.flag && back.guid == d.guid && back.name == d.name && back.node == d.node &&
           back.relay == d.relay && back.list == d.list));
    for (std::size_t n = 0; n < bytes.size(); ++n) CHECK_FALSE(sw::decode(bytes.data(), n, back, why));
    seeds.push_back(bytes);
  }
  fuzz_search_wire(rng, seeds, [](const std::vector<std::uint8_t>& b) {
    sw::Datagram d;
    sw::Drop why{};
    if (!sw::decode(b.data(), b.size(), d, why)) return false;
    CHECK(d.list.size() <= sw::kMaxList);
    CHECK((d.name ? d.name->size() <= sw::kMaxNameBytes : true));
    return true;
  });
}

TEST_CASE("the shared envelope writes version 1 byte for byte: HELLOs and a FIND_NEXT written out by hand" *
          doctest::test_suite("net")) {
  // Chord, m = 16: {"v": 1, "m": 16, "k": 1, "s": h'1234'} (README, "Wire format").
  wire::Datagram hello;
  hello.kind = wire::Kind::Hello;
  hello.bits = 16;
  hello.sender = Id(0x1234);
  std::vector<std::uint8_t> out;
  REQUIRE(wire::encode(hello, out));
  CHECK(out == std::vector<std::uint8_t>{0xa4, 0x61, 'k', 0x01, 0x61, 'm', 0x10, 0x61, 's', 0x42, 0x12, 0x34, 0x61, 'v',
                                         0x01});
  // {"v": 1, "m": 16, "k": 0, "s": h'07', "t": 0, "g": 1, "y": h'0102'}: a FIND_NEXT for key 258.
  wire::Datagram find;
  find.bits = 16;
  find.sender = Id(7);
  find.type = MsgType::FindNext;
  find.tag = 1;
  find.key = Id(258);
  REQUIRE(wire::encode(find, out));
  CHECK(out == std::vector<std::uint8_t>{0xa7, 0x61, 'g', 0x01, 0x61, 'k', 0x00, 0x61, 'm', 0x10, 0x61, 's', 0x41,
                                         0x07, 0x61, 't', 0x00, 0x61, 'v', 0x01, 0x61, 'y', 0x42, 0x01, 0x02});
  // Flooding: {"v": 1, "p": "flooding", "k": 2, "s": 5}, a 64-bit sender as an unsigned number.
  flooding::wire::Datagram reply;
  reply.kind = flooding::wire::Kind::HelloReply;
  reply.sender = 5;
  REQUIRE(flooding::wire::encode(reply, out));
  const std::vector<std::uint8_t> flooding_reply = {0xa4, 0x61, 'k', 0x02, 0x61, 'p', 0x68, 'f',  'l', 'o', 'o',
                                                    'd',  'i',  'n', 'g',  0x61, 's', 0x05, 0x61, 'v', 0x01};
  CHECK(out == flooding_reply);
  // The same bytes are another protocol's HELLO_REPLY only in name: superpeers refuse them.
  superpeer::wire::Datagram d;
  superpeer::wire::Drop why{};
  CHECK_FALSE(superpeer::wire::decode(flooding_reply.data(), flooding_reply.size(), d, why));
  CHECK(why == superpeer::wire::Drop::Protocol);
}

TEST_CASE("monitor reports: a peer's view survives the codec with typed cells and bounded size" *
          doctest::test_suite("net")) {
  ProtocolModel model;
  model.link_kinds = {{"successor", "", Colour::Green, LinkDrawing::Adjacent},
                      {"finger", "", Colour::Blue, LinkDrawing::Selected}};
  model.roles = {{"peer", "", Colour::Blue, 1.0f, 0}, {"server", "", Colour::Red, 2.0f, 0}};
  // Local peers 1 and 2 are ids 500 and 900 (m = 16).
  auto id_of = [](PeerIndex p) { return Id(p == 1 ? 500 : p == 2 ? 900 : 7); };
  PeerView v;
  v.id = Id(7);
  v.role = 1;
  v.links = {{0, 0, 1}, {1, 3, 2}, {1, 4, 2}};
  v.keys = {Id(3), Id(6)};
  TableView t;
  t.title = "Finger table";
  t.columns = {"i", "start", "interval", "successor"};
  t.rows.push_back(
      {{Cell::of_number(3), Cell::of_id(Id(15), true), Cell::of_interval(Id(15), Id(23)), Cell::of_peer(2, "900")}, 1});
  t.rows.push_back({{Cell::of_text("none"), Cell::of_peer(kNoPeer, "-")}, -1});
  v.tables = {t};
  net::ReportedPeer r = net::report_of(v, model, id_of);
  r.protocol = "toy";
  r.bits = 16;
  r.address = "127.0.0.1:4000";
  const auto bytes = net::encode_state(r);
  REQUIRE_FALSE(bytes.empty());
  net::MonitorReport back;
  std::string why;
  REQUIRE(net::decode_report(bytes.data(), bytes.size(), back, why));
  CHECK(back.kind == net::MonitorReport::Kind::State);
  CHECK(back.peer.protocol == "toy");
  CHECK(back.peer.id == Id(7));
  CHECK(back.peer.role == "server");  // role and link kinds travel by name
  CHECK(back.peer.links ==
        std::vector<net::ReportedLink>{{"successor", 0, Id(500)}, {"finger", 3, Id(900)}, {"finger", 4, Id(900)}});
  CHECK(back.peer.keys == v.keys);
  REQUIRE(back.peer.tables.size() == 1);
  const TableView& bt = back.peer.tables[0];
  CHECK(bt.columns == t.columns);
  REQUIRE(bt.rows.size() == 2);
  CHECK(bt.rows[0].link == 1);
  CHECK(bt.rows[0].cells[0].number == 3);
  CHECK((bt.rows[0].cells[1].kind == Cell::Kind::Id && bt.rows[0].cells[1].id == Id(15) && bt.rows[0].cells[1].mark));
  CHECK((bt.rows[0].cells[2].kind == Cell::Kind::Interval && bt.rows[0].cells[2].end == Id(23)));
  CHECK((bt.rows[0].cells[3].kind == Cell::Kind::Peer && bt.rows[0].cells[3].id == Id(900)));  // a peer by its id
  CHECK(bt.rows[1].cells[1].peer == kNoPeer);
  // Too many rows for one datagram: the report goes without its tables, never over the limit.
  net::ReportedPeer big = r;
  big.tables.assign(net::kMaxReportTables, t);
  for (TableView& table : big.tables) {
    table.rows.assign(net::kMaxReportRows, t.rows[0]);
  }
  const auto big_bytes = net::encode_state(big);
  REQUIRE_FALSE(big_bytes.empty());
  CHECK(big_bytes.size() <= net::kMaxReportBytes);
  REQUIRE(net::decode_report(big_bytes.data(), big_bytes.size(), back, why));
  CHECK(back.peer.tables.empty());
  CHECK(back.peer.links.size() == 3);
  // Refused with a reason: another version, an id beyond m, a cell kind that does not exist.
  auto refused = [&](json j) {
    const auto b = json::to_cbor(j);
    net::MonitorReport out;
    std::string reason;
    return !net::decode_report(b.data(), b.size(), out, reason) && !reason.empty();
  };
  json good = json::from_cbor(bytes);
  CHECK_FALSE(refused(good));
  json j = good;
  j["v"] = 1;
  CHECK(refused(j));
  j = good;
  j["id"] = json::binary({1, 0, 0});  // 65536 >= 2^16
  CHECK(refused(j));
  j = good;
  j["tables"][0]["rows"][0][0] = json::array({9, "?"});
  CHECK(refused(j));
  j = good;
  j["links"][0][1] = 70000;  // an index beyond 16 bits
  CHECK(refused(j));
}
