// The visualizer's time control, without a display: stepping back and forward gives identical
// states, and actions are replayed where they were taken.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "p2plab/registry.hpp"
#include "session.hpp"

using namespace p2plab;
using p2plab::viz::Session;

namespace {

/// Everything a view could show at this moment, as text.
std::string fingerprint(const Session& s) {
  std::ostringstream out;
  out << s.position() << '@' << s.now() << " trace " << s.trace().size() << " live " << s.sim().live_count() << '\n';
  for (PeerIndex p = 0; p < s.sim().peer_count(); ++p) {
    const PeerView v = s.run().inspect(p);
    out << v.id.to_decimal() << ' ' << static_cast<int>(v.role) << (v.state == PeerState::Up ? " up" : " down");
    for (const Link& l : v.links) out << ' ' << static_cast<int>(l.kind) << ':' << l.target;
    for (const Id& k : v.keys) out << " k" << k.to_decimal();
    out << '\n';
  }
  out << s.run().result().dump();
  return out.str();
}

std::string lab(const char* name) {
  std::string path(P2PLAB_SOURCE_DIR);
  path += "/labs/";
  path += name;
  return path;
}

/// Every lab that draws a network (its protocol is registered), by file name.
std::vector<std::string> network_labs() {
  std::vector<std::string> labs;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(P2PLAB_SOURCE_DIR) + "/labs")) {
    if (entry.path().extension() != ".json") continue;
    if (all_protocols().find_simulated(load_scenario(entry.path().string()).protocol) == nullptr) continue;
    labs.push_back(entry.path().filename().string());
  }
  std::sort(labs.begin(), labs.end());
  return labs;
}

/// The smallest lab (fewest peers) of each simulated protocol: stepping back is the session's
/// machinery over each protocol's runs, so one lab per protocol covers it without replaying every
/// lab (the suite's time grows with every lab otherwise).
std::vector<std::string> one_lab_per_protocol() {
  std::map<std::string, std::pair<std::size_t, std::string>> smallest;  // protocol -> (peers, lab)
  for (const std::string& name : network_labs()) {
    std::ifstream in(std::string(P2PLAB_SOURCE_DIR) + "/labs/" + name);
    const nlohmann::json doc = nlohmann::json::parse(in);
    const nlohmann::json& peers = doc.value("peers", nlohmann::json::object());
    const std::size_t count = peers.contains("ids") ? peers["ids"].size() : peers.value("count", std::size_t{0});
    const std::string protocol = doc.value("protocol", "");
    if (!smallest.count(protocol) || count < smallest[protocol].first) smallest[protocol] = {count, name};
  }
  std::vector<std::string> labs;
  for (const auto& [protocol, lab] : smallest) labs.push_back(lab.second);
  return labs;
}

}  // namespace

// Fingerprinting every peer after every event is slow under AddressSanitizer: the suite's build
// (./test.sh) checks the same on a shorter stretch; an unsanitized build runs the full one.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kEventsForward = 60, kStepsBack = 5;
#else
constexpr int kEventsForward = 300, kStepsBack = 20;
#endif

TEST_CASE("stepping forward then back returns to identical states (the smallest lab of each protocol)") {
  const std::vector<std::string> labs = one_lab_per_protocol();
  CHECK(labs.size() == all_protocols().simulated().size());
  for (const std::string& name : labs) {
    CAPTURE(name);
    Session s(lab(name.c_str()));
    std::vector<std::string> states;
    for (int i = 0; i < kEventsForward && !s.at_end(); ++i) {
      states.push_back(fingerprint(s));
      REQUIRE(s.step());
    }
    // Step back one event at a time over the last stretch, and jump back to earlier points.
    for (int i = 0; i < kStepsBack; ++i) {
      s.step_back();
      REQUIRE(fingerprint(s) == states[s.position()]);
    }
    for (std::uint64_t target : {std::uint64_t{0}, std::uint64_t{17}, std::uint64_t{150}, std::uint64_t{3}}) {
      if (target >= states.size()) continue;  // a short lab
      s.seek(target);
      CHECK(s.position() == target);
      CHECK(fingerprint(s) == states[target]);
    }
  }
}

