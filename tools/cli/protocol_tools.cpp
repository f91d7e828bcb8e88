#include "protocol_tools.hpp"

#include <cstdio>
#include <string>

#include "command_options.hpp"
#include "p2plab/registry.hpp"

namespace p2plab::cli {

struct ProtocolTools::Tool {
  const ProtocolCommand* command = nullptr;
  CLI::App* app = nullptr;
  std::vector<ParsedOption> options;
  std::vector<std::string> arguments;  // one per CommandArgument, in order
};

ProtocolTools::ProtocolTools(CLI::App& app) {
  for (const ProtocolInfo& protocol : all_protocols().all()) {
    if (protocol.commands.empty()) continue;
    const auto same_name = [&](const CLI::App* command) { return command->get_name() == protocol.name; };
    if (!static_cast<const CLI::App&>(app).get_subcommands(same_name).empty()) {
      std::fprintf(stderr, "p2plab: the tools of protocol %s are left out: %s is a command already\n",
                   protocol.name.c_str(), protocol.name.c_str());
      continue;
    }
    std::string names;
    for (const ProtocolCommand& c : protocol.commands) names += (names.empty() ? "" : ", ") + c.name;
    CLI::App* group = app.add_subcommand(
        protocol.name, protocol.name + " tools (" + names + "): `p2plab " + protocol.name + " COMMAND --help`");
    group->require_subcommand(1);
    for (const ProtocolCommand& command : protocol.commands) {
      auto tool = std::make_unique<Tool>();
      tool->command = &command;
      tool->app = group->add_subcommand(command.name, command.summary);
      tool->arguments.resize(command.arguments.size());  // not resized again: the parser keeps pointers
      for (std::size_t i = 0; i < command.arguments.size(); ++i) {
        tool->app->add_option(command.arguments[i].name, tool->arguments[i], command.arguments[i].help)->required();
      }
      add_options(tool->app, command, {}, tool->options);
      tools_.push_back(std::move(tool));
    }
  }
}

ProtocolTools::~ProtocolTools() = default;

bool ProtocolTools::dispatch(int& exit_code) const {
  for (const auto& tool : tools_) {
    if (!tool->app->parsed()) continue;
    CommandArgs args = args_of(tool->options);
    for (std::size_t i = 0; i < tool->arguments.size(); ++i)
      args[tool->command->arguments[i].name] = tool->arguments[i];
    exit_code = tool->command->run(args);
    return true;
  }
  return false;
}

}  // namespace p2plab::cli
