#include "core/bridge/command_line.hpp"

namespace coda::bridge {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

std::vector<std::string> split_command_line(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (is_blank(c)) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\\') {
      if (++i == line.size()) throw CommandLineError("command line ends with a lone backslash");
      word += line[i];
    } else if (c == '\'') {
      auto end = line.find('\'', i + 1);
      if (end == std::string_view::npos) throw CommandLineError("unterminated ' quote in command line");
      word.append(line.substr(i + 1, end - i - 1));
      i = end;
    } else if (c == '"') {
      bool closed = false;
      for (++i; i < line.size(); ++i) {
        char d = line[i];
        if (d == '"') {
          closed = true;
          break;
        }
        if (d == '\\' && i + 1 < line.size()) {
          char next = line[i + 1];
          if (next == '\\' || next == '"' || next == '$' || next == '`' || next == '\n') {
            word += next;
            ++i;
            continue;
          }
        }
        word += d;
      }
      if (!closed) throw CommandLineError("unterminated \" quote in command line");
    } else {
      word += c;
    }
  }
  if (in_word) words.push_back(std::move(word));
  if (words.empty()) throw CommandLineError("command line is empty");
  return words;
}

}  // namespace coda::bridge
