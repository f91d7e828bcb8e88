#include "register_all.hpp"

// The built-in protocols, in the order `p2plab list`, the panels and `compare` show them. A new
// module adds one line here: X(name) for its function p2plab::name::register_name(registry).
#define P2PLAB_BUILT_IN_PROTOCOLS(X) \
  X(central_index)                   \
  X(flooding)                        \
  X(superpeer)                       \
  X(chord)                           \
  X(kademlia)                        \
  X(pastry)                          \
  X(can)                             \
  X(ipfs)

#define P2PLAB_DECLARE_REGISTRATION(module)           \
  namespace p2plab::module {                          \
  void register_##module(ProtocolRegistry& registry); \
  }
P2PLAB_BUILT_IN_PROTOCOLS(P2PLAB_DECLARE_REGISTRATION)

namespace p2plab {

const ProtocolRegistry& all_protocols() {
  static const ProtocolRegistry registry = [] {
    ProtocolRegistry r;
#define P2PLAB_REGISTER(module) module::register_##module(r);
    P2PLAB_BUILT_IN_PROTOCOLS(P2PLAB_REGISTER)
#undef P2PLAB_REGISTER
    // Protocols linked into this program from elsewhere (a test's toy protocol).
    for (const ProtocolInfo& info : registered_protocols()) r.add(info);
    return r;
  }();
  return registry;
}

}  // namespace p2plab
