#include "central_index.hpp"
#include "common/search_run.hpp"

namespace p2plab::central_index {

void register_central_index(ProtocolRegistry& registry) {
  registry.add({"central_index",
                "Central index, Napster-style: one server indexes all files (O(1) messages per search, a single point of failure)",
                [](const Scenario& s) -> std::unique_ptr<Run> { return std::make_unique<search::SearchRun<Protocol>>(s); }});
}

}  // namespace p2plab::central_index
