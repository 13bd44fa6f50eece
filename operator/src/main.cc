// weft-operator: the control plane. All wiring lives in app/.
#include "operator/src/app/app.h"

int main(int argc, char** argv) { return weft::op::run(argc, argv); }
