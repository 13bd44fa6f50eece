// weft-injector: the mutating admission webhook. All wiring lives in app/.
#include "webhook/src/app/app.h"

int main(int argc, char** argv) { return weft::webhook::run(argc, argv); }
