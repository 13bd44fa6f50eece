// Internal to common/api: typed reads from a JSON object that record the first error with
// its JSON pointer, so the parsers read as a list of fields.
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/api/documents.h"
#include "common/api/json.h"

namespace weft::api::detail {

using json::Json;

// "/a/b" + "c" -> "/a/b/c", escaping '~' and '/' per RFC 6901.
std::string child(const std::string& path, std::string_view key);
std::string child(const std::string& path, std::size_t index);

template <typename E>
using EnumTable = std::initializer_list<std::pair<const char*, E>>;

class Reader {
 public:
  explicit Reader(const ParseOptions& options) : options_(options) {}

  // Records the first failure; always returns false so callers can `return r.fail(...)`.
  bool fail(const std::string& path, const std::string& message);
  bool failed() const { return error_.has_value(); }
  // The error prefixed with the document's name ("Outbound backend.demo:8080").
  Error error(const std::string& document) const;

  // `node` must be an object with only `known` members (when strict). Null counts as {}.
  bool object(const Json& node, const std::string& path, std::initializer_list<const char*> known);
  bool array(const Json& node, const std::string& path);

  // Optional members: absent or null leaves `out` as it is. Each validates its value.
  bool str(const Json& obj, const std::string& path, const char* key, std::string& out);
  bool integer(const Json& obj, const std::string& path, const char* key, std::int64_t min,
               std::int64_t max, std::int64_t& out);
  bool integer(const Json& obj, const std::string& path, const char* key, int min, int max,
               int& out);
  bool number(const Json& obj, const std::string& path, const char* key, double min, double max,
              double& out);
  bool boolean(const Json& obj, const std::string& path, const char* key, bool& out);
  // "" is accepted (as kNoTimeout) only when allowNone.
  bool duration(const Json& obj, const std::string& path, const char* key, bool allowNone,
                Duration& out);
  bool strings(const Json& obj, const std::string& path, const char* key,
               std::vector<std::string>& out);
  bool stringMap(const Json& obj, const std::string& path, const char* key,
                 std::map<std::string, std::string>& out);

  template <typename E>
  bool enumeration(const Json& obj, const std::string& path, const char* key,
                   std::type_identity_t<EnumTable<E>> table, E& out) {
    std::string text;
    if (!present(obj, key)) {
      return true;
    }
    if (!str(obj, path, key, text)) {
      return false;
    }
    std::string names;
    for (const auto& [name, value] : table) {
      if (text == name) {
        out = value;
        return true;
      }
      names += (names.empty() ? "" : ", ") + std::string(name);
    }
    return fail(child(path, key), "expected one of " + names + ", got \"" + text + "\"");
  }

  static bool present(const Json& obj, const char* key) {
    auto it = obj.find(key);
    return it != obj.end() && !it->is_null();
  }

 private:
  ParseOptions options_;
  std::optional<std::pair<std::string, std::string>> error_;  // path, message
};

// Field validators shared by both documents; false after recording the error.
bool checkRegex(Reader& r, const std::string& path, const std::string& pattern);
bool checkPathMatch(Reader& r, const std::string& path, const Json& node, PathMatch& out);
bool checkToken(Reader& r, const std::string& path, const std::string& value, const char* what);
bool checkSpiffe(Reader& r, const std::string& path, const std::string& value);
// The document's `version`: a string, or an integer (YAML users write version: 3).
bool readVersion(Reader& r, const Json& doc, std::string& out);

inline constexpr EnumTable<Protocol> kProtocols = {{"http", Protocol::kHttp},
                                                   {"tcp", Protocol::kTcp}};

}  // namespace weft::api::detail
