// Hidden graded tests of exercise kademlia-lookup (grading time only).
#include <fstream>
#include <string>

#include "grading.hpp"
#include "kademlia_support.hpp"

using namespace p2plab;
using namespace p2plab::grading::kad;
// Qualified where the chord exercises' helpers have the same name: the hidden tests are compiled
// as one translation unit (tests/grading/CMakeLists.txt).
namespace kad = p2plab::grading::kad;

GRADED_TEST("kademlia-lookup", 2, "hidden: the kademlia-lookup lab with alpha 1 then 3 finds the true k closest in every lookup and asks alpha first") {
  std::ifstream in(std::string(P2PLAB_LABS_DIR) + "/kademlia-lookup.json");
  REQUIRE(in.good());
  const nlohmann::json result = kad::run_scenario(nlohmann::json::parse(in));
  const LookupTally t = check_lookups(result, 8);
  CHECK_MESSAGE(t.total == 200, "the lab's 200 lookups should finish, " << t.total << " did");
  CHECK_MESSAGE(t.right == t.total, (t.total - t.right)
                                        << " lookups missed the true 8 closest:" << kad::lines(t.wrong));
  std::size_t first_rounds[2] = {0, 0};
  for (const auto& l : result["lookups"]) {
    std::size_t first = 0;
    for (const auto& hop : l["path"]) first += hop["round"].get<int>() == 1;
    ++first_rounds[l["start_ms"].get<double>() < 25000 ? (first == 1 ? 0 : 1) : (first == 3 ? 0 : 1)];
  }
  CHECK_MESSAGE(first_rounds[1] == 0,
                first_rounds[1] << " lookups did not ask alpha (1, then 3) nodes in their first round");
}
