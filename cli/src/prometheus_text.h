// Reading the Prometheus text exposition format (0.0.4) that every Weft
// admin endpoint serves: samples with their labels, nothing else.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace weft::cli {

struct Sample {
  std::string name;  // histogram series keep their suffix: _bucket, _sum, _count
  std::vector<std::pair<std::string, std::string>> labels;  // unescaped, as written
  double value = 0;

  // The value of label `labelName`, or "" (absent and empty are the same in Prometheus).
  const std::string& label(std::string_view labelName) const;
  // name{a="x",b="y"} with labels sorted: one key per series.
  std::string key() const;
};

// Parses a whole exposition. Comments (# HELP, # TYPE, others) and blank
// lines are skipped; values may be +Inf, -Inf or NaN; a timestamp after the
// value is allowed and ignored. A malformed line is an error naming its
// number and the problem.
Result<std::vector<Sample>> parsePrometheusText(std::string_view text);

}  // namespace weft::cli
