// The central index: every rule of the protocol is here. See README.md.
#include "central_index.hpp"

#include <algorithm>

#include "p2plab/json_util.hpp"

namespace p2plab::central_index {

const char* to_string(MsgType type) {
  static const char* const names[] = {"REGISTER", "UNREGISTER",  "SEARCH",   "SEARCH_RESULT",
                                      "DOWNLOAD", "DOWNLOAD_OK", "KEEPALIVE"};
  const auto i = static_cast<std::size_t>(type);
  return i < std::size(names) ? names[i] : "?";
}

Params Protocol::parse_params(const Scenario& scenario) {
  Params p;
  if (!scenario.doc.contains("params")) return p;
  const JsonObject o(scenario.doc.at("params"), scenario.file, "params");
  o.only_keys({"server", "timeout_ms", "keepalive_ms"});
  if (o.has("server")) {
    p.server = static_cast<std::uint64_t>(o.get_int("server", 0, INT64_MAX));
    p.server_given = true;
  }
  p.timeout = from_ms(o.get_number("timeout_ms", 2000.0, 1.0, 1e9));
  p.keepalive = from_ms(o.get_number("keepalive_ms", 10000.0, 0.0, 1e9));
  return p;
}

Protocol::Protocol(Params params, Transport<Message>& transport, search::Context context)
    : SearchProtocol(params, transport, context) {}

nlohmann::json Protocol::params_json() const {
  return {
      {"server", params_.server}, {"timeout_ms", to_ms(params_.timeout)}, {"keepalive_ms", to_ms(params_.keepalive)}};
}

std::string Protocol::set_param(const std::string& name, double value) {
  if (name == "timeout_ms" && value >= 1) {
    params_.timeout = from_ms(value);
  } else {
    return "cannot be changed during a run (this can: timeout_ms)";
  }
  return "";
}

TraceVocabulary Protocol::vocabulary() const {
  TraceVocabulary v = vocabulary_with({"search_timeout", "download_timeout", "keepalive", "sweep"});
  // The query's way to the index server, its answer, the download. Nothing is flooded, so no
  // duplicates (the views word a search's header by the hop styles a protocol has).
  search::describe_hops(v, false, "search result");
  return v;
}

void Protocol::bootstrap(const std::vector<PeerIndex>& peers) {
  // The server is the peer with the configured id (by default the first one). At time 0 it
  // already holds every peer's file list, as if all had registered.
  for (PeerIndex p : peers) {
    if (server_ == kNoPeer && (!params_.server_given || transport_.id_of(p) == Id(params_.server))) server_ = p;
  }
  if (server_ == kNoPeer) server_ = peers.front();
  for (NameIndex n : (*context_.shared)[server_]) index_add(server_, n);  // the server shares too
  for (PeerIndex p : peers) {
    if (p == server_) continue;
    for (NameIndex n : (*context_.shared)[p]) index_add(p, n);
    last_seen_[p] = transport_.now();
    start_keepalive(p, kKeepalive);
  }
  if (params_.keepalive > 0) transport_.set_timer(server_, params_.keepalive, kSweep, 0);
}

void Protocol::join(PeerIndex peer, PeerIndex via) {
  (void)via;  // every peer knows the server's address
  if (server_ == kNoPeer) {
    // The first peer to come up is the server unless the scenario names another.
    if (!params_.server_given || transport_.id_of(peer) == Id(params_.server)) {
      server_ = peer;
      for (NameIndex n : (*context_.shared)[server_]) index_add(server_, n);
      if (params_.keepalive > 0) transport_.set_timer(server_, params_.keepalive, kSweep, 0);
      return;
    }
  }
  if (peer == server_ || server_ == kNoPeer) return;
  for (NameIndex n : (*context_.shared)[peer]) {
    Message m;
    m.type = MsgType::Register;
    m.name = n;
    send(peer, server_, m);
  }
  start_keepalive(peer, kKeepalive);
}

void Protocol::leave(PeerIndex peer) {
  if (peer == server_) return;  // the server leaving is the end of the service
  Message m;
  m.type = MsgType::Unregister;
  send(peer, server_, m);
}

void Protocol::index_remove_peer(PeerIndex peer) {
  logic::unregister_peer(index_, peer);
  last_seen_.erase(peer);
}

void Protocol::search(PeerIndex from, NameIndex name, QueryIndex q, int ttl) {
  (void)ttl;  // one request to the server: nothing to limit
  downloads_.open(q);
  Message m;
  m.type = MsgType::Search;
  m.name = name;
  m.query = q;
  send(from, server_, m, q);
  transport_.set_timer(from, params_.timeout, kSearchTimeout, q);
}

void Protocol::try_download(PeerIndex self, QueryIndex q) { download_from_current(self, q, kDownloadTimeout); }

void Protocol::on_message(PeerIndex self, PeerIndex from, const Message& msg) {
  switch (msg.type) {
    case MsgType::Register:
      if (self == server_) {
        const auto files = index_.files_of.find(from);
        if (files != index_.files_of.end() && files->second.size() >= kMaxNamesPerProvider &&
            files->second.count(msg.name) == 0) {
          return;  // one provider cannot fill the index (a forged flood of names)
        }
        index_add(from, msg.name);
        last_seen_[from] = transport_.now();
      }
      return;
    case MsgType::Unregister:
      if (self == server_) {
        index_remove_peer(from);
      } else if (from == server_) {
        // The server does not know this peer (it restarted, or swept it as silent): register
        // every shared file again.
        for (NameIndex n : (*context_.shared)[self]) {
          Message m;
          m.type = MsgType::Register;
          m.name = n;
          send(self, server_, m);
        }
      }
      return;
    case MsgType::Keepalive:
      if (self != server_) return;
      if (index_.files_of.count(from) == 0 && last_seen_.count(from) == 0) {
        // A keepalive from a peer the server does not know (the server restarted, or swept the
        // peer as silent): "I do not know you" (an UNREGISTER back), and it registers again.
        Message m;
        m.type = MsgType::Unregister;
        send(self, from, m);
      }
      last_seen_[from] = transport_.now();
      return;
    case MsgType::Search: {
      if (self != server_) return;
      context_.log->reached(msg.query, self);
      context_.log->hop(msg.query, from, self, 1, false, transport_.now());
      // Every provider of every name that matches the keywords: the full list, in parts.
      std::vector<PeerIndex> providers = logic::search(index_, *context_.catalogue, msg.name);
      // Student code may return anything: only peers, each once, ascending.
      const auto peers = static_cast<PeerIndex>(context_.shared->size());
      providers.erase(std::remove_if(providers.begin(), providers.end(), [peers](PeerIndex p) { return p >= peers; }),
                      providers.end());
      std::sort(providers.begin(), providers.end());
      providers.erase(std::unique(providers.begin(), providers.end()), providers.end());
      Message reply;
      reply.type = MsgType::SearchResult;
      reply.query = msg.query;
      auto it = providers.begin();
      do {
        reply.count = 0;
        while (it != providers.end() && reply.count < kProvidersPerMessage) reply.providers[reply.count++] = *it++;
        reply.flag = it == providers.end() ? 1 : 0;
        send(self, from, reply, msg.query);
      } while (it != providers.end());
      return;
    }
    case MsgType::SearchResult: {
      if (!downloads_.active(msg.query) || !downloads_.collecting(msg.query)) return;
      if (msg.flag != 0) context_.log->hop(msg.query, from, self, 1, false, transport_.now(), search::kAnswerHop);
      for (int i = 0; i < msg.count; ++i) {
        downloads_.add(msg.query, {1, msg.providers[i], kNoPeer});
        context_.log->hit(msg.query, msg.providers[i], 1);
      }
      if (msg.flag != 0) {  // the last part of the list
        downloads_.stop_collecting(msg.query);
        try_download(self, msg.query);
      }
      return;
    }
    case MsgType::Download:
      context_.log->reached(msg.query, self);
      answer_download(self, from, msg.query);
      return;
    case MsgType::DownloadOk: {
      download_done(msg.query, from, kNoPeer);
      return;
    }
    case MsgType::Count:
      return;
  }
}

void Protocol::on_timer(PeerIndex self, std::uint16_t kind, std::uint32_t cookie) {
  switch (kind) {
    case kSearchTimeout:
      if (!downloads_.active(cookie) || !downloads_.collecting(cookie)) return;
      give_up(cookie);  // the server did not answer: the search fails
      return;
    case kDownloadTimeout:
      if (!downloads_.active(cookie)) return;
      downloads_.skip(cookie);  // that provider is gone: try the next one
      try_download(self, cookie);
      return;
    case kKeepalive: {
      Message m;
      m.type = MsgType::Keepalive;
      send(self, server_, m);
      transport_.set_timer(self, params_.keepalive, kKeepalive, 0);
      return;
    }
    case kSweep: {
      // Peers not heard from for three keepalive periods have crashed: forget their files.
      const SimTime cutoff = transport_.now() - 3 * params_.keepalive;
      std::vector<PeerIndex> silent;
      for (const auto& [peer, seen] : last_seen_) {
        if (seen < cutoff) silent.push_back(peer);
      }
      for (PeerIndex p : silent) index_remove_peer(p);
      transport_.set_timer(self, params_.keepalive, kSweep, 0);
      return;
    }
    default:
      return;
  }
}

void Protocol::mark_peers_in_use(PeerIndex self, std::vector<std::uint8_t>& mark) const {
  auto use = [&](PeerIndex p) {
    if (p < mark.size()) mark[p] = 1;
  };
  use(server_);
  downloads_.mark_providers(mark);
  if (self != server_) return;
  const SimTime cutoff = params_.keepalive > 0 ? transport_.now() - 3 * params_.keepalive : SimTime{-1};
  for (const auto& [peer, seen] : last_seen_) {
    if (params_.keepalive <= 0 || seen >= cutoff) use(peer);
  }
}

void Protocol::mark_names_in_use(std::vector<std::uint8_t>& used) const {
  for (const auto& entry : index_.providers) {
    if (entry.first < used.size()) used[entry.first] = 1;
  }
}

void Protocol::rename_names(const std::vector<NameIndex>& renamed) {
  auto rename = [&](NameIndex n) { return n < renamed.size() ? renamed[n] : search::kNoName; };
  Index index;
  for (const auto& [name, peers] : index_.providers) {
    if (rename(name) != search::kNoName) index.providers[rename(name)] = peers;
  }
  for (const auto& [peer, names] : index_.files_of) {
    for (NameIndex n : names) {
      if (rename(n) != search::kNoName) index.files_of[peer].insert(rename(n));
    }
  }
  index_ = std::move(index);
}

std::set<PeerIndex> Protocol::indexed_providers(NameIndex name) const {
  std::set<PeerIndex> out;
  for (const auto& [n, peers] : index_.providers) {
    if (context_.catalogue->matches(name, n)) out.insert(peers.begin(), peers.end());
  }
  return out;
}

std::vector<PeerIndex> Protocol::neighbors(PeerIndex p) const {
  if (p != server_) return {server_};
  std::vector<PeerIndex> out;
  for (const auto& entry : index_.files_of) {
    if (entry.first < context_.shared->size()) out.push_back(entry.first);  // (student code may store anything)
  }
  return out;
}

std::size_t Protocol::state_entries(PeerIndex p) const {
  if (p != server_) return 1;  // the server's address
  std::size_t entries = 0;
  for (const auto& entry : index_.providers) entries += entry.second.size();
  return entries + last_seen_.size();
}

PeerView Protocol::inspect_links(PeerIndex p) const {
  PeerView v;
  v.role = p == server_ ? kServerRole : kPeerRole;
  const std::uint8_t kind = p == server_ ? kClientLink : kServerLink;
  for (PeerIndex n : neighbors(p)) v.links.push_back({kind, 0, n});
  return v;
}

PeerView Protocol::inspect(PeerIndex p) const {
  PeerView v = inspect_links(p);
  if (p == server_) {
    TableView t;
    t.title = "Index (name -> providers)";
    t.help = "The server's index: every shared file name and the peers that registered it.";
    t.columns = {"name", "providers"};
    for (const auto& [name, peers] : index_.providers) {
      std::string list;
      for (PeerIndex q : peers) {
        if (q < context_.shared->size()) list += (list.empty() ? "" : ", ") + transport_.id_of(q).to_decimal();
      }
      t.rows.push_back({{Cell::of_text(context_.catalogue->name(name)), Cell::of_text(list)}, -1});
      if (t.rows.size() >= 200) break;
    }
    v.tables.push_back(std::move(t));
  }
  TableView files;
  files.title = "Shared files";
  files.columns = {"name"};
  for (NameIndex n : (*context_.shared)[p]) files.rows.push_back({{Cell::of_text(context_.catalogue->name(n))}, -1});
  v.tables.push_back(std::move(files));
  return v;
}

}  // namespace p2plab::central_index
