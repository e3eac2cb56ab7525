#!/usr/bin/env bash
# The Debian packages (amd64) of the x86_64 glibc 2.17 build, with dpkg-deb, in Debian's own
# multiarch paths (/usr/lib/x86_64-linux-gnu) with the /usr prefix:
#   libsuperoffice0      the shared library (libsuperoffice.so.0 and its file)
#   libsuperoffice-dev   the headers, the libsuperoffice.so link, the static library,
#                        superoffice.pc and the CMake package; depends on libsuperoffice0 of
#                        the same version
#   superoffice          the command line
# Each has /usr/share/doc/<package>/copyright (the project's licences and the third-party
# notices) and changelog.gz. The tree is laid out by packaging/layout.sh, as every archive
# is, then shared out. Depends come from dpkg-shlibdeps.
#
# Usage: packaging/deb.sh FROM NOTICES OUTDIR
#   FROM     target/x86_64-unknown-linux-gnu/release (packaging/cross/build.sh)
#   NOTICES  THIRD-PARTY-NOTICES.txt (packaging/notices.sh)
# Prints the paths of the .debs it wrote.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
from="${1:?usage: $0 FROM NOTICES OUTDIR}"
notices="${2:?usage: $0 FROM NOTICES OUTDIR}"
out="${3:?usage: $0 FROM NOTICES OUTDIR}"
version="$(sed -n '/^version = /{s/^version = "\(.*\)"/\1/p;q}' "$root/Cargo.toml")"
major="${version%%.*}"
multiarch=x86_64-linux-gnu
libdir="usr/lib/$multiarch"
# Who answers for the packages: set DEB_MAINTAINER to the publisher's name and address.
maintainer="${DEB_MAINTAINER:-superoffice-ffi developers <superoffice-ffi@example.org>}"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tree="$work/tree"
"$root/packaging/layout.sh" --target x86_64-unknown-linux-gnu --from "$from" --dest "$tree/usr" \
    --libdir "lib/$multiarch" --prefix /usr --notices "$notices"

# Moves PATH (relative to the laid-out tree) into package PKG.
take() {
    local pkg="$1" path="$2"
    mkdir -p "$work/$pkg/$(dirname "$path")"
    mv "$tree/$path" "$work/$pkg/$path"
}
take "libsuperoffice$major" "$libdir/libsuperoffice.so.$version"
take "libsuperoffice$major" "$libdir/libsuperoffice.so.$major"
take libsuperoffice-dev usr/include
take libsuperoffice-dev "$libdir/libsuperoffice.so"
take libsuperoffice-dev "$libdir/libsuperoffice.a"
take libsuperoffice-dev "$libdir/pkgconfig"
take libsuperoffice-dev "$libdir/cmake"
take superoffice usr/bin/superoffice
# The README and SECURITY.md go with the development package; the licences and the notices
# into every package's copyright.
mkdir -p "$work/libsuperoffice-dev/usr/share/doc/libsuperoffice-dev"
for f in README.md SECURITY.md; do
    gzip -9nc "$tree/usr/share/doc/superoffice/$f" >"$work/libsuperoffice-dev/usr/share/doc/libsuperoffice-dev/$f.gz"
done

copyright="$work/copyright"
{
    cat <<EOF
superoffice-ffi: a native client for the SuperOffice CRM WebAPI, with a C ABI.

Copyright: 2026 The superoffice-ffi developers
License: MIT or Apache-2.0, at your option.

The text of the Apache License 2.0 is in /usr/share/common-licenses/Apache-2.0.
The text of the MIT licence follows.

EOF
    sed 's/^/    /' "$root/LICENSE-MIT"
    echo
    echo "The library and the command line are built from the third-party code below."
    echo
    # Debian's copyright names the Apache License 2.0 by its common-licenses file instead
    # of quoting it again.
    python3 - "$notices" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
rule = "=" * 80 + "\n"
parts = text.split(rule)
for i, part in enumerate(parts):
    if part.startswith("Apache License 2.0 (Apache-2.0)\n"):
        head, _, _ = part.partition("-" * 80 + "\n")
        parts[i] = head + "-" * 80 + "\n\nThe Apache License 2.0: /usr/share/common-licenses/Apache-2.0\n\n"
sys.stdout.write(rule.join(parts))
PY
} >"$copyright"

