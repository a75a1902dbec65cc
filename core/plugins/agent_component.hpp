#pragma once

#include <memory>

#include "core/plugins/component_host.hpp"
#include "core/tasks/agent_backend.hpp"

// The adapter from an agent component instance (CODA_KIND_AGENT: coda_agent_vtbl_t + its instance) to
// the task engine's tasks::AgentBackend. Every call into the plugin is guarded (status + set_error
// detail; an exception is contained); the coda_task_events_t handed to the plugin for a run stays
// valid until its finished() returns.
namespace coda::plugins {

// A backend for `agent` (kind CODA_KIND_AGENT). The vtable and the instance must outlive the backend's
// last use: the runtime stops the task service before ComponentHost destroys the instances.
// Throws std::invalid_argument when `agent` is not an agent instance or its vtable lacks a function.
std::shared_ptr<tasks::AgentBackend> make_agent_backend(const ComponentInstanceRef& agent);

}  // namespace coda::plugins
