#pragma once
// The engine's typed event trace: what the visualizer animates and what tests assert on.
// Every trace source is named and documented here (in the manner of ns-3's trace sources).
#include <algorithm>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "p2plab/id.hpp"
#include "p2plab/peer_array.hpp"
#include "p2plab/peer_record.hpp"
#include "p2plab/types.hpp"

namespace p2plab {

enum class TraceKind : std::uint8_t {
  Send,         ///< peer sends a message to other; detail = message type; until = when it
                ///< arrives (the latency the engine drew), -1 for a message the network loses
  Deliver,      ///< the message reaches other (peer = sender); detail = message type
  Drop,         ///< the message is lost; detail = message type, index = DropReason
  Timer,        ///< a protocol timer fires at peer; detail = timer kind
  Join,         ///< peer comes up (joins the network)
  Leave,        ///< peer leaves gracefully
  Fail,         ///< peer crashes (no goodbye)
  StateChange,  ///< peer's routing state changed: detail = state field, index = entry, other = new value
  LookupStart,  ///< peer starts lookup `lookup` for key; detail = purpose (protocol-defined)
  LookupHop,    ///< lookup `lookup` moves from peer to other; index = hop number (1 = first);
                ///< detail = the protocol's hop kind (TraceVocabulary::hop_kinds, hop_styles)
  LookupDone,   ///< lookup ends at requester peer; other = the owner found; detail = 1 if correct
};
const char* to_string(TraceKind kind);

enum class DropReason : std::uint8_t { Loss = 0, DeadTarget = 1 };
const char* to_string(DropReason reason);

struct TraceEvent {
  SimTime time = 0;
  TraceKind kind = TraceKind::Send;
  std::uint8_t detail = 0;
  std::uint16_t index = 0;
  PeerIndex peer = kNoPeer;
  PeerIndex other = kNoPeer;
  std::uint32_t lookup = 0;
  Id key;
  SimTime until = -1;  ///< Send: when the message arrives (-1: lost on the way); other kinds: -1
};

/// How a view draws the hops of a search that the trace reports (the detail of a LookupHop).
enum class HopStyle : std::uint8_t {
  Forward,    ///< the search moves on to the next peer
  Duplicate,  ///< a copy that arrives where the search already was, and is dropped
  Transfer,   ///< a leg of a data transfer after the search (a download, or relayed by a superpeer)
  Answer,     ///< the answer travelling back toward the requester (a QUERYHIT on the reverse path)
  Timeout,    ///< a request that got no answer in time (its receiver is presumed dead): the
              ///< requester retries another way
};

/// Names a protocol gives to the numbers in its trace events (message types, timer kinds, state
/// fields), so that the trace can be written and shown in the lecture's words.
struct TraceVocabulary {
  std::vector<std::string> message_types;
  std::vector<std::string> timer_kinds;
  std::vector<std::string> state_fields;
  std::vector<std::string> lookup_purposes;
  /// LookupHop's detail: its name ("forward", "duplicate", "relay leg") and how views draw it.
  std::vector<std::string> hop_kinds;
  std::vector<HopStyle> hop_styles;
  /// The purpose of the searches a user starts: the ones views animate and counters count.
  std::uint8_t user_purpose = 0;
  /// Further purposes of searches a user's operation starts (the lookup of a put or a get): views
  /// animate and count them as well, named by lookup_purposes.
  std::vector<std::uint8_t> also_user_purposes;
  /// Purposes of searches that do not approach their key hop by hop (a fetch's blocks come from
  /// wherever its providers are): views chart no distance to the key for them.
  std::vector<std::uint8_t> unrouted_purposes;
  bool routes_to_key(std::uint8_t purpose) const {
    return std::find(unrouted_purposes.begin(), unrouted_purposes.end(), purpose) == unrouted_purposes.end();
  }
  bool is_user_purpose(std::uint8_t purpose) const {
    return purpose == user_purpose ||
           std::find(also_user_purposes.begin(), also_user_purposes.end(), purpose) != also_user_purposes.end();
  }
};

/// The names of an enum's values 0 .. Enum::Count - 1, by its to_string (found by argument-
/// dependent lookup in the protocol's namespace): a vocabulary's message types and timer kinds.
template <class Enum>
std::vector<std::string> enum_names() {
  std::vector<std::string> names;
  for (int i = 0; i < static_cast<int>(Enum::Count); ++i) names.emplace_back(to_string(static_cast<Enum>(i)));
  return names;
}

/// Where trace events go. Off by default: a disabled trace costs one branch per event.
class Trace {
 public:
  bool enabled() const { return keep_in_memory_ || jsonl_ != nullptr; }
  void keep_in_memory(bool on) { keep_in_memory_ = on; }
  /// Also write every event as one JSON object per line (JSON Lines) to `out`.
  void write_jsonl(std::ostream* out, TraceVocabulary vocabulary, const PeerRecords* peers, int id_bits);
  void record(const TraceEvent& e);
  const std::vector<TraceEvent>& events() const { return events_; }
  void clear() { events_.clear(); }

 private:
  bool keep_in_memory_ = false;
  std::vector<TraceEvent> events_;
  std::ostream* jsonl_ = nullptr;
  TraceVocabulary vocabulary_;
  const PeerRecords* peers_ = nullptr;  // the simulator's (it may grow after write_jsonl)
  int id_bits_ = 160;
};

}  // namespace p2plab
