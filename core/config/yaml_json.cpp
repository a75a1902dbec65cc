// YAML subtrees as JSON text: how a component instance's configuration crosses the plugin ABI.
#include <charconv>
#include <cmath>

#include "coda/plugin.hpp"
#include "core/config/reader.hpp"

namespace coda::config {
namespace {

bool is_plain(const YAML::Node& node) {
  const std::string& tag = node.Tag();
  return tag == "?" || (tag.rfind("tag:yaml.org,2002:", 0) == 0 && tag != "tag:yaml.org,2002:str");
}

bool all_of(std::string_view text, std::string_view allowed) {
  return !text.empty() && text.find_first_not_of(allowed) == std::string_view::npos;
}

// The JSON number for a YAML core-schema integer or float, or "" when `text` is neither.
std::string json_number(std::string_view text) {
  std::string_view body = text;
  const bool negative = !body.empty() && body.front() == '-';
  if (!body.empty() && (body.front() == '-' || body.front() == '+')) body.remove_prefix(1);
  if (all_of(body, "0123456789")) {
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), value);
    if (ec == std::errc() && end == body.data() + body.size()) {
      return std::to_string(negative ? -value : value);
    }
    // Too large for 64 bits: fall through to a floating-point number.
  }
  if (!negative && body.size() > 2 && (body.substr(0, 2) == "0x" || body.substr(0, 2) == "0o")) {
    const int base = body[1] == 'x' ? 16 : 8;
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(body.data() + 2, body.data() + body.size(), value, base);
    if (ec == std::errc() && end == body.data() + body.size() && text.front() != '+') {
      return std::to_string(value);
    }
    return "";
  }
  // [0-9]*.[0-9]* with at least one digit, optional exponent.
  const std::size_t exponent = body.find_first_of("eE");
  const std::string_view mantissa = body.substr(0, exponent);
  const std::size_t dot = mantissa.find('.');
  const std::string_view whole = mantissa.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view() : mantissa.substr(dot + 1);
  const bool mantissa_ok = (whole.empty() || all_of(whole, "0123456789")) &&
                           (fraction.empty() || all_of(fraction, "0123456789")) &&
                           !(whole.empty() && fraction.empty());
  bool exponent_ok = true;
  if (exponent != std::string_view::npos) {
    std::string_view digits = body.substr(exponent + 1);
    if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) digits.remove_prefix(1);
    exponent_ok = all_of(digits, "0123456789");
  }
  if (!mantissa_ok || !exponent_ok) return "";
  double value = 0;
  const auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), value);
  if (ec != std::errc() || end != body.data() + body.size() || !std::isfinite(value)) return "";
  if (negative) value = -value;
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  std::string number(buffer, result.ptr);
  // Keep it a float in JSON readers that distinguish ("1.0" stays 1.0, not 1).
  if (number.find_first_of(".eEn") == std::string::npos) number += ".0";
  return number;
}

// A component's settings are small; this bound stops a YAML alias bomb (a few lines expanding to
// gigabytes) from exhausting memory.
constexpr std::size_t kMaxJsonBytes = 4u << 20;

void write_value(Document& document, const YAML::Node& node, const std::string& key_path,
                 std::string& out);

void write_object(Document& document,
                  const std::vector<std::pair<std::string, YAML::Node>>& entries,
                  const std::string& key_path, std::string& out) {
  out += '{';
  bool first = true;
  for (const auto& [key, value] : entries) {
    if (out.size() > kMaxJsonBytes) return;
    if (!first) out += ',';
    first = false;
    out += sdk::json_quote(key);
    out += ':';
    write_value(document, value, key_path.empty() ? key : key_path + "." + key, out);
  }
  out += '}';
}

void write_scalar(Document& document, const YAML::Node& node, const std::string& key_path,
                  std::string& out) {
  const std::optional<std::string> expanded = document.expand(node, key_path);
  if (!expanded) {
    out += "null";
    return;
  }
  const std::string& text = *expanded;
  if (is_plain(node)) {
    const bool interpolated = node.Scalar().find("${") != std::string::npos;
    if (!interpolated && (text.empty() || text == "~" || text == "null" || text == "Null" ||
                          text == "NULL")) {
      out += "null";
      return;
    }
    if (text == "true" || text == "True" || text == "TRUE") {
      out += "true";
      return;
    }
    if (text == "false" || text == "False" || text == "FALSE") {
      out += "false";
      return;
    }
    if (const std::string number = json_number(text); !number.empty()) {
      out += number;
      return;
    }
  }
  out += sdk::json_quote(text);
}

void write_value(Document& document, const YAML::Node& node, const std::string& key_path,
                 std::string& out) {
  if (out.size() > kMaxJsonBytes) return;  // the result is discarded (see checked_size)
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      std::vector<std::pair<std::string, YAML::Node>> entries;
      for (const auto& pair : node) {
        if (!pair.first.IsScalar()) {
          document.error(pair.first.Mark(), key_path, "a key must be a plain string");
          continue;
        }
        entries.emplace_back(pair.first.Scalar(), pair.second);
      }
      write_object(document, entries, key_path, out);
      return;
    }
    case YAML::NodeType::Sequence: {
      out += '[';
      for (std::size_t i = 0; i < node.size() && out.size() <= kMaxJsonBytes; ++i) {
        if (i != 0) out += ',';
        write_value(document, node[i], key_path + "[" + std::to_string(i) + "]", out);
      }
      out += ']';
      return;
    }
    case YAML::NodeType::Scalar:
      write_scalar(document, node, key_path, out);
      return;
    default:
      out += "null";
      return;
  }
}

// `json`, or "{}" with an error when it grew past kMaxJsonBytes.
std::string checked_size(Document& document, const YAML::Mark& mark, const std::string& key_path,
                         std::string json) {
  if (json.size() <= kMaxJsonBytes) return json;
  document.error(mark, key_path,
                 "settings too large as JSON (over " + std::to_string(kMaxJsonBytes >> 20) +
                     " MiB; are YAML aliases repeating a large subtree?)");
  return "{}";
}

}  // namespace

std::string yaml_to_json(Document& document, const YAML::Node& node, const std::string& key_path) {
  std::string out;
  write_value(document, node, key_path, out);
  return checked_size(document, node.Mark(), key_path, std::move(out));
}

std::string yaml_entries_to_json(Document& document,
                                 const std::vector<std::pair<std::string, YAML::Node>>& entries,
                                 const std::string& key_path, const YAML::Mark& mark) {
  std::string out;
  write_object(document, entries, key_path, out);
  return checked_size(document, mark, key_path, std::move(out));
}

}  // namespace coda::config
