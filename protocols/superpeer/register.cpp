#include "common/search_run.hpp"
#include "superpeer.hpp"

namespace p2plab::superpeer {

void register_superpeer(ProtocolRegistry& registry) {
  registry.add({"superpeer",
                "Superpeers, Gnutella 0.6 / Skype: leaves announce files to elected superpeers; queries flood among superpeers only",
                [](const Scenario& s) -> std::unique_ptr<Run> { return std::make_unique<search::SearchRun<Protocol>>(s); }});
}

}  // namespace p2plab::superpeer
