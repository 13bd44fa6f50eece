// weft-injector's entry point, kept in the library so tests can drive it.
#pragma once

namespace weft::webhook {

// Parses flags, serves admission requests and returns the exit code.
int run(int argc, const char* const* argv);

}  // namespace weft::webhook
