// Document and Reader: typed, located, strict reading of YAML for the section parsers.
#include "core/config/reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <set>

namespace coda::config {

// One mapping being read: its entries in file order and the keys asked for so far.
struct Document::MappingState {
  struct Entry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
  };
  std::string path;
  YAML::Mark mark;
  bool is_mapping = false;
  std::vector<Entry> entries;
  std::set<std::string, std::less<>> known;

  const Entry* find(std::string_view key) const {
    for (const Entry& entry : entries) {
      if (entry.key == key) return &entry;
    }
    return nullptr;
  }
};

namespace {

std::string join_path(const std::string& parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return parent + "." + std::string(key);
}

// How a value is named in "expected X, got Y".
std::string describe(const YAML::Node& node, const std::optional<std::string>& expanded = {}) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "'" + (expanded ? *expanded : node.Scalar()) + "'";
    default:
      return "nothing";
  }
}

std::string range_text(const std::string& what, const std::string& min_text, bool has_min,
                       const std::string& max_text, bool has_max) {
  if (has_min && has_max) return what + " from " + min_text + " to " + max_text;
  if (has_min) return what + " of at least " + min_text;
  if (has_max) return what + " of at most " + max_text;
  return what;
}

std::string int_expectation(std::int64_t min, std::int64_t max) {
  return range_text("an integer", std::to_string(min), min != std::numeric_limits<std::int64_t>::min(),
                    std::to_string(max), max != std::numeric_limits<std::int64_t>::max());
}

