#include "text_parser.hpp"

#include <cstring>

namespace coda::agents {

void BoundedText::append(std::string_view text) {
  if (keep_ == Keep::kHead) {
    if (text_.size() >= limit_) {
      truncated_ = truncated_ || !text.empty();
      return;
    }
    const auto room = limit_ - text_.size();
    if (text.size() > room) truncated_ = true;
    text_.append(text.substr(0, room));
    return;
  }
  if (text.size() >= limit_) {
    text_.assign(text.substr(text.size() - limit_));
    truncated_ = true;
    return;
  }
  text_.append(text);
  if (text_.size() > 2 * limit_) {
    text_.erase(0, text_.size() - limit_);
    truncated_ = true;
  }
}

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

void TextParser::on_text(std::string_view chunk, RunSink& sink) {
  tail_.append(chunk);
  if (sink.progress_due()) {
    const auto& text = tail_.str();
    const auto end = text.find_last_not_of(" \r\n");
    if (end != std::string::npos) {
      const auto start = text.find_last_of('\n', end);
      sink.progress(std::string_view(text).substr(start == std::string::npos ? 0 : start + 1,
                                                  end - (start == std::string::npos ? 0 : start + 1) + 1));
    }
  }
}

std::string TextParser::exit_text(int exit_code, int term_signal) const {
  if (exit_code < 0) return cli_ + " was killed by signal " + std::to_string(term_signal) + " (" + strsignal(term_signal) + ")";
  return cli_ + " exited with code " + std::to_string(exit_code);
}

Outcome TextParser::finish(int exit_code, int term_signal) {
  Outcome outcome;
  std::string text = tail_.str();
  if (text.size() > 8192) text.erase(0, text.size() - 8192);
  outcome.summary = trim(text);
  if (exit_code >= 0) outcome.exit_code = exit_code;
  if (exit_code == 0) {
    outcome.status = "completed";
  } else {
    outcome.status = "failed";
    outcome.errors.push_back(exit_text(exit_code, term_signal));
  }
  return outcome;
}

std::string no_final_event(const std::string& cli, int exit_code, int term_signal) {
  if (exit_code < 0) {
    return cli + " was killed by signal " + std::to_string(term_signal) + " before its final event";
  }
  return cli + " exited with code " + std::to_string(exit_code) +
         " without its final event, so the turn did not finish";
}

}  // namespace coda::agents
