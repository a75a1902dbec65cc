#include "core/plugins/tools_component.hpp"

#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>

#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>

#include "coda/plugin.hpp"
#include "core/mcp/engine.hpp"
#include "core/mcp/origin.hpp"
#include "core/plugins/host_context.hpp"

namespace coda::plugins {

struct ToolsComponent::State {
  mcp::ToolCallTable* table = nullptr;
  const coda_tools_vtbl_t* vtbl = nullptr;
  void* instance = nullptr;
  std::string component_id;
  std::mutex mutex;
  std::condition_variable idle;
  std::set<std::uint64_t> live;  // call ids given to the plugin and not yet answered
  bool detached = false;
};

namespace {

using State = ToolsComponent::State;

// The engine's call as the plugin sees it: when the plugin answers, the component forgets the call.
class PluginToolCall final : public mcp::ToolCall {
 public:
  PluginToolCall(std::shared_ptr<mcp::ToolCall> inner, std::shared_ptr<State> state)
      : inner_(std::move(inner)), state_(std::move(state)) {}
  void set_id(std::uint64_t id) { id_ = id; }

  const mcp::RequestContext& context() const override { return inner_->context(); }
  const Poco::JSON::Object::Ptr& arguments() const override { return inner_->arguments(); }
  void progress(double progress, std::optional<double> total, const std::string& message) override {
    inner_->progress(progress, total, message);
  }
  void log(mcp::LogLevel level, const Poco::Dynamic::Var& data, const std::string& logger) override {
    inner_->log(level, data, logger);
  }
  bool cancelled() const override { return inner_->cancelled(); }
  void on_cancel(std::function<void()> fn) override { inner_->on_cancel(std::move(fn)); }
  void finish(mcp::ToolResult result) override {
    {
      std::lock_guard lock(state_->mutex);
      state_->live.erase(id_);
    }
    state_->idle.notify_all();
    inner_->finish(std::move(result));
  }

 private:
  std::shared_ptr<mcp::ToolCall> inner_;
  std::shared_ptr<State> state_;
  std::uint64_t id_ = 0;
};

class PluginTool final : public mcp::Tool {
 public:
  PluginTool(Poco::JSON::Object::Ptr definition, std::shared_ptr<State> state)
      : definition_(std::move(definition)),
        name_(definition_->getValue<std::string>("name")),
        state_(std::move(state)) {}

  Poco::JSON::Object::Ptr definition() const override { return definition_; }

  void call(std::shared_ptr<mcp::ToolCall> call) override {
    auto wrapper = std::make_shared<PluginToolCall>(call, state_);
    std::uint64_t id;
    {
      std::lock_guard lock(state_->mutex);
      if (state_->detached) {
        call->finish(mcp::ToolResult::error("Tool '" + name_ + "' is no longer available (its "
                                            "provider " + state_->component_id + " was stopped)"));
        return;
      }
      id = state_->table->add(wrapper);
      wrapper->set_id(id);
      state_->live.insert(id);
    }
    std::string arguments = to_text(call->arguments());
    std::string origin = mcp::origin_json_of(call->context());
    take_thread_error();
    coda_status_t status = state_->vtbl->call(state_->instance, id, sdk::str(name_),
                                              sdk::str(arguments), sdk::str(origin));
    if (status != CODA_OK) {
      std::string why = take_thread_error();
      if (auto failed = state_->table->take(id)) {
        failed->finish(mcp::ToolResult::error(
            "Tool '" + name_ + "' failed to start (status " + std::to_string(status) + ")" +
            (why.empty() ? "" : ": " + why)));
      }
      return;
    }
    std::weak_ptr<State> weak_state = state_;
    call->on_cancel([weak_state, id] {
      auto state = weak_state.lock();
      if (!state) return;
      {
        std::lock_guard lock(state->mutex);
        if (state->live.count(id) == 0) return;
      }
      if (state->vtbl->cancel != nullptr) state->vtbl->cancel(state->instance, id);
    });
  }

 private:
  static std::string to_text(const Poco::JSON::Object::Ptr& obj) {
    std::ostringstream out;
    obj->stringify(out);
    return out.str();
  }

  Poco::JSON::Object::Ptr definition_;
  std::string name_;
  std::shared_ptr<State> state_;
};

}  // namespace

ToolsComponent::ToolsComponent(mcp::Engine& engine, const coda_tools_vtbl_t* vtbl, void* instance,
                               std::string component_id)
    : engine_(engine), state_(std::make_shared<State>()) {
  state_->table = &engine.tool_calls();
  state_->vtbl = vtbl;
  state_->instance = instance;
  state_->component_id = std::move(component_id);
  const std::string& id = state_->component_id;
  if (!CODA_HAS(vtbl, coda_tools_vtbl_t, call) || vtbl->list == nullptr || vtbl->call == nullptr) {
    throw std::runtime_error(id + ": the tool-provider vtable lacks list or call");
  }
  std::string listed;
  take_thread_error();
  coda_status_t status = vtbl->list(instance, &sdk::emit_to_string, &listed);
  if (status != CODA_OK) {
    std::string why = take_thread_error();
    throw std::runtime_error(id + ": listing its tools failed (status " + std::to_string(status) +
                             ")" + (why.empty() ? "" : ": " + why));
  }
  Poco::JSON::Array::Ptr tools;
  try {
    Poco::JSON::Parser parser;
    tools = parser.parse(listed).extract<Poco::JSON::Array::Ptr>();
  } catch (const Poco::Exception& e) {
    throw std::runtime_error(id + ": list must emit a JSON array of MCP Tool objects (" +
                             e.displayText() + ")");
  }
  try {
    for (std::size_t i = 0; i < tools->size(); ++i) {
      Poco::JSON::Object::Ptr definition = tools->getObject(static_cast<unsigned>(i));
      if (definition.isNull() || !definition->has("name")) {
        throw std::invalid_argument("entry " + std::to_string(i) + " is not a Tool object");
      }
      engine_.add_tool(std::make_shared<PluginTool>(definition, state_));
      names_.push_back(definition->getValue<std::string>("name"));
    }
  } catch (const std::exception& e) {
    for (const auto& name : names_) engine_.remove_tool(name);
    names_.clear();
    throw std::runtime_error(id + ": " + e.what());
  }
}

ToolsComponent::~ToolsComponent() { detach(); }

bool ToolsComponent::detach(std::chrono::milliseconds grace) {
  bool first = false;
  {
    std::lock_guard lock(state_->mutex);
    first = !state_->detached;
    state_->detached = true;
  }
  if (first) {
    for (const auto& name : names_) engine_.remove_tool(name);
  }
  std::set<std::uint64_t> live;
  {
    std::lock_guard lock(state_->mutex);
    live = state_->live;
  }
  if (state_->vtbl->cancel != nullptr) {
    for (auto id : live) state_->vtbl->cancel(state_->instance, id);
  }
  std::unique_lock lock(state_->mutex);
  return state_->idle.wait_for(lock, grace, [this] { return state_->live.empty(); });
}

std::vector<std::string> ToolsComponent::tool_names() const { return names_; }

}  // namespace coda::plugins
