#include "core/util/safe_path.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "core/util/random.hpp"

namespace coda::util {
namespace {

// Closes the descriptor on every exit path.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

std::vector<std::string> split(const std::string& relative) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    auto end = relative.find('/', start);
    auto part = relative.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (part.empty() || part == "." || part == "..") {
      throw std::runtime_error("not a plain relative path: \"" + relative + "\"");
    }
    parts.push_back(part);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return parts;
}

[[noreturn]] void fail(int dir, const std::string& name, const std::string& shown, int err,
                       const char* what) {
  struct stat st {};
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
    throw std::runtime_error("refusing to follow the symlink " + shown +
                             " (the agent may have planted it)");
  }
  throw std::runtime_error(std::string("cannot ") + what + " " + shown + ": " + std::strerror(err));
}

Fd open_root(const std::string& root) {
  Fd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) {
    throw std::runtime_error("cannot open " + root + ": " + std::strerror(errno));
  }
  return fd;
}

// Walks the directories `parts` below `root` (creating them when `create`), never following a link.
Fd walk(const std::string& root, const std::vector<std::string>& parts, std::size_t count,
        bool create, std::string& shown) {
  Fd dir = open_root(root);
  shown = root;
  for (std::size_t i = 0; i < count; ++i) {
    shown += "/" + parts[i];
    if (create && ::mkdirat(dir.get(), parts[i].c_str(), 0700) != 0 && errno != EEXIST) {
      fail(dir.get(), parts[i], shown, errno, "create");
    }
    Fd next(::openat(dir.get(), parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (next.get() < 0) fail(dir.get(), parts[i], shown, errno, "open");
    dir = std::move(next);
  }
  return dir;
}

void write_all(int fd, const std::string& text, const std::string& shown) {
  std::size_t done = 0;
  while (done < text.size()) {
    auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("cannot write " + shown + ": " + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

void make_dirs_below(const std::string& root, const std::string& relative) {
  auto parts = split(relative);
  std::string shown;
  walk(root, parts, parts.size(), true, shown);
}

void write_file_below(const std::string& root, const std::string& relative,
                      const std::string& text) {
  auto parts = split(relative);
  std::string shown;
  Fd dir = walk(root, parts, parts.size() - 1, false, shown);
  const std::string name = parts.back();
  shown += "/" + name;
  const std::string tmp = "." + name + "." + random_hex(8) + ".tmp";
  Fd out(
      ::openat(dir.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (out.get() < 0) fail(dir.get(), tmp, shown, errno, "write");
  try {
    write_all(out.get(), text, shown);
    if (::renameat(dir.get(), tmp.c_str(), dir.get(), name.c_str()) != 0) {
      throw std::runtime_error("cannot write " + shown + ": " + std::strerror(errno));
    }
  } catch (...) {
    ::unlinkat(dir.get(), tmp.c_str(), 0);
    throw;
  }
}

bool create_file_below(const std::string& root, const std::string& relative,
                       const std::string& text) {
  auto parts = split(relative);
  std::string shown;
  Fd dir = walk(root, parts, parts.size() - 1, false, shown);
  shown += "/" + parts.back();
  Fd out(::openat(dir.get(), parts.back().c_str(),
                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (out.get() < 0) {
    if (errno == EEXIST) return false;
    fail(dir.get(), parts.back(), shown, errno, "create");
  }
  write_all(out.get(), text, shown);
  return true;
}

std::optional<std::string> read_file_below(const std::string& root, const std::string& relative,
                                           std::size_t max_bytes) {
  auto parts = split(relative);
  std::string shown;
  Fd dir = walk(root, parts, parts.size() - 1, false, shown);
  shown += "/" + parts.back();
  // O_NONBLOCK: opening a FIFO the agent planted must not block the host.
  Fd in(::openat(dir.get(), parts.back().c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (in.get() < 0) {
    if (errno == ENOENT) return std::nullopt;
    fail(dir.get(), parts.back(), shown, errno, "read");
  }
  struct stat st {};
  if (::fstat(in.get(), &st) != 0) {
    throw std::runtime_error("cannot read " + shown + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode))
    throw std::runtime_error("refusing to read " + shown + ": not a regular file");
  if (st.st_nlink > 1) {
    throw std::runtime_error("refusing to read " + shown + ": it has other hard links");
  }
  std::string text(max_bytes, '\0');
  std::size_t got = 0;
  while (got < max_bytes) {
    auto n = ::read(in.get(), text.data() + got, max_bytes - got);
    if (n < 0 && (errno == EINTR)) continue;
    if (n < 0) throw std::runtime_error("cannot read " + shown + ": " + std::strerror(errno));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  text.resize(got);
  return text;
}

namespace {

constexpr int kMaxHandOverDepth = 256;

// An entry that cannot be re-owned (it vanished, a read-only mount) stays as it is: the agent
// cannot write it, which is its own error to report, never the host's.
void skip_failure(int /*result*/) {}

// Re-owns the entries of the open directory `dir` (on device `device`), then descends.
void hand_over_entries(int dir, dev_t device, uid_t uid, gid_t gid, int depth) {
  if (depth >= kMaxHandOverDepth) return;
  const int listing = ::dup(dir);
  if (listing < 0) return;
  DIR* entries = ::fdopendir(listing);
  if (entries == nullptr) {
    ::close(listing);
    return;
  }
  while (const dirent* entry = ::readdir(entries)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_dev != device)
      continue;
    if (S_ISDIR(st.st_mode)) {
      Fd sub(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (sub.get() < 0) continue;  // replaced by a link meanwhile: not followed
      if (::fstat(sub.get(), &st) != 0 || st.st_dev != device) continue;
      if (st.st_uid != uid || st.st_gid != gid) skip_failure(::fchown(sub.get(), uid, gid));
      hand_over_entries(sub.get(), device, uid, gid, depth + 1);
    } else if (S_ISREG(st.st_mode)) {
      // Through a descriptor, so what is re-owned is the file that was checked.
      Fd file(
          ::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
      if (file.get() < 0 || ::fstat(file.get(), &st) != 0) continue;
      if (st.st_uid == uid && st.st_gid == gid) continue;
      if (st.st_nlink > 1) continue;
      skip_failure(::fchown(file.get(), uid, gid));
    } else if (st.st_uid != uid || st.st_gid != gid) {
      // Symlinks, FIFOs, sockets: the entry itself.
      skip_failure(::fchownat(dir, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW));
    }
  }
  ::closedir(entries);
}

}  // namespace

void hand_over_tree(const std::string& root, uid_t uid, gid_t gid) {
  Fd dir = open_root(root);
  struct stat st {};
  if (::fstat(dir.get(), &st) != 0 || ::fchown(dir.get(), uid, gid) != 0) {
    throw std::runtime_error("cannot give " + root + " to uid " + std::to_string(uid) + ": " +
                             std::strerror(errno));
  }
  hand_over_entries(dir.get(), st.st_dev, uid, gid, 0);
}

}  // namespace coda::util
