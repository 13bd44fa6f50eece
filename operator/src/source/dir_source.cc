// DirSource: parse every manifest file, diff against what was sent, emit.
#include "operator/src/source/dir_source.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "common/json/json.h"
#include "common/log/log.h"
#include "common/yaml/yaml.h"

namespace weft::op::source {

namespace fs = std::filesystem;
using json::Json;

struct DirSource::FileState {
  // What identifies a version of the file without reading it.
  std::int64_t mtimeNs = -1;
  std::int64_t ctimeNs = -1;
  std::int64_t size = -1;
  std::uint64_t inode = 0;
  // Last objects read successfully: (kind, object as written in the file).
  std::map<std::string, std::pair<Kind, Json>> objects;  // by "Kind|ns/name"
  std::uint64_t version = 0;                             // bumped whenever `objects` is replaced
  std::string problem;                                   // non-empty while the file is broken
  std::vector<std::string> duplicates;
};

struct DirSource::Emitted {
  Kind kind = Kind::kMesh;
  // Hashes of the object as in the file and of its spec: enough to tell a
  // change, without keeping a third copy of every object.
  std::uint64_t rawHash = 0;
  std::uint64_t specHash = 0;
  ObjectPtr object;
  std::string origin;
  std::uint64_t originVersion = 0;
};

namespace {

std::int64_t toNs(const struct timespec& ts) {
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

bool isManifest(const fs::path& p) {
  std::string name = p.filename().string();
  // The identity tokens file (operator/src/identity/token_review.h) is no manifest.
  if (name.empty() || name[0] == '.' || name == "identity-tokens.yaml") {
    return false;
  }
  std::string ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

bool validName(const std::string& s) {
  if (s.empty() || s.size() > 253) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

// The objects of one parsed document (a List contributes its items).
Result<void> collect(const Json& doc, std::vector<std::pair<Kind, Json>>& out,
                     std::vector<std::string>& skipped) {
  if (!doc.is_object()) {
    return makeError(ErrorCode::kInvalidArgument, "a document is not an object");
  }
  auto apiVersion = json::getStringOr(doc, "/apiVersion", "");
  auto kind = json::getStringOr(doc, "/kind", "");
  if (!apiVersion || !kind) {
    return makeError(ErrorCode::kInvalidArgument, "apiVersion and kind must be strings");
  }
  if (*kind == "List" || (kind->size() > 4 && kind->ends_with("List"))) {
    auto items = json::getArray(doc, "/items");
    if (!items) {
      return items.error();
    }
    for (const Json& item : *items) {
      if (auto r = collect(item, out, skipped); !r) {
        return r;
      }
    }
    return okResult();
  }
  auto k = kindOf(*apiVersion, *kind);
  if (!k) {
    skipped.push_back(*apiVersion + " " + *kind);
    return okResult();
  }
  auto name = json::getStringOr(doc, "/metadata/name", "");
  if (!name || !validName(*name)) {
    return makeError(ErrorCode::kInvalidArgument,
                     *kind + ": metadata.name must be a DNS subdomain name");
  }
  Json obj = doc;
  // The operator writes the status of its own kinds; a Pod's status is the
  // kubelet's report (container states), which here only the file can give.
  if (*k != Kind::kPod) {
    obj.erase("status");
  }
  Json& meta = obj["metadata"];
  if (isClusterScoped(*k)) {
    meta.erase("namespace");
  } else {
    auto ns = json::getStringOr(doc, "/metadata/namespace", "default");
    if (!ns || !validName(*ns) || ns->find('.') != std::string::npos) {
      return makeError(ErrorCode::kInvalidArgument,
                       *kind + " " + *name + ": metadata.namespace must be a DNS label");
    }
    meta["namespace"] = *ns;
  }
  for (const char* f : {"resourceVersion", "generation", "uid"}) {
    meta.erase(f);
  }
  out.emplace_back(*k, std::move(obj));
  return okResult();
}

Result<std::vector<std::pair<Kind, Json>>> parseFile(const std::string& path,
                                                     std::vector<std::string>& skipped) {
  auto text = readFile(path, 16u << 20);
  if (!text) {
    return text.error();
  }
  std::vector<Json> docs;
  if (path.ends_with(".json")) {
    auto doc = json::parse(*text);
    if (!doc) {
      return doc.error();
    }
    docs.push_back(std::move(*doc));
  } else {
    auto all = yaml::parseAll(*text);
    if (!all) {
      return all.error();
    }
    docs = std::move(*all);
  }
  std::vector<std::pair<Kind, Json>> out;
  for (const Json& d : docs) {
    if (auto r = collect(d, out, skipped); !r) {
      return r.error();
    }
  }
  return out;
}

std::uint64_t fnv(const std::string& text) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// Everything that is not metadata or status: what bumps the generation.
std::uint64_t specHash(const Json& obj) {
  std::uint64_t h = 0;
  for (const auto& [k, v] : obj.items()) {
    if (k != "metadata" && k != "status") {
      h = h * 31 + fnv(k + "=" + json::dump(v));
    }
  }
  return h;
}

}  // namespace

Result<std::unique_ptr<DirSource>> DirSource::create(DirSourceOptions options) {
  std::error_code ec;
  if (!fs::is_directory(options.path, ec)) {
    return makeError(ErrorCode::kInvalidArgument, options.path + ": not a directory");
  }
  return std::unique_ptr<DirSource>(new DirSource(std::move(options)));
}

DirSource::DirSource(DirSourceOptions options) : options_(std::move(options)) {}

DirSource::~DirSource() { stop(); }

Result<void> DirSource::start(Sink& sink) {
  sink_ = &sink;
  wakeFd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  scanNow();
  sink.synced();
  thread_ = std::thread([this] { loop(); });
  return okResult();
}

void DirSource::stop() {
  {
    std::lock_guard lock(stopMutex_);
    stopping_ = true;
  }
  stopCv_.notify_all();
  if (wakeFd_ >= 0) {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wakeFd_, &one, sizeof one);
  }
  if (thread_.joinable()) {
    thread_.join();
  }
  if (wakeFd_ >= 0) {
    ::close(wakeFd_);
    wakeFd_ = -1;
  }
}

void DirSource::loop() {
  // inotify wakes us as soon as a file is written or renamed into place; the
  // poll timeout still rescans on its own (other filesystems, missed events).
  int notify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (notify >= 0 && inotify_add_watch(notify, options_.path.c_str(),
                                       IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                           IN_CREATE | IN_ATTRIB) < 0) {
    ::close(notify);
    notify = -1;
  }
  for (;;) {
    {
      std::unique_lock lock(stopMutex_);
      if (stopping_) {
        break;
      }
      if (notify < 0 || wakeFd_ < 0) {
        stopCv_.wait_for(lock, options_.pollInterval, [this] { return stopping_; });
        if (stopping_) {
          break;
        }
      }
    }
    if (notify >= 0 && wakeFd_ >= 0) {
      pollfd fds[2] = {{notify, POLLIN, 0}, {wakeFd_, POLLIN, 0}};
      ::poll(fds, 2, static_cast<int>(options_.pollInterval.count()));
      if (fds[1].revents != 0) {
        break;  // stop()
      }
      char buf[4096];
      while (::read(notify, buf, sizeof buf) > 0) {
      }
    }
    scanNow();
  }
  if (notify >= 0) {
    ::close(notify);
  }
}

std::vector<std::string> DirSource::problems() const {
  std::lock_guard lock(problemsMutex_);
  return problems_;
}

void DirSource::scanNow() {
  std::lock_guard lock(scanMutex_);
  scanLocked();
}

void DirSource::scanLocked() {
  auto logger = log::get("operator.source.dir");
  auto started = std::chrono::steady_clock::now();
  std::error_code ec;
  std::set<std::string> present;
  for (fs::directory_iterator it(options_.path, ec), end; !ec && it != end; it.increment(ec)) {
    if (isManifest(it->path())) {
      present.insert(it->path().string());
    }
  }
  if (ec) {
    // The folder itself went away or is unreadable: keep what we have.
    logger->warn("cannot list {}: {}", options_.path, ec.message());
    return;
  }
  // Only the objects of files that changed are looked at again, so one edit
  // costs the size of that file, not of the folder.
  std::set<std::string> affected;
  bool problemsChanged = false;
  auto forget = [&](const std::string& path, FileState& state) {
    for (const auto& [id, entry] : state.objects) {
      auto h = holders_.find(id);
      if (h != holders_.end()) {
        h->second.erase(path);
      }
      affected.insert(id);
    }
  };
  for (auto it = files_.begin(); it != files_.end();) {
    if (!present.contains(it->first)) {
      logger->info("{}: removed", it->first);
      forget(it->first, *it->second);
      problemsChanged = problemsChanged || !it->second->problem.empty();
      it = files_.erase(it);
    } else {
      ++it;
    }
  }
  for (const std::string& path : present) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      continue;
    }
    auto& state = files_[path];
    if (!state) {
      state = std::make_unique<FileState>();
    }
    if (state->mtimeNs == toNs(st.st_mtim) && state->ctimeNs == toNs(st.st_ctim) &&
        state->size == st.st_size && state->inode == st.st_ino) {
      continue;
    }
    state->mtimeNs = toNs(st.st_mtim);
    state->ctimeNs = toNs(st.st_ctim);
    state->size = st.st_size;
    state->inode = st.st_ino;
    std::vector<std::string> skipped;
    auto parsed = parseFile(path, skipped);
    if (!parsed) {
      parseErrors_.fetch_add(1);
      state->problem = parsed.error().message;
      problemsChanged = true;
      logger->error("{}: {} (keeping its previous objects)", path, parsed.error().message);
      continue;
    }
    for (const auto& sk : skipped) {
      logger->warn("{}: ignoring {}: not a kind weft-operator reads", path, sk);
    }
    problemsChanged = problemsChanged || !state->problem.empty() || !state->duplicates.empty();
    state->problem.clear();
    state->duplicates.clear();
    forget(path, *state);
    state->objects.clear();
    ++state->version;
    for (auto& [kind, obj] : *parsed) {
      std::string id = std::string(kindName(kind)) + "|" + keyOf(obj);
      if (state->objects.contains(id)) {
        state->duplicates.push_back(std::string(kindName(kind)) + " " + keyOf(obj) +
                                    " appears twice; the first one is used");
        problemsChanged = true;
        continue;
      }
      holders_[id].insert(path);
      affected.insert(id);
      state->objects.emplace(id, std::make_pair(kind, std::move(obj)));
    }
    logger->debug("{}: {} objects", path, state->objects.size());
  }
  if (affected.empty() && !problemsChanged) {
    return;  // the common case on every poll
  }

