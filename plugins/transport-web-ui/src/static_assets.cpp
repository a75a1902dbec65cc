#include "static_assets.hpp"

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace coda::webui {
namespace {

// FNV-1a: not for security, only a validator that changes when the bytes do.
std::string etag_of(std::string_view bytes) {
  std::uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char text[40];
  std::snprintf(text, sizeof text, "\"%016llx-%zx\"", static_cast<unsigned long long>(hash),
                bytes.size());
  return text;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

StaticAssets::StaticAssets(std::string directory) : directory_(std::move(directory)) {
  if (directory_.empty()) {
    for (const EmbeddedAsset* a = kEmbeddedAssets; a->path != nullptr; ++a) {
      Asset asset;
      asset.content_type = content_type_for(a->path);
      asset.body = a->bytes;
      asset.etag = etag_of(a->bytes);
      embedded_.emplace(a->path, std::move(asset));
    }
    return;
  }
  while (directory_.size() > 1 && directory_.back() == '/') directory_.pop_back();
  std::ifstream index(directory_ + "/index.html", std::ios::binary);
  if (!index) {
    throw std::invalid_argument("transport-web-ui: assets_dir: no index.html in \"" + directory_ +
                                "\"; point it at plugins/transport-web-ui/assets or remove the key");
  }
}

std::optional<Asset> StaticAssets::find(std::string_view relative) const {
  if (relative.empty()) relative = "index.html";
  if (!is_safe_name(relative)) return std::nullopt;
  if (directory_.empty()) {
    auto it = embedded_.find(relative);
    if (it == embedded_.end()) return std::nullopt;
    return it->second;
  }
  std::ifstream in(directory_ + "/" + std::string(relative), std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return std::nullopt;
  Asset asset;
  asset.content_type = content_type_for(relative);
  asset.storage = bytes.str();
  asset.body = asset.storage;
  asset.etag = etag_of(asset.body);
  return asset;
}

bool StaticAssets::is_safe_name(std::string_view relative) {
  if (relative.empty() || relative.size() > 256) return false;
  std::size_t start = 0;
  while (start <= relative.size()) {
    std::size_t end = relative.find('/', start);
    if (end == std::string_view::npos) end = relative.size();
    const std::string_view segment = relative.substr(start, end - start);
    if (segment.empty() || segment.front() == '.') return false;
    for (char c : segment) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
      if (!ok) return false;
    }
    start = end + 1;
  }
  return true;
}

std::string StaticAssets::content_type_for(std::string_view name) {
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".webmanifest", "application/manifest+json"}};
  for (const auto& [ext, type] : kTypes) {
    if (ends_with(name, ext)) return std::string(type);
  }
  return "application/octet-stream";
}

}  // namespace coda::webui
