#include "core/process/landlock.hpp"

#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace coda::process {

namespace fs = std::filesystem;

namespace {

// Rights added after the header Debian 12 ships (ABI 2); values from the kernel's uapi.
constexpr uint64_t kTruncate = 1ULL << 14;  // ABI 3
constexpr uint64_t kIoctlDev = 1ULL << 15;  // ABI 5

// Every file-system right the running kernel knows: all handled, so nothing is left unchecked.
uint64_t handled_rights(int abi) {
  uint64_t rights = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;  // ABI 1: EXECUTE .. MAKE_SYM
  if (abi >= 2) rights |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) rights |= kTruncate;
  if (abi >= 5) rights |= kIoctlDev;
  return rights;
}

// Rights that apply to a file (a rule on a non-directory may carry only these).
constexpr uint64_t kFileRights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                 LANDLOCK_ACCESS_FS_READ_FILE | kTruncate | kIoctlDev;

bool is_within(const fs::path& path, const fs::path& base) {
  auto p = path.begin();
  for (auto b = base.begin(); b != base.end(); ++b, ++p) {
    if (p == path.end() || *p != *b) return false;
  }
  return true;
}

fs::path canonical_or_absolute(const std::string& path) {
  std::error_code error;
  auto canonical = fs::weakly_canonical(fs::absolute(path, error), error);
  return error ? fs::absolute(path).lexically_normal() : canonical;
}

}  // namespace

int landlock_abi() {
  const long abi =
      ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return abi > 0 ? static_cast<int>(abi) : 0;
}

LandlockRuleset::LandlockRuleset(LandlockRuleset&& other) noexcept
    : fd_(other.fd_), rules_(other.rules_) {
  other.fd_ = -1;
}

LandlockRuleset& LandlockRuleset::operator=(LandlockRuleset&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    rules_ = other.rules_;
    other.fd_ = -1;
  }
  return *this;
}

LandlockRuleset::~LandlockRuleset() {
  if (fd_ >= 0) ::close(fd_);
}

LandlockRuleset LandlockRuleset::everything_but(const std::vector<std::string>& denied,
                                                const std::vector<std::string>& allowed) {
  const int abi = landlock_abi();
  if (abi <= 0) throw std::runtime_error("this kernel has no Landlock");
  const uint64_t rights = handled_rights(abi);
  landlock_ruleset_attr attr{};
  attr.handled_access_fs = rights;
  const long fd = ::syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
  if (fd < 0) {
    throw std::runtime_error(std::string("landlock_create_ruleset: ") + std::strerror(errno));
  }
  LandlockRuleset ruleset(static_cast<int>(fd));

  auto allow = [&](const fs::path& path) {
    const int target = ::open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (target < 0) return;  // gone, or not ours to open: nothing to allow
    struct stat st {};
    if (::fstat(target, &st) == 0 && !S_ISLNK(st.st_mode)) {
      // A symlink is skipped: what it points to is allowed (or not) under its own real path.
      landlock_path_beneath_attr rule{};
      rule.allowed_access = S_ISDIR(st.st_mode) ? rights : (rights & kFileRights);
      rule.parent_fd = target;
      if (::syscall(SYS_landlock_add_rule, ruleset.fd_, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) ==
          0) {
        ++ruleset.rules_;
      }
    }
    ::close(target);
  };

  std::vector<fs::path> closed;
  for (const auto& path : denied) closed.push_back(canonical_or_absolute(path));
  // Walks down from / along the ancestors of the denied paths, allowing every side branch.
  auto walk = [&](auto&& self, const fs::path& dir) -> void {
    std::error_code error;
    for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
      const fs::path entry = it->path();
      bool is_closed = false, leads_to_closed = false;
      for (const auto& c : closed) {
        if (is_within(entry, c))
          is_closed = true;
        else if (is_within(c, entry))
          leads_to_closed = true;
      }
      if (is_closed) continue;
      if (leads_to_closed && it->is_directory(error) && !it->is_symlink(error)) {
        self(self, entry);
      } else {
        allow(entry);
      }
    }
  };
  walk(walk, "/");
  for (const auto& path : allowed) allow(canonical_or_absolute(path));
  return ruleset;
}

bool enforce_in_child(int ruleset_fd) {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
  return ::syscall(SYS_landlock_restrict_self, ruleset_fd, 0) == 0;
}

}  // namespace coda::process
