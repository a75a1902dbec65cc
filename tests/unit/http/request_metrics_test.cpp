#include "core/http/request_metrics.hpp"

#include <gtest/gtest.h>

#include <string>

namespace coda::http {
namespace {

using namespace std::chrono_literals;

TEST(RequestMetrics, UnknownMethodsShareOneLabel) {
  EXPECT_EQ(method_label("GET"), "GET");
  EXPECT_EQ(method_label("PATCH"), "PATCH");
  EXPECT_EQ(method_label("get"), "other");
  EXPECT_EQ(method_label("PROPFIND"), "other");
  EXPECT_EQ(method_label(std::string(5000, 'X')), "other");
}

TEST(RequestMetrics, CountsEveryRequestAndTimesAllButWebSockets) {
  RequestMetrics metrics;
  metrics.record("POST", "/mcp", 200, 3ms);
  metrics.record("POST", "/mcp", 200, 40ms);
  metrics.record("BREW", "/mcp", 405, 1ms);
  metrics.record("GET", "/ui", 101, 3600s);
  metrics::TextWriter out;
  metrics.write(out);
  const std::string& text = out.text();
  EXPECT_NE(
      text.find("coda_http_requests_total{method=\"POST\",route=\"/mcp\",status=\"200\"} 2\n"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find("coda_http_requests_total{method=\"other\",route=\"/mcp\",status=\"405\"} 1\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("coda_http_requests_total{method=\"GET\",route=\"/ui\",status=\"101\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("coda_http_request_duration_seconds_count{route=\"/mcp\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("coda_http_request_duration_seconds_bucket{route=\"/mcp\",le=\"0.005\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("coda_http_request_duration_seconds_count{route=\"/ui\"}"), std::string::npos)
      << "a WebSocket session is no request latency";
}

}  // namespace
}  // namespace coda::http
