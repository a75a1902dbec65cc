#include "core/metrics/families.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/metrics/text_writer.hpp"

namespace coda::metrics {
namespace {

std::string render(const CounterFamily& family) {
  TextWriter out;
  family.write(out);
  return out.take();
}

TEST(CounterFamily, ConcurrentAddsFromManyThreadsAreAllCounted) {
  CounterFamily family("t_total", "help", {"method", "status"}, 64);
  const std::vector<std::string> statuses = {"200", "404", "500", "201", "202"};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) family.add({"GET", statuses[(i + t) % statuses.size()]});
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& status : statuses) EXPECT_EQ(family.value({"GET", status}), 8u * 1000u);
  EXPECT_EQ(family.value({"POST", "200"}), 0u);
}

TEST(CounterFamily, RenderingWhileThreadsAddNewSeriesSeesOnlyCompleteOnes) {
  CounterFamily counters("t_total", "help", {"k"}, 512);
  HistogramFamily latencies("t_seconds", "help", {"k"}, HistogramFamily::latency_bounds(), 512);
  std::atomic<bool> done{false};
  std::atomic<bool> reading{false};
  std::thread reader([&] {
    do {
      reading = true;  // the writers wait for this: renders overlap their inserts
      TextWriter out;
      counters.write(out);
      latencies.write(out);
      for (std::size_t pos = 0; (pos = out.text().find("{k=\"", pos)) != std::string::npos; ++pos) {
        // Every rendered label value is a whole "T-I" key, never a half-written one.
        auto end = out.text().find('"', pos + 4);
        ASSERT_NE(end, std::string::npos);
        std::string value = out.text().substr(pos + 4, end - pos - 4);
        auto dash = value.find('-');
        ASSERT_TRUE(dash != std::string::npos && dash > 0 && dash + 1 < value.size()) << value;
      }
    } while (!done.load());
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      while (!reading.load()) std::this_thread::yield();
      for (int i = 0; i < 100; ++i) {
        std::string key = std::to_string(t) + "-" + std::to_string(i);
        counters.add({key});
        latencies.observe({key}, 0.01 * i);
      }
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  reader.join();
  TextWriter out;
  counters.write(out);
  EXPECT_EQ(std::count(out.text().begin(), out.text().end(), '\n'), 2 + 400);
}

TEST(CounterFamily, LabelValuesAreComparedWholeNotConcatenated) {
  CounterFamily family("t_total", "help", {"a", "b"});
  family.add({"ab", "c"});
  family.add({"a", "bc"}, 5);
  EXPECT_EQ(family.value({"ab", "c"}), 1u);
  EXPECT_EQ(family.value({"a", "bc"}), 5u);
}

TEST(CounterFamily, AFullFamilyCountsTheRestAsOverflow) {
  CounterFamily family("t_total", "help", {"k"}, 2);
  family.add({"one"});
  family.add({"two"});
  family.add({"three"});
  family.add({"four"}, 2);
  std::string text = render(family);
  EXPECT_NE(text.find("t_total{k=\"one\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("t_total{k=\"_overflow\"} 3\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("three"), std::string::npos) << text;
}

TEST(CounterFamily, WrongNumberOfLabelValuesIsRefused) {
  CounterFamily family("t_total", "help", {"a", "b"});
  EXPECT_THROW(family.add({"x"}), std::invalid_argument);
}

TEST(CounterFamily, WritesHelpTypeAndEscapedLabels) {
  CounterFamily family("t_total", "Counts \\ things\nacross lines.", {"path"});
  family.add({"a\"b\\c\nd"});
  EXPECT_EQ(render(family),
            "# HELP t_total Counts \\\\ things\\nacross lines.\n"
            "# TYPE t_total counter\n"
            "t_total{path=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(HistogramFamily, BucketsAreCumulativeAndBoundsInclusive) {
  HistogramFamily family("t_seconds", "help", {"route"}, {0.1, 1, 10});
  family.observe({"/mcp"}, 0.05);
  family.observe({"/mcp"}, 0.1);  // le="0.1" includes 0.1
  family.observe({"/mcp"}, 5);
  family.observe({"/mcp"}, 100);
  TextWriter out;
  family.write(out);
  // 0.05 + 0.1 + 5 + 100 in double arithmetic, as the text format writes it.
  char expected_sum[32];
  std::snprintf(expected_sum, sizeof expected_sum, "%.15g", ((0.05 + 0.1) + 5.0) + 100.0);
  if (std::strtod(expected_sum, nullptr) != ((0.05 + 0.1) + 5.0) + 100.0) {
    std::snprintf(expected_sum, sizeof expected_sum, "%.17g", ((0.05 + 0.1) + 5.0) + 100.0);
  }
  EXPECT_EQ(out.text(), std::string("# HELP t_seconds help\n") +
                            "# TYPE t_seconds histogram\n"
                            "t_seconds_bucket{route=\"/mcp\",le=\"0.1\"} 2\n"
                            "t_seconds_bucket{route=\"/mcp\",le=\"1\"} 2\n"
                            "t_seconds_bucket{route=\"/mcp\",le=\"10\"} 3\n"
                            "t_seconds_bucket{route=\"/mcp\",le=\"+Inf\"} 4\n"
                            "t_seconds_sum{route=\"/mcp\"} " +
                            expected_sum +
                            "\n"
                            "t_seconds_count{route=\"/mcp\"} 4\n");
}

TEST(HistogramFamily, BoundsMustIncrease) {
  EXPECT_THROW(HistogramFamily("h", "help", {}, {}), std::invalid_argument);
  EXPECT_THROW(HistogramFamily("h", "help", {}, {1, 1}), std::invalid_argument);
  EXPECT_THROW(HistogramFamily("h", "help", {}, {2, 1}), std::invalid_argument);
  EXPECT_THROW(HistogramFamily("h", "help", {}, std::vector<double>(25, 1)), std::invalid_argument);
  EXPECT_NO_THROW(HistogramFamily("h", "help", {}, HistogramFamily::latency_bounds()));
}

TEST(TextWriter, ValuesAreIntegersOrDoublesThatReadBackExactly) {
  TextWriter out;
  out.family("g", "gauge", "help");
  out.sample("g", {{"a", "1"}}, static_cast<uint64_t>(42));
  out.sample("g", {{"a", "2"}}, 0.25);
  out.sample("g", {}, std::numeric_limits<double>::infinity());
  EXPECT_EQ(out.text(), "# HELP g help\n# TYPE g gauge\ng{a=\"1\"} 42\ng{a=\"2\"} 0.25\ng +Inf\n");
}

}  // namespace
}  // namespace coda::metrics
