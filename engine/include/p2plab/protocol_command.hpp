#pragma once
// A command a protocol offers to the command line without the command line knowing the protocol:
// `p2plab bench PROTOCOL ...`, `p2plab node --protocol PROTOCOL ...` (real network mode) and the
// protocol's own tools, `p2plab PROTOCOL NAME ARGUMENT... [options]` (ProtocolInfo::commands). The
// protocol lists its options and arguments; the CLI adds them to its parser, so `--help` lists
// them, and hands the parsed values back by name.
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace p2plab {

struct CommandOption {
  std::string name;           ///< without dashes: "successors" is given as --successors
  std::string help;           ///< one line for --help
  std::string default_value;  ///< as text; "" means no default (the option is then absent)
  bool flag = false;          ///< takes no value ("true" when given)
  std::string short_name;     ///< one letter, or "": "n" is also given as -n
  bool repeatable = false;    ///< may be given several times (the values one per line)
};

/// A positional argument of a protocol's tool (`p2plab ipfs add FILE`): required, one value, handed
/// to run() by name like an option.
struct CommandArgument {
  std::string name;  ///< as --help shows it, and the key in CommandArgs
  std::string help;
};

/// Parsed option values by name (without dashes), as text; the protocol converts and checks them
/// and reports a bad one by name (exit status 2).
using CommandArgs = std::map<std::string, std::string>;

struct ProtocolCommand {
  std::string summary;  ///< one line: what the command does for this protocol
  std::vector<CommandOption> options;
  std::function<int(const CommandArgs&)> run;  ///< the command's exit status
  std::string name;                            ///< a tool's subcommand name (ProtocolInfo::commands)
  std::vector<CommandArgument> arguments;      ///< a tool's positional arguments, in order
  explicit operator bool() const { return static_cast<bool>(run); }
};

}  // namespace p2plab
