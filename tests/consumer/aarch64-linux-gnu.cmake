# A CMake toolchain file for Linux aarch64 with Debian's cross compilers
# (g++-aarch64-linux-gnu). tests/dist_test.sh builds tests/consumer with it against the
# aarch64 archive and runs the programs under qemu-user:
#   cmake -S tests/consumer -B build -DCMAKE_TOOLCHAIN_FILE=tests/consumer/aarch64-linux-gnu.cmake \
#         -DCMAKE_PREFIX_PATH=/path/to/superoffice-VERSION-aarch64-unknown-linux-gnu
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