TEST_CASE("step one lookup forward and back") {
  Session s(lab("chord-lookup-44.json"));
  REQUIRE(s.step_search());
  const auto searches = s.searches();
  const viz::TracedSearch* done = s.current_search(searches);
  REQUIRE(done != nullptr);
  CHECK(done->end == s.now());  // stopped right where lookup(44) ended
  CHECK(s.sim().peer_id(done->owner) == Id(45));
  std::vector<std::uint64_t> path;
  for (const auto& hop : done->hops) path.push_back(s.sim().peer_id(hop.to).low64());
  CHECK(path == std::vector<std::uint64_t>{23, 39, 42});
  s.step_search_back();
  CHECK(s.now() < done->start + 1);
  const auto before = s.searches();
  CHECK(s.current_search(before) == nullptr);  // back before it started
}

TEST_CASE("actions are carried out and replayed after stepping back") {
  Session s(lab("chord-lookup-44.json"));
  for (int i = 0; i < 40; ++i) s.step();
  CHECK(s.act({{"op", "fail"}, {"peer", 23}}) == "");
  CHECK(s.act({{"op", "lookup"}, {"from", 4}, {"key", 30}}) == "");
  CHECK(s.act({{"op", "lookup"}, {"from", 5}, {"key", 30}}).find("from: no peer with id 5") != std::string::npos);
  CHECK(s.act({{"op", "lookup"}, {"from", 99}, {"key", 30}}).find("out of range for m = 6") != std::string::npos);
  CHECK(s.sim().live_count() == 19);
  for (int i = 0; i < 200; ++i) s.step();
  const std::string after = fingerprint(s);
  const std::uint64_t position = s.position();
  s.seek(10);  // before the actions
  CHECK(s.sim().live_count() == 20);
  s.seek(position);  // forward again: the actions happen again, at the same moment
  CHECK(fingerprint(s) == after);
}

TEST_CASE("the clock runs between events: advance_to shows exactly the time asked") {
  Session s(lab("chord-lookup-44.json"));
  // Steps far shorter than the gaps between events all count (playing at a slow speed).
  for (int i = 1; i <= 300; ++i) {
    s.advance_to(s.now() + 7);  // 7 us
    REQUIRE(s.now() == 7 * i);
  }
  for (const SimTime t : {from_ms(3.3), from_ms(207.5), from_ms(std::int64_t{500}), from_ms(1234.567)}) {
    CAPTURE(t);
    s.advance_to(t);
    CHECK(s.now() == t);
    CHECK(s.sim().current_time() == t);  // an action taken now happens at t
    REQUIRE(!s.trace().empty());
    CHECK(s.trace().back().time <= t);                                 // everything up to t has happened...
    CHECK((s.at_end() || s.run().simulator().next_event_time() > t));  // ...and nothing after it
  }
  s.advance_to(from_ms(std::int64_t{100}));  // never back
  CHECK(s.now() == from_ms(1234.567));
  s.advance_to(s.end_time() + from_ms(std::int64_t{1000}));  // never past the end
  CHECK(s.now() == s.end_time());
  CHECK(s.finished());
}

