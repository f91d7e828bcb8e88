// p2plab-grade: runs graded tests, one process per test under time, memory and output limits,
// and reports points per exercise: a table on the terminal, Gradescope's results.json, JUnit XML.
// tools/grade builds a tree and calls this; see exercises/README.md.
//
// What a test program must do to pass, and what student code cannot fake by ending early: the
// grader hands each test process a socket holding a fresh random nonce (P2PLAB_VERDICT_FD, read
// and hidden by tests/grading/grading_main.cpp before any ordinary static initializer runs); the
// test passes only if, after doctest ran the test body, the program wrote "<nonce> passed" there
// and exited with status 0. A test that fails, crashes, hangs, prints without end or exhausts
// memory costs its own points only: each runs in a session of its own, with a file-size limit on
// its log; the grader is the subreaper of everything its tests start, and kills every process a
// test left behind (daemons that left the session included) before it writes any result.
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct TestSpec {
  std::string exercise, name;
  double points = 0;
  bool hidden = false;
};

struct Outcome {
  bool passed = false;
  std::string
      status;  // passed, failed, timed out, crashed, ended early, too much output, not built, off limits, not run
  std::string output;
  double seconds = 0;
};

struct Options {
  std::string manifest;
  std::string variant = "student";
  std::vector<std::string> exercises;
  std::string mutant;
  double timeout = 20;
  double total_timeout = 300;
  int jobs = 0;  // 0: as many as the machine has cores, at most 4
  long memory_mb = 4096;
  long output_kb = 1024;
  bool public_only = false;
  std::string results, junit;
  std::vector<std::string> build_failed;  // EXERCISE=LOGFILE
  std::string expect;                     // full, zero, loses-points
  long max_grader_mb = 0;                 // 0: no check of the grader's own peak memory
  bool quiet = false;
  bool show_failures = false;
  bool until_points_lost = false;  // CI's proof that a mistake loses points needs one failed test
  std::string run_as;              // a user the tests run as (needs root); empty: the grader's own
};

constexpr std::size_t kShownOutput = 16 * 1024;  // bytes of a test's log that reach the report

/// The tree's own folder, cut from every path shown to students ("tests/grading/x.cpp:12").
std::string source_root;

std::string relative_paths(std::string text) {
  if (source_root.empty()) return text;
  const std::string prefix = source_root + "/";
  for (std::size_t at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at)) {
    text.erase(at, prefix.size());
  }
  return text;
}

/// The first `limit` bytes of a file, never more in memory, and a note if the file is longer.
std::string read_head(const std::string& path, std::size_t limit) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string text(limit, '\0');
  std::size_t got = 0;
  while (got < limit) {
    const ssize_t n = read(fd, text.data() + got, limit - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  text.resize(got);
  struct stat info {};
  if (fstat(fd, &info) == 0 && static_cast<std::size_t>(info.st_size) > got) {
    text += "\n[... output cut at " + std::to_string(limit) + " of " + std::to_string(info.st_size) + " bytes]\n";
  }
  close(fd);
  return text;
}

/// What a failed build says about the student's code: the compiler's error lines with a little
/// context (the make noise around them left out), or the end of the log if no line says error.
std::string build_errors(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line) && lines.size() < 100000;) lines.push_back(line.substr(0, 1000));
  std::string out;
  std::size_t shown = 0;
  for (std::size_t i = 0; i < lines.size() && shown < 80; ++i) {
    const std::string& l = lines[i];
    const bool error = l.find("error") != std::string::npos || l.find("undefined reference") != std::string::npos;
    if (!error || l.rfind("gmake", 0) == 0 || l.rfind("make", 0) == 0 || l.rfind("ninja", 0) == 0) continue;
    for (std::size_t j = i; j < lines.size() && j < i + 4 && shown < 80; ++j, ++shown) out += lines[j] + "\n";
  }
  if (out.empty()) {
    for (std::size_t i = lines.size() > 40 ? lines.size() - 40 : 0; i < lines.size(); ++i) out += lines[i] + "\n";
  }
  return out;
}

