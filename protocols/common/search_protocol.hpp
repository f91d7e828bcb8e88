#pragma once
// The base of every unstructured search protocol (central index, flooding, superpeer): what each
// holds the same way (its parameters, transport, bench context and the requester's downloads),
// how it sends (every message counted against its query), its trace vocabulary, and the
// requester's download steps. The protocol's own rules stay in its folder.
#include <string>
#include <utility>
#include <vector>

#include "common/downloads.hpp"
#include "common/search.hpp"
#include "p2plab/json_util.hpp"
#include "p2plab/trace.hpp"
#include "p2plab/transport.hpp"

namespace p2plab::search {

/// Message: has a `type` (an enum with a `Count` and a `to_string`), a `query` and a `flag`.
/// Params: the protocol's parameters, with a `timeout` (the download answer time).
template <class Message, class Params>
class SearchProtocol : public MessageHandler<Message> {
 protected:
  using MsgType = decltype(Message{}.type);

  SearchProtocol(Params params, Transport<Message>& transport, Context context)
      : params_(std::move(params)), transport_(transport), context_(context) {}

  /// Sends a message and counts it against query q (kNoQuery: counted against none).
  void send(PeerIndex from, PeerIndex to, const Message& msg, QueryIndex q = kNoQuery) {
    context_.log->message(q);
    transport_.send(from, to, msg);
  }

  /// The message names (every MsgType, in order) and the given timer kinds.
  static TraceVocabulary vocabulary_with(std::vector<std::string> timer_kinds) {
    TraceVocabulary v;
    v.message_types = enum_names<MsgType>();
    v.timer_kinds = std::move(timer_kinds);
    return v;
  }

  /// The query ends without a download (no provider delivered, or no answer came).
  void give_up(QueryIndex q) {
    downloads_.finish(q);
    context_.log->finish(q, transport_.now());
  }

  /// Asks the current candidate provider of q for the file, directly, and waits `params_.timeout`
  /// (timer `timeout_kind`, cookie q) before trying the next; gives up when none is left.
  void download_from_current(PeerIndex self, QueryIndex q, std::uint16_t timeout_kind) {
    const Downloads::Candidate* c = downloads_.current(q);
    if (c == nullptr) {
      give_up(q);
      return;
    }
    Message m;
    m.type = MsgType::Download;
    m.query = q;
    send(self, c->provider, m, q);
    transport_.set_timer(self, params_.timeout, timeout_kind, q);
  }

  /// A provider answers a DOWNLOAD of q: the file (DOWNLOAD_OK) straight back to the requester.
  void answer_download(PeerIndex self, PeerIndex requester, QueryIndex q) {
    Message reply;
    reply.type = MsgType::DownloadOk;
    reply.query = q;
    send(self, requester, reply, q);
  }

  /// Starts p's keepalive timer (`kind`, cookie 0) at a random point of its first period, so
  /// that peers started together do not all check at once; none when keepalive is 0.
  void start_keepalive(PeerIndex p, std::uint16_t kind) {
    if (params_.keepalive <= 0) return;
    Rng& rng = transport_.rng(p);
    transport_.set_timer(p, 1 + static_cast<SimTime>(rng.below(static_cast<std::uint64_t>(params_.keepalive))), kind,
                         0);
  }

  /// A provider's DOWNLOAD_OK reached the requester: q is done (a late or repeated one is ignored).
  /// `relay` is the superpeer the transfer went through, or kNoPeer.
  void download_done(QueryIndex q, PeerIndex provider, PeerIndex relay) {
    if (!downloads_.active(q)) return;
    downloads_.finish(q);
    context_.log->downloaded(q, provider, relay, transport_.now());
    context_.log->finish(q, transport_.now());
  }

  /// Reads the times of a query-flooding protocol's scenario `params` (after its own, so that
  /// errors are reported in the order of its keys): collect_ms, timeout_ms, keepalive_ms.
  static void read_times(const JsonObject& o, Params& p) {
    p.collect = from_ms(o.get_number("collect_ms", 3000.0, 1.0, 1e9));
    p.timeout = from_ms(o.get_number("timeout_ms", 1000.0, 1.0, 1e9));
    p.keepalive = from_ms(o.get_number("keepalive_ms", 5000.0, 0.0, 1e9));
  }
  /// Those times as they are now, for params_json (a JSON object orders its keys itself).
  nlohmann::json times_json() const {
    return {{"collect_ms", to_ms(params_.collect)},
            {"timeout_ms", to_ms(params_.timeout)},
            {"keepalive_ms", to_ms(params_.keepalive)}};
  }

  /// The parameters a query-flooding protocol lets a run change: its `ttl` and `collect` time.
  std::string set_ttl_or_collect(const std::string& name, double value) {
    if (name == "ttl" && value >= 1 && value <= 255) {
      params_.ttl = static_cast<int>(value);
    } else if (name == "collect_ms" && value >= 1) {
      params_.collect = from_ms(value);
    } else {
      return "cannot be changed during a run (these can: ttl 1..255, collect_ms)";
    }
    return "";
  }

  Params params_;
  Transport<Message>& transport_;
  Context context_;
  Downloads downloads_;  // the requester's side of its queries
};

}  // namespace p2plab::search
