// Sharded metric storage and Prometheus text rendering.
#include "common/metrics/metrics.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <variant>

#include <fmt/format.h>

namespace weft::metrics {
namespace {

thread_local unsigned tShard = 0;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "metrics: %s\n", message.c_str());
  std::abort();
}

bool validName(std::string_view n) {
  if (n.empty() || !(n[0] == '_' || (n[0] >= 'a' && n[0] <= 'z') || (n[0] >= 'A' && n[0] <= 'Z'))) {
    return false;
  }
  for (char c : n) {
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
      return false;
    }
  }
  return true;
}

std::string formatDouble(double v) {
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  if (std::isnan(v)) {
    return "NaN";
  }
  return fmt::format("{}", v);
}

void appendLabels(std::string& out, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, std::string_view extraName = {},
                  std::string_view extraValue = {}) {
  if (names.empty() && extraName.empty()) {
    return;
  }
  out += '{';
  bool first = true;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!first) {
      out += ',';
    }
    first = false;
    out += names[i];
    out += "=\"";
    out += escapeLabelValue(values[i]);
    out += '"';
  }
  if (!extraName.empty()) {
    if (!first) {
      out += ',';
    }
    out += extraName;
    out += "=\"";
    out += extraValue;
    out += '"';
  }
  out += '}';
}

}  // namespace

void setThreadShard(unsigned shard) { tShard = shard; }
unsigned threadShard() { return tShard; }

std::uint64_t detail::Shards::sum() const {
  std::uint64_t s = 0;
  for (unsigned i = 0; i < n_; ++i) {
    s += cells_[i].value.load(std::memory_order_relaxed);
  }
  return s;
}

Histogram::Histogram(unsigned shards, const std::vector<double>& bounds)
    : bounds_(bounds),
      shards_(shards),
      // Round each shard's row up to a cache line so shards never share one.
      row_(((bounds.size() + 1) + 7) / 8 * 8) {
  counts_ = std::make_unique<std::atomic<std::uint64_t>[]>(row_ * shards_);
  sums_ = std::make_unique<ShardSum[]>(shards_);
  for (std::size_t i = 0; i < row_ * shards_; ++i) {
    counts_[i].store(0, std::memory_order_relaxed);
  }
}

void Histogram::observe(double v) {
  std::size_t b = 0;
  while (b < bounds_.size() && v > bounds_[b]) {
    ++b;
  }
  unsigned s = threadShard() % shards_;
  counts_[s * row_ + b].fetch_add(1, std::memory_order_relaxed);
  sums_[s].value.fetch_add(v, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::bucketCounts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1, 0);
  for (unsigned s = 0; s < shards_; ++s) {
    for (std::size_t b = 0; b < out.size(); ++b) {
      out[b] += counts_[s * row_ + b].load(std::memory_order_relaxed);
    }
  }
  return out;
}

std::uint64_t Histogram::count() const {
  std::uint64_t n = 0;
  for (auto c : bucketCounts()) {
    n += c;
  }
  return n;
}

double Histogram::sum() const {
  double s = 0;
  for (unsigned i = 0; i < shards_; ++i) {
    s += sums_[i].value.load(std::memory_order_relaxed);
  }
  return s;
}

