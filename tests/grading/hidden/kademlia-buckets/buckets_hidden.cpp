// Hidden graded tests of exercise kademlia-buckets (grading time only).
#include <fstream>
#include <string>

#include "grading.hpp"
#include "kademlia_support.hpp"

using namespace p2plab;
using namespace p2plab::grading::kad;
// Qualified where the chord exercises' helpers have the same name: the hidden tests are compiled
// as one translation unit (tests/grading/CMakeLists.txt).
namespace kad = p2plab::grading::kad;

GRADED_TEST("kademlia-buckets", 2, "hidden: the kademlia-xor lab keeps every contact and replacement in its XOR range and every lookup finds the true 2 closest") {
  std::ifstream in(std::string(P2PLAB_LABS_DIR) + "/kademlia-xor.json");
  REQUIRE(in.good());
  const nlohmann::json result = kad::run_scenario(nlohmann::json::parse(in));
  std::vector<std::string> misplaced;
  for (const auto& peer : result["peers"]) {
    const Id self = id_of(peer["id"]);
    for (const auto& bucket : peer["buckets"]) {
      CHECK_MESSAGE(bucket["contacts"].size() <= 2, "node " << name(self) << " holds more than k = 2 in a bucket");
      for (const char* field : {"contacts", "replacements"}) {
        for (const auto& c : bucket.value(field, nlohmann::json::array())) {
          if (highest_differing_bit(self, id_of(c)) != bucket["i"].get<int>()) {
            misplaced.push_back("node " + name(self) + ": " + name(id_of(c)) + " in bucket " + bucket["i"].dump());
          }
        }
      }
    }
  }
  CHECK_MESSAGE(misplaced.empty(), "contacts in the wrong bucket:" << kad::lines(misplaced));
  const LookupTally t = check_lookups(result, 2);
  CHECK_MESSAGE(t.total == 2, "the lab's 2 lookups should finish, " << t.total << " did");
  CHECK_MESSAGE(t.right == t.total, "lookups that missed the true 2 closest:" << kad::lines(t.wrong));
}
