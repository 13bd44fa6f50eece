// The images run: every shared library a built binary loads (ldd) belongs to
// a Debian package (dpkg -S) that its Dockerfile target installs, directly
// or as a dependency, or that debian:12-slim already has. No docker here, so
// this is what stands between a new library and an image that cannot start.
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/helm/chart.h"
#include "tests/helm/dockerfile.h"
#include "tests/support/process.h"

namespace weft::test::helm {
namespace {

namespace fs = std::filesystem;

// What debian:12-slim holds that our binaries may load.
const std::vector<std::string> kBaseImage = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"};

std::vector<std::string> binaries() {
  std::vector<std::string> out;
  std::stringstream in(WEFT_BINARIES);
  for (std::string b; std::getline(in, b, '|');) {
    out.push_back(b);
  }
  return out;
}

// Every installed package with the packages its Depends and Pre-Depends
// name ("a (>= 1), b | c": all of a, b, c), from one dpkg-query.
const std::map<std::string, std::vector<std::string>>& installedPackages() {
  static const auto* packages = [] {
    auto* out = new std::map<std::string, std::vector<std::string>>();
    auto r = weft::testing::runProcess(
        {"/usr/bin/dpkg-query", "-W", "-f=${Package}\t${Status}\t${Depends}, ${Pre-Depends}\n"});
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      auto tab = line.find('\t');
      auto tab2 = line.find('\t', tab + 1);
      if (tab == std::string::npos || tab2 == std::string::npos ||
          line.substr(tab + 1, tab2 - tab - 1) != "install ok installed") {
        continue;
      }
      std::vector<std::string> deps;
      std::string field = line.substr(tab2 + 1);
      for (std::size_t start = 0; start < field.size();) {
        std::size_t end = field.find_first_of(",|", start);
        std::istringstream words(field.substr(start, end == std::string::npos ? end : end - start));
        start = end == std::string::npos ? field.size() : end + 1;
        std::string name;
        words >> name;
        name = name.substr(0, name.find(':'));
        if (!name.empty()) {
          deps.push_back(name);
        }
      }
      (*out)[line.substr(0, tab)] = std::move(deps);
    }
    return out;
  }();
  return *packages;
}

bool installed(const std::string& package) { return installedPackages().count(package) > 0; }

std::set<std::string> closure(std::vector<std::string> roots) {
  std::set<std::string> seen;
  while (!roots.empty()) {
    std::string p = roots.back();
    roots.pop_back();
    auto it = installedPackages().find(p);
    if (!seen.insert(p).second || it == installedPackages().end()) {
      continue;
    }
    roots.insert(roots.end(), it->second.begin(), it->second.end());
  }
  return seen;
}

// The package owning each library the binary loads.
std::map<std::string, std::string> libraryPackages(const std::string& binary) {
  auto ldd = weft::testing::runProcess({"/usr/bin/ldd", binary});
  EXPECT_EQ(ldd.exitCode, 0) << ldd.err;
  std::vector<std::string> libraries;
  std::istringstream lines(ldd.out);
  for (std::string line; std::getline(lines, line);) {
    auto arrow = line.find("=> ");
    std::string path;
    if (arrow != std::string::npos) {
      path = line.substr(arrow + 3, line.find(" (") - arrow - 3);
    } else if (line.find("ld-linux") != std::string::npos) {
      std::istringstream w(line);
      w >> path;
    } else {
      continue;  // linux-vdso
    }
    EXPECT_NE(path, "not found") << binary << ": " << line;
    libraries.push_back(path);
  }
  // Merged /usr: dpkg knows each file under the name its package shipped, so
  // ask for every spelling at once.
  auto spellings = [](const std::string& path) {
    return std::vector<std::string>{path, fs::weakly_canonical(path).string(),
                                    path.rfind("/lib", 0) == 0 ? "/usr" + path : path};
  };
  std::vector<std::string> argv{"/usr/bin/dpkg", "-S"};
  for (const auto& lib : libraries) {
    auto names = spellings(lib);
    argv.insert(argv.end(), names.begin(), names.end());
  }
  auto owners = weft::testing::runProcess(argv);
  std::map<std::string, std::string> ownerOf;  // path -> package
  std::istringstream out(owners.out);
  for (std::string line; std::getline(out, line);) {
    auto colon = line.find(": ");
    if (colon != std::string::npos) {
      std::string package = line.substr(0, colon);
      ownerOf[line.substr(colon + 2)] = package.substr(0, package.find(':'));
    }
  }
  std::map<std::string, std::string> result;
  for (const auto& lib : libraries) {
    for (const auto& name : spellings(lib)) {
      if (ownerOf.count(name)) {
        result[lib] = ownerOf[name];
        break;
      }
    }
    EXPECT_TRUE(result.count(lib)) << binary << ": no package owns " << lib;
  }
  return result;
}

TEST(ImageTest, EveryTargetInstallsWhatItsBinaryLoads) {
  auto targets = dockerTargets(sourcePath("Dockerfile"));
  ASSERT_TRUE(targets.ok()) << targets.error().describe();
  auto bins = binaries();
  ASSERT_EQ(bins.size(), 4u);
  for (const auto& binary : bins) {
    std::string name = fs::path(binary).filename().string();
    auto target = targets->find(name);
    ASSERT_NE(target, targets->end()) << "the Dockerfile has no target " << name;
    EXPECT_EQ(target->second.entrypoint, "/usr/local/bin/" + name);
    for (const auto& p : target->second.packages) {
      EXPECT_TRUE(installed(p)) << name << ": Dockerfile package " << p
                                << " is not a Debian package installed here";
    }
    std::vector<std::string> roots = target->second.packages;
    roots.insert(roots.end(), kBaseImage.begin(), kBaseImage.end());
    std::set<std::string> available = closure(roots);
    auto needed = libraryPackages(binary);
    EXPECT_GT(needed.size(), 3u) << name;
    for (const auto& [library, package] : needed) {
      EXPECT_TRUE(available.count(package))
          << "target " << name << " lacks " << package << " (for " << library << ")";
    }
  }
  // The proxy's init step needs iptables.
  const auto& proxy = targets->at("weft-proxy").packages;
  EXPECT_NE(std::find(proxy.begin(), proxy.end(), "iptables"), proxy.end());
}

TEST(ImageTest, AMissingLibraryIsFound) {
  auto needed = libraryPackages(binaries().front());
  std::set<std::string> packages;
  for (const auto& [_, p] : needed) {
    packages.insert(p);
  }
  EXPECT_TRUE(packages.count("libcpprest2.10")) << "weft-operator links cpprestsdk";
  // Without the runtime packages only the base image is there: not enough.
  std::set<std::string> base = closure(kBaseImage);
  EXPECT_FALSE(base.count("libcpprest2.10"));
  EXPECT_FALSE(base.count("libssl3"));
}

}  // namespace
}  // namespace weft::test::helm
