// libFuzzer target: one JSON-RPC message (or batch) into the MCP engine, under each protocol version.
// The first byte picks the version; the rest is the message. Every reply must be valid JSON and every
// message must get exactly one final reply.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& versions = coda::mcp::supported_protocol_versions();
  coda::mcp::RequestContext ctx;
  ctx.identity = coda::auth::Identity::local_user();
  ctx.transport = "fuzz";
  ctx.protocol_version = versions[data[0] % versions.size()];
  std::string_view message(reinterpret_cast<const char*>(data + 1), size - 1);
  coda::fuzz::dispatch_checked(ctx, message);
  return 0;
}
