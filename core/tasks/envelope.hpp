#pragma once

#include <map>
#include <string>

// The prompt envelope: the text an agent receives around the user's prompt — who and what the task is,
// the prior session, the context, how to report, and the safety rules.
//
// Templates use {{name}} placeholders:
//   {{task_id}} {{session_id}} {{user}} {{permissions}} {{workspace}} {{result_file}}
//   {{previous_session_id}}  ("" for a new session)
//   {{prior_session}}        a ready-made paragraph about the prior session (or "none")
//   {{previous_summary}}     the prior task's summary ("" when none)
//   {{context}}              the context JSON, pretty-printed
//   {{prompt}}               the user's task
//   {{safety}}               the built-in SAFETY rules
// An unknown placeholder is an error when the template is loaded.
namespace coda::tasks {

// Immutable after construction; thread-safe.
class Envelope {
 public:
  // The built-in template.
  Envelope();
  // A template text; throws std::invalid_argument naming an unknown placeholder or {{ without }}.
  explicit Envelope(std::string template_text);
  // Reads a template file (tasks.envelope_template). Throws std::runtime_error when unreadable and
  // std::invalid_argument as above, with the file name.
  static Envelope from_file(const std::string& path);

  // The built-in template and SAFETY rules (documented in docs/tasks.md).
  static const std::string& builtin_template();
  static const std::string& safety_rules();

  // Replaces every placeholder; missing fields render as "". {{safety}} is always available.
  std::string render(const std::map<std::string, std::string>& fields) const;

 private:
  std::string text_;
};

}  // namespace coda::tasks
