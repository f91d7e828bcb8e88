// BEP 5's codec: bencode (BEP 3) and KRPC. The examples of BEP 3 and BEP 5 decode to what the
// specs say and encode back byte for byte; whatever the strict decoder refuses, it refuses with
// the right reason; random values survive encode -> decode, and whatever the decoder accepts out
// of noise encodes again to the very same bytes (bencode has one encoding per value).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "bencode.hpp"
#include "datagram_noise.hpp"
#include "krpc.hpp"
#include "krpc_test_util.hpp"
#include "p2plab/rng.hpp"

using namespace p2plab;
using namespace p2plab::kademlia;
using bencode::Value;
using krpc_test::decoded;
using namespace std::string_literals;

namespace {

bencode::Error decode_error(const std::string& text, const bencode::Limits& limits = {}) {
  Value v;
  bencode::Error why = bencode::Error::None;
  const bool ok = bencode::decode(text, v, why, limits);
  CHECK(ok == (why == bencode::Error::None));
  return why;
}

Value random_value(Rng& rng, int depth) {
  const auto kind = rng.below(depth >= 4 ? 2 : 4);
  if (kind == 0) return Value::of(static_cast<std::int64_t>(rng.next_u64()) >> rng.below(64));
  if (kind == 1) {
    std::string s(rng.below(12), '\0');
    for (char& c : s) c = static_cast<char>(rng.next_u64());
    return Value::of(s);
  }
  const auto n = rng.below(5);
  if (kind == 2) {
    Value l = Value::of_list();
    for (std::uint64_t i = 0; i < n; ++i) l.list.push_back(random_value(rng, depth + 1));
    return l;
  }
  Value d = Value::of_dict();
  for (std::uint64_t i = 0; i < n; ++i)
    d.set(std::string(1 + rng.below(3), static_cast<char>('a' + rng.below(4))), random_value(rng, depth + 1));
  return d;
}

krpc::Drop refused(const std::string& bytes, krpc::Message* out = nullptr) {
  krpc::Message m;
  krpc::Drop why{};
  CHECK_FALSE(krpc::decode(bytes, m, why));
  if (out) *out = m;
  return why;
}

krpc::NodeId id_of(const std::string& twenty) {
  REQUIRE(twenty.size() == 20);
  krpc::NodeId n{};
  std::copy(twenty.begin(), twenty.end(), n.begin());
  return n;
}

}  // namespace

TEST_CASE("bencode: BEP 3's examples decode and encode back byte for byte" * doctest::test_suite("net")) {
  struct Example {
    std::string bytes;
    Value value;
  };
  const std::vector<Example> examples = {
      {"4:spam", Value::of(std::string("spam"))},
      {"0:", Value::of(std::string())},
      {"i3e", Value::of(std::int64_t{3})},
      {"i-3e", Value::of(std::int64_t{-3})},
      {"i0e", Value::of(std::int64_t{0})},
      {"l4:spam4:eggse", Value::of_list({Value::of(std::string("spam")), Value::of(std::string("eggs"))})},
      {"le", Value::of_list()},
      {"d3:cow3:moo4:spam4:eggse",
       Value::of_dict({{"cow", Value::of(std::string("moo"))}, {"spam", Value::of(std::string("eggs"))}})},
      {"d4:spaml1:a1:bee",
       Value::of_dict({{"spam", Value::of_list({Value::of(std::string("a")), Value::of(std::string("b"))})}})},
      {"de", Value::of_dict()},
      {"i9223372036854775807e", Value::of(std::int64_t{9223372036854775807})},
      {"i-9223372036854775808e", Value::of(std::int64_t{-9223372036854775807 - 1})},
  };
  for (const auto& e : examples) {
    CAPTURE(e.bytes);
    Value v;
    bencode::Error why{};
    REQUIRE(bencode::decode(e.bytes, v, why));
    CHECK(v == e.value);
    CHECK(bencode::encode(e.value) == e.bytes);
  }
  // The encoder sorts a dictionary's keys, in byte order, whatever order it was given.
  Value d = Value::of_dict();
  d.dict = {
      {"zz", Value::of(std::int64_t{1})}, {"\xff", Value::of(std::int64_t{2})}, {"a", Value::of(std::int64_t{3})}};
  CHECK(bencode::encode(d) == "d1:ai3e2:zzi1e1:\xffi2ee");
}

