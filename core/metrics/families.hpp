#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/metrics/text_writer.hpp"

// Labelled counters and histograms that request threads update without a lock: a family keeps its
// series in a fixed-capacity, insert-only hash table; finding a series hashes the label values and
// compares them in place (no allocation), adding one claims an empty slot with a compare-and-swap,
// and updating it is a relaxed atomic add. Label values must come from small, bounded sets (HTTP
// methods, route prefixes, states): when a family is full, further label sets all count in one
// series whose label values are "_overflow".
namespace coda::metrics {

namespace detail {

// The insert-only table behind a family. Value must be default-constructible; it is never moved.
template <class Value>
class SeriesTable {
 public:
  SeriesTable(std::size_t label_count, std::size_t capacity);

  // The series for `values` (exactly label_count of them), added when new. Thread-safe, lock-free
  // except for a brief wait when another thread is adding the same slot.
  Value& find_or_add(std::initializer_list<std::string_view> values);

  // Calls f(label values, value) for every series, in slot order. Thread-safe with find_or_add.
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i < capacity_; ++i) {
      const Slot& slot = slots_[i];
      if (slot.state.load(std::memory_order_acquire) == kReady) f(slot.values, slot.value);
    }
    if (overflow_used_.load(std::memory_order_acquire)) f(overflow_values_, overflow_);
  }

 private:
  enum : int { kEmpty = 0, kWriting = 1, kReady = 2 };
  struct Slot {
    std::atomic<int> state{kEmpty};
    std::vector<std::string> values;  // written once, before state becomes kReady
    Value value;
  };
  static bool same(const Slot& slot, std::initializer_list<std::string_view> values);

  std::size_t label_count_;
  std::size_t capacity_;
  std::unique_ptr<Slot[]> slots_;
  std::vector<std::string> overflow_values_;
  Value overflow_;
  std::atomic<bool> overflow_used_{false};
};

}  // namespace detail

// A monotonically increasing count per label set ("_total" names). Thread-safe.
class CounterFamily {
 public:
  // `labels` are the label names, in the order add() takes their values.
  CounterFamily(std::string name, std::string help, std::vector<std::string> labels,
                std::size_t capacity = 256);

  void add(std::initializer_list<std::string_view> label_values, uint64_t n = 1);
  // The current value of one series (adding it, at 0, when it does not exist yet).
  uint64_t value(std::initializer_list<std::string_view> label_values) const;

  void write(TextWriter& out) const;

 private:
  struct Cell {
    std::atomic<uint64_t> count{0};
  };
  std::string name_, help_;
  std::vector<std::string> labels_;
  mutable detail::SeriesTable<Cell> series_;
};

// A distribution per label set with fixed upper bounds (a Prometheus histogram: cumulative buckets,
// _sum and _count). Thread-safe.
class HistogramFamily {
 public:
  static constexpr std::size_t kMaxBuckets = 24;

  // `bounds`: increasing upper bounds, at most kMaxBuckets (+Inf is implied). Throws
  // std::invalid_argument otherwise.
  HistogramFamily(std::string name, std::string help, std::vector<std::string> labels,
                  std::vector<double> bounds, std::size_t capacity = 64);

  void observe(std::initializer_list<std::string_view> label_values, double value);

  void write(TextWriter& out) const;

  // Request latencies in seconds: 1 ms to 60 s.
  static std::vector<double> latency_bounds();

 private:
  struct Cell {
    std::array<std::atomic<uint64_t>, kMaxBuckets + 1> buckets{};  // not cumulative; last: +Inf
    std::atomic<double> sum{0.0};
  };
  std::string name_, help_;
  std::vector<std::string> labels_;
  std::vector<double> bounds_;
  mutable detail::SeriesTable<Cell> series_;
};

}  // namespace coda::metrics
