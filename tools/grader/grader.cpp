// p2plab-grade: runs graded tests, one process per test under a time and memory limit, and
// reports points per exercise: a table on the terminal, Gradescope's results.json, JUnit XML.
// tools/grade builds a tree and calls this; see exercises/README.md.
//
// A test that fails, crashes, hangs or exhausts memory costs its own points only: each runs in
// its own process group, killed when its time is up.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using nlohmann::json;

struct TestSpec {
  std::string exercise, name;
  double points = 0;
  bool hidden = false;
};

struct Outcome {
  bool passed = false;
  std::string status;  // passed, failed, timed out, crashed, not built
  std::string output;
  double seconds = 0;
};

struct Options {
  std::string manifest;
  std::string variant = "student";
  std::vector<std::string> exercises;
  std::string mutant;
  double timeout = 20;
  long memory_mb = 4096;
  bool public_only = false;
  std::string results, junit;
  std::vector<std::string> build_failed;  // EXERCISE=LOGFILE
  std::string expect;                     // full, zero, loses-points
  bool quiet = false;
};

std::string read_file(const std::string& path, std::size_t limit) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > limit) text = text.substr(0, limit) + "\n[... output cut at " + std::to_string(limit) + " bytes]\n";
  return text;
}

/// What a failed build says about the student's code: the compiler's error lines with a little
/// context (the make noise around them left out), or the end of the log if no line says error.
std::string build_errors(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::string out;
  std::size_t shown = 0;
  for (std::size_t i = 0; i < lines.size() && shown < 80; ++i) {
    const std::string& l = lines[i];
    const bool error = l.find("error") != std::string::npos || l.find("undefined reference") != std::string::npos;
    if (!error || l.rfind("gmake", 0) == 0 || l.rfind("make", 0) == 0) continue;
    for (std::size_t j = i; j < lines.size() && j < i + 4 && shown < 80; ++j, ++shown) out += lines[j] + "\n";
  }
  if (out.empty()) {
    for (std::size_t i = lines.size() > 40 ? lines.size() - 40 : 0; i < lines.size(); ++i) out += lines[i] + "\n";
  }
  return out;
}

std::string signal_name(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV (a bad pointer or index, or a stack overflow from endless recursion)";
    case SIGABRT: return "SIGABRT (an assertion or an uncaught exception)";
    case SIGFPE: return "SIGFPE (a division by zero)";
    case SIGBUS: return "SIGBUS";
    case SIGKILL: return "SIGKILL";
    case SIGILL: return "SIGILL";
    default: return "signal " + std::to_string(sig);
  }
}

/// Runs `binary --test-case=<name>` in its own process group with limits; collects its output.
Outcome run_test(const std::string& binary, const TestSpec& test, const Options& options) {
  Outcome out;
  char log_path[] = "/tmp/p2plab-grade-XXXXXX";
  const int log_fd = mkstemp(log_path);
  if (log_fd < 0) {
    out.status = "failed";
    out.output = "the grader could not create a temporary file";
    return out;
  }
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    const int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    if (options.memory_mb > 0) {
#if defined(__SANITIZE_ADDRESS__)
      // A sanitizer build's test programs reserve terabytes of address space for AddressSanitizer's
      // shadow memory: an address-space limit would stop each at its start. The limit is then
      // AddressSanitizer's own, on resident memory.
      const char* given = std::getenv("ASAN_OPTIONS");
      const std::string asan_options = std::string(given ? given : "") + ":hard_rss_limit_mb=" +
                                       std::to_string(options.memory_mb);
      setenv("ASAN_OPTIONS", asan_options.c_str(), 1);
#else
      const rlim_t bytes = static_cast<rlim_t>(options.memory_mb) * 1024 * 1024;
      const rlimit limit{bytes, bytes};
      setrlimit(RLIMIT_AS, &limit);
#endif
    }
    const rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    const std::string filter = "--test-case=" + test.name;
    execl(binary.c_str(), binary.c_str(), filter.c_str(), "--no-colors=true", "--no-version=true",
          static_cast<char*>(nullptr));
    std::fprintf(stderr, "cannot run %s: %s\n", binary.c_str(), std::strerror(errno));
    _exit(127);
  }
  if (pid < 0) {
    close(log_fd);
    unlink(log_path);
    out.status = "failed";
    out.output = "the grader could not start a process";
    return out;
  }
  setpgid(pid, pid);
  int status = 0;
  bool timed_out = false;
  const auto deadline = start + std::chrono::duration<double>(options.timeout);
  for (;;) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      timed_out = true;
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(-pid, SIGKILL);  // anything the test left behind in its group
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  close(log_fd);
  out.output = read_file(log_path, 16 * 1024);
  unlink(log_path);
  std::ostringstream why;
  if (timed_out) {
    out.status = "timed out";
    why << "Timed out after " << options.timeout << " s: your code may loop forever (or wait for something that "
        << "never comes). Only this test is lost.\n";
  } else if (WIFSIGNALED(status)) {
    out.status = "crashed";
    why << "Crashed with " << signal_name(WTERMSIG(status)) << ". Only this test is lost.\n";
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    out.status = "passed";
    out.passed = true;
  } else {
    out.status = "failed";
  }
  out.output = why.str() + out.output;
  return out;
}

