// The architecture's boundary, checked on the source tree: outside protocols/, code names no
// protocol and includes no protocol header. Usage:
//   check_boundary SOURCE_DIR [--exclude PATH]... PATH...
// PATH is a folder or file relative to SOURCE_DIR. In every C++, CMake or shell file under it,
// code (comments removed, string literals kept: a help string must not list protocols either)
// must not match chord|flooding|superpeer|central_index|napster|gnutella (any case), and no
// #include may name a header that exists under protocols/ (as protocols/P or protocols/*/P).
// Prints every violation as file:line and exits 1 if there is one.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

enum class Syntax { Cpp, Hash, None };

Syntax syntax_of(const fs::path& path) {
  const std::string ext = path.extension().string(), name = path.filename().string();
  if (ext == ".cpp" || ext == ".hpp" || ext == ".h" || ext == ".cc" || ext == ".c" || ext == ".inl") return Syntax::Cpp;
  if (name == "CMakeLists.txt" || ext == ".cmake" || ext == ".sh" || ext == ".py") return Syntax::Hash;
  return Syntax::None;  // documentation, data, assets: not code
}

/// The text with comments blanked out (newlines kept, so line numbers stay), strings kept.
std::string without_comments(const std::string& text, Syntax syntax) {
  std::string out = text;
  enum { Code, String, Char, Line, Block } state = Code;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i], next = i + 1 < text.size() ? text[i + 1] : '\0';
    switch (state) {
      case Code:
        if (c == '"') {
          state = String;
        } else if (c == '\'' && syntax == Syntax::Cpp) {
          state = Char;
        } else if (syntax == Syntax::Cpp && c == '/' && next == '/') {
          state = Line;
          out[i] = ' ';
        } else if (syntax == Syntax::Cpp && c == '/' && next == '*') {
          state = Block;
          out[i] = ' ';
        } else if (syntax == Syntax::Hash && c == '#') {
          state = Line;
          out[i] = ' ';
        }
        break;
      case String:
      case Char:
        if (c == '\\') {
          ++i;
        } else if ((state == String && c == '"') || (state == Char && c == '\'') || c == '\n') {
          state = Code;
        }
        break;
      case Line:
        if (c == '\n') {
          state = Code;
        } else {
          out[i] = ' ';
        }
        break;
      case Block:
        if (c == '*' && next == '/') {
          out[i] = out[i + 1] = ' ';
          ++i;
          state = Code;
        } else if (c != '\n') {
          out[i] = ' ';
        }
        break;
    }
  }
  return out;
}

bool under(const fs::path& path, const fs::path& prefix) {
  const std::string p = path.generic_string(), q = prefix.generic_string();
  return p == q || (p.size() > q.size() && p.compare(0, q.size(), q) == 0 && p[q.size()] == '/');
}

/// Whether `#include "name"` in `file` names a protocol's header.
bool is_protocol_header(const fs::path& root, const fs::path& file, const std::string& name) {
  if (fs::exists(file.parent_path() / name) || fs::exists(root / "engine/include" / name) ||
      fs::exists(root / "net/include" / name)) {
    return false;
  }
  if (fs::exists(root / "protocols" / name)) return true;
  for (const auto& entry : fs::directory_iterator(root / "protocols")) {
    if (entry.is_directory() && fs::exists(entry.path() / name)) return true;
  }
  return false;
}

/// The first protocol name in `line` (any case), or "". The built-in protocols and the ones the
/// course plans next: a new protocol's name belongs in this list when it lands.
std::string protocol_name_in(const std::string& line) {
  static const char* const kNames[] = {"chord",    "flooding", "superpeer", "central_index", "napster",
                                       "gnutella", "kademlia", "pastry",    "ipfs",          "bitswap"};
  std::string lower = line;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* name : kNames) {
    const std::size_t at = lower.find(name);
    if (at != std::string::npos) return line.substr(at, std::strlen(name));
  }
  return "";
}

/// The path an #include line names ("" if the line is no include). Plain string work rather than
/// <regex>, whose libstdc++ 12 headers trip -Wmaybe-uninitialized under the sanitizers.
std::string included_path(const std::string& line) {
  std::size_t i = line.find_first_not_of(" \t");
  if (i == std::string::npos || line[i] != '#') return "";
  i = line.find_first_not_of(" \t", i + 1);
  if (i == std::string::npos || line.compare(i, 7, "include") != 0) return "";
  i = line.find_first_not_of(" \t", i + 7);
  if (i == std::string::npos || (line[i] != '"' && line[i] != '<')) return "";
  const std::size_t end = line.find(line[i] == '"' ? '"' : '>', i + 1);
  return end == std::string::npos ? "" : line.substr(i + 1, end - i - 1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: check_boundary SOURCE_DIR [--exclude PATH]... PATH...\n");
    return 2;
  }
  const fs::path root = argv[1];
  std::vector<fs::path> paths, excluded;
  for (int i = 2; i < argc; ++i) {
    if (std::string(argv[i]) == "--exclude" && i + 1 < argc) {
      excluded.push_back(argv[++i]);
    } else {
      paths.push_back(argv[i]);
    }
  }
  std::vector<fs::path> files;
  for (const fs::path& p : paths) {
    if (!fs::exists(root / p)) {
      std::printf("%s: does not exist\n", p.generic_string().c_str());
      return 1;
    }
    if (fs::is_regular_file(root / p)) {
      files.push_back(p);
      continue;
    }
    for (const auto& entry : fs::recursive_directory_iterator(root / p)) {
      if (entry.is_regular_file()) files.push_back(fs::relative(entry.path(), root));
    }
  }
  std::sort(files.begin(), files.end());
  int violations = 0, checked = 0;
  for (const fs::path& file : files) {
    if (std::any_of(excluded.begin(), excluded.end(), [&](const fs::path& x) { return under(file, x); })) continue;
    const Syntax syntax = syntax_of(file);
    if (syntax == Syntax::None) continue;
    ++checked;
    std::ifstream in(root / file);
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string code = without_comments(buffer.str(), syntax);
    std::istringstream lines(code);
    std::string line;
    for (int number = 1; std::getline(lines, line); ++number) {
      const std::string name = protocol_name_in(line);
      if (!name.empty()) {
        std::printf("%s:%d: names a protocol (\"%s\") outside a comment\n", file.generic_string().c_str(), number,
                    name.c_str());
        ++violations;
      }
      const std::string included = syntax == Syntax::Cpp ? included_path(line) : "";
      if (!included.empty() && is_protocol_header(root, root / file, included)) {
        std::printf("%s:%d: includes a protocol header (%s)\n", file.generic_string().c_str(), number,
                    included.c_str());
        ++violations;
      }
    }
  }
  std::printf("%d files checked, %d violations\n", checked, violations);
  return violations == 0 && checked > 0 ? 0 : 1;
}