TEST_CASE("messages in flight: sent, not yet arrived, and each arrives when it said") {
  for (const char* name : {"chord-lookup-44.json", "gnutella-flooding-ttl.json", "napster-spof.json"}) {
    CAPTURE(name);
    Session s(lab(name));
    for (SimTime t = from_ms(0.5); t < std::min<SimTime>(s.end_time(), from_ms(std::int64_t{3000}));
         t += from_ms(97.3)) {
      s.advance_to(t);
      const std::vector<viz::InFlight> flying = s.in_flight();
      // Counted from the trace's other side: sends the network did not lose, minus arrivals
      // (delivered, or dropped at a dead receiver).
      long sent = 0, arrived = 0;
      for (const TraceEvent& e : s.trace()) {
        if (e.kind == TraceKind::Send && e.until >= 0) ++sent;
        if (e.kind == TraceKind::Deliver) ++arrived;
        if (e.kind == TraceKind::Drop && e.index == static_cast<std::uint16_t>(DropReason::DeadTarget)) ++arrived;
      }
      CAPTURE(t);
      REQUIRE(static_cast<long>(flying.size()) == sent - arrived);
      for (const viz::InFlight& m : flying) {
        CHECK(m.sent <= t);
        CHECK(m.arrives > t);
        CHECK(m.progress(t) >= 0.0f);
        CHECK(m.progress(t) < 1.0f);
      }
    }
    // Each arrives exactly when its Send said: a Deliver or a Drop of the same message then.
    s.advance_to(from_ms(std::int64_t{1000}));
    const std::vector<viz::InFlight> flying = s.in_flight();
    REQUIRE(!flying.empty());
    for (const viz::InFlight& m : flying) {
      s.advance_to(m.arrives);
      const bool arrived = std::any_of(s.trace().begin(), s.trace().end(), [&](const TraceEvent& e) {
        return (e.kind == TraceKind::Deliver || e.kind == TraceKind::Drop) && e.time == m.arrives && e.peer == m.from &&
               e.other == m.to && e.detail == m.type;
      });
      CHECK(arrived);
    }
  }
}

/// The messages that carry the lookup started at `start_ms`, in the order they are seen on their
/// way when the clock moves through the lookup in steps of 1 ms: (sender id, receiver id).
std::vector<std::pair<std::uint64_t, std::uint64_t>> seen_carrying(const char* lab_name, const nlohmann::json& change) {
  nlohmann::json doc = nlohmann::json::parse(std::ifstream(lab(lab_name)));
  doc.merge_patch(change);
  Session s(doc, lab_name);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> seen;
  while (!s.finished()) {
    s.advance_to(s.now() + from_ms(std::int64_t{1}));
    const auto searches = s.searches();
    const viz::TracedSearch* current = s.current_search(searches);
    if (current == nullptr) continue;
    if (current->end >= 0 && s.now() >= current->end) break;
    const std::vector<viz::InFlight> carrying = s.in_flight_of(*current, s.in_flight());
    REQUIRE(carrying.size() <= 1);  // one question at a time
    for (const viz::InFlight& m : carrying) {
      CHECK(m.progress(s.now()) >= 0.0f);  // 0: it leaves the sender now
      CHECK(m.progress(s.now()) < 1.0f);
      const std::pair<std::uint64_t, std::uint64_t> ends{s.sim().peer_id(m.from).low64(),
                                                         s.sim().peer_id(m.to).low64()};
      if (seen.empty() || seen.back() != ends) seen.push_back(ends);
    }
  }
  return seen;
}

TEST_CASE("a lookup is seen hopping: its messages on their way from peer to peer") {
  using Seen = std::vector<std::pair<std::uint64_t, std::uint64_t>>;
  // lookup(44) from 52 on the lecture's ring (figure 5) visits 23, 39 and 42; 42 knows 45.
  const nlohmann::json only_first = {{"events", {{{"at_ms", 100}, {"op", "lookup"}, {"from", 52}, {"key", 44}}}}};
  // Iterative: 52 asks each node in turn, and each answers 52.
  CHECK(seen_carrying("chord-lookup-44.json", only_first) ==
        Seen{{52, 23}, {23, 52}, {52, 39}, {39, 52}, {52, 42}, {42, 52}});
  // Recursive: the question is forwarded hop by hop, and 42 answers 52 directly.
  nlohmann::json recursive = only_first;
  recursive["params"] = {{"lookup", "recursive"}};
  CHECK(seen_carrying("chord-lookup-44.json", recursive) == Seen{{52, 23}, {23, 39}, {39, 42}, {42, 52}});
}

