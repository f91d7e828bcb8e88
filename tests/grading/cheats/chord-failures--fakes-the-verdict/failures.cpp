// Cheat of exercise chord-failures, written against the grader's verdict channel: the stub, and
// a static initializer that looks for the channel (P2PLAB_VERDICT_FD, then every open socket),
// reads whatever nonce it can find there, writes "<what it read> passed" to each, and ends the
// program with status 0 (which scored full marks with the grader that counted exit status 0). The channel's variable
// and nonce are taken before ordinary static initializers run (tests/grading/grading_main.cpp), so it finds neither.
// Must score zero.
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "../../../../exercises/chord-failures/failures.cpp"

namespace {

bool fake_the_verdict() {
  std::string nonce;
  if (const char* named = std::getenv("P2PLAB_VERDICT_FD")) nonce = std::string("from the variable ") + named;
  auto is_socket = [](int fd) {
    struct stat info {};
    return fstat(fd, &info) == 0 && S_ISSOCK(info.st_mode);
  };
  for (int fd = 3; fd < 256; ++fd) {
    if (!is_socket(fd)) continue;
    char buffer[128];
    const ssize_t got = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (got > 0) nonce.assign(buffer, static_cast<std::size_t>(got));
    while (!nonce.empty() && (nonce.back() == '\n' || nonce.back() == ' ')) nonce.pop_back();
  }
  const std::string line = (nonce.empty() ? std::string("0") : nonce) + " passed\n";
  for (int fd = 3; fd < 256; ++fd) {
    if (is_socket(fd) && send(fd, line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) continue;
  }
  _exit(0);
}

[[maybe_unused]] const bool faked = fake_the_verdict();

}  // namespace
