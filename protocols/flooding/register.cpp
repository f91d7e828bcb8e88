#include "common/search_run.hpp"
#include "flooding.hpp"

namespace p2plab::flooding {

void register_flooding(ProtocolRegistry& registry) {
  registry.add({"flooding",
                "Flooding, Gnutella 0.4: queries flooded to all neighbours with a TTL (O(N) messages, false negatives)",
                [](const Scenario& s) -> std::unique_ptr<Run> { return std::make_unique<search::SearchRun<Protocol>>(s); }});
}

}  // namespace p2plab::flooding
