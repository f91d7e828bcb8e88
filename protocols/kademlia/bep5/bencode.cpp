#include "bencode.hpp"

#include <algorithm>
#include <limits>

namespace p2plab::kademlia::bencode {

Value Value::of(std::int64_t i) {
  Value v;
  v.type = Type::Integer;
  v.integer = i;
  return v;
}

Value Value::of(std::string s) {
  Value v;
  v.type = Type::String;
  v.string = std::move(s);
  return v;
}

Value Value::of_list(List l) {
  Value v;
  v.type = Type::ListType;
  v.list = std::move(l);
  return v;
}

Value Value::of_dict(Dict d) {
  Value v;
  v.type = Type::DictType;
  std::sort(d.begin(), d.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  v.dict = std::move(d);
  return v;
}

const Value* Value::find(std::string_view key) const {
  if (type != Type::DictType) return nullptr;
  auto it =
      std::lower_bound(dict.begin(), dict.end(), key, [](const auto& e, std::string_view k) { return e.first < k; });
  return it != dict.end() && it->first == key ? &it->second : nullptr;
}

Value& Value::set(std::string key, Value v) {
  auto it =
      std::lower_bound(dict.begin(), dict.end(), key, [](const auto& e, const std::string& k) { return e.first < k; });
  if (it != dict.end() && it->first == key) {
    it->second = std::move(v);
    return it->second;
  }
  return dict.insert(it, {std::move(key), std::move(v)})->second;
}

const char* to_string(Error e) {
  switch (e) {
    case Error::None:
      return "none";
    case Error::Truncated:
      return "bencode_truncated";
    case Error::BadInteger:
      return "bencode_bad_integer";
    case Error::BadLength:
      return "bencode_bad_length";
    case Error::UnexpectedByte:
      return "bencode_unexpected_byte";
    case Error::KeyNotString:
      return "bencode_key_not_string";
    case Error::KeyOrder:
      return "bencode_key_order";
    case Error::TooDeep:
      return "bencode_too_deep";
    case Error::TooMany:
      return "bencode_too_many_values";
    case Error::TooLong:
      return "bencode_string_too_long";
    case Error::Trailing:
      return "bencode_trailing_bytes";
    case Error::Count:
      break;
  }
  return "?";
}

namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }

class Decoder {
 public:
  Decoder(std::string_view data, const Limits& limits) : data_(data), limits_(limits) {}

  bool value(Value& out, int depth) {
    if (at_ >= data_.size()) return fail(Error::Truncated);
    if (++items_ > limits_.items) return fail(Error::TooMany);
    const char c = data_[at_];
    if (c == 'i') {
      ++at_;
      out.type = Value::Type::Integer;
      return integer('e', out.integer);
    }
    if (digit(c)) {
      out.type = Value::Type::String;
      return string(out.string);
    }
    if (c != 'l' && c != 'd') return fail(Error::UnexpectedByte);
    if (depth >= limits_.depth) return fail(Error::TooDeep);
    ++at_;
    if (c == 'l') {
      out.type = Value::Type::ListType;
      while (true) {
        if (at_ >= data_.size()) return fail(Error::Truncated);
        if (data_[at_] == 'e') break;
        out.list.emplace_back();
        if (!value(out.list.back(), depth + 1)) return false;
      }
    } else {
      out.type = Value::Type::DictType;
      while (true) {
        if (at_ >= data_.size()) return fail(Error::Truncated);
        if (data_[at_] == 'e') break;
        if (!digit(data_[at_])) return fail(Error::KeyNotString);
        if (++items_ > limits_.items) return fail(Error::TooMany);
        std::string key;
        if (!string(key)) return false;
        if (!out.dict.empty() && !(out.dict.back().first < key)) return fail(Error::KeyOrder);
        out.dict.emplace_back(std::move(key), Value{});
        if (!value(out.dict.back().second, depth + 1)) return false;
      }
    }
    ++at_;  // the 'e'
    return true;
  }

  bool done() { return at_ == data_.size() || fail(Error::Trailing); }
  Error why() const { return why_; }

 private:
  bool fail(Error e) {
    why_ = e;
    return false;
  }

  // A decimal integer up to `end`: optional '-', no leading zeros, no "-0", within int64.
  bool integer(char end, std::int64_t& out) {
    const bool negative = at_ < data_.size() && data_[at_] == '-';
    if (negative) ++at_;
    const std::size_t first = at_;
    std::uint64_t magnitude = 0;
    const std::uint64_t limit = negative ? std::uint64_t{1} << 63 : std::numeric_limits<std::int64_t>::max();
    while (at_ < data_.size() && digit(data_[at_])) {
      const auto d = static_cast<std::uint64_t>(data_[at_] - '0');
      if (magnitude > (limit - d) / 10) return fail(Error::BadInteger);
      magnitude = magnitude * 10 + d;
      ++at_;
    }
    if (at_ >= data_.size()) return fail(Error::Truncated);
    const std::size_t digits = at_ - first;
    if (data_[at_] != end || digits == 0) return fail(Error::BadInteger);
    if (data_[first] == '0' && (digits > 1 || negative)) return fail(Error::BadInteger);
    ++at_;
    out = negative ? static_cast<std::int64_t>(0 - magnitude) : static_cast<std::int64_t>(magnitude);
    return true;
  }

  bool string(std::string& out) {
    const std::size_t first = at_;
    std::uint64_t length = 0;
    while (at_ < data_.size() && digit(data_[at_])) {
      if (length > data_.size()) return fail(Error::Truncated);  // longer than the input anyway
      length = length * 10 + static_cast<std::uint64_t>(data_[at_] - '0');
      ++at_;
    }
    if (at_ >= data_.size()) return fail(Error::Truncated);
    if (data_[at_] != ':') return fail(Error::BadLength);
    if (data_[first] == '0' && at_ - first > 1) return fail(Error::BadLength);
    ++at_;
    if (length > limits_.string_bytes) return fail(Error::TooLong);
    if (length > data_.size() - at_) return fail(Error::Truncated);
    out.assign(data_.substr(at_, length));
    at_ += length;
    return true;
  }

  std::string_view data_;
  const Limits& limits_;
  std::size_t at_ = 0, items_ = 0;
  Error why_ = Error::None;
};

void write_string(const std::string& s, std::string& out) {
  out += std::to_string(s.size());
  out += ':';
  out += s;
}

}  // namespace

bool decode(std::string_view data, Value& out, Error& why, const Limits& limits) {
  out = Value{};
  Decoder d(data, limits);
  if (d.value(out, 0) && d.done()) {
    why = Error::None;
    return true;
  }
  why = d.why();
  out = Value{};
  return false;
}

void encode(const Value& v, std::string& out) {
  switch (v.type) {
    case Value::Type::Integer:
      out += 'i';
      out += std::to_string(v.integer);
      out += 'e';
      return;
    case Value::Type::String:
      write_string(v.string, out);
      return;
    case Value::Type::ListType:
      out += 'l';
      for (const Value& e : v.list) encode(e, out);
      out += 'e';
      return;
    case Value::Type::DictType: {
      std::vector<const std::pair<std::string, Value>*> entries;
      entries.reserve(v.dict.size());
      for (const auto& e : v.dict) entries.push_back(&e);
      std::sort(entries.begin(), entries.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
      out += 'd';
      for (const auto* e : entries) {
        write_string(e->first, out);
        encode(e->second, out);
      }
      out += 'e';
      return;
    }
  }
}

std::string encode(const Value& v) {
  std::string out;
  encode(v, out);
  return out;
}

}  // namespace p2plab::kademlia::bencode
