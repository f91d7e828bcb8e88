// The view model every protocol fills (engine/include/p2plab/view_model.hpp), checked for every
// registered protocol the same way: its "new scenario" runs, its peer views use only the link
// kinds and roles it registered, its table rows point at the links they show, and every
// operation and settable parameter it offers is accepted by its own run. Then Chord's finger
// table against the paper's definition, computed here independently.
#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <string>

#include "p2plab/json_util.hpp"
#include "p2plab/registry.hpp"
#include "p2plab/scenario.hpp"

using namespace p2plab;

namespace {

std::unique_ptr<Run> panel_run(const ProtocolInfo& protocol, int peers) {
  ScenarioRequest request;
  request.peers = peers;
  request.seed = 3;
  for (const ParameterInfo& p : protocol.model.parameters) {
    if (p.in_new_scenario) request.params[p.name] = p.default_value;
  }
  const Scenario scenario = parse_scenario(protocol.model.make_scenario(request), "new " + protocol.name);
  std::unique_ptr<Run> run = all_protocols().create(scenario);
  run->start();
  run->simulator().run_until(from_ms(std::int64_t{5000}));
  return run;
}

/// The operation as the action panel builds it: each field's default, the selected peer's id.
nlohmann::json operation_json(const OperationInfo& op, const Run& run, PeerIndex selected) {
  nlohmann::json j = {{"op", op.op}};
  if (!op.peer_field.empty()) j[op.peer_field] = id_to_json(run.simulator().peer_id(selected), run.id_bits());
  for (const OperationField& f : op.fields) {
    if (f.default_value.empty()) continue;
    const auto number = Id::from_decimal(f.default_value);
    if (f.kind == OperationField::Kind::Key) {
      if (number) {
        j["key"] = id_to_json(*number, run.id_bits());
      } else {
        j["name"] = f.default_value;
      }
    } else if (f.kind == OperationField::Kind::Number && number) {
      j[f.name] = id_to_json(*number, run.id_bits());
    } else {
      j[f.name] = f.default_value;
    }
  }
  return j;
}

}  // namespace

TEST_CASE("view model: every protocol's views use only the kinds and roles it registered") {
  for (const ProtocolInfo* simulated : all_protocols().simulated()) {
    const ProtocolInfo& protocol = *simulated;
    CAPTURE(protocol.name);
    const ProtocolModel& model = protocol.model;
    REQUIRE(model.make_scenario);
    CHECK_FALSE(model.link_kinds.empty());
    CHECK_FALSE(model.roles.empty());
    CHECK_FALSE(model.complexity.empty());
    for (std::size_t k = 0; k < model.link_kinds.size(); ++k)
      CHECK(model.link_kind(model.link_kinds[k].name) == static_cast<int>(k));
    for (std::size_t r = 0; r < model.roles.size(); ++r) CHECK(model.role(model.roles[r].name) == static_cast<int>(r));
    CHECK(model.link_kind("no such kind") == -1);
    const TraceVocabulary vocabulary =
        all_protocols().create(parse_scenario(model.make_scenario({}), "v"))->vocabulary();
    CHECK_FALSE(vocabulary.hop_kinds.empty());
    CHECK(vocabulary.hop_kinds.size() == vocabulary.hop_styles.size());
    CHECK(vocabulary.user_purpose < std::max<std::size_t>(vocabulary.lookup_purposes.size(), 1));

    const std::unique_ptr<Run> run = panel_run(protocol, 12);
    const SimulatorCore& sim = run->simulator();
    REQUIRE(sim.live_count() > 0);
    std::size_t links = 0;
    for (PeerIndex p = 0; p < sim.peer_count(); ++p) {
      if (!sim.is_up(p)) continue;
      const PeerView v = run->inspect(p), drawn = run->inspect_links(p);
      CHECK(v.peer == p);
      CHECK(v.id == sim.peer_id(p));
      CHECK(v.role < model.roles.size());
      CHECK(drawn.role == v.role);
      REQUIRE(drawn.links.size() == v.links.size());
      for (std::size_t k = 0; k < v.links.size(); ++k) {
        CHECK(v.links[k].kind < model.link_kinds.size());
        CHECK(v.links[k].target < sim.peer_count());
        CHECK(drawn.links[k].kind == v.links[k].kind);
        CHECK(drawn.links[k].target == v.links[k].target);
      }
      links += v.links.size();
      for (const TableView& t : v.tables) {
        CAPTURE(t.title);
        for (const TableView::Row& row : t.rows) {
          CHECK(row.cells.size() == t.columns.size());
          if (row.link < 0) continue;
          REQUIRE(static_cast<std::size_t>(row.link) < v.links.size());
          // A row that shows a link names its target in a peer cell.
          bool names_target = false;
          for (const Cell& c : row.cells)
            names_target |= c.kind == Cell::Kind::Peer && c.peer == v.links[row.link].target;
          CHECK(names_target);
        }
      }
    }
    CHECK(links > 0);
  }
}

