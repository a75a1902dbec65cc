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

// Where coda_run's viewer_url points: <public_url, else the caller's scheme://host><viewer_path>
// #/tasks/<task_id>. No viewer_url when viewer_path is empty (no web UI is served).
struct ViewerLinks {
  std::string public_url;   // server.public_url, without a trailing '/'; may be empty
  std::string viewer_path;  // the web UI's path, e.g. "/ui"; empty: no dashboard
};

// The four tools, bound to `engine` (they share its ownership).
std::vector<std::shared_ptr<mcp::Tool>> make_task_tools(std::shared_ptr<TaskEngine> engine,
                                                        ViewerLinks links = {});

// The dashboard URL of a task for a caller that reached the host at `base_url`; "" when there is
// no dashboard or no URL to build on.
std::string viewer_url(const ViewerLinks& links, const std::string& base_url,
                       const std::string& task_id);

// The default MCP server instructions: submit and move on; look up only when asked.
const std::string& task_tools_instructions();

// The JSON a client sees for a task in coda_inbox (summary form) or coda_get_result (full form).
Poco::JSON::Object::Ptr task_summary_json(const Task& task);
Poco::JSON::Object::Ptr task_result_json(const Task& task);

}  // namespace coda::tasks
