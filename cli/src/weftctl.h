// weftctl's entry point, kept in the library so tests can drive it.
#pragma once

namespace weft::cli {

int run(int argc, const char* const* argv);

}  // namespace weft::cli
