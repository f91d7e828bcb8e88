#include "p2plab/json_util.hpp"

#include <algorithm>
#include <cmath>

namespace p2plab {

ScenarioError::ScenarioError(const std::string& file, const std::string& field, const std::string& reason)
    : std::runtime_error(file + ": " + (field.empty() ? std::string() : field + ": ") + reason), field_(field) {}

nlohmann::json id_to_json(const Id& id, int id_bits) {
  if (id_bits <= 53) return id.low64();
  return id.to_decimal();
}

std::string describe_json_type(const nlohmann::json& value) {
  if (value.is_null()) return "null";
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_number()) return "the number " + value.dump();
  if (value.is_string()) {
    std::string text = value.get<std::string>();
    if (text.size() > 40) text = text.substr(0, 37) + "...";
    return "the string \"" + text + "\"";
  }
  if (value.is_array()) return "an array";
  return "an object";
}

JsonObject::JsonObject(const nlohmann::json& value, std::string file, std::string path)
    : value_(value), file_(std::move(file)), path_(std::move(path)) {
  if (!value_.is_object())
    throw ScenarioError(file_, path_.empty() ? "(top level)" : path_,
                        "expected an object, got " + describe_json_type(value_));
}

std::string JsonObject::field_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

bool JsonObject::has(const std::string& key) const { return value_.contains(key); }

void JsonObject::fail(const std::string& key, const std::string& reason) const {
  throw ScenarioError(file_, key.empty() ? path_ : field_path(key), reason);
}

void JsonObject::only_keys(std::initializer_list<const char*> known) const {
  for (const auto& [key, unused] : value_.items()) {
    (void)unused;
    if (std::none_of(known.begin(), known.end(), [&](const char* k) { return key == k; })) {
      std::string list;
      for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      fail(key, "unknown field (known here: " + list + ")");
    }
  }
}

std::string JsonObject::get_string(const std::string& key) const {
  if (!has(key)) fail(key, "missing (expected a string)");
  const auto& v = value_.at(key);
  if (!v.is_string()) fail(key, "expected a string, got " + describe_json_type(v));
  return v.get<std::string>();
}

std::string JsonObject::get_string(const std::string& key, const std::string& fallback) const {
  return has(key) ? get_string(key) : fallback;
}

std::int64_t JsonObject::get_int(const std::string& key, std::int64_t min, std::int64_t max) const {
  if (!has(key)) fail(key, "missing (expected an integer)");
  const auto& v = value_.at(key);
  std::int64_t result = 0;
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
      fail(key, "out of range: must be at most " + std::to_string(max));
    }
    result = v.get<std::int64_t>();
  } else if (v.is_number_float() && std::isfinite(v.get<double>()) && std::floor(v.get<double>()) == v.get<double>() &&
             std::fabs(v.get<double>()) < 9.0e15) {
    result = static_cast<std::int64_t>(v.get<double>());
  } else {
    fail(key, "expected an integer, got " + describe_json_type(v));
  }
  if (result < min || result > max) {
    fail(key, "out of range: " + std::to_string(result) + " is not in [" + std::to_string(min) + ", " +
                  std::to_string(max) + "]");
  }
  return result;
}

std::int64_t JsonObject::get_int(const std::string& key, std::int64_t fallback, std::int64_t min,
                                 std::int64_t max) const {
  return has(key) ? get_int(key, min, max) : fallback;
}

double JsonObject::get_number(const std::string& key, double min, double max) const {
  if (!has(key)) fail(key, "missing (expected a number)");
  const auto& v = value_.at(key);
  if (!v.is_number()) fail(key, "expected a number, got " + describe_json_type(v));
  const double result = v.get<double>();
  if (!(result >= min && result <= max)) {
    nlohmann::json lo = min, hi = max;
    fail(key, "out of range: " + v.dump() + " is not in [" + lo.dump() + ", " + hi.dump() + "]");
  }
  return result;
}

double JsonObject::get_number(const std::string& key, double fallback, double min, double max) const {
  return has(key) ? get_number(key, min, max) : fallback;
}

bool JsonObject::get_bool(const std::string& key, bool fallback) const {
  if (!has(key)) return fallback;
  const auto& v = value_.at(key);
  if (!v.is_boolean()) fail(key, "expected true or false, got " + describe_json_type(v));
  return v.get<bool>();
}

JsonObject JsonObject::get_object(const std::string& key) const {
  if (!has(key)) fail(key, "missing (expected an object)");
  const auto& v = value_.at(key);
  if (!v.is_object()) fail(key, "expected an object, got " + describe_json_type(v));
  return JsonObject(v, file_, field_path(key));
}

std::optional<JsonObject> JsonObject::find_object(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return get_object(key);
}

const nlohmann::json& JsonObject::get_array(const std::string& key) const {
  if (!has(key)) fail(key, "missing (expected an array)");
  const auto& v = value_.at(key);
  if (!v.is_array()) fail(key, "expected an array, got " + describe_json_type(v));
  return v;
}

Id JsonObject::get_id(const std::string& key, int bits) const {
  if (!has(key)) fail(key, "missing (expected an id: a number, or a decimal string for large ids)");
  return parse_id(value_.at(key), bits, file_, field_path(key));
}

Id JsonObject::parse_id(const nlohmann::json& v, int bits, const std::string& file, const std::string& path) {
  std::optional<Id> id;
  if (v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0)) {
    id = Id(v.get<std::uint64_t>());
  } else if (v.is_number_float() && v.get<double>() >= 0 && std::floor(v.get<double>()) == v.get<double>() &&
             v.get<double>() < 9007199254740992.0) {
    id = Id(static_cast<std::uint64_t>(v.get<double>()));
  } else if (v.is_string()) {
    id = Id::from_decimal(v.get<std::string>());
    if (!id) throw ScenarioError(file, path, "expected a non-negative decimal number, got " + describe_json_type(v));
  } else {
    throw ScenarioError(
        file, path,
        "expected an id (a non-negative integer, or a decimal string for large ids), got " + describe_json_type(v));
  }
  const IdSpace space(bits);
  if (!space.contains(*id)) {
    throw ScenarioError(file, path,
                        id->to_decimal() + " is out of range for m = " + std::to_string(bits) + " (ids are 0 .. 2^" +
                            std::to_string(bits) + " - 1 = " + space.max_id().to_decimal() + ")");
  }
  return *id;
}

}  // namespace p2plab
