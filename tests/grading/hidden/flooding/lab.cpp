// Hidden graded test of exercise flooding: the lecture's lab, many floods in flight at once.
#include <fstream>
#include <set>

#include "flooding/flooding.hpp"
#include "grading.hpp"
#include "search_support.hpp"

using namespace p2plab;

GRADED_TEST("flooding", 3, "the TTL lab: 103 overlapping floods stay within their TTL and hits come from reached providers") {
  std::ifstream in(std::string(P2PLAB_LABS_DIR) + "/gnutella-flooding-ttl.json");
  REQUIRE_MESSAGE(in.good(), "labs/gnutella-flooding-ttl.json not found");
  const nlohmann::json doc = nlohmann::json::parse(in);
  auto run = grading::make_run<flooding::Protocol>(doc);
  run->run_to_end();
  const auto& records = run->log().records();
  REQUIRE(records.size() == 103);
  auto neighbors = [&](PeerIndex p) { return run->protocol().neighbors(p); };
  const int ttls[] = {2, 4, 7};
  // With random latencies a copy over a longer path may arrive first and use up the GUID, so a
  // flood need not reach its whole BFS ball; it never goes beyond it, and every hit is a provider
  // it reached.
  int wrong = 0, bad_hits = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const search::QueryRecord& q = records[i];
    const int ttl = i < 3 ? ttls[i] : 7;
    std::set<PeerIndex> ball;
    for (const auto& [p, d] : grading::bfs(neighbors, q.from)) {
      if (d <= ttl) ball.insert(p);
    }
    for (PeerIndex p : q.reached) wrong += ball.count(p) ? 0 : 1;
    const std::set<PeerIndex> providers = grading::sharers(*run, q.name);
    for (PeerIndex p : q.hits) bad_hits += q.reached.count(p) && providers.count(p) ? 0 : 1;
  }
  CHECK_MESSAGE(wrong == 0, "QUERYs (many in flight at the same time, each with its own GUID) reached "
                                << wrong << " peers beyond their TTL");
  CHECK_MESSAGE(bad_hits == 0,
                bad_hits << " QUERYHITs came from peers the QUERY never reached or that do not share the file");
  CHECK_MESSAGE(records[3].reached.size() > 100,
                "a TTL-7 QUERY in a 500-peer overlay of degree 4 reaches hundreds of "
                "peers, yours reached "
                    << records[3].reached.size());
  CHECK_MESSAGE(records[0].hits.empty(),
                "item-7 lies beyond 2 hops of peer 0: the TTL-2 query must miss it (a false "
                "negative), yours found "
                    << records[0].hits.size() << " providers");
  CHECK_MESSAGE(!records[2].hits.empty(), "the TTL-7 query for item-7 must find a provider through the reverse path");
}
