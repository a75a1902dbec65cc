#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Prometheus text exposition format 0.0.4: the body /metrics answers with.
namespace coda::metrics {

// The Content-Type of a body written by TextWriter.
inline constexpr const char* kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

// One label of a sample: name and (unescaped) value.
using Label = std::pair<std::string_view, std::string_view>;

// Writes metric families in the text format: "# HELP" and "# TYPE" once per family, then its
// samples, label values and help texts escaped as the format requires. The caller writes the
// samples of one family right after its header (the format forbids interleaving families). Not
// thread-safe.
class TextWriter {
 public:
  // Starts a family. `type` is counter, gauge, histogram, summary or untyped.
  void family(std::string_view name, std::string_view type, std::string_view help);
  // One sample line: name{labels} value.
  void sample(std::string_view name, const std::vector<Label>& labels, double value);
  void sample(std::string_view name, const std::vector<Label>& labels, uint64_t value);

  const std::string& text() const { return text_; }
  std::string take() { return std::move(text_); }

 private:
  void start_sample(std::string_view name, const std::vector<Label>& labels);
  std::string text_;
};

// A label value escaped for the text format (backslash, double quote, newline).
std::string escape_label_value(std::string_view value);

}  // namespace coda::metrics
