#pragma once
// The requester's side of a search, the same in every unstructured protocol: collect the
// providers that answer, then download from the best one, and on a timeout try the next one,
// until one delivers or none is left.
#include <algorithm>
#include <map>
#include <vector>

#include "common/search.hpp"

namespace p2plab::search {

class Downloads {
 public:
  struct Candidate {
    int hops = 0;
    PeerIndex provider = kNoPeer;
    PeerIndex relay = kNoPeer;  // a superpeer that can relay to a provider behind NAT
    friend bool operator<(const Candidate& a, const Candidate& b) {
      return a.hops != b.hops           ? a.hops < b.hops
             : a.provider != b.provider ? a.provider < b.provider
                                        : a.relay < b.relay;
    }
  };

  void open(QueryIndex q) { queries_[q] = State{}; }
  /// Still waiting for answers (a hit arriving now counts).
  bool collecting(QueryIndex q) const {
    auto it = queries_.find(q);
    return it != queries_.end() && it->second.collecting;
  }
  /// Open and not yet finished.
  bool active(QueryIndex q) const {
    auto it = queries_.find(q);
    return it != queries_.end() && !it->second.finished;
  }
  void add(QueryIndex q, Candidate c) { queries_[q].candidates.push_back(c); }
  /// Answers are in: the best candidate (fewest hops, then lowest index) goes first.
  void stop_collecting(QueryIndex q) {
    State& s = queries_[q];
    s.collecting = false;
    std::sort(s.candidates.begin(), s.candidates.end());
  }
  /// The candidate to try now, or nullptr when none is left.
  const Candidate* current(QueryIndex q) const {
    const State& s = queries_.at(q);
    return s.next < s.candidates.size() ? &s.candidates[s.next] : nullptr;
  }
  /// That candidate did not deliver (timeout, or unreachable): move on to the next.
  void skip(QueryIndex q) { ++queries_[q].next; }
  void finish(QueryIndex q) { queries_[q].finished = true; }
  /// Marks (mark[p] = 1) the providers and relays of the downloads still running.
  void mark_providers(std::vector<std::uint8_t>& mark) const {
    for (const auto& [q, s] : queries_) {
      if (s.finished) continue;
      for (const Candidate& c : s.candidates) {
        if (c.provider < mark.size()) mark[c.provider] = 1;
        if (c.relay < mark.size()) mark[c.relay] = 1;
      }
    }
  }
  /// Forgets q altogether (a long-running real peer reuses the numbers of old queries).
  void forget(QueryIndex q) { queries_.erase(q); }

 private:
  struct State {
    std::vector<Candidate> candidates;
    std::size_t next = 0;
    bool collecting = true, finished = false;
  };
  std::map<QueryIndex, State> queries_;
};

}  // namespace p2plab::search
