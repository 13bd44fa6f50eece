// Empty: carries the tests' precompiled header (tests/CMakeLists.txt).