std::string signal_name(int sig) {
  switch (sig) {
    case SIGSEGV:
      return "SIGSEGV (a bad pointer or index, or a stack overflow from endless recursion)";
    case SIGABRT:
      return "SIGABRT (an assertion or an uncaught exception)";
    case SIGFPE:
      return "SIGFPE (a division by zero)";
    case SIGBUS:
      return "SIGBUS";
    case SIGKILL:
      return "SIGKILL";
    case SIGILL:
      return "SIGILL";
    default:
      return "signal " + std::to_string(sig);
  }
}

/// 32 hex digits from the kernel's random source: a new one for every test process.
std::string fresh_nonce() {
  unsigned char bytes[16] = {};
  std::size_t got = 0;
  const int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    while (got < sizeof bytes) {
      const ssize_t n = read(fd, bytes + got, sizeof bytes - got);
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    close(fd);
  }
  std::random_device device;
  for (std::size_t i = got; i < sizeof bytes; ++i) bytes[i] = static_cast<unsigned char>(device());
  static const char* digits = "0123456789abcdef";
  std::string nonce;
  for (unsigned char b : bytes) {
    nonce += digits[b >> 4];
    nonce += digits[b & 15];
  }
  return nonce;
}

// ---- processes ------------------------------------------------------------------------------------

/// Parent of every live (not zombie) process, from /proc.
std::map<pid_t, pid_t> process_parents() {
  std::map<pid_t, pid_t> parents;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat;
    std::getline(in, stat);
    const auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) continue;
    std::istringstream fields(stat.substr(close_paren + 1));
    char state = 0;
    long parent = 0;
    if (!(fields >> state >> parent) || state == 'Z' || state == 'X') continue;
    parents[static_cast<pid_t>(std::stol(name))] = static_cast<pid_t>(parent);
  }
  return parents;
}

/// The running tests, by process id, and what became of the ones that ended (waitpid status).
std::set<pid_t> running_tests;
std::map<pid_t, int> ended_tests;

/// Reaps whatever ended among this process's children: a test's status is kept, anything else
/// (a stray this grader adopted as subreaper) is let go.
void reap() {
  for (;;) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    if (running_tests.count(pid)) ended_tests[pid] = status;
  }
}

/// Kills every descendant of this grader except the running tests' own process trees: what a
/// finished test left behind (its session's processes and daemons that started sessions of
/// their own end up here, adopted by the grader as subreaper). Repeats until none is left.
void kill_strays() {
  const pid_t self = getpid();
  for (int round = 0; round < 200; ++round) {
    const auto parents = process_parents();
    std::multimap<pid_t, pid_t> children;
    for (const auto& [pid, parent] : parents) children.emplace(parent, pid);
    std::vector<pid_t> strays, frontier;
    for (auto [it, end] = children.equal_range(self); it != end; ++it) {
      if (!running_tests.count(it->second)) frontier.push_back(it->second);
    }
    while (!frontier.empty()) {
      const pid_t pid = frontier.back();
      frontier.pop_back();
      strays.push_back(pid);
      for (auto [it, end] = children.equal_range(pid); it != end; ++it) frontier.push_back(it->second);
    }
    if (strays.empty()) return;
    for (pid_t pid : strays) kill(pid, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    reap();
  }
}

/// Kills every process of user `uid` (the tests' user with --run-as), until none is left.
void kill_user(uid_t uid) {
  for (int round = 0; round < 200; ++round) {
    bool any = false;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
      const std::string name = entry.path().filename().string();
      if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::ifstream in(entry.path() / "status");
      for (std::string line; std::getline(in, line);) {
        if (line.rfind("Uid:", 0) != 0) continue;
        std::istringstream fields(line.substr(4));
        long real = -1;
        fields >> real;
        if (real == static_cast<long>(uid)) {
          kill(static_cast<pid_t>(std::stol(name)), SIGKILL);
          any = true;
        }
        break;
      }
    }
    if (!any) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    reap();
  }
}

