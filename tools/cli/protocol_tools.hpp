#pragma once
// `p2plab PROTOCOL COMMAND ARGUMENT... [options]`: the tools a protocol module registers
// (ProtocolInfo::commands), e.g. content addressing's `add FILE`. One subcommand per protocol
// that has tools, one sub-subcommand per tool; the CLI names no protocol.
#include <CLI/CLI.hpp>

#include <memory>
#include <vector>

namespace p2plab::cli {

class ProtocolTools {
 public:
  /// Adds the subcommands to `app`. A protocol whose name is already a command is left out (with
  /// a line on stderr: a registry mistake, not the user's).
  explicit ProtocolTools(CLI::App& app);
  ~ProtocolTools();
  /// If one of the tools was given: runs it and sets `exit_code`; false otherwise.
  bool dispatch(int& exit_code) const;

  struct Tool;

 private:
  std::vector<std::unique_ptr<Tool>> tools_;
};

}  // namespace p2plab::cli
