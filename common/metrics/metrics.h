// Prometheus metrics: counters, gauges and histograms with bounded label
// sets, sharded per worker thread so the hot path never locks or contends.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace weft::metrics {

// Each worker thread calls this once with its own index; updates from that
// thread then touch only that shard's cache line. Other threads use shard 0.
void setThreadShard(unsigned shard);
unsigned threadShard();

namespace detail {
struct alignas(64) Cell {
  std::atomic<std::uint64_t> value{0};
};
// One value per shard; the reader sums them at scrape time.
class Shards {
 public:
  explicit Shards(unsigned n) : cells_(std::make_unique<Cell[]>(n)), n_(n) {}
  void add(std::uint64_t v) {
    cells_[threadShard() % n_].value.fetch_add(v, std::memory_order_relaxed);
  }
  std::uint64_t sum() const;

 private:
  std::unique_ptr<Cell[]> cells_;
  unsigned n_;
};
}  // namespace detail

class Counter {
 public:
  explicit Counter(unsigned shards) : shards_(shards) {}
  void inc(std::uint64_t n = 1) { shards_.add(n); }
  std::uint64_t value() const { return shards_.sum(); }

 private:
  detail::Shards shards_;
};

// add() may be called from any thread; set() is for gauges with one writer
// that only ever sets (do not mix the two on one gauge).
class Gauge {
 public:
  explicit Gauge(unsigned shards) : shards_(shards) {}
  void add(std::int64_t n) { shards_.add(static_cast<std::uint64_t>(n)); }
  void set(std::int64_t v) { base_.store(v, std::memory_order_relaxed); }
  std::int64_t value() const {
    return base_.load(std::memory_order_relaxed) + static_cast<std::int64_t>(shards_.sum());
  }

 private:
  detail::Shards shards_;
  std::atomic<std::int64_t> base_{0};
};

// Cumulative buckets with fixed upper bounds (seconds, bytes, ...).
class Histogram {
 public:
  Histogram(unsigned shards, const std::vector<double>& bounds);
  void observe(double v);
  // Per-bucket (non-cumulative) counts, the last one for +Inf.
  std::vector<std::uint64_t> bucketCounts() const;
  std::uint64_t count() const;
  double sum() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  struct alignas(64) ShardSum {
    std::atomic<double> value{0};
  };
  std::vector<double> bounds_;
  unsigned shards_;
  // shards_ x (bounds + 1) counters, one row per shard.
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
  std::unique_ptr<ShardSum[]> sums_;
  std::size_t row_;
};

enum class Type { kCounter, kGauge, kHistogram };

// A metric name with its label names; one series per distinct label values.
// Series are created on first use under a lock and never freed, so callers
// look them up once and keep the reference. Past maxSeries, new label values
// share one series whose labels all read "other" (bounded cardinality).
template <typename M>
class Family {
 public:
  M& with(const std::vector<std::string>& values);
  M& get() { return with({}); }

 private:
  friend class Registry;
  Family(std::string name, std::string help, std::vector<std::string> labels, std::size_t maxSeries,
         unsigned shards, std::vector<double> bounds)
      : name_(std::move(name)),
        help_(std::move(help)),
        labels_(std::move(labels)),
        maxSeries_(maxSeries),
        shards_(shards),
        bounds_(std::move(bounds)) {}
  struct Series {
    std::vector<std::string> values;
    std::unique_ptr<M> metric;
  };
  std::string name_;
  std::string help_;
  std::vector<std::string> labels_;
  std::size_t maxSeries_;
  unsigned shards_;
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<Series> series_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

// Latency buckets in seconds, from 1 ms to 30 s.
std::vector<double> latencyBuckets();

// Owns every family. Registration happens at startup; names must match
// weft_[a-z0-9_]* and be unique, or the process stops (a programming error).
class Registry {
 public:
  explicit Registry(unsigned shards = 1);
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  CounterFamily& counter(std::string name, std::string help, std::vector<std::string> labels = {},
                         std::size_t maxSeries = 1000);
  GaugeFamily& gauge(std::string name, std::string help, std::vector<std::string> labels = {},
                     std::size_t maxSeries = 1000);
  HistogramFamily& histogram(std::string name, std::string help, std::vector<double> bounds,
                             std::vector<std::string> labels = {}, std::size_t maxSeries = 200);

  // Prometheus text exposition format 0.0.4.
  std::string render() const;

 private:
  void checkName(const std::string& name, const std::vector<std::string>& labels);
  unsigned shards_;
  mutable std::mutex mu_;
  struct Entry;
  std::vector<std::unique_ptr<Entry>> entries_;
};

// Escapes a label value for the text format (backslash, quote, newline).
std::string escapeLabelValue(std::string_view v);

}  // namespace weft::metrics
