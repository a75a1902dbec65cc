#include "core/mcp/tool_call_table.hpp"

namespace coda::mcp {

std::uint64_t ToolCallTable::add(std::shared_ptr<ToolCall> call) {
  std::lock_guard lock(mutex_);
  std::uint64_t id = next_id_++;
  calls_.emplace(id, std::move(call));
  return id;
}

std::shared_ptr<ToolCall> ToolCallTable::find(std::uint64_t id) const {
  std::lock_guard lock(mutex_);
  auto it = calls_.find(id);
  return it == calls_.end() ? nullptr : it->second;
}

std::shared_ptr<ToolCall> ToolCallTable::take(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  auto it = calls_.find(id);
  if (it == calls_.end()) return nullptr;
  auto call = std::move(it->second);
  calls_.erase(it);
  return call;
}

std::size_t ToolCallTable::size() const {
  std::lock_guard lock(mutex_);
  return calls_.size();
}

}  // namespace coda::mcp