std::string format_double(double value) {
  std::string text = std::to_string(value);
  if (text.find('.') != std::string::npos) {
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
  }
  return text;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> parse_double(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

// YAML 1.2 core schema booleans.
std::optional<bool> parse_bool(std::string_view text) {
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return std::nullopt;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const char ca = static_cast<char>(std::tolower(static_cast<unsigned char>(a[i - 1])));
      const char cb = static_cast<char>(std::tolower(static_cast<unsigned char>(b[j - 1])));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (ca == cb ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string suggestion(std::string_view word, const std::vector<std::string>& candidates) {
  const std::optional<std::string> match = closest_match(word, candidates);
  return match ? " (did you mean '" + *match + "'?)" : "";
}

}  // namespace

std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates) {
  const std::size_t limit = word.size() <= 3 ? 1 : word.size() < 9 ? 2 : 3;
  std::optional<std::string> best;
  std::size_t best_distance = limit + 1;
  for (const std::string& candidate : candidates) {
    const std::size_t distance = edit_distance(word, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

// ---- Document ----

Document::Document(std::string file, std::string base_dir, EnvLookup env)
    : file_(std::move(file)), base_dir_(std::move(base_dir)), env_(std::move(env)) {}

Location Document::location(const YAML::Mark& mark) const {
  Location where{file_, 0, 0};
  if (mark.line >= 0) {
    where.line = mark.line + 1;
    where.column = mark.column + 1;
  }
  return where;
}

void Document::error(const YAML::Mark& mark, const std::string& key_path,
                     const std::string& message) {
  errors_.emplace_back(location(mark), key_path, message);
}

std::optional<std::string> Document::expand(const YAML::Node& scalar,
                                            const std::string& key_path) {
  const std::string& text = scalar.Scalar();
  if (text.find('$') == std::string::npos) return text;
  try {
    return interpolate(text, env_);
  } catch (const InterpolationError& e) {
    error(scalar.Mark(), key_path, e.what());
    return std::nullopt;
  }
}

std::string Document::resolve_path(const std::string& path) const {
  if (path.empty()) return path;
  std::filesystem::path result(path);
  if (path == "~" || path.rfind("~/", 0) == 0) {
    const std::optional<std::string> home = env_("HOME");
    if (home && !home->empty()) result = std::filesystem::path(*home) / path.substr(std::min<std::size_t>(2, path.size()));
  } else if (result.is_relative() && !base_dir_.empty()) {
    result = std::filesystem::path(base_dir_) / result;
  }
  return result.lexically_normal().string();
}

std::shared_ptr<Document::MappingState> Document::track(const YAML::Node& node,
                                                         std::string key_path) {
  auto state = std::make_shared<MappingState>();
  state->path = std::move(key_path);
  if (!node.IsDefined() || node.IsNull()) {
    if (node.IsDefined()) state->mark = node.Mark();
    return state;
  }
  state->mark = node.Mark();
  if (!node.IsMap()) {
    error(node.Mark(), state->path, "expected a mapping, got " + describe(node));
    return state;
  }
  state->is_mapping = true;
  for (const auto& pair : node) {
    const YAML::Node& key = pair.first;
    if (!key.IsScalar()) {
      error(key.Mark(), state->path, "a key must be a plain string, got " + describe(key));
      continue;
    }
    if (const MappingState::Entry* first = state->find(key.Scalar())) {
      error(key.Mark(), join_path(state->path, key.Scalar()),
            "duplicate key '" + key.Scalar() + "' (first at line " +
                std::to_string(first->key_node.Mark().line + 1) + ")");
      continue;
    }
    state->entries.push_back({key.Scalar(), key, pair.second});
  }
  mappings_.push_back(state);
  return state;
}

void Document::report_unknown_keys(const MappingState& state) {
  const std::vector<std::string> known(state.known.begin(), state.known.end());
  for (const MappingState::Entry& entry : state.entries) {
    if (state.known.count(entry.key) != 0) continue;
    error(entry.key_node.Mark(), join_path(state.path, entry.key),
          "unknown key '" + entry.key + "'" + suggestion(entry.key, known));
  }
}

void Document::finish() {
  for (const auto& state : mappings_) report_unknown_keys(*state);
  mappings_.clear();
  if (errors_.empty()) return;
  std::stable_sort(errors_.begin(), errors_.end(), [](const ConfigError& a, const ConfigError& b) {
    if (a.where().line != b.where().line) return a.where().line < b.where().line;
    return a.where().column < b.where().column;
  });
  std::vector<std::string> lines;
  for (const ConfigError& e : errors_) {
    if (lines.empty() || lines.back() != e.what()) lines.emplace_back(e.what());
  }
  ConfigError first = errors_.front();
  first.set_lines(std::move(lines));
  errors_.clear();
  throw first;
}

// ---- Reader ----

Reader::Reader(Document& document, const YAML::Node& node, std::string key_path)
    : document_(&document), state_(document.track(node, std::move(key_path))) {}

const std::string& Reader::path() const { return state_->path; }

Location Reader::location() const { return document_->location(state_->mark); }

Location Reader::location(std::string_view key) const {
  const auto* entry = state_->find(key);
  return entry ? document_->location(entry->key_node.Mark()) : location();
}

std::string Reader::key_path(std::string_view key) const { return join_path(state_->path, key); }

YAML::Node Reader::value(std::string_view key) {
  state_->known.emplace(key);
  const auto* entry = state_->find(key);
  return entry ? entry->value : YAML::Node(YAML::NodeType::Undefined);
}

bool Reader::has(std::string_view key) {
  const YAML::Node node = value(key);
  return node.IsDefined() && !node.IsNull();
}

void Reader::error(std::string_view key, const std::string& message) {
  if (key.empty()) {
    document_->error(state_->mark, state_->path, message);
    return;
  }
  const auto* entry = state_->find(key);
  const YAML::Mark mark = !entry                    ? state_->mark
                          : entry->value.IsNull()   ? entry->key_node.Mark()
                                                    : entry->value.Mark();
  document_->error(mark, key_path(key), message);
}

std::optional<std::string> Reader::scalar(std::string_view key, const std::string& expected) {
  const YAML::Node node = value(key);
  if (!node.IsDefined() || node.IsNull()) return std::nullopt;
  if (!node.IsScalar()) {
    error(key, "expected " + expected + ", got " + describe(node));
    return std::nullopt;
  }
  return document_->expand(node, key_path(key));
}

std::string Reader::get_string(std::string_view key, const std::string& default_value) {
  return scalar(key, "a string").value_or(default_value);
}

std::string Reader::get_path(std::string_view key, const std::string& default_value) {
  const std::optional<std::string> text = scalar(key, "a path");
  return text ? document_->resolve_path(*text) : default_value;
}

std::int64_t Reader::get_int(std::string_view key, std::int64_t default_value, std::int64_t min,
                             std::int64_t max) {
  const std::string expected = int_expectation(min, max);
  const std::optional<std::string> text = scalar(key, expected);
  if (!text) return default_value;
  const std::optional<std::int64_t> value = parse_int(*text);
  if (!value || *value < min || *value > max) {
    error(key, "expected " + expected + ", got '" + *text + "'");
    return default_value;
  }
  return *value;
}

std::uint64_t Reader::get_bytes(std::string_view key, std::uint64_t default_value,
                                std::uint64_t min, std::uint64_t max) {
  const std::string expected =
      "a size in bytes from " + std::to_string(min) + " to " + std::to_string(max) +
      " (a number, optionally with KiB, MiB, GiB, KB, MB or GB)";
  const std::optional<std::string> text = scalar(key, expected);
  if (!text) return default_value;
  std::string_view digits(*text);
  std::uint64_t number = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
  std::string_view unit(end, static_cast<std::size_t>(digits.data() + digits.size() - end));
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  static const std::pair<std::string_view, std::uint64_t> kUnits[] = {
      {"", 1},           {"B", 1},           {"KiB", 1ull << 10}, {"MiB", 1ull << 20},
      {"GiB", 1ull << 30}, {"KB", 1000},     {"MB", 1000000},     {"GB", 1000000000}};
  std::optional<std::uint64_t> multiplier;
  for (const auto& [name, factor] : kUnits) {
    if (unit == name) multiplier = factor;
  }
  const bool ok = ec == std::errc() && end != digits.data() && multiplier &&
                  number <= max / *multiplier && number * *multiplier >= min;
  if (!ok) {
    error(key, "expected " + expected + ", got '" + *text + "'");
    return default_value;
  }
  return number * *multiplier;
}

bool Reader::get_bool(std::string_view key, bool default_value) {
  const std::optional<std::string> text = scalar(key, "true or false");
  if (!text) return default_value;
  const std::optional<bool> value = parse_bool(*text);
  if (!value) {
    error(key, "expected true or false, got '" + *text + "'");
    return default_value;
  }
  return *value;
}

double Reader::get_double(std::string_view key, double default_value, double min, double max) {
  const std::string expected =
      range_text("a number", format_double(min), min != -std::numeric_limits<double>::max(),
                 format_double(max), max != std::numeric_limits<double>::max());
  const std::optional<std::string> text = scalar(key, expected);
  if (!text) return default_value;
  const std::optional<double> value = parse_double(*text);
  if (!value || *value < min || *value > max) {
    error(key, "expected " + expected + ", got '" + *text + "'");
    return default_value;
  }
  return *value;
}

std::vector<std::string> Reader::get_string_list(std::string_view key,
                                                 const std::vector<std::string>& default_value) {
  const YAML::Node node = value(key);
  if (!node.IsDefined() || node.IsNull()) return default_value;
  if (!node.IsSequence()) {
    error(key, "expected a list of strings, got " + describe(node));
    return default_value;
  }
  std::vector<std::string> result;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    const std::string item_path = key_path(key) + "[" + std::to_string(i) + "]";
    if (!item.IsScalar()) {
      document_->error(item.Mark(), item_path, "expected a string, got " + describe(item));
      continue;
    }
    if (std::optional<std::string> text = document_->expand(item, item_path)) {
      result.push_back(std::move(*text));
    }
  }
  return result;
}

std::map<std::string, std::string> Reader::get_string_map(
    std::string_view key, const std::map<std::string, std::string>& default_value) {
  const YAML::Node node = value(key);
  if (!node.IsDefined() || node.IsNull()) return default_value;
  if (!node.IsMap()) {
    error(key, "expected a mapping of names to strings, got " + describe(node));
    return default_value;
  }
  std::map<std::string, std::string> result;
  for (const auto& pair : node) {
    const std::string name = pair.first.IsScalar() ? pair.first.Scalar() : "";
    const std::string item_path = join_path(key_path(key), name);
    if (!pair.first.IsScalar()) {
      document_->error(pair.first.Mark(), key_path(key),
                       "a key must be a plain string, got " + describe(pair.first));
      continue;
    }
    if (result.count(name) != 0) {
      document_->error(pair.first.Mark(), item_path, "duplicate key '" + name + "'");
      continue;
    }
    if (pair.second.IsNull()) {
      result[name] = "";
    } else if (!pair.second.IsScalar()) {
      document_->error(pair.second.Mark(), item_path,
                       "expected a string, got " + describe(pair.second));
    } else if (std::optional<std::string> text = document_->expand(pair.second, item_path)) {
      result[name] = std::move(*text);
    }
  }
  return result;
}

std::string Reader::get_choice(std::string_view key, const std::string& default_value,
                               std::initializer_list<std::string_view> choices) {
  std::string list;
  std::vector<std::string> names;
  for (std::string_view choice : choices) {
    list += (list.empty() ? "" : ", ") + std::string(choice);
    names.emplace_back(choice);
  }
  const std::optional<std::string> text = scalar(key, "one of " + list);
  if (!text) return default_value;
  if (std::find(names.begin(), names.end(), *text) == names.end()) {
    error(key, "expected one of " + list + ", got '" + *text + "'" + suggestion(*text, names));
    return default_value;
  }
  return *text;
}

Reader Reader::child(std::string_view key) {
  return Reader(*document_, value(key), key_path(key));
}

std::vector<Reader> Reader::child_list(std::string_view key) {
  const YAML::Node node = value(key);
  std::vector<Reader> result;
  if (!node.IsDefined() || node.IsNull()) return result;
  if (!node.IsSequence()) {
    error(key, "expected a list, got " + describe(node));
    return result;
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    result.emplace_back(*document_, node[i], key_path(key) + "[" + std::to_string(i) + "]");
  }
  return result;
}

std::vector<NamedReader> Reader::child_entries(std::string_view key) {
  Reader entries = child(key);
  std::vector<NamedReader> result;
  for (const auto& entry : entries.state_->entries) {
    entries.state_->known.insert(entry.key);
    result.push_back({entry.key, document_->location(entry.key_node.Mark()),
                      Reader(*document_, entry.value, entries.key_path(entry.key))});
  }
  return result;
}

std::string Reader::get_json(std::string_view key) {
  const YAML::Node node = value(key);
  if (!node.IsDefined() || node.IsNull()) return "{}";
  return yaml_to_json(*document_, node, key_path(key));
}

std::string Reader::rest_as_json() {
  std::vector<std::pair<std::string, YAML::Node>> rest;
  for (const auto& entry : state_->entries) {
    if (state_->known.count(entry.key) != 0) continue;
    state_->known.insert(entry.key);
    rest.emplace_back(entry.key, entry.value);
  }
  return yaml_entries_to_json(*document_, rest, state_->path, state_->mark);
}

}  // namespace coda::config
