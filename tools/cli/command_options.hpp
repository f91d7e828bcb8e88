#pragma once
// A protocol's command options (p2plab/protocol_command.hpp) on a CLI11 subcommand, and their
// parsed values handed back by name: shared by `p2plab node`/`cluster` and the protocols' tools.
#include <CLI/CLI.hpp>

#include <set>
#include <string>
#include <vector>

#include "p2plab/protocol_command.hpp"

namespace p2plab::cli {

/// One option of a protocol's command as the parser holds it.
struct ParsedOption {
  CommandOption option;
  std::vector<std::string> values;  // what was given (flags: empty)
  CLI::Option* cli = nullptr;
};

/// Adds the command's options to a subcommand (all of them, or all but those in `skip`).
void add_options(CLI::App* command, const ProtocolCommand& protocol_command, const std::set<std::string>& skip,
                 std::vector<ParsedOption>& out);

/// The parsed values by name: given, or the default; repeatable ones one per line.
CommandArgs args_of(const std::vector<ParsedOption>& options);

}  // namespace p2plab::cli
