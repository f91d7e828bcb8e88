// `p2plab bench flooding` as a user runs it, on 2000 peers: its oracle agrees with every query,
// and the figures it prints obey what any flood over an undirected graph must (checked here from
// the figures alone, not through the bench's oracle): with a TTL beyond the diameter every peer is
// reached and the QUERY copies are the sum of the degrees minus N - 1; with TTL 1 the requester's
// neighbours are reached and nothing is a duplicate. Bad options exit 2 naming the option.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <string>

#include "bench_figures.hpp"

namespace {

using Bench = p2plab::test::BenchRun;

/// Runs the bench on 2000 peers for 2 simulated seconds of arrivals (about 40 floods).
Bench run_bench(const std::string& arguments) {
  return p2plab::test::run_bench_json("flooding --peers 2000 --seconds 2 --rate 0.01 " + arguments);
}

/// What the bench's own oracle says: every query ended and agreed with the BFS flood.
void check_oracle_agrees(const Bench& b) {
  const nlohmann::json& f = b.figures;
  CAPTURE(b.outcome.output);
  CHECK(f.at("lookups").get<int>() >= 20);
  CHECK(f.at("lookups_finished") == f.at("lookups"));
  CHECK(f.at("checked") == f.at("lookups"));
  CHECK(f.at("wrong") == 0);
  CHECK(f.at("success_rate") == 1.0);
  CHECK(b.outcome.output.find(" 0 disagree") != std::string::npos);
  CHECK(b.outcome.output.find("WRONG") == std::string::npos);
  CHECK(f.at("mean_reached").get<double>() <= f.at("mean_oracle_reached").get<double>());
  CHECK(f.at("hits").get<int>() <= f.at("oracle_holders_in_reach").get<int>());
}

double number(const nlohmann::json& f, const char* key) { return f.at(key).get<double>(); }

}  // namespace

TEST_CASE("bench flooding: random latency, the default TTL 7: every query agrees with the oracle") {
  const Bench b = run_bench("");
  check_oracle_agrees(b);
  const nlohmann::json& f = b.figures;
  CHECK(f.at("ttl") == 7);
  CHECK(f.at("max_degree") == 8);
  // Every copy is either a peer's first (reached - 1 of them) or a duplicate.
  CHECK(number(f, "mean_query_copies") ==
        doctest::Approx(number(f, "mean_reached") - 1 + number(f, "mean_duplicates")));
}

TEST_CASE("bench flooding: constant latency, the flood reaches exactly the BFS ball") {
  const Bench b = run_bench("--min-ms 40 --max-ms 40");
  check_oracle_agrees(b);
  const nlohmann::json& f = b.figures;
  CHECK(f.at("reached_equal_oracle") == f.at("checked"));
  CHECK(number(f, "mean_reached") == number(f, "mean_oracle_reached"));
  CHECK(f.at("hits") == f.at("oracle_holders_in_reach"));
  CHECK(f.at("false_negatives") == 0);
}

TEST_CASE("bench flooding: a TTL beyond the diameter reaches everyone and the copies are the degrees' sum") {
  const Bench b = run_bench("--ttl 60 --min-ms 40 --max-ms 40");
  check_oracle_agrees(b);
  const nlohmann::json& f = b.figures;
  const double n = 2000, degrees = number(f, "mean_degree") * n;  // twice the links
  CHECK(number(f, "mean_reached") == n);
  // The requester sends to all its neighbours, every other peer to all but the one it heard
  // from: sum of degrees - (N - 1) copies, of which N - 1 are first copies.
  CHECK(number(f, "mean_query_copies") == doctest::Approx(degrees - (n - 1)).epsilon(1e-12));
  CHECK(number(f, "mean_duplicates") == doctest::Approx(degrees - 2 * (n - 1)).epsilon(1e-12));
  CHECK(f.at("false_negatives") == 0);
}

TEST_CASE("bench flooding: TTL 1 reaches the requester's neighbours only, without duplicates") {
  const Bench b = run_bench("--ttl 1");
  check_oracle_agrees(b);
  const nlohmann::json& f = b.figures;
  CHECK(number(f, "mean_duplicates") == 0);
  CHECK(number(f, "mean_query_copies") == doctest::Approx(number(f, "mean_reached") - 1));
  CHECK(number(f, "mean_reached") >= 1 + 4);  // every peer keeps at least `degree` neighbours here
  CHECK(number(f, "mean_reached") <= 1 + 8);
}

TEST_CASE("bench flooding: bad options exit 2 and name the option") {
  for (const auto& [arguments, names] : {std::pair<std::string, std::string>{"--ttl 0", "--ttl"},
                                         {"--ttl 256", "--ttl"},
                                         {"--peers 0", "--peers"},
                                         {"--peers many", "--peers"},
                                         {"--degree 0", "--degree"},
                                         {"--max-degree 3", "--max-degree"},
                                         {"--replicas 0", "--replicas"},
                                         {"--items 0", "--items"},
                                         {"--min-ms 50 --max-ms 10", "--max-ms"},
                                         {"--bits 64", "--bits"},
                                         {"--frobnicate 3", "--frobnicate"}}) {
    CAPTURE(arguments);
    const p2plab::test::ProgramOutcome o = p2plab::test::run_program(P2PLAB_BINARY, "bench flooding " + arguments);
    CAPTURE(o.output);
    CHECK_FALSE(o.signaled);
    CHECK(o.exit_code == 2);
    CHECK(o.output.find(names) != std::string::npos);
  }
}

TEST_CASE("p2plab bench chord --threads 2 prints the figures of --threads 1, and says how many threads ran") {
  auto chord_bench = [](const std::string& threads) {
    const p2plab::test::BenchRun b =
        p2plab::test::run_bench_json("chord --peers 3000 --seconds 5 --threads " + threads);
    CHECK(b.outcome.output.find(threads == "1" ? "1 thread\n" : threads + " threads\n") != std::string::npos);
    nlohmann::json figures = b.figures;
    CHECK(figures.at("threads") == std::stoi(threads));
    // Times and memory differ from run to run, the partitions with the thread count; every other
    // figure must not.
    for (const char* measured :
         {"threads", "partitions", "wall_s", "build_s", "run_s", "events_per_s", "peak_rss_bytes", "bytes_per_peer"}) {
      figures.erase(measured);
    }
    return figures;
  };
  const nlohmann::json one = chord_bench("1");
  CHECK(one.at("lookups").get<int>() > 1000);
  CHECK(chord_bench("2") == one);
}
