// File helpers.
#include "common/file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include <sys/stat.h>
#include <unistd.h>

namespace weft {

Result<std::string> readFile(const std::string& path, std::size_t maxBytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return makeError(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                     path + ": " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) {
    return makeError(ErrorCode::kInvalidArgument, path + ": is a directory");
  }
  if (static_cast<std::size_t>(st.st_size) > maxBytes) {
    return makeError(ErrorCode::kInvalidArgument,
                     path + ": larger than " + std::to_string(maxBytes) + " bytes");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return makeError(ErrorCode::kIo, path + ": " + std::strerror(errno));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<void> writeFileAtomic(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      return makeError(ErrorCode::kIo, tmp + ": " + std::strerror(errno));
    }
    out << content;
    out.flush();
    if (!out) {
      return makeError(ErrorCode::kIo, tmp + ": write failed");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    return makeError(ErrorCode::kIo, path + ": " + std::strerror(err));
  }
  return {};
}

}  // namespace weft
