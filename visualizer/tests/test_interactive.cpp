// The visualizer as a lecturer uses it: a real window on a virtual X display (Xvfb), driven by
// real keyboard and mouse input (xdotool, through the X server's XTEST extension, as a person's
// keys and clicks arrive). The window keeps a status file (`p2plab-viz --status`: the clock, the
// play state, the selection, where each peer and each control was drawn), and the tests read it
// and the pictures the window saves (key S) to check what happened on screen.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stb_image.h>
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "window_test_util.hpp"

using viz_test::xor_bits;

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

/// Starts `argv` in `dir` with `env` added, in its own process group; returns its PID.
pid_t spawn(const std::vector<std::string>& argv, const std::string& dir, const std::vector<std::string>& env,
            int keep_fd = -1) {
  const pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    if (chdir(dir.c_str()) != 0) _exit(127);
    for (const std::string& e : env) putenv(const_cast<char*>(e.c_str()));
    const int null_fd = open("/dev/null", O_RDWR);
    dup2(null_fd, STDIN_FILENO);
    const int log = open("window.log", O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(log, STDOUT_FILENO);
    dup2(log, STDERR_FILENO);
    for (int fd = 3; fd < 256; ++fd) {
      if (fd != keep_fd) close(fd);
    }
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  return pid;
}

/// Ends a process started by spawn(), by its PID: SIGTERM, then SIGKILL after 5 s.
void end_process(pid_t pid) {
  if (pid <= 0) return;
  kill(-pid, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(-pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

/// One X display and one p2plab-viz window on it, ended (by PID) when the test ends.
class Window {
 public:
  /// `size`: the screen's and the window's, WIDTHxHEIGHT.
  explicit Window(const std::string& lab, const std::vector<std::string>& options = {},
                  const std::string& size = "1280x800")
      : size_(size) {
    dir_ = fs::temp_directory_path() / ("p2plab-window-" + std::to_string(getpid()) + "-" + std::to_string(++count_));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // Xvfb picks a free display number and writes it to the pipe (-displayfd).
    int pipe_fds[2];
    REQUIRE(pipe(pipe_fds) == 0);
    xvfb_ = spawn({"Xvfb", "-displayfd", std::to_string(pipe_fds[1]), "-screen", "0", size + "x24", "-nolisten", "tcp"},
                  dir_.string(), {}, pipe_fds[1]);
    close(pipe_fds[1]);
    std::string number;
    char c = 0;
    while (read(pipe_fds[0], &c, 1) == 1 && c != '\n') number += c;
    close(pipe_fds[0]);
    REQUIRE_MESSAGE(!number.empty(), "Xvfb did not start (is the xvfb package installed?)");
    display_ = ":" + number;
    std::vector<std::string> argv = {P2PLAB_VIZ, std::string(P2PLAB_SOURCE_DIR) + "/labs/" + lab,
                                     "--size",   size,
                                     "--status", (dir_ / "status.json").string()};
    argv.insert(argv.end(), options.begin(), options.end());
    viz_ = spawn(argv, dir_.string(), {"DISPLAY=" + display_});
    const json first = wait_for("the window's first frame", [](const json&) { return true; });
    // The window manager-less display: give the window the keyboard focus.
    xdotool("search --sync --name p2plab windowfocus --sync");
    (void)first;
  }
  ~Window() {
    end_process(viz_);
    end_process(xvfb_);
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  Window(const Window&) = delete;
  Window& operator=(const Window&) = delete;

  /// Real input through the X server: e.g. "key space", "mousemove 100 200 click 1".
  void xdotool(const std::string& arguments) {
    const std::string command = "DISPLAY=" + display_ + " xdotool " + arguments + " >/dev/null 2>&1";
    REQUIRE_MESSAGE(std::system(command.c_str()) == 0, command);
  }
  void key(const std::string& name) { xdotool("key " + name); }
  void click(double x, double y) {
    // Move first and let a frame see the pointer there, then press: as a hand does.
    xdotool("mousemove " + std::to_string(std::lround(x)) + " " + std::to_string(std::lround(y)));
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    xdotool("click 1");
  }
  void click_widget(const std::string& name) {
    const json s =
        wait_for("the control " + name + " on screen", [&](const json& j) { return j["widgets"].contains(name); });
    const auto& r = s["widgets"][name];
    click((r[0].get<double>() + r[2].get<double>()) / 2, (r[1].get<double>() + r[3].get<double>()) / 2);
  }
  /// The pointer away from every control and peer (no hover, no tooltip in pictures).
  void park_pointer() {
    int width = 0, height = 0;
    REQUIRE(std::sscanf(size_.c_str(), "%dx%d", &width, &height) == 2);
    xdotool("mousemove " + std::to_string(width - 5) + " " + std::to_string(height - 5));
  }

  json status() const {
    std::ifstream in(dir_ / "status.json");
    if (!in) return json();
    return json::parse(in, nullptr, false);
  }
  /// Polls the status until `ok` holds (the window draws 10 to 60 frames a second; 60 s bound).
  json wait_for(const std::string& what, const std::function<bool(const json&)>& ok) const {
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (Clock::now() < deadline) {
      const json s = status();
      if (s.is_object() && ok(s)) return s;
      int status_code = 0;
      if (waitpid(viz_, &status_code, WNOHANG) == viz_)
        FAIL("p2plab-viz ended while waiting for " << what << ":\n" << log());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL("timed out waiting for " << what << "; window log:\n" << log());
    return json();
  }
  /// Presses S and returns the PNG the window saved (its bytes).
  std::string save_picture() {
    const int before = status()["saved"].get<int>();
    key("s");
    wait_for("the saved picture", [&](const json& s) { return s["saved"].get<int>() > before; });
    std::ifstream in(dir_ / "p2plab-view.png", std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  json peer(const json& status, const std::string& id) const {
    for (const json& p : status["peers"]) {
      if (p["id"] == id) return p;
    }
    FAIL("peer " << id << " is not drawn");
    return json();
  }
  std::string log() const {
    std::ifstream in(dir_ / "window.log");
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

 private:
  static inline int count_ = 0;
  std::string size_;
  fs::path dir_;
  std::string display_;
  pid_t xvfb_ = -1, viz_ = -1;
};

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

TEST_CASE("space plays at the set speed within 20 % and pauses and a paused picture holds") {
  Window w("chord-lookup-44.json", {"--speed", "200"});
  w.park_pointer();
  CHECK(w.status()["t_ms"].get<double>() == 0.0);
  w.key("space");
  const json started = w.wait_for("play", [](const json& s) { return s["playing"].get<bool>(); });
  const auto t0 = Clock::now();
  const double sim0 = started["t_ms"].get<double>();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const double sim1 = w.status()["t_ms"].get<double>();
  const double rate = (sim1 - sim0) / seconds_since(t0);  // simulated ms per real second
  CAPTURE(sim0);
  CAPTURE(sim1);
  CHECK(rate > 200 * 0.8);
  CHECK(rate < 200 * 1.2);

  w.key("space");
  const json paused = w.wait_for("pause", [](const json& s) { return !s["playing"].get<bool>(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const double held = w.status()["t_ms"].get<double>();
  const std::string before = w.save_picture();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  CHECK(w.status()["t_ms"].get<double>() == held);
  const std::string after = w.save_picture();
  CHECK(before.size() > 1000);
  CHECK(before == after);  // the same picture, pixel for pixel
}

TEST_CASE("the right arrow steps one event and the left arrow steps back to the identical picture") {
  Window w("chord-lookup-44.json");
  w.park_pointer();
  w.key("Right");
  const json one = w.wait_for("one event", [](const json& s) { return s["position"].get<int>() == 1; });
  for (int i = 0; i < 40; ++i) w.key("Right");  // into lookup(44): messages on their way
  w.wait_for("41 events", [](const json& s) { return s["position"].get<int>() == 41; });
  const std::string at41 = w.save_picture();
  w.key("Right");
  w.wait_for("42 events", [](const json& s) { return s["position"].get<int>() == 42; });
  CHECK(w.save_picture() != at41);  // something happened
  w.key("Left");
  w.wait_for("back to 41", [](const json& s) { return s["position"].get<int>() == 41; });
  CHECK(w.save_picture() == at41);
  (void)one;
}

TEST_CASE("a click on a peer opens its inspector and the crash action crashes it where it stands") {
  Window w("chord-lookup-44.json");
  const json before = w.status();
  const json p23 = w.peer(before, "23");
  w.click(p23["x"].get<double>(), p23["y"].get<double>());
  w.wait_for("peer 23 selected", [](const json& s) { return s["selected"] == "23"; });

  const std::size_t live = before["live"].get<std::size_t>();
  w.click_widget("act_header");
  w.click_widget("op:fail");
  const json after = w.wait_for("the crash", [&](const json& s) { return s["live"].get<std::size_t>() == live - 1; });
  const json dead = w.peer(after, "23");
  CHECK_FALSE(dead["up"].get<bool>());
  CHECK(dead["x"].get<double>() == doctest::Approx(p23["x"].get<double>()));
  CHECK(dead["y"].get<double>() == doctest::Approx(p23["y"].get<double>()));
}

namespace {

/// The colour at (x, y) of a PNG held in memory, as {r, g, b}.
std::array<int, 3> colour_at(const std::string& png, int x, int y) {
  int width = 0, height = 0, channels = 0;
  unsigned char* data = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(png.data()),
                                              static_cast<int>(png.size()), &width, &height, &channels, 3);
  REQUIRE(data != nullptr);
  REQUIRE(x < width);
  REQUIRE(y < height);
  const std::size_t at =
      3 * (static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x));
  const std::array<int, 3> rgb{data[at], data[at + 1], data[at + 2]};
  stbi_image_free(data);
  return rgb;
}

bool light(const std::array<int, 3>& c) { return c[0] + c[1] + c[2] > 3 * 200; }

}  // namespace

TEST_CASE("tab hides the side panel and P switches the whole window to the projector theme") {
  Window w("chord-lookup-44.json");
  w.park_pointer();
  const json shown = w.wait_for("the panel", [](const json& s) { return s["widgets"].contains("play"); });
  const double x_shown = w.peer(shown, "52")["x"].get<double>();
  CHECK(shown["widgets"]["play"][2].get<double>() <= 0.30 * 1280);  // the panel: at most 30 % of the width
  const std::string dark = w.save_picture();
  CHECK_FALSE(light(colour_at(dark, 200, 790)));   // the panel, dark
  CHECK_FALSE(light(colour_at(dark, 1000, 790)));  // the view, dark

  w.key("Tab");
  const json hidden = w.wait_for("no panel", [](const json& s) { return !s["sidebar"].get<bool>(); });
  CHECK_FALSE(hidden["widgets"].contains("play"));
  CHECK(w.peer(hidden, "52")["x"].get<double>() < x_shown);  // the view takes the whole window
  w.key("Tab");
  w.wait_for("the panel again",
             [](const json& s) { return s["sidebar"].get<bool>() && s["widgets"].contains("play"); });

  w.key("p");
  w.wait_for("projector mode", [](const json& s) { return s["projector"].get<bool>(); });
  const std::string projected = w.save_picture();
  CHECK(light(colour_at(projected, 200, 790)));   // the panel turns light too, not only the view
  CHECK(light(colour_at(projected, 1000, 790)));  // the view
}

TEST_CASE("the mouse wheel zooms around the pointer, a drag moves the picture, and 0 shows the whole network again") {
  Window w("chord-lookup-44.json");
  const json at_start = w.wait_for("the peers", [](const json& s) { return !s["peers"].empty(); });
  const json p23 = w.peer(at_start, "23"), p52 = w.peer(at_start, "52");
  // Three wheel notches up with the pointer on peer 23: it stays under the pointer, 52 moves away
  // from it by the zoom.
  w.xdotool("mousemove " + std::to_string(std::lround(p23["x"].get<double>())) + " " +
            std::to_string(std::lround(p23["y"].get<double>())));
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  w.xdotool("click --repeat 3 --delay 80 4");
  const json zoomed = w.wait_for("the zoom", [](const json& s) { return s["zoom"].get<double>() > 1.6; });
  const double zoom = zoomed["zoom"].get<double>();
  CHECK(zoom == doctest::Approx(1.2 * 1.2 * 1.2).epsilon(0.01));
  const json z23 = w.peer(zoomed, "23"), z52 = w.peer(zoomed, "52");
  CHECK(z23["x"].get<double>() == doctest::Approx(p23["x"].get<double>()).epsilon(0.005));
  CHECK(z23["y"].get<double>() == doctest::Approx(p23["y"].get<double>()).epsilon(0.005));
  const double before =
      std::hypot(p52["x"].get<double>() - p23["x"].get<double>(), p52["y"].get<double>() - p23["y"].get<double>());
  const double after =
      std::hypot(z52["x"].get<double>() - z23["x"].get<double>(), z52["y"].get<double>() - z23["y"].get<double>());
  CHECK(after == doctest::Approx(before * zoom).epsilon(0.01));
  // A drag from empty space moves every peer by the drag, and selects nothing.
  const json c = zoomed["widgets"]["canvas"];
  const double x0 = c[0].get<double>() + 40, y0 = c[3].get<double>() - 60;
  w.xdotool("mousemove " + std::to_string(std::lround(x0)) + " " + std::to_string(std::lround(y0)) + " mousedown 1");
  for (int i = 1; i <= 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    w.xdotool("mousemove " + std::to_string(std::lround(x0 + 20 * i)) + " " + std::to_string(std::lround(y0 - 10 * i)));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  w.xdotool("mouseup 1");
  const json moved = w.wait_for("the drag", [&](const json& s) {
    return std::abs(w.peer(s, "23")["x"].get<double>() - z23["x"].get<double>() - 100) < 1.0;
  });
  CHECK(w.peer(moved, "23")["y"].get<double>() == doctest::Approx(z23["y"].get<double>() - 50).epsilon(0.002));
  CHECK(moved["selected"].is_null());
  // Key 0: the whole network, where it was at the start.
  w.park_pointer();
  w.key("0");
  const json whole = w.wait_for("the whole network", [](const json& s) { return s["zoom"].get<double>() == 1.0; });
  CHECK(w.peer(whole, "23")["x"].get<double>() == doctest::Approx(p23["x"].get<double>()));
  CHECK(w.peer(whole, "23")["y"].get<double>() == doctest::Approx(p23["y"].get<double>()));
}

namespace {

/// Waits until the window drew three more frames (a list that just opened places its items in
/// its first frames; a new theme's layout comes a frame after the key).
void let_settle(Window& w) {
  const long long now = w.status()["frames"].get<long long>();
  w.wait_for("three more frames", [&](const json& s) { return s["frames"].get<long long>() >= now + 3; });
}

}  // namespace

TEST_CASE(
    "the lab browser opens the comparison lab, which measures while the window keeps drawing and answering keys") {
  Window w("chord-3bit.json");
  // Open the lab browser and pick the comparison, the last lab of the list.
  w.click_widget("lab_browser");
  w.wait_for("the list of labs", [](const json& s) { return s["widgets"].contains("lab:complexity-comparison"); });
  let_settle(w);
  const json listed = w.status();
  double last_y = 0;
  for (const auto& [name, r] : listed["widgets"].items()) {
    if (name.rfind("lab:", 0) == 0) last_y = std::max(last_y, r[1].get<double>());
  }
  CHECK(listed["widgets"]["lab:complexity-comparison"][1].get<double>() == last_y);
  w.click_widget("lab:complexity-comparison");
  // The sweep runs on its own thread: frames go on and the progress is shown while it measures.
  const json measuring = w.wait_for("the comparison measuring", [](const json& s) {
    return s["lab"] == "complexity-comparison" && s.contains("measured") && !s["measured"].get<bool>();
  });
  CHECK(measuring["progress"].get<std::string>().rfind("measuring N = ", 0) == 0);
  const long long frame = measuring["frames"].get<long long>();
  w.key("p");  // a key is answered while it measures
  const json later = w.wait_for("more frames", [&](const json& s) {
    return s["frames"].get<long long>() >= frame + 3 || s["projector"].get<bool>() || s["measured"].get<bool>();
  });
  w.wait_for("projector mode", [](const json& s) { return s["projector"].get<bool>(); });
  const json still = w.status();
  CHECK_FALSE(later["measured"].get<bool>());
  CHECK_FALSE(still["measured"].get<bool>());  // the theme switched before the sweep ended
  // Another lab, chosen while it measures: the sweep stops and the lab opens.
  let_settle(w);
  w.click_widget("lab_browser");
  w.wait_for("the list of labs", [](const json& s) { return s["widgets"].contains("lab:chord-3bit"); });
  let_settle(w);
  w.click_widget("lab:chord-3bit");
  const json back =
      w.wait_for("chord-3bit again", [](const json& s) { return s["lab"] == "chord-3bit" && s.contains("t_ms"); });
  CHECK(back["peers"].size() > 0);
}

namespace {

bool numeric(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// The box of the label with this text right of x (the k-bucket rows beside the trie), or null.
json label_right_of(const json& status, const std::string& text, double x) {
  for (const json& l : status["labels"]) {
    if (l["text"] == text && l["box"][0].get<double>() > x) return l["box"];
  }
  return json();
}

/// The drawn queries of the current lookup as (from, to, round).
std::vector<std::tuple<std::string, std::string, int>> queries_of(const json& status) {
  std::vector<std::tuple<std::string, std::string, int>> out;
  for (const json& g : status["segments"]) {
    if (g["kind"] == "query") out.emplace_back(g["from"], g["to"], g["index"].get<int>());
  }
  return out;
}

}  // namespace

TEST_CASE(
    "the XOR trie as a lecturer uses it: a click shows a peer's k-buckets, a click on a contact selects it, a lookup's "
    "rounds step forward and back") {
  Window w("kademlia-xor.json", {"--at", "5990"});  // lookup(10) from 4 starts at 6 s
  const json start = w.wait_for("the leaves", [](const json& s) { return s["peers"].size() == 8; });
  // The leaves on one line, in the order of their ids.
  std::vector<std::pair<long, double>> leaves;
  for (const json& p : start["peers"]) {
    CHECK(p["y"].get<double>() == doctest::Approx(start["peers"][0]["y"].get<double>()));
    leaves.emplace_back(std::stol(p["id"].get<std::string>()), p["x"].get<double>());
  }
  std::sort(leaves.begin(), leaves.end());
  for (std::size_t i = 1; i < leaves.size(); ++i) CHECK(leaves[i].second > leaves[i - 1].second + 10);
  const double right_of_trie = leaves.back().second + 40;

  // A click on 4: its k-buckets as rows beside the trie, bucket 3 holding contacts at XOR
  // distance [8, 16) from 4.
  const json p4 = w.peer(start, "4");
  w.click(p4["x"].get<double>(), p4["y"].get<double>());
  const json rows = w.wait_for("4 selected, its bucket rows", [&](const json& s) {
    return s["selected"] == "4" && !label_right_of(s, "bucket 3: [8, 16)", right_of_trie).is_null();
  });
  const json row = label_right_of(rows, "bucket 3: [8, 16)", right_of_trie);
  json contact;
  for (const json& l : rows["labels"]) {
    const json& b = l["box"];
    const double mid = (b[1].get<double>() + b[3].get<double>()) / 2;
    if (contact.is_null() && numeric(l["text"]) && b[0].get<double>() > row[2].get<double>() &&
        mid > row[1].get<double>() && mid < row[3].get<double>()) {
      contact = l;
    }
  }
  REQUIRE_FALSE(contact.is_null());
  const std::string contact_id = contact["text"];
  CHECK(xor_bits(std::stol(contact_id), 4) == 4);
  // A click on that contact in its row selects it.
  const json& box = contact["box"];
  w.click((box[0].get<double>() + box[2].get<double>()) / 2, (box[1].get<double>() + box[3].get<double>()) / 2);
  w.wait_for("the contact selected", [&](const json& s) { return s["selected"] == contact_id; });
  w.click(p4["x"].get<double>(), p4["y"].get<double>());
  w.wait_for("4 selected again", [](const json& s) { return s["selected"] == "4"; });
  w.park_pointer();

  // Step forward one event at a time (right arrow) until the header counts the rounds asked.
  const auto step_until = [&](const std::string& key, const std::function<bool(const json&)>& done) {
    for (int i = 0; i < 300; ++i) {
      const json s = w.status();
      if (done(s)) return s;
      const auto position = s["position"].get<long long>();
      w.key(key);
      w.wait_for("one event", [&](const json& t) { return t["position"].get<long long>() != position; });
    }
    FAIL("the lookup never got there");
    return json();
  };
  const auto header_has = [](const std::string& text) {
    return [text](const json& s) { return s["header"].get<std::string>().find(text) != std::string::npos; };
  };
  // The chart's points against the drawn queries: the smallest id XOR 10 asked by each round.
  const auto check_chart = [](const json& s, int rounds) {
    std::vector<double> best(static_cast<std::size_t>(rounds), 1e9);
    for (const auto& [from, to, round] : queries_of(s)) {
      for (int r = round; r <= rounds; ++r) {
        best[static_cast<std::size_t>(r - 1)] =
            std::min(best[static_cast<std::size_t>(r - 1)], static_cast<double>(std::stol(to) ^ 10));
      }
    }
    REQUIRE(s["view_chart"].is_object());
    const json& points = s["view_chart"]["points"];
    REQUIRE(points.size() == static_cast<std::size_t>(rounds));
    for (int r = 1; r <= rounds; ++r) {
      CHECK(points[static_cast<std::size_t>(r - 1)]["x"].get<double>() == r);
      CHECK(points[static_cast<std::size_t>(r - 1)]["y"].get<double>() == best[static_cast<std::size_t>(r - 1)]);
    }
    return best;
  };
  const json round1 = step_until("Right", header_has("lookup(10) from 4: 1 round"));
  const auto first = queries_of(round1);
  REQUIRE(first.size() == 2);  // alpha = 2
  for (const auto& [from, to, round] : first) {
    CHECK(from == "4");  // round 1: from the requester's own buckets
    CHECK(round == 1);
  }
  const auto best1 = check_chart(round1, 1);
  const std::string story1 = round1["story"];
  CAPTURE(story1);
  CHECK(story1.find("round 1: 4 asks ") != std::string::npos);
  CHECK(story1.find("best XOR distance now " + std::to_string(static_cast<long>(best1[0]))) != std::string::npos);

  const json round2 = step_until("Right", header_has("lookup(10) from 4: 2 rounds"));
  std::set<std::string> asked_in_1;
  for (const auto& [from, to, round] : first) asked_in_1.insert(to);
  int second = 0;
  for (const auto& [from, to, round] : queries_of(round2)) {
    if (round != 2) continue;
    ++second;
    CHECK(asked_in_1.count(from) == 1);  // suggested by a peer asked in round 1
    CHECK(asked_in_1.count(to) == 0);
  }
  CHECK(second >= 1);
  check_chart(round2, 2);
  CHECK(round2["story"].get<std::string>().find("round 2: 4 asks ") != std::string::npos);

  // And back (left arrow): round 2 undone, the picture of round 1 again.
  const json back = step_until("Left", header_has("lookup(10) from 4: 1 round"));
  CHECK(queries_of(back) == first);
  check_chart(back, 1);
  CHECK(back["selected"] == "4");
}

namespace {

/// A picture the window saved, decoded once.
struct Picture {
  int width = 0, height = 0;
  std::vector<unsigned char> rgb;
  explicit Picture(const std::string& png) {
    int channels = 0;
    unsigned char* data = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(png.data()),
                                                static_cast<int>(png.size()), &width, &height, &channels, 3);
    REQUIRE(data != nullptr);
    rgb.assign(data, data + static_cast<std::size_t>(3 * width * height));
    stbi_image_free(data);
  }
  std::array<int, 3> at(int x, int y) const {
    const std::size_t i =
        3 * (static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x));
    return {rgb[i], rgb[i + 1], rgb[i + 2]};
  }
  /// Pixels in the box [x0, x1) x [y0, y1) that differ from `background`.
  int inked(const json& box, const std::array<int, 3>& background) const {
    int count = 0;
    for (int y = static_cast<int>(box[1].get<double>()); y < static_cast<int>(box[3].get<double>()); ++y) {
      for (int x = static_cast<int>(box[0].get<double>()); x < static_cast<int>(box[2].get<double>()); ++x) {
        const auto c = at(x, y);
        count += std::abs(c[0] - background[0]) + std::abs(c[1] - background[1]) + std::abs(c[2] - background[2]) > 60;
      }
    }
    return count;
  }
};

bool boxes_meet(const json& a, const json& b) {
  return a[0].get<double>() < b[2].get<double>() && b[0].get<double>() < a[2].get<double>() &&
         a[1].get<double>() < b[3].get<double>() && b[1].get<double>() < a[3].get<double>();
}

}  // namespace

TEST_CASE(
    "an IPFS fetch on the XOR trie: the header and the key's marker name the CID the lab fetches, and the sentence in "
    "the chart's place stays clear of the legend at 1280, 1600 and 1920 px, dark and projector") {
  // The oracle: the lab's own fetch op (at 5 s, by CID) and the short form the story writes a CID in
  // (its first 6 and last 4 characters).
  std::ifstream in(std::string(P2PLAB_SOURCE_DIR) + "/labs/ipfs-cid.json");
  const json lab = json::parse(in);
  std::string cid, from;
  for (const json& e : lab["events"]) {
    if (e["op"] == "fetch" && e.contains("cid")) {
      cid = e["cid"];
      from = std::to_string(e["from"].get<long>());
      break;
    }
  }
  REQUIRE(cid.size() > 12);
  const std::string short_cid = cid.substr(0, 6) + ".." + cid.substr(cid.size() - 4);
  const std::string header = "fetch(" + short_cid + ") from " + from + ": ";
  const std::string sentence = "A fetch does not approach its key round by round";
  for (const std::string size : {"1280x800", "1600x1000", "1920x1080"}) {
    CAPTURE(size);
    Window w("ipfs-cid.json", {"--at", "4999"}, size);
    w.park_pointer();
    // Step (right arrow) until the fetch is the view's search, as a lecturer comes to it.
    for (int i = 0; i < 200 && w.status()["header"].get<std::string>().rfind("fetch(", 0) != 0; ++i) {
      const auto position = w.status()["position"].get<long long>();
      w.key("Right");
      w.wait_for("one event", [&](const json& t) { return t["position"].get<long long>() != position; });
    }
    for (const bool projector : {false, true}) {
      CAPTURE(projector);
      if (projector) {
        const long long frames = w.status()["frames"].get<long long>();
        w.key("p");
        // A few frames in the new theme: its fonts, then the layout they give.
        w.wait_for("projector mode", [&](const json& s) {
          return s["projector"].get<bool>() && s["frames"].get<long long>() > frames + 5;
        });
      }
      const json s = w.wait_for("the fetch, its sentence and the legend", [&](const json& t) {
        bool said = false;
        for (const json& l : t["labels"]) said = said || l["text"].get<std::string>().rfind(sentence, 0) == 0;
        return said && t["widgets"].contains("legend");
      });
      const std::string shown = s["header"];
      CAPTURE(shown);
      CHECK(shown.rfind(header, 0) == 0);
      // The key's marker on the trie says the same CID, not the key's number.
      bool marked = false;
      for (const json& l : s["labels"]) marked = marked || l["text"].get<std::string>() == "key " + short_cid;
      CHECK(marked);
      json said;
      for (const json& l : s["labels"]) {
        if (l["text"].get<std::string>().rfind(sentence, 0) == 0) said = l["box"];
      }
      const json& legend = s["widgets"]["legend"];
      CAPTURE(said.dump());
      CAPTURE(legend.dump());
      CHECK_FALSE(boxes_meet(said, legend));
      // The boxes are where the picture has them: words in the sentence's, the legend's frame.
      const Picture picture(w.save_picture());
      const auto background =
          picture.at(static_cast<int>(said[0].get<double>()) - 4, static_cast<int>(said[1].get<double>()) - 4);
      CHECK(picture.inked(said, background) > 200);
      const int mid_y = static_cast<int>((legend[1].get<double>() + legend[3].get<double>()) / 2);
      const json left_edge = {legend[0].get<double>() - 1, mid_y, legend[0].get<double>() + 2, mid_y + 1};
      CHECK(picture.inked(left_edge, background) > 0);
    }
  }
}