/// What the view writes under the header, moment by moment through the first lookup: each new
/// sentence once, in order.
std::vector<std::string> story_of_first_lookup(const nlohmann::json& change) {
  nlohmann::json doc = nlohmann::json::parse(std::ifstream(lab("chord-lookup-44.json")));
  doc.merge_patch(change);
  Session s(doc, "chord-lookup-44.json");
  std::vector<std::string> told;
  while (!s.finished()) {
    s.advance_to(s.now() + from_ms(std::int64_t{1}));
    const auto searches = s.searches();
    const viz::TracedSearch* current = s.current_search(searches);
    if (current == nullptr) continue;
    std::string story;
    for (const std::string& sentence : s.story(*current)) story += (story.empty() ? "" : "; ") + sentence;
    if (told.empty() || told.back() != story) told.push_back(story);
    if (current->end >= 0) break;
  }
  return told;
}

TEST_CASE("each step of lookup(44) told in the lecture's words (figure 5)") {
  const nlohmann::json only_first = {{"events", {{{"at_ms", 100}, {"op", "lookup"}, {"from", 52}, {"key", 44}}}}};
  // Finger i of n starts at n + 2^i: 52's finger 5 starts at 20 (its node 23), 23's finger 4 at
  // 39, 39's finger 1 at 41 (its node 42); 42's successor 45 holds 44.
  CHECK(
      story_of_first_lookup(only_first) ==
      std::vector<std::string>{"52: the farthest finger preceding 44 is finger 5 -> 23",
                               "23: the farthest finger preceding 44 is finger 4 -> 39",
                               "39: the farthest finger preceding 44 is finger 1 -> 42",
                               "42: 44 lies in (42, 45]: the answer is 45; 52 has the answer 45 (the true successor)"});
  nlohmann::json recursive = only_first;
  recursive["params"] = {{"lookup", "recursive"}};
  CHECK(story_of_first_lookup(recursive) ==
        std::vector<std::string>{"52: the farthest finger preceding 44 is finger 5 -> 23",
                                 "23: the farthest finger preceding 44 is finger 4 -> 39",
                                 "39: the farthest finger preceding 44 is finger 1 -> 42",
                                 "42: 44 lies in (42, 45]: the answer is 45",
                                 "52 has the answer 45 (the true successor)"});
}

TEST_CASE("an action taken between two events happens at the time shown, also when replayed") {
  Session s(lab("chord-lookup-44.json"));
  const SimTime t = from_ms(1500.25);
  s.advance_to(t);
  REQUIRE(s.act({{"op", "lookup"}, {"from", 4}, {"key", 30}}) == "");
  const auto started_at = [&] {
    for (const TraceEvent& e : s.trace()) {
      if (e.kind == TraceKind::LookupStart && e.time >= t) return e.time;
    }
    return SimTime{-1};
  };
  CHECK(started_at() == t);
  s.advance_to(from_ms(std::int64_t{2500}));
  const std::string after = fingerprint(s);
  s.seek(0);  // back to the start, and play again: the action happens again, at t
  s.advance_to(from_ms(std::int64_t{2500}));
  CHECK(started_at() == t);
  CHECK(fingerprint(s) == after);
}

TEST_CASE("the session reads the protocol's model and vocabulary from the registry, not by name") {
  for (const std::string& name : network_labs()) {
    CAPTURE(name);
    Session s(lab(name.c_str()));
    const ProtocolInfo* info = all_protocols().find(s.scenario().protocol);
    REQUIRE(info != nullptr);
    CHECK(&s.model() == &info->model);
    CHECK(s.geometry() == info->model.geometry);
    CHECK(s.vocabulary().user_purpose == s.run().vocabulary().user_purpose);
    // Every link and role a peer shows is one the model declares.
    s.advance_to(from_ms(2000.0));
    for (PeerIndex p = 0; p < s.sim().peer_count(); ++p) {
      const PeerView v = s.run().inspect(p);
      CHECK(v.role < s.model().roles.size());
      for (const Link& link : v.links) CHECK(link.kind < s.model().link_kinds.size());
      for (const TableView& t : v.tables) {
        for (const auto& row : t.rows) CHECK(row.link < static_cast<int>(v.links.size()));
      }
    }
  }
}

