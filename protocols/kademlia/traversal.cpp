#include "traversal.hpp"

#include <algorithm>
#include <optional>

#include "logic.hpp"

namespace p2plab::kademlia {

Traversal::Traversal(const Id& target, const Id& self, std::size_t k, std::size_t alpha)
    : target_(target), self_(self), k_(std::max<std::size_t>(k, 1)), alpha_(std::max<std::size_t>(alpha, 1)) {}

std::vector<Traversal::Ranked>::const_iterator Traversal::lower_bound(const Id& d) const {
  return std::lower_bound(by_distance_.begin(), by_distance_.end(), d,
                          [](const Ranked& r, const Id& x) { return r.distance < x; });
}

Candidate* Traversal::find(const Id& id) {
  const Id d = xor_distance(id, target_);
  const auto it = lower_bound(d);
  return it != by_distance_.end() && it->distance == d ? &candidates_[it->index] : nullptr;
}

void Traversal::add(const Contact& contact, std::uint64_t suggested_by) {
  if (contact.id == self_) return;
  const Id d = xor_distance(contact.id, target_);
  const auto it = lower_bound(d);
  if (it != by_distance_.end() && it->distance == d) return;  // known already: first suggester kept
  Candidate c;
  c.contact = contact;
  c.distance = d;
  c.suggested_by = suggested_by;
  c.heard = static_cast<std::uint32_t>(candidates_.size());
  by_distance_.insert(it, {d, c.heard});
  candidates_.push_back(c);
}

void Traversal::add_initial(const std::vector<Contact>& contacts) {
  for (const Contact& c : contacts) add(c, kSuggestedBySelf);
}

std::vector<Candidate> Traversal::next_round() {
  std::vector<Candidate> out;
  if (done_) return out;
  // The choice sees the candidates in the order the lookup heard of them (choosing by distance is
  // part of it).
  std::optional<Id> closest_before;
  if (any_before_round_) closest_before = best_before_round_;
  const logic::RoundChoice choice = logic::choose_round(candidates_, closest_before, k_, alpha_);
  // Student code may answer anything: indices out of range or repeated are ignored; a lookup
  // that would wait with nothing out, or go on past one round per candidate (a correct choice
  // asks someone new in every round), is over.
  std::vector<Candidate*> ask;
  for (const std::size_t i : choice.ask) {
    if (i < candidates_.size() && std::find(ask.begin(), ask.end(), &candidates_[i]) == ask.end())
      ask.push_back(&candidates_[i]);
  }
  if (choice.done || (ask.empty() && in_flight_ == 0 && slow_out_ == 0) ||
      static_cast<std::size_t>(round_) >= candidates_.size()) {
    done_ = true;
    return out;
  }
  if (ask.empty()) return out;  // slow queries still out among the k closest: wait for them
  ++round_;
  for (Candidate* c : ask) {
    if (c->slow) {  // asked again: its new query holds the round up
      c->slow = false;
      --slow_out_;
    }
    c->state = Candidate::State::Asked;
    c->round = static_cast<std::uint16_t>(std::min(round_, 65535));
    out.push_back(*c);
  }
  queries_ += static_cast<std::uint32_t>(ask.size());
  in_flight_ += static_cast<std::uint32_t>(ask.size());
  any_before_round_ = !candidates_.empty();
  if (any_before_round_) best_before_round_ = by_distance_.front().distance;
  return out;
}

bool Traversal::on_answer(const Id& from, const std::vector<Contact>& suggested) {
  Candidate* c = find(from);
  if (!c || c->state != Candidate::State::Asked) return false;
  c->state = Candidate::State::Answered;
  settle(*c);
  const std::uint64_t address = c->contact.address;  // c moves when candidates are added
  for (const Contact& s : suggested) add(s, address);
  return true;
}

bool Traversal::on_failure(const Id& from) {
  Candidate* c = find(from);
  if (!c || c->state != Candidate::State::Asked) return false;
  c->state = Candidate::State::Failed;
  settle(*c);
  return true;
}

void Traversal::on_value(const Id& from) {
  if (Candidate* c = find(from); c && c->state == Candidate::State::Asked) {
    c->state = Candidate::State::Answered;
    settle(*c);
  }
  found_ = true;
  done_ = true;
  value_from_ = from;
}

void Traversal::settle(const Candidate& c) {
  if (c.slow) {
    --slow_out_;
  } else {
    --in_flight_;
  }
}

void Traversal::mark_slow() {
  for (Candidate& c : candidates_) {
    if (c.state != Candidate::State::Asked || c.slow) continue;
    c.slow = true;
    ++slow_out_;
  }
  in_flight_ = 0;
}

std::vector<Contact> Traversal::closest_answered() const {
  std::vector<Contact> out;
  for (const auto& [distance, i] : by_distance_) {
    if (out.size() == k_) break;
    if (candidates_[i].state == Candidate::State::Answered) out.push_back(candidates_[i].contact);
  }
  return out;
}

const Candidate* Traversal::closest_without_value() const {
  for (const auto& [distance, i] : by_distance_) {
    const Candidate& c = candidates_[i];
    if (c.state == Candidate::State::Answered && !(found_ && c.contact.id == value_from_)) return &c;
  }
  return nullptr;
}

std::size_t Traversal::closer_than(const Candidate& c) const {
  return static_cast<std::size_t>(lower_bound(c.distance) - by_distance_.begin());
}

int Traversal::round_closest_asked() const {
  for (const auto& [distance, i] : by_distance_) {
    if (candidates_[i].state == Candidate::State::Answered) return candidates_[i].round;
  }
  return 0;
}

std::vector<const Candidate*> Traversal::asked_in_order() const {
  std::vector<const Candidate*> out;
  for (const auto& [distance, i] : by_distance_) {
    if (candidates_[i].round != 0) out.push_back(&candidates_[i]);
  }
  std::stable_sort(out.begin(), out.end(), [](const Candidate* a, const Candidate* b) { return a->round < b->round; });
  return out;
}

}  // namespace p2plab::kademlia
