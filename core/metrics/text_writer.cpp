#include "core/metrics/text_writer.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace coda::metrics {

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void TextWriter::family(std::string_view name, std::string_view type, std::string_view help) {
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  for (char c : help) {  // HELP escapes backslash and newline only
    if (c == '\\') {
      text_ += "\\\\";
    } else if (c == '\n') {
      text_ += "\\n";
    } else {
      text_ += c;
    }
  }
  text_ += "\n# TYPE ";
  text_ += name;
  text_ += ' ';
  text_ += type;
  text_ += '\n';
}

void TextWriter::start_sample(std::string_view name, const std::vector<Label>& labels) {
  text_ += name;
  if (labels.empty()) {
    text_ += ' ';
    return;
  }
  text_ += '{';
  bool first = true;
  for (const auto& [label, value] : labels) {
    if (!first) text_ += ',';
    first = false;
    text_ += label;
    text_ += "=\"";
    text_ += escape_label_value(value);
    text_ += '"';
  }
  text_ += "} ";
}

void TextWriter::sample(std::string_view name, const std::vector<Label>& labels, double value) {
  start_sample(name, labels);
  if (std::isnan(value)) {
    text_ += "NaN";
  } else if (std::isinf(value)) {
    text_ += value > 0 ? "+Inf" : "-Inf";
  } else {
    // 15 significant digits when they read back as the same double (0.1, not 0.10000000000000001).
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.15g", value);
    if (std::strtod(buffer, nullptr) != value) std::snprintf(buffer, sizeof buffer, "%.17g", value);
    text_ += buffer;
  }
  text_ += '\n';
}

void TextWriter::sample(std::string_view name, const std::vector<Label>& labels, uint64_t value) {
  start_sample(name, labels);
  text_ += std::to_string(value);
  text_ += '\n';
}

}  // namespace coda::metrics
