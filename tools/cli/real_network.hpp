#pragma once
// `p2plab node` and `p2plab cluster`: the real-network mode's commands (real_network.cpp). Neither
// knows a protocol: the one named by --protocol brings its node command and its options
// (ProtocolInfo::node), which are added to the parser so that --help lists them.
#include <CLI/CLI.hpp>

#include <memory>

namespace p2plab::cli {

class RealNetworkCommands {
 public:
  /// Adds the two subcommands to `app`; the protocol named in `argv` (--protocol X) adds its
  /// options to them.
  RealNetworkCommands(CLI::App& app, int argc, const char* const* argv);
  /// If one of them was given: runs it and sets `exit_code`; false otherwise.
  bool dispatch(int& exit_code) const;

  struct Options;

 private:
  std::shared_ptr<Options> o_;
  CLI::App* node_ = nullptr;
  CLI::App* cluster_ = nullptr;
};

}  // namespace p2plab::cli
