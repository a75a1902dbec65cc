// libFuzzer target: one JSON-RPC message (or batch) into the MCP engine, under each protocol version.
// The first byte picks the version; the rest is the message. Every reply must be valid JSON and every
// message must get exactly one final reply. The same bytes also go to the reader of the origin JSON
// that transports pass with each message: it may refuse them (std::invalid_argument) but nothing else,
// and what it reads must survive a round trip through origin_json_of.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "core/mcp/origin.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

void check_origin(std::string_view text) {
  coda::mcp::RequestContext read;
  try {
    read = coda::mcp::context_from_origin_json(text, false);
  } catch (const std::invalid_argument&) {
    return;
  }
  auto again = coda::mcp::context_from_origin_json(coda::mcp::origin_json_of(read), false);
  if (again.transport != read.transport || again.connection != read.connection ||
      again.session_id != read.session_id || again.protocol_version != read.protocol_version ||
      again.request_id != read.request_id || again.base_url != read.base_url ||
      again.identity.subject != read.identity.subject || again.identity.email != read.identity.email ||
      again.identity.display_name != read.identity.display_name ||
      again.identity.admin != read.identity.admin ||
      again.identity.authenticated != read.identity.authenticated) {
    std::fprintf(stderr, "the origin did not survive a round trip\n");
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& versions = coda::mcp::supported_protocol_versions();
  coda::mcp::RequestContext ctx;
  ctx.identity = coda::auth::Identity::local_user();
  ctx.transport = "fuzz";
  ctx.protocol_version = versions[data[0] % versions.size()];
  std::string_view message(reinterpret_cast<const char*>(data + 1), size - 1);
  coda::fuzz::dispatch_checked(ctx, message);
  check_origin(message);
  return 0;
}
