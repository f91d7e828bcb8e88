#pragma once
// Reading scenario files with errors a student can act on ("labs/x.json: events[3].key: expected
// a number or a decimal string, got true"), and writing ids the way the result contract says.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "p2plab/id.hpp"

namespace p2plab {

/// A scenario that cannot be run. what() is one line: "<file>: <field>: <reason>".
class ScenarioError : public std::runtime_error {
 public:
  ScenarioError(const std::string& file, const std::string& field, const std::string& reason);
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

/// Ids in JSON are numbers while they fit a double exactly (m <= 53), decimal strings above.
nlohmann::json id_to_json(const Id& id, int id_bits);

/// A view of one JSON object in a scenario that knows its own path, for precise errors.
class JsonObject {
 public:
  JsonObject(const nlohmann::json& value, std::string file, std::string path);

  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }
  const nlohmann::json& raw() const { return value_; }
  std::string field_path(const std::string& key) const;
  bool has(const std::string& key) const;

  [[noreturn]] void fail(const std::string& key, const std::string& reason) const;
  /// Rejects keys not in `known` (a typo like "stabilise_ms" should not be silently ignored).
  void only_keys(std::initializer_list<const char*> known) const;

  std::string get_string(const std::string& key) const;
  std::string get_string(const std::string& key, const std::string& fallback) const;
  std::int64_t get_int(const std::string& key, std::int64_t min, std::int64_t max) const;
  std::int64_t get_int(const std::string& key, std::int64_t fallback, std::int64_t min, std::int64_t max) const;
  double get_number(const std::string& key, double min, double max) const;
  double get_number(const std::string& key, double fallback, double min, double max) const;
  bool get_bool(const std::string& key, bool fallback) const;
  JsonObject get_object(const std::string& key) const;
  std::optional<JsonObject> find_object(const std::string& key) const;
  const nlohmann::json& get_array(const std::string& key) const;
  /// An id or key: a JSON number, or a decimal string for large ids; must lie below 2^bits.
  Id get_id(const std::string& key, int bits) const;
  /// Parses an id from a JSON value at `path` (for elements of arrays).
  static Id parse_id(const nlohmann::json& value, int bits, const std::string& file, const std::string& path);

 private:
  const nlohmann::json& value_;
  std::string file_;
  std::string path_;
};

std::string describe_json_type(const nlohmann::json& value);

}  // namespace p2plab
