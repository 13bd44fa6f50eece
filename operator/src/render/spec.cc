// Checked spec reads for render/.
#include "operator/src/render/spec.h"

#include <regex>

#include "common/api/duration.h"

namespace weft::op::render::spec {

Error invalid(const std::string& path, const std::string& message) {
  return makeError(ErrorCode::kInvalidArgument, path + ": " + message);
}

Result<void> object(const Json& value, const std::string& path,
                    std::initializer_list<const char*> known) {
  if (!value.is_object()) {
    return invalid(path, "must be an object");
  }
  for (const auto& [k, v] : value.items()) {
    bool ok = false;
    for (const char* name : known) {
      ok = ok || k == name;
    }
    if (!ok) {
      return invalid(path + "." + k, "unknown field");
    }
  }
  return okResult();
}

Result<std::string> string(const Json& value, const std::string& path) {
  if (!value.is_string()) {
    return invalid(path, "must be a string");
  }
  return value.get<std::string>();
}

Result<std::int64_t> integer(const Json& value, const std::string& path, std::int64_t min,
                             std::int64_t max) {
  if (!value.is_number_integer() ||
      (value.is_number_unsigned() &&
       value.get<std::uint64_t>() > static_cast<std::uint64_t>(max))) {
    return invalid(path,
                   "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  std::int64_t v = value.get<std::int64_t>();
  if (v < min || v > max) {
    return invalid(path,
                   "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return v;
}

Result<double> number(const Json& value, const std::string& path, double min, double max) {
  if (!value.is_number()) {
    return invalid(path, "must be a number");
  }
  double v = value.get<double>();
  if (!(v >= min && v <= max)) {
    return invalid(path,
                   "must be a number from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return v;
}

Result<bool> boolean(const Json& value, const std::string& path) {
  if (!value.is_boolean()) {
    return invalid(path, "must be true or false");
  }
  return value.get<bool>();
}

Result<std::string> duration(const Json& value, const std::string& path, bool allowNone) {
  auto s = string(value, path);
  if (!s) {
    return s.error();
  }
  if (s->empty()) {
    if (allowNone) {
      return std::string();
    }
    return invalid(path, "must be a duration such as 1s or 250ms");
  }
  auto d = api::parseDuration(*s);
  if (!d) {
    return invalid(path, d.error().message);
  }
  return api::formatDuration(*d);
}

Result<std::string> oneOf(const Json& value, const std::string& path,
                          std::initializer_list<const char*> names) {
  std::string all;
  for (const char* n : names) {
    if (value.is_string() && value.get<std::string>() == n) {
      return std::string(n);
    }
    all += (all.empty() ? "" : ", ") + std::string(n);
  }
  return invalid(path, "must be one of " + all);
}

Result<Json> pathMatch(const Json& value, const std::string& path) {
  if (auto r = object(value, path, {"type", "value"}); !r) {
    return r.error();
  }
  std::string type = "PathPrefix";
  if (value.contains("type")) {
    auto t = oneOf(value["type"], path + ".type", {"Exact", "PathPrefix", "RegularExpression"});
    if (!t) {
      return t.error();
    }
    type = *t;
  }
  std::string v = "/";
  if (value.contains("value")) {
    auto s = string(value["value"], path + ".value");
    if (!s) {
      return s.error();
    }
    v = *s;
  }
  if (v.size() > 1024) {
    return invalid(path + ".value", "longer than 1024 characters");
  }
  if (type == "RegularExpression") {
    try {
      std::regex re(v, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return invalid(path + ".value", std::string("not a valid regular expression: ") + e.what());
    }
  } else if (v.empty() || v[0] != '/') {
    return invalid(path + ".value", "must start with /");
  }
  return Json{{"type", type}, {"value", v}};
}

namespace {

bool validDnsLabel(const std::string& s) {
  static const std::regex kLabel("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  return std::regex_match(s, kLabel);
}

}  // namespace

Result<ServiceRef> serviceRef(const Json& v, const std::string& path, bool portRequired) {
  if (auto r = object(v, path, {"group", "kind", "name", "port"}); !r) {
    return r.error();
  }
  if (v.contains("group") && !(v["group"].is_string() && v["group"].get<std::string>().empty())) {
    return invalid(path + ".group", "must be \"\" (the core group)");
  }
  if (v.contains("kind")) {
    if (auto k = oneOf(v["kind"], path + ".kind", {"Service"}); !k) {
      return k.error();
    }
  }
  if (!v.contains("name")) {
    return invalid(path + ".name", "is required");
  }
  auto name = string(v["name"], path + ".name");
  if (!name) {
    return name.error();
  }
  if (!validDnsLabel(*name)) {
    return invalid(path + ".name", "must be a Service name (a DNS label)");
  }
  ServiceRef ref{*name, 0};
  if (v.contains("port")) {
    auto p = integer(v["port"], path + ".port", 1, 65535);
    if (!p) {
      return p.error();
    }
    ref.port = *p;
  } else if (portRequired) {
    return invalid(path + ".port", "is required");
  }
  return ref;
}

}  // namespace weft::op::render::spec
