// Every lab opens in p2plab-viz, runs and renders under Xvfb; the pictures are checked on their
// pixels: not blank, and with enough distinct colours where peers, links and paths are drawn;
// where the view says it drew each peer (--positions) is checked against the ids' geometry and
// the picture. A toy protocol from a test file, unknown to p2plab-viz, is drawn by a build that
// links it (p2plab-viz-toy).
#include <doctest/doctest.h>
#include <stb_image.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "window_test_util.hpp"

using viz_test::in_xvfb;
using viz_test::run;
using viz_test::xor_bits;

namespace fs = std::filesystem;

namespace {

struct ViewColours {
  int width = 0, height = 0;
  std::set<std::uint32_t> colours;  // in the view (right of the side panel)
  double drawn = 0;                 // share of view pixels that are not the background
};

ViewColours analyse(const std::string& path) {
  ViewColours p;
  int channels = 0;
  unsigned char* data = stbi_load(path.c_str(), &p.width, &p.height, &channels, 4);
  REQUIRE(data != nullptr);
  const int left = p.width / 3;
  const std::uint32_t background = 0xff1e1816;  // RGBA(22, 24, 30) read little-endian
  std::size_t total = 0, drawn = 0;
  for (int y = 0; y < p.height; ++y) {
    for (int x = left; x < p.width; ++x) {
      const unsigned char* px = data + 4 * (static_cast<std::size_t>(y) * p.width + x);
      const std::uint32_t c = px[0] | (px[1] << 8) | (px[2] << 16) | (static_cast<std::uint32_t>(px[3]) << 24);
      p.colours.insert(c);
      ++total;
      drawn += c != background;
    }
  }
  stbi_image_free(data);
  p.drawn = static_cast<double>(drawn) / static_cast<double>(total);
  return p;
}

}  // namespace

TEST_CASE("every lab opens, runs to its end and renders a non-blank picture under Xvfb") {
  const fs::path out = fs::temp_directory_path() / "p2plab-screens";
  fs::create_directories(out);
  int labs = 0;
  for (const auto& entry : fs::directory_iterator(std::string(P2PLAB_SOURCE_DIR) + "/labs")) {
    if (entry.path().extension() != ".json" || entry.path().stem() == "complexity-comparison") continue;
    ++labs;
    const std::string png = (out / (entry.path().stem().string() + ".png")).string();
    fs::remove(png);
    // Run the lab to its end (--at beyond run_ms stops at the end), then render.
    const std::string command = in_xvfb("1280x800") + std::string(P2PLAB_VIZ) + " " + entry.path().string() +
                                " --screenshot " + png + " --size 1280x800 --at 1e9 > /dev/null 2>&1";
    CAPTURE(command);
    REQUIRE(run(command) == 0);
    const ViewColours p = analyse(png);
    CHECK(p.width == 1280);
    CHECK(p.height == 800);
    CHECK(p.colours.size() >= 8);  // peers, links, labels, paths: many colours, not a blank frame
    CHECK(p.drawn > 0.01);
  }
  CHECK(labs >= 10);
}

TEST_CASE("without a display, p2plab-viz says so and exits cleanly") {
  const std::string command = "env -u DISPLAY -u WAYLAND_DISPLAY " + std::string(P2PLAB_VIZ) + " " +
                              std::string(P2PLAB_SOURCE_DIR) + "/labs/chord-3bit.json > /tmp/p2plab-nodisplay.txt 2>&1";
  CHECK(run(command) == 3);
  FILE* f = std::fopen("/tmp/p2plab-nodisplay.txt", "r");
  REQUIRE(f != nullptr);
  std::array<char, 512> line{};
  const bool read = std::fgets(line.data(), line.size(), f) != nullptr;
  std::fclose(f);
  CHECK(read);
  CHECK(std::string(line.data()).find("no display") != std::string::npos);
}

TEST_CASE("a bad lab is a clear error, not a crash") {
  CHECK(run(std::string(P2PLAB_VIZ) + " /nonexistent.json > /dev/null 2>&1") == 2);
  CHECK(run(std::string(P2PLAB_VIZ) + " " + P2PLAB_SOURCE_DIR +
            "/labs/chord-3bit.json --size 10x10 > /dev/null 2>&1") == 2);
}

namespace {

/// View pixels in the reference route's colour (cyan: low red, high green and blue).
std::size_t cyan_pixels(const std::string& path) {
  int width = 0, height = 0, channels = 0;
  unsigned char* data = stbi_load(path.c_str(), &width, &height, &channels, 4);
  REQUIRE(data != nullptr);
  std::size_t count = 0;
  for (int y = 0; y < height; ++y) {
    for (int x = width / 3; x < width; ++x) {
      const unsigned char* px = data + 4 * (static_cast<std::size_t>(y) * width + x);
      count += px[0] < 130 && px[1] > 180 && px[2] > 180;
    }
  }
  stbi_image_free(data);
  return count;
}

}  // namespace

TEST_CASE("compare with the reference route: lookup(44) from 52 gets the dashed reference route and its caption") {
  const fs::path out = fs::temp_directory_path() / "p2plab-screens";
  fs::create_directories(out);
  const std::string lab = std::string(P2PLAB_SOURCE_DIR) + "/labs/chord-lookup-44.json";
  auto shot = [&](const std::string& name, const std::string& extra) {
    const std::string png = (out / name).string();
    fs::remove(png);
    const std::string command = in_xvfb("1280x800") + std::string(P2PLAB_VIZ) + " " + lab + " --screenshot " + png +
                                " --size 1280x800 --at 900" + extra + " > /dev/null 2>&1";
    CAPTURE(command);
    REQUIRE(run(command) == 0);
    return cyan_pixels(png);
  };
  const std::size_t plain = shot("compare-off.png", "");
  const std::size_t compared = shot("compare-on.png", " --compare-reference");
  CAPTURE(plain);
  CAPTURE(compared);
  CHECK(compared > plain + 500);  // the dashed route over three hops and two caption lines
}

