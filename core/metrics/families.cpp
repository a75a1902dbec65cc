#include "core/metrics/families.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <thread>

namespace coda::metrics {
namespace detail {
namespace {

std::size_t hash_values(std::initializer_list<std::string_view> values) {
  std::size_t h = 1469598103934665603ull;  // FNV-1a
  for (std::string_view v : values) {
    for (unsigned char c : v) {
      h ^= c;
      h *= 1099511628211ull;
    }
    h ^= 0xff;  // separator: ("ab","c") differs from ("a","bc")
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

template <class Value>
SeriesTable<Value>::SeriesTable(std::size_t label_count, std::size_t capacity)
    : label_count_(label_count),
      capacity_(std::max<std::size_t>(capacity, 1)),
      slots_(std::make_unique<Slot[]>(capacity_)),
      overflow_values_(label_count, "_overflow") {}

template <class Value>
bool SeriesTable<Value>::same(const Slot& slot, std::initializer_list<std::string_view> values) {
  std::size_t i = 0;
  for (std::string_view v : values) {
    if (slot.values[i++] != v) return false;
  }
  return true;
}

template <class Value>
Value& SeriesTable<Value>::find_or_add(std::initializer_list<std::string_view> values) {
  if (values.size() != label_count_) {
    throw std::invalid_argument("metrics: wrong number of label values");
  }
  std::size_t start = hash_values(values) % capacity_;
  for (std::size_t probe = 0; probe < capacity_; ++probe) {
    Slot& slot = slots_[(start + probe) % capacity_];
    int state = slot.state.load(std::memory_order_acquire);
    if (state == kEmpty) {
      int expected = kEmpty;
      if (slot.state.compare_exchange_strong(expected, kWriting, std::memory_order_acq_rel)) {
        slot.values.assign(values.begin(), values.end());
        slot.state.store(kReady, std::memory_order_release);
        return slot.value;
      }
      state = expected;
    }
    while (state == kWriting) {  // another thread is adding this slot: a few string copies
      std::this_thread::yield();
      state = slot.state.load(std::memory_order_acquire);
    }
    if (same(slot, values)) return slot.value;
  }
  overflow_used_.store(true, std::memory_order_release);
  return overflow_;
}

}  // namespace detail

CounterFamily::CounterFamily(std::string name, std::string help, std::vector<std::string> labels,
                             std::size_t capacity)
    : name_(std::move(name)),
      help_(std::move(help)),
      labels_(std::move(labels)),
      series_(labels_.size(), capacity) {}

void CounterFamily::add(std::initializer_list<std::string_view> label_values, uint64_t n) {
  series_.find_or_add(label_values).count.fetch_add(n, std::memory_order_relaxed);
}

uint64_t CounterFamily::value(std::initializer_list<std::string_view> label_values) const {
  return series_.find_or_add(label_values).count.load(std::memory_order_relaxed);
}

namespace {

std::vector<Label> make_labels(const std::vector<std::string>& names,
                               const std::vector<std::string>& values) {
  std::vector<Label> out;
  out.reserve(names.size() + 1);
  for (std::size_t i = 0; i < names.size(); ++i) out.emplace_back(names[i], values[i]);
  return out;
}

std::string format_bound(double bound) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", bound);
  return buffer;
}

}  // namespace

void CounterFamily::write(TextWriter& out) const {
  out.family(name_, "counter", help_);
  series_.for_each([&](const std::vector<std::string>& values, const Cell& cell) {
    out.sample(name_, make_labels(labels_, values), cell.count.load(std::memory_order_relaxed));
  });
}

HistogramFamily::HistogramFamily(std::string name, std::string help,
                                 std::vector<std::string> labels, std::vector<double> bounds,
                                 std::size_t capacity)
    : name_(std::move(name)),
      help_(std::move(help)),
      labels_(std::move(labels)),
      bounds_(std::move(bounds)),
      series_(labels_.size(), capacity) {
  if (bounds_.empty() || bounds_.size() > kMaxBuckets ||
      !std::is_sorted(bounds_.begin(), bounds_.end()) ||
      std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end()) {
    throw std::invalid_argument("histogram " + name_ + ": bounds must be 1 to " +
                                std::to_string(kMaxBuckets) + " increasing values");
  }
}

void HistogramFamily::observe(std::initializer_list<std::string_view> label_values, double value) {
  Cell& cell = series_.find_or_add(label_values);
  std::size_t bucket =
      static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                               bounds_.begin());  // le: value <= bound
  cell.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  cell.sum.fetch_add(value, std::memory_order_relaxed);
}

void HistogramFamily::write(TextWriter& out) const {
  out.family(name_, "histogram", help_);
  const std::string bucket_name = name_ + "_bucket";
  series_.for_each([&](const std::vector<std::string>& values, const Cell& cell) {
    auto labels = make_labels(labels_, values);
    uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
      cumulative += cell.buckets[i].load(std::memory_order_relaxed);
      std::string le = i < bounds_.size() ? format_bound(bounds_[i]) : "+Inf";
      auto with_le = labels;
      with_le.emplace_back("le", le);
      out.sample(bucket_name, with_le, cumulative);
    }
    out.sample(name_ + "_sum", labels, cell.sum.load(std::memory_order_relaxed));
    // _count from the same bucket reads, so it always equals the +Inf bucket.
    out.sample(name_ + "_count", labels, cumulative);
  });
}

std::vector<double> HistogramFamily::latency_bounds() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

}  // namespace coda::metrics
