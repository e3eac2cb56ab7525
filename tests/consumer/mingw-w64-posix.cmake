# A CMake toolchain file for Windows x86_64 with Debian's mingw-w64, posix thread model
# (its g++ has std::future; the win32 model's does not). tests/dist_test.sh builds
# tests/consumer with it against the Windows zip:
#   cmake -S tests/consumer -B build -DCMAKE_TOOLCHAIN_FILE=tests/consumer/mingw-w64-posix.cmake \
#         -DCMAKE_PREFIX_PATH=/path/to/superoffice-VERSION-x86_64-pc-windows-gnu
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc-posix)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)