/// A test process the grader started and waits for.
// ---- code off limits ------------------------------------------------------------------------------
// An exercise may put code off limits that would do its work for the student (the engine's
// IdSpace solves chord-intervals): its off-limits.txt lists symbol prefixes, one per line, as
// "p2plab::IdSpace:: | why". The grader reads the symbols of the student's compiled objects with
// `nm -C` (binutils, beside the compiler): a call, or a definition (a student who declares the
// engine's class to reach it), of such a symbol scores the exercise zero, with the reason.

struct OffLimitsRule {
  std::string prefix, why;
};

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

std::vector<OffLimitsRule> read_off_limits(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = path + ": cannot read the exercise's off-limits list";
    return {};
  }
  std::vector<OffLimitsRule> rules;
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    const auto bar = line.find('|');
    if (bar == std::string::npos || trim(line.substr(0, bar)).empty()) {
      error = path + ":" + std::to_string(number) + ": expected 'SYMBOL PREFIX | why'";
      return {};
    }
    rules.push_back({trim(line.substr(0, bar)), trim(line.substr(bar + 1))});
  }
  return rules;
}

/// The demangled names of the symbols `objects` define or use (`nm -C`), at most a few MB of
/// listing; `error` says why when nm could not run.
std::vector<std::string> object_symbols(const std::vector<std::string>& objects, std::string& error) {
  int pipe_fds[2];
  if (objects.empty() || pipe2(pipe_fds, O_CLOEXEC) != 0) {
    error = objects.empty() ? "the build folder lists no compiled object of your code" : "no pipe for nm";
    return {};
  }
  const pid_t pid = fork();
  if (pid < 0) {
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    error = "could not start nm";
    return {};
  }
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    const int null_fd = open("/dev/null", O_WRONLY);
    if (null_fd >= 0) dup2(null_fd, STDERR_FILENO);
    std::vector<char*> argv{const_cast<char*>("nm"), const_cast<char*>("-C"), const_cast<char*>("--")};
    for (const auto& object : objects) argv.push_back(const_cast<char*>(object.c_str()));
    argv.push_back(nullptr);
    execvp("nm", argv.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  constexpr std::size_t kLimit = 8u << 20;
  std::string listing;
  char buffer[65536];
  for (ssize_t n; (n = read(pipe_fds[0], buffer, sizeof buffer)) > 0;) {
    if (listing.size() < kLimit) listing.append(buffer, static_cast<std::size_t>(n));
  }
  close(pipe_fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    error = WIFEXITED(status) && WEXITSTATUS(status) == 127 ? "nm (binutils) is not installed"
                                                            : "nm could not read the compiled objects";
    return {};
  }
  // Lines "0000000000000000 T name" or "                 U name": the name from column 19.
  std::vector<std::string> names;
  std::istringstream lines(listing);
  for (std::string line; std::getline(lines, line);) {
    if (line.size() > 19 && line[16] == ' ' && line[18] == ' ') names.push_back(line.substr(19));
  }
  return names;
}

/// Why the student's objects may not be graded ("" when they may): an off-limits symbol named,
/// or a check that could not run (then no points either: a grade means the check ran).
std::string off_limits_verdict(const std::string& exercise, const std::string& rules_path,
                               const std::vector<std::string>& objects) {
  std::string error;
  const auto rules = read_off_limits(rules_path, error);
  std::vector<std::string> symbols;
  if (error.empty()) symbols = object_symbols(objects, error);
  if (!error.empty()) {
    return "The grader could not check which code yours calls (" + relative_paths(error) + "), so no test of " +
           exercise + " was run.\n";
  }
  std::string found;
  std::set<std::string> reasons;
  int shown = 0;
  for (const auto& rule : rules) {
    for (const auto& name : symbols) {
      if (name.rfind(rule.prefix, 0) != 0) continue;
      if (shown++ < 5) found += "  " + name.substr(0, 200) + "\n";
      reasons.insert(rule.why);
    }
  }
  if (found.empty()) return "";
  std::string text = "Your code for " + exercise + " uses code that is off limits in this exercise:\n" + found;
  for (const auto& why : reasons) text += why + "\n";
  return text + "No test of " + exercise + " was run: write that part yourself.\n";
}

struct Running {
  std::size_t index = 0;  // into the list of tests
  pid_t pid = -1;
  int verdict_fd = -1;  // the grader's end of the verdict socket
  std::string log_path;
  std::string work_dir;  // the test's working folder, empty and its own
  std::string nonce;
  Clock::time_point start;
};

/// Starts `binary --test-case=<name>` in a session of its own, with limits, its output to a file
/// and the verdict socket holding a fresh nonce. On failure `error` says why.
Running start_test(const std::string& binary, const TestSpec& test, std::size_t index, const Options& options,
                   std::string& error) {
  Running run;
  run.index = index;
  run.nonce = fresh_nonce();
  uid_t uid = 0;
  gid_t gid = 0;
  if (!options.run_as.empty()) {
    const passwd* user = getpwnam(options.run_as.c_str());
    if (user == nullptr || user->pw_uid == 0) {
      error = "the grader has no unprivileged user " + options.run_as + " to run the tests as";
      return run;
    }
    uid = user->pw_uid;
    gid = user->pw_gid;
  }
  // What was made so far, undone when a step fails.
  char log_path[] = "/tmp/p2plab-grade-XXXXXX";
  char work_dir[] = "/tmp/p2plab-grade-work-XXXXXX";
  int log_fd = -1;
  int sockets[2] = {-1, -1};
  auto give_up = [&](const std::string& why) {
    for (int fd : {log_fd, sockets[0], sockets[1]}) {
      if (fd >= 0) close(fd);
    }
    if (log_fd >= 0) unlink(log_path);
    if (!run.work_dir.empty()) rmdir(work_dir);
    error = why;
    return run;
  };
  log_fd = mkostemp(log_path, O_CLOEXEC);
  if (log_fd < 0) return give_up("the grader could not create a temporary file");
  run.log_path = log_path;
  if (mkdtemp(work_dir) == nullptr) return give_up("the grader could not create a working folder");
  run.work_dir = work_dir;
  if (!options.run_as.empty() && chown(work_dir, uid, gid) != 0) {
    return give_up("the grader could not hand its working folder to user " + options.run_as);
  }
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0) {
    return give_up("the grader could not create a socket");
  }
  const std::string line = run.nonce + "\n";
  if (write(sockets[0], line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    return give_up("the grader could not write to its socket");
  }
  const std::string filter = "--test-case=" + test.name;
  run.start = Clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    setsid();
    if (chdir(work_dir) != 0) _exit(126);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    const int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    const int verdict_fd = fcntl(sockets[1], F_DUPFD, 10);  // without close-on-exec: the program keeps it
    setenv("P2PLAB_VERDICT_FD", std::to_string(verdict_fd).c_str(), 1);
    if (options.memory_mb > 0) {
#if defined(__SANITIZE_ADDRESS__)
      // A sanitizer build's test programs reserve terabytes of address space for AddressSanitizer's
      // shadow memory: an address-space limit would stop each at its start. The limit is then
      // AddressSanitizer's own, on resident memory.
      const char* given = std::getenv("ASAN_OPTIONS");
      const std::string asan_options =
          std::string(given ? given : "") + ":hard_rss_limit_mb=" + std::to_string(options.memory_mb);
      setenv("ASAN_OPTIONS", asan_options.c_str(), 1);
#else
      const rlim_t bytes = static_cast<rlim_t>(options.memory_mb) * 1024 * 1024;
      const rlimit limit{bytes, bytes};
      setrlimit(RLIMIT_AS, &limit);
#endif
    }
    const rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    if (options.output_kb > 0) {
      // Output beyond this ends the program with SIGXFSZ: a test that prints without end can
      // fill neither the disk nor the grader's memory.
      const rlim_t bytes = static_cast<rlim_t>(options.output_kb) * 1024;
      const rlimit limit{bytes, bytes};
      setrlimit(RLIMIT_FSIZE, &limit);
    }
    // CPU time: a backstop should the grader itself be stopped (its wall clock limit comes first).
    const rlim_t cpu = static_cast<rlim_t>(std::ceil(options.timeout)) + 5;
    const rlimit cpu_limit{cpu, cpu + 1};
    setrlimit(RLIMIT_CPU, &cpu_limit);
    if (!options.run_as.empty()) {
      // Counted per user: a fork bomb stops here (a limit root itself would not be held to).
      const rlimit processes{256, 256};
      setrlimit(RLIMIT_NPROC, &processes);
    }
    if (!options.run_as.empty() && (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0)) {
      std::fprintf(stderr, "the grader could not become user %s: %s\n", options.run_as.c_str(), std::strerror(errno));
      _exit(126);
    }
    execl(binary.c_str(), binary.c_str(), filter.c_str(), "--no-colors=true", "--no-version=true",
          static_cast<char*>(nullptr));
    std::fprintf(stderr, "cannot run %s: %s\n", binary.c_str(), std::strerror(errno));
    _exit(127);
  }
  if (pid < 0) return give_up("the grader could not start a process");
  close(log_fd);
  close(sockets[1]);
  fcntl(sockets[0], F_SETFL, O_NONBLOCK);
  run.pid = pid;
  run.verdict_fd = sockets[0];
  running_tests.insert(pid);
  return run;
}