TEST_CASE("bencode: the strict decoder refuses what has no single encoding or breaks a bound" *
          doctest::test_suite("net")) {
  using E = bencode::Error;
  CHECK(decode_error("i-0e") == E::BadInteger);
  CHECK(decode_error("i03e") == E::BadInteger);
  CHECK(decode_error("ie") == E::BadInteger);
  CHECK(decode_error("i-e") == E::BadInteger);
  CHECK(decode_error("i1.5e") == E::BadInteger);
  CHECK(decode_error("i9223372036854775808e") == E::BadInteger);
  CHECK(decode_error("i-9223372036854775809e") == E::BadInteger);
  CHECK(decode_error("i12") == E::Truncated);
  CHECK(decode_error("03:abc") == E::BadLength);
  CHECK(decode_error("3-abc") == E::BadLength);
  CHECK(decode_error("5:abc") == E::Truncated);
  CHECK(decode_error("99999999999999999999999:a") == E::Truncated);
  CHECK(decode_error("") == E::Truncated);
  CHECK(decode_error("l4:spam") == E::Truncated);
  CHECK(decode_error("x") == E::UnexpectedByte);
  CHECK(decode_error("d4:spam4:eggs3:cow3:mooe") == E::KeyOrder);
  CHECK(decode_error("d3:cow3:moo3:cow3:mooe") == E::KeyOrder);
  CHECK(decode_error("di1e3:mooe") == E::KeyNotString);
  CHECK(decode_error("4:spamX") == E::Trailing);
  CHECK(decode_error("i1ei2e") == E::Trailing);
  CHECK(decode_error(std::string(16, 'l') + std::string(16, 'e')) == E::None);
  CHECK(decode_error(std::string(17, 'l') + std::string(17, 'e')) == E::TooDeep);
  std::string many = "l";
  for (int i = 0; i < 5000; ++i) many += "i1e";
  CHECK(decode_error(many + "e") == E::TooMany);
  bencode::Limits small;
  small.string_bytes = 3;
  CHECK(decode_error("3:abc", small) == E::None);
  CHECK(decode_error("4:abcd", small) == E::TooLong);
}

TEST_CASE("bencode: random values survive encode and decode and accepted noise encodes to itself" *
          doctest::test_suite("net")) {
  Rng rng(5);
  std::vector<std::vector<std::uint8_t>> seeds;
  for (int i = 0; i < 2000; ++i) {
    const Value v = random_value(rng, 0);
    const std::string bytes = bencode::encode(v);
    Value back;
    bencode::Error why{};
    REQUIRE(bencode::decode(bytes, back, why));
    CHECK(back == v);
    if (i < 200) seeds.emplace_back(bytes.begin(), bytes.end());
  }
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    const auto bytes = i % 4 == 0 ? test::random_datagram(rng) : test::mutated_datagram(rng, seeds);
    const std::string text(bytes.begin(), bytes.end());
    Value v;
    bencode::Error why{};
    if (!bencode::decode(text, v, why)) {
      CHECK(why != bencode::Error::None);
      continue;
    }
    ++accepted;
    CHECK(bencode::encode(v) == text);
  }
  CHECK(accepted > 100);  // the mutations that happen to stay valid were checked too
}

