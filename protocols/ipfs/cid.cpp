#include "cid.hpp"

#include <cstdio>

#include "multibase.hpp"
#include "varint.hpp"

namespace p2plab::ipfs {

Bytes Cid::bytes() const {
  if (version == 0) return hash.bytes();
  Bytes out = uvarint(static_cast<std::uint64_t>(version));
  append_uvarint(out, codec);
  out += hash.bytes();
  return out;
}

std::string Cid::to_string() const {
  if (version == 0) return base58btc_encode(bytes());
  return kBase32Prefix + base32_encode(bytes());
}

Cid cid_of(int version, std::uint64_t codec, std::string_view block) {
  if (version != 0 && version != 1) throw FormatError("cid: version " + std::to_string(version) + " (0 or 1)");
  if (version == 0 && codec != kDagPb)
    throw FormatError("cid: a CIDv0 names dag-pb blocks only, not " + codec_name(codec));
  return Cid{version, codec, sha2_256(block)};
}

Bytes kademlia_identifier(const Cid& cid) { return sha2_256(cid.hash.bytes()).digest; }

Cid read_cid(std::string_view bytes, std::size_t& pos) {
  // CIDv0: a sha2-256 multihash, which begins 0x12 0x20 (a CIDv1 begins with its version, 0x01).
  if (bytes.size() - pos >= 2 && bytes[pos] == 0x12 && bytes[pos + 1] == 0x20) {
    return Cid{0, kDagPb, read_multihash(bytes, pos)};
  }
  const std::uint64_t version = read_uvarint(bytes, pos, "cid version");
  if (version != 1) throw FormatError("cid: version " + std::to_string(version) + " is not known (0 or 1)");
  Cid cid;
  cid.version = 1;
  cid.codec = read_uvarint(bytes, pos, "cid codec");
  cid.hash = read_multihash(bytes, pos);
  return cid;
}

Cid cid_from_bytes(std::string_view bytes) {
  std::size_t pos = 0;
  const Cid cid = read_cid(bytes, pos);
  if (pos != bytes.size()) throw FormatError("cid: " + std::to_string(bytes.size() - pos) + " bytes after the end");
  return cid;
}

Cid parse_cid(std::string_view text) {
  if (text.empty()) throw FormatError("cid: empty");
  try {
    if (text.size() == 46 && text.substr(0, 2) == "Qm") {
      const Cid cid = cid_from_bytes(base58btc_decode(text));
      if (cid.version != 0) throw FormatError("not a sha2-256 multihash");
      return cid;
    }
    if (text.substr(0, 2) == "Qm") {
      throw FormatError("a CIDv0 (Qm...) has 46 characters, not " + std::to_string(text.size()));
    }
    const Cid cid = cid_from_bytes(multibase_decode(text));
    if (cid.version == 0) throw FormatError("a CIDv0 is written in base58btc without a multibase prefix");
    return cid;
  } catch (const FormatError& e) {
    // A long argument is cut: the message names it, it need not repeat a megabyte.
    const std::string shown = text.size() > 80 ? std::string(text.substr(0, 80)) + "..." : std::string(text);
    throw FormatError("cid \"" + shown + "\": " + e.what());
  }
}

std::string codec_name(std::uint64_t codec) {
  if (codec == kDagPb) return "dag-pb";
  if (codec == kRaw) return "raw";
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(codec));
  return buf;
}

}  // namespace p2plab::ipfs
