#include "ipfs_run.hpp"

#include <algorithm>
#include <set>

#include "common/dht_results.hpp"
#include "dag_tree.hpp"
#include "kademlia_run.hpp"

namespace p2plab::ipfs {

namespace {

constexpr std::int64_t kMaxFileSize = std::int64_t{64} << 20;  // 64 MiB: a file's bytes stay in memory
constexpr const char* kKademliaParams[] = {"m",
                                           "k",
                                           "alpha",
                                           "replacements",
                                           "stale_after",
                                           "rpc_timeout_ms",
                                           "round_timeout_ms",
                                           "ping_after_ms",
                                           "refresh_ms",
                                           "republish_ms",
                                           "republish_original_ms",
                                           "expire_ms",
                                           "provider_expire_ms",
                                           "provider_republish_ms",
                                           "cache",
                                           "maintenance"};

bool is_kademlia_param(const std::string& key) {
  return std::any_of(std::begin(kKademliaParams), std::end(kKademliaParams), [&](const char* k) { return key == k; });
}

/// The bytes of a generated file: `size` bytes from the stream of `seed` (the same seed, the same
/// bytes, on any peer and in any run).
Bytes generated_content(std::uint64_t seed, std::size_t size) {
  Rng rng = Rng::derive(seed, 0x66696c65);  // "file"
  Bytes out(size, '\0');
  for (std::size_t i = 0; i < size; i += 8) {
    std::uint64_t word = rng.next_u64();
    for (std::size_t j = i; j < std::min(size, i + 8); ++j, word >>= 8) out[j] = static_cast<char>(word & 0xff);
  }
  return out;
}

const char* kind_name(DagNode::Kind kind, bool root) {
  if (root) return "root";
  switch (kind) {
    case DagNode::Kind::RawLeaf:
      return "raw leaf";
    case DagNode::Kind::FileLeaf:
      return "leaf";
    case DagNode::Kind::File:
      return "node";
    case DagNode::Kind::Directory:
      return "directory";
    case DagNode::Kind::Other:
      break;
  }
  return "other";
}

}  // namespace

kademlia::Params parse_params(const Scenario& scenario, BitswapParams& bitswap) {
  bitswap = BitswapParams{};
  if (!scenario.doc.contains("params")) return kademlia::Params{};
  const JsonObject params(scenario.doc.at("params"), scenario.file, "params");
  // Kademlia's own parameters go to its parser (which names a bad one); the rest are IPFS's.
  Scenario kad = scenario;
  nlohmann::json kad_params = nlohmann::json::object();
  for (const auto& [key, value] : scenario.doc.at("params").items()) {
    if (is_kademlia_param(key)) {
      kad_params[key] = value;
    } else if (key != "block_timeout_ms" && key != "upload_mbps") {
      params.fail(key, "unknown parameter (IPFS takes Kademlia's parameters, block_timeout_ms and upload_mbps)");
    }
  }
  kad.doc["params"] = kad_params;
  bitswap.block_timeout = from_ms(params.get_number("block_timeout_ms", 3000, 1, 1e9));
  bitswap.upload_mbps = params.get_number("upload_mbps", 0, 0, 1e6);
  return kademlia::parse_params(kad);
}

IpfsRun::IpfsRun(const Scenario& scenario)
    : scenario_(scenario),
      params_(parse_params(scenario_, bitswap_)),
      sim_(scenario.seed, scenario.network),
      node_(params_, sim_, blocks_, bitswap_),
      driver_(scenario_,
              {.protocol = "ipfs",
               .id_bits = params_.m,
               .address_port = 4001,  // kubo's swarm port
               .settable = {{"alpha", true, kademlia::kMaxK}, {"rpc_timeout_ms"}},
               .extra_ops = {{"add",
                              {"name", "size", "content", "seed", "change_byte", "profile", "cid_version", "raw_leaves",
                               "chunk_size", "max_links", "provide"}},
                             {"provide", {"cid", "file"}},
                             {"find_providers", {"cid", "file"}},
                             {"fetch", {"cid", "file", "provide"}},
                             {"corrupt", {}},
                             {"find_peer", {"peer"}}}},
              sim_, *this) {
  sim_.set_handler(&node_);
  node_.dht().set_oracle([this](PeerIndex from, const Id& key, const std::vector<PeerIndex>& closest) {
    return closest == kademlia::true_closest_live(sim_.live_by_id(), params_.m, key,
                                                  static_cast<std::size_t>(params_.k), from, sim_.peer_id(from));
  });
  node_.dht().set_providers_oracle([this](PeerIndex, const Id& key, const std::vector<PeerIndex>& found) {
    return kademlia::check_providers(node_.dht(), sim_, key, found);
  });
  node_.set_on_fetch_done([this](const FetchRecord& f) { on_fetch_done(f); });
  node_.set_on_lookup([this](const kademlia::LookupRecord& r) {
    const auto it = peer_query_of_lookup_.find(r.serial);
    if (it == peer_query_of_lookup_.end()) return;
    PeerQuery& q = peer_queries_[it->second];
    q.done = true;
    q.end = r.end;
    q.rounds = r.rounds;
    // kad-dht's peer routing: FIND_NODE for the peer's id; the peer answers among the closest
    // with its own contact (id and address) when it is up.
    q.found = std::find(r.closest.begin(), r.closest.end(), q.target) != r.closest.end();
  });
}

IpfsRun::~IpfsRun() = default;

TraceVocabulary IpfsRun::vocabulary() const {
  TraceVocabulary v;
  v.message_types = enum_names<kademlia::MsgType>();  // kKademliaTypes of them, then Bitswap's
  for (int i = kKademliaTypes; i < static_cast<int>(BitswapType::End); ++i)
    v.message_types.emplace_back(to_string(static_cast<BitswapType>(i)));
  v.timer_kinds = enum_names<kademlia::TimerKind>();
  v.timer_kinds.emplace_back("block_timeout");  // kBlockTimeout
  v.timer_kinds.emplace_back("block_sent");     // kBlockSent
  v.state_fields = {"bucket"};
  for (int p = 0; p < kFetchPurpose; ++p) v.lookup_purposes.emplace_back(to_string(static_cast<kademlia::Purpose>(p)));
  v.lookup_purposes.emplace_back("fetch");
  // In the order of kademlia::kQueryHop, kTimeoutHop, kBlockHop, kCorruptHop. A block is a step of
  // its fetch (index: the how-manieth block to arrive), drawn from the provider to the fetcher as
  // the searches' arcs are; a rejected (corrupted) block as a failed step, dashed and crossed
  // out, the way a query that got no answer is: the fetcher asks elsewhere in both cases.
  v.hop_kinds = {"query", "timeout", "block", "corrupted block"};
  v.unrouted_purposes = {static_cast<std::uint8_t>(kFetchPurpose)};
  v.hop_styles = {HopStyle::Forward, HopStyle::Timeout, HopStyle::Forward, HopStyle::Timeout};
  v.user_purpose = kFetchPurpose;
  v.also_user_purposes = {static_cast<std::uint8_t>(kademlia::Purpose::User),
                          static_cast<std::uint8_t>(kademlia::Purpose::Provide),
                          static_cast<std::uint8_t>(kademlia::Purpose::FindProviders)};
  return v;
}

// ---- peers and the common ops ---------------------------------------------------------------------

void IpfsRun::start_peer(PeerIndex peer, PeerIndex via) { kademlia::start_node(node_.dht(), peer, via); }

void IpfsRun::start_converged_peer(PeerIndex peer) {
  node_.dht().install_oracle_table(peer, sim_.live_by_id());
  node_.dht().start_maintenance(peer);
}

void IpfsRun::put(PeerIndex from, const Id& key, const std::string& value) {
  auto it = std::find(values_.begin(), values_.end(), value);
  if (it == values_.end()) it = values_.insert(values_.end(), value);
  node_.dht().put(from, key, static_cast<std::uint32_t>(it - values_.begin()));
}

void IpfsRun::set_param(const std::string& name, double value, const std::string& field) {
  const std::string warning = kademlia::set_run_param(node_.dht().mutable_params(), name, value);
  if (!warning.empty()) driver_.warn(field + ": " + warning);
  params_ = node_.dht().params();
}

// ---- IPFS's ops -----------------------------------------------------------------------------------

Id IpfsRun::dht_key(std::uint32_t cid) const {
  return kademlia::key_from_digest(kademlia_identifier(blocks_.cid(cid)), params_.m);
}

std::size_t IpfsRun::read_add(const JsonObject& op) {
  AddedFile f;
  f.field = op.path();
  f.name = op.get_string("name", "file-" + std::to_string(files_.size() + 1));
  for (const AddedFile& other : files_) {
    if (other.name == f.name) op.fail("name", "\"" + f.name + "\" already names the file of " + other.field);
  }
  if (op.has("content") == op.has("size")) {
    op.fail("size", "give exactly one of \"size\" (bytes made from \"seed\") or \"content\" (the text itself)");
  }
  if (op.has("content")) {
    if (op.has("seed")) op.fail("seed", "only with \"size\" (\"content\" is the file itself)");
    f.content = op.get_string("content");
  } else {
    const auto size = op.get_int("size", 0, kMaxFileSize);
    const auto seed = op.get_int("seed", static_cast<std::int64_t>(scenario_.seed & 0x7fffffffffffffffULL), 0,
                                 std::numeric_limits<std::int64_t>::max());
    f.content = generated_content(static_cast<std::uint64_t>(seed), static_cast<std::size_t>(size));
  }
  if (op.has("change_byte")) {
    if (f.content.empty()) op.fail("change_byte", "the file is empty: there is no byte to change");
    const auto at =
        static_cast<std::size_t>(op.get_int("change_byte", 0, static_cast<std::int64_t>(f.content.size()) - 1));
    f.content[at] = static_cast<char>(f.content[at] ^ 0x01);  // one bit of one byte
  }
  try {
    f.options = ImportOptions::profile(op.get_string("profile", "unixfs-v0-2015"));
  } catch (const FormatError& e) {
    op.fail("profile", e.what());
  }
  f.options.cid_version = static_cast<int>(op.get_int("cid_version", f.options.cid_version, 0, 1));
  f.options.raw_leaves = op.get_bool("raw_leaves", f.options.raw_leaves);
  f.options.chunk_size = static_cast<std::size_t>(op.get_int(
      "chunk_size", static_cast<std::int64_t>(f.options.chunk_size), 1, static_cast<std::int64_t>(kMaxChunkSize)));
  f.options.max_links = static_cast<std::size_t>(
      op.get_int("max_links", static_cast<std::int64_t>(f.options.max_links), 2, static_cast<std::int64_t>(kMaxLinks)));
  std::vector<std::pair<Cid, Bytes>> made;
  std::set<Cid> distinct;
  DagBuilder builder(f.options, [&](const Cid& cid, std::string_view block) {
    if (distinct.insert(cid).second) made.emplace_back(cid, Bytes(block));
  });
  try {
    f.options.check();
    const Cid root = builder.add_bytes(f.content);
    f.root = blocks_.intern(root);
  } catch (const ExerciseError& e) {
    // The exercise's code (ipfs-cid) gave no valid DAG: this add is refused and said so, the run
    // goes on (a lab on the untouched stubs runs, its adds and fetches failing with the reason).
    f.error = e.what();
    driver_.warn(f.field + ": " + f.name + " is not added: " + f.error);
    files_.push_back(std::move(f));
    return files_.size() - 1;
  } catch (const FormatError& e) {
    op.fail("chunk_size", e.what());
  }
  // Root first, then as the builder made them from the top: parents before their children.
  std::reverse(made.begin(), made.end());
  for (auto& [cid, bytes] : made) {
    const std::uint32_t index = blocks_.intern(cid);
    f.blocks.emplace_back(index, blocks_.add_block(index, std::move(bytes)));
    if (const auto node = builder.node(cid)) f.nodes.push_back(*node);
  }
  f.chunks = builder.chunks();
  // Depth: every leaf of the balanced layout is at the same depth; follow the first links.
  for (std::optional<DagNode> n = builder.node(blocks_.cid(f.root)); n && !n->links.empty();
       n = builder.node(n->links.front().cid)) {
    ++f.depth;
  }
  files_.push_back(std::move(f));
  return files_.size() - 1;
}

std::uint32_t IpfsRun::read_root(const JsonObject& op, IpfsOp& out) {
  if (op.has("cid") && op.has("file")) op.fail("file", "give either cid or file, not both");
  if (op.has("file")) {
    const std::string name = op.get_string("file");
    for (std::size_t i = 0; i < files_.size(); ++i) {
      if (files_[i].name != name) continue;
      out.file = i;
      return files_[i].root;
    }
    std::string names;
    for (const AddedFile& f : files_) names += (names.empty() ? "" : ", ") + f.name;
    op.fail("file", "no file \"" + name + "\" was added by an earlier event" +
                        (names.empty() ? std::string() : " (added: " + names + ")"));
  }
  if (!op.has("cid")) op.fail("cid", "missing (give \"cid\": a CID's text, or \"file\": the name of an added file)");
  try {
    const std::uint32_t cid = blocks_.intern(parse_cid(op.get_string("cid")));
    for (std::size_t i = 0; i < files_.size(); ++i) {
      if (files_[i].root == cid) out.file = i;
    }
    return cid;
  } catch (const FormatError& e) {
    op.fail("cid", std::string("not a CID: ") + e.what());
  }
}

Id IpfsRun::read_extra_op(const std::string& name, const JsonObject& op) {
  IpfsOp parsed;
  parsed.name = name;
  if (name == "add") {
    parsed.file = read_add(op);
    parsed.cid = files_[*parsed.file].root;
    parsed.provide = op.get_bool("provide", true);
  } else if (name == "provide" || name == "find_providers" || name == "fetch") {
    parsed.cid = read_root(op, parsed);
    parsed.provide = op.get_bool("provide", false);
  } else if (name == "find_peer") {
    parsed.peer = op.get_id("peer", params_.m);  // a peer that never existed: a warning when it runs
  }
  ops_.push_back(parsed);
  return Id(ops_.size() - 1);  // a handle: extra_op finds the op by it
}

void IpfsRun::extra_op(const std::string& name, PeerIndex from, const Id& handle) {
  const IpfsOp& op = ops_[static_cast<std::size_t>(handle.limb[0])];
  (void)name;
  if (op.file && !files_[*op.file].error.empty()) {
    const AddedFile& f = files_[*op.file];
    driver_.warn(op.name + " of " + f.name + " by peer " + sim_.peer_id(from).to_decimal() + " skipped: " + f.name +
                 " could not be added (" + f.error + ")");
    return;
  }
  if (op.name == "add") {
    const AddedFile& f = files_[*op.file];
    AddRecord a{sim_.now(), from, *op.file};
    // The peer's block store is keyed by CID: a block it already holds (another file's chunk
    // with the same bytes) is stored once.
    for (const auto& [cid, payload] : f.blocks) {
      if (node_.store(from, cid, payload)) {
        ++a.new_blocks;
        a.new_bytes += blocks_.payload(payload).size();
      } else {
        ++a.held_blocks;
      }
    }
    adds_.push_back(a);
    if (op.provide) node_.dht().provide(from, dht_key(f.root));
  } else if (op.name == "provide") {
    if (!node_.has(from, op.cid)) {
      driver_.warn("provide: peer " + sim_.peer_id(from).to_decimal() + " announces " + short_cid(op.cid) +
                   " without holding it");
    }
    node_.dht().provide(from, dht_key(op.cid));
  } else if (op.name == "find_providers") {
    node_.dht().find_providers(from, dht_key(op.cid));
  } else if (op.name == "fetch") {
    fetch_provides_.push_back(op.provide);
    fetch_stats_.started();
    node_.fetch(from, op.cid);
  } else if (op.name == "corrupt") {
    node_.set_corrupt(from);
  } else if (op.name == "find_peer") {
    PeerQuery q;
    q.from = from;
    q.target = driver_.peer_by_id(op.peer);
    if (q.target == kNoPeer) {
      driver_.warn("find_peer: no peer with id " + op.peer.to_decimal() + " has existed; skipped");
      return;
    }
    q.start = sim_.now();
    peer_queries_.push_back(q);
    const std::uint32_t lookup = node_.dht().lookup(from, op.peer);
    peer_queries_.back().lookup = lookup;
    peer_query_of_lookup_[lookup] = peer_queries_.size() - 1;
  }
}

// The fetch oracle: the file read back from the fetcher's own store, byte for byte against the
// file that was added (not the fetch's own bookkeeping).
void IpfsRun::on_fetch_done(const FetchRecord& f) {
  const std::size_t index = f.serial - 1;
  if (checks_.size() <= index) checks_.resize(index + 1);
  FetchCheck& check = checks_[index];
  const AddedFile* file = nullptr;
  for (const AddedFile& a : files_) {
    if (a.root == f.root && !file) file = &a;  // the first file with these bytes
  }
  check.content_known = file != nullptr;
  if (file) check.file = file->name;
  if (!f.complete) {
    check.reason = f.reason;
  } else {
    const auto& store = node_.store_of(f.from);
    std::string why;
    const auto bytes = read_file(
        blocks_.cid(f.root),
        [&](const Cid& cid) -> const Bytes* {
          for (const auto& [c, payload] : store) {
            if (blocks_.cid(c) == cid && verify(cid.hash, blocks_.payload(payload))) return &blocks_.payload(payload);
          }
          return nullptr;
        },
        why);
    if (!bytes) {
      check.reason = "the blocks fetched do not read back as a file: " + why;
    } else if (file && *bytes != file->content) {
      check.reason = "the file read back differs from the file added";
    } else {
      check.ok = true;
    }
  }
  const SimTime latency = f.end - f.start;
  if (f.complete) {
    fetch_stats_.finished(static_cast<std::uint32_t>(f.contacted.size()), latency, check.ok);
  } else {
    fetch_stats_.failed();
  }
  if (check.ok && index < fetch_provides_.size() && fetch_provides_[index]) {
    node_.dht().provide(f.from, dht_key(f.root));  // kubo announces what it fetched
  }
}

void IpfsRun::start() { driver_.start(); }

void IpfsRun::act(const nlohmann::json& op) { driver_.act(op); }

void IpfsRun::run_to_end() { driver_.run_to_end(); }

RunSummary IpfsRun::summary() const {
  std::uint64_t unfinished = 0;
  for (const FetchRecord& f : node_.fetches()) unfinished += f.done ? 0 : 1;
  RunSummary s = dht::lookup_summary(fetch_stats_, sim_, unfinished, driver_.wall_ms());
  s.operation = "fetches";
  return s;
}

// ---- the result -----------------------------------------------------------------------------------

std::string IpfsRun::short_cid(std::uint32_t cid) const {
  const std::string text = blocks_.cid(cid).to_string();
  return text.size() > 12 ? text.substr(0, 6) + ".." + text.substr(text.size() - 4) : text;
}

std::string IpfsRun::peer_name(PeerIndex p) const {
  if (p == kNoPeer) return "-";
  const std::string text = sim_.peer_id(p).to_decimal();
  return params_.m > 64 && text.size() > 10 ? text.substr(0, 8) + "..." : text;
}

nlohmann::json IpfsRun::result() const {
  const int m = params_.m;
  const auto id_of = [&](PeerIndex p) -> nlohmann::json {
    return p == kNoPeer ? nlohmann::json(nullptr) : id_to_json(sim_.peer_id(p), m);
  };
  const auto ids = [&](const std::vector<PeerIndex>& peers) {
    nlohmann::json out = nlohmann::json::array();
    for (PeerIndex p : peers) out.push_back(id_of(p));
    return out;
  };
  nlohmann::json out;
  out["protocol"] = "ipfs";
  out["scenario"] = scenario_.file;
  out["seed"] = scenario_.seed;
  out["params"] = {{"m", m},
                   {"k", params_.k},
                   {"alpha", params_.alpha},
                   {"rpc_timeout_ms", to_ms(params_.rpc_timeout)},
                   {"provider_expire_ms", to_ms(params_.provider_expire)},
                   {"provider_republish_ms", to_ms(params_.provider_republish)},
                   {"block_timeout_ms", to_ms(bitswap_.block_timeout)},
                   {"upload_mbps", bitswap_.upload_mbps}};
  nlohmann::json files = nlohmann::json::array();
  for (const AddedFile& f : files_) {
    if (!f.error.empty()) {
      files.push_back({{"name", f.name}, {"root", nullptr}, {"error", f.error}, {"added_by", f.field}});
      continue;
    }
    nlohmann::json j = {{"name", f.name},
                        {"root", blocks_.cid(f.root).to_string()},
                        {"size", f.content.size()},
                        {"chunks", f.chunks},
                        {"blocks", f.blocks.size()},
                        {"depth", f.depth},
                        {"options", f.options.describe()},
                        {"added_by", f.field}};
    if (!brief_) {
      // The DAG: each distinct block, root first, with its links (a view draws the tree).
      nlohmann::json dag = nlohmann::json::array();
      for (const DagNode& n : f.nodes) {
        nlohmann::json links = nlohmann::json::array();
        for (const DagLink& l : n.links) links.push_back(l.cid.to_string());
        dag.push_back({{"cid", n.cid.to_string()},
                       {"kind", kind_name(n.kind, n.cid == blocks_.cid(f.root))},
                       {"block_bytes", n.block_size},
                       {"content_bytes", n.content_size},
                       {"links", std::move(links)}});
      }
      j["dag"] = std::move(dag);
    }
    files.push_back(std::move(j));
  }
  out["files"] = files;
  nlohmann::json adds = nlohmann::json::array();
  for (const AddRecord& a : adds_) {
    adds.push_back({{"at_ms", to_ms(a.at)},
                    {"peer", id_of(a.peer)},
                    {"file", files_[a.file].name},
                    {"root", blocks_.cid(files_[a.file].root).to_string()},
                    {"blocks_stored", a.new_blocks},
                    {"blocks_already_held", a.held_blocks},
                    {"bytes_stored", a.new_bytes}});
  }
  out["adds"] = adds;
  nlohmann::json fetches = nlohmann::json::array();
  std::uint64_t corrupted = 0, fetches_ok = 0;
  for (std::size_t i = 0; i < node_.fetches().size(); ++i) {
    const FetchRecord& f = node_.fetches()[i];
    const FetchCheck check = i < checks_.size() ? checks_[i] : FetchCheck{};
    corrupted += f.corrupted;
    fetches_ok += check.ok ? 1 : 0;
    nlohmann::json j = {{"fetch", f.serial},
                        {"from", id_of(f.from)},
                        {"root", blocks_.cid(f.root).to_string()},
                        {"file", check.file.empty() ? nlohmann::json(nullptr) : nlohmann::json(check.file)},
                        {"start_ms", to_ms(f.start)},
                        {"time_ms", f.done ? nlohmann::json(to_ms(f.end - f.start)) : nlohmann::json(nullptr)},
                        {"providers", ids(f.providers)},
                        {"peers_contacted", ids(f.contacted)},
                        {"blocks", f.blocks},
                        {"bytes", f.bytes},
                        {"blocks_local", f.blocks_local},
                        {"corrupted_rejected", f.corrupted},
                        {"timeouts", f.timeouts},
                        {"provider_lookup_rounds", f.lookup_rounds},
                        {"messages", f.lookup_messages + f.bitswap_messages},
                        {"dont_haves", f.dont_haves},
                        {"complete", f.complete},
                        {"ok", check.ok}};
    if (!check.ok) {
      j["reason"] = f.done               ? check.reason
                    : sim_.is_up(f.from) ? "not finished when the run ended"
                                         : "the fetcher went down before the fetch ended";
    }
    if (!brief_) {
      nlohmann::json arrivals = nlohmann::json::array();
      for (const FetchRecord::Arrival& a : f.arrivals) {
        arrivals.push_back({{"cid", blocks_.cid(a.cid).to_string()},
                            {"from", id_of(a.from)},
                            {"at_ms", to_ms(a.at)},
                            {"verified", a.verified}});
      }
      j["arrivals"] = std::move(arrivals);
    }
    fetches.push_back(std::move(j));
  }
  out["fetches"] = fetches;
  nlohmann::json provides = nlohmann::json::array(), finds = nlohmann::json::array(), lookups = nlohmann::json::array();
  for (const kademlia::LookupRecord& r : node_.dht().records()) {
    nlohmann::json j = {{"from", id_of(r.from)},
                        {"key", id_to_json(r.key, m)},
                        {"start_ms", to_ms(r.start)},
                        {"latency_ms", to_ms(r.end - r.start)},
                        {"rounds", r.rounds},
                        {"rpcs", r.rpcs},
                        {"ok", r.ok}};
    if (r.purpose == kademlia::Purpose::Provide) {
      j["stored_at"] = ids(r.closest);
      provides.push_back(std::move(j));
    } else if (r.purpose == kademlia::Purpose::FindProviders) {
      j["providers"] = ids(r.providers);
      j["providers_down"] = ids(r.providers_down);
      finds.push_back(std::move(j));
    } else if (r.purpose == kademlia::Purpose::User) {
      j["closest"] = ids(r.closest);
      lookups.push_back(std::move(j));
    }
  }
  if (!brief_) {
    out["lookups"] = lookups;
    out["provides"] = provides;
    out["find_providers"] = finds;
  }
  nlohmann::json peer_records = nlohmann::json::array();
  for (const PeerQuery& q : peer_queries_) {
    nlohmann::json j = {{"from", id_of(q.from)}, {"peer", id_of(q.target)}, {"found", q.found}};
    if (q.found) {
      // The peer record: PeerID -> addresses. The simulated peer's address as a multiaddr.
      char address[64];
      std::snprintf(address, sizeof address, "/ip4/10.%u.%u.%u/udp/4001/quic-v1", (q.target >> 16) & 0xffu,
                    (q.target >> 8) & 0xffu, q.target & 0xffu);
      j["addresses"] = {address};
    }
    if (q.done) {
      j["rounds"] = q.rounds;
      j["latency_ms"] = to_ms(q.end - q.start);
    }
    peer_records.push_back(std::move(j));
  }
  out["peer_records"] = peer_records;
  nlohmann::json peers = nlohmann::json::array();
  std::uint64_t blocks_stored = 0, bytes_stored = 0, records = 0;
  for (const auto& [id, p] : sim_.live_by_id()) {
    std::uint64_t bytes = 0;
    for (const auto& [cid, payload] : node_.store_of(p)) {
      (void)cid;
      bytes += blocks_.payload(payload).size();
    }
    const std::size_t held = node_.dht().snapshot(p).provider_records.size();
    blocks_stored += node_.store_of(p).size();
    bytes_stored += bytes;
    records += held;
    if (brief_ || (node_.store_of(p).empty() && held == 0 && !node_.corrupt(p))) continue;
    nlohmann::json j = {{"id", id_to_json(id, m)},
                        {"blocks", node_.store_of(p).size()},
                        {"bytes_stored", bytes},
                        {"provider_records", held}};
    if (node_.corrupt(p)) j["corrupt"] = true;
    peers.push_back(std::move(j));
  }
  out["peers"] = peers;
  if (brief_) out["brief"] = true;
  nlohmann::json metrics = dht::lookup_metrics(summary(), sim_, vocabulary().message_types, fetch_stats_, state_size());
  metrics["fetches"] = node_.fetches().size();
  metrics["fetches_ok"] = fetches_ok;
  metrics["corrupted_rejected"] = corrupted;
  metrics["blocks_stored"] = blocks_stored;
  metrics["bytes_stored"] = bytes_stored;
  metrics["provider_records"] = records;
  out["metrics"] = metrics;
  out["warnings"] = driver_.warnings();
  return out;
}

StateSize IpfsRun::state_size() const {
  return dht::live_state_size(sim_, [&](PeerIndex p) {
    return node_.dht().has_node(p) ? static_cast<double>(node_.dht().table_size(p)) : 0.0;
  });
}

std::vector<std::uint32_t> IpfsRun::messages_per_search() const {
  // A fetch's messages: the provider lookup's queries and answers, then its Bitswap messages.
  std::vector<std::uint32_t> out;
  for (const FetchRecord& f : node_.fetches()) {
    if (f.done) out.push_back(f.lookup_messages + f.bitswap_messages);
  }
  return out;
}

std::vector<SearchOutcome> IpfsRun::requested_searches() const {
  // compare's searches are fetches of added files (register.cpp's compare workload).
  std::vector<SearchOutcome> out;
  for (std::size_t i = 0; i < node_.fetches().size(); ++i) {
    const FetchRecord& f = node_.fetches()[i];
    SearchOutcome o;
    o.messages = f.lookup_messages + f.bitswap_messages;
    o.has_hops = o.has_latency = f.done;
    o.hops = f.lookup_rounds;
    o.latency_ms = f.done ? to_ms(f.end - f.start) : 0;
    o.found = i < checks_.size() && checks_[i].ok;
    o.false_negative = !o.found;  // every file fetched was added
    out.push_back(o);
  }
  return out;
}

// ---- the views ------------------------------------------------------------------------------------

// The DAG of `f` as `peer` has it, a row per block, indented as a tree (a node's first three
// and last two links when it has more than six, as `p2plab ipfs dag` prints):
//   QmNZLZ..p8B       root, 4 links   262 B      stored
//   |- QmRkEa..7UEJ   leaf 1 of 4     262158 B   stored
//   `- QmWLiJ..VeY    leaf 4 of 4     262158 B   wanted; rejected a corrupted copy from 3202
TableView IpfsRun::dag_table(const AddedFile& f, PeerIndex peer) const {
  TableView t;
  t.title = "DAG of " + f.name;
  t.help =
      "The file's Merkle DAG at this peer: the root lists its chunks' CIDs, each chunk is a leaf block named by "
      "the hash of its bytes. A fetched block is stored only after its bytes hashed to its CID; a copy that did "
      "not is rejected.";
  t.columns = {"block (CID)", "kind", "bytes", "at this peer"};
  std::map<Cid, const DagNode*> nodes;
  for (const DagNode& n : f.nodes) nodes[n.cid] = &n;
  std::map<Cid, PeerIndex> rejected;
  bool fetching = false;  // a fetch of this DAG by the peer is under way
  for (const FetchRecord& r : node_.fetches()) {
    if (r.from != peer) continue;
    fetching |= r.root == f.root && !r.done;
    for (const FetchRecord::Arrival& a : r.arrivals) {
      if (!a.verified) rejected[blocks_.cid(a.cid)] = a.from;
    }
  }
  // Rows carry their depth and a colour (stored green, wanted orange, not here grey; marked stale
  // where a corrupted copy was rejected): a view can draw the table as the DAG's tree.
  const auto text_row = [](std::string a, std::string b, double bytes, std::string d, int depth, Colour colour) {
    TableView::Row row{
        {Cell::of_text(std::move(a)), Cell::of_text(std::move(b)), Cell::of_number(bytes), Cell::of_text(std::move(d))},
        -1};
    row.depth = depth;
    row.colour = colour;
    return row;
  };
  const std::function<void(const Cid&, const std::string&, const std::string&, const std::string&, int)> add_row =
      [&](const Cid& cid, const std::string& prefix, const std::string& below, const std::string& kind, int depth) {
        const DagNode* n = nodes.count(cid) ? nodes.at(cid) : nullptr;
        const auto index = blocks_.find(cid);
        const bool stored = index && node_.has(peer, *index);
        std::string state = stored ? "stored" : fetching ? "wanted" : "not here";
        Colour colour = stored ? Colour::Green : fetching ? Colour::Orange : Colour::Grey;
        const auto r = rejected.find(cid);
        if (r != rejected.end()) state += "; rejected a corrupted copy from " + peer_name(r->second);
        t.rows.push_back(text_row(prefix + (index ? short_cid(*index) : cid.to_string()), kind,
                                  n ? static_cast<double>(n->block_size) : 0, state, depth, colour));
        t.rows.back().stale = r != rejected.end();
        if (!n) return;
        const std::size_t links = n->links.size();
        for (std::size_t i = 0; i < links; ++i) {
          if (links > 6 && i == 3) {
            t.rows.push_back(text_row(below + "|  ... " + std::to_string(links - 5) + " more", "", 0, "", depth + 1,
                                      Colour::Neutral));
            i = links - 3;
            continue;
          }
          const bool last = i + 1 == links;
          const DagNode* child = nodes.count(n->links[i].cid) ? nodes.at(n->links[i].cid) : nullptr;
          add_row(n->links[i].cid, below + (last ? "`- " : "|- "), below + (last ? "   " : "|  "),
                  std::string(child ? kind_name(child->kind, false) : "block") + " " + std::to_string(i + 1) + " of " +
                      std::to_string(links),
                  depth + 1);
        }
      };
  const DagNode* root = nodes.count(blocks_.cid(f.root)) ? nodes.at(blocks_.cid(f.root)) : nullptr;
  add_row(blocks_.cid(f.root), "", "",
          root && !root->links.empty() ? "root, " + std::to_string(root->links.size()) + " links" : "root (one block)",
          0);
  return t;
}

PeerView IpfsRun::inspect(PeerIndex peer) const {
  PeerView v = kademlia::peer_view(node_.dht().snapshot(peer), sim_.state(peer), params_.m, [&](PeerIndex p) {
    return p == kNoPeer ? std::string("-") : sim_.peer_id(p).to_decimal();
  });
  v.peer = peer;
  const auto& store = node_.store_of(peer);
  if (!node_.dht().joined(peer)) {
    v.role = kJoiningRole;
  } else if (node_.corrupt(peer)) {
    v.role = kCorruptRole;
  } else {
    v.role = store.empty() ? kNodeRole : kHolderRole;
  }
  if (node_.corrupt(peer)) v.tag = "corrupt";
  // First (IPFS's own state; the trie view shows the k-buckets already): one table per file whose
  // DAG this peer holds part of or fetches, the Merkle DAG as a tree, each block marked stored
  // (verified) or still wanted, a rejected corrupted copy named; then its provider records.
  std::vector<TableView> tables;
  std::set<std::uint32_t> shown;
  for (const AddedFile& f : files_) {
    if (!f.error.empty() || shown.count(f.root)) continue;
    const bool fetching = std::any_of(node_.fetches().begin(), node_.fetches().end(),
                                      [&](const FetchRecord& r) { return r.from == peer && r.root == f.root; });
    const bool holds =
        std::any_of(f.blocks.begin(), f.blocks.end(), [&](const auto& b) { return node_.has(peer, b.first); });
    if (!fetching && !holds) continue;
    shown.insert(f.root);
    tables.push_back(dag_table(f, peer));
  }
  TableView records;
  records.title = "Provider records";
  records.help = "Provider records this node holds as one of the k closest to a CID's key: CID -> peer, not the file.";
  records.columns = {"key", "provider", "expires (ms)"};
  for (const kademlia::ProviderRecord& r : node_.dht().snapshot(peer).provider_records) {
    records.rows.push_back({{Cell::of_id(r.key), Cell::of_peer(r.provider, sim_.peer_id(r.provider).to_decimal()),
                             Cell::of_number(to_ms(r.expires))},
                            -1});
  }
  tables.push_back(std::move(records));
  for (TableView& t : v.tables) tables.push_back(std::move(t));
  v.tables = std::move(tables);
  return v;
}

// A fetch, and a lookup that provides or finds the providers of a CID, are named by that CID (its
// short form, as the sentences below write it), not by the m bits of its DHT key: the lecture's
// and the lab's name for what is looked for.
SearchView IpfsRun::inspect_search(const TraceEvent& start) const {
  SearchView v;
  if (start.detail == kFetchPurpose) {
    for (const FetchRecord& f : node_.fetches()) {
      if (f.trace_serial == start.lookup) v.key_label = short_cid(f.root);
    }
    return v;
  }
  const auto purpose = static_cast<kademlia::Purpose>(start.detail);
  if (purpose != kademlia::Purpose::Provide && purpose != kademlia::Purpose::FindProviders) return v;
  // The roots this scenario names (its adds, provides, fetches): the CID whose key it is.
  for (const IpfsOp& op : ops_) {
    const bool names_cid =
        op.name == "add" || op.name == "provide" || op.name == "find_providers" || op.name == "fetch";
    if (names_cid && op.cid != kNoCid && dht_key(op.cid) == start.key) {
      v.key_label = short_cid(op.cid);
      break;
    }
  }
  return v;
}

// One sentence per step, in the lecture's words: the provider lookup, then each block as it comes
// and is checked against its CID.
std::string IpfsRun::narrate(const TraceEvent& event) const {
  const auto fetch = std::find_if(node_.fetches().begin(), node_.fetches().end(),
                                  [&](const FetchRecord& r) { return r.trace_serial == event.lookup; });
  if (fetch != node_.fetches().end()) {
    const FetchRecord& f = *fetch;
    switch (event.kind) {
      case TraceKind::LookupStart:
        return peer_name(f.from) + " fetches " + short_cid(f.root) +
               ": first GET_PROVIDERS for the root's key, then Bitswap wants to the providers";
      case TraceKind::LookupHop: {
        if (event.detail == kademlia::kTimeoutHop) {
          return peer_name(f.from) + ": no block from " + peer_name(event.other) +
                 " within block_timeout_ms: asked of another provider";
        }
        for (const FetchRecord::Arrival& a : f.arrivals) {
          if (a.at != event.time || a.from != event.peer) continue;
          return a.verified ? "block " + short_cid(a.cid) + " from " + peer_name(a.from) +
                                  ": its bytes hash to its CID, so it is the block asked for; stored, its links wanted"
                            : "block " + short_cid(a.cid) + " from " + peer_name(a.from) +
                                  " REJECTED: its bytes do not hash to its CID (corrupted); asked elsewhere";
        }
        return "";
      }
      case TraceKind::LookupDone: {
        std::set<PeerIndex> senders;
        for (const FetchRecord::Arrival& a : f.arrivals) {
          if (a.verified) senders.insert(a.from);
        }
        return f.complete ? peer_name(f.from) + " has the file: " + std::to_string(f.blocks) + " blocks (" +
                                human_size(f.bytes) + ") from " + std::to_string(senders.size()) +
                                (senders.size() == 1 ? " peer" : " peers") + ", every one verified" +
                                (f.corrupted ? ", " + std::to_string(f.corrupted) + " corrupted rejected" : "")
                          : peer_name(f.from) + ": fetch failed: " + f.reason;
      }
      default:
        return "";
    }
  }
  const auto purpose = [&]() -> std::string {
    for (const kademlia::LookupRecord& r : node_.dht().records()) {
      if (r.serial == event.lookup) return kademlia::to_string(r.purpose);
    }
    return "lookup";
  };
  switch (event.kind) {
    case TraceKind::LookupStart: {
      const std::string key = event.key.to_decimal();
      return peer_name(event.peer) + ": " +
             (event.detail < kFetchPurpose ? kademlia::to_string(static_cast<kademlia::Purpose>(event.detail))
                                           : "lookup") +
             ", a lookup for the k closest to key " +
             (params_.m > 64 && key.size() > 10 ? key.substr(0, 8) + "..." : key);
    }
    case TraceKind::LookupHop:
      if (event.detail == kademlia::kTimeoutHop) return "no answer from " + peer_name(event.other) + " in time";
      if (event.peer == event.other) return "";
      return "round " + std::to_string(event.index) + ": ask " + peer_name(event.other) + " (suggested by " +
             peer_name(event.peer) + ")";
    case TraceKind::LookupDone:
      return purpose() + " done after " + std::to_string(event.index) + " rounds";
    default:
      return "";
  }
}

}  // namespace p2plab::ipfs
