#include "p2plab/trace.hpp"

#include <nlohmann/json.hpp>

#include <ostream>

#include "p2plab/json_util.hpp"

namespace p2plab {

const char* to_string(TraceKind kind) {
  switch (kind) {
    case TraceKind::Send:
      return "send";
    case TraceKind::Deliver:
      return "deliver";
    case TraceKind::Drop:
      return "drop";
    case TraceKind::Timer:
      return "timer";
    case TraceKind::Join:
      return "join";
    case TraceKind::Leave:
      return "leave";
    case TraceKind::Fail:
      return "fail";
    case TraceKind::StateChange:
      return "state_change";
    case TraceKind::LookupStart:
      return "lookup_start";
    case TraceKind::LookupHop:
      return "lookup_hop";
    case TraceKind::LookupDone:
      return "lookup_done";
  }
  return "?";
}

const char* to_string(DropReason reason) {
  switch (reason) {
    case DropReason::Loss:
      return "loss";
    case DropReason::DeadTarget:
      return "dead_target";
  }
  return "?";
}

void Trace::write_jsonl(std::ostream* out, TraceVocabulary vocabulary, const PeerRecords* peers, int id_bits) {
  jsonl_ = out;
  vocabulary_ = std::move(vocabulary);
  peers_ = peers;
  id_bits_ = id_bits;
}

void Trace::record(const TraceEvent& e) {
  if (keep_in_memory_) events_.push_back(e);
  if (jsonl_ == nullptr) return;
  auto name_of = [](const std::vector<std::string>& names, std::size_t i) {
    return i < names.size() ? names[i] : std::to_string(i);
  };
  auto peer_id = [&](PeerIndex p) -> nlohmann::json {
    if (p == kNoPeer || peers_ == nullptr || p >= peers_->size()) return nullptr;
    return id_to_json((*peers_)[p].id, id_bits_);
  };
  nlohmann::json j;
  j["t_ms"] = to_ms(e.time);
  j["kind"] = to_string(e.kind);
  switch (e.kind) {
    case TraceKind::Send:
    case TraceKind::Deliver:
    case TraceKind::Drop:
      j["from"] = peer_id(e.peer);
      j["to"] = peer_id(e.other);
      j["type"] = name_of(vocabulary_.message_types, e.detail);
      if (e.kind == TraceKind::Drop) j["reason"] = to_string(static_cast<DropReason>(e.index));
      break;
    case TraceKind::Timer:
      j["peer"] = peer_id(e.peer);
      j["timer"] = name_of(vocabulary_.timer_kinds, e.detail);
      break;
    case TraceKind::Join:
    case TraceKind::Leave:
    case TraceKind::Fail:
      j["peer"] = peer_id(e.peer);
      break;
    case TraceKind::StateChange:
      j["peer"] = peer_id(e.peer);
      j["field"] = name_of(vocabulary_.state_fields, e.detail);
      j["index"] = e.index;
      j["value"] = peer_id(e.other);
      break;
    case TraceKind::LookupStart:
      j["lookup"] = e.lookup;
      j["peer"] = peer_id(e.peer);
      j["key"] = id_to_json(e.key, id_bits_);
      j["purpose"] = name_of(vocabulary_.lookup_purposes, e.detail);
      break;
    case TraceKind::LookupHop:
      j["lookup"] = e.lookup;
      j["from"] = peer_id(e.peer);
      j["to"] = peer_id(e.other);
      j["hop"] = e.index;
      // Kinds other than the protocol's first (a duplicate, an answer, a timeout) are named.
      if (e.detail != 0) j["hop_kind"] = name_of(vocabulary_.hop_kinds, e.detail);
      break;
    case TraceKind::LookupDone:
      j["lookup"] = e.lookup;
      j["peer"] = peer_id(e.peer);
      j["owner"] = peer_id(e.other);
      j["ok"] = e.detail != 0;
      j["hops"] = e.index;
      break;
  }
  *jsonl_ << j.dump() << '\n';
}

}  // namespace p2plab
