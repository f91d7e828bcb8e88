#include "command_options.hpp"

namespace p2plab::cli {

void add_options(CLI::App* command, const ProtocolCommand& protocol_command, const std::set<std::string>& skip,
                 std::vector<ParsedOption>& out) {
  out.reserve(protocol_command.options.size());  // the parser keeps pointers into `out`
  for (const CommandOption& o : protocol_command.options) {
    if (skip.count(o.name) != 0) continue;
    out.push_back({o, {}, nullptr});
    ParsedOption& p = out.back();
    std::string names = "--" + o.name;
    if (!o.short_name.empty()) names += ",-" + o.short_name;
    if (o.flag) {
      p.cli = command->add_flag(names, o.help);
      continue;
    }
    p.cli = command->add_option(names, p.values, o.help);
    if (!o.repeatable) p.cli->expected(1);
    if (!o.default_value.empty()) p.cli->default_str(o.default_value);
  }
}

CommandArgs args_of(const std::vector<ParsedOption>& options) {
  CommandArgs args;
  for (const ParsedOption& p : options) {
    if (p.option.flag) {
      if (p.cli->count() > 0) args[p.option.name] = "true";
      continue;
    }
    if (p.cli->count() == 0) {
      if (!p.option.default_value.empty()) args[p.option.name] = p.option.default_value;
      continue;
    }
    std::string joined;
    for (const std::string& v : p.values) joined += (joined.empty() ? "" : "\n") + v;
    args[p.option.name] = joined;
  }
  return args;
}

}  // namespace p2plab::cli
