// Typed, validating reads from JSON objects for the api parsers.
#include "common/api/json_reader.h"

#include <cmath>
#include <regex>

namespace weft::api::detail {
namespace {

// Bounds what a document may make us compile or store.
constexpr std::size_t kMaxRegexBytes = 1024;

std::string describe(const Json& node) {
  if (node.is_string()) {
    std::string s = node.get<std::string>();
    if (s.size() > 64) {
      s = s.substr(0, 64) + "...";
    }
    return "\"" + s + "\"";
  }
  if (node.is_number() || node.is_boolean()) {
    return json::dump(node);
  }
  return node.type_name();
}

bool isTchar(char c) {
  static const std::string kExtra = "!#$%&'*+-.^_`|~";
  return std::isalnum(static_cast<unsigned char>(c)) || kExtra.find(c) != std::string::npos;
}

}  // namespace

std::string child(const std::string& path, std::string_view key) {
  std::string out = path + "/";
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string child(const std::string& path, std::size_t index) {
  return path + "/" + std::to_string(index);
}

bool Reader::fail(const std::string& path, const std::string& message) {
  if (!error_) {
    error_.emplace(path.empty() ? "/" : path, message);
  }
  return false;
}

Error Reader::error(const std::string& document) const {
  if (!error_) {
    return makeError(ErrorCode::kInternal, document + ": unknown error");
  }
  return makeError(ErrorCode::kInvalidArgument,
                   document + ": " + error_->first + ": " + error_->second);
}

bool Reader::object(const Json& node, const std::string& path,
                    std::initializer_list<const char*> known) {
  if (node.is_null()) {
    return true;
  }
  if (!node.is_object()) {
    return fail(path, std::string("expected an object, got ") + describe(node));
  }
  if (options_.rejectUnknownFields) {
    for (const auto& [key, value] : node.items()) {
      bool found = false;
      for (const char* k : known) {
        found = found || key == k;
      }
      if (!found) {
        return fail(child(path, key), "unknown field");
      }
    }
  }
  return true;
}

bool Reader::array(const Json& node, const std::string& path) {
  if (!node.is_array()) {
    return fail(path, std::string("expected an array, got ") + describe(node));
  }
  return true;
}

bool Reader::str(const Json& obj, const std::string& path, const char* key, std::string& out) {
  if (!present(obj, key)) {
    return true;
  }
  const Json& v = obj.at(key);
  if (!v.is_string()) {
    return fail(child(path, key), "expected a string, got " + describe(v));
  }
  out = v.get<std::string>();
  return true;
}

bool Reader::integer(const Json& obj, const std::string& path, const char* key, std::int64_t min,
                     std::int64_t max, std::int64_t& out) {
  if (!present(obj, key)) {
    return true;
  }
  const Json& v = obj.at(key);
  const std::string expected = max == INT64_MAX ? "expected an integer >= " + std::to_string(min)
                                                : "expected an integer in " + std::to_string(min) +
                                                      ".." + std::to_string(max);
  if (v.is_number_unsigned()) {
    std::uint64_t u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(max)) {
      return fail(child(path, key), expected + ", got " + describe(v));
    }
    out = static_cast<std::int64_t>(u);
  } else if (v.is_number_integer()) {
    out = v.get<std::int64_t>();
  } else {
    return fail(child(path, key), expected + ", got " + describe(v));
  }
  if (out < min || out > max) {
    return fail(child(path, key), expected + ", got " + describe(v));
  }
  return true;
}

bool Reader::integer(const Json& obj, const std::string& path, const char* key, int min, int max,
                     int& out) {
  std::int64_t v = out;
  if (!integer(obj, path, key, static_cast<std::int64_t>(min), static_cast<std::int64_t>(max), v)) {
    return false;
  }
  out = static_cast<int>(v);
  return true;
}

bool Reader::number(const Json& obj, const std::string& path, const char* key, double min,
                    double max, double& out) {
  if (!present(obj, key)) {
    return true;
  }
  const Json& v = obj.at(key);
  auto fmt = [](double d) {
    std::string s = json::dump(Json(d));
    return s;
  };
  const std::string expected = std::isinf(max)
                                   ? "expected a number >= " + fmt(min)
                                   : "expected a number in " + fmt(min) + ".." + fmt(max);
  if (!v.is_number()) {
    return fail(child(path, key), expected + ", got " + describe(v));
  }
  double d = v.get<double>();
  if (!std::isfinite(d) || d < min || d > max) {
    return fail(child(path, key), expected + ", got " + describe(v));
  }
  out = d;
  return true;
}

bool Reader::boolean(const Json& obj, const std::string& path, const char* key, bool& out) {
  if (!present(obj, key)) {
    return true;
  }
  const Json& v = obj.at(key);
  if (!v.is_boolean()) {
    return fail(child(path, key), "expected true or false, got " + describe(v));
  }
  out = v.get<bool>();
  return true;
}

bool Reader::duration(const Json& obj, const std::string& path, const char* key, bool allowNone,
                      Duration& out) {
  if (!present(obj, key)) {
    return true;
  }
  const Json& v = obj.at(key);
  const char* expected = allowNone ? "expected a duration (\"1s\", \"250ms\") or \"\" for none"
                                   : "expected a duration (\"1s\", \"250ms\")";
  if (!v.is_string()) {
    return fail(child(path, key), std::string(expected) + ", got " + describe(v));
  }
  const std::string text = v.get<std::string>();
  if (text.empty() && allowNone) {
    out = kNoTimeout;
    return true;
  }
  auto d = parseDuration(text);
  if (!d) {
    return fail(child(path, key), d.error().message);
  }
  if (!allowNone && *d == Duration::zero()) {
    return fail(child(path, key), "expected a duration > 0");
  }
  out = *d;
  return true;
}

bool Reader::strings(const Json& obj, const std::string& path, const char* key,
                     std::vector<std::string>& out) {
  if (!present(obj, key)) {
    return true;
  }
  const Json& v = obj.at(key);
  const std::string p = child(path, key);
  if (!array(v, p)) {
    return false;
  }
  out.clear();
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) {
      return fail(child(p, i), "expected a string, got " + describe(v[i]));
    }
    out.push_back(v[i].get<std::string>());
  }
  return true;
}

