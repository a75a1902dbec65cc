#pragma once

#include <string>
#include <vector>

// Where the running executable lives, so that `coda` finds its bundled plugins relative to itself
// from any working directory and any install prefix.
namespace coda::util {

// The absolute path of the running executable (/proc/self/exe). Throws std::runtime_error when it
// cannot be read.
std::string executable_path();

// The directories searched for plugins when the configuration names none, in order:
// <dir of coda>/plugins (the build tree) and <dir of coda>/../lib/coda/plugins (an install prefix,
// also tried with the multiarch lib directory the package was built with).
std::vector<std::string> default_plugin_dirs();

}  // namespace coda::util
