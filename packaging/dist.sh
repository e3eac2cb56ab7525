#!/usr/bin/env bash
# make dist: the release archives and Debian packages of superoffice in build/dist:
#   superoffice-VERSION-x86_64-unknown-linux-gnu.tar.gz   glibc 2.17
#   superoffice-VERSION-aarch64-unknown-linux-gnu.tar.gz  glibc 2.17
#   superoffice-VERSION-x86_64-pc-windows-gnu.zip         mingw-w64 (and superoffice.lib for MSVC)
#   libsuperoffice0_, libsuperoffice-dev_, superoffice_VERSION_amd64.deb
#   SHA256SUMS                                             over every file above
# Each archive has one top folder of its own name, laid out by packaging/layout.sh (its
# superoffice.pc and CMake package relocatable); the file lists are checked against
# packaging/manifests by tests/dist_test.sh. Archives are reproducible: names sorted, owner
# 0, times from the last commit (SOURCE_DATE_EPOCH).
#
# Usage: packaging/dist.sh  (after packaging/cross/build.sh; make dist runs both)
# Exit 3 with one line when the third-party notices cannot be made (cargo-about missing
# and not installable).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/cross/env.sh"
cd "$root"
version="$(sed -n '/^version = /{s/^version = "\(.*\)"/\1/p;q}' Cargo.toml)"
dist="$root/build/dist"
stage="$root/build/dist-stage"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"

rm -rf "$dist" "$stage"
mkdir -p "$dist" "$stage"
notices="$stage/THIRD-PARTY-NOTICES.txt"
packaging/notices.sh "$notices" >/dev/null

for target in x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-pc-windows-gnu; do
    name="superoffice-$version-$target"
    packaging/layout.sh --target "$target" --from "$target_dir/$target/release" --dest "$stage/$name" \
        --notices "$notices"
    find "$stage/$name" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
    case "$target" in
        *-windows-*)
            python3 - "$stage" "$name" "$dist/$name.zip" <<'PY'
import os, sys, time, zipfile
stage, name, out = sys.argv[1:]
when = time.gmtime(max(int(os.environ["SOURCE_DATE_EPOCH"]), 315532800))[:6]
paths = []
for top, dirs, files in os.walk(os.path.join(stage, name)):
    paths += [os.path.join(top, f) for f in files]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for path in sorted(paths):
        info = zipfile.ZipInfo(os.path.relpath(path, stage), when)
        info.external_attr = (0o100755 if os.access(path, os.X_OK) else 0o100644) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(path, "rb") as f:
            z.writestr(info, f.read())
PY
            ;;
        *)
            tar --sort=name --owner=0 --group=0 --numeric-owner --format=gnu -C "$stage" -cf - "$name" |
                gzip -9n >"$dist/$name.tar.gz"
            ;;
    esac
done

packaging/deb.sh "$target_dir/x86_64-unknown-linux-gnu/release" "$notices" "$dist" >/dev/null

(cd "$dist" && sha256sum -- *.tar.gz *.zip *.deb >SHA256SUMS)
rm -rf "$stage"
(cd "$dist" && ls -l --time-style=+ -- * | awk '{printf "%10d  %s\n", $5, $NF}')
