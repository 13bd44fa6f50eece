// YAML <-> JSON conversion on yaml-cpp 0.7.
#include "common/yaml/yaml.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>

#include <yaml-cpp/yaml.h>

namespace weft::yaml {
namespace {

using json::Json;

constexpr int kMaxDepth = 128;

Error atMark(const YAML::Mark& mark, const std::string& message) {
  if (mark.is_null()) {
    return makeError(ErrorCode::kParse, message);
  }
  return makeError(ErrorCode::kParse, "line " + std::to_string(mark.line + 1) + ", column " +
                                          std::to_string(mark.column + 1) + ": " + message);
}

bool isNull(const std::string& s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

std::optional<bool> asBool(const std::string& s) {
  if (s == "true" || s == "True" || s == "TRUE") {
    return true;
  }
  if (s == "false" || s == "False" || s == "FALSE") {
    return false;
  }
  return std::nullopt;
}

bool allOf(std::string_view s, bool (*pred)(char)) {
  return !s.empty() && std::all_of(s.begin(), s.end(), pred);
}
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isOctal(char c) { return c >= '0' && c <= '7'; }
bool isHex(char c) { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// YAML 1.2 core schema integers: decimal, 0o octal, 0x hex. Hand-written
// rather than std::regex: this runs for every plain scalar of every manifest.
std::optional<Json> asInt(const std::string& s) {
  int base = 10;
  std::string digits;
  std::string_view body = s;
  if (!body.empty() && (body[0] == '-' || body[0] == '+')) {
    body.remove_prefix(1);
  }
  if (allOf(body, isDigit)) {
    digits = s[0] == '+' ? s.substr(1) : s;
  } else if (s.size() > 2 && s.compare(0, 2, "0o") == 0 && allOf(s.substr(2), isOctal)) {
    base = 8;
    digits = s.substr(2);
  } else if (s.size() > 2 && s.compare(0, 2, "0x") == 0 && allOf(s.substr(2), isHex)) {
    base = 16;
    digits = s.substr(2);
  } else {
    return std::nullopt;
  }
  if (!digits.empty() && digits[0] == '-') {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
    if (ec != std::errc() || p != digits.data() + digits.size()) {
      return std::nullopt;
    }
    return Json(v);
  }
  std::uint64_t u = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), u, base);
  if (ec != std::errc() || p != digits.data() + digits.size()) {
    return std::nullopt;
  }
  if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return Json(static_cast<std::int64_t>(u));
  }
  return Json(u);
}

// [-+]? ( "." [0-9]+ | [0-9]+ ( "." [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
bool looksLikeFloat(std::string_view s) {
  std::size_t i = 0;
  auto digitsFrom = [&](std::size_t from) {
    std::size_t j = from;
    while (j < s.size() && isDigit(s[j])) {
      ++j;
    }
    return j;
  };
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
    ++i;
  }
  std::size_t afterInt = digitsFrom(i);
  if (afterInt == i) {  // no integer part: needs "." and digits
    if (i >= s.size() || s[i] != '.') {
      return false;
    }
    std::size_t afterFrac = digitsFrom(i + 1);
    if (afterFrac == i + 1) {
      return false;
    }
    i = afterFrac;
  } else {
    i = afterInt;
    if (i < s.size() && s[i] == '.') {
      i = digitsFrom(i + 1);
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
      ++i;
    }
    std::size_t afterExp = digitsFrom(i);
    if (afterExp == i) {
      return false;
    }
    i = afterExp;
  }
  return i == s.size();
}

std::optional<double> asFloat(const std::string& s) {
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf" || s == "+.Inf" || s == "+.INF") {
    return std::numeric_limits<double>::infinity();
  }
  if (s == "-.inf" || s == "-.Inf" || s == "-.INF") {
    return -std::numeric_limits<double>::infinity();
  }
  if (s == ".nan" || s == ".NaN" || s == ".NAN") {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (!looksLikeFloat(s)) {
    return std::nullopt;
  }
  try {
    return std::stod(s);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// A plain scalar resolved by the core schema; quoted scalars are strings.
Json resolvePlain(const std::string& s) {
  if (isNull(s)) {
    return nullptr;
  }
  if (auto b = asBool(s)) {
    return *b;
  }
  if (auto i = asInt(s)) {
    return *i;
  }
  if (auto f = asFloat(s)) {
    return *f;
  }
  return s;
}

Result<Json> resolveTagged(const YAML::Node& node, const std::string& tag) {
  const std::string& s = node.Scalar();
  if (tag == "tag:yaml.org,2002:str" || tag == "!!str") {
    return Json(s);
  }
  if (tag == "tag:yaml.org,2002:int" || tag == "!!int") {
    if (auto i = asInt(s)) {
      return *i;
    }
    return atMark(node.Mark(), "'" + s + "' is not an integer");
  }
  if (tag == "tag:yaml.org,2002:float" || tag == "!!float") {
    if (auto f = asFloat(s)) {
      return Json(*f);
    }
    if (auto i = asInt(s)) {
      return Json(i->get<double>());
    }
    return atMark(node.Mark(), "'" + s + "' is not a number");
  }
  if (tag == "tag:yaml.org,2002:bool" || tag == "!!bool") {
    if (auto b = asBool(s)) {
      return Json(*b);
    }
    return atMark(node.Mark(), "'" + s + "' is not a boolean");
  }
  if (tag == "tag:yaml.org,2002:null" || tag == "!!null") {
    return Json(nullptr);
  }
  // Unknown local tags: keep the text, as Kubernetes does.
  return Json(s);
}

Result<Json> toJson(const YAML::Node& node, int depth) {
  if (depth > kMaxDepth) {
    return atMark(node.Mark(), "nesting deeper than " + std::to_string(kMaxDepth) + " levels");
  }
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return Json(nullptr);
    case YAML::NodeType::Scalar: {
      const std::string& tag = node.Tag();
      if (tag == "!") {  // quoted or block scalar
        return Json(node.Scalar());
      }
      if (tag.empty() || tag == "?") {
        return resolvePlain(node.Scalar());
      }
      return resolveTagged(node, tag);
    }
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const auto& item : node) {
        auto v = toJson(item, depth + 1);
        if (!v) {
          return v;
        }
        out.push_back(std::move(*v));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) {
          return atMark(kv.first.Mark(), "mapping keys must be scalars");
        }
        const std::string& key = kv.first.Scalar();
        if (out.contains(key)) {
          return atMark(kv.first.Mark(), "duplicate key '" + key + "'");
        }
        auto v = toJson(kv.second, depth + 1);
        if (!v) {
          return v;
        }
        out[key] = std::move(*v);
      }
      return out;
    }
  }
  return Json(nullptr);
}

