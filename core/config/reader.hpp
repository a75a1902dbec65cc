#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/config/config.hpp"
#include "core/config/interpolate.hpp"

// The small API every section parser uses to read YAML into a typed struct. Reading a key records
// it as known; once the whole document is read, every key nobody asked for is reported as unknown
// (with the closest known key as a suggestion). Bad values are recorded, not thrown, so one run
// reports every error of a file; the getter then returns its default.
namespace coda::config {

// One YAML document being read: its name for error locations, the directory relative paths resolve
// against, the environment for ${...}, and the errors found so far.
// Not thread-safe; one loader uses it at a time.
class Document {
 public:
  Document(std::string file, std::string base_dir, EnvLookup env);

  const std::string& file() const { return file_; }
  const EnvLookup& env() const { return env_; }
  Location location(const YAML::Mark& mark) const;
  void error(const YAML::Mark& mark, const std::string& key_path, const std::string& message);

  // The scalar's text with ${...} expanded; on a bad reference records an error and returns nullopt.
  std::optional<std::string> expand(const YAML::Node& scalar, const std::string& key_path);
  // `path` (already expanded) made absolute against the document's directory; "~/" is $HOME.
  // Empty stays empty; the built-in defaults (no directory) leave relative paths as they are.
  std::string resolve_path(const std::string& path) const;

  // Reports unknown keys of every mapping read so far, then throws a ConfigError carrying every
  // error in file order when there is at least one.
  void finish();

 private:
  friend class Reader;
  struct MappingState;
  std::shared_ptr<MappingState> track(const YAML::Node& node, std::string key_path);
  void report_unknown_keys(const MappingState& state);

  std::string file_;
  std::string base_dir_;
  EnvLookup env_;
  std::vector<ConfigError> errors_;
  std::vector<std::shared_ptr<MappingState>> mappings_;
};

// A YAML mapping (or an absent one: every getter returns its default) at `path()` in a Document.
// Cheap to copy; copies share which keys were read. The Document must outlive it.
class Reader {
 public:
  // `node` should be a mapping; null or undefined reads as empty; anything else is an error.
  Reader(Document& document, const YAML::Node& node, std::string key_path);

  const std::string& path() const;
  Document& document() const { return *document_; }
  // The mapping's own location, or that of `key` when present.
  Location location() const;
  Location location(std::string_view key) const;
  // True when `key` is present with a non-null value (records the key as known).
  bool has(std::string_view key);

  std::string get_string(std::string_view key, const std::string& default_value = "");
  // A string naming a file or directory, resolved against the document's directory.
  std::string get_path(std::string_view key, const std::string& default_value = "");
  std::int64_t get_int(std::string_view key, std::int64_t default_value,
                       std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                       std::int64_t max = std::numeric_limits<std::int64_t>::max());
  // get_int for any integer field type: the range defaults to the type's own.
  template <typename T>
  T get(std::string_view key, T default_value, T min = std::numeric_limits<T>::min(),
        T max = std::numeric_limits<T>::max()) {
    return static_cast<T>(get_int(key, static_cast<std::int64_t>(default_value),
                                  static_cast<std::int64_t>(min), clamp_max(max)));
  }
  // A byte count: an integer, or one with a unit suffix KiB, MiB, GiB (or KB, MB, GB as powers of
  // 1000).
  std::uint64_t get_bytes(std::string_view key, std::uint64_t default_value, std::uint64_t min = 0,
                          std::uint64_t max = std::numeric_limits<std::int64_t>::max());
  bool get_bool(std::string_view key, bool default_value);
  double get_double(std::string_view key, double default_value,
                    double min = -std::numeric_limits<double>::max(),
                    double max = std::numeric_limits<double>::max());
  std::vector<std::string> get_string_list(std::string_view key,
                                           const std::vector<std::string>& default_value = {});
  std::map<std::string, std::string> get_string_map(
      std::string_view key, const std::map<std::string, std::string>& default_value = {});
  // One of `choices` (exact match); the error lists them and suggests the closest.
  std::string get_choice(std::string_view key, const std::string& default_value,
                         std::initializer_list<std::string_view> choices);

  // The child mapping under `key` (empty when absent).
  Reader child(std::string_view key);
  // The list of mappings under `key`, paths "key[0]", "key[1]", ...
  std::vector<Reader> child_list(std::string_view key);
  // The mapping of name → mapping under `key`, in file order, paths "key.<name>".
  std::vector<struct NamedReader> child_entries(std::string_view key);
  // The value under `key` as JSON text (objects, arrays, typed scalars); "{}" when absent.
  std::string get_json(std::string_view key);
  // Every key of this mapping not read so far, as a JSON object; marks them as read.
  std::string rest_as_json();

  // Records an error about `key` (or the mapping itself when key is empty).
  void error(std::string_view key, const std::string& message);

  // The raw value node under `key` (records the key as known).
  YAML::Node value(std::string_view key);

 private:
  template <typename T>
  static std::int64_t clamp_max(T max) {
    if constexpr (std::is_unsigned_v<T>) {
      if (static_cast<std::uint64_t>(max) >
          static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return std::numeric_limits<std::int64_t>::max();
      }
    }
    return static_cast<std::int64_t>(max);
  }
  std::string key_path(std::string_view key) const;
  // The expanded text of the scalar under `key`; nullopt when absent/null or not a scalar (the
  // latter recorded as an error saying `expected`).
  std::optional<std::string> scalar(std::string_view key, const std::string& expected);

  Document* document_;
  std::shared_ptr<Document::MappingState> state_;
};

// One named mapping of Reader::child_entries(): its name, where the name is, and its reader.
struct NamedReader {
  std::string name;
  Location where;
  Reader reader;
};

// The JSON text of a YAML value: mappings → objects (key order kept), sequences → arrays, plain
// scalars typed (null, true/false, integers, floats; anything else a string), quoted scalars
// strings. ${...} is expanded first. Errors are recorded in `document`.
std::string yaml_to_json(Document& document, const YAML::Node& node, const std::string& key_path);
// The JSON object of (key, value) pairs in the given order, values converted as by yaml_to_json;
// `mark` locates the object in errors.
std::string yaml_entries_to_json(Document& document,
                                 const std::vector<std::pair<std::string, YAML::Node>>& entries,
                                 const std::string& key_path, const YAML::Mark& mark);

// The closest of `candidates` to `word` when it is near enough to be a likely misspelling.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

}  // namespace coda::config
