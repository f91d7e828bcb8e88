// p2plab: the command line. `p2plab run`, `p2plab list`, `p2plab bench`, `p2plab compare`,
// `p2plab node` and `p2plab cluster` (real network mode, real_network.cpp), and the protocols' own
// tools, `p2plab PROTOCOL COMMAND ...` (protocol_tools.cpp). It knows protocols
// only through the registry (all_protocols()): a program that links one more protocol module
// (tests/toy) gets it in every command.
// Exit codes: 0 success, 1 I/O or internal error, 2 bad scenario or bad arguments,
// 3 a benchmark whose lookups were not all correct.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli.hpp"
#include "compare.hpp"
#include "p2plab/code_info.hpp"
#include "p2plab/json_util.hpp"
#include "p2plab/registry.hpp"
#include "p2plab/scenario.hpp"
#include "protocol_tools.hpp"
#include "real_network.hpp"

namespace fs = std::filesystem;
using namespace p2plab;

namespace p2plab::cli {
/// The source tree's folder (source_dir.cpp).
const char* source_dir();
}  // namespace p2plab::cli

namespace {

constexpr int kBadInput = 2;

struct RunOptions {
  std::string scenario;
  std::string out;
  std::string trace;
  bool brief = false;
  bool quiet = false;
};

int run_compare_lab(const Scenario& scenario, const RunOptions& o) {
  bench::CompareOptions options = bench::compare_options_for_lab(scenario);
  options.json_out = o.out;
  options.quiet = o.quiet;
  if (!o.quiet) std::printf("p2plab run %s: %s\n", o.scenario.c_str(), scenario.title.c_str());
  const int status = bench::compare_command(options);
  if (!o.quiet && describe_linked_code() != "the reference code")
    std::printf("code: %s\n", describe_linked_code().c_str());
  return status;
}

int command_run(const RunOptions& o) {
  const Scenario scenario = load_scenario(o.scenario);
  if (bench::is_compare_lab(scenario)) return run_compare_lab(scenario, o);
  std::unique_ptr<Run> run = all_protocols().create(scenario);
  std::ofstream trace_file;
  if (!o.trace.empty()) {
    trace_file.open(o.trace);
    if (!trace_file) {
      std::fprintf(stderr, "p2plab: cannot write the trace file %s\n", o.trace.c_str());
      return 1;
    }
    run->simulator().event_trace().write_jsonl(&trace_file, run->vocabulary(), &run->simulator().peer_records(),
                                               run->id_bits());
  }
  if (o.brief) run->set_brief(true);
  run->run_to_end();
  const RunSummary summary = run->summary();
  nlohmann::json result = run->result();
  if (!o.quiet) {
    std::printf("p2plab run %s (%s)%s%s\n", o.scenario.c_str(), scenario.protocol.c_str(),
                scenario.title.empty() ? "" : ": ", scenario.title.c_str());
    std::fputs(summary.to_text().c_str(), stdout);
    if (describe_linked_code() != "the reference code") std::printf("code: %s\n", describe_linked_code().c_str());
    for (const auto& w : result["warnings"]) std::printf("warning: %s\n", w.get<std::string>().c_str());
  }
  if (!o.out.empty()) {
    std::ofstream out(o.out);
    out << result.dump(1) << '\n';
    if (!out) {
      std::fprintf(stderr, "p2plab: cannot write the result file %s\n", o.out.c_str());
      return 1;
    }
    if (!o.quiet) std::printf("result written to %s\n", o.out.c_str());
  }
  if (trace_file.is_open() && !o.quiet) std::printf("trace written to %s\n", o.trace.c_str());
  return 0;
}

fs::path find_labs_dir(const std::string& given) {
  if (!given.empty()) return given;
  if (fs::is_directory("labs")) return "labs";
  return fs::path(p2plab::cli::source_dir()) / "labs";
}

int command_list(const std::string& labs_option) {
  std::printf("Protocols:\n");
  for (const auto& p : all_protocols().all()) {
    std::printf("  %-14s %s\n", p.name.c_str(), p.description.c_str());
    std::string tools;
    for (const ProtocolCommand& c : p.commands) tools += (tools.empty() ? "" : "|") + c.name;
    if (!p.simulated()) {
      std::printf("  %-14s (tools only, no simulation yet: p2plab %s %s)\n", "", p.name.c_str(), tools.c_str());
    } else if (!tools.empty()) {
      std::printf("  %-14s (tools: p2plab %s %s)\n", "", p.name.c_str(), tools.c_str());
    }
  }
  const fs::path dir = find_labs_dir(labs_option);
  std::vector<fs::path> labs;
  if (fs::is_directory(dir)) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() == ".json") labs.push_back(entry.path());
    }
  }
  std::sort(labs.begin(), labs.end());
  std::printf("\nLabs (%s):\n", dir.string().c_str());
  for (const auto& path : labs) {
    std::string line;
    try {
      const Scenario s = load_scenario(path.string());
      line = "[" + s.protocol + "] " + (s.title.empty() ? "(no title)" : s.title);
    } catch (const std::exception& e) {
      line = std::string("(cannot be read: ") + e.what() + ")";
    }
    std::printf("  %-24s %s\n", path.stem().string().c_str(), line.c_str());
  }
  if (labs.empty()) std::printf("  (none found)\n");
  return 0;
}

