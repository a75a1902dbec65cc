#pragma once

#include <string>
#include <string_view>

#include "core/mcp/tool.hpp"

// The origin of a message as JSON, the form it takes across the plugin ABI (coda_host_t.dispatch and
// coda_tools_vtbl_t.call): {"transport", "conn", "identity", "session_id", "protocol_version",
// "request_id"}.
namespace coda::mcp {

// Reads an origin. Missing members keep their defaults; a missing identity is the local user when
// `default_local_user` is true (hosts without authentication), else an unauthenticated empty one.
// Throws std::invalid_argument when the text is not a JSON object or a member has the wrong type.
RequestContext context_from_origin_json(std::string_view origin_json, bool default_local_user = true);

// Writes an origin (the inverse of context_from_origin_json).
std::string origin_json_of(const RequestContext& ctx);

}  // namespace coda::mcp