template <typename M>
M& Family<M>::with(const std::vector<std::string>& values) {
  std::lock_guard lock(mu_);
  if (values.size() != labels_.size()) {
    die(fmt::format("{}: {} label values for {} labels", name_, values.size(), labels_.size()));
  }
  for (auto& s : series_) {
    if (s.values == values) {
      return *s.metric;
    }
  }
  std::vector<std::string> key = values;
  if (series_.size() >= maxSeries_) {
    key.assign(labels_.size(), "other");
    for (auto& s : series_) {
      if (s.values == key) {
        return *s.metric;
      }
    }
  }
  std::unique_ptr<M> m;
  if constexpr (std::is_same_v<M, Histogram>) {
    m = std::make_unique<M>(shards_, bounds_);
  } else {
    m = std::make_unique<M>(shards_);
  }
  series_.push_back(Series{std::move(key), std::move(m)});
  return *series_.back().metric;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

std::vector<double> latencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

struct Registry::Entry {
  Type type;
  std::variant<std::unique_ptr<CounterFamily>, std::unique_ptr<GaugeFamily>,
               std::unique_ptr<HistogramFamily>>
      family;
};

Registry::Registry(unsigned shards) : shards_(shards == 0 ? 1 : shards) {}
Registry::~Registry() = default;

void Registry::checkName(const std::string& name, const std::vector<std::string>& labels) {
  if (name.rfind("weft_", 0) != 0 || !validName(name)) {
    die("bad metric name '" + name + "'");
  }
  std::set<std::string> seen;
  for (const auto& l : labels) {
    if (!validName(l) || l == "le" || !seen.insert(l).second) {
      die("bad label '" + l + "' on " + name);
    }
  }
  for (const auto& e : entries_) {
    std::visit(
        [&](const auto& f) {
          if (f->name_ == name) {
            die("duplicate metric " + name);
          }
        },
        e->family);
  }
}

CounterFamily& Registry::counter(std::string name, std::string help,
                                 std::vector<std::string> labels, std::size_t maxSeries) {
  std::lock_guard lock(mu_);
  checkName(name, labels);
  auto f = std::unique_ptr<CounterFamily>(new CounterFamily(
      std::move(name), std::move(help), std::move(labels), maxSeries, shards_, {}));
  auto& ref = *f;
  entries_.push_back(std::make_unique<Entry>(Entry{Type::kCounter, std::move(f)}));
  return ref;
}

GaugeFamily& Registry::gauge(std::string name, std::string help, std::vector<std::string> labels,
                             std::size_t maxSeries) {
  std::lock_guard lock(mu_);
  checkName(name, labels);
  auto f = std::unique_ptr<GaugeFamily>(
      new GaugeFamily(std::move(name), std::move(help), std::move(labels), maxSeries, shards_, {}));
  auto& ref = *f;
  entries_.push_back(std::make_unique<Entry>(Entry{Type::kGauge, std::move(f)}));
  return ref;
}

HistogramFamily& Registry::histogram(std::string name, std::string help, std::vector<double> bounds,
                                     std::vector<std::string> labels, std::size_t maxSeries) {
  std::lock_guard lock(mu_);
  checkName(name, labels);
  for (std::size_t i = 1; i < bounds.size(); ++i) {
    if (!(bounds[i] > bounds[i - 1])) {
      die("histogram bounds of " + name + " must increase");
    }
  }
  auto f = std::unique_ptr<HistogramFamily>(new HistogramFamily(
      std::move(name), std::move(help), std::move(labels), maxSeries, shards_, std::move(bounds)));
  auto& ref = *f;
  entries_.push_back(std::make_unique<Entry>(Entry{Type::kHistogram, std::move(f)}));
  return ref;
}

std::string Registry::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  out.reserve(4096);
  for (const auto& e : entries_) {
    std::visit(
        [&](const auto& f) {
          using F = std::decay_t<decltype(*f)>;
          std::lock_guard flock(f->mu_);
          const char* type = e->type == Type::kCounter ? "counter"
                             : e->type == Type::kGauge ? "gauge"
                                                       : "histogram";
          out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f->name_, f->help_, f->name_, type);
          for (const auto& s : f->series_) {
            if constexpr (std::is_same_v<F, HistogramFamily>) {
              auto counts = s.metric->bucketCounts();
              std::uint64_t cumulative = 0;
              for (std::size_t b = 0; b < counts.size(); ++b) {
                cumulative += counts[b];
                out += f->name_;
                out += "_bucket";
                appendLabels(out, f->labels_, s.values, "le",
                             b < f->bounds_.size() ? formatDouble(f->bounds_[b]) : "+Inf");
                out += fmt::format(" {}\n", cumulative);
              }
              out += f->name_ + "_sum";
              appendLabels(out, f->labels_, s.values);
              out += " " + formatDouble(s.metric->sum()) + "\n";
              out += f->name_ + "_count";
              appendLabels(out, f->labels_, s.values);
              out += fmt::format(" {}\n", cumulative);
            } else {
              out += f->name_;
              appendLabels(out, f->labels_, s.values);
              out += fmt::format(" {}\n", s.metric->value());
            }
          }
        },
        e->family);
  }
  return out;
}

std::string escapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace weft::metrics
