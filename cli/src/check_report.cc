// Text and JSON forms of a check report.
#include "cli/src/check_report.h"

#include <ostream>

#include <nlohmann/json.hpp>

namespace weft::cli {

const char* toString(CheckStatus status) {
  switch (status) {
    case CheckStatus::kOk:
      return "ok";
    case CheckStatus::kWarning:
      return "warning";
    case CheckStatus::kFailed:
      return "failed";
    case CheckStatus::kSkipped:
      return "skipped";
  }
  return "failed";
}

void CheckReport::ok(std::string name, std::string message) {
  add({std::move(name), CheckStatus::kOk, std::move(message), {}});
}

void CheckReport::warn(std::string name, std::string message, std::string fix) {
  add({std::move(name), CheckStatus::kWarning, std::move(message), std::move(fix)});
}

void CheckReport::fail(std::string name, std::string message, std::string fix) {
  add({std::move(name), CheckStatus::kFailed, std::move(message), std::move(fix)});
}

void CheckReport::skip(std::string name, std::string message) {
  add({std::move(name), CheckStatus::kSkipped, std::move(message), {}});
}

bool CheckReport::failed() const {
  for (const auto& r : results_) {
    if (r.status == CheckStatus::kFailed) {
      return true;
    }
  }
  return false;
}

void CheckReport::printText(std::ostream& out, bool ascii) const {
  int counts[4] = {0, 0, 0, 0};
  for (const auto& r : results_) {
    ++counts[static_cast<int>(r.status)];
    switch (r.status) {
      case CheckStatus::kOk:
        out << (ascii ? "[ok]   " : "✔ ") << r.name;
        if (!r.message.empty()) {
          out << " (" << r.message << ")";
        }
        break;
      case CheckStatus::kWarning:
        out << (ascii ? "[warn] " : "⚠ ") << r.name << ": " << r.message;
        break;
      case CheckStatus::kFailed:
        out << (ascii ? "[FAIL] " : "✖ ") << r.name << ": " << r.message;
        break;
      case CheckStatus::kSkipped:
        out << (ascii ? "[skip] " : "- ") << r.name << ": " << r.message;
        break;
    }
    out << "\n";
    if (!r.fix.empty()) {
      out << (ascii ? "       fix: " : "  fix: ") << r.fix << "\n";
    }
  }
  out << "\n"
      << counts[static_cast<int>(CheckStatus::kOk)] << " ok, "
      << counts[static_cast<int>(CheckStatus::kWarning)] << " warning(s), "
      << counts[static_cast<int>(CheckStatus::kFailed)] << " failed, "
      << counts[static_cast<int>(CheckStatus::kSkipped)] << " skipped\n";
}

void CheckReport::printJson(std::ostream& out, const std::string& ns) const {
  using OJson = nlohmann::ordered_json;
  OJson checks = OJson::array();
  OJson summary = {{"ok", 0}, {"warning", 0}, {"failed", 0}, {"skipped", 0}};
  for (const auto& r : results_) {
    OJson c = {{"name", r.name}, {"status", toString(r.status)}, {"message", r.message}};
    if (!r.fix.empty()) {
      c["fix"] = r.fix;
    }
    checks.push_back(std::move(c));
    summary[toString(r.status)] = summary[toString(r.status)].get<int>() + 1;
  }
  OJson doc = {{"ok", !failed()}, {"namespace", ns}, {"summary", summary}, {"checks", checks}};
  // Messages may quote bytes from the network: replace invalid UTF-8, never throw.
  out << doc.dump(2, ' ', false, OJson::error_handler_t::replace) << "\n";
}

}  // namespace weft::cli
