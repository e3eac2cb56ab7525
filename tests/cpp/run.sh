#!/usr/bin/env bash
# Builds the C++ tests (tests/cpp) with g++ and with clang++, -std=c++17 -Wall -Wextra -Werror
# -pedantic under ASan and UBSan, and runs each against the stub ($SO_STUB_URL; run through
# tests/with-stub.sh). Installs Debian's g++ and clang when missing (tests/ensure-cxx.sh).
# Prints each program's "N passed, N failed".
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
: "${SO_STUB_URL:?run under tests/with-stub.sh}"
target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
lib="$target/release"
out="$root/build/cpp"
mkdir -p "$out"

"$root/tests/ensure-cxx.sh" g++ clang++

flags=(-std=c++17 -O1 -g -Wall -Wextra -Werror -pedantic -I"$root/include"
       -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
status=0
# The README's C++ example compiles as printed (the first ```cpp block of its "## C++" section).
readme_example="$out/readme_example.cpp"
sed -n '/^## C++$/,/^## /p' "$root/README.md" | sed -n '/^```cpp$/,/^```$/p' | sed '1d;$d' >"$readme_example"
[ -s "$readme_example" ] || { echo "test-cpp: no C++ example in README.md" >&2; exit 1; }
for cxx in g++ clang++; do
    exe="$out/test_superoffice-$cxx"
    "$cxx" "${flags[@]}" "$root/tests/cpp/test_superoffice.cpp" "$root/tests/cpp/second_tu.cpp" -o "$exe" \
        -L"$lib" -lsuperoffice -Wl,-rpath,"$lib" -lpthread
    "$cxx" "${flags[@]}" -fsyntax-only "$readme_example" || { echo "test-cpp: the README's example does not compile with $cxx" >&2; status=1; }
    echo "== $cxx ($("$cxx" -dumpversion))"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$exe" || status=1
done
exit "$status"
