// Bad input never crashes p2plab: every broken scenario or argument gives exit code 2 and one
// line naming the file, the field and what is wrong. Each case below runs the real `p2plab`
// program, the way a student or a grader would.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "p2plab/json_util.hpp"
#include "p2plab/rng.hpp"
#include "p2plab/scenario.hpp"
#include "register_all.hpp"
#include "run_program.hpp"

namespace fs = std::filesystem;

namespace {

using Outcome = p2plab::test::ProgramOutcome;

Outcome run_p2plab(const std::string& arguments) { return p2plab::test::run_program(P2PLAB_BINARY, arguments); }

fs::path scratch_dir() {
  fs::path dir = fs::temp_directory_path() / ("p2plab-bad-input-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

std::string write_file(const std::string& name, const std::string& text) {
  const fs::path path = scratch_dir() / name;
  std::ofstream(path) << text;
  return path.string();
}

const char* const kValid = R"({
  "protocol": "chord", "seed": 42,
  "params": { "m": 6, "successors": 3, "lookup": "iterative" },
  "network": { "latency": { "model": "uniform", "min_ms": 5, "max_ms": 50 }, "loss": 0.0 },
  "peers": { "ids": [4, 7, 13, 52] },
  "bootstrap": "oracle",
  "events": [
    { "at_ms": 10,  "op": "put", "key": 31, "value": "my data" },
    { "at_ms": 100, "op": "lookup", "from": 52, "key": 44 },
    { "at_ms": 200, "op": "lookups", "count": 10 },
    { "at_ms": 300, "op": "fail", "peer": 7 },
    { "at_ms": 500, "op": "leave", "peer": 13 },
    { "at_ms": 600, "op": "join", "id": 50 } ],
  "run_ms": 3000 })";

/// The valid scenario with one change applied through a JSON pointer.
std::string with(const std::string& pointer, const nlohmann::json& value) {
  nlohmann::json doc = nlohmann::json::parse(kValid);
  doc[nlohmann::json::json_pointer(pointer)] = value;
  return doc.dump(2);
}

std::string without(const std::string& pointer) {
  nlohmann::json doc = nlohmann::json::parse(kValid);
  const nlohmann::json::json_pointer ptr(pointer);
  doc[ptr.parent_pointer()].erase(ptr.back());
  return doc.dump(2);
}

void expect_rejected(const std::string& name, const std::string& text, const std::string& field,
                     const std::string& reason) {
  CAPTURE(name);
  const std::string path = write_file(name + ".json", text);
  const Outcome o = run_p2plab("run " + path);
  CAPTURE(o.output);
  CHECK_FALSE(o.signaled);
  CHECK(o.exit_code == 2);
  // One clear line: "<file>: <field>: <reason>".
  CHECK(o.output.find(path + ": " + field) != std::string::npos);
  CHECK(o.output.find(reason) != std::string::npos);
  CHECK(std::count(o.output.begin(), o.output.end(), '\n') == 1);
}

}  // namespace

TEST_CASE("the valid scenario used below runs (exit 0)") {
  const Outcome o = run_p2plab("run " + write_file("valid.json", kValid) + " --quiet");
  CAPTURE(o.output);
  CHECK(o.exit_code == 0);
}

TEST_CASE("malformed JSON names line and column") {
  expect_rejected("malformed", "{ \"protocol\": \"chord\",\n  \"seed\": 42,, }", "", "malformed JSON");
  const Outcome o =
      run_p2plab("run " + write_file("malformed2.json", "{ \"protocol\": \"chord\",\n  \"seed\": 42,, }"));
  CHECK(o.output.find("line 2") != std::string::npos);
}

TEST_CASE("a missing file is a clear error") {
  const Outcome o = run_p2plab("run /nonexistent/nope.json");
  CHECK(o.exit_code == 2);
  CHECK(o.output.find("/nonexistent/nope.json: cannot open the file") != std::string::npos);
}

