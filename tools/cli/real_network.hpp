#pragma once
// `p2plab node` and `p2plab cluster`: the real-network mode's commands (real_network.cpp).
#include <CLI/CLI.hpp>

#include <memory>

namespace p2plab::cli {

class RealNetworkCommands {
 public:
  /// Adds the two subcommands to `app`.
  explicit RealNetworkCommands(CLI::App& app);
  /// If one of them was given: runs it and sets `exit_code`; false otherwise.
  bool dispatch(int& exit_code) const;

  struct Options;

 private:
  std::shared_ptr<Options> o_;
  CLI::App* node_ = nullptr;
  CLI::App* cluster_ = nullptr;
};

}  // namespace p2plab::cli
