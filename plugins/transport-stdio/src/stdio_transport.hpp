#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include <coda/plugin.h>

// MCP over stdin/stdout: one JSON-RPC message per line in both directions (the MCP stdio transport).
namespace coda::stdio {

struct StdioConfig {
  // At end of input (the client closed our stdin or went away), ask the host to shut down once the
  // calls in flight have answered. The host is asked with SIGTERM to its own process: the same
  // orderly shutdown as an admin's SIGTERM, and no ABI addition.
  bool shutdown_on_eof = true;
  // A longer line is answered with a parse error and skipped.
  std::size_t max_line_bytes = 16u << 20;

  // Reads the component's config ({} for the defaults). Throws std::invalid_argument naming the key.
  static StdioConfig parse(std::string_view json);
};

// The transport instance. It takes the process's stdin and stdout when started: stdout is moved to a
// private descriptor for the protocol and descriptor 1 is pointed at stderr, so that nothing but
// protocol can ever reach the client (a stray print from any library lands in the log instead).
//
// Each line read is dispatched to the host at once (several calls may run concurrently); replies and
// notifications are written as whole lines, one at a time. The identity is the local user.
// start() and stop() are [control]; the rest runs on the reader thread and the host's reply threads.
class StdioTransport {
 public:
  StdioTransport(const coda_host_t* host, StdioConfig config);
  ~StdioTransport();
  StdioTransport(const StdioTransport&) = delete;
  StdioTransport& operator=(const StdioTransport&) = delete;

  coda_status_t start();
  // Stops reading, waits for the calls in flight (cancelling them after a grace period) and closes
  // the connection. Returns once no call into the host runs or will start from this transport.
  coda_status_t stop();

 private:
  struct Call;

  void read_loop();
  void handle_line(std::string_view line);
  void on_reply(Call* call, coda_str_t json, uint32_t flags);
  bool write_line(std::string_view json);
  void wait_for_calls(std::chrono::milliseconds grace);
  void input_ended(const std::string& why);
  std::string origin_json() const;

  static void push_send(void* ctx, coda_str_t json, uint32_t flags);
  static void call_send(void* ctx, coda_str_t json, uint32_t flags);

  const coda_host_t* host_;
  StdioConfig config_;
  int in_fd_ = 0;
  int out_fd_ = -1;
  int wake_[2] = {-1, -1};
  uint64_t conn_ = 0;
  coda_reply_sink_t push_sink_{};
  std::thread reader_;

  std::mutex write_mutex_;
  bool output_broken_ = false;

  mutable std::mutex mutex_;  // guards the members below
  std::condition_variable calls_done_;
  std::map<Call*, std::shared_ptr<Call>> calls_;
  std::string protocol_version_;
  bool stopping_ = false;
  bool started_ = false;
};

}  // namespace coda::stdio