// Would this string read back as something other than the same string?
bool needsQuotes(const std::string& s) {
  if (s.empty()) {
    return true;
  }
  Json resolved = resolvePlain(s);
  if (!resolved.is_string()) {
    return true;
  }
  // Legacy YAML 1.1 booleans that other parsers (and kubectl) still honour.
  static const std::set<std::string> kLegacy = {"y",  "Y",   "yes", "Yes", "YES", "n",
                                                "N",  "no",  "No",  "NO",  "on",  "On",
                                                "ON", "off", "Off", "OFF"};
  return kLegacy.count(s) > 0;
}

void emit(YAML::Emitter& out, const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
    case Json::value_t::discarded:
      out << YAML::Null;
      break;
    case Json::value_t::boolean:
      out << (v.get<bool>() ? "true" : "false");
      break;
    case Json::value_t::number_integer:
      out << v.get<std::int64_t>();
      break;
    case Json::value_t::number_unsigned:
      out << v.get<std::uint64_t>();
      break;
    case Json::value_t::number_float: {
      double d = v.get<double>();
      if (std::isnan(d)) {
        out << ".nan";
      } else if (std::isinf(d)) {
        out << (d > 0 ? ".inf" : "-.inf");
      } else {
        // The shortest text that reads back as the same double, always with a
        // '.' or exponent so it stays a float.
        std::string text = Json(d).dump();
        if (text.find_first_of(".eE") == std::string::npos) {
          text += ".0";
        }
        out << text;
      }
      break;
    }
    case Json::value_t::string: {
      const auto& s = v.get_ref<const std::string&>();
      if (needsQuotes(s)) {
        out << YAML::DoubleQuoted << s;
      } else {
        out << s;
      }
      break;
    }
    case Json::value_t::array:
      if (v.empty()) {
        out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
        break;
      }
      out << YAML::BeginSeq;
      for (const auto& item : v) {
        emit(out, item);
      }
      out << YAML::EndSeq;
      break;
    case Json::value_t::object:
      if (v.empty()) {
        out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        break;
      }
      out << YAML::BeginMap;
      for (const auto& [key, item] : v.items()) {
        out << YAML::Key;
        if (needsQuotes(key)) {
          out << YAML::DoubleQuoted << key;
        } else {
          out << key;
        }
        out << YAML::Value;
        emit(out, item);
      }
      out << YAML::EndMap;
      break;
    case Json::value_t::binary:
      out << YAML::Null;
      break;
  }
}

}  // namespace

Result<std::vector<json::Json>> parseAll(std::string_view text) {
  std::vector<YAML::Node> nodes;
  try {
    nodes = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    return atMark(e.mark, e.msg);
  }
  std::vector<json::Json> out;
  for (const auto& node : nodes) {
    if (node.IsNull()) {
      continue;
    }
    try {
      auto doc = toJson(node, 0);
      if (!doc) {
        return doc.error();
      }
      out.push_back(std::move(*doc));
    } catch (const YAML::Exception& e) {
      return atMark(e.mark, e.msg);
    }
  }
  return out;
}

Result<json::Json> parseOne(std::string_view text) {
  auto docs = parseAll(text);
  if (!docs) {
    return docs.error();
  }
  if (docs->size() != 1) {
    return makeError(ErrorCode::kParse,
                     "expected exactly one YAML document, found " + std::to_string(docs->size()));
  }
  return std::move(docs->front());
}

std::string dump(const json::Json& value) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  out.SetMapFormat(YAML::Block);
  emit(out, value);
  std::string text = out.c_str();
  if (text.empty() || text.back() != '\n') {
    text += '\n';
  }
  return text;
}

std::string dumpAll(const std::vector<json::Json>& documents) {
  std::string out;
  for (std::size_t i = 0; i < documents.size(); ++i) {
    if (i > 0) {
      out += "---\n";
    }
    out += dump(documents[i]);
  }
  return out;
}

}  // namespace weft::yaml
