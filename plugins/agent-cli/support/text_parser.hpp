#pragma once

#include <string>
#include <string_view>

#include "process_run.hpp"

// Parsers shared by several backends: bounded text accumulation and the plain-text CLI parser.
namespace coda::agents {

// Text kept within a byte budget: the first `head` bytes or the last `tail` bytes.
class BoundedText {
 public:
  enum class Keep { kHead, kTail };
  BoundedText(std::size_t limit, Keep keep) : limit_(limit), keep_(keep) {}
  void append(std::string_view text);
  void clear() { text_.clear(); }
  const std::string& str() const { return text_; }
  bool truncated() const { return truncated_; }

 private:
  std::size_t limit_;
  Keep keep_;
  std::string text_;
  bool truncated_ = false;
};

// Trims whitespace at both ends.
std::string trim(std::string_view text);

// A CLI that prints plain text: success is exit code 0, the summary is the end of stdout.
class TextParser : public OutputParser {
 public:
  explicit TextParser(std::string cli, std::size_t summary_bytes = 8192)
      : cli_(std::move(cli)), tail_(summary_bytes, BoundedText::Keep::kTail) {}
  bool jsonl() const override { return false; }
  bool on_line(std::string_view, const std::string&, RunSink&) override { return false; }
  void on_text(std::string_view chunk, RunSink& sink) override;
  bool has_final() const override { return false; }
  Outcome finish(int exit_code, int term_signal) override;

 protected:
  // "claude exited with code 3" / "... was killed by signal 9".
  std::string exit_text(int exit_code, int term_signal) const;
  const std::string cli_;
  BoundedText tail_;
};

// The message for a CLI that ended without its final event.
std::string no_final_event(const std::string& cli, int exit_code, int term_signal);

}  // namespace coda::agents
