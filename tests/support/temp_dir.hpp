#pragma once

#include <cstddef>
#include <string>

namespace coda::test {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  // A fresh directory under `base` instead (e.g. /var/tmp, for a path a sandbox's private /tmp
  // does not cover).
  explicit TempDir(const std::string& base);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Writes `content` to path()/name (creating parent directories) and returns the full path.
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

// The whole content of a file ("" when missing).
std::string read_file(const std::string& path);

// `bytes` bytes of incompressible (pseudo-random) content: written to a file, it takes that much
// disk even on a compressing file system.
std::string incompressible_bytes(std::size_t bytes);

}  // namespace coda::test
