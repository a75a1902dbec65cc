#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace coda::http {

class Exchange;

// Answers the requests of one mounted path prefix. Implementations are thread-safe: handle() runs on
// listener worker threads, concurrently.
class RouteHandler {
 public:
  virtual ~RouteHandler() = default;
  // Answers one request. May block while streaming (SSE) or running a WebSocket. An exception that
  // escapes is logged and answered with 500 when nothing was sent yet.
  virtual void handle(Exchange& exchange) = 0;
};

// A route found by Router::find, with a guard that keeps unmount() of it waiting until the request is
// done. Move-only.
class RouteMatch {
 public:
  RouteMatch() = default;
  RouteMatch(RouteMatch&& other) noexcept;
  RouteMatch& operator=(RouteMatch&& other) noexcept;
  RouteMatch(const RouteMatch&) = delete;
  RouteMatch& operator=(const RouteMatch&) = delete;
  ~RouteMatch();

  explicit operator bool() const { return handler_ != nullptr; }
  RouteHandler& handler() const { return *handler_; }
  const std::string& prefix() const { return prefix_; }

 private:
  friend class Router;
  struct Entry;
  RouteMatch(std::shared_ptr<Entry> entry, std::shared_ptr<RouteHandler> handler, std::string prefix);
  void release();

  std::shared_ptr<Entry> entry_;
  std::shared_ptr<RouteHandler> handler_;
  std::string prefix_;
};

// Path-prefix routing for the host's single listener: MCP, the web UI and health share one port.
// A prefix "/mcp" matches "/mcp" and "/mcp/...", never "/mcpx"; "/" matches every path; the longest
// matching prefix wins. Thread-safe.
class Router {
 public:
  Router() = default;
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Mounts `handler` at `prefix` for `owner` (an opaque tag, e.g. the plugin's context; may be null).
  // Throws std::invalid_argument when the prefix is empty, does not start with '/', contains a query,
  // or is already mounted (the message names the prefix).
  void mount(std::string prefix, std::shared_ptr<RouteHandler> handler, const void* owner = nullptr);

  // Removes the route at `prefix` (a trailing '/' is ignored except for "/") if `owner` mounted it,
  // then waits until no request of it is running. Returns false when nothing was mounted there by
  // that owner. Must not be called from inside one of the route's own requests.
  bool unmount(std::string_view prefix, const void* owner = nullptr);

  // Unmounts every route of `owner` (waiting as unmount does). Returns how many were removed.
  std::size_t unmount_all(const void* owner);

  // The route for `path` (no query), or an empty match.
  RouteMatch find(std::string_view path) const;

  // Number of mounted routes.
  std::size_t size() const;

  // Normalised form of a prefix ("/mcp/" -> "/mcp"); throws like mount().
  static std::string normalize_prefix(std::string_view prefix);

 private:
  struct Mounted {
    std::shared_ptr<RouteMatch::Entry> entry;
    std::shared_ptr<RouteHandler> handler;
    const void* owner;
  };
  void wait_idle(const std::shared_ptr<RouteMatch::Entry>& entry);

  mutable std::mutex mutex_;
  std::map<std::string, Mounted, std::less<>> routes_;
};

// Per-route count of running requests (internal to Router and RouteMatch).
struct RouteMatch::Entry {
  std::mutex mutex;
  std::condition_variable idle;
  int running = 0;
};

}  // namespace coda::http