  std::string now = status::rfc3339(options_.clock());
  std::size_t sent = 0;
  for (const std::string& id : affected) {
    auto h = holders_.find(id);
    if (h == holders_.end() || h->second.empty()) {
      if (h != holders_.end()) {
        holders_.erase(h);
      }
      duplicated_.erase(id);
      auto e = emitted_.find(id);
      if (e != emitted_.end()) {
        if (sink_) {
          sink_->remove(e->second->kind, keyOf(*e->second->object));
        }
        emitted_.erase(e);
        ++sent;
      }
      continue;
    }
    if (h->second.size() > 1) {
      duplicated_.insert(id);
    } else {
      duplicated_.erase(id);
    }
    // The same object in several files: the first file in name order wins.
    const std::string& winner = *h->second.begin();
    FileState& file = *files_.at(winner);
    const auto& [kind, raw] = file.objects.at(id);
    auto& slot = emitted_[id];
    if (slot && slot->origin == winner && slot->originVersion == file.version) {
      continue;
    }
    std::uint64_t rawHash = fnv(json::dump(raw));
    if (slot && slot->rawHash == rawHash) {
      slot->origin = winner;
      slot->originVersion = file.version;
      continue;
    }
    std::uint64_t spec = specHash(raw);
    Json obj = raw;
    Json& meta = obj["metadata"];
    ++counter_;
    meta["resourceVersion"] = std::to_string(counter_);
    if (slot) {
      const Json& prev = slot->object->at("metadata");
      meta["uid"] = prev.at("uid");
      std::int64_t gen = prev.at("generation").get<std::int64_t>();
      meta["generation"] = slot->specHash == spec ? gen : gen + 1;
      if (!raw.at("metadata").contains("creationTimestamp")) {
        meta["creationTimestamp"] = prev.at("creationTimestamp");
      }
    } else {
      slot = std::make_unique<Emitted>();
      meta["uid"] = "dir-" + std::to_string(counter_);
      meta["generation"] = 1;
      if (!meta.contains("creationTimestamp") || !meta["creationTimestamp"].is_string()) {
        meta["creationTimestamp"] = now;
      }
    }
    slot->kind = kind;
    slot->rawHash = rawHash;
    slot->specHash = spec;
    slot->origin = winner;
    slot->originVersion = file.version;
    slot->object = std::make_shared<const Json>(std::move(obj));
    if (sink_) {
      sink_->upsert(kind, slot->object);
    }
    ++sent;
  }

  std::vector<std::string> problems;
  for (const auto& [path, state] : files_) {
    if (!state->problem.empty()) {
      problems.push_back(path + ": " + state->problem);
    }
    for (const auto& d : state->duplicates) {
      problems.push_back(path + ": " + d);
    }
  }
  for (const std::string& id : duplicated_) {
    const auto& holders = holders_.at(id);
    for (auto it = std::next(holders.begin()); it != holders.end(); ++it) {
      std::string msg = *it + ": " + id.substr(0, id.find('|')) + " " +
                        id.substr(id.find('|') + 1) + " is also in " + *holders.begin() +
                        ", which wins";
      problems.push_back(msg);
    }
  }
  {
    std::lock_guard lock(problemsMutex_);
    if (problems != problems_) {
      for (const auto& p : problems) {
        if (std::find(problems_.begin(), problems_.end(), p) == problems_.end() &&
            p.find(" is also in ") != std::string::npos) {
          logger->warn("{}", p);
        }
      }
    }
    problems_ = std::move(problems);
  }
  logger->debug(
      "scan: {} objects changed or removed of {} in {} files, in {:.1f} ms", sent, emitted_.size(),
      files_.size(),
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
          .count());
}

}  // namespace weft::op::source
