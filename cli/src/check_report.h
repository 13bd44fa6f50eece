// What `weftctl check` found, one line per check, as text for people or JSON
// for scripts.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace weft::cli {

enum class CheckStatus { kOk, kWarning, kFailed, kSkipped };

struct CheckResult {
  std::string name;
  CheckStatus status = CheckStatus::kOk;
  std::string message;  // what was found (details when ok, the problem otherwise)
  std::string fix;      // what to do; empty when ok
};

// The checks in the order they ran. Exit code 1 when any failed: warnings
// and skipped checks do not fail a run.
class CheckReport {
 public:
  void add(CheckResult result) { results_.push_back(std::move(result)); }
  void ok(std::string name, std::string message = {});
  void warn(std::string name, std::string message, std::string fix);
  void fail(std::string name, std::string message, std::string fix);
  void skip(std::string name, std::string message);

  const std::vector<CheckResult>& results() const { return results_; }
  bool failed() const;
  int exitCode() const { return failed() ? 1 : 0; }

  // `✔ name (detail)`, `✖ name: problem` + `  fix: ...`; with `ascii`,
  // [ok] / [FAIL] / [warn] / [skip] instead of the symbols.
  void printText(std::ostream& out, bool ascii) const;
  // {"ok":bool,"namespace":...,"summary":{...},"checks":[{name,status,message,fix}]}
  void printJson(std::ostream& out, const std::string& ns) const;

 private:
  std::vector<CheckResult> results_;
};

const char* toString(CheckStatus status);

}  // namespace weft::cli
