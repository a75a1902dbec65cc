#include "core/process/sandbox.hpp"

namespace coda::process {
namespace {

// True when `path` is `dir` or lies beneath it (both absolute and normal).
bool lies_under(const std::string& path, const std::string& dir) {
  if (dir.empty() || path.compare(0, dir.size(), dir) != 0) return false;
  return path.size() == dir.size() || path[dir.size()] == '/' || dir.back() == '/';
}

}  // namespace

std::vector<std::string> sandbox_argv(const config::SandboxConfig& sandbox, const std::string& bwrap,
                                      const std::string& data_dir,
                                      const std::vector<std::string>& writable,
                                      const std::string& cwd,
                                      const std::vector<std::string>& command) {
  // A pid namespace with its own /proc: the agent sees only its own processes (not the host's, not
  // other tasks'), and all of them die with the namespace's init when bwrap ends. --die-with-parent:
  // bwrap (and so the namespace) is killed when the host dies. --new-session: no TIOCSTI into a
  // terminal the host may have.
  std::vector<std::string> argv = {bwrap, "--unshare-pid", "--die-with-parent", "--new-session",
                                   "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                                   "--tmpfs", "/tmp"};
  if (!data_dir.empty()) argv.insert(argv.end(), {"--tmpfs", data_dir});
  // A secret file under /tmp or the data dir is already behind a tmpfs; binding over it there
  // would only create an empty mount point.
  for (const auto& file : sandbox.hidden) {
    if (file.empty() || lies_under(file, "/tmp") || lies_under(file, data_dir)) continue;
    argv.insert(argv.end(), {"--ro-bind", "/dev/null", file});
  }
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
