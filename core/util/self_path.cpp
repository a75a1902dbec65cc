#include "core/util/self_path.hpp"

#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "coda/version.hpp"

namespace coda::util {

std::string executable_path() {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot read /proc/self/exe: " + ec.message());
  return path.string();
}

std::vector<std::string> default_plugin_dirs() {
  std::filesystem::path dir = std::filesystem::path(executable_path()).parent_path();
  std::vector<std::string> out = {(dir / "plugins").string()};
  std::filesystem::path prefix = dir.parent_path();
  std::string configured = kInstallPluginDir;  // relative to the prefix, e.g. lib/x86_64-.../coda/plugins
  if (!configured.empty()) out.push_back((prefix / configured).lexically_normal().string());
  std::string plain = (prefix / "lib/coda/plugins").lexically_normal().string();
  if (out.back() != plain) out.push_back(plain);
  return out;
}

}  // namespace coda::util
