#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>

// Files below a directory an agent controls (a task workspace), touched without ever following a
// symlink the agent planted. `root` itself is the host's (data_dir/workspaces/<id>) and is opened
// normally; every component of `relative` below it is opened with openat(O_NOFOLLOW), so a `.coda`,
// `.coda/tasks`, task directory or file replaced by a symlink (to /etc/shadow, another user's
// workspace, the store) makes the call fail instead of writing or reading outside the workspace.
// `relative` is a '/'-separated path with no empty, `.` or `..` component (anything else is
// refused). Every failure throws std::runtime_error naming the path; a planted symlink is named as
// such.
namespace coda::util {

// Opens (with create: first creating with mkdirat, mode 0700) each directory of `relative` below
// `root`. Returns nothing; throws when a component is a symlink, not a directory or cannot be made.
void make_dirs_below(const std::string& root, const std::string& relative);

// Writes `text` to the file `relative` below `root`: into a fresh temporary (O_CREAT|O_EXCL|
// O_NOFOLLOW) in the same directory, then renameat over the name, so a symlink at the name is
// replaced, never written through. The directories must exist (make_dirs_below).
void write_file_below(const std::string& root, const std::string& relative,
                      const std::string& text);

// Creates the file `relative` below `root` with `text` unless something already has that name (a
// planted symlink there is left alone and not followed). Returns whether it created it.
bool create_file_below(const std::string& root, const std::string& relative,
                       const std::string& text);

// Reads at most `max_bytes` of the regular file `relative` below `root`. nullopt when it does not
// exist; throws when it or a directory above it is a symlink, when it is not a regular file (a FIFO
// would block the host) or has other hard links (it may be a foreign file linked in).
std::optional<std::string> read_file_below(const std::string& root, const std::string& relative,
                                           std::size_t max_bytes);

// Gives `root` and everything below it to uid:gid (agents.policy.run_as: the tree an agent may
// write is its user's). Never follows a symlink (links themselves are re-owned, their targets
// never), stays on root's file system, leaves alone a file with other hard links (it may be a
// foreign file linked in), and goes at most 256 directories deep (what lies deeper the agent made,
// so it owns). Throws std::runtime_error when `root` cannot be opened or re-owned.
void hand_over_tree(const std::string& root, uid_t uid, gid_t gid);

}  // namespace coda::util
