// FakeHeaderMap: an in-memory HeaderMap for route tests, keeping order and the case given.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "proxy/src/route/headers.h"

namespace weft::proxy::route {

class FakeHeaderMap final : public HeaderMap {
 public:
  FakeHeaderMap() = default;
  FakeHeaderMap(std::initializer_list<std::pair<std::string, std::string>> fields)
      : fields_(fields) {}

  std::optional<std::string_view> get(std::string_view name) const override {
    for (const auto& [n, v] : fields_) {
      if (equalsIgnoreCase(n, name)) {
        return std::string_view(v);
      }
    }
    return std::nullopt;
  }
  void set(std::string_view name, std::string_view value) override {
    remove(name);
    add(name, value);
  }
  void add(std::string_view name, std::string_view value) override {
    fields_.emplace_back(std::string(name), std::string(value));
  }
  void remove(std::string_view name) override {
    std::erase_if(fields_, [&](const auto& field) { return equalsIgnoreCase(field.first, name); });
  }

  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

}  // namespace weft::proxy::route
