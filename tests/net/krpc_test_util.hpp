// What the KRPC tests share (test_net_bep5_krpc.cpp, test_net_bep5_dht.cpp: one test program,
// compiled as one translation unit).
#pragma once

#include <doctest/doctest.h>

#include <string>

#include "krpc.hpp"

namespace krpc_test {

/// The message `bytes` decode to; the test stops, naming the decoder's reason, if they do not.
inline p2plab::kademlia::krpc::Message decoded(const std::string& bytes) {
  namespace krpc = p2plab::kademlia::krpc;
  krpc::Message m;
  krpc::Drop why{};
  const bool ok = krpc::decode(bytes, m, why);
  const std::string reason = std::string(krpc::to_string(why)) + " (" + m.error_text + ")";
  REQUIRE_MESSAGE(ok, reason);
  return m;
}

}  // namespace krpc_test
