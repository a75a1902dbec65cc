#include "core/http/request_metrics.hpp"

#include <array>
#include <cstdio>
#include <string>

namespace coda::http {

std::string_view method_label(std::string_view method) {
  static constexpr std::array<std::string_view, 7> kKnown = {"GET",    "HEAD",    "POST", "PUT",
                                                             "DELETE", "OPTIONS", "PATCH"};
  for (std::string_view known : kKnown) {
    if (method == known) return known;
  }
  return "other";
}

RequestMetrics::RequestMetrics()
    : requests_("coda_http_requests_total",
                "HTTP requests answered by the listener, by method, route prefix and status.",
                {"method", "route", "status"}, 512),
      durations_("coda_http_request_duration_seconds",
                 "Time from the request's headers to the end of its response (streams included; "
                 "WebSocket sessions excluded), by route prefix.",
                 {"route"}, metrics::HistogramFamily::latency_bounds(), 64) {}

void RequestMetrics::record(std::string_view method, std::string_view route, int status,
                            std::chrono::steady_clock::duration duration) {
  char code[8];
  int n = std::snprintf(code, sizeof code, "%d", status);
  std::string_view status_label(code, n > 0 ? static_cast<std::size_t>(n) : 0);
  requests_.add({method_label(method), route, status_label});
  if (status != 101) {
    durations_.observe({route}, std::chrono::duration<double>(duration).count());
  }
}

void RequestMetrics::write(metrics::TextWriter& out) const {
  requests_.write(out);
  durations_.write(out);
}

}  // namespace coda::http
