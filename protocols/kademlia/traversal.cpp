#include "traversal.hpp"

#include <algorithm>

namespace p2plab::kademlia {

Traversal::Traversal(const Id& target, const Id& self, std::size_t k, std::size_t alpha)
    : target_(target), self_(self), k_(std::max<std::size_t>(k, 1)), alpha_(std::max<std::size_t>(alpha, 1)) {}

Candidate* Traversal::find(const Id& id) {
  const Id d = xor_distance(id, target_);
  const auto it = std::lower_bound(candidates_.begin(), candidates_.end(), d,
                                   [](const Candidate& c, const Id& x) { return c.distance < x; });
  return it != candidates_.end() && it->distance == d ? &*it : nullptr;
}

void Traversal::add(const Contact& contact, std::uint64_t suggested_by) {
  if (contact.id == self_) return;
  const Id d = xor_distance(contact.id, target_);
  const auto it = std::lower_bound(candidates_.begin(), candidates_.end(), d,
                                   [](const Candidate& c, const Id& x) { return c.distance < x; });
  if (it != candidates_.end() && it->distance == d) return;  // known already: first suggester kept
  Candidate c;
  c.contact = contact;
  c.distance = d;
  c.suggested_by = suggested_by;
  candidates_.insert(it, c);
}

void Traversal::add_initial(const std::vector<Contact>& contacts) {
  for (const Contact& c : contacts) add(c, kSuggestedBySelf);
}

std::vector<Candidate> Traversal::next_round() {
  std::vector<Candidate> out;
  if (done_) return out;
  // The k closest seen that have not failed: all answered means done.
  std::vector<Candidate*> not_asked;
  std::size_t counted = 0, waiting = 0;
  for (Candidate& c : candidates_) {
    if (counted == k_) break;
    if (c.state == Candidate::State::Failed) continue;
    ++counted;
    if (c.state == Candidate::State::NotAsked) not_asked.push_back(&c);
    if (c.state == Candidate::State::Asked) ++waiting;  // a slow query: its answer may still come
  }
  if (not_asked.empty()) {
    done_ = waiting == 0;
    return out;
  }
  // A round that brought nothing closer is followed by one that asks all the rest of the k
  // closest; otherwise alpha of them (the first round: alpha).
  const bool improved =
      !any_before_round_ || (!candidates_.empty() && candidates_.front().distance < best_before_round_);
  const std::size_t count = improved ? std::min(alpha_, not_asked.size()) : not_asked.size();
  ++round_;
  for (std::size_t i = 0; i < count; ++i) {
    not_asked[i]->state = Candidate::State::Asked;
    not_asked[i]->round = static_cast<std::uint16_t>(std::min(round_, 65535));
    out.push_back(*not_asked[i]);
  }
  queries_ += static_cast<std::uint32_t>(count);
  in_flight_ += static_cast<std::uint32_t>(count);
  any_before_round_ = !candidates_.empty();
  if (any_before_round_) best_before_round_ = candidates_.front().distance;
  return out;
}

bool Traversal::on_answer(const Id& from, const std::vector<Contact>& suggested) {
  Candidate* c = find(from);
  if (!c || c->state != Candidate::State::Asked) return false;
  c->state = Candidate::State::Answered;
  settle(*c);
  const std::uint64_t address = c->contact.address;  // c moves when candidates are inserted
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
  for (const Candidate& c : candidates_) {
    if (out.size() == k_) break;
    if (c.state == Candidate::State::Answered) out.push_back(c.contact);
  }
  return out;
}

const Candidate* Traversal::closest_without_value() const {
  for (const Candidate& c : candidates_) {
    if (c.state == Candidate::State::Answered && !(found_ && c.contact.id == value_from_)) return &c;
  }
  return nullptr;
}

std::size_t Traversal::closer_than(const Candidate& c) const {
  return static_cast<std::size_t>(&c - candidates_.data());
}

int Traversal::round_closest_asked() const {
  for (const Candidate& c : candidates_) {
    if (c.state == Candidate::State::Answered) return c.round;
  }
  return 0;
}

std::vector<const Candidate*> Traversal::asked_in_order() const {
  std::vector<const Candidate*> out;
  for (const Candidate& c : candidates_) {
    if (c.round != 0) out.push_back(&c);
  }
  std::stable_sort(out.begin(), out.end(), [](const Candidate* a, const Candidate* b) { return a->round < b->round; });
  return out;
}

}  // namespace p2plab::kademlia
