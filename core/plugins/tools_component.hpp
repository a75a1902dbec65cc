#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <coda/plugin.h>

namespace coda::mcp {
class Engine;
}

namespace coda::plugins {

// The tools of one tool-provider component instance (CODA_KIND_TOOLS), registered in the MCP engine.
// Each tools/call for one of them becomes a coda_tools_vtbl_t.call with a fresh call id from the
// engine's ToolCallTable; the plugin answers through host->tool_progress / tool_log / tool_done
// (host_tools.cpp). A client's cancellation becomes vtbl->cancel.
// Thread-safe. The engine, the vtable and the instance must outlive this object.
class ToolsComponent {
 public:
  // Lists the instance's tools (vtbl->list) and adds each to the engine. Throws std::runtime_error
  // naming the component when list fails, returns something other than a JSON array of Tool objects,
  // or the engine refuses a tool (tools added before the failure are removed again).
  ToolsComponent(mcp::Engine& engine, const coda_tools_vtbl_t* vtbl, void* instance,
                 std::string component_id);
  // detach() with the default grace.
  ~ToolsComponent();
  ToolsComponent(const ToolsComponent&) = delete;
  ToolsComponent& operator=(const ToolsComponent&) = delete;

  // Removes the tools from the engine, cancels the calls still running and waits up to `grace` for
  // their tool_done. Returns true when no call is live any more (the instance may then be
  // destroyed). Later calls of the removed tools are answered with an error. Idempotent.
  bool detach(std::chrono::milliseconds grace = std::chrono::seconds(5));

  // The names of the tools this component registered.
  std::vector<std::string> tool_names() const;

  struct State;  // shared with the tools and calls; defined in tools_component.cpp

 private:
  mcp::Engine& engine_;
  std::shared_ptr<State> state_;
  std::vector<std::string> names_;
};

}  // namespace coda::plugins
