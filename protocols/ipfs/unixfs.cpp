#include "unixfs.hpp"

#include "protobuf.hpp"

namespace p2plab::ipfs {

namespace {
constexpr std::uint32_t kType = 1, kData = 2, kFilesize = 3, kBlocksizes = 4, kHashType = 5, kFanout = 6, kMode = 7,
                        kMtime = 8;
}

Bytes encode_unixfs(const UnixfsData& data) {
  Bytes out;
  protobuf::append_varint_field(out, kType, static_cast<std::uint64_t>(data.type));
  if (data.data) protobuf::append_bytes_field(out, kData, *data.data);
  if (data.filesize) protobuf::append_varint_field(out, kFilesize, *data.filesize);
  for (const std::uint64_t size : data.blocksizes) protobuf::append_varint_field(out, kBlocksizes, size);
  if (data.hash_type) protobuf::append_varint_field(out, kHashType, *data.hash_type);
  if (data.fanout) protobuf::append_varint_field(out, kFanout, *data.fanout);
  return out;
}

UnixfsData decode_unixfs(std::string_view message) {
  protobuf::Reader reader(message, "UnixFS Data");
  protobuf::Field field;
  UnixfsData data;
  bool has_type = false;
  while (reader.next(field)) {
    const bool varint = field.wire == protobuf::kVarint;
    if (field.number == kType && varint) {
      if (field.varint > static_cast<std::uint64_t>(UnixfsType::HamtShard)) reader.fail(field, "unknown Type");
      data.type = static_cast<UnixfsType>(field.varint);
      has_type = true;
    } else if (field.number == kData && !varint) {
      data.data = Bytes(field.bytes);
    } else if (field.number == kFilesize && varint) {
      data.filesize = field.varint;
    } else if (field.number == kBlocksizes && varint) {
      data.blocksizes.push_back(field.varint);
    } else if (field.number == kBlocksizes) {  // packed: a run of varints without keys
      for (std::size_t pos = 0; pos < field.bytes.size();) {
        data.blocksizes.push_back(protobuf::read_varint(field.bytes, pos, "UnixFS Data blocksizes"));
      }
    } else if (field.number == kHashType && varint) {
      data.hash_type = field.varint;
    } else if (field.number == kFanout && varint) {
      data.fanout = field.varint;
    } else if ((field.number == kMode && varint) || (field.number == kMtime && !varint)) {
      // permissions and modification time: not part of what this lab shows
    } else {
      reader.fail(field, "not a UnixFS Data field of its wire type");
    }
  }
  if (!has_type) throw FormatError("UnixFS Data: no Type");
  return data;
}

std::string unixfs_type_name(UnixfsType type) {
  switch (type) {
    case UnixfsType::Raw:
      return "Raw";
    case UnixfsType::Directory:
      return "Directory";
    case UnixfsType::File:
      return "File";
    case UnixfsType::Metadata:
      return "Metadata";
    case UnixfsType::Symlink:
      return "Symlink";
    case UnixfsType::HamtShard:
      return "HAMTShard";
  }
  return "?";
}

}  // namespace p2plab::ipfs
