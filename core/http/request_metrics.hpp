#pragma once

#include <chrono>
#include <string_view>

#include "core/metrics/families.hpp"
#include "core/metrics/text_writer.hpp"

namespace coda::http {

// What the listener counts about requests: coda_http_requests_total{method,route,status} and
// coda_http_request_duration_seconds{route}. `route` is the mounted prefix that served the request
// (or would have, for a refused one), the built-in path (/healthz, /readyz), or "none". Methods
// outside the standard set count as "other", so every label comes from a small set. Thread-safe and
// lock-free (see core/metrics/families.hpp).
class RequestMetrics {
 public:
  RequestMetrics();

  // One finished request. WebSocket sessions (status 101) are counted but not timed: their duration
  // is the session's.
  void record(std::string_view method, std::string_view route, int status,
              std::chrono::steady_clock::duration duration);

  void write(metrics::TextWriter& out) const;

 private:
  metrics::CounterFamily requests_;
  metrics::HistogramFamily durations_;
};

// The method as a metric label: GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH, or "other".
std::string_view method_label(std::string_view method);

}  // namespace coda::http
