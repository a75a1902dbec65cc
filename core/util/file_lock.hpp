#pragma once

#include <string>

// An exclusive, advisory lock on a file (flock(2)), held for the object's lifetime: one `coda serve`
// per data dir. The kernel drops it when the process dies, even by SIGKILL, so a crash never leaves
// a stale lock behind. The descriptor is close-on-exec: agents never inherit it.
namespace coda::util {

class FileLock {
 public:
  // Creates `path` if needed, locks it without waiting and writes this process's pid into it.
  // Throws std::runtime_error when another process holds it (naming that pid) or the file cannot be
  // opened.
  explicit FileLock(const std::string& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace coda::util
