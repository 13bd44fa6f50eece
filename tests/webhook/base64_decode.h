// Decodes the base64 JSON Patch of an admission response (standard alphabet).
#pragma once

#include <string>

#include <gtest/gtest.h>

namespace weft::testing {

inline std::string base64Decode(const std::string& in) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') {
      break;
    }
    auto pos = kAlphabet.find(c);
    if (pos == std::string::npos) {
      ADD_FAILURE() << "bad base64 character";
      return "";
    }
    buffer = buffer << 6 | static_cast<unsigned>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>(buffer >> bits & 0xff);
    }
  }
  return out;
}

}  // namespace weft::testing
