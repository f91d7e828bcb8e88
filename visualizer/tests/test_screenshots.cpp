// Every lab opens in p2plab-viz, runs and renders under Xvfb; the pictures are checked on their
// pixels: not blank, and with enough distinct colours where peers, links and paths are drawn.
#include <doctest/doctest.h>
#include <stb_image.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>

namespace fs = std::filesystem;

namespace {

struct Picture {
  int width = 0, height = 0;
  std::set<std::uint32_t> colours;  // in the view (right of the side panel)
  double drawn = 0;                 // share of view pixels that are not the background
};

Picture analyse(const std::string& path) {
  Picture p;
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

int run(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
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
    const std::string command = "xvfb-run -a -s '-screen 0 1280x800x24' " + std::string(P2PLAB_VIZ) + " " +
                                entry.path().string() + " --screenshot " + png + " --size 1280x800 --at 1e9 > /dev/null 2>&1";
    CAPTURE(command);
    REQUIRE(run(command) == 0);
    const Picture p = analyse(png);
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
  CHECK(run(std::string(P2PLAB_VIZ) + " " + P2PLAB_SOURCE_DIR + "/labs/chord-3bit.json --size 10x10 > /dev/null 2>&1") == 2);
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
    const std::string command = "xvfb-run -a -s '-screen 0 1280x800x24' " + std::string(P2PLAB_VIZ) + " " + lab +
                                " --screenshot " + png + " --size 1280x800 --at 900" + extra + " > /dev/null 2>&1";
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
