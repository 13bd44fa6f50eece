// weft-proxy's entry point, kept in the library so tests can drive it.
#pragma once

namespace weft::proxy {

// Parses flags, runs the proxy (or `init`) and returns the exit code.
int run(int argc, const char* const* argv);

}  // namespace weft::proxy
