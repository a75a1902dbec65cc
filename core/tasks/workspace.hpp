#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

// Task workspaces: one directory per session chain under data_dir/workspaces/, and what a task
// changed in it. files_changed is computed here from the file system — never taken from the agent.
namespace coda::tasks {

// The directory inside a workspace where per-task files live (prompt, result.json): ignored by
// snapshots and by git (it holds a .gitignore of "*").
inline constexpr const char* kTaskFilesDir = ".coda";

// Creates `workspace` and workspace/.coda/tasks/<task_id>/ (with the .gitignore); returns the task
// directory. Nothing below `workspace` is followed if it is a symlink (util/safe_path.hpp): a
// planted link makes it throw. Throws std::runtime_error naming the path when it cannot.
std::string prepare_task_dir(const std::string& workspace, const std::string& task_id);

// The HOME of `owner`'s agents (agents.policy.home: per_owner): <data_dir>/homes/<32 hex digits of
// the owner's SHA-256>, made (0700) if missing, so agent CLIs keep one owner's sessions and
// transcripts apart from every other owner's. Throws std::runtime_error when it cannot be made or
// is not a plain directory.
std::string prepare_owner_home(const std::string& data_dir, const std::string& owner);

// Deletes each of `workspaces` that is a direct child of `root` (data_dir/workspaces): anything
// else is left alone, so a bad row can never make retention delete outside the workspaces. Symlinks
// inside are removed, never followed. Returns how many were removed; failures are logged, not
// thrown.
int remove_workspaces(const std::string& root, const std::vector<std::string>& workspaces);

// What a workspace holds on disk, as `du` counts it.
struct WorkspaceUsage {
  uint64_t bytes = 0;       // allocated blocks of every file, directory and symlink below it
  std::size_t entries = 0;  // entries seen
  bool complete = true;     // false: some of it could not be measured, `bytes` is a lower bound
};

// Measures `workspace` without following any symlink below it (a link counts as itself, never as
// what it names: an agent may plant links to huge files elsewhere) and counting a file with several
// hard links once. Incomplete, rather than unbounded, past `max_entries` entries or `max_depth`
// levels, or where a directory cannot be read (an agent may chmod one to hide what it holds). A
// missing workspace measures 0. Costs one lstat per entry; for periodic checks, not per event.
inline constexpr std::size_t kMaxMeasuredEntries = 1000000;
inline constexpr int kMaxMeasuredDepth = 128;
WorkspaceUsage measure_workspace(const std::string& workspace,
                                 std::size_t max_entries = kMaxMeasuredEntries,
                                 int max_depth = kMaxMeasuredDepth);

// The state of every regular file and symlink in a workspace (relative path → size and mtime), taken
// before and after a run. Skips .git and .coda; stops after `max_files` entries (marking itself
// truncated) so a huge tree cannot stall the scheduler. Plain value; not shared between threads.
class WorkspaceSnapshot {
 public:
  static WorkspaceSnapshot take(const std::string& workspace, std::size_t max_files = 200000);
  // Paths added, modified or deleted since `before`, sorted.
  std::vector<std::string> changed_since(const WorkspaceSnapshot& before) const;
  bool truncated() const { return truncated_; }
  std::size_t size() const { return files_.size(); }

 private:
  struct FileState {
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    uint64_t inode = 0;
    bool operator==(const FileState& other) const = default;
  };
  std::map<std::string, FileState> files_;
  bool truncated_ = false;
};

}  // namespace coda::tasks
