#include "core/process/sandbox.hpp"

namespace coda::process {

std::vector<std::string> sandbox_argv(const config::SandboxConfig& sandbox, const std::string& bwrap,
                                      const std::string& data_dir,
                                      const std::vector<std::string>& writable,
                                      const std::string& cwd,
                                      const std::vector<std::string>& command) {
  std::vector<std::string> argv = {bwrap, "--ro-bind", "/", "/", "--dev", "/dev",
                                   "--proc", "/proc", "--tmpfs", "/tmp"};
  if (!data_dir.empty()) argv.insert(argv.end(), {"--tmpfs", data_dir});
  auto bind = [&argv](const std::string& path) {
    if (!path.empty()) argv.insert(argv.end(), {"--bind", path, path});
  };
  for (const auto& path : writable) bind(path);
  for (const auto& path : sandbox.writable) bind(path);
  if (!sandbox.network) argv.push_back("--unshare-net");
  if (!cwd.empty()) argv.insert(argv.end(), {"--chdir", cwd});
  argv.push_back("--");
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

}  // namespace coda::process
