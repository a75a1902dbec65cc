#include "core/tasks/storage_budget.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>

namespace coda::tasks {
namespace {

// `bytes` in MiB with `decimals` decimals: "3.0 MiB".
std::string mib(int64_t bytes, int decimals = 1) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.*f MiB", decimals, static_cast<double>(bytes) / (1 << 20));
  return text;
}

// How many decimals tell `usage` from `limit` apart in MiB (1 when they differ there already).
int decimals_apart(int64_t usage, int64_t limit) {
  int decimals = 1;
  while (decimals < 6 && usage != limit && mib(usage, decimals) == mib(limit, decimals)) ++decimals;
  return decimals;
}

}  // namespace

StorageBudget::StorageBudget(TaskStore& store, const config::TasksConfig& tasks)
    : store_(store),
      limit_bytes_(tasks.owner_storage_mb * (int64_t{1} << 20)),
      retention_days_(tasks.retention_days) {}

int64_t StorageBudget::refresh(const std::string& owner) {
  if (!enabled()) return 0;
  const int64_t usage = store_.owner_storage(owner).total();
  std::lock_guard lock(mutex_);
  cached_[owner] = usage;
  return usage;
}

bool StorageBudget::admit(const std::string& owner, int64_t bytes) {
  if (!enabled()) return true;
  const int64_t read = usage(owner);  // cached now, unless forgotten meanwhile
  std::lock_guard lock(mutex_);
  int64_t& cached = cached_.try_emplace(owner, read).first->second;
  if (over(cached + bytes)) return false;
  cached += bytes;
  return true;
}

int64_t StorageBudget::usage(const std::string& owner) {
  if (!enabled()) return 0;
  {
    std::lock_guard lock(mutex_);
    if (auto it = cached_.find(owner); it != cached_.end()) return it->second;
  }
  return refresh(owner);
}

void StorageBudget::forget(const std::string& owner) {
  std::lock_guard lock(mutex_);
  cached_.erase(owner);
}

WorkspaceUsage StorageBudget::record_workspace(const std::string& owner,
                                               const std::string& workspace) {
  const WorkspaceUsage usage = measure_workspace(workspace);
  store_.record_workspace_bytes(owner, workspace, counted(usage));
  return usage;
}

int64_t StorageBudget::counted(const WorkspaceUsage& usage) const {
  const auto bytes = static_cast<int64_t>(
      std::min<uint64_t>(usage.bytes, std::numeric_limits<int64_t>::max() / 2));
  if (usage.complete || !enabled()) return bytes;
  return std::max(bytes, limit_bytes_ + 1);
}

std::string StorageBudget::describe(int64_t usage) const {
  const int decimals = decimals_apart(usage, limit_bytes_);
  return "over the storage budget: your tasks' stored output and workspaces come to " +
         mib(usage, decimals) + ", more than the " + mib(limit_bytes_, decimals) +
         " that tasks.owner_storage_mb allows";
}

std::string StorageBudget::describe_unmeasurable() const {
  return "over the storage budget: the workspace could not be measured completely (more than " +
         std::to_string(kMaxMeasuredEntries) + " entries, deeper than " +
         std::to_string(kMaxMeasuredDepth) +
         " levels, or a directory the host cannot read), so it counts as more than the " +
         mib(limit_bytes_) + " that tasks.owner_storage_mb allows";
}

std::string StorageBudget::refusal(int64_t usage) const {
  const std::string wait = retention_days_ > 0
                               ? "space comes back as your finished tasks are purged, " +
                                     std::to_string(retention_days_) +
                                     " days after they finish (tasks.retention_days)"
                               : "this host keeps finished tasks (tasks.retention_days: 0)";
  return describe(usage) + ": nothing was created; " + wait +
         ", or ask the administrator to delete old tasks (coda tasks delete) or raise the budget";
}

}  // namespace coda::tasks
