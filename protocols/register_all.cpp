#include "register_all.hpp"

#include "chord/chord_run.hpp"

namespace p2plab {

const ProtocolRegistry& all_protocols() {
  static const ProtocolRegistry registry = [] {
    ProtocolRegistry r;
    chord::register_chord(r);
    return r;
  }();
  return registry;
}

}  // namespace p2plab