TEST_CASE("KRPC: BEP 5's example messages decode as the spec says and encode back byte for byte" *
          doctest::test_suite("net")) {
  using krpc::Kind;
  using krpc::Method;
  const auto abc = id_of("abcdefghij0123456789"), mno = id_of("mnopqrstuvwxyz123456"),
             num = id_of("0123456789abcdefghij");

  const std::string error = "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee";
  auto m = decoded(error);
  CHECK(m.kind == Kind::Error);
  CHECK(m.transaction == "aa");
  CHECK(m.error_code == krpc::kGenericError);
  CHECK(m.error_text == "A Generic Error Ocurred");
  CHECK(krpc::encode(m) == error);
  CHECK(krpc::encode(krpc::error_reply("aa", 201, "A Generic Error Ocurred")) == error);

  const std::string ping = "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe";
  m = decoded(ping);
  CHECK(m.kind == Kind::Query);
  CHECK(m.method == Method::Ping);
  CHECK(m.id == abc);
  CHECK(krpc::encode(m) == ping);

  const std::string pong = "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re";
  m = decoded(pong);
  CHECK(m.kind == Kind::Response);
  CHECK(m.id == mno);
  CHECK_FALSE(m.nodes.has_value());
  CHECK_FALSE(m.token.has_value());
  CHECK(krpc::encode(m) == pong);
  // The announce_peer response is the same message as the ping response.

  const std::string find_node =
      "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe";
  m = decoded(find_node);
  CHECK(m.method == Method::FindNode);
  CHECK(m.id == abc);
  CHECK(m.target == mno);
  CHECK(krpc::encode(m) == find_node);

  const std::string get_peers =
      "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe";
  m = decoded(get_peers);
  CHECK(m.method == Method::GetPeers);
  CHECK(m.info_hash == mno);
  CHECK(krpc::encode(m) == get_peers);

  const std::string with_values =
      "d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re";
  m = decoded(with_values);
  CHECK(m.id == abc);
  CHECK(m.token == "aoeusnth");
  REQUIRE(m.values.has_value());
  REQUIRE(m.values->size() == 2);
  // "axje.u": a=97 x=120 j=106 e=101, port '.'=0x2e 'u'=0x75.
  CHECK((*m.values)[0].ip == ((97u << 24) | (120u << 16) | (106u << 8) | 101u));
  CHECK((*m.values)[0].port == 0x2e75);
  CHECK(krpc::compact_peer((*m.values)[1]) == "idhtnm");
  CHECK(krpc::encode(m) == with_values);

  const std::string announce =
      "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:"
      "aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe";
  m = decoded(announce);
  CHECK(m.method == Method::AnnouncePeer);
  CHECK(m.implied_port);
  CHECK(m.port == 6881);
  CHECK(m.token == "aoeusnth");
  CHECK(m.info_hash == mno);
  CHECK(krpc::encode(m) == announce);

  // BEP 5 abbreviates "nodes" as "def456..." (9 bytes): no whole number of 26-byte node infos, so
  // the strict decoder refuses those two examples as they are printed; with one real node info in
  // their place they decode and encode back byte for byte.
  CHECK(refused("d1:rd2:id20:0123456789abcdefghij5:nodes9:def456...e1:t2:aa1:y1:re") == krpc::Drop::BadResponse);
  CHECK(refused("d1:rd2:id20:abcdefghij01234567895:nodes9:def456...5:token8:aoeusnthe1:t2:aa1:y1:re") ==
        krpc::Drop::BadResponse);
  const krpc::NodeInfo def{mno, net::Endpoint{0x7f000001, 6881}};
  const std::string def_compact = "mnopqrstuvwxyz123456\x7f\x00\x00\x01\x1a\xe1"s;
  CHECK(krpc::compact_node(def) == def_compact);
  const std::string nodes_reply = "d1:rd2:id20:0123456789abcdefghij5:nodes26:" + def_compact + "e1:t2:aa1:y1:re";
  m = decoded(nodes_reply);
  CHECK(m.id == num);
  REQUIRE(m.nodes.has_value());
  CHECK(*m.nodes == std::vector<krpc::NodeInfo>{def});
  CHECK(krpc::encode(m) == nodes_reply);
  const std::string peers_nodes =
      "d1:rd2:id20:abcdefghij01234567895:nodes26:" + def_compact + "5:token8:aoeusnthe1:t2:aa1:y1:re";
  m = decoded(peers_nodes);
  CHECK(m.token == "aoeusnth");
  CHECK(krpc::encode(m) == peers_nodes);
}

