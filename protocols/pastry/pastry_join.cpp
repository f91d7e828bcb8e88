// A node's arrival and departure: the paper's join through a nearby node (state copied from the
// nodes on the join route), a graceful leave, the converged tables of the "oracle" bootstrap, and
// the leaf-set keep-alives.
#include <algorithm>
#include <numeric>

#include "p2plab/parallel.hpp"
#include "p2plab/rng.hpp"
#include "pastry.hpp"

namespace p2plab::pastry {

namespace {

/// The first id of the block of ids whose first `len` digits are x's and whose digit `len` is
/// `column` (len < digit count).
Id block_start(const Digits& d, const Id& x, int len, int column) {
  const int low = d.bits() - len * d.digit_bits();
  Id start = x;
  for (int l = 0; l < 3; ++l) {
    const int lo = 64 * l;
    if (low >= lo + 64) {
      start.limb[l] = 0;
    } else if (low > lo) {
      start.limb[l] &= ~((std::uint64_t{1} << (low - lo)) - 1);
    }
  }
  const int shift = low - d.digit_bits();
  Id add;
  add.limb[shift / 64] = static_cast<std::uint64_t>(column) << (shift % 64);
  return start + add;
}

}  // namespace

void Protocol::create(PeerIndex x) {
  reserve(x + 1);
  peers_[x] = PeerState{};
  peers_[x].joined = true;
  start_maintenance(x);
}

void Protocol::start_maintenance(PeerIndex x) {
  if (!params_.maintenance) return;
  // A random phase, so that keep-alives do not all go out at once.
  const auto phase = static_cast<SimTime>(net_.rng(x).below(static_cast<std::uint64_t>(params_.keepalive) + 1));
  net_.set_timer(x, phase, static_cast<std::uint16_t>(TimerKind::Keepalive), 0);
}

void Protocol::join(PeerIndex x, PeerIndex nearby) {
  LookupRecord& r = start_record(x, Purpose::Join, net_.id_of(x));  // (first: it may refuse)
  const std::uint32_t serial = r.serial;
  reserve(x + 1);
  peers_[x] = PeerState{};
  r.path.push_back(x);
  Trace& trace = net_.trace();
  if (trace.enabled()) {
    TraceEvent e;
    e.time = net_.now();
    e.kind = TraceKind::LookupStart;
    e.detail = static_cast<std::uint8_t>(Purpose::Join);
    e.peer = x;
    e.lookup = serial;
    e.key = r.key;
    trace.record(e);
  }
  net_.set_timer(x, params_.lookup_timeout, static_cast<std::uint16_t>(TimerKind::LookupTimeout), serial);
  // The join message, key = the newcomer's id, goes to A, which routes it like any other.
  Message m;
  m.type = MsgType::Route;
  m.purpose = Purpose::Join;
  m.origin = x;
  m.key = net_.id_of(x);
  m.lookup = serial;
  forward(x, nearby, m);
}

void Protocol::leave(PeerIndex x) {
  // Every node in x's state hears it (the leaf set also gets x's leaf set to repair from). Nodes
  // that know x without x knowing them repair lazily, when a hop to x goes unanswered.
  const Message bye = leaf_set_message(x, MsgType::Leaving);
  const PeerState& s = peers_[x];
  std::vector<PeerIndex> all(s.smaller.begin(), s.smaller.end());
  all.insert(all.end(), s.larger.begin(), s.larger.end());
  all.insert(all.end(), s.neighbours.begin(), s.neighbours.end());
  for (PeerIndex p : s.table) {
    if (p != kNoPeer) all.push_back(p);
  }
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  for (PeerIndex p : all) {
    if (p == x) continue;
    send(x, p, bye);
  }
  peers_[x].joined = false;
}

void Protocol::install_converged(const std::vector<std::pair<Id, PeerIndex>>& sorted, std::uint64_t seed) {
  const std::size_t n = sorted.size();
  if (n == 0) return;
  reserve(
      std::max_element(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second < b.second; })
          ->second +
      1);
  const std::size_t half = std::min(static_cast<std::size_t>(params_.leaf_set / 2), n - 1);
  const int columns = digits_.columns();
  // A row's cells split the peer's block of `row` shared digits into `columns` consecutive
  // blocks: their ranks in the sorted ids are columns + 1 bounds, found inside the parent block's
  // range, and the same for every peer with the same first `row` digits (consecutive in the
  // sorted order: computed once for them). Example, b = 1 (two columns), row 1, peers 10xx:
  // the bounds are the ranks of 1000, 1010 and 1100; cell 0 holds the peers in [rank 1000,
  // rank 1010), the peer's own block is [rank 1010, rank 1100).
  struct RowBounds {
    std::vector<Id> parent;           // per row: the start of the block the bounds split
    std::vector<bool> known;          // per row: bounds computed for that parent
    std::vector<std::size_t> bounds;  // per row: columns + 1 ranks
  };
  const auto row_bounds = [&](RowBounds& cache, const Id& self, int row, std::size_t from,
                              std::size_t to) -> const std::size_t* {
    const auto r = static_cast<std::size_t>(row);
    std::size_t* b = cache.bounds.data() + r * static_cast<std::size_t>(columns + 1);
    const Id parent = block_start(digits_, self, row, 0);
    if (cache.known[r] && cache.parent[r] == parent) return b;
    auto rank_in = [&](const Id& id) {
      return static_cast<std::size_t>(std::lower_bound(sorted.begin() + static_cast<std::ptrdiff_t>(from),
                                                       sorted.begin() + static_cast<std::ptrdiff_t>(to),
                                                       std::pair<Id, PeerIndex>{id, 0}) -
                                      sorted.begin());
    };
    for (int c = 0; c < columns; ++c) b[c] = rank_in(block_start(digits_, self, row, c));
    const Id end = block_start(digits_, self, row, columns - 1) + shifted_size(row);
    b[columns] = end == Id() || end.bit_width() > digits_.bits() ? n : rank_in(end);
    cache.parent[r] = parent;
    cache.known[r] = true;
    for (std::size_t deeper = r + 1; deeper < cache.known.size(); ++deeper) cache.known[deeper] = false;
    return b;
  };
  // Each peer's state is its own, from its own random stream: as many threads as the transport
  // runs partitions on (a parallel benchmark, no proximity metric) each install a stretch of the
  // sorted ids, with the same result.
  const auto install = [&](std::size_t r, RowBounds& cache) {
    const PeerIndex x = sorted[r].second;
    const Id& self = sorted[r].first;
    Rng rng = Rng::derive(seed ^ 0x7061737472790000ULL, x);
    PeerState& s = peers_[x];
    s = PeerState{};
    s.joined = true;
    for (std::size_t j = 1; j <= half; ++j) {
      s.larger.push_back(sorted[(r + j) % n].second);
      s.smaller.push_back(sorted[(r + n - j) % n].second);
    }
    // The candidates of a routing-table cell are a contiguous range of the sorted ids: with a
    // proximity metric the nearest of them (all when few, else 64 evenly spread), else any.
    auto pick = [&](std::size_t a, std::size_t e) {
      const std::size_t count = e - a;
      if (!proximity_) return sorted[a + rng.below(count)].second;
      const std::size_t stride = count <= 64 ? 1 : count / 64;
      std::size_t i = count <= 64 ? a : a + rng.below(stride);
      PeerIndex best = sorted[i].second;
      for (; i < e; i += stride) {
        if (proximity(x, sorted[i].second) < proximity(x, best)) best = sorted[i].second;
      }
      return best;
    };
    std::size_t from = 0, to = n;  // the ranks of x's block of `row` shared digits
    for (int row = 0; row < digits_.count(); ++row) {
      const std::size_t* b = row_bounds(cache, self, row, from, to);
      const int own = digits_.digit(self, row);
      for (int c = 0; c < columns; ++c) {
        if (c != own && b[c] < b[c + 1]) cell(x, row, c) = pick(b[c], b[c + 1]);
      }
      // Rows below are empty once x's own block of the next length holds x alone.
      from = b[own];
      to = b[own + 1];
      if (to - from <= 1) break;
    }
    // Neighbourhood set: the M nearest (among all peers when few, else a sample).
    const auto m = std::min(static_cast<std::size_t>(params_.neighbourhood), n - 1);
    if (m == 0) return;
    std::vector<PeerIndex> candidates;
    if (proximity_ && n <= 2048) {
      for (const auto& [id, p] : sorted) {
        if (p != x) candidates.push_back(p);
      }
    } else {
      // A sample: 512 candidates to pick the nearest from, or (no metric) m random peers.
      const std::size_t draws = proximity_ ? 512 : 4 * m;
      for (std::size_t k = 0; k < draws && (proximity_ || candidates.size() < m); ++k) {
        const PeerIndex p = sorted[rng.below(n)].second;
        if (p != x && (proximity_ || std::find(candidates.begin(), candidates.end(), p) == candidates.end())) {
          candidates.push_back(p);
        }
      }
      std::sort(candidates.begin(), candidates.end());
      candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    }
    if (proximity_) {
      const auto keep = std::min(m, candidates.size());
      std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(keep), candidates.end(),
                        [&](PeerIndex a, PeerIndex b) {
                          const double da = proximity(x, a), db = proximity(x, b);
                          return da != db ? da < db : a < b;
                        });
    }
    candidates.resize(std::min(m, candidates.size()));
    s.neighbours = std::move(candidates);
  };
  const std::size_t threads = std::clamp<std::size_t>(proximity_ ? 1 : net_.partitions(), 1, n);
  run_on_threads(threads, [&](std::size_t t) {
    const auto rows = static_cast<std::size_t>(digits_.count());
    RowBounds cache{std::vector<Id>(rows), std::vector<bool>(rows, false),
                    std::vector<std::size_t>(rows * static_cast<std::size_t>(columns + 1))};
    for (std::size_t r = n * t / threads; r < n * (t + 1) / threads; ++r) install(r, cache);
  });
}

Id Protocol::shifted_size(int row) const {
  // 2^(m - (row + 1) b): the ids of one cell of the given row.
  return Id::power_of_two(digits_.bits() - (row + 1) * digits_.digit_bits());
}

}  // namespace p2plab::pastry
