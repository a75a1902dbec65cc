#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "core/mcp/tool.hpp"

namespace coda::mcp {

// The calls that tool-provider plugins are working on, by the id the plugin was given (the uint64_t of
// coda_tools_vtbl_t.call). host_tools.cpp looks calls up here when a plugin reports progress, a log
// line or the result. Thread-safe.
class ToolCallTable {
 public:
  // Registers `call` and returns its new id (never 0, never reused).
  std::uint64_t add(std::shared_ptr<ToolCall> call);
  // The live call with this id, or null when it is unknown or already done.
  std::shared_ptr<ToolCall> find(std::uint64_t id) const;
  // Removes the call and returns it (null when unknown): the caller delivers the final result.
  std::shared_ptr<ToolCall> take(std::uint64_t id);
  // How many calls are live.
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, std::shared_ptr<ToolCall>> calls_;
};

}  // namespace coda::mcp