TEST_CASE("a flood's hops are read by the vocabulary's hop styles: duplicates and reached peers match the result") {
  // The labs whose result lists each query's duplicates and the peers it reached (the floods).
  std::uint64_t duplicates_total = 0;
  int floods = 0, exact_labs = 0;
  for (const std::string& name : network_labs()) {
    CAPTURE(name);
    Session s(lab(name.c_str()));
    // Searches whose answers travel back (a QUERYHIT, a server's reply) or that meet themselves
    // (duplicates): the others are routed lookups, whose labs need not run here.
    const std::vector<HopStyle>& styles = s.vocabulary().hop_styles;
    if (std::find(styles.begin(), styles.end(), HopStyle::Duplicate) == styles.end() &&
        std::find(styles.begin(), styles.end(), HopStyle::Answer) == styles.end())
      continue;
    s.advance_to(s.end_time());
    const nlohmann::json result = s.run().result();
    if (!result.contains("queries") || result["queries"].empty() || !result["queries"][0].contains("duplicates"))
      continue;
    ++floods;
    const auto& searches = s.searches();
    std::vector<const viz::TracedSearch*> user;
    for (const auto& search : searches) {
      if (s.is_user(search)) user.push_back(&search);
    }
    REQUIRE(user.size() == result["queries"].size());
    bool same_everywhere = true;
    for (std::size_t i = 0; i < user.size(); ++i) {
      CAPTURE(i);
      const nlohmann::json& query = result["queries"][i];
      std::uint64_t duplicates = 0;
      std::set<std::uint64_t> reached{s.sim().peer_id(user[i]->from).low64()};
      for (const auto& hop : user[i]->hops) {
        if (hop.style == HopStyle::Duplicate) ++duplicates;
        if (hop.forward()) reached.insert(s.sim().peer_id(hop.to).low64());
      }
      CHECK(duplicates == query["duplicates"].get<std::uint64_t>());
      // Every peer the view shows reached is one the protocol says the query reached (a
      // superpeer or a server also counts peers it answers for, which the query never travels
      // to); a pure flood reaches exactly them.
      const auto said = query["reached"].get<std::set<std::uint64_t>>();
      CHECK(std::includes(said.begin(), said.end(), reached.begin(), reached.end()));
      same_everywhere = same_everywhere && reached == said;
      duplicates_total += duplicates;
    }
    exact_labs += same_everywhere;
  }
  CHECK(floods >= 2);
  CHECK(exact_labs >= 1);
  CHECK(duplicates_total > 0);  // the floods meet themselves: the styles are really told apart
}

TEST_CASE("every operation a protocol's model offers builds a scenario op its run accepts") {
  int operations = 0;
  for (const std::string& name : network_labs()) {
    CAPTURE(name);
    const ProtocolModel& model = Session(lab(name.c_str())).model();
    for (const OperationInfo& op : model.operations) {
      CAPTURE(op.op);
      Session s(lab(name.c_str()));
      s.advance_to(from_ms(2000.0));
      REQUIRE(!s.sim().live_by_id().empty());
      const std::string peer = s.sim().live_by_id()[s.sim().live_by_id().size() / 2].first.to_decimal();
      // The fields' defaults; a key is the peer's own id (in range for every m).
      std::string error;
      const nlohmann::json json = viz::operation_json(
          op, peer,
          [&](const OperationField& f) { return f.kind == OperationField::Kind::Key ? peer : f.default_value; }, error);
      CHECK(error == "");
      CHECK(json.at("op") == op.op);
      if (!op.peer_field.empty()) CHECK(json.at(op.peer_field) == viz::id_json(peer));
      CHECK(s.act(json) == "");
      ++operations;
    }
    for (const ParameterInfo& parameter : model.parameters) {
      if (!parameter.settable) continue;
      CAPTURE(parameter.name);
      Session s(lab(name.c_str()));
      s.advance_to(from_ms(2000.0));
      const nlohmann::json value = parameter.integer ? nlohmann::json(std::lround(parameter.default_value))
                                                     : nlohmann::json(parameter.default_value);
      CHECK(s.act({{"op", "set"}, {"param", parameter.name}, {"value", value}}) == "");
    }
  }
  CHECK(operations >= 20);
}