/// `p2plab bench PROTOCOL ...`: one subcommand per protocol that registered a bench command, with
/// the options it lists.
struct BenchCommand {
  const ProtocolInfo* protocol = nullptr;
  CLI::App* app = nullptr;
  std::map<std::string, std::string> values;
  std::map<std::string, bool> flags;
  std::map<std::string, CLI::Option*> options;

  CommandArgs args() const {
    CommandArgs out;
    for (const CommandOption& o : protocol->bench.options) {
      if (o.flag) {
        if (flags.at(o.name)) out[o.name] = "true";
      } else if (options.at(o.name)->count() > 0 || !o.default_value.empty()) {
        out[o.name] = values.at(o.name);
      }
    }
    return out;
  }
};

std::vector<std::string> compare_protocols() { return bench::default_protocols(); }

}  // namespace

namespace p2plab::cli {

int run_cli(int argc, char** argv) {
  CLI::App app{"p2plab: a teaching lab for peer-to-peer systems (protocols: " + all_protocols().names() + ")"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("p2plab ") + P2PLAB_VERSION);

  RunOptions run_options;
  auto* run = app.add_subcommand("run", "Simulate a scenario headless, print a summary, write the result as JSON");
  run->add_option("scenario", run_options.scenario, "Scenario file (JSON), e.g. one of the labs `p2plab list` names")
      ->required();
  run->add_option("--out,-o", run_options.out, "Write the full result (lookups, peers, metrics) to this JSON file");
  run->add_option("--trace", run_options.trace, "Write every trace event as JSON Lines to this file");
  run->add_flag("--brief", run_options.brief, "Leave the per-peer and per-lookup arrays out of the result");
  run->add_flag("--quiet,-q", run_options.quiet, "Print nothing but errors");

  std::string labs_dir;
  auto* list = app.add_subcommand("list", "Name the protocols and labs there are, one line each");
  list->add_option("--labs", labs_dir, "Folder of lab scenario files (default: ./labs, else the source tree's)");

  auto* bench = app.add_subcommand(
      "bench", "Measure simulator speed and memory: `p2plab bench PROTOCOL --help` lists its options");
  bench->require_subcommand(1);
  std::vector<BenchCommand> bench_commands;
  for (const ProtocolInfo& p : all_protocols().all()) {
    if (p.bench) bench_commands.push_back({&p, nullptr, {}, {}, {}});
  }
  for (BenchCommand& command : bench_commands) {  // (the vector no longer grows: the maps stay put)
    command.app = bench->add_subcommand(command.protocol->name, command.protocol->bench.summary);
    for (const CommandOption& o : command.protocol->bench.options) {
      const std::string names = "--" + o.name + (o.short_name.empty() ? "" : ",-" + o.short_name);
      if (o.flag) {
        command.flags[o.name] = false;
        command.options[o.name] = command.app->add_flag(names, command.flags[o.name], o.help);
      } else {
        command.values[o.name] = o.default_value;
        command.options[o.name] =
            command.app->add_option(names, command.values[o.name], o.help)->type_name("VALUE")->capture_default_str();
      }
    }
  }

  bench::CompareOptions compare_options;
  auto* compare =
      app.add_subcommand("compare", "The lecture's complexity table, measured: all protocols over a sweep of N");
  compare->add_option("--min-log2", compare_options.min_log2, "Smallest N as a power of two")
      ->check(CLI::Range(3, 24))
      ->capture_default_str();
  compare->add_option("--max-log2", compare_options.max_log2, "Largest N as a power of two")
      ->check(CLI::Range(3, 24))
      ->capture_default_str();
  compare->add_option("--queries", compare_options.queries, "Searches per protocol and N")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  compare->add_option("--items", compare_options.items, "Distinct shared items")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  compare->add_option("--replicas", compare_options.replicas, "Peers sharing each item")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  compare->add_option("--ttl", compare_options.ttl, "TTL of a flood over all peers")
      ->check(CLI::Range(1, 255))
      ->capture_default_str();
  compare->add_option("--seed", compare_options.seed, "Seed")->capture_default_str();
  compare->add_option("--protocols", compare_options.protocols, "Protocols to compare")
      ->check(CLI::IsMember(compare_protocols()))
      ->capture_default_str();
  compare->add_option("--csv", compare_options.csv_out, "Also write the table as CSV");
  compare->add_option("--json", compare_options.json_out, "Also write the table and fits as JSON");
  compare->add_flag("--quiet,-q", compare_options.quiet, "No progress lines");

  const cli::RealNetworkCommands real_network(app, argc, argv);
  const cli::ProtocolTools protocol_tools(app);  // after every built-in command: a clash is detected

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "p2plab: %s\nRun 'p2plab --help' for the commands and their options.\n", e.what());
    return kBadInput;
  }

  try {
    if (run->parsed()) return command_run(run_options);
    if (list->parsed()) return command_list(labs_dir);
    for (const BenchCommand& command : bench_commands) {
      if (command.app->parsed()) return command.protocol->bench.run(command.args());
    }
    if (int code = 0; real_network.dispatch(code)) return code;
    if (int code = 0; protocol_tools.dispatch(code)) return code;
    if (compare->parsed()) {
      if (compare_options.max_log2 < compare_options.min_log2) {
        std::fprintf(stderr, "p2plab compare: --max-log2 must be at least --min-log2\n");
        return kBadInput;
      }
      return bench::compare_command(compare_options);
    }
  } catch (const ScenarioError& e) {
    std::fprintf(stderr, "p2plab: %s\n", e.what());
    return kBadInput;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "p2plab: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "p2plab: error: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace p2plab::cli
