#pragma once

#include <string_view>

namespace coda::mcp {

// Where the engine sends what it has to say about one dispatched message, or, for a connection's push
// sink, what it has to say later. OWNER: the transport (the engine holds a shared_ptr until the final
// send returns, or until close_connection() returns for a push sink).
// Thread-safety: the engine never overlaps calls for one message, but they may come from any thread.
class ReplySink {
 public:
  virtual ~ReplySink() = default;
  // A JSON-RPC notification tied to the message (progress, logging), or a push on a connection.
  virtual void notify(std::string_view json) = 0;
  // The last call for a dispatched message: the response (a JSON object, or an array for a batch), or
  // an empty view when the message needs none (a notification or a response). Called exactly once.
  virtual void finish(std::string_view json) = 0;
};

}  // namespace coda::mcp
