// Location and ConfigError: the "file:line:column: key.path: what is wrong" shape of every
// configuration error.
#include <utility>

#include "core/config/config.hpp"

namespace coda::config {
namespace {

std::string format_error(const Location& where, const std::string& key_path,
                         const std::string& message) {
  std::string text = where.to_string();
  if (!text.empty()) text += ": ";
  if (!key_path.empty()) text += key_path + ": ";
  return text + message;
}

}  // namespace

std::string Location::to_string() const {
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

ConfigError::ConfigError(Location where, std::string key_path, const std::string& message)
    : std::runtime_error(format_error(where, key_path, message)),
      where_(std::move(where)),
      key_path_(std::move(key_path)),
      lines_{what()} {}

}  // namespace coda::config
