#include "register_all.hpp"

// One line per built-in protocol: each module adds itself (its runs, view model and commands).
namespace p2plab::central_index {
void register_central_index(ProtocolRegistry& registry);
}
namespace p2plab::flooding {
void register_flooding(ProtocolRegistry& registry);
}
namespace p2plab::superpeer {
void register_superpeer(ProtocolRegistry& registry);
}
namespace p2plab::chord {
void register_chord(ProtocolRegistry& registry);
}

namespace p2plab {

const ProtocolRegistry& all_protocols() {
  static const ProtocolRegistry registry = [] {
    ProtocolRegistry r;
    central_index::register_central_index(r);
    flooding::register_flooding(r);
    superpeer::register_superpeer(r);
    chord::register_chord(r);
    // Protocols linked into this program from elsewhere (a test's toy protocol).
    for (const ProtocolInfo& info : registered_protocols()) r.add(info);
    return r;
  }();
  return registry;
}

}  // namespace p2plab