std::string xml_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string format_points(double p) {
  std::ostringstream s;
  s << std::round(p * 100) / 100;
  return s.str();
}

int run(const Options& options) {
  json manifest;
  try {
    std::ifstream in(options.manifest);
    if (!in) throw std::runtime_error("cannot open the file");
    manifest = json::parse(in);
  } catch (const std::exception& e) {
    std::cerr << options.manifest << ": " << e.what() << "\n";
    return 2;
  }
  std::map<std::string, std::string> failed_builds;
  for (const auto& entry : options.build_failed) {
    const auto eq = entry.find('=');
    if (eq == std::string::npos) {
      std::cerr << "--build-failed: expected EXERCISE=LOGFILE, got '" << entry << "'\n";
      return 2;
    }
    failed_builds[entry.substr(0, eq)] = build_errors(entry.substr(eq + 1));
  }
  std::string mutant_binary, mutant_exercise;
  if (!options.mutant.empty()) {
    for (const auto& m : manifest.value("mutants", json::array())) {
      if (m.value("mutant", "") == options.mutant) {
        mutant_binary = m.value("binary", "");
        mutant_exercise = m.value("exercise", "");
      }
    }
    if (mutant_binary.empty()) {
      std::cerr << "--mutant: no mutant named '" << options.mutant << "' in " << options.manifest << "\n";
      return 2;
    }
  }

  json tests_json = json::array();
  std::ostringstream junit;
  struct Tally {
    double score = 0, max = 0;
    int passed = 0, total = 0;
  };
  std::map<std::string, Tally> per_exercise;
  std::vector<std::string> order;
  const auto started = std::chrono::steady_clock::now();
  int exercise_number = 0;
  for (const auto& ex : manifest.value("exercises", json::array())) {
    const std::string exercise = ex.value("exercise", "");
    if (!options.exercises.empty() &&
        std::find(options.exercises.begin(), options.exercises.end(), exercise) == options.exercises.end()) {
      continue;
    }
    if (!mutant_exercise.empty() && exercise != mutant_exercise) continue;
    ++exercise_number;
    std::string binary;
    if (!mutant_binary.empty()) {
      binary = mutant_binary;
    } else if (options.variant == "reference") {
      if (ex["reference"].is_null()) {
        std::cerr << exercise << ": this tree has no reference solution (a student release?)\n";
        return 2;
      }
      binary = ex["reference"].get<std::string>();
    } else {
      binary = ex.value("student", "");
    }
    const bool not_built = failed_builds.count(exercise) > 0 || access(binary.c_str(), X_OK) != 0;
    order.push_back(exercise);
    Tally& tally = per_exercise[exercise];
    std::ostringstream suite;
    int failures = 0, count = 0, test_number = 0;
    for (const auto& t : ex.value("tests", json::array())) {
      TestSpec test{t.value("exercise", exercise), t.value("name", ""), t.value("points", 0.0), t.value("hidden", false)};
      if (options.public_only && test.hidden) continue;
      ++test_number;
      ++count;
      Outcome outcome;
      if (not_built) {
        outcome.status = "not built";
        outcome.output = "Your code for " + exercise + " did not compile or link, so no test of it could run.\n" +
                         (failed_builds.count(exercise) ? failed_builds[exercise] : "missing program " + binary);
      } else {
        outcome = run_test(binary, test, options);
      }
      const double score = outcome.passed ? test.points : 0;
      tally.score += score;
      tally.max += test.points;
      tally.total += 1;
      tally.passed += outcome.passed ? 1 : 0;
      if (!outcome.passed) ++failures;
      if (!options.quiet) {
        std::printf("  %-9s %5s/%-5s %s\n", outcome.status.c_str(), format_points(score).c_str(),
                    format_points(test.points).c_str(), test.name.c_str());
        std::fflush(stdout);
      }
      tests_json.push_back({{"name", test.name},
                            {"number", std::to_string(exercise_number) + "." + std::to_string(test_number)},
                            {"score", score},
                            {"max_score", test.points},
                            {"status", outcome.passed ? "passed" : "failed"},
                            {"output", outcome.output},
                            {"visibility", test.hidden ? "after_published" : "visible"},
                            {"tags", json::array({exercise})}});
      suite << "    <testcase classname=\"" << xml_escape(exercise) << "\" name=\"" << xml_escape(test.name)
            << "\" time=\"" << outcome.seconds << "\">";
      if (!outcome.passed) {
        suite << "<failure message=\"" << xml_escape(outcome.status) << "\">" << xml_escape(outcome.output)
              << "</failure>";
      }
      suite << "</testcase>\n";
    }
    junit << "  <testsuite name=\"" << xml_escape(exercise) << "\" tests=\"" << count << "\" failures=\"" << failures
          << "\">\n"
          << suite.str() << "  </testsuite>\n";
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  double total = 0, max_total = 0;
  std::ostringstream table;
  table << "\n" << (options.mutant.empty() ? "" : "mutant " + options.mutant + ": ") << "points per exercise\n";
  char line[256];
  std::snprintf(line, sizeof line, "  %-20s %8s %9s\n", "exercise", "tests", "points");
  table << line;
  for (const auto& exercise : order) {
    const Tally& t = per_exercise[exercise];
    total += t.score;
    max_total += t.max;
    std::snprintf(line, sizeof line, "  %-20s %4d/%-3d %5s/%-5s\n", exercise.c_str(), t.passed, t.total,
                  format_points(t.score).c_str(), format_points(t.max).c_str());
    table << line;
  }
  std::snprintf(line, sizeof line, "  %-20s %8s %5s/%-5s\n", "total", "", format_points(total).c_str(),
                format_points(max_total).c_str());
  table << line;
  std::cout << table.str() << std::flush;

  if (!options.results.empty()) {
    json results = {{"score", total},
                    {"execution_time", seconds},
                    {"output", "p2plab grader" + table.str()},
                    {"visibility", "visible"},
                    {"stdout_visibility", "hidden"},
                    {"tests", tests_json}};
    std::ofstream out(options.results);
    out << results.dump(2) << "\n";
    if (!out) {
      std::cerr << options.results << ": cannot write the results\n";
      return 2;
    }
  }
  if (!options.junit.empty()) {
    std::ofstream out(options.junit);
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"p2plab grading\">\n"
        << junit.str() << "</testsuites>\n";
    if (!out) {
      std::cerr << options.junit << ": cannot write the JUnit report\n";
      return 2;
    }
  }

  if (options.expect.empty()) return 0;
  bool met = false;
  if (options.expect == "full") met = max_total > 0 && total == max_total;
  if (options.expect == "zero") met = max_total > 0 && total == 0;
  if (options.expect == "loses-points") met = max_total > 0 && total < max_total;
  std::cout << "expected " << options.expect << ": " << (met ? "yes" : "NO") << "\n";
  return met ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"p2plab-grade: runs the graded tests of a built tree, one process per test, and reports points"};
  app.add_option("--manifest", options.manifest, "build/grading.json of the built tree")->required();
  app.add_option("--variant", options.variant, "Whose code: student (default) or reference")
      ->check(CLI::IsMember({"student", "reference"}));
  app.add_option("--exercise", options.exercises, "Grade only these exercises");
  app.add_option("--mutant", options.mutant, "Grade a deliberately broken solution (tests/grading/mutants/)");
  app.add_option("--timeout", options.timeout, "Seconds each test may run")->check(CLI::Range(0.1, 3600.0))->capture_default_str();
  app.add_option("--memory-mb", options.memory_mb, "Address-space limit per test in MiB (0: none)")
      ->check(CLI::Range(0L, 1L << 20))->capture_default_str();
  app.add_flag("--public-only", options.public_only, "Leave out hidden tests");
  app.add_option("--results", options.results, "Write Gradescope results.json here");
  app.add_option("--junit", options.junit, "Write JUnit XML here");
  app.add_option("--build-failed", options.build_failed, "EXERCISE=LOGFILE: this exercise did not build (log shown)");
  app.add_option("--expect", options.expect, "Exit 1 unless the score is: full, zero or loses-points")
      ->check(CLI::IsMember({"full", "zero", "loses-points"}));
  app.add_flag("--quiet", options.quiet, "Only the table");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return run(options);
}
