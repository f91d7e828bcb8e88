#pragma once
// dag-pb (ipld.io/specs/codecs/dag-pb/spec): the block format of UnixFS, a protobuf PBNode of
// links to other blocks and opaque data (a UnixFS Data message, unixfs.hpp):
//   message PBLink { bytes Hash = 1; string Name = 2; uint64 Tsize = 3; }
//   message PBNode { repeated PBLink Links = 2; bytes Data = 1; }
// Canonical form, which this code writes and demands: the links first, then the data; within a
// link, Hash, Name, Tsize in order; no other fields.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bytes.hpp"
#include "cid.hpp"

namespace p2plab::ipfs {

struct PbLink {
  Cid hash;
  std::optional<std::string> name;     ///< a file's chunks have "" (present, empty); a directory's entries their names
  std::optional<std::uint64_t> tsize;  ///< cumulative size: the target block and all blocks below it
  bool operator==(const PbLink&) const = default;
};

struct PbNode {
  std::vector<PbLink> links;
  std::optional<Bytes> data;
  bool operator==(const PbNode&) const = default;
};

Bytes encode_pb_node(const PbNode& node);
/// A FormatError names the field and what is wrong (unknown field, fields out of order, bad CID).
PbNode decode_pb_node(std::string_view block);

}  // namespace p2plab::ipfs
