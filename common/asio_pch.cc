// Empty: carries the precompiled Asio/Beast header (common/CMakeLists.txt).
