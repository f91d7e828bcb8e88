#include "p2plab/net/monitor.hpp"

#include <nlohmann/json.hpp>

#include "p2plab/net/wire.hpp"

namespace p2plab::net {

using nlohmann::json;

namespace {

json id_json(const Id& id) { return json::binary(wire::id_bytes(id)); }

std::string clip(const std::string& text) {
  return text.size() <= kMaxReportText ? text : text.substr(0, kMaxReportText);
}

json header(const ReportedPeer& p, const char* kind) {
  return json{{"v", kMonitorVersion}, {"proto", clip(p.protocol)},
              {"m", p.bits},          {"id", id_json(p.id)},
              {"t", p.time_ms},       {"k", kind}};
}

json cell_json(const Cell& c) {
  json a = json::array({static_cast<int>(c.kind), clip(c.text)});
  switch (c.kind) {
    case Cell::Kind::Text:
      break;
    case Cell::Kind::Number:
      a.push_back(c.number);
      break;
    case Cell::Kind::Id:
      a.push_back(id_json(c.id));
      a.push_back(c.mark);
      break;
    case Cell::Kind::Interval:
      a.push_back(id_json(c.id));
      a.push_back(id_json(c.end));
      a.push_back(c.closed_left);
      a.push_back(c.closed_right);
      break;
    case Cell::Kind::Peer:
      a.push_back(c.peer == kNoPeer ? json(nullptr) : id_json(c.id));
      break;
  }
  return a;
}

json table_json(const TableView& t) {
  json j{{"title", clip(t.title)}, {"cols", json::array()}, {"rows", json::array()}, {"link", json::array()}};
  for (std::size_t c = 0; c < t.columns.size() && c < kMaxReportCells; ++c) j["cols"].push_back(clip(t.columns[c]));
  for (std::size_t r = 0; r < t.rows.size() && r < kMaxReportRows; ++r) {
    json row = json::array();
    for (std::size_t c = 0; c < t.rows[r].cells.size() && c < kMaxReportCells; ++c)
      row.push_back(cell_json(t.rows[r].cells[c]));
    j["rows"].push_back(std::move(row));
    j["link"].push_back(t.rows[r].link);
  }
  return j;
}

// ---- decoding: every reader checks type and bounds ----

struct In {
  std::string why;
  bool fail(const char* reason) {
    why = reason;
    return false;
  }
  bool id(const json& j, int bits, Id& out) {
    if (!j.is_binary()) return fail("bad_id");
    const auto parsed = wire::id_from_bytes(j.get_binary());
    if (!parsed || !IdSpace(bits).contains(*parsed)) return fail("bad_id");
    out = *parsed;
    return true;
  }
  bool text(const json& j, std::string& out) {
    if (!j.is_string() || j.get_ref<const std::string&>().size() > kMaxReportText) return fail("bad_text");
    out = j.get<std::string>();
    return true;
  }
  bool flag(const json& j, bool& out) {
    if (!j.is_boolean()) return fail("bad_field");
    out = j.get<bool>();
    return true;
  }
  bool cell(const json& j, int bits, Cell& c) {
    if (!j.is_array() || j.size() < 2 || !j[0].is_number_unsigned() || j[0].get<std::uint64_t>() > 4) {
      return fail("bad_cell");
    }
    c.kind = static_cast<Cell::Kind>(j[0].get<std::uint64_t>());
    if (!text(j[1], c.text)) return false;
    const std::size_t want[] = {2, 3, 4, 6, 3};
    if (j.size() != want[static_cast<std::size_t>(c.kind)]) return fail("bad_cell");
    switch (c.kind) {
      case Cell::Kind::Text:
        return true;
      case Cell::Kind::Number:
        if (!j[2].is_number()) return fail("bad_cell");
        c.number = j[2].get<double>();
        return true;
      case Cell::Kind::Id:
        return id(j[2], bits, c.id) && flag(j[3], c.mark);
      case Cell::Kind::Interval:
        return id(j[2], bits, c.id) && id(j[3], bits, c.end) && flag(j[4], c.closed_left) && flag(j[5], c.closed_right);
      case Cell::Kind::Peer:
        if (j[2].is_null()) return true;
        c.peer = 0;  // a peer: its id is in c.id (the monitor maps it to its own index)
        return id(j[2], bits, c.id);
    }
    return fail("bad_cell");
  }
  bool table(const json& j, int bits, TableView& t) {
    if (!j.is_object()) return fail("bad_table");
    auto title = j.find("title"), cols = j.find("cols"), rows = j.find("rows"), link = j.find("link");
    if (title == j.end() || cols == j.end() || rows == j.end() || link == j.end()) return fail("bad_table");
    if (!text(*title, t.title)) return false;
    if (!cols->is_array() || cols->size() > kMaxReportCells || !rows->is_array() || rows->size() > kMaxReportRows ||
        !link->is_array() || link->size() != rows->size()) {
      return fail("bad_table");
    }
    for (const json& c : *cols) {
      if (!text(c, t.columns.emplace_back())) return false;
    }
    for (std::size_t r = 0; r < rows->size(); ++r) {
      const json& row = (*rows)[r];
      if (!row.is_array() || row.size() > kMaxReportCells || !(*link)[r].is_number_integer()) return fail("bad_table");
      TableView::Row out;
      const auto l = (*link)[r].get<std::int64_t>();
      if (l < -1 || l >= static_cast<std::int64_t>(kMaxReportLinks)) return fail("bad_table");
      out.link = static_cast<int>(l);
      for (const json& c : row) {
        if (!cell(c, bits, out.cells.emplace_back())) return false;
      }
      t.rows.push_back(std::move(out));
    }
    return true;
  }
};

}  // namespace

ReportedPeer report_of(const PeerView& view, const ProtocolModel& model, const std::function<Id(PeerIndex)>& id_of) {
  ReportedPeer r;
  r.id = view.id;
  r.state = view.state;
  if (view.role < model.roles.size()) r.role = model.roles[view.role].name;
  for (const Link& l : view.links) {
    if (l.kind >= model.link_kinds.size() || l.target == kNoPeer) continue;
    r.links.push_back({model.link_kinds[l.kind].name, l.index, id_of(l.target)});
  }
  r.keys = view.keys;
  r.key_count = view.keys.size();
  r.tables = view.tables;
  for (TableView& t : r.tables) {
    for (TableView::Row& row : t.rows) {
      for (Cell& c : row.cells) {
        if (c.kind == Cell::Kind::Peer && c.peer != kNoPeer) c.id = id_of(c.peer);
      }
    }
  }
  return r;
}

std::vector<std::uint8_t> encode_state(const ReportedPeer& p) {
  json j = header(p, "state");
  j["addr"] = clip(p.address);
  j["st"] = static_cast<int>(p.state);
  j["role"] = clip(p.role);
  j["links"] = json::array();
  for (std::size_t i = 0; i < p.links.size() && i < kMaxReportLinks; ++i) {
    j["links"].push_back(json::array({clip(p.links[i].kind), p.links[i].index, id_json(p.links[i].target)}));
  }
  j["keys"] = json::array();
  for (std::size_t k = 0; k < p.keys.size() && k < kMaxReportKeys; ++k) j["keys"].push_back(id_json(p.keys[k]));
  j["nkeys"] = std::max<std::uint64_t>(p.key_count, p.keys.size());
  j["tables"] = json::array();
  for (std::size_t t = 0; t < p.tables.size() && t < kMaxReportTables; ++t)
    j["tables"].push_back(table_json(p.tables[t]));
  std::vector<std::uint8_t> out;
  json::to_cbor(j, out);
  if (out.size() > kMaxReportBytes) {  // the tables are what can grow: the state goes without them
    j["tables"] = json::array();
    out.clear();  // (to_cbor appends)
    json::to_cbor(j, out);
  }
  if (out.size() > kMaxReportBytes) out.clear();
  return out;
}

std::vector<std::uint8_t> encode_events(const ReportedPeer& who, const std::vector<MonitorEvent>& events) {
  json j = header(who, "msgs");
  j["e"] = json::array();
  for (std::size_t i = 0; i < events.size() && i < kMaxReportEvents; ++i) {
    j["e"].push_back(json::array({id_json(events[i].from), id_json(events[i].to), clip(events[i].type)}));
  }
  std::vector<std::uint8_t> out;
  json::to_cbor(j, out);
  if (out.size() > kMaxReportBytes) out.clear();
  return out;
}

bool decode_report(const std::uint8_t* data, std::size_t size, MonitorReport& out, std::string& why) {
  In in;
  auto done = [&](bool ok) {
    if (!ok) why = in.why;
    return ok;
  };
  if (size > kMaxReportBytes) return done(in.fail("oversized"));
  json j;
  try {
    j = json::from_cbor(data, data + size, /*strict=*/true, /*allow_exceptions=*/false);
  } catch (const std::exception&) {
    j = json(json::value_t::discarded);
  }
  if (j.is_discarded() || !j.is_object()) return done(in.fail("not_cbor_map"));
  auto v = j.find("v");
  if (v == j.end() || !v->is_number_unsigned() || v->get<std::uint64_t>() != kMonitorVersion) {
    return done(in.fail("version"));
  }
  MonitorReport r;
  ReportedPeer& p = r.peer;
  auto proto = j.find("proto"), m = j.find("m"), id = j.find("id"), t = j.find("t"), k = j.find("k");
  if (proto == j.end() || m == j.end() || id == j.end() || t == j.end() || k == j.end())
    return done(in.fail("missing"));
  if (!in.text(*proto, p.protocol) || p.protocol.empty()) return done(in.fail("protocol"));
  if (!m->is_number_unsigned() || m->get<std::uint64_t>() < 1 || m->get<std::uint64_t>() > IdSpace::kMaxBits) {
    return done(in.fail("bits"));
  }
  p.bits = static_cast<int>(m->get<std::uint64_t>());
  if (!in.id(*id, p.bits, p.id)) return done(false);
  if (!t->is_number_integer()) return done(in.fail("bad_field"));
  p.time_ms = t->get<std::int64_t>();
  if (!k->is_string()) return done(in.fail("kind"));
  if (k->get_ref<const std::string&>() == "msgs") {
    r.kind = MonitorReport::Kind::Events;
    auto e = j.find("e");
    if (e == j.end() || !e->is_array() || e->size() > kMaxReportEvents) return done(in.fail("bad_events"));
    for (const json& item : *e) {
      MonitorEvent ev;
      if (!item.is_array() || item.size() != 3 || !in.id(item[0], p.bits, ev.from) || !in.id(item[1], p.bits, ev.to) ||
          !in.text(item[2], ev.type)) {
        return done(in.fail("bad_events"));
      }
      r.events.push_back(std::move(ev));
    }
    out = std::move(r);
    return true;
  }
  if (k->get_ref<const std::string&>() != "state") return done(in.fail("kind"));
  r.kind = MonitorReport::Kind::State;
  auto addr = j.find("addr"), st = j.find("st"), role = j.find("role"), links = j.find("links"), keys = j.find("keys"),
       nkeys = j.find("nkeys"), tables = j.find("tables");
  if (addr == j.end() || st == j.end() || role == j.end() || links == j.end() || keys == j.end() || nkeys == j.end() ||
      tables == j.end()) {
    return done(in.fail("missing"));
  }
  if (!in.text(*addr, p.address) || !in.text(*role, p.role)) return done(false);
  if (!st->is_number_unsigned() || st->get<std::uint64_t>() > static_cast<std::uint64_t>(PeerState::Left)) {
    return done(in.fail("bad_field"));
  }
  p.state = static_cast<PeerState>(st->get<std::uint64_t>());
  if (!links->is_array() || links->size() > kMaxReportLinks) return done(in.fail("bad_links"));
  for (const json& l : *links) {
    ReportedLink link;
    if (!l.is_array() || l.size() != 3 || !in.text(l[0], link.kind) || !l[1].is_number_unsigned() ||
        l[1].get<std::uint64_t>() > 0xffff || !in.id(l[2], p.bits, link.target)) {
      return done(in.fail("bad_links"));
    }
    link.index = static_cast<std::uint16_t>(l[1].get<std::uint64_t>());
    p.links.push_back(std::move(link));
  }
  if (!keys->is_array() || keys->size() > kMaxReportKeys) return done(in.fail("bad_keys"));
  for (const json& key : *keys) {
    if (!in.id(key, p.bits, p.keys.emplace_back())) return done(false);
  }
  if (!nkeys->is_number_unsigned()) return done(in.fail("bad_keys"));
  p.key_count = nkeys->get<std::uint64_t>();
  if (!tables->is_array() || tables->size() > kMaxReportTables) return done(in.fail("bad_table"));
  for (const json& table : *tables) {
    if (!in.table(table, p.bits, p.tables.emplace_back())) return done(false);
  }
  out = std::move(r);
  return true;
}

}  // namespace p2plab::net
