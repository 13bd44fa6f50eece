// Reads the repository's Dockerfile the way `docker build --target` would
// resolve it: each named stage with the user it ends up running as, its
// entrypoint, and the Debian packages it and its parent stages install.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace weft::test::helm {

struct DockerTarget {
  std::string base;                   // the FROM image or stage
  std::string user;                   // effective USER ("" = never set: root)
  std::string entrypoint;             // first word of the effective ENTRYPOINT
  std::vector<std::string> packages;  // apt-get installed here and in parent stages
};

Result<std::map<std::string, DockerTarget>> dockerTargets(const std::string& path);

// Whether a USER value runs as someone other than root.
bool nonRoot(const std::string& user);

}  // namespace weft::test::helm
