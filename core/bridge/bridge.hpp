#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <Poco/Dynamic/Var.h>

#include "core/bridge/http_endpoint.hpp"
#include "core/bridge/options.hpp"
#include "core/bridge/token_source.hpp"

// `coda bridge`: a stdio MCP server that forwards every message to a remote Streamable HTTP
// endpoint, so that stdio-only clients reach a deployed host (e.g. a Databricks App behind OAuth).
namespace coda::bridge {

// Receives one complete JSON-RPC message for stdout, without the newline.
using LineWriter = std::function<void(const std::string& line)>;
// Receives one diagnostic line for stderr. Never given a token.
using LogWriter = std::function<void(const std::string& line)>;

// Forwards one client message at a time (and several concurrently) to the endpoint, writing every
// message that comes back (SSE notifications first, then the response) through the LineWriter.
//   - Authorization: Bearer <token> from the token command; on 401, 403 or a redirect (a login page)
//     the token is refreshed and the message sent once more.
//   - Mcp-Session-Id is kept from the initialize response and sent afterwards; MCP-Protocol-Version
//     carries the negotiated version. A 404 on a session re-initializes (replaying the client's own
//     initialize) and sends the message once more.
//   - A request that fails gets a JSON-RPC error line (-32000) that says what failed; notifications
//     and responses never get a reply.
// Thread-safe: handle() may run concurrently; the writers are called one at a time.
class Bridge {
 public:
  Bridge(Options options, LineWriter out, LogWriter log);

  // Forwards one line from the client and blocks until everything it caused has been written.
  void handle(const std::string& line);
  // Ends the remote session, if there is one (DELETE, errors ignored).
  void close();

  // What handle() would do with a line, so that a reader can decide what to wait for.
  enum class Kind { kRequest, kInitialize, kNotification, kResponse, kBatch, kInvalid };
  static Kind classify(const std::string& line);

 private:
  struct Message;
  struct Sent;

  Sent send(const std::string& body, bool is_initialize, const HttpEndpoint::EventFn& on_event);
  bool reinitialize(std::uint64_t failed_generation);
  void deliver(const Message& message, const std::string& line, std::vector<bool>& answered);
  void remember_initialize_result(const Poco::Dynamic::Var& reply);
  void fail(const Message& message, const std::vector<bool>& answered, FailureKind kind,
            const std::string& what, int http_status = 0);
  void write(const std::string& line);
  std::string describe_status(const HttpReply& reply) const;

  Options options_;
  LineWriter out_;
  LogWriter log_;
  HttpEndpoint endpoint_;
  TokenSource tokens_;

  std::mutex write_mutex_;
  std::mutex reinit_mutex_;  // one re-initialization at a time
  std::mutex state_mutex_;   // guards the members below
  std::string session_id_;
  std::string protocol_version_;
  std::uint64_t session_generation_ = 0;
  std::optional<std::string> initialize_message_;  // the client's initialize, for a replay
  std::uint64_t replay_count_ = 0;
};

// Reads newline-delimited JSON-RPC from `in` until end of input and forwards it through a Bridge
// built from `options`: requests run concurrently (so that a long call does not hold back a ping or a
// cancellation); notifications, responses and initialize are sent in order. At the end of input it
// waits for the requests in flight, ends the session and returns 0.
int run_bridge(const Options& options, std::istream& in, LineWriter out, LogWriter log);

}  // namespace coda::bridge