TEST_CASE("an operation's fields are typed: a key as a number or a name to hash, a bad number refused") {
  OperationInfo op{
      "lookup",
      "lookup",
      "",
      "from",
      {{"key", "key", OperationField::Kind::Key, "", ""}, {"ttl", "TTL", OperationField::Kind::Number, "", ""}}};
  std::map<std::string, std::string> typed{{"key", "44"}, {"ttl", "3"}};
  auto text = [&](const OperationField& f) { return typed[f.name]; };
  std::string error;
  CHECK(viz::operation_json(op, "52", text, error) ==
        nlohmann::json{{"op", "lookup"}, {"from", 52}, {"key", 44}, {"ttl", 3}});
  CHECK(error == "");
  typed = {{"key", "a file.mp3"}, {"ttl", ""}};
  CHECK(viz::operation_json(op, "52", text, error) ==
        nlohmann::json{{"op", "lookup"}, {"from", 52}, {"name", "a file.mp3"}});
  typed = {{"key", "1461501637330902918203684832716283019655932542975"}, {"ttl", "2.5"}};  // 2^160 - 1
  CHECK(
      viz::operation_json(op, "52", text, error) ==
      nlohmann::json{
          {"op", "lookup"}, {"from", 52}, {"key", "1461501637330902918203684832716283019655932542975"}, {"ttl", 2.5}});
  CHECK(error == "");
  typed = {{"key", "1"}, {"ttl", "three"}};
  viz::operation_json(op, "52", text, error);
  CHECK(error.find("ttl") != std::string::npos);
  error.clear();
  viz::operation_json(op, "", text, error);
  CHECK(error.find("select a peer") != std::string::npos);
}

TEST_CASE(
    "a search shown after it ended keeps the story told when its steps happened, not re-told from a later state") {
  // chord-join-stabilize: peer 4 puts key 40 at 1 s, when it is alone on the ring; peers 52 and 23
  // join at 2 s and 4 s (their joins are shown then); the put's story is the one told at 1 s.
  Session s(lab("chord-join-stabilize.json"));
  s.advance_to(from_ms(std::int64_t{1000}));
  const auto at_put = s.searches();
  const viz::TracedSearch* put = s.current_search(at_put);
  REQUIRE(put != nullptr);
  REQUIRE(put->end >= 0);  // alone: it answers itself at once
  const std::vector<std::string> then = s.story(*put);
  REQUIRE_FALSE(then.empty());
  s.advance_to(from_ms(std::int64_t{5000}));
  REQUIRE(s.sim().live_count() == 3);
  const auto later = s.searches();
  const auto found =
      std::find_if(later.begin(), later.end(), [&](const viz::TracedSearch& t) { return t.id == put->id; });
  REQUIRE(found != later.end());
  const viz::TracedSearch* shown = &*found;
  CHECK(s.story(*shown) == then);
  // Told now from today's fingers, the same step would name a peer that had not joined then.
  std::string retold;
  for (const TraceEvent* step : s.last_steps(*shown)) retold += s.run().narrate(*step);
  for (const std::string& sentence : then) CHECK(sentence.find("23") == std::string::npos);
  CHECK(retold.find("23") != std::string::npos);
  // Stepping back to the put and forward again tells it the same way.
  s.seek(0);
  s.advance_to(from_ms(std::int64_t{5000}));
  const auto again = s.searches();
  const auto replayed =
      std::find_if(again.begin(), again.end(), [&](const viz::TracedSearch& t) { return t.id == put->id; });
  REQUIRE(replayed != again.end());
  CHECK(s.story(*replayed) == then);
  // The joins are told as they happen too: the search shown at 4 s is 23's join.
  s.seek(0);
  s.advance_to(from_ms(std::int64_t{4001}));
  const auto at_join = s.searches();
  const viz::TracedSearch* join = s.current_search(at_join);
  REQUIRE(join != nullptr);
  CHECK(s.sim().peer_id(join->from) == Id(23));
  CHECK(s.vocabulary().lookup_purposes.at(static_cast<std::size_t>(join->purpose)) == "join");
}