namespace {

struct DrawnPeer {
  std::string id;
  double x = 0, y = 0, radius = 0;
  bool up = true;
};

/// Renders `lab` with `viz` and reads back the picture and where the view says it drew each peer.
std::vector<DrawnPeer> shoot_with_positions(const std::string& viz, const std::string& lab, const std::string& name,
                                            const std::string& extra, std::vector<unsigned char>& rgba, int& width,
                                            int& height) {
  const fs::path out = fs::temp_directory_path() / "p2plab-screens";
  fs::create_directories(out);
  const std::string png = (out / (name + ".png")).string(), positions = (out / (name + ".json")).string();
  fs::remove(png);
  fs::remove(positions);
  // -n before -a: each test's shell starts its search for a free display at its own number, so
  // tests running in parallel do not all race for :99 (xvfb-run retries one taken meanwhile).
  const std::string command = in_xvfb("1280x800") + viz + " " + lab + " --screenshot " + png + " --positions " +
                              positions + " --size 1280x800" + extra + " > /dev/null 2>&1";
  CAPTURE(command);
  REQUIRE(run(command) == 0);
  int channels = 0;
  unsigned char* data = stbi_load(png.c_str(), &width, &height, &channels, 4);
  REQUIRE(data != nullptr);
  rgba.assign(data, data + static_cast<std::size_t>(width) * height * 4);
  stbi_image_free(data);
  std::ifstream in(positions);
  REQUIRE(in.good());
  const nlohmann::json doc = nlohmann::json::parse(in);
  std::vector<DrawnPeer> peers;
  for (const auto& p : doc.at("peers")) {
    peers.push_back({p.at("id").get<std::string>(), p.at("x").get<double>(), p.at("y").get<double>(),
                     p.at("radius").get<double>(), p.at("up").get<bool>()});
  }
  return peers;
}

/// The sentence the view wrote over the picture, from the --positions file of shoot_with_positions.
std::string header_of(const std::string& name) {
  std::ifstream in(fs::temp_directory_path() / "p2plab-screens" / (name + ".json"));
  REQUIRE(in.good());
  return nlohmann::json::parse(in).at("header").get<std::string>();
}

std::uint32_t pixel(const std::vector<unsigned char>& rgba, int width, double x, double y) {
  const std::size_t at = 4 * (static_cast<std::size_t>(std::lround(y)) * static_cast<std::size_t>(width) +
                              static_cast<std::size_t>(std::lround(x)));
  return rgba[at] | (rgba[at + 1] << 8) | (rgba[at + 2] << 16) | (static_cast<std::uint32_t>(rgba[at + 3]) << 24);
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

constexpr std::uint32_t kBackground = 0xff1e1816;  // RGBA(22, 24, 30) read little-endian

}  // namespace

TEST_CASE("the ring view puts every peer at its id's angle on one circle, and draws it there") {
  const std::string lab = std::string(P2PLAB_SOURCE_DIR) + "/labs/chord-lookup-44.json";
  const nlohmann::json scenario = read_json(lab);
  const int bits = scenario.at("params").at("m").get<int>();
  std::vector<unsigned char> rgba;
  int width = 0, height = 0;
  const auto peers = shoot_with_positions(P2PLAB_VIZ, lab, "ring-positions", " --at 1e9", rgba, width, height);
  REQUIRE(peers.size() == scenario.at("peers").at("ids").size());
  // The circle through three peers; every peer lies on it at angle id / 2^m of a turn,
  // clockwise from the top (the identifier circle of the slides).
  const auto& a = peers[0];
  const auto& b = peers[peers.size() / 3];
  const auto& c = peers[2 * peers.size() / 3];
  const double d = 2 * (a.x * (b.y - c.y) + b.x * (c.y - a.y) + c.x * (a.y - b.y));
  REQUIRE(std::abs(d) > 1);
  const double sa = a.x * a.x + a.y * a.y, sb = b.x * b.x + b.y * b.y, sc = c.x * c.x + c.y * c.y;
  const double cx = (sa * (b.y - c.y) + sb * (c.y - a.y) + sc * (a.y - b.y)) / d;
  const double cy = (sa * (c.x - b.x) + sb * (a.x - c.x) + sc * (b.x - a.x)) / d;
  const double r = std::hypot(a.x - cx, a.y - cy);
  CHECK(r > 100);
  std::set<std::uint32_t> dot_colours;
  for (const auto& p : peers) {
    CAPTURE(p.id);
    CHECK(std::abs(std::hypot(p.x - cx, p.y - cy) - r) < 1.0);
    const double turn = std::fmod(std::atan2(p.x - cx, -(p.y - cy)) / (2 * M_PI) + 1.0, 1.0);
    const double expected = std::stod(p.id) / std::ldexp(1.0, bits);
    CHECK(std::abs(turn - expected) < 0.002);
    REQUIRE(p.x >= 0);
    REQUIRE(p.x < width);
    REQUIRE(p.y >= 0);
    REQUIRE(p.y < height);
    const std::uint32_t colour = pixel(rgba, width, p.x, p.y);
    CHECK(colour != kBackground);
    dot_colours.insert(colour);
  }
  CHECK(dot_colours.size() == 1);  // one role: every peer's dot in the same colour
}

TEST_CASE("graph views keep every peer in its place through crashes and the crashed peer is crossed out") {
  struct Moment {
    const char* lab;
    const char* before;
    const char* after;  // after a crash: the index server at 20 s, 5 % of the peers at 25 s
  };
  for (const Moment& m :
       {Moment{"napster-spof", "15000", "30000"}, Moment{"gnutella06-superpeers", "20000", "35000"}}) {
    CAPTURE(m.lab);
    const std::string lab = std::string(P2PLAB_SOURCE_DIR) + "/labs/" + m.lab + ".json";
    std::vector<unsigned char> rgba;
    int width = 0, height = 0;
    const auto before = shoot_with_positions(P2PLAB_VIZ, lab, std::string(m.lab) + "-before",
                                             std::string(" --at ") + m.before, rgba, width, height);
    const auto after = shoot_with_positions(P2PLAB_VIZ, lab, std::string(m.lab) + "-after",
                                            std::string(" --at ") + m.after, rgba, width, height);
    std::map<std::string, DrawnPeer> was;
    for (const DrawnPeer& p : before) was[p.id] = p;
    int crashed = 0;
    double lo_x = width, hi_x = 0, lo_y = height, hi_y = 0;
    for (const DrawnPeer& p : after) {
      CAPTURE(p.id);
      REQUIRE(was.count(p.id) == 1);
      CHECK(p.x == doctest::Approx(was[p.id].x));  // not moved by the crash
      CHECK(p.y == doctest::Approx(was[p.id].y));
      lo_x = std::min(lo_x, p.x), hi_x = std::max(hi_x, p.x), lo_y = std::min(lo_y, p.y), hi_y = std::max(hi_y, p.y);
      if (p.up) continue;
      ++crashed;
      // The cross's arms reach past the circle, in the text's colour (light on the dark theme).
      const std::uint32_t arm = pixel(rgba, width, p.x + p.radius + 1, p.y + p.radius + 1);
      CHECK((arm & 0xff) > 180);
      CHECK(((arm >> 8) & 0xff) > 180);
    }
    CHECK(crashed >= 1);
    CHECK(after.size() == before.size());  // the crashed are still drawn
    // The overlay still fills the view (the old layout shrank to half of it after a crash).
    CHECK(hi_x - lo_x > 0.5 * std::min(width - 430, height));
    CHECK(hi_y - lo_y > 0.5 * std::min(width - 430, height));
  }
}

TEST_CASE("the sentence over a search speaks each protocol's words") {
  std::vector<unsigned char> rgba;
  int width = 0, height = 0;
  const std::string labs = std::string(P2PLAB_SOURCE_DIR) + "/labs/";
  // A flood: the wave, its TTL, the duplicates the GUID cache dropped.
  shoot_with_positions(P2PLAB_VIZ, labs + "gnutella-flooding-ttl.json", "words-flood", " --at 1100", rgba, width,
                       height);
  const std::string flood = header_of("words-flood");
  CAPTURE(flood);
  CHECK(flood.find("wave at hop") != std::string::npos);
  CHECK(flood.find("TTL") != std::string::npos);
  CHECK(flood.find("duplicates dropped") != std::string::npos);
  // The central index floods nothing: the query's way to the server, no wave, no duplicates.
  shoot_with_positions(P2PLAB_VIZ, labs + "napster-spof.json", "words-index", " --at 1200", rgba, width, height);
  const std::string index = header_of("words-index");
  CAPTURE(index);
  CHECK(index.find("query") == 0);
  CHECK(index.find(" -> ") != std::string::npos);
  CHECK(index.find("wave") == std::string::npos);
  CHECK(index.find("duplicate") == std::string::npos);
  // Chord: the lookup, its hops and its answer checked against the true successor.
  shoot_with_positions(P2PLAB_VIZ, labs + "chord-lookup-44.json", "words-chord", " --at 900", rgba, width, height);
  const std::string chord = header_of("words-chord");
  CAPTURE(chord);
  CHECK(chord == "lookup(44) from 52: 3 hops -> 45 (correct)");
}

TEST_CASE("Pastry's ids read in hex, and each peer the lookup reached shows the digits it shares with the key") {
  std::vector<unsigned char> rgba;
  int width = 0, height = 0;
  const std::string lab = std::string(P2PLAB_SOURCE_DIR) + "/labs/pastry-prefix-routing.json";
  // The lab's second lookup: from 2620 for key 54378 (m = 16, b = 4), finished well before 1.9 s.
  const auto peers = shoot_with_positions(P2PLAB_VIZ, lab, "pastry-hex", " --at 1900", rgba, width, height);
  const auto hex = [](unsigned long v) {
    char text[8];
    std::snprintf(text, sizeof text, "%04lx", v);
    return std::string(text);
  };
  const std::string key = hex(54378);  // "d46a"
  const std::string header = header_of("pastry-hex");
  CAPTURE(header);
  CHECK(header.rfind("lookup(" + key + ") from " + hex(2620) + ": ", 0) == 0);
  CHECK(header.find("(correct)") != std::string::npos);
  std::ifstream in(fs::temp_directory_path() / "p2plab-screens" / "pastry-hex.json");
  const nlohmann::json labels = nlohmann::json::parse(in).at("labels");
  // Every peer keeps its id label, in hex.
  for (const auto& peer : peers) {
    const std::string id = hex(std::stoul(peer.id));
    CAPTURE(id);
    CHECK(std::any_of(labels.begin(), labels.end(), [&](const nlohmann::json& l) { return l["text"] == id; }));
  }
  // The peers on the route have their shared prefix with the key on a band: exactly the leading
  // digits the label and the key have in common, and the route ends at a peer sharing the most.
  std::size_t highlighted = 0, longest = 0;
  for (const auto& l : labels) {
    if (!l.contains("highlighted")) continue;
    const std::string text = l["text"];
    std::size_t common = 0;
    while (common < text.size() && common < key.size() && text[common] == key[common]) ++common;
    CAPTURE(text);
    CHECK(l["highlighted"].get<std::size_t>() == common);
    ++highlighted;
    longest = std::max(longest, common);
  }
  CHECK(highlighted >= 2);  // the requester and at least one hop
  // Prefix routing reaches a peer sharing as many digits with the key as any peer does (here the
  // owner, numerically closest too).
  std::size_t best = 0;
  for (const auto& peer : peers) {
    const std::string id = hex(std::stoul(peer.id));
    std::size_t common = 0;
    while (common < id.size() && id[common] == key[common]) ++common;
    best = std::max(best, common);
  }
  CHECK(longest == best);

  // The selected peer's leaf set (L = 4: the two next smaller and two next larger ids on the
  // circle) is spanned by one arc inside the ring, from the farthest smaller to the farthest larger.
  shoot_with_positions(P2PLAB_VIZ, lab, "pastry-leaves", " --at 1900 --select 26017", rgba, width, height);
  std::ifstream in2(fs::temp_directory_path() / "p2plab-screens" / "pastry-leaves.json");
  const nlohmann::json segments = nlohmann::json::parse(in2).at("segments");
  std::vector<unsigned long> ids;
  for (const auto& peer : peers) ids.push_back(std::stoul(peer.id));
  std::sort(ids.begin(), ids.end());
  const auto at = static_cast<std::size_t>(std::find(ids.begin(), ids.end(), 26017ul) - ids.begin());
  REQUIRE(at < ids.size());
  const unsigned long farthest_smaller = ids[(at + ids.size() - 2) % ids.size()];
  const unsigned long farthest_larger = ids[(at + 2) % ids.size()];
  const auto span =
      std::find_if(segments.begin(), segments.end(), [](const nlohmann::json& g) { return g["kind"] == "leaf span"; });
  REQUIRE(span != segments.end());
  CHECK((*span)["from"] == std::to_string(farthest_smaller));
  CHECK((*span)["to"] == std::to_string(farthest_larger));
}

TEST_CASE("labels on the ring never overlap and every peer keeps its id label") {
  struct Picture {
    const char* lab;
    const char* extra;
  };
  // chord-3bit: node 1 and key 1 sit at the same angle; lookup-44: the selected peers' finger
  // rows crowd near them (23's fingers 0 and 1 start at 24 and 25).
  for (const Picture& p :
       {Picture{"chord-3bit", " --at 1e9"}, Picture{"chord-lookup-44", " --at 130 --select 52"},
        Picture{"chord-lookup-44", " --at 175 --select 23"}, Picture{"chord-address-space", " --at 1e9"}}) {
    CAPTURE(p.lab);
    CAPTURE(p.extra);
    const std::string lab = std::string(P2PLAB_SOURCE_DIR) + "/labs/" + p.lab + ".json";
    std::vector<unsigned char> rgba;
    int width = 0, height = 0;
    const auto peers = shoot_with_positions(P2PLAB_VIZ, lab, "labels", p.extra, rgba, width, height);
    std::ifstream in(fs::temp_directory_path() / "p2plab-screens" / "labels.json");
    const nlohmann::json labels = nlohmann::json::parse(in).at("labels");
    REQUIRE(labels.size() >= peers.size());
    for (std::size_t i = 0; i < labels.size(); ++i) {
      const auto& a = labels[i]["box"];
      CHECK(a[0].get<double>() >= 0);
      CHECK(a[2].get<double>() <= width);
      for (std::size_t j = i + 1; j < labels.size(); ++j) {
        const auto& b = labels[j]["box"];
        const bool overlap = a[0].get<double>() < b[2].get<double>() && b[0].get<double>() < a[2].get<double>() &&
                             a[1].get<double>() < b[3].get<double>() && b[1].get<double>() < a[3].get<double>();
        CAPTURE(labels[i]);
        CAPTURE(labels[j]);
        CHECK_FALSE(overlap);
      }
    }
    for (const auto& peer : peers) {
      CAPTURE(peer.id);
      CHECK(std::any_of(labels.begin(), labels.end(), [&](const nlohmann::json& l) { return l["text"] == peer.id; }));
    }
  }
}

#ifdef P2PLAB_BINARY
TEST_CASE("a flood is drawn as the lecture tells it: source, hop rings, holders, the QUERYHIT path and the download") {
  // The oracle: the same lab run headless by the command line (its result JSON: the queries, every
  // peer's files and neighbours), and the overlay's breadth-first distances from the source.
  const std::string lab = std::string(P2PLAB_SOURCE_DIR) + "/labs/gnutella-flooding-ttl.json";
  const fs::path result = fs::temp_directory_path() / "p2plab-screens" / "flood-result.json";
  fs::create_directories(result.parent_path());
  REQUIRE(run(std::string(P2PLAB_BINARY) + " run " + lab + " -q -o " + result.string()) == 0);
  const nlohmann::json doc = read_json(result.string());
  const nlohmann::json& first = doc.at("queries").at(0);  // TTL 2: a false negative
  const nlohmann::json& third = doc.at("queries").at(2);  // TTL 7: found
  const std::string source = std::to_string(first.at("from").get<int>()), name = first.at("name").get<std::string>();
  std::map<std::string, std::vector<std::string>> neighbours;
  std::set<std::string> holders;
  for (const auto& p : doc.at("peers")) {
    const std::string id = std::to_string(p.at("id").get<int>());
    for (const auto& n : p.at("neighbors")) neighbours[id].push_back(std::to_string(n.get<int>()));
    for (const auto& item : p.at("items")) {
      if (item.get<std::string>() == name) holders.insert(id);
    }
  }
  REQUIRE(holders.size() >= 1);
  std::map<std::string, int> distance = {{source, 0}};
  for (std::vector<std::string> frontier = {source}; !frontier.empty();) {
    std::vector<std::string> next;
    for (const auto& at : frontier) {
      for (const auto& n : neighbours[at]) {
        if (distance.emplace(n, distance[at] + 1).second) next.push_back(n);
      }
    }
    frontier = next;
  }
  std::vector<unsigned char> rgba;
  int width = 0, height = 0;
  auto labels_with = [](const std::string& shot, const std::string& text) {
    std::ifstream in(fs::temp_directory_path() / "p2plab-screens" / (shot + ".json"));
    const nlohmann::json labels = nlohmann::json::parse(in).at("labels");
    return std::count_if(labels.begin(), labels.end(), [&](const nlohmann::json& l) { return l["text"] == text; });
  };

  SUBCASE("TTL 2: the rings, and the holders it never reached") {
    const double start = first.at("start_ms").get<double>();
    const auto peers = shoot_with_positions(P2PLAB_VIZ, lab, "flood-ttl2", " --at " + std::to_string(start + 2000),
                                            rgba, width, height);
    const nlohmann::json shot = read_json((fs::temp_directory_path() / "p2plab-screens" / "flood-ttl2.json").string());
    std::map<int, std::map<std::uint32_t, int>> colours;  // hop -> how many of its peers show each colour
    std::set<std::string> reached;
    for (const auto& p : shot.at("peers")) {
      const int hop = p.at("hop").get<int>();
      if (hop < 0) continue;
      const std::string id = p.at("id").get<std::string>();
      CAPTURE(id);
      reached.insert(id);
      CHECK(hop <= 2);                // within the TTL
      CHECK(hop >= distance.at(id));  // no copy arrives by a path shorter than the shortest
      CHECK((hop == 0) == (id == source));
      ++colours[hop][pixel(rgba, width, p.at("x").get<double>(), p.at("y").get<double>())];
    }
    std::set<std::string> expected;
    for (const auto& id : first.at("reached")) expected.insert(std::to_string(id.get<int>()));
    CHECK(reached == expected);
    REQUIRE(colours.size() == 3);  // the source and two rings
    std::set<std::uint32_t> all;
    for (const auto& [hop, counts] : colours) {
      // One colour per ring: nearly every peer of it shows it at its centre (a neighbour's dot or
      // a line's end may cover one).
      int total = 0;
      auto most = counts.begin();
      for (auto it = counts.begin(); it != counts.end(); ++it) {
        total += it->second;
        if (it->second > most->second) most = it;
      }
      CAPTURE(hop);
      CHECK(most->second * 10 >= total * 8);
      all.insert(most->first);
    }
    CHECK(all.size() == 3);  // and a different one for each
    CHECK(labels_with("flood-ttl2", "source") == 1);
    CHECK(labels_with("flood-ttl2", "holder") == static_cast<long>(holders.size()));
    for (const std::string& h : holders) CHECK(distance.at(h) > 2);  // out of reach: why TTL 2 fails
    // Once it has ended: the holders were missed, and the story says why.
    shoot_with_positions(P2PLAB_VIZ, lab, "flood-ttl2-end",
                         " --at " + std::to_string(start + first.at("latency_ms").get<double>() + 1), rgba, width,
                         height);
    CHECK(labels_with("flood-ttl2-end", "holder, missed") == static_cast<long>(holders.size()));
    const std::string story =
        read_json((fs::temp_directory_path() / "p2plab-screens" / "flood-ttl2-end.json").string()).at("story");
    CAPTURE(story);
    CHECK(story.find("NOT found") != std::string::npos);
    CHECK(story.find("false negative") != std::string::npos);
  }

  SUBCASE("TTL 7: the QUERYHIT's way back from a holder to the source, then the download") {
    const double end = third.at("start_ms").get<double>() + third.at("latency_ms").get<double>();
    shoot_with_positions(P2PLAB_VIZ, lab, "flood-ttl7", " --at " + std::to_string(end + 1), rgba, width, height);
    const nlohmann::json shot = read_json((fs::temp_directory_path() / "p2plab-screens" / "flood-ttl7.json").string());
    const std::string provider = std::to_string(third.at("downloaded_from").get<int>());
    CHECK(shot.at("header").get<std::string>().find("found, downloaded from " + provider) != std::string::npos);
    std::map<std::string, std::string> back;  // a QUERYHIT's step: from -> to
    int bright = 0, steps = 0;
    bool download = false;
    for (const auto& g : shot.at("segments")) {
      const std::string from = g.at("from"), to = g.at("to");
      if (g.at("kind") == "download") {
        download = from == provider && to == source;
        continue;
      }
      REQUIRE(g.at("kind") == "QUERYHIT");
      CHECK(std::count(neighbours[from].begin(), neighbours[from].end(), to) == 1);  // along an overlay link
      back[from] = to;
      ++steps;
      // Its line, in the answer's colour (light on the dark theme), half-way along it.
      const double x = (g["a"][0].get<double>() + g["b"][0].get<double>()) / 2,
                   y = (g["a"][1].get<double>() + g["b"][1].get<double>()) / 2;
      const std::uint32_t c = pixel(rgba, width, x, y);
      bright += (c & 0xff) > 200 && ((c >> 8) & 0xff) > 200 && ((c >> 16) & 0xff) > 200;
    }
    CHECK(download);
    REQUIRE(steps >= 1);
    CHECK(bright * 10 >= steps * 8);  // most midpoints show the line (a peer may sit on one)
    // From every holder that answered, the steps lead back to the source.
    int answered = 0;
    for (const std::string& h : holders) {
      if (!back.count(h)) continue;
      ++answered;
      std::string at = h;
      for (int i = 0; i < 10 && at != source && back.count(at); ++i) at = back[at];
      CHECK(at == source);
    }
    CHECK(answered == static_cast<int>(third.at("hits").size()));
    CHECK(labels_with("flood-ttl7", "holder") == static_cast<long>(holders.size()));
  }
}
#endif

TEST_CASE("after a crash the view marks stale pointers (to crashed peers, or not the true successor), none before") {
  // chord-failures: a quarter of the ring crashes at 10 s; stabilize repairs the successor
  // pointers within a few periods.
  const std::string lab = std::string(P2PLAB_SOURCE_DIR) + "/labs/chord-failures.json";
  std::vector<unsigned char> rgba;
  int width = 0, height = 0;
  auto stale = [&](const std::string& at) {
    const auto peers = shoot_with_positions(P2PLAB_VIZ, lab, "stale", " --at " + at, rgba, width, height);
    std::map<std::string, bool> up;
    for (const auto& p : peers) up[p.id] = p.up;
    const nlohmann::json shot = read_json((fs::temp_directory_path() / "p2plab-screens" / "stale.json").string());
    // The ring's true order: each live peer's next live peer by id (the brute-force successor).
    std::vector<std::pair<double, std::string>> ring;
    for (const auto& p : peers) {
      if (p.up) ring.emplace_back(std::stod(p.id), p.id);
    }
    std::sort(ring.begin(), ring.end());
    std::map<std::string, std::string> next;
    for (std::size_t i = 0; i < ring.size(); ++i) next[ring[i].second] = ring[(i + 1) % ring.size()].second;
    int count = 0;
    for (const auto& g : shot.at("segments")) {
      if (g.at("kind") != "stale") continue;
      ++count;
      CAPTURE(g);
      const std::string from = g.at("from"), to = g.at("to");
      CHECK(up.at(from) == true);                          // held by a live peer
      CHECK((up.at(to) == false || next.at(from) != to));  // to a crashed peer, or not the true successor
    }
    return count;
  };
  CHECK(stale("9990") == 0);
  const int just_after = stale("10040");
  CHECK(just_after >= 10);
  CHECK(stale("60000") < just_after);  // repaired since
}

TEST_CASE("a two-tier overlay is drawn in two tiers: superpeers inside and leaves around them") {
  for (const char* name : {"gnutella06-superpeers", "skype-relay", "napster-spof"}) {
    CAPTURE(name);
    std::vector<unsigned char> rgba;
    int width = 0, height = 0;
    shoot_with_positions(P2PLAB_VIZ, std::string(P2PLAB_SOURCE_DIR) + "/labs/" + name + ".json", "tiers", " --at 5000",
                         rgba, width, height);
    std::ifstream in(fs::temp_directory_path() / "p2plab-screens" / "tiers.json");
    const nlohmann::json peers = nlohmann::json::parse(in).at("peers");
    // The centre of the drawing, and each role's nearest and farthest peer from it.
    double cx = 0, cy = 0;
    for (const auto& p : peers) cx += p["x"].get<double>(), cy += p["y"].get<double>();
    cx /= static_cast<double>(peers.size()), cy /= static_cast<double>(peers.size());
    std::map<std::string, std::pair<double, double>> span;  // role -> (nearest, farthest)
    for (const auto& p : peers) {
      const double d = std::hypot(p["x"].get<double>() - cx, p["y"].get<double>() - cy);
      auto [it, fresh] = span.try_emplace(p["role"].get<std::string>(), d, d);
      if (!fresh) it->second = {std::min(it->second.first, d), std::max(it->second.second, d)};
    }
    REQUIRE(span.size() == 2);
    const std::string inner = span.count("superpeer") ? "superpeer" : "server";
    const std::string outer = span.count("leaf") ? "leaf" : "peer";
    CAPTURE(span[inner].second);
    CAPTURE(span[outer].first);
    CHECK(span[inner].second < span[outer].first);  // every inner peer nearer than every outer one
  }
}

#ifdef P2PLAB_BINARY
namespace {

bool is_number(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

TEST_CASE(
    "the XOR trie: leaves at their ids, the selected peer's k-buckets as subtrees and rows, a lookup's rounds and its "
    "best distance per round, and the ring view on request") {
  // The oracle: the same lab run headless by the command line; lookup(10) from 4's record there
  // (who was asked in which round, suggested by whom), and brute force over the lab's ids.
  const std::string lab = std::string(P2PLAB_SOURCE_DIR) + "/labs/kademlia-xor.json";
  const nlohmann::json scenario = read_json(lab);
  const fs::path result = fs::temp_directory_path() / "p2plab-screens" / "kademlia-xor-result.json";
  fs::create_directories(result.parent_path());
  REQUIRE(run(std::string(P2PLAB_BINARY) + " run " + lab + " -q -o " + result.string()) == 0);
  const nlohmann::json lookup = read_json(result.string()).at("lookups").at(0);
  REQUIRE(lookup.at("from") == 4);
  REQUIRE(lookup.at("key") == 10);
  const long key = 10, from = 4;
  long closest = -1;
  for (const auto& id : scenario.at("peers").at("ids")) {
    if (closest < 0 || (id.get<long>() ^ key) < (closest ^ key)) closest = id.get<long>();
  }
  std::set<std::tuple<std::string, std::string, int>> queries;  // (suggested by, asked, round)
  int rounds = 0;
  for (const auto& step : lookup.at("path")) {
    const long by = step.at("suggested_by").is_null() ? from : step.at("suggested_by").get<long>();
    queries.insert({std::to_string(by), std::to_string(step.at("asked").get<long>()), step.at("round").get<int>()});
    rounds = std::max(rounds, step.at("round").get<int>());
  }
  REQUIRE(rounds >= 2);
  std::vector<unsigned char> rgba;
  int width = 0, height = 0;
  // After the lookup (it starts at 6 s, the put at 7 s), peer 4 selected.
  const auto peers = shoot_with_positions(P2PLAB_VIZ, lab, "xor-trie", " --at 6500 --select 4", rgba, width, height);
  const nlohmann::json doc = read_json((fs::temp_directory_path() / "p2plab-screens" / "xor-trie.json").string());
  CHECK(doc.at("header") ==
        "lookup(10) from 4: " + std::to_string(rounds) + " rounds -> " + std::to_string(closest) + " (correct)");
  // Leaves: every peer on one line, each at its id's slot of the 16 (x linear in the id).
  REQUIRE(peers.size() == scenario.at("peers").at("ids").size());
  std::vector<std::pair<long, double>> by_id;
  for (const auto& p : peers) {
    CHECK(p.y == doctest::Approx(peers.front().y));
    CHECK(pixel(rgba, width, p.x, p.y) != kBackground);
    by_id.emplace_back(std::stol(p.id), p.x);
  }
  std::sort(by_id.begin(), by_id.end());
  const double slot =
      (by_id.back().second - by_id.front().second) / static_cast<double>(by_id.back().first - by_id.front().first);
  CHECK(slot > 10);
  for (const auto& [id, x] : by_id)
    CHECK(x ==
          doctest::Approx(by_id.front().second + slot * static_cast<double>(id - by_id.front().first)).epsilon(0.002));
  const double leaf_y = peers.front().y, right_of_trie = by_id.front().second + slot * 15.5;
  // The selected peer's buckets, as rows right of the trie, bucket 0 first: each contact at XOR
  // distance [2^i, 2^(i+1)) from 4 (oldest first, at most k = 2 in use), and on the trie the
  // subtree of bucket i shaded and named over the ids it covers.
  const int k = scenario.at("params").at("k").get<int>();
  const nlohmann::json& labels = doc.at("labels");
  double last_row_y = -1;
  int contacts = 0;
  for (int i = 0; i < 4; ++i) {
    const std::string range = "[" + std::to_string(1 << i) + ", " + std::to_string(2 << i) + ")";
    const std::string name = "bucket " + std::to_string(i) + ": " + range;
    CAPTURE(name);
    const nlohmann::json* row = nullptr;
    for (const auto& l : labels) {
      if (l.at("text") == name && l.at("box")[0].get<double>() > right_of_trie) row = &l;
    }
    REQUIRE(row != nullptr);
    const auto& box = row->at("box");
    CHECK(box[1].get<double>() > last_row_y);
    last_row_y = box[1].get<double>();
    int in_use = 0;
    bool waiting = false;
    for (const auto& l : labels) {
      const auto& b = l.at("box");
      const double mid_y = (b[1].get<double>() + b[3].get<double>()) / 2;
      if (b[0].get<double>() <= box[2].get<double>() || mid_y < box[1].get<double>() || mid_y > box[3].get<double>())
        continue;
      const std::string text = l.at("text");
      if (text == "waiting:") waiting = true;
      if (!is_number(text)) continue;
      CAPTURE(text);
      CHECK(xor_bits(std::stol(text), from) == i + 1);
      in_use += waiting ? 0 : 1;
      ++contacts;
    }
    CHECK(in_use <= k);
    // The subtree on the trie: ids 4 ^ 2^i with the low i bits cleared, 2^i of them.
    const long low = (from ^ (1L << i)) & ~((1L << i) - 1);
    const double x0 = by_id.front().second + slot * static_cast<double>(low - by_id.front().first) - slot / 2;
    const double x1 = x0 + slot * static_cast<double>(1L << i);
    bool shaded = false;
    for (const auto& l : labels) {
      const std::string text = l.at("text");
      const auto& b = l.at("box");
      if (text.rfind("bucket " + std::to_string(i), 0) != 0 && text != std::to_string(i)) continue;
      if (b[0].get<double>() >= x0 - 1 && b[0].get<double>() < x1 && b[3].get<double>() < leaf_y) shaded = true;
    }
    CHECK(shaded);
  }
  CHECK(contacts >= 4);
  // The rounds: each query drawn from the peer that suggested the contact to the contact, as the
  // command line's record says, and each round's number written under the leaves.
  std::set<std::tuple<std::string, std::string, int>> drawn;
  for (const auto& g : doc.at("segments")) {
    if (g.at("kind") == "query") drawn.insert({g.at("from"), g.at("to"), g.at("index").get<int>()});
  }
  CHECK(drawn == queries);
  for (int r = 1; r <= rounds; ++r) {
    CHECK(std::any_of(labels.begin(), labels.end(), [&](const nlohmann::json& l) {
      return l.at("text") == std::to_string(r) && l.at("box")[1].get<double>() > leaf_y;
    }));
  }
  // The chart: the best XOR distance by the end of each round, from the record.
  const nlohmann::json& chart = doc.at("view_chart");
  CHECK(chart.at("name") == "best_distance");
  std::vector<std::pair<double, double>> points, expected;
  for (const auto& p : chart.at("points")) points.emplace_back(p.at("x").get<double>(), p.at("y").get<double>());
  long best = -1;
  for (int r = 1; r <= rounds; ++r) {
    for (const auto& [by, asked, round] : queries) {
      if (round == r && (best < 0 || (std::stol(asked) ^ key) < best)) best = std::stol(asked) ^ key;
    }
    expected.emplace_back(r, static_cast<double>(best));
  }
  CHECK(points == expected);
  CHECK(expected.back().second == static_cast<double>(closest ^ key));
  // Told in the lecture's words: the last step, the lookup done.
  CHECK(doc.at("story").get<std::string>().find("done after " + std::to_string(rounds) + " rounds") !=
        std::string::npos);

  // The same moment with the ids on a circle (--ring-view, the legend's checkbox): every peer on
  // one circle (the circle through three of them), clockwise from the top in the order of ids;
  // the header still counts rounds.
  const auto ring =
      shoot_with_positions(P2PLAB_VIZ, lab, "xor-ring", " --at 6500 --select 4 --ring-view", rgba, width, height);
  CHECK(header_of("xor-ring") == doc.at("header"));
  REQUIRE(ring.size() == peers.size());
  const DrawnPeer &a = ring[0], &b = ring[1], &c = ring[2];
  const double d = 2 * (a.x * (b.y - c.y) + b.x * (c.y - a.y) + c.x * (a.y - b.y));
  REQUIRE(std::abs(d) > 1);
  const double ux = ((a.x * a.x + a.y * a.y) * (b.y - c.y) + (b.x * b.x + b.y * b.y) * (c.y - a.y) +
                     (c.x * c.x + c.y * c.y) * (a.y - b.y)) /
                    d;
  const double uy = ((a.x * a.x + a.y * a.y) * (c.x - b.x) + (b.x * b.x + b.y * b.y) * (a.x - c.x) +
                     (c.x * c.x + c.y * c.y) * (b.x - a.x)) /
                    d;
  const double radius = std::hypot(a.x - ux, a.y - uy);
  CHECK(radius > 100);
  std::vector<std::pair<long, double>> turns;  // id, angle clockwise from the top
  for (const auto& p : ring) {
    CHECK(std::hypot(p.x - ux, p.y - uy) == doctest::Approx(radius).epsilon(0.01));
    turns.emplace_back(std::stol(p.id), std::fmod(std::atan2(p.x - ux, uy - p.y) + 2 * M_PI, 2 * M_PI));
  }
  std::sort(turns.begin(), turns.end());
  for (std::size_t i = 1; i < turns.size(); ++i) CHECK(turns[i].second > turns[i - 1].second);
}
#endif

#ifdef P2PLAB_VIZ_TOY
TEST_CASE("a protocol defined in a test file registers itself and the visualizer draws it") {
  const std::string lab = std::string(P2PLAB_SOURCE_DIR) + "/tests/toy/toy_scenario.json";
  const nlohmann::json scenario = read_json(lab);
  // The plain visualizer does not know the protocol: the toy one knows it only by its registrar.
  CHECK(run(std::string(P2PLAB_VIZ) + " " + lab + " --screenshot /dev/null > /dev/null 2>&1") == 2);
  std::vector<unsigned char> rgba;
  int width = 0, height = 0;
  const auto peers = shoot_with_positions(P2PLAB_VIZ_TOY, lab, "toy", " --at 1e9", rgba, width, height);
  const ViewColours picture = analyse((fs::temp_directory_path() / "p2plab-screens" / "toy.png").string());
  CHECK(picture.drawn > 0.01);
  CHECK(picture.colours.size() >= 4);
  // Every peer of the scenario drawn once, inside the view (right of the panel), each at its own
  // place, and the picture shows a dot there.
  std::size_t expected = 0;
  if (scenario.at("peers").contains("count")) expected = scenario["peers"]["count"].get<std::size_t>();
  if (scenario.at("peers").contains("ids")) expected = scenario["peers"]["ids"].size();
  CHECK(peers.size() == expected);
  std::set<std::string> ids;
  std::set<std::pair<long, long>> places;
  for (const auto& p : peers) {
    CAPTURE(p.id);
    ids.insert(p.id);
    places.insert({std::lround(p.x), std::lround(p.y)});
    CHECK(p.x > width / 4.0);
    CHECK(p.x < width);
    CHECK(p.y > 0);
    CHECK(p.y < height);
    CHECK(p.radius >= 1);
    CHECK(pixel(rgba, width, p.x, p.y) != kBackground);
  }
  CHECK(ids.size() == peers.size());
  CHECK(places.size() == peers.size());
}
#endif

#ifdef P2PLAB_BINARY
TEST_CASE(
    "a file's Merkle DAG pinned on the view is drawn as its tree: the root over its chunks in link order, rejected "
    "copies marked") {
  // The command line's result of the CID lab cut at 6.4 s (43227 has fetched the photo, two of
  // its chunks first from a corrupt provider) is the oracle: the DAG's links and the fetch's
  // rejected arrivals.
  const fs::path out = fs::temp_directory_path() / "p2plab-screens";
  fs::create_directories(out);
  nlohmann::json scenario = read_json(std::string(P2PLAB_SOURCE_DIR) + "/labs/ipfs-cid.json");
  scenario["run_ms"] = 6400;
  const std::string lab = (out / "ipfs-cid-cut.json").string(), result = (out / "ipfs-cid-cut-result.json").string();
  std::ofstream(lab) << scenario.dump();
  REQUIRE(run(std::string(P2PLAB_BINARY) + " run " + lab + " -q -o " + result) == 0);
  const nlohmann::json truth = read_json(result);
  std::vector<std::string> links;
  std::string root;
  for (const auto& f : truth.at("files")) {
    if (f.at("name") != "photo") continue;
    root = f.at("root");
    for (const auto& node : f.at("dag")) {
      if (node.at("cid") == root) links = node.at("links").get<std::vector<std::string>>();
    }
  }
  REQUIRE(links.size() == 4);
  std::set<std::string> rejected;
  for (const auto& fetch : truth.at("fetches")) {
    if (fetch.at("from") != 43227 || fetch.at("root") != root) continue;
    for (const auto& a : fetch.at("arrivals")) {
      if (!a.at("verified").get<bool>()) rejected.insert(a.at("cid").get<std::string>());
    }
  }
  REQUIRE(!rejected.empty());
  std::vector<unsigned char> rgba;
  int width = 0, height = 0;
  shoot_with_positions(P2PLAB_VIZ, lab, "ipfs-dag-pinned", " --at 6400 --select 43227 --pin 43227", rgba, width,
                       height);
  const nlohmann::json drawn = read_json((out / "ipfs-dag-pinned.json").string());
  // A CID as the DAG's boxes write it: "QmQsno..qKB1".
  const auto shortened = [](const std::string& cid) { return cid.substr(0, 6) + ".." + cid.substr(cid.size() - 4); };
  const auto box_of = [&](const std::string& text) {
    for (const auto& l : drawn.at("labels")) {
      if (l.at("text") == text) return l.at("box").get<std::vector<double>>();
    }
    FAIL("nothing drawn reads " << text);
    return std::vector<double>{};
  };
  const std::vector<double> top = box_of(shortened(root));
  std::vector<std::vector<double>> leaves;
  for (const std::string& cid : links) leaves.push_back(box_of(shortened(cid)));
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    CAPTURE(i);
    CHECK(leaves[i][1] > top[3]);                          // under the root
    CHECK(leaves[i][1] == doctest::Approx(leaves[0][1]));  // on one line
    if (i > 0) CHECK(leaves[i][0] > leaves[i - 1][2]);     // in link order, apart
  }
  CHECK(top[0] > leaves.front()[0]);  // the root centred over its chunks
  CHECK(top[2] < leaves.back()[2]);
  // Each chunk whose corrupted copy was rejected says so in its box, and no other does.
  std::size_t marks = 0;
  for (const auto& l : drawn.at("labels")) {
    if (l.at("text") != "bad copy rejected") continue;
    ++marks;
    const auto mark = l.at("box").get<std::vector<double>>();
    bool under_a_rejected_chunk = false;
    for (std::size_t i = 0; i < links.size(); ++i) {
      under_a_rejected_chunk =
          under_a_rejected_chunk ||
          (rejected.count(links[i]) && std::abs(mark[0] - leaves[i][0]) < 1 && mark[1] > leaves[i][1]);
    }
    CHECK(under_a_rejected_chunk);
  }
  CHECK(marks == rejected.size());
}

TEST_CASE("the zone map draws each peer's zone, the selected peer's neighbours and a lookup's greedy path hop by hop") {
  // The command line's result of the zones lab cut at 26.15 s (the first lookup has just ended) is
  // the oracle: the zones, peer 1's neighbours and the lookup's path at that moment.
  const fs::path out = fs::temp_directory_path() / "p2plab-screens";
  fs::create_directories(out);
  nlohmann::json scenario = read_json(std::string(P2PLAB_SOURCE_DIR) + "/labs/can-zones.json");
  scenario["run_ms"] = 26150;
  const std::string lab = (out / "can-zones-cut.json").string(), result = (out / "can-zones-cut-result.json").string();
  std::ofstream(lab) << scenario.dump();
  REQUIRE(run(std::string(P2PLAB_BINARY) + " run " + lab + " -q -o " + result) == 0);
  const nlohmann::json truth = read_json(result);
  const nlohmann::json& lookup = truth.at("lookups").at(0);
  REQUIRE(lookup.at("path").size() >= 3);
  std::vector<unsigned char> rgba;
  int width = 0, height = 0;
  const auto peers = shoot_with_positions(P2PLAB_VIZ, lab, "can-zones", " --at 26150 --select 1", rgba, width, height);
  const nlohmann::json drawn = read_json((out / "can-zones.json").string());
  // The square: the zones' union. Each live peer's zone is drawn where its [lo, hi) puts it, and
  // its dot inside it.
  double left = 1e9, right = -1e9, top = 1e9, bottom = -1e9;
  std::map<std::string, std::vector<nlohmann::json>> zones_drawn;
  for (const auto& s : drawn.at("segments")) {
    if (s.at("kind") != "zone") continue;
    left = std::min(left, s.at("a")[0].get<double>());
    top = std::min(top, s.at("a")[1].get<double>());
    right = std::max(right, s.at("b")[0].get<double>());
    bottom = std::max(bottom, s.at("b")[1].get<double>());
    zones_drawn[s.at("from").get<std::string>()].push_back(s);
  }
  const double side = right - left;
  REQUIRE(side > 300);
  CHECK(std::abs((bottom - top) - side) < 1.0);
  for (const auto& p : truth.at("peers")) {
    const std::string id = p.at("id");
    CAPTURE(id);
    const nlohmann::json zone = p.at("zone").is_array() ? p.at("zone")[0] : p.at("zone");
    REQUIRE(zones_drawn.count(id) == 1);
    const auto& s = zones_drawn[id].front();
    CHECK(std::abs(s.at("a")[0].get<double>() - (left + zone.at("lo")[0].get<double>() * side)) < 1.0);
    CHECK(std::abs(s.at("b")[0].get<double>() - (left + zone.at("hi")[0].get<double>() * side)) < 1.0);
    CHECK(std::abs(s.at("b")[1].get<double>() - (bottom - zone.at("lo")[1].get<double>() * side)) < 1.0);  // y upwards
    CHECK(std::abs(s.at("a")[1].get<double>() - (bottom - zone.at("hi")[1].get<double>() * side)) < 1.0);
    const auto dot = std::find_if(peers.begin(), peers.end(), [&](const DrawnPeer& d) { return d.id == id; });
    REQUIRE(dot != peers.end());
    CHECK(dot->x > s.at("a")[0].get<double>());
    CHECK(dot->x < s.at("b")[0].get<double>());
    CHECK(pixel(rgba, width, dot->x, dot->y) != pixel(rgba, width, dot->x, dot->y + dot->radius + 12));
  }
  // Peer 1's neighbours, as the result lists them.
  std::set<std::string> neighbours_drawn, neighbours_true;
  for (const auto& s : drawn.at("segments")) {
    if (s.at("kind") == "neighbour" && s.at("from") == "1") neighbours_drawn.insert(s.at("to").get<std::string>());
  }
  for (const auto& p : truth.at("peers")) {
    if (p.at("id") == "1") {
      for (const auto& n : p.at("neighbours")) neighbours_true.insert(n.get<std::string>());
    }
  }
  CHECK(!neighbours_true.empty());
  CHECK(neighbours_drawn == neighbours_true);
  // Each link goes the shorter way round the torus: its pieces (two when it crosses an edge)
  // stay in the square and are as long as the torus distance between the zones' centres.
  const auto centre = [&](const std::string& id) {
    for (const auto& p : truth.at("peers")) {
      if (p.at("id") != id) continue;
      const nlohmann::json zone = p.at("zone").is_array() ? p.at("zone")[0] : p.at("zone");
      return std::array<double, 2>{(zone.at("lo")[0].get<double>() + zone.at("hi")[0].get<double>()) / 2,
                                   (zone.at("lo")[1].get<double>() + zone.at("hi")[1].get<double>()) / 2};
    }
    FAIL("no peer " << id);
    return std::array<double, 2>{};
  };
  int across_an_edge = 0;
  for (const std::string& n : neighbours_true) {
    CAPTURE(n);
    double drawn_length = 0;
    int pieces = 0;
    for (const auto& s : drawn.at("segments")) {
      if (s.at("kind") != "neighbour" || s.at("from") != "1" || s.at("to") != n) continue;
      const double ax = s.at("a")[0], ay = s.at("a")[1], bx = s.at("b")[0], by = s.at("b")[1];
      drawn_length += std::hypot(bx - ax, by - ay);
      ++pieces;
      for (const double x : {ax, bx}) CHECK((x > left - 1 && x < right + 1));
      for (const double y : {ay, by}) CHECK((y > top - 1 && y < bottom + 1));
    }
    const auto a = centre("1"), b = centre(n);
    double torus = 0;
    for (int i = 0; i < 2; ++i) {
      const double straight = std::abs(a[static_cast<std::size_t>(i)] - b[static_cast<std::size_t>(i)]);
      const double shorter = std::min(straight, 1 - straight);
      torus += shorter * shorter;
      across_an_edge += shorter < straight ? 1 : 0;
    }
    CHECK(pieces >= 1);
    CHECK(pieces <= 2);
    CHECK(std::abs(drawn_length - std::sqrt(torus) * side) < 3.0);
  }
  CHECK(across_an_edge > 0);  // the lab's peer 1 has a neighbour across an edge
  // The greedy path, hop by hop: its steps are the result's path; the key's point is named.
  std::vector<std::string> steps;
  for (const auto& s : drawn.at("segments")) {
    if (s.at("kind") == "step") {
      if (steps.empty()) steps.push_back(s.at("from").get<std::string>());
      steps.push_back(s.at("to").get<std::string>());
    }
  }
  std::vector<std::string> path;
  for (const auto& p : lookup.at("path")) path.push_back(p.get<std::string>());
  CHECK(steps == path);
  char point[64];
  std::snprintf(point, sizeof point, "(%.2f, %.2f)", lookup.at("point")[0].get<double>(),
                lookup.at("point")[1].get<double>());
  const std::string header = drawn.at("header");
  CAPTURE(header);
  CHECK(header.find(std::string("lookup of point ") + point + " from 1") == 0);
  CHECK(header.find("-> " + lookup.at("owner").get<std::string>() + " (correct)") != std::string::npos);
  bool labelled = false;
  for (const auto& l : drawn.at("labels")) labelled = labelled || l.at("text") == std::string("key point ") + point;
  CHECK(labelled);
  // One hop in: the first step only, and the sentence tells the greedy choice at the first peer.
  shoot_with_positions(P2PLAB_VIZ, lab, "can-zones-hop1", " --at 26001 --select 1", rgba, width, height);
  const nlohmann::json first = read_json((out / "can-zones-hop1.json").string());
  int first_steps = 0;
  for (const auto& s : first.at("segments")) first_steps += s.at("kind") == "step" ? 1 : 0;
  CHECK(first_steps == 1);
  const std::string story = first.at("story");
  CAPTURE(story);
  // The start (peer 1 picks its neighbour closest to the point) and the hop sent at that moment.
  CHECK(story.find("peer 1: the point " + std::string(point) + " is not in its zone; neighbour " + path[1]) == 0);
}
#endif
