#include "dag_pb.hpp"

#include "protobuf.hpp"

namespace p2plab::ipfs {

namespace {

constexpr std::uint32_t kLinkHash = 1, kLinkName = 2, kLinkTsize = 3;
constexpr std::uint32_t kNodeData = 1, kNodeLinks = 2;

Bytes encode_link(const PbLink& link) {
  Bytes out;
  protobuf::append_bytes_field(out, kLinkHash, link.hash.bytes());
  if (link.name) protobuf::append_bytes_field(out, kLinkName, *link.name);
  if (link.tsize) protobuf::append_varint_field(out, kLinkTsize, *link.tsize);
  return out;
}

PbLink decode_link(std::string_view message) {
  protobuf::Reader reader(message, "dag-pb PBLink");
  protobuf::Field field;
  PbLink link;
  std::uint32_t last = 0;
  bool has_hash = false;
  while (reader.next(field)) {
    if (field.number <= last) reader.fail(field, "out of order or repeated");
    last = field.number;
    if (field.number == kLinkHash && field.wire == protobuf::kLengthDelimited) {
      try {
        link.hash = cid_from_bytes(field.bytes);
      } catch (const FormatError& e) {
        reader.fail(field, std::string("Hash is not a CID: ") + e.what());
      }
      has_hash = true;
    } else if (field.number == kLinkName && field.wire == protobuf::kLengthDelimited) {
      link.name = std::string(field.bytes);
    } else if (field.number == kLinkTsize && field.wire == protobuf::kVarint) {
      link.tsize = field.varint;
    } else {
      reader.fail(field, "not a PBLink field (1 Hash, 2 Name, 3 Tsize) of its wire type");
    }
  }
  if (!has_hash) throw FormatError("dag-pb PBLink: no Hash");
  return link;
}

}  // namespace

Bytes encode_pb_node(const PbNode& node) {
  Bytes out;
  for (const PbLink& link : node.links) protobuf::append_bytes_field(out, kNodeLinks, encode_link(link));
  if (node.data) protobuf::append_bytes_field(out, kNodeData, *node.data);
  return out;
}

PbNode decode_pb_node(std::string_view block) {
  protobuf::Reader reader(block, "dag-pb PBNode");
  protobuf::Field field;
  PbNode node;
  while (reader.next(field)) {
    if (field.wire != protobuf::kLengthDelimited) reader.fail(field, "expected bytes");
    if (field.number == kNodeLinks) {
      if (node.data) reader.fail(field, "a link after Data (links come first)");
      node.links.push_back(decode_link(field.bytes));
    } else if (field.number == kNodeData) {
      if (node.data) reader.fail(field, "Data twice");
      node.data = Bytes(field.bytes);
    } else {
      reader.fail(field, "not a PBNode field (1 Data, 2 Links)");
    }
  }
  return node;
}

}  // namespace p2plab::ipfs
