// Config file loading: text -> documents -> validated Snapshot.
#include "proxy/src/config/loader.h"

#include <cstdio>
#include <map>

#include "common/api/json.h"
#include "common/file.h"
#include "common/yaml/yaml.h"

namespace weft::proxy::config {
namespace {

std::string contentVersion(std::string_view text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return std::string("file:") + buf;
}

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

Result<SnapshotPtr> loadText(std::string_view text, const std::string& name, bool json) {
  std::vector<json::Json> docs;
  if (json) {
    auto parsed = json::parse(text);
    if (!parsed) {
      return parsed.error().context(name);
    }
    if (parsed->is_array()) {
      docs.assign(parsed->begin(), parsed->end());
    } else {
      docs.push_back(std::move(parsed).value());
    }
  } else {
    auto parsed = yaml::parseAll(text);
    if (!parsed) {
      return parsed.error().context(name);
    }
    docs = std::move(parsed).value();
  }

  std::vector<api::Outbound> outbounds;
  std::optional<api::Inbound> inbound;
  std::size_t inboundIndex = 0;
  // Every authority and alias, to the 1-based document that claimed it first.
  std::map<std::string, std::size_t> claimed;
  for (std::size_t i = 0; i < docs.size(); ++i) {
    const std::string where = name + ": document " + std::to_string(i + 1);
    auto doc = api::documentFromJson(docs[i]);
    if (!doc) {
      return doc.error().context(where);
    }
    if (auto* in = std::get_if<api::Inbound>(&*doc)) {
      if (inbound) {
        return makeError(ErrorCode::kInvalidArgument, where + ": Inbound " + in->pod +
                                                          ": a second Inbound (document " +
                                                          std::to_string(inboundIndex) +
                                                          " is the first); a proxy serves one pod");
      }
      inbound = std::move(*in);
      inboundIndex = i + 1;
      continue;
    }
    auto& out = std::get<api::Outbound>(*doc);
    // parseAuthority cannot fail here: the document was validated.
    auto claim = [&](const std::string& authority, const std::string& field) -> Result<void> {
      auto key = api::parseAuthority(authority);
      auto [it, inserted] = claimed.emplace(key ? key->str() : authority, i + 1);
      if (!inserted && it->second != i + 1) {
        return makeError(ErrorCode::kInvalidArgument,
                         where + ": Outbound " + out.authority + ": " + field + ": " + authority +
                             " is already claimed by document " + std::to_string(it->second));
      }
      return {};
    };
    if (auto r = claim(out.authority, "/authority"); !r) {
      return r.error();
    }
    for (std::size_t a = 0; a < out.aliases.size(); ++a) {
      if (auto r = claim(out.aliases[a], "/aliases/" + std::to_string(a)); !r) {
        return r.error();
      }
    }
    outbounds.push_back(std::move(out));
  }
  auto snapshot = Snapshot::build(std::move(outbounds), std::move(inbound), contentVersion(text));
  if (!snapshot) {
    return snapshot.error().context(name);
  }
  return snapshot;
}

Result<SnapshotPtr> loadFile(const std::string& path) {
  auto text = readFile(path, kMaxConfigBytes);
  if (!text) {
    return text.error();
  }
  return loadText(*text, path, endsWith(path, ".json"));
}

}  // namespace weft::proxy::config
