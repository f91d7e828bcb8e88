#pragma once
// The wire envelope every real peer's datagrams share, whatever the protocol: one message per UDP
// datagram, one CBOR (RFC 8949) map. The envelope fields are
//   "v"  the format version (the protocol's)          "k"  0 a message, 1 HELLO, 2 HELLO_REPLY
//   "p"  the protocol's name (formats that carry it)  "m"  the id width in bits (formats with m-bit ids)
//   "s"  the sender's id
// and every other field is the protocol's message mapping (protocols/*/wire.cpp), read through
// Reader's bounded field readers. Ids are unsigned numbers (64-bit ids) or big-endian byte strings
// without leading zeros (m-bit ids, up to 160 bits); a contact is [id] (the datagram's sender) or
// [id, ipv4, port]. Decoding is pure and strict: whatever does not fit is refused with a reason
// (Drop), never half-applied. Builds without sockets (the fuzz target links it alone).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "p2plab/id.hpp"
#include "p2plab/net/endpoint.hpp"

namespace p2plab::net::wire {

enum class Kind : std::uint8_t {
  Message = 0,     // a protocol message
  Hello = 1,       // "who are you?" (a new peer learns its bootstrap peer's id)
  HelloReply = 2,  // "I am <sender id>" (and what the protocol adds)
  Count
};

/// Why a datagram was dropped (a real peer counts them per reason).
enum class Drop : std::uint8_t {
  Oversized,   // longer than the format's largest datagram
  NotCbor,     // not one well-formed CBOR item (includes truncated data)
  NotMap,      // CBOR, but not a map
  Version,     // "v" missing or not the format's version
  Protocol,    // "p" missing or another protocol's
  Bits,        // "m" missing or not this overlay's id width
  Kind,        // "k" unknown
  Type,        // message type unknown
  BadId,       // an id of the wrong type, too long, or beyond the id space
  BadContact,  // a contact that is not [id] or [id, ip, port]
  BadField,    // a field of the wrong type or out of range, or an unknown field
  Missing,     // a field the message needs is missing
  SelfId,      // the sender claims our own id from another address
  TableFull,   // it names new peers the contact table cannot take now (full of contacts in use, or
               // the sender's budget of new contacts for this second is spent)
  Count
};
const char* to_string(Drop reason);

/// A peer as the wire names it: its id, and its address unless it is the datagram's sender.
struct Contact {
  Id id;
  bool is_sender = true;
  Endpoint address;
  friend bool operator==(const Contact&, const Contact&) = default;
};

/// How one protocol's datagrams look (its envelope).
struct Format {
  std::uint64_t version = 1;
  std::string protocol;             ///< not empty: written as "p", datagrams naming another are dropped
  int bits = 0;                     ///< > 0: written as "m", ids are byte strings below 2^bits; 0: 64-bit numbers
  std::size_t max_datagram = 1400;  ///< fits an Ethernet MTU with IP and UDP headers
};

/// Id <-> big-endian bytes without leading zeros (0 is the empty string).
std::vector<std::uint8_t> id_bytes(const Id& id);
std::optional<Id> id_from_bytes(const std::vector<std::uint8_t>& bytes);

/// One datagram being written: the envelope first, then the protocol's fields.
class Writer {
 public:
  Writer(const Format& format, Kind kind, const Id& sender);
  void uint(const char* name, std::uint64_t value) { doc_[name] = value; }
  void id(const char* name, const Id& value) { doc_[name] = id_json(value); }
  void text(const char* name, const std::string& value) { doc_[name] = value; }
  void contact(const char* name, const Contact& value) { doc_[name] = contact_json(value); }
  void contacts(const char* name, const std::vector<Contact>& values);
  /// The datagram; false if it would be longer than the format allows.
  bool finish(std::vector<std::uint8_t>& out) const;

 private:
  nlohmann::json id_json(const Id& id) const;
  nlohmann::json contact_json(const Contact& c) const;
  const Format& format_;
  nlohmann::json doc_;
};

/// One datagram being read: open() checks the envelope, then the protocol reads its fields
/// (each(), with the bounded readers below). Every reader sets why() when it refuses.
class Reader {
 public:
  explicit Reader(const Format& format) : format_(format) {}
  bool open(const std::uint8_t* data, std::size_t size);
  Kind kind() const { return kind_; }
  const Id& sender() const { return sender_; }
  Drop why() const { return why_; }
  bool fail(Drop reason) {
    why_ = reason;
    return false;
  }
  /// Fields beyond the envelope.
  std::size_t fields() const { return doc_.size() - envelope_fields_; }
  /// Calls field(name, value) for each field beyond the envelope, in key order, until one
  /// returns false (then false).
  template <class F>
  bool each(F&& field) {
    for (auto item = doc_.begin(); item != doc_.end(); ++item) {
      if (envelope(item.key())) continue;
      if (!field(item.key(), item.value())) return false;
    }
    return true;
  }
  bool uint(const nlohmann::json& value, std::uint64_t max, std::uint64_t& out);
  template <class T>
  bool small(const nlohmann::json& value, std::uint64_t max, T& out) {
    std::uint64_t u = 0;
    if (!uint(value, max, u)) return false;
    out = static_cast<T>(u);
    return true;
  }
  /// A message type: a number below `count` (the protocol's MsgType::Count), else Drop::Type.
  template <class Type>
  bool type(const nlohmann::json& value, Type count, Type& out) {
    if (!value.is_number_unsigned() || value.get<std::uint64_t>() >= static_cast<std::uint64_t>(count)) {
      return fail(Drop::Type);
    }
    out = static_cast<Type>(value.get<std::uint64_t>());
    return true;
  }
  bool id(const nlohmann::json& value, Id& out);
  bool text(const nlohmann::json& value, std::size_t max_bytes, std::string& out);
  bool contact(const nlohmann::json& value, Contact& out);
  /// An array of 1..max contacts (0..max when `may_be_empty`).
  bool contacts(const nlohmann::json& value, std::size_t max, bool may_be_empty, std::vector<Contact>& out);

 private:
  bool envelope(const std::string& key) const {
    return key == "v" || key == "k" || key == "s" || (key == "p" && !format_.protocol.empty()) ||
           (key == "m" && format_.bits > 0);
  }
  const Format& format_;
  nlohmann::json doc_;
  std::size_t envelope_fields_ = 0;
  Kind kind_ = Kind::Message;
  Id sender_;
  Drop why_ = Drop::NotCbor;
};

/// A protocol's decode(): the envelope of `format`, then its `read(reader, datagram)`; on failure
/// false with the reason in `why`, `out` untouched.
template <class Datagram, class Read>
bool decode(const Format& format, const std::uint8_t* data, std::size_t size, Read read, Datagram& out, Drop& why) {
  Reader r(format);
  Datagram d;
  if (!r.open(data, size) || !read(r, d)) {
    why = r.why();
    return false;
  }
  out = std::move(d);
  return true;
}

}  // namespace p2plab::net::wire
