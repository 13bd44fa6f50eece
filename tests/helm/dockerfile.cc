// A small Dockerfile reader: line continuations, FROM ... AS, USER,
// ENTRYPOINT (exec or shell form) and `apt-get install` package lists.
#include "tests/helm/dockerfile.h"

#include <sstream>

#include "common/file.h"
#include "common/json/json.h"

namespace weft::test::helm {
namespace {

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) {
    out.push_back(w);
  }
  return out;
}

std::string upper(std::string s) {
  for (auto& c : s) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return s;
}

}  // namespace

bool nonRoot(const std::string& user) {
  std::string name = user.substr(0, user.find(':'));
  return !name.empty() && name != "root" && name != "0";
}

Result<std::map<std::string, DockerTarget>> dockerTargets(const std::string& path) {
  auto text = readFile(path);
  if (!text) {
    return text.error();
  }
  // Join continued lines, drop comments.
  std::vector<std::string> instructions;
  std::string current;
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);) {
    auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') {
      continue;
    }
    if (!line.empty() && line.back() == '\\') {
      current += line.substr(0, line.size() - 1) + " ";
      continue;
    }
    instructions.push_back(current + line);
    current.clear();
  }
  std::map<std::string, DockerTarget> stages;
  DockerTarget* stage = nullptr;
  int unnamed = 0;
  for (const auto& instruction : instructions) {
    auto w = words(instruction);
    std::string op = upper(w[0]);
    if (op == "FROM") {
      if (w.size() < 2) {
        return makeError(ErrorCode::kParse, path + ": FROM without an image");
      }
      std::string name =
          w.size() >= 4 && upper(w[2]) == "AS" ? w[3] : "#" + std::to_string(unnamed++);
      DockerTarget next;
      next.base = w[1];
      if (auto parent = stages.find(w[1]); parent != stages.end()) {
        next.user = parent->second.user;
        next.entrypoint = parent->second.entrypoint;
        next.packages = parent->second.packages;
      }
      stage = &(stages[name] = next);
    } else if (!stage) {
      return makeError(ErrorCode::kParse, path + ": " + op + " before FROM");
    } else if (op == "USER") {
      stage->user = w.size() > 1 ? w[1] : "";
    } else if (op == "ENTRYPOINT") {
      std::string rest = instruction.substr(instruction.find(w[0]) + w[0].size());
      auto exec = json::parse(rest);
      if (exec.ok() && exec->is_array() && !exec->empty() && (*exec)[0].is_string()) {
        stage->entrypoint = (*exec)[0].get<std::string>();
      } else {
        stage->entrypoint = w.size() > 1 ? w[1] : "";
      }
    } else if (op == "RUN") {
      for (std::size_t i = 0; i + 1 < w.size(); ++i) {
        if (w[i] == "apt-get" && w[i + 1] == "install") {
          for (std::size_t j = i + 2; j < w.size() && w[j] != "&&"; ++j) {
            if (w[j][0] != '-') {
              stage->packages.push_back(w[j]);
            }
          }
        }
      }
    }
  }
  return stages;
}

}  // namespace weft::test::helm
