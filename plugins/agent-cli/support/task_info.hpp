#pragma once

#include <coda/plugin.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json.hpp"

// What an agent backend needs of a coda_task_t, copied (the host's struct is valid only during
// start()), and what it reports at the end.
namespace coda::agents {

struct TaskInfo {
  uint64_t handle = 0;
  std::string task_id, session_id, prompt, prompt_file, workspace, task_dir;
  std::string permissions = "smart";  // smart | yolo
  bool yolo_allowed = false;          // the admin's agents.policy.yolo_allowed
  std::string resume_session;         // the agent's own session to resume (a valid id), or ""
  std::string refused_session;        // a resume_session copy_task refused (not an id), or ""
  std::string model;                  // a per-task model, or "" (the backend's config decides)
  int timeout_s = 0;
  std::string owner;                  // the owner's subject (or email), for per-owner settings

  // yolo only when the task asked for it AND the admin allows it.
  bool yolo() const { return permissions == "yolo" && yolo_allowed; }
};

// Copies the task; bad options_json reads as the defaults (smart, no yolo). The resume session is
// untrusted text (the previous run's agent reported it) that ends up in an argv: one that is not a
// valid id (see is_session_id) is moved to refused_session and the task starts a fresh session.
TaskInfo copy_task(const coda_task_t& task);

// True for [A-Za-z0-9._:-]{1,128} not starting with '-': what an agent's session id looks like, and
// something no CLI can read as an option.
bool is_session_id(std::string_view session);

// The end of a run, as coda_task_events_t.finished wants it.
struct Outcome {
  std::string status = "failed";  // completed | failed | cancelled | timed_out | needs_approval | ...
  std::string summary;
  std::optional<int> exit_code;
  JsonObject usage;               // {"input_tokens","output_tokens","cost_usd",...} or null
  std::string agent_session;
  std::vector<std::string> errors;
  std::string feedback;

  std::string to_json() const;
};

// Normalised usage: the known counters under common names plus the CLI's own object as "raw".
JsonObject make_usage(std::optional<double> input_tokens, std::optional<double> output_tokens,
                      std::optional<double> cost_usd, const JsonObject& raw);

}  // namespace coda::agents