TEST_CASE("a lookup's request that got no answer is seen and told: the timeout at a crashed peer, then the retry") {
  // chord-failures: a quarter of the ring crashes at 10 s; lookups right after hit dead peers.
  Session s(lab("chord-failures.json"));
  s.advance_to(from_ms(std::int64_t{16000}));
  const auto searches = s.searches();
  const viz::TracedSearch* hit = nullptr;
  SimTime when = 0;
  PeerIndex silent = kNoPeer;
  for (const auto& search : searches) {
    if (!s.is_user(search)) continue;
    for (const auto& hop : search.hops) {
      if (hop.style == HopStyle::Timeout && hit == nullptr) {
        hit = &search;
        when = hop.time;
        silent = hop.to;
      }
    }
  }
  REQUIRE(hit != nullptr);
  const std::uint32_t id = hit->id;
  CHECK(when > from_ms(std::int64_t{10000}));  // only after the crash
  CHECK_FALSE(s.sim().is_up(silent));          // the peer that did not answer had crashed
  // At that moment the story says so, in the requester's words.
  s.seek(0);
  s.advance_to(when);
  const auto now = s.searches();
  const auto it = std::find_if(now.begin(), now.end(), [&](const viz::TracedSearch& t) { return t.id == id; });
  REQUIRE(it != now.end());
  const std::vector<std::string> story = s.story(*it);
  REQUIRE_FALSE(story.empty());
  const std::string expected = "no answer from " + s.sim().peer_id(silent).to_decimal() + " in time";
  CHECK(std::any_of(story.begin(), story.end(),
                    [&](const std::string& line) { return line.find(expected) != std::string::npos; }));
  // And the lookup still ends with the true successor (it retried around the dead peer).
  s.advance_to(from_ms(std::int64_t{16000}));
  const auto later = s.searches();
  const auto done = std::find_if(later.begin(), later.end(), [&](const viz::TracedSearch& t) { return t.id == id; });
  REQUIRE(done != later.end());
  CHECK(done->end >= 0);
  CHECK(done->ok);
}

TEST_CASE("a fetch's search carries the CID its protocol names it by, and a plain lookup's key has no label") {
  // The oracle: the lab's own fetch ops in order (a "cid", or the "file" an add op named, whose
  // CID the run's result lists under files), shortened as the views' sentences write a CID.
  const auto shortened = [](const std::string& cid) { return cid.substr(0, 6) + ".." + cid.substr(cid.size() - 4); };
  for (const char* name : {"ipfs-cid.json", "ipfs-dag.json"}) {
    CAPTURE(name);
    std::ifstream in(lab(name));
    const nlohmann::json doc = nlohmann::json::parse(in);
    Session s(lab(name));
    s.advance_to(s.end_time());
    const nlohmann::json result = s.run().result();
    std::map<std::string, std::string> cid_of_file;
    for (const auto& f : result.at("files")) cid_of_file[f.at("name")] = f.at("root");
    std::vector<std::string> expected;
    for (const auto& e : doc.at("events")) {
      if (e.at("op") != "fetch") continue;
      expected.push_back(shortened(e.contains("cid") ? e.at("cid").get<std::string>()
                                                     : cid_of_file.at(e.at("file").get<std::string>())));
    }
    REQUIRE(expected.size() >= 3);
    const TraceVocabulary& v = s.vocabulary();
    std::vector<std::string> labelled;
    for (const auto& search : s.searches()) {
      if (static_cast<std::size_t>(search.purpose) < v.lookup_purposes.size() &&
          v.lookup_purposes[static_cast<std::size_t>(search.purpose)] == "fetch")
        labelled.push_back(search.key_label);
    }
    CHECK(labelled == expected);
  }
  Session kademlia(lab("kademlia-xor.json"));
  kademlia.advance_to(kademlia.end_time());
  REQUIRE_FALSE(kademlia.searches().empty());
  for (const auto& search : kademlia.searches()) CHECK(search.key_label.empty());
}