TEST_CASE("KRPC: keys real clients add are ignored or read and bad queries are refused with a reply code" *
          doctest::test_suite("net")) {
  // A libtorrent bootstrap get_peers: "bs", "ro", "v", "want" besides BEP 5's keys.
  const std::string lt =
      "d1:ad2:bsi1e2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234562:roi1e4:wantl2:n4ee1:q9:get_peers1:"
      "t4:\x01\x02\x03\x04"
      "1:v4:LT\x02\x00"
      "1:y1:qe"s;
  auto m = decoded(lt);
  CHECK(m.bootstrap);
  CHECK(m.read_only);
  CHECK(m.version == "LT\x02\x00"s);
  CHECK(m.transaction == "\x01\x02\x03\x04");
  // A response carrying "ip" (BEP 42), "p" and "nodes6" (IPv6, ignored here), an IPv6 peer in values.
  const std::string reply = "d2:ip6:\x7f\x00\x00\x01\x1a\xe1"s +
                            "1:rd2:id20:abcdefghij01234567896:nodes60:1:pi1e6:valuesl18:" + std::string(18, 'x') +
                            "6:axje.uee1:t2:aa1:y1:re";
  m = decoded(reply);
  REQUIRE(m.ip.has_value());
  CHECK(m.ip->port == 6881);
  REQUIRE(m.values.has_value());
  CHECK(m.values->size() == 1);

  krpc::Message out;
  CHECK(refused("d1:ad2:id19:abcdefghij012345678e1:q4:ping1:t2:aa1:y1:qe", &out) == krpc::Drop::BadQuery);
  CHECK(out.transaction == "aa");  // readable: the node answers error 203
  CHECK(refused("d1:ad2:id20:abcdefghij0123456789e1:q4:vote1:t2:ab1:y1:qe", &out) == krpc::Drop::UnknownMethod);
  CHECK(out.transaction == "ab");
  CHECK(refused("d1:ad2:id20:abcdefghij0123456789e1:q9:find_node1:t2:aa1:y1:qe") == krpc::Drop::BadQuery);
  CHECK(refused("d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti0e5:token1:xe1:q13:"
                "announce_peer1:t2:aa1:y1:qe") == krpc::Drop::BadQuery);
  CHECK(refused("d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti80ee1:q13:"
                "announce_peer1:t2:aa1:y1:qe") == krpc::Drop::BadQuery);  // no token
  // implied_port: the port may be anything (the datagram's source port counts).
  m = decoded(
      "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti0e5:token1:"
      "xe1:q13:announce_peer1:t2:aa1:y1:qe");
  CHECK(m.implied_port);
  CHECK(refused("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:y1:qe") == krpc::Drop::NoTransaction);
  CHECK(refused("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:xe") == krpc::Drop::BadType);
  CHECK(refused("l1:ae") == krpc::Drop::NotDict);
  CHECK(refused("d1:eli201ee1:t2:aa1:y1:ee") == krpc::Drop::BadError);
  CHECK(refused("d1:rd2:id20:abcdefghij01234567896:valuesl5:abcdeee1:t2:aa1:y1:re") == krpc::Drop::BadResponse);
  bencode::Error berr{};
  krpc::Drop why{};
  CHECK_FALSE(krpc::decode("d1:t2:aa", out, why, &berr));
  CHECK(why == krpc::Drop::Bencode);
  CHECK(berr == bencode::Error::Truncated);
  CHECK(refused(std::string(krpc::kMaxDatagram + 1, 'x')) == krpc::Drop::Oversized);
}

TEST_CASE("KRPC: ids as numbers and hex and bytes agree" * doctest::test_suite("net")) {
  krpc::NodeId one{};
  one[19] = 1;
  CHECK(krpc::to_id(one) == Id(1));
  krpc::NodeId top{};
  top[0] = 0x80;
  CHECK(krpc::to_id(top) == Id::power_of_two(159));
  CHECK(krpc::to_hex(top) == "8000000000000000000000000000000000000000");
  const auto sha = sha1_id("hello");
  CHECK(krpc::to_id(krpc::from_id(sha)) == sha);
  CHECK(krpc::to_hex(krpc::from_id(sha)) == "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d");  // sha1("hello")
  CHECK(krpc::from_hex("AAF4C61DDCC5E8A2DABEDE0F3B482CD9AEA9434D") == krpc::from_id(sha));
  CHECK_FALSE(krpc::from_hex("aaf4").has_value());
  CHECK_FALSE(krpc::from_hex("zaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d").has_value());
}
