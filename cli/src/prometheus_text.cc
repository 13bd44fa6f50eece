// Prometheus text format parser.
#include "cli/src/prometheus_text.h"

#include <algorithm>
#include <charconv>
#include <limits>

namespace weft::cli {
namespace {

bool isNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool isNameChar(char c) { return isNameStart(c) || (c >= '0' && c <= '9'); }
bool isBlank(char c) { return c == ' ' || c == '\t'; }

// A cursor over one line; every method leaves `pos` after what it read.
struct Line {
  std::string_view text;
  std::size_t pos = 0;

  bool done() const { return pos >= text.size(); }
  char peek() const { return done() ? '\0' : text[pos]; }
  void skipBlanks() {
    while (!done() && isBlank(text[pos])) {
      ++pos;
    }
  }
  std::string_view name(bool allowColon) {
    std::size_t start = pos;
    if (!done() && isNameStart(text[pos]) && (allowColon || text[pos] != ':')) {
      ++pos;
      while (!done() && isNameChar(text[pos]) && (allowColon || text[pos] != ':')) {
        ++pos;
      }
    }
    return text.substr(start, pos - start);
  }
  std::string_view token() {
    std::size_t start = pos;
    while (!done() && !isBlank(text[pos])) {
      ++pos;
    }
    return text.substr(start, pos - start);
  }
};

Result<double> parseValue(std::string_view t) {
  if (t == "+Inf" || t == "Inf") {
    return std::numeric_limits<double>::infinity();
  }
  if (t == "-Inf") {
    return -std::numeric_limits<double>::infinity();
  }
  if (t == "NaN") {
    return std::numeric_limits<double>::quiet_NaN();
  }
  std::string_view digits = !t.empty() && t.front() == '+' ? t.substr(1) : t;
  double v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    return makeError(ErrorCode::kParse, "invalid value \"" + std::string(t.substr(0, 40)) + "\"");
  }
  return v;
}

Result<std::string> labelValue(Line& line) {
  if (line.peek() != '"') {
    return makeError(ErrorCode::kParse, "a label value must be quoted");
  }
  ++line.pos;
  std::string out;
  while (!line.done()) {
    char c = line.text[line.pos++];
    if (c == '"') {
      return out;
    }
    if (c != '\\') {
      out += c;
      continue;
    }
    char e = line.peek();
    ++line.pos;
    if (e == '\\' || e == '"') {
      out += e;
    } else if (e == 'n') {
      out += '\n';
    } else {
      return makeError(ErrorCode::kParse, std::string("invalid escape \\") + e);
    }
  }
  return makeError(ErrorCode::kParse, "unterminated label value");
}

Result<Sample> parseSample(std::string_view text) {
  Line line{text};
  Sample s;
  s.name = std::string(line.name(true));
  if (s.name.empty()) {
    return makeError(ErrorCode::kParse, "expected a metric name");
  }
  line.skipBlanks();
  if (line.peek() == '{') {
    ++line.pos;
    for (;;) {
      line.skipBlanks();
      if (line.peek() == '}') {
        ++line.pos;
        break;
      }
      std::string name(line.name(false));
      if (name.empty()) {
        return makeError(ErrorCode::kParse, "expected a label name");
      }
      line.skipBlanks();
      if (line.peek() != '=') {
        return makeError(ErrorCode::kParse, "expected = after label " + name);
      }
      ++line.pos;
      line.skipBlanks();
      auto value = labelValue(line);
      if (!value) {
        return value.error().context("label " + name);
      }
      if (std::any_of(s.labels.begin(), s.labels.end(),
                      [&](const auto& l) { return l.first == name; })) {
        return makeError(ErrorCode::kParse, "label " + name + " appears twice");
      }
      s.labels.emplace_back(std::move(name), std::move(*value));
      line.skipBlanks();
      if (line.peek() == ',') {
        ++line.pos;
      } else if (line.peek() != '}') {
        return makeError(ErrorCode::kParse, "expected , or } after a label");
      }
    }
  }
  line.skipBlanks();
  auto value = parseValue(line.token());
  if (!value) {
    return value.error();
  }
  s.value = *value;
  line.skipBlanks();
  if (!line.done()) {
    std::string_view ts = line.token();
    std::int64_t ignored = 0;
    auto [end, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), ignored);
    if (ec != std::errc() || end != ts.data() + ts.size()) {
      return makeError(ErrorCode::kParse,
                       "invalid timestamp \"" + std::string(ts.substr(0, 40)) + "\"");
    }
    line.skipBlanks();
    if (!line.done()) {
      return makeError(ErrorCode::kParse, "unexpected text after the timestamp");
    }
  }
  return s;
}

}  // namespace

const std::string& Sample::label(std::string_view labelName) const {
  static const std::string kEmpty;
  for (const auto& [k, v] : labels) {
    if (k == labelName) {
      return v;
    }
  }
  return kEmpty;
}

std::string Sample::key() const {
  auto sorted = labels;
  std::sort(sorted.begin(), sorted.end());
  std::string out = name + "{";
  for (const auto& [k, v] : sorted) {
    out += k + "=\"";
    for (char c : v) {
      out += c == '"' || c == '\\' ? std::string("\\") + c : c == '\n' ? "\\n" : std::string(1, c);
    }
    out += "\",";
  }
  out += "}";
  return out;
}

Result<std::vector<Sample>> parsePrometheusText(std::string_view text) {
  std::vector<Sample> out;
  std::size_t number = 0;
  while (!text.empty()) {
    ++number;
    auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    while (!line.empty() && isBlank(line.front())) {
      line.remove_prefix(1);
    }
    if (line.empty() || line.front() == '#') {
      continue;
    }
    auto sample = parseSample(line);
    if (!sample) {
      return sample.error().context("line " + std::to_string(number));
    }
    out.push_back(std::move(*sample));
  }
  return out;
}

}  // namespace weft::cli