TEST_CASE("unknown protocol lists the known ones") {
  expect_rejected("unknown-protocol", with("/protocol", "kademlia-xyz"), "protocol", "known: ");
  const Outcome o = run_p2plab("run " + write_file("unknown-protocol2.json", with("/protocol", "kademlia-xyz")));
  CHECK(o.output.find("chord") != std::string::npos);
}

TEST_CASE("missing fields are named") {
  expect_rejected("missing-protocol", without("/protocol"), "protocol", "missing");
  expect_rejected("missing-peers", without("/peers"), "peers", "missing");
  expect_rejected("missing-op", without("/events/1/op"), "events[1].op", "missing");
  expect_rejected("missing-from", without("/events/1/from"), "events[1].from", "missing");
  expect_rejected("missing-key", without("/events/1/key"), "events[1].key", "missing");
}

TEST_CASE("wrong-typed fields are named with what was found") {
  expect_rejected("seed-string", with("/seed", "abc"), "seed", "expected an integer");
  expect_rejected("m-string", with("/params/m", "six"), "params.m", "expected an integer");
  expect_rejected("key-bool", with("/events/1/key", true), "events[1].key", "got true");
  expect_rejected("events-object", with("/events", nlohmann::json::object()), "events", "expected an array");
  expect_rejected("ids-string", with("/peers/ids/1", "seven"), "peers.ids[1]", "decimal");
  expect_rejected("latency-number", with("/network/latency", 5), "network.latency", "expected an object");
}

TEST_CASE("ids out of range for m") {
  expect_rejected("id-too-big", with("/peers/ids/2", 64), "peers.ids[2]", "out of range for m = 6");
  expect_rejected("key-too-big", with("/events/1/key", 100), "events[1].key", "out of range for m = 6");
  expect_rejected("id-negative", with("/peers/ids/0", -1), "peers.ids[0]", "expected an id");
  expect_rejected("m-too-big", with("/params/m", 161), "params.m", "out of range");
  expect_rejected("count-too-many", with("/peers", {{"count", 65}}), "peers.count", "more peers than ids");
}

TEST_CASE("duplicate ids") { expect_rejected("duplicate", with("/peers/ids/3", 7), "peers.ids[3]", "duplicate id 7"); }

TEST_CASE("operations on peers that do not exist") {
  expect_rejected("from-missing-peer", with("/events/1/from", 53), "events[1].from", "no peer with id 53");
  expect_rejected("fail-missing-peer", with("/events/3/peer", 8), "events[3].peer", "no peer with id 8");
}

TEST_CASE("unknown operations, models and misspelt fields") {
  expect_rejected("unknown-op", with("/events/2/op", "lookupz"), "events[2].op", "unknown operation");
  expect_rejected("typo", with("/params/stabilise_ms", 500), "params.stabilise_ms", "unknown field");
  expect_rejected("latency-model", with("/network/latency/model", "gauss"), "network.latency.model",
                  "unknown latency model");
  expect_rejected("bad-lookup-style", with("/params/lookup", "sideways"), "params.lookup", "iterative");
  expect_rejected("bootstrap", with("/bootstrap", "magic"), "bootstrap", "oracle");
}

TEST_CASE("values out of range") {
  expect_rejected("negative-time", with("/events/0/at_ms", -5), "events[0].at_ms", "out of range");
  expect_rejected("loss", with("/network/loss", 1.5), "network.loss", "out of range");
  expect_rejected("min-max", with("/network/latency/max_ms", 1), "network.latency.max_ms", "at least min_ms");
  expect_rejected("successors", with("/params/successors", 0), "params.successors", "out of range");
}

