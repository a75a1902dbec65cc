#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "core/config/config.hpp"
#include "core/tasks/task_store.hpp"
#include "core/tasks/workspace.hpp"

// The per-owner storage budget (tasks.owner_storage_mb): the stored events of all an owner's tasks
// plus the workspaces they use, against one limit, so that one user cannot fill the host's disk for
// everyone. The figures come from the store (TaskStore::owner_storage); between two reads the
// output this host stores is charged to a cached figure, so the check per event costs no store
// query.
namespace coda::tasks {

// Thread-safe: every member may be called from any thread.
class StorageBudget {
 public:
  // `store` must outlive the budget. tasks.owner_storage_mb 0 means unlimited: every check passes
  // and nothing is read.
  StorageBudget(TaskStore& store, const config::TasksConfig& tasks);

  bool enabled() const { return limit_bytes_ > 0; }
  int64_t limit_bytes() const { return limit_bytes_; }
  // True when `usage` bytes are more than the budget (never when it is unlimited).
  bool over(int64_t usage) const { return enabled() && usage > limit_bytes_; }

  // The owner's usage as the store has it now; it becomes the cached figure admit() charges.
  // Throws StoreError.
  int64_t refresh(const std::string& owner);
  // True when `bytes` more stored bytes of `owner` keep it within the budget; they are then charged
  // to the cached figure (read from the store first when there is none). False also for 0 bytes of
  // an owner already over. Throws StoreError.
  bool admit(const std::string& owner, int64_t bytes);
  // The owner's cached figure (read from the store when there is none).
  int64_t usage(const std::string& owner);
  // Drops the owner's cached figure (when none of their tasks runs here any more).
  void forget(const std::string& owner);

  // Measures `workspace`, a workspace of `owner`'s tasks (measure_workspace: no link followed), and
  // records its size in the store: its bytes, or — when it could not be measured completely — at
  // least one byte over the budget, so that hiding data from the walk never pays. Does not refresh
  // the owner's cached figure. Throws StoreError.
  WorkspaceUsage record_workspace(const std::string& owner, const std::string& workspace);
  // The size a measurement is recorded with (see record_workspace).
  int64_t counted(const WorkspaceUsage& usage) const;

  // Why an owner is over, for their task's errors and host events: `usage` (what they hold, or
  // would hold with output that was refused), the budget and its key.
  std::string describe(int64_t usage) const;
  // The same for a workspace that could not be measured completely.
  std::string describe_unmeasurable() const;
  // What coda_run answers an owner over the budget: describe() and what to do about it.
  std::string refusal(int64_t usage) const;

 private:
  TaskStore& store_;
  int64_t limit_bytes_;
  int retention_days_;
  std::mutex mutex_;
  std::map<std::string, int64_t> cached_;  // owner → usage: the last store read plus charges since
};

}  // namespace coda::tasks
