// weft-proxy: the sidecar. All wiring lives in app/.
#include "proxy/src/app/app.h"

int main(int argc, char** argv) { return weft::proxy::run(argc, argv); }
