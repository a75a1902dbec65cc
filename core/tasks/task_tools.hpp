#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/mcp/tool.hpp"
#include "core/tasks/task_engine.hpp"

// The MCP tools of the task engine: coda_run, coda_inbox, coda_get_result, coda_cancel. Names,
// parameters and result fields are compatible with the prototype (reference/seed.md); docs/tasks.md
// describes them. The owner of every call is RequestContext.identity — never a tool argument.
namespace coda::tasks {

// The four tools, bound to `engine` (they share its ownership).
std::vector<std::shared_ptr<mcp::Tool>> make_task_tools(std::shared_ptr<TaskEngine> engine);

// The default MCP server instructions: submit and move on; look up only when asked.
const std::string& task_tools_instructions();

// The JSON a client sees for a task in coda_inbox (summary form) or coda_get_result (full form).
Poco::JSON::Object::Ptr task_summary_json(const Task& task);
Poco::JSON::Object::Ptr task_result_json(const Task& task);

}  // namespace coda::tasks