bool Reader::stringMap(const Json& obj, const std::string& path, const char* key,
                       std::map<std::string, std::string>& out) {
  if (!present(obj, key)) {
    return true;
  }
  const Json& v = obj.at(key);
  const std::string p = child(path, key);
  if (!v.is_object()) {
    return fail(p, "expected an object of strings, got " + describe(v));
  }
  out.clear();
  for (const auto& [k, value] : v.items()) {
    if (!value.is_string()) {
      return fail(child(p, k), "expected a string, got " + describe(value));
    }
    out[k] = value.get<std::string>();
  }
  return true;
}

bool checkRegex(Reader& r, const std::string& path, const std::string& pattern) {
  if (pattern.size() > kMaxRegexBytes) {
    return r.fail(path,
                  "regular expression longer than " + std::to_string(kMaxRegexBytes) + " bytes");
  }
  try {
    std::regex re(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return r.fail(path, "invalid regular expression: " + std::string(e.what()));
  }
  return true;
}

bool checkPathMatch(Reader& r, const std::string& path, const Json& node, PathMatch& out) {
  if (!node.is_object()) {
    return r.fail(path, "expected an object {type, value}, got " + describe(node));
  }
  if (!r.object(node, path, {"type", "value"}) ||
      !r.enumeration<PathMatchType>(node, path, "type",
                                    {{"Exact", PathMatchType::kExact},
                                     {"PathPrefix", PathMatchType::kPathPrefix},
                                     {"RegularExpression", PathMatchType::kRegularExpression}},
                                    out.type) ||
      !r.str(node, path, "value", out.value)) {
    return false;
  }
  if (out.type == PathMatchType::kRegularExpression) {
    return checkRegex(r, child(path, "value"), out.value);
  }
  if (out.value.empty() || out.value.front() != '/') {
    return r.fail(child(path, "value"), "expected a path starting with \"/\"");
  }
  return true;
}

bool checkToken(Reader& r, const std::string& path, const std::string& value, const char* what) {
  if (value.empty() || value.size() > 256 ||
      !std::all_of(value.begin(), value.end(), [](char c) { return isTchar(c); })) {
    return r.fail(path, std::string("expected ") + what + " (an HTTP token), got \"" +
                            value.substr(0, 64) + "\"");
  }
  return true;
}

bool checkSpiffe(Reader& r, const std::string& path, const std::string& value) {
  if (value.rfind("spiffe://", 0) != 0 || value.size() <= 9 || value.size() > 2048) {
    return r.fail(path, "expected a SPIFFE ID (spiffe://trust-domain/...), got \"" +
                            value.substr(0, 64) + "\"");
  }
  return true;
}

bool readVersion(Reader& r, const Json& doc, std::string& out) {
  if (!Reader::present(doc, "version")) {
    return true;
  }
  const Json& v = doc.at("version");
  if (v.is_number_integer()) {
    out = json::dump(v);
    return true;
  }
  return r.str(doc, "", "version", out);
}

}  // namespace weft::api::detail