TEST_CASE("bad fields of the unstructured protocols are named") {
  const nlohmann::json flood = {{"protocol", "flooding"},
                                {"params", {{"ttl", 4}}},
                                {"peers", {{"count", 10}}},
                                {"items", {{"count", 3}, {"replicas", 2}}},
                                {"events", {{{"at_ms", 10}, {"op", "query"}, {"from", 1}, {"name", "item-1"}}}}};
  auto change = [&](const nlohmann::json& base, const std::string& pointer, const nlohmann::json& value) {
    nlohmann::json doc = base;
    doc[nlohmann::json::json_pointer(pointer)] = value;
    return doc.dump();
  };
  expect_rejected("flood-ttl", change(flood, "/params/ttl", "seven"), "params.ttl", "expected an integer");
  expect_rejected("flood-ttl-zero", change(flood, "/params/ttl", 0), "params.ttl", "out of range");
  expect_rejected("flood-degree", change(flood, "/params/degree", -2), "params.degree", "out of range");
  expect_rejected("flood-from", change(flood, "/events/0/from", 99), "events[0].from", "no peer with id 99");
  expect_rejected("flood-name", change(flood, "/events/0/name", 5), "events[0].name", "expected a string");
  expect_rejected("flood-op", change(flood, "/events/0/op", "search"), "events[0].op", "unknown operation");
  expect_rejected("items-replicas", change(flood, "/items/replicas", 11), "items.replicas", "out of range");
  expect_rejected("items-peer", change(flood, "/items", nlohmann::json::array({{{"peer", 42}, {"name", "a.mp3"}}})),
                  "items[0].peer", "no peer with id 42");
  nlohmann::json super = flood;
  super["protocol"] = "superpeer";
  super["params"] = {{"superpeers_per_leaf", 5}};
  expect_rejected("super-per-leaf", super.dump(), "params.superpeers_per_leaf", "out of range");
  super["params"] = {{"superpeer_ratio", "many"}};
  expect_rejected("super-ratio", super.dump(), "params.superpeer_ratio", "expected a number");
  super["params"] = nlohmann::json::object();
  super["peers"]["capacities"] = nlohmann::json::array({{{"bandwidth_kbps", 10}}});
  expect_rejected("super-capacities", super.dump(), "peers.capacities", "one entry per peer");
  nlohmann::json central = flood;
  central["protocol"] = "central_index";
  central["params"] = {{"timeout_ms", true}};
  expect_rejected("central-timeout", central.dump(), "params.timeout_ms", "expected a number");
  const nlohmann::json lab = {{"protocol", "compare"}, {"params", {{"protocols", {"chord", "no-such-protocol"}}}}};
  expect_rejected("compare-protocol", lab.dump(), "params.protocols[1]", "expected a protocol name");
}

TEST_CASE("bad command-line arguments exit with 2, never a crash") {
  for (const char* args : {"",
                           "frobnicate",
                           "run",
                           "bench",
                           "bench no-such-protocol",
                           "bench chord --peers 0",
                           "bench chord --peers many",
                           "bench chord --bits 500",
                           "run a.json --nonsense",
                           "compare --max-log2 99",
                           "compare --protocols gnutella",
                           "compare --min-log2 9 --max-log2 8",
                           "bench chord --threads 0",
                           "bench chord --threads 65",
                           "bench chord --threads two",
                           "bench chord --threads 2 --maintenance-ms 100",
                           "bench chord --threads 2 --min-ms 0",
                           "bench pastry --threads 0",
                           "bench pastry --threads 2 --min-ms 0",
                           "bench chord --threads 33",
                           "bench kademlia --threads 33",
                           "bench chord --peers 257 --bits 8",
                           "bench kademlia --peers 70000 --bits 16"}) {
    CAPTURE(args);
    const Outcome o = run_p2plab(args);
    CAPTURE(o.output);
    CHECK_FALSE(o.signaled);
    CHECK(o.exit_code == 2);
  }
  // More peers than ids (it hung: each id stepped past the taken ones forever), said as such.
  const Outcome crowded = run_p2plab("bench chord --peers 257 --bits 8");
  CHECK(crowded.output.find("--peers 257 is more than the 2^8 ids of --bits 8") != std::string::npos);
  CHECK(run_p2plab("bench chord --peers 256 --bits 8 --seconds 1").exit_code == 0);  // every id taken
  CHECK(run_p2plab("--help").exit_code == 0);
}

