// weft-operator's entry point, kept in the library so tests can drive it.
#pragma once

namespace weft::op {

// Parses flags, runs the control plane and returns the exit code.
int run(int argc, const char* const* argv);

}  // namespace weft::op
