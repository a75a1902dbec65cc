#include "core/tasks/workspace.hpp"

#include <Poco/Logger.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "core/auth/secrets.hpp"
#include "core/util/safe_path.hpp"

namespace coda::tasks {

namespace fs = std::filesystem;

std::string prepare_task_dir(const std::string& workspace, const std::string& task_id) {
  // The workspace itself is the host's; everything below it may be the agent's, so it is created
  // and opened without following symlinks (an earlier task's agent may have planted some).
  std::error_code ec;
  fs::create_directories(workspace, ec);
  if (ec) {
    throw std::runtime_error("cannot create the workspace " + workspace + ": " + ec.message());
  }
  // Where agents are not confined, one could swap another session's workspace for a link.
  struct stat st {};
  if (::lstat(workspace.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw std::runtime_error("refusing to use the workspace " + workspace +
                             ": it is a symlink or not a directory");
  }
  const std::string files = kTaskFilesDir;
  util::make_dirs_below(workspace, files + "/tasks/" + task_id);
  util::create_file_below(workspace, files + "/.gitignore", "*\n");
  return (fs::path(workspace) / kTaskFilesDir / "tasks" / task_id).string();
}

std::string prepare_owner_home(const std::string& data_dir, const std::string& owner) {
  const std::string key = auth::sha256_hex(owner).substr(0, 32);
  const fs::path homes = fs::path(data_dir) / "homes";
  const std::string home = (homes / key).string();
  std::error_code ec;
  fs::create_directories(homes, ec);
  if (!ec) fs::create_directory(home, ec);
  struct stat st {};
  if (ec || ::lstat(home.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw std::runtime_error("cannot use the agents' home " + home + " of " + owner + ": " +
                             (ec ? ec.message() : "a symlink or not a directory"));
  }
  ::chmod(home.c_str(), 0700);
  return home;
}

int remove_workspaces(const std::string& root, const std::vector<std::string>& workspaces) {
  const fs::path base = fs::path(root).lexically_normal();
  int removed = 0;
  for (const auto& workspace : workspaces) {
    const fs::path path = fs::path(workspace).lexically_normal();
    if (path.parent_path() != base || path.filename().empty() || path.filename() == "..") {
      Poco::Logger::get("coda.tasks")
          .warning("retention: not removing " + workspace + ": not a workspace under " +
                   base.string());
      continue;
    }
    std::error_code ec;
    // remove_all unlinks symlinks rather than following them.
    if (fs::remove_all(path, ec) > 0 && !ec) ++removed;
    if (ec) {
      Poco::Logger::get("coda.tasks")
          .warning("retention: cannot remove " + workspace + ": " + ec.message());
    }
  }
  return removed;
}

namespace {

// The walk of measure_workspace: directories opened below a descriptor with O_NOFOLLOW, entries
// lstat-ed through it, so nothing an agent renames mid-walk leads the host outside the workspace.
class UsageWalk {
 public:
  UsageWalk(std::size_t max_entries, int max_depth)
      : max_entries_(max_entries), max_depth_(max_depth) {}

  // Adds what the directory open at `fd` holds, `depth` levels below the workspace; closes fd.
  void add_directory(int fd, int depth) {
    DIR* dir = ::fdopendir(fd);
    if (dir == nullptr) {
      ::close(fd);
      usage_.complete = false;
      return;
    }
    while (usage_.complete) {
      errno = 0;
      const dirent* entry = ::readdir(dir);
      if (entry == nullptr) {
        if (errno != 0) usage_.complete = false;
        break;
      }
      const char* name = entry->d_name;
      if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
      if (usage_.entries >= max_entries_) {
        usage_.complete = false;
        break;
      }
      struct stat st {};
      if (::fstatat(::dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno != ENOENT) usage_.complete = false;  // ENOENT: deleted meanwhile
        continue;
      }
      ++usage_.entries;
      const uint64_t bytes = static_cast<uint64_t>(st.st_blocks) * 512;
      if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
        linked_.push_back({st.st_dev, st.st_ino, bytes});  // counted once, at the end
      } else {
        usage_.bytes += bytes;
      }
      if (!S_ISDIR(st.st_mode)) continue;
      if (depth + 1 > max_depth_) {
        usage_.complete = false;
        break;
      }
      const int sub = ::openat(::dirfd(dir), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) {
        if (errno != ENOENT) usage_.complete = false;
        continue;
      }
      add_directory(sub, depth + 1);
    }
    ::closedir(dir);
  }

  WorkspaceUsage finish() {
    std::sort(linked_.begin(), linked_.end(), [](const Linked& a, const Linked& b) {
      return a.dev != b.dev ? a.dev < b.dev : a.ino < b.ino;
    });
    for (std::size_t i = 0; i < linked_.size(); ++i) {
      if (i == 0 || linked_[i].dev != linked_[i - 1].dev || linked_[i].ino != linked_[i - 1].ino) {
        usage_.bytes += linked_[i].bytes;
      }
    }
    return usage_;
  }

 private:
  struct Linked {
    dev_t dev;
    ino_t ino;
    uint64_t bytes;
  };
  std::size_t max_entries_;
  int max_depth_;
  WorkspaceUsage usage_;
  std::vector<Linked> linked_;  // files with several links, by inode
};

}  // namespace

WorkspaceUsage measure_workspace(const std::string& workspace, std::size_t max_entries,
                                 int max_depth) {
  UsageWalk walk(max_entries, max_depth);
  const int fd = ::open(workspace.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    WorkspaceUsage usage;
    usage.complete = errno == ENOENT;
    return usage;
  }
  walk.add_directory(fd, 0);
  return walk.finish();
}

WorkspaceSnapshot WorkspaceSnapshot::take(const std::string& workspace, std::size_t max_files) {
  WorkspaceSnapshot snap;
  std::error_code ec;
  fs::recursive_directory_iterator it(workspace, fs::directory_options::skip_permission_denied, ec);
  if (ec) return snap;
  for (auto end = fs::recursive_directory_iterator(); it != end; it.increment(ec)) {
    if (ec) break;
    const auto& path = it->path();
    auto name = path.filename().string();
    if (it.depth() == 0 && (name == ".git" || name == kTaskFilesDir)) {
      it.disable_recursion_pending();
      continue;
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) continue;
    if (snap.files_.size() >= max_files) {
      snap.truncated_ = true;
      break;
    }
    FileState state;
    state.size = static_cast<uint64_t>(st.st_size);
    state.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    state.inode = static_cast<uint64_t>(st.st_ino);
    snap.files_.emplace(fs::relative(path, workspace, ec).generic_string(), state);
  }
  return snap;
}

std::vector<std::string> WorkspaceSnapshot::changed_since(const WorkspaceSnapshot& before) const {
  std::vector<std::string> changed;
  auto a = before.files_.begin();
  auto b = files_.begin();
  // Both maps are sorted by path: one merge pass.
  while (a != before.files_.end() || b != files_.end()) {
    if (b == files_.end() || (a != before.files_.end() && a->first < b->first)) {
      changed.push_back(a->first);  // deleted
      ++a;
    } else if (a == before.files_.end() || b->first < a->first) {
      changed.push_back(b->first);  // added
      ++b;
    } else {
      if (!(a->second == b->second)) changed.push_back(b->first);  // modified
      ++a;
      ++b;
    }
  }
  return changed;
}

}  // namespace coda::tasks