TEST_CASE("randomly mutated scenarios are either run or rejected with a ScenarioError") {
  // Every leaf of a valid scenario (Chord, Kademlia, each unstructured protocol) is replaced, in turn,
  // by values of every JSON type. The library must either run the result or throw
  // ScenarioError: no other exception, no crash.
  const nlohmann::json unstructured = {
      {"protocol", "flooding"},
      {"seed", 3},
      {"params", {{"ttl", 3}, {"degree", 3}}},
      {"peers", {{"count", 12}, {"capacities", {{"random", true}, {"nat_fraction", 0.5}}}}},
      {"items", {{"count", 4}, {"replicas", 2}}},
      {"bootstrap", "join"},
      {"join_interval_ms", 20},
      {"events",
       {{{"at_ms", 500}, {"op", "query"}, {"from", 2}, {"name", "item-1"}, {"ttl", 2}},
        {{"at_ms", 600}, {"op", "queries"}, {"count", 3}},
        {{"at_ms", 700}, {"op", "fail"}, {"peer", 4}},
        {{"at_ms", 800}, {"op", "set"}, {"param", "ttl"}, {"value", 2}},
        {{"at_ms", 900}, {"op", "join"}, {"id", 40}}}},
      {"run_ms", 4000}};
  const nlohmann::json kademlia = {
      {"protocol", "kademlia"},
      {"seed", 3},
      {"params", {{"m", 16}, {"k", 3}, {"alpha", 2}, {"refresh_ms", 500}, {"round_timeout_ms", 50}}},
      {"peers", {{"ids", {1, 200, 3000, 40000, 65535}}}},
      {"bootstrap", "join"},
      {"join_interval_ms", 20},
      {"events",
       {{{"at_ms", 500}, {"op", "lookup"}, {"from", 200}, {"key", 7}},
        {{"at_ms", 550}, {"op", "put"}, {"name", "a"}, {"value", "b"}},
        {{"at_ms", 600}, {"op", "get"}, {"from", 1}, {"name", "a"}},
        {{"at_ms", 700}, {"op", "fail"}, {"peer", 3000}},
        {{"at_ms", 800}, {"op", "set"}, {"param", "alpha"}, {"value", 3}},
        {{"at_ms", 900}, {"op", "join"}, {"id", 40}}}},
      {"run_ms", 3000}};
  for (const char* protocol : {"chord", "flooding", "superpeer", "central_index", "kademlia"}) {
    CAPTURE(protocol);
    nlohmann::json base = nlohmann::json::parse(kValid);
    if (std::string(protocol) == "kademlia") {
      base = kademlia;
    } else if (std::string(protocol) != "chord") {
      base = unstructured;
      base["protocol"] = protocol;
      if (std::string(protocol) != "flooding") base["params"] = nlohmann::json::object();
    }
    const nlohmann::json flat = base.flatten();
    const std::array<nlohmann::json, 9> replacements = {
        nullptr, true, -1, 0, 3.5, 1e300, "x", nlohmann::json::array(), nlohmann::json::object()};
    int rejected = 0, ran = 0;
    for (const auto& [pointer, unused] : flat.items()) {
      (void)unused;
      for (const auto& replacement : replacements) {
        nlohmann::json doc = base;
        doc[nlohmann::json::json_pointer(pointer)] = replacement;
        CAPTURE(pointer);
        CAPTURE(replacement.dump());
        try {
          const p2plab::Scenario s = p2plab::parse_scenario(doc, "mutant.json");
          auto run = p2plab::all_protocols().create(s);
          run->run_to_end();
          ++ran;
        } catch (const p2plab::ScenarioError& e) {
          ++rejected;
          CHECK(std::string(e.what()).rfind("mutant.json: ", 0) == 0);
        } catch (const std::exception& e) {
          FAIL("unexpected exception: " << e.what());
        }
      }
    }
    CHECK(rejected > 30);
    CHECK(ran > 10);
  }
}
