#include "p2plab/simulator.hpp"

#include <algorithm>

namespace p2plab {

namespace {
std::uint64_t id_stream(const Id& id) { return mix64(id.limb[0] ^ mix64(id.limb[1] ^ mix64(id.limb[2]))); }
}  // namespace

SimulatorCore::SimulatorCore(std::uint64_t seed, NetworkConfig network)
    : seed_(seed), network_(network), scenario_rng_(Rng::derive(seed, 0x5ce7a410ULL)) {}

PeerIndex SimulatorCore::add_peer(const Id& id) {
  const auto peer = static_cast<PeerIndex>(peers_.size());
  peers_.push_back(PeerRecord{id, Rng::derive(seed_, id_stream(id))});
  state_.push_back(PeerState::Up);
  if (network_.uses_positions()) {
    // Placement uses a stream of its own so that it does not shift the peer's protocol stream.
    Rng placement = Rng::derive(seed_ ^ 0x706c616365ULL, id_stream(id));
    positions_.push_back(network_.place(placement));
  }
  ++live_count_;
  note_live_change(peer, true);
  if (trace_.enabled()) {
    TraceEvent t;
    t.time = now_;
    t.kind = TraceKind::Join;
    t.peer = peer;
    t.key = id;
    trace_.record(t);
  }
  return peer;
}

void SimulatorCore::reserve_peers(std::size_t count) {
  peers_.reserve(count);
  state_.reserve(count);
  if (network_.uses_positions()) positions_.reserve(count);
}

void SimulatorCore::mark_failed(PeerIndex peer) { mark_down(peer, PeerState::Failed, TraceKind::Fail); }

void SimulatorCore::mark_left(PeerIndex peer) { mark_down(peer, PeerState::Left, TraceKind::Leave); }

void SimulatorCore::mark_down(PeerIndex peer, PeerState state, TraceKind kind) {
  if (state_[peer] != PeerState::Up) return;
  state_[peer] = state;
  --live_count_;
  note_live_change(peer, false);
  if (trace_.enabled()) {
    TraceEvent t;
    t.time = now_;
    t.kind = kind;
    t.peer = peer;
    t.key = peers_[peer].id;
    trace_.record(t);
  }
}

void SimulatorCore::fail_fraction(double fraction) {
  // A partial Fisher-Yates shuffle picks the victims without repetition.
  std::vector<PeerIndex> live;
  for (const auto& entry : live_by_id()) live.push_back(entry.second);
  const auto victims = static_cast<std::size_t>(fraction * static_cast<double>(live.size()) + 0.5);
  for (std::size_t i = 0; i < victims && i < live.size(); ++i) {
    const std::size_t j = i + scenario_rng_.below(live.size() - i);
    std::swap(live[i], live[j]);
    mark_failed(live[i]);
  }
}

void SimulatorCore::note_live_change(PeerIndex peer, bool up) {
  ranks_valid_ = false;
  if (live_dirty_) return;  // (also after release_live_by_id: nothing to patch)
  // A few changes are patched into the sorted list in place; a burst (a mass failure, the
  // initial population) is cheaper as one rebuild on the next query.
  if (++pending_live_changes_ > 64) {
    live_dirty_ = true;
    return;
  }
  const std::pair<Id, PeerIndex> entry{peers_[peer].id, peer};
  auto it = std::lower_bound(live_sorted_.begin(), live_sorted_.end(), entry);
  if (up) {
    live_sorted_.insert(it, entry);
  } else if (it != live_sorted_.end() && *it == entry) {
    live_sorted_.erase(it);
  }
}

const std::vector<std::pair<Id, PeerIndex>>& SimulatorCore::live_by_id() const {
  if (live_dirty_) {
    live_sorted_.clear();
    live_sorted_.reserve(live_count_);
    for (PeerIndex p = 0; p < peers_.size(); ++p) {
      if (state_[p] == PeerState::Up) live_sorted_.emplace_back(peers_[p].id, p);
    }
    // (Peers added in id order, as a benchmark adds them, are sorted already: a check of 10^6
    // pairs is a pass, where the sort took 0.05 s.)
    if (!std::is_sorted(live_sorted_.begin(), live_sorted_.end())) std::sort(live_sorted_.begin(), live_sorted_.end());
    rank_.resize(peers_.size());
    order_.resize(live_sorted_.size());
    for (std::size_t r = 0; r < live_sorted_.size(); ++r) {
      rank_[live_sorted_[r].second] = static_cast<std::uint32_t>(r);
      order_[r] = live_sorted_[r].second;
    }
    ranks_valid_ = true;
    live_dirty_ = false;
    const_cast<SimulatorCore*>(this)->pending_live_changes_ = 0;
  }
  return live_sorted_;
}

void SimulatorCore::release_live_by_id() {
  std::vector<std::pair<Id, PeerIndex>>().swap(live_sorted_);
  live_dirty_ = true;  // rebuilt on the next query; the ranks stay valid until the live set changes
}

PeerIndex SimulatorCore::find_live(const Id& id) const {
  const auto& live = live_by_id();
  auto it = std::lower_bound(live.begin(), live.end(), std::pair<Id, PeerIndex>{id, 0});
  return (it != live.end() && it->first == id) ? it->second : kNoPeer;
}

std::uint16_t SimulatorCore::add_handler(Handler handler) {
  handlers_.push_back(std::move(handler));
  return static_cast<std::uint16_t>(handlers_.size() - 1);
}

void SimulatorCore::schedule_at(SimTime at, std::uint16_t handler, PeerIndex peer, std::uint32_t arg) {
  queue_.push(std::max(at, now_), peer, kCallback, handler, arg);
}

bool SimulatorCore::step() {
  if (queue_.empty()) return false;
  const QueuedEvent e = queue_.pop();
  prefetch_after_pop();
  now_ = e.time;
  ++processed_;
  dispatch(e);
  return true;
}

void SimulatorCore::run_until(SimTime end) {
  while (!queue_.empty() && queue_.top().time <= end) step();
  now_ = std::max(now_, end);
}

std::size_t SimulatorCore::engine_bytes() const {
  return peers_.capacity() * sizeof(PeerRecord) + state_.capacity() * sizeof(PeerState) +
         positions_.capacity() * sizeof(Position) + queue_.capacity_bytes() +
         live_sorted_.capacity() * sizeof(std::pair<Id, PeerIndex>) + rank_.capacity() * sizeof(std::uint32_t) +
         order_.capacity() * sizeof(PeerIndex);
}

}  // namespace p2plab