TEST_CASE("view model: every operation and settable parameter a protocol offers is accepted by its run") {
  for (const ProtocolInfo* simulated : all_protocols().simulated()) {
    const ProtocolInfo& protocol = *simulated;
    CAPTURE(protocol.name);
    const std::unique_ptr<Run> run = panel_run(protocol, 10);
    for (const ParameterInfo& p : protocol.model.parameters) {
      CHECK(p.min <= p.default_value);
      CHECK(p.default_value <= p.max);
      if (!p.settable) continue;
      CHECK_NOTHROW(run->act({{"op", "set"}, {"param", p.name}, {"value", p.default_value}}));
    }
    // The operations in the panel's order; the ones that take a peer down come last here.
    for (const bool down : {false, true}) {
      for (const OperationInfo& op : protocol.model.operations) {
        if ((op.op == "fail" || op.op == "leave") != down) continue;
        const auto& live = run->simulator().live_by_id();
        REQUIRE_FALSE(live.empty());
        const nlohmann::json j = operation_json(op, *run, live[live.size() / 2].second);
        CAPTURE(j.dump());
        CHECK_NOTHROW(run->act(j));
      }
    }
    CHECK_NOTHROW(run->run_to_end());
  }
}

TEST_CASE("view model: Chord's finger table is the paper's (start = n + 2^i, interval, successor)") {
  const ProtocolInfo* chord = all_protocols().find("chord");
  REQUIRE(chord != nullptr);
  const ProtocolModel& model = chord->model;
  CHECK(model.geometry == Geometry::Ring);
  const int finger = model.link_kind("finger"), successor = model.link_kind("successor");
  REQUIRE(finger >= 0);
  REQUIRE(successor >= 0);
  CHECK(model.link_kinds[static_cast<std::size_t>(finger)].drawing == LinkDrawing::Selected);
  CHECK(model.link_kinds[static_cast<std::size_t>(successor)].drawing == LinkDrawing::Adjacent);
  const std::unique_ptr<Run> run = panel_run(*chord, 20);  // m = 8: ids fit in 64 bits
  const SimulatorCore& sim = run->simulator();
  const int m = run->id_bits();
  REQUIRE(m == 8);
  const std::uint64_t size = std::uint64_t{1} << m;
  for (PeerIndex p = 0; p < sim.peer_count(); ++p) {
    const PeerView v = run->inspect(p);
    const TableView* table = nullptr;
    for (const TableView& t : v.tables) {
      if (t.columns.size() == 4 && t.columns[1] == "start") table = &t;
    }
    REQUIRE(table != nullptr);
    REQUIRE(table->rows.size() == static_cast<std::size_t>(m));
    const std::uint64_t n = sim.peer_id(p).low64();
    for (int i = 0; i < m; ++i) {
      CAPTURE(n);
      CAPTURE(i);
      const TableView::Row& row = table->rows[static_cast<std::size_t>(i)];
      const std::uint64_t start = (n + (std::uint64_t{1} << i)) % size;
      const std::uint64_t end = i + 1 < m ? (n + (std::uint64_t{1} << (i + 1))) % size : n;
      CHECK(row.cells[0].kind == Cell::Kind::Number);
      CHECK(row.cells[0].number == i);
      CHECK(row.cells[1].kind == Cell::Kind::Id);
      CHECK(row.cells[1].mark);
      CHECK(row.cells[1].id == Id(start));
      CHECK(row.cells[2].kind == Cell::Kind::Interval);
      CHECK(row.cells[2].id == Id(start));
      CHECK(row.cells[2].end == Id(end));
      CHECK(row.cells[2].text == "[" + std::to_string(start) + ", " + std::to_string(end) + ")");
      CHECK(row.cells[3].kind == Cell::Kind::Peer);
      REQUIRE(row.link >= 0);
      const Link& link = v.links[static_cast<std::size_t>(row.link)];
      CHECK(link.kind == finger);
      CHECK(link.index == i);
      CHECK(link.target == row.cells[3].peer);
      // On the converged ring the finger is the first live id at or after start.
      std::uint64_t best = 0, best_distance = size;
      for (const auto& [id, q] : sim.live_by_id()) {
        const std::uint64_t d = (id.low64() - start + size) % size;
        if (d < best_distance) best_distance = d, best = id.low64();
      }
      CHECK(sim.peer_id(link.target).low64() == best);
    }
  }
}

TEST_CASE("view model: Cell constructors print what they hold") {
  CHECK(Cell::of_number(3).text == "3");
  CHECK(Cell::of_number(2.5).text == "2.5");
  CHECK(Cell::of_id(Id(44), true).text == "44");
  CHECK(Cell::of_id(Id(44), true).mark);
  CHECK(Cell::of_interval(Id(60), Id(4)).text == "[60, 4)");
  CHECK(Cell::of_interval(Id(1), Id(3), false, true).text == "(1, 3]");
  CHECK(Cell::of_peer(kNoPeer, "7").text == "-");
  CHECK(Cell::of_peer(2, "7").text == "7");
  CHECK(Cell::of_peer(2, "7").peer == 2);
  CHECK(std::string(to_string(Geometry::Ring)) == "ring");
}
