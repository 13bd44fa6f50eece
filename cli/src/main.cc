// weftctl: inject, check, stat and proxy-config, one file per command.
#include "cli/src/weftctl.h"

int main(int argc, char** argv) { return weft::cli::run(argc, argv); }
