#include "core/tasks/task.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include "core/util/random.hpp"

namespace coda::tasks {
namespace {

struct StateName {
  TaskState state;
  std::string_view name;
};

constexpr std::array<StateName, 9> kStateNames{{
    {TaskState::kQueued, "queued"},
    {TaskState::kRunning, "running"},
    {TaskState::kCompleted, "completed"},
    {TaskState::kFailed, "failed"},
    {TaskState::kCancelled, "cancelled"},
    {TaskState::kTimedOut, "timed_out"},
    {TaskState::kInterrupted, "interrupted"},
    {TaskState::kNeedsApproval, "needs_approval"},
    {TaskState::kInfoNeeded, "info_needed"},
}};

}  // namespace

std::string_view to_string(TaskState state) {
  for (const auto& entry : kStateNames) {
    if (entry.state == state) return entry.name;
  }
  return "unknown";
}

std::optional<TaskState> parse_state(std::string_view text) {
  for (const auto& entry : kStateNames) {
    if (entry.name == text) return entry.state;
  }
  if (text == "timeout") return TaskState::kTimedOut;  // the prototype's name
  return std::nullopt;
}

bool is_final(TaskState state) { return state != TaskState::kQueued && state != TaskState::kRunning; }

std::string new_id(std::string_view prefix) {
  return std::string(prefix) + util::random_hex(16);  // 128 random bits
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string format_time(int64_t ms) {
  if (ms <= 0) return "";
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace coda::tasks
