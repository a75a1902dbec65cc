#pragma once

#include <string>
#include <vector>

#include "core/config/config.hpp"

// The optional bubblewrap sandbox around an agent: its own pid namespace and /proc (the host's and
// other tasks' processes invisible; the whole tree dies with bwrap, which dies with the host), the
// whole file system read-only, the workspace (and the admin's extra paths) writable, the host's data
// dir (database, other tasks' workspaces) replaced by an empty tmpfs, the host's secret files
// (sandbox.hidden) replaced by /dev/null, a private /tmp, and optionally no network.
namespace coda::process {

// The argv that runs `command` inside bwrap. `bwrap` is the resolved bwrap executable; `writable`
// are the paths the process may write (the workspace first); `cwd` is the directory it starts in.
// Writable paths under data_dir stay visible (they are bound after data_dir is hidden).
std::vector<std::string> sandbox_argv(const config::SandboxConfig& sandbox, const std::string& bwrap,
                                      const std::string& data_dir,
                                      const std::vector<std::string>& writable,
                                      const std::string& cwd,
                                      const std::vector<std::string>& command);

}  // namespace coda::process
