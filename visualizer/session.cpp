#include "session.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

#include "live.hpp"
#include "p2plab/json_util.hpp"
#include "p2plab/registry.hpp"

namespace p2plab::viz {

namespace {
/// A step of a search, as the trace tells it: its start, a hop, its end.
bool is_search_step(TraceKind kind) {
  return kind == TraceKind::LookupStart || kind == TraceKind::LookupHop || kind == TraceKind::LookupDone;
}
}  // namespace

nlohmann::json id_json(const std::string& text) {
  if (text.size() <= 15) return std::stoull(text);
  return text;
}

nlohmann::json operation_json(const OperationInfo& operation, const std::string& peer_id,
                              const std::function<std::string(const OperationField&)>& text, std::string& error) {
  nlohmann::json op = {{"op", operation.op}};
  if (!operation.peer_field.empty()) {
    if (!Id::from_decimal(peer_id)) {
      error = operation.peer_field + ": select a peer first";
      return op;
    }
    op[operation.peer_field] = id_json(peer_id);
  }
  for (const OperationField& field : operation.fields) {
    if (field.name == operation.peer_field) continue;
    const std::string value = text(field);
    if (value.empty()) continue;
    switch (field.kind) {
      case OperationField::Kind::Key:
        if (Id::from_decimal(value)) {
          op[field.name] = id_json(value);
        } else {
          op["name"] = value;
        }
        break;
      case OperationField::Kind::Peer:
        if (!Id::from_decimal(value)) {
          error = field.name + ": a peer's id (a number)";
          return op;
        }
        op[field.name] = id_json(value);
        break;
      case OperationField::Kind::Number:
        if (Id::from_decimal(value)) {  // a whole number, however large (an id of up to 160 bits)
          op[field.name] = id_json(value);
          break;
        }
        try {
          std::size_t used = 0;
          const double number = std::stod(value, &used);
          if (used != value.size()) throw std::invalid_argument(value);
          op[field.name] = number;
        } catch (const std::exception&) {
          error = field.name + ": a number";
          return op;
        }
        break;
      case OperationField::Kind::Name:
        op[field.name] = value;
        break;
    }
  }
  return op;
}

Session::Session(const std::string& path) : scenario_(load_scenario(path)) { rebuild(); }

Session::Session(const nlohmann::json& doc, const std::string& name) : scenario_(parse_scenario(doc, name)) {
  rebuild();
}

Session::Session(std::unique_ptr<LiveRun> live) : scenario_(live->scenario()), live_(live.get()) {
  run_ = std::move(live);
  trace_scanned_ = SIZE_MAX;
}

Session::~Session() = default;

void Session::rebuild() {
  ++generation_;
  run_ = all_protocols().create(scenario_);
  run_->simulator().event_trace().keep_in_memory(true);  // before start(): the trace sees every join
  run_->start();
  trace_scanned_ = SIZE_MAX;  // searches() starts over
  flight_scanned_ = 0;
  max_flight_ = 0;
  position_ = 0;
  view_time_ = run_->simulator().current_time();
  next_action_ = 0;
  told_.clear();
  user_lookups_.clear();
  told_scanned_ = 0;
  apply_actions();
  tell_new_steps();
}

void Session::tell_new_steps() {
  // Right after each engine event (and action): the steps of the user's searches it produced are
  // told now, from the state they were taken in.
  const auto& events = trace();
  const TraceVocabulary& v = vocabulary();
  for (; told_scanned_ < events.size(); ++told_scanned_) {
    const TraceEvent& e = events[told_scanned_];
    if (e.kind == TraceKind::LookupStart && v.is_user_purpose(e.detail)) user_lookups_.insert(e.lookup);
    if (!is_search_step(e.kind) || user_lookups_.count(e.lookup) == 0) continue;
    Told& told = told_[e.lookup];
    if (told.time != e.time) {
      told.time = e.time;
      told.sentences.clear();
    }
    std::string sentence = run_->narrate(e);
    if (!sentence.empty()) told.sentences.push_back(std::move(sentence));
  }
}

std::vector<std::string> Session::story(const TracedSearch& search) const {
  if (live_) {
    std::vector<std::string> sentences;
    for (const TraceEvent* step : last_steps(search)) {
      std::string sentence = run_->narrate(*step);
      if (!sentence.empty()) sentences.push_back(std::move(sentence));
    }
    return sentences;
  }
  const auto it = told_.find(search.id);
  return it == told_.end() ? std::vector<std::string>{} : it->second.sentences;
}

void Session::apply_actions() {
  // Actions taken at this position are replayed exactly as they were taken.
  while (next_action_ < actions_.size() && actions_[next_action_].position == position_) {
    const Action& action = actions_[next_action_];
    // The clock as it was: no event lies between the last one and the action's time.
    run_->simulator().run_until(action.time);
    view_time_ = action.time;
    run_->act(action.op);
    ++next_action_;
  }
}

bool Session::at_end() const {
  if (live_) return false;
  SimulatorCore& core = const_cast<Run&>(*run_).simulator();
  return core.events_pending() == 0 || core.next_event_time() > scenario_.run_time;
}

bool Session::raw_step() {
  if (live_ || at_end()) return false;
  run_->simulator().step();
  ++position_;
  view_time_ = run_->simulator().current_time();
  apply_actions();
  tell_new_steps();
  return true;
}

bool Session::step() { return raw_step(); }

void Session::seek(std::uint64_t events) {
  if (live_) return;
  if (events < position_) rebuild();
  while (position_ < events && raw_step()) {
  }
}

void Session::step_back() {
  if (position_ > 0) seek(position_ - 1);
}

void Session::advance_to(SimTime t) {
  if (live_) {
    live_->poll();
    return;
  }
  t = std::min(t, scenario_.run_time);
  if (t <= view_time_) return;
  SimulatorCore& core = run_->simulator();
  while (!at_end() && core.next_event_time() <= t) raw_step();
  // The clock moves on to t although no event happens there: the simulator's too, so that an
  // action taken now happens at t.
  core.run_until(t);
  view_time_ = t;
}

bool Session::step_search() {
  if (live_) return false;
  bool any_done = false;
  std::size_t scanned = trace().size();
  while (raw_step()) {
    const auto& events = trace();
    for (; scanned < events.size(); ++scanned) {
      if (events[scanned].kind != TraceKind::LookupDone) continue;
      any_done = true;
      // A search the user started ends: stop here (raw_step has noted the user's searches).
      if (user_lookups_.count(events[scanned].lookup) != 0) return true;
    }
  }
  return any_done;
}

void Session::step_search_back() {
  if (live_) return;
  // The position just before the latest user search started.
  const std::vector<TracedSearch> all = searches();  // a copy: rebuild() below resets the cache
  const TracedSearch* latest = nullptr;
  for (const auto& s : all) {
    if (is_user(s) && s.start < now()) latest = &s;
  }
  if (latest == nullptr) {
    seek(0);
    return;
  }
  const SimTime target = latest->start;
  rebuild();
  while (!at_end() && run_->simulator().next_event_time() < target) raw_step();
}

const std::vector<TracedSearch>& Session::searches() const {
  const auto& events = trace();
  if (trace_scanned_ > events.size()) {  // the run was rebuilt: start over
    searches_.clear();
    search_index_.clear();
    trace_scanned_ = 0;
  }
  auto find = [&](std::uint32_t id) -> TracedSearch* {
    if (id < search_index_.size() && search_index_[id] != SIZE_MAX) return &searches_[search_index_[id]];
    return nullptr;
  };
  const std::vector<HopStyle>& styles = vocabulary().hop_styles;
  const TraceVocabulary& vocabulary = this->vocabulary();
  for (; trace_scanned_ < events.size(); ++trace_scanned_) {
    const TraceEvent& e = events[trace_scanned_];
    if (e.kind == TraceKind::LookupStart) {
      if (e.lookup >= search_index_.size()) search_index_.resize(e.lookup + 1, SIZE_MAX);
      search_index_[e.lookup] = searches_.size();
      TracedSearch s;
      s.id = e.lookup;
      s.from = e.peer;
      s.key = e.key;
      s.key_label = run_->inspect_search(e).key_label;
      s.start = e.time;
      s.purpose = e.detail;
      s.user = vocabulary.is_user_purpose(e.detail);
      searches_.push_back(s);
    } else if (e.kind == TraceKind::LookupHop) {
      if (TracedSearch* s = find(e.lookup)) {
        const HopStyle style = e.detail < styles.size() ? styles[e.detail] : HopStyle::Forward;
        s->hops.push_back({e.time, e.peer, e.other, e.index, style, e.detail});
      }
    } else if (e.kind == TraceKind::LookupDone) {
      if (TracedSearch* s = find(e.lookup)) {
        s->end = e.time;
        s->ok = e.detail != 0;
        s->owner = e.other;
      }
    }
  }
  return searches_;
}

const TracedSearch* Session::current_search(const std::vector<TracedSearch>& all) const {
  // A search is followed from its start to its end: one that starts while another is on its way
  // is not told (busy labs start searches every few hundred ms, each taking seconds), and a
  // finished one stays on the view until the next one starts. A function of now() alone, so
  // stepping back shows the same search.
  const TracedSearch* best = nullptr;
  for (const auto& s : all) {
    if (!is_user(s) || s.start > now()) continue;
    if (best == nullptr || (best->end >= 0 && best->end <= s.start)) best = &s;
  }
  return best;
}

std::vector<const TraceEvent*> Session::last_steps(const TracedSearch& search) const {
  const auto& events = trace();
  auto first = std::lower_bound(events.begin(), events.end(), search.start,
                                [](const TraceEvent& e, SimTime t) { return e.time < t; });
  std::vector<const TraceEvent*> steps;
  for (auto it = first; it != events.end(); ++it) {
    if (!is_search_step(it->kind) || it->lookup != search.id) continue;
    if (!steps.empty() && steps.back()->time != it->time) steps.clear();
    steps.push_back(&*it);
  }
  return steps;
}

std::vector<InFlight> Session::in_flight() const {
  std::vector<InFlight> out;
  if (live_) return out;
  const auto& events = trace();
  for (; flight_scanned_ < events.size(); ++flight_scanned_) {
    const TraceEvent& e = events[flight_scanned_];
    if (e.kind == TraceKind::Send && e.until >= 0) max_flight_ = std::max(max_flight_, e.until - e.time);
  }
  // Only a message sent within the longest latency seen can still be on its way.
  const SimTime now = view_time_;
  std::size_t i = events.size();
  while (i > 0 && events[i - 1].time >= now - max_flight_) --i;
  for (; i < events.size(); ++i) {
    const TraceEvent& e = events[i];
    if (e.kind == TraceKind::Send && e.time <= now && e.until > now) {
      out.push_back({e.peer, e.other, e.time, e.until, e.detail});
    }
  }
  return out;
}

std::vector<InFlight> Session::in_flight_of(const TracedSearch& search, const std::vector<InFlight>& all) const {
  std::vector<InFlight> out;
  if (live_ || all.empty() || (search.end >= 0 && now() >= search.end)) return out;
  // A message carries the search when its sender sent it while handling the search: at the
  // moment the search started there, or the moment one of the search's messages arrived there.
  // Followed from the start, this chain finds the query, each forward and each answer, in any
  // style (iterative: requester -> n' -> requester ...; recursive: hop by hop; a flood: every copy).
  // Kept from frame to frame for the same search and run: each frame reads only the new events.
  const auto& events = trace();
  ChainCache& c = chain_;
  if (c.search != search.id || c.generation != generation_ || c.start != search.start || c.scanned > events.size()) {
    c.search = search.id;
    c.generation = generation_;
    c.start = search.start;
    c.scanned = static_cast<std::size_t>(std::lower_bound(events.begin(), events.end(), search.start,
                                                          [](const TraceEvent& e, SimTime t) { return e.time < t; }) -
                                         events.begin());
    c.handling = {{search.from, search.start}};
    c.carried.clear();
  }
  auto& handling = c.handling;
  auto& carried = c.carried;
  for (; c.scanned < events.size(); ++c.scanned) {
    const TraceEvent& e = events[c.scanned];
    if (e.kind != TraceKind::Send || e.until < 0 || !handling.count({e.peer, e.time})) continue;
    handling.insert({e.other, e.until});
    carried.insert({e.other, e.until});
  }
  for (const InFlight& m : all) {
    if (carried.count({m.to, m.arrives}) && handling.count({m.from, m.sent})) out.push_back(m);
  }
  return out;
}

const ProtocolModel& Session::model() const {
  const std::string& protocol = scenario().protocol;
  if (model_ == nullptr || model_for_ != protocol) {
    static const ProtocolModel unknown;  // a live run before its first report: an empty graph
    const ProtocolInfo* info = all_protocols().find_simulated(protocol);
    model_ = info != nullptr ? &info->model : &unknown;
    model_for_ = protocol;
  }
  return *model_;
}

const TraceVocabulary& Session::vocabulary() const {
  if (vocabulary_for_ != scenario().protocol) {
    vocabulary_ = run_->vocabulary();
    vocabulary_for_ = scenario().protocol;
  }
  return vocabulary_;
}

std::string Session::search_noun(const TracedSearch& s) const {
  const TraceVocabulary& words = vocabulary();
  const auto purpose = static_cast<std::size_t>(s.purpose);
  return purpose != words.user_purpose && purpose < words.lookup_purposes.size() ? words.lookup_purposes[purpose]
                                                                                 : model().search_noun;
}

bool Session::has_reference_route() const {
  if (reference_for_ != scenario().protocol) {
    // Ask for the route from a live peer to its own id: a run that has the notion answers with
    // at least the requester.
    has_reference_ = false;
    const auto& live = sim().live_by_id();
    if (!live.empty()) {
      has_reference_ = !run_->reference_route(live.begin()->second, live.begin()->first).path.empty();
      reference_for_ = scenario().protocol;
    }
  }
  return has_reference_;
}

std::string Session::act(const nlohmann::json& op) {
  if (live_) return "attached to real peers: use their consoles (put, get, lookup, leave)";
  try {
    run_->act(op);
  } catch (const ScenarioError& e) {
    return e.what();
  }
  actions_.resize(next_action_);  // acting after a step back replaces the old future
  actions_.push_back({position_, view_time_, op});
  ++next_action_;
  tell_new_steps();
  return "";
}

}  // namespace p2plab::viz