/// What the test wrote to its verdict socket (at most one short line).
std::string read_verdict(int fd) {
  std::string text;
  char buffer[256];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n <= 0 || text.size() > 1024) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  return text;
}

/// Ends the bookkeeping of a test whose process ended (or was killed): kills what it left,
/// reads its verdict and the head of its log.
Outcome finish_test(Running& run, int status, bool timed_out, bool total_limit, const Options& options) {
  Outcome out;
  kill(-run.pid, SIGKILL);  // anything left in its session
  running_tests.erase(run.pid);
  ended_tests.erase(run.pid);
  kill_strays();
  out.seconds = std::chrono::duration<double>(Clock::now() - run.start).count();
  const std::string verdict = read_verdict(run.verdict_fd);
  close(run.verdict_fd);
  out.output = relative_paths(read_head(run.log_path, kShownOutput));
  unlink(run.log_path.c_str());
  std::error_code ignored;
  std::filesystem::remove_all(run.work_dir, ignored);
  const bool said_passed = verdict == run.nonce + " passed\n";
  const bool said_anything = verdict.rfind(run.nonce + " ", 0) == 0;
  std::ostringstream why;
  if (timed_out && total_limit) {
    out.status = "timed out";
    why << "Stopped after " << std::round(out.seconds * 10) / 10 << " s, when the grading's total time limit ("
        << options.total_timeout << " s) was reached: your code may loop forever (or wait for something that "
        << "never comes).\n";
  } else if (timed_out) {
    out.status = "timed out";
    why << "Timed out after " << options.timeout << " s: your code may loop forever (or wait for something that "
        << "never comes). Only this test is lost.\n";
  } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ) {
    out.status = "too much output";
    why << "Stopped after printing " << options.output_kb << " KiB of output (the limit): your code may print "
        << "in an endless loop. Only this test is lost.\n";
  } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU) {
    out.status = "timed out";
    why << "Used up its CPU time: your code may loop forever. Only this test is lost.\n";
  } else if (WIFSIGNALED(status)) {
    out.status = "crashed";
    why << "Crashed with " << signal_name(WTERMSIG(status)) << ". Only this test is lost.\n";
  } else if (WIFEXITED(status) && !said_anything) {
    out.status = "ended early";
    why << "Your code ended the program (exit " << WEXITSTATUS(status) << ") before the test finished: a call to "
        << "exit(), _exit() or quick_exit() in your code (or in a static initializer) stops the test before it "
        << "can pass. Only this test is lost.\n";
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && said_passed) {
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
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
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

/// One graded test to run (or not: its exercise did not build).
struct Entry {
  TestSpec spec;
  std::string binary;
  std::string not_built;  // the reason, when the exercise's program did not build (or is refused)
  std::string not_built_status = "not built";
  int exercise_number = 0, test_number = 0;
  Outcome outcome;
  bool done = false;
};

/// Runs the entries, up to options.jobs at a time, each under its own time limit and all under
/// options.total_timeout. Prints each result, in order, as soon as it and those before it are in.
void run_entries(std::vector<Entry>& entries, const Options& options) {
  std::deque<std::size_t> waiting;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].not_built.empty()) {
      waiting.push_back(i);
    } else {
      entries[i].outcome.status = entries[i].not_built_status;
      entries[i].outcome.output = entries[i].not_built;
      entries[i].done = true;
    }
  }
  std::size_t printed = 0;
  auto print_ready = [&] {
    for (; printed < entries.size() && entries[printed].done; ++printed) {
      const Entry& e = entries[printed];
      if (options.quiet) continue;
      const double score = e.outcome.passed ? e.spec.points : 0;
      std::ostringstream points;
      points << std::round(score * 100) / 100 << "/" << std::round(e.spec.points * 100) / 100;
      std::printf("  %-15s %11s  %s\n", e.outcome.status.c_str(), points.str().c_str(), e.spec.name.c_str());
      std::fflush(stdout);
    }
  };
  unsigned cores = std::thread::hardware_concurrency();
  const std::size_t jobs = options.jobs > 0 ? static_cast<std::size_t>(options.jobs) : std::clamp(cores, 1u, 4u);
  const auto total_deadline = Clock::now() + std::chrono::duration<double>(options.total_timeout);
  std::vector<Running> running;
  bool points_lost = false;  // with --until-points-lost: stop starting tests once one failed
  while (!waiting.empty() || !running.empty()) {
    const bool out_of_time = Clock::now() >= total_deadline;
    if (points_lost && !waiting.empty()) {
      for (std::size_t index : waiting) {
        entries[index].outcome.status = "not run";
        entries[index].outcome.output = "Not run: an earlier test failed, and --until-points-lost was given.\n";
        entries[index].done = true;
      }
      waiting.clear();
    }
    while (!out_of_time && !waiting.empty() && running.size() < jobs) {
      const std::size_t index = waiting.front();
      waiting.pop_front();
      std::string error;
      Running run = start_test(entries[index].binary, entries[index].spec, index, options, error);
      if (run.pid < 0) {
        entries[index].outcome.status = "failed";
        entries[index].outcome.output = error;
        entries[index].done = true;
        continue;
      }
      running.push_back(std::move(run));
    }
    if (out_of_time) {
      for (std::size_t index : waiting) {
        entries[index].outcome.status = "not run";
        std::ostringstream why;
        why << "Not run: the grading's total time limit (" << options.total_timeout << " s) was reached before this "
            << "test could start (tests before it took long, e.g. endless loops that ran into their time limit).\n";
        entries[index].outcome.output = why.str();
        entries[index].done = true;
      }
      waiting.clear();
    }
    reap();
    const auto now = Clock::now();
    for (std::size_t i = 0; i < running.size();) {
      Running& run = running[i];
      const bool ended = ended_tests.count(run.pid) > 0;
      const bool late = now >= run.start + std::chrono::duration<double>(options.timeout) || now >= total_deadline;
      if (!ended && !late) {
        ++i;
        continue;
      }
      const bool total_limit = !ended && now < run.start + std::chrono::duration<double>(options.timeout);
      int status = 0;
      if (ended) {
        status = ended_tests[run.pid];
      } else {
        kill(-run.pid, SIGKILL);
        kill(run.pid, SIGKILL);
        waitpid(run.pid, &status, 0);
      }
      entries[run.index].outcome = finish_test(run, status, !ended, total_limit, options);
      entries[run.index].done = true;
      points_lost = points_lost || (options.until_points_lost && !entries[run.index].outcome.passed);
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
    }
    print_ready();
    if (!running.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill_strays();
  if (!options.run_as.empty()) {
    const passwd* user = getpwnam(options.run_as.c_str());
    if (user != nullptr && user->pw_uid != 0) kill_user(user->pw_uid);
  }
  print_ready();
}

/// The grader's own peak resident memory in MiB.
long peak_memory_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
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
  source_root = manifest.value("source", "");
  std::map<std::string, std::string> failed_builds;
  for (const auto& entry : options.build_failed) {
    const auto eq = entry.find('=');
    if (eq == std::string::npos) {
      std::cerr << "--build-failed: expected EXERCISE=LOGFILE, got '" << entry << "'\n";
      return 2;
    }
    failed_builds[entry.substr(0, eq)] = relative_paths(build_errors(entry.substr(eq + 1)));
  }
  std::string mutant_binary, mutant_exercise;
  json mutant;
  if (!options.mutant.empty()) {
    for (const auto& m : manifest.value("mutants", json::array())) {
      if (m.value("mutant", "") == options.mutant) {
        mutant = m;
        mutant_binary = m.value("binary", "");
        mutant_exercise = m.value("exercise", "");
      }
    }
    if (mutant_binary.empty()) {
      std::cerr << "--mutant: no mutant named '" << options.mutant << "' in " << options.manifest << "\n";
      return 2;
    }
  }

  std::vector<Entry> entries;
  std::vector<std::string> order;
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
    std::string not_built;
    if (failed_builds.count(exercise) || access(binary.c_str(), X_OK) != 0) {
      not_built = "Your code for " + exercise + " did not compile or link, so no test of it could run.\n" +
                  (failed_builds.count(exercise) ? failed_builds[exercise] : "missing program " + binary);
    }
    std::string not_built_status = "not built";
    const bool student_code = !mutant_binary.empty() || options.variant != "reference";
    if (not_built.empty() && student_code && ex.contains("off_limits") && ex["off_limits"].is_string()) {
      std::vector<std::string> objects;
      for (const auto& object : (mutant_binary.empty() ? ex : mutant).value("student_objects", json::array())) {
        objects.push_back(object.get<std::string>());
      }
      not_built = off_limits_verdict(exercise, ex["off_limits"].get<std::string>(), objects);
      not_built_status = "off limits";
    }
    order.push_back(exercise);
    int test_number = 0;
    for (const auto& t : ex.value("tests", json::array())) {
      TestSpec test{t.value("exercise", exercise), t.value("name", ""), t.value("points", 0.0),
                    t.value("hidden", false)};
      if (options.public_only && test.hidden) continue;
      entries.push_back({test, binary, not_built, not_built_status, exercise_number, ++test_number, {}, false});
    }
  }

  const auto started = Clock::now();
  run_entries(entries, options);
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();

  json tests_json = json::array();
  struct Tally {
    double score = 0, max = 0;
    int passed = 0, total = 0, failures = 0;
    std::ostringstream junit;
  };
  std::map<std::string, Tally> per_exercise;
  for (const Entry& e : entries) {
    const Outcome& outcome = e.outcome;
    const TestSpec& test = e.spec;
    const std::string exercise = order[static_cast<std::size_t>(e.exercise_number - 1)];
    Tally& tally = per_exercise[exercise];
    const double score = outcome.passed ? test.points : 0;
    tally.score += score;
    tally.max += test.points;
    tally.total += 1;
    tally.passed += outcome.passed ? 1 : 0;
    tally.failures += outcome.passed ? 0 : 1;
    tests_json.push_back({{"name", test.name},
                          {"number", std::to_string(e.exercise_number) + "." + std::to_string(e.test_number)},
                          {"score", score},
                          {"max_score", test.points},
                          {"status", outcome.passed ? "passed" : "failed"},
                          {"output", outcome.output},
                          {"visibility", test.hidden ? "after_published" : "visible"},
                          {"tags", json::array({exercise})}});
    tally.junit << "    <testcase classname=\"" << xml_escape(exercise) << "\" name=\"" << xml_escape(test.name)
                << "\" time=\"" << outcome.seconds << "\">";
    if (!outcome.passed) {
      tally.junit << "<failure message=\"" << xml_escape(outcome.status) << "\">" << xml_escape(outcome.output)
                  << "</failure>";
    }
    tally.junit << "</testcase>\n";
  }

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
  if (options.show_failures) {
    for (const Entry& e : entries) {
      if (e.outcome.passed) continue;
      std::cout << "\n---- " << e.outcome.status << ": " << e.spec.name << "\n" << e.outcome.output;
    }
  }
  std::cout << table.str() << std::flush;

  if (!options.results.empty()) {
    json results = {
        {"score", total},          {"execution_time", seconds},     {"output", "p2plab grader" + table.str()},
        {"visibility", "visible"}, {"stdout_visibility", "hidden"}, {"tests", tests_json}};
    std::ofstream out(options.results);
    out << results.dump(2) << "\n";
    if (!out) {
      std::cerr << options.results << ": cannot write the results\n";
      return 2;
    }
  }
  if (!options.junit.empty()) {
    std::ofstream out(options.junit);
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"p2plab grading\">\n";
    for (const auto& exercise : order) {
      const Tally& t = per_exercise[exercise];
      out << "  <testsuite name=\"" << xml_escape(exercise) << "\" tests=\"" << t.total << "\" failures=\""
          << t.failures << "\">\n"
          << t.junit.str() << "  </testsuite>\n";
    }
    out << "</testsuites>\n";
    if (!out) {
      std::cerr << options.junit << ": cannot write the JUnit report\n";
      return 2;
    }
  }

  bool met = true;
  const long memory = peak_memory_mb();
  if (options.max_grader_mb > 0) {
    const bool small = memory <= options.max_grader_mb;
    std::cout << "grader peak memory: " << memory << " MiB (limit " << options.max_grader_mb
              << "): " << (small ? "yes" : "NO") << "\n";
    met = small;
  }
  if (options.expect.empty()) return met ? 0 : 1;
  bool expected = false;
  if (options.expect == "full") expected = max_total > 0 && total == max_total;
  if (options.expect == "zero") expected = max_total > 0 && total == 0;
  if (options.expect == "loses-points") expected = max_total > 0 && total < max_total;
  std::cout << "expected " << options.expect << ": " << (expected ? "yes" : "NO") << "\n";
  return met && expected ? 0 : 1;
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
  app.add_option("--timeout", options.timeout, "Seconds each test may run")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  app.add_option("--total-timeout", options.total_timeout, "Seconds all tests together may run; later ones are not run")
      ->check(CLI::Range(1.0, 86400.0))
      ->capture_default_str();
  app.add_option("--jobs", options.jobs, "Tests run at the same time (0: one per core, at most 4)")
      ->check(CLI::Range(0, 64))
      ->capture_default_str();
  app.add_option("--memory-mb", options.memory_mb, "Address-space limit per test in MiB (0: none)")
      ->check(CLI::Range(0L, 1L << 20))
      ->capture_default_str();
  app.add_option("--output-kb", options.output_kb,
                 "Output limit per test in KiB (0: none); the report shows the first 16")
      ->check(CLI::Range(0L, 1L << 20))
      ->capture_default_str();
  app.add_flag("--public-only", options.public_only, "Leave out hidden tests");
  app.add_option("--results", options.results, "Write Gradescope results.json here");
  app.add_option("--junit", options.junit, "Write JUnit XML here");
  app.add_option("--build-failed", options.build_failed, "EXERCISE=LOGFILE: this exercise did not build (log shown)");
  app.add_option("--expect", options.expect, "Exit 1 unless the score is: full, zero or loses-points")
      ->check(CLI::IsMember({"full", "zero", "loses-points"}));
  app.add_option("--max-grader-mb", options.max_grader_mb,
                 "Exit 1 if the grader's own peak memory exceeds this (a check)")
      ->check(CLI::Range(0L, 1L << 20));
  app.add_option(
      "--run-as", options.run_as,
      "Run the tests as this user, one for the tests only: every process of it is killed at the end (needs root)");
  app.add_flag("--quiet", options.quiet, "Only the table");
  app.add_flag("--show-failures", options.show_failures, "Print each failed test's messages before the table");
  app.add_flag("--until-points-lost", options.until_points_lost,
               "Start no more tests once one failed (enough to show a broken solution loses points)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  // Every process a test starts stays a descendant of the grader, even one that leaves its
  // session and parent (a daemon): the grader can find and end it before writing any result.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  return run(options);
}
