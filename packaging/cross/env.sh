# Sourced by the cross scripts: where things are, and the environment every cross build
# and wine run uses. Nothing here writes outside the repository's build/ and target/.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cross="$root/build/cross"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$target_dir" in
    /*) ;;
    *) target_dir="$root/$target_dir" ;;
esac

# Rust targets, Debian packages and PyPI packages the cross builds need.
cross_rust_targets=(x86_64-pc-windows-gnu x86_64-apple-darwin aarch64-apple-darwin aarch64-unknown-linux-gnu)
cross_debian_packages=(gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64 wine64 nuget mono-mcs qemu-user libc6-arm64-cross
    # make dist and test-dist: MSVC's import library and its check (llvm-dlltool, llvm-nm),
    # the .debs (dpkg-shlibdeps, lintian), the consumer project (CMake, pkg-config, mingw-w64's
    # g++ in both thread models, Debian's aarch64 cross g++).
    llvm dpkg-dev lintian cmake pkg-config g++-mingw-w64-x86-64-posix g++-mingw-w64-x86-64-win32 g++-aarch64-linux-gnu)
cross_pypi_packages=("cargo-zigbuild==0.24.1" "ziglang==0.17.1" "auditwheel==6.8.2" "setuptools>=68" "wheel")

# What the builds produce.
win_dll="$target_dir/x86_64-pc-windows-gnu/release/superoffice.dll"
win_implib="$target_dir/x86_64-pc-windows-gnu/release/libsuperoffice.dll.a"
linux_so="$target_dir/x86_64-unknown-linux-gnu/release/libsuperoffice.so"
linux_arm64_so="$target_dir/aarch64-unknown-linux-gnu/release/libsuperoffice.so"
mac_x64_a="$target_dir/x86_64-apple-darwin/debug/libsuperoffice.a"
mac_arm64_a="$target_dir/aarch64-apple-darwin/debug/libsuperoffice.a"
mac_x64_dylib="$target_dir/x86_64-apple-darwin/release/libsuperoffice.dylib"
mac_arm64_dylib="$target_dir/aarch64-apple-darwin/release/libsuperoffice.dylib"

# Windows: ring's C and the link through mingw-w64.
export CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc
export AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc

# cargo-zigbuild, zig and auditwheel from their own virtual environment; their caches
# under build/cross instead of ~/.cache.
cross_venv="$cross/venv"
export PATH="$cross_venv/bin:$PATH"
export XDG_CACHE_HOME="$cross/cache"
export ZIG_GLOBAL_CACHE_DIR="$cross/cache/zig"

# wine: its own prefix under build/cross, quiet, no Mono or Gecko installers, no menu
# entries or file associations written to ~/.local, no display.
wine="/usr/lib/wine/wine64"
export WINEPREFIX="$cross/wineprefix"
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
unset DISPLAY WAYLAND_DISPLAY