changelog="$work/changelog"
cat >"$changelog" <<EOF
superoffice-ffi ($version) unstable; urgency=medium

  * Release $version, packaged by make dist from the glibc 2.17 build.

 -- $maintainer  $(date -u -R -d "@$SOURCE_DATE_EPOCH")
EOF

# dpkg-shlibdeps reads a debian/control of its own.
shlibdeps() {
    local dir="$work/shlibdeps"
    mkdir -p "$dir/debian"
    printf 'Source: superoffice-ffi\n\nPackage: %s\nArchitecture: amd64\n' "$1" >"$dir/debian/control"
    (cd "$dir" && dpkg-shlibdeps -O -e"$2" 2>/dev/null) | sed -n 's/^shlibs:Depends=//p'
}

description() {
    case "$1" in
        "libsuperoffice$major")
            echo "native client for the SuperOffice CRM WebAPI (shared library)"
            echo " superoffice-ffi sends SuperOffice CRM WebAPI requests (the Customer Centre"
            echo " password e-mail) from C, C++ and any language with a C foreign function"
            echo " interface. This package holds the shared library." ;;
        libsuperoffice-dev)
            echo "native client for the SuperOffice CRM WebAPI (development files)"
            echo " superoffice-ffi sends SuperOffice CRM WebAPI requests (the Customer Centre"
            echo " password e-mail) from C, C++ and any language with a C foreign function"
            echo " interface. This package holds the C header, the C++17 wrapper, the static"
            echo " library, superoffice.pc and the CMake package (find_package(superoffice))." ;;
        superoffice)
            echo "command line for the SuperOffice CRM WebAPI"
            echo " superoffice sends the SuperOffice Customer Centre password e-mail, one or many"
            echo " from a CSV file, with the same library as superoffice-ffi's C ABI." ;;
    esac
}

build() {
    local pkg="$1" section="$2" multi="$3" depends="$4"
    local dir="$work/$pkg"
    mkdir -p "$dir/DEBIAN" "$dir/usr/share/doc/$pkg"
    install -m 0644 "$copyright" "$dir/usr/share/doc/$pkg/copyright"
    gzip -9nc "$changelog" >"$dir/usr/share/doc/$pkg/changelog.gz"
    chmod 0644 "$dir/usr/share/doc/$pkg/changelog.gz"
    find "$dir" -type d -exec chmod 0755 {} +
    {
        echo "Package: $pkg"
        echo "Source: superoffice-ffi"
        echo "Version: $version"
        echo "Architecture: amd64"
        [ -z "$multi" ] || echo "Multi-Arch: $multi"
        echo "Maintainer: $maintainer"
        echo "Installed-Size: $(du -sk --exclude=DEBIAN "$dir" | cut -f1)"
        [ -z "$depends" ] || echo "Depends: $depends"
        echo "Section: $section"
        echo "Priority: optional"
        echo "Description: $(description "$pkg")"
    } >"$dir/DEBIAN/control"
    (cd "$dir" && find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum) >"$dir/DEBIAN/md5sums"
    chmod 0644 "$dir/DEBIAN/"*
    find "$dir" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
    local deb="$out/${pkg}_${version}_amd64.deb"
    dpkg-deb --root-owner-group -Zxz --build "$dir" "$deb" >/dev/null
    echo "$deb"
}

lib="libsuperoffice$major"
mkdir -p "$work/$lib/DEBIAN"
echo "libsuperoffice $major $lib (>= $version)" >"$work/$lib/DEBIAN/shlibs"
echo "activate-noawait ldconfig" >"$work/$lib/DEBIAN/triggers"
mkdir -p "$out"
build "$lib" libs same "$(shlibdeps "$lib" "$work/$lib/$libdir/libsuperoffice.so.$version")"
build libsuperoffice-dev libdevel same "$lib (= $version)"
build superoffice utils "" "$(shlibdeps superoffice "$work/superoffice/usr/bin/superoffice")"
