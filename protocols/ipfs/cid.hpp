#pragma once
// CID, the content identifier (github.com/multiformats/cid): what a block is called, computed from
// the block itself. Version 0 is a bare sha2-256 multihash of a dag-pb block, written in base58btc
// ("Qm..."). Version 1 says what it names: <varint 1><varint codec><multihash>, written with a
// multibase prefix (here 'b' + base32, "bafy..." for dag-pb, "bafk..." for raw).
#include <cstdint>
#include <string>
#include <string_view>

#include "bytes.hpp"
#include "multihash.hpp"

namespace p2plab::ipfs {

/// Multicodec codes (github.com/multiformats/multicodec) of the two block formats UnixFS uses.
constexpr std::uint64_t kDagPb = 0x70;  ///< a protobuf PBNode (dag_pb.hpp)
constexpr std::uint64_t kRaw = 0x55;    ///< the bytes themselves

struct Cid {
  int version = 1;
  std::uint64_t codec = kRaw;
  Multihash hash;

  Bytes bytes() const;            ///< binary form, as a dag-pb link holds it
  std::string to_string() const;  ///< text form: base58btc for v0, 'b' + base32 for v1
  bool operator==(const Cid&) const = default;
  auto operator<=>(const Cid&) const = default;
};

/// The CID of `block`: sha2-256 of its bytes. A CIDv0 can only name a dag-pb block.
Cid cid_of(int version, std::uint64_t codec, std::string_view block);

/// Reads a binary CID at `pos` (a multihash starting 0x12 0x20 is a CIDv0) and moves `pos` on.
Cid read_cid(std::string_view bytes, std::size_t& pos);
/// A whole binary CID (nothing may follow it).
Cid cid_from_bytes(std::string_view bytes);
/// Parses a CID's text: 46 characters "Qm..." (v0) or a multibase string (v1); a FormatError
/// says what is wrong ("cid: ..." with the reason).
Cid parse_cid(std::string_view text);

/// The key of the CID's provider records on the DHT: sha2-256 of its multihash's bytes (the IPFS
/// kad-dht spec's "Kademlia Identifier", 32 bytes; the same for a CIDv0 and a CIDv1 of one block).
Bytes kademlia_identifier(const Cid& cid);

/// "dag-pb", "raw", or the code in hex.
std::string codec_name(std::uint64_t codec);

}  // namespace p2plab::ipfs
