#!/usr/bin/env bash
# Builds tailtrack's .deb, and its debug symbols as tailtrack-dbgsym (.ddeb), with dpkg-deb.
#
#   packaging/build-deb.sh                          # swift build -c release, then package
#   packaging/build-deb.sh --binary PATH --output DIR
#
# The packaged binary is stripped; its debug information goes into the dbgsym package under
# /usr/lib/debug/.build-id/XX/YYYY.debug (Debian's convention), which gdb and coredumpctl find
# by the binary's build id. Both packages are compressed with xz (dpkg's default). The release
# build uses its own scratch path (.build-deb), so it never replaces .build/release.
#
# --binary PATH (or $TAILTRACK_BINARY): package an already built binary instead of building
#   one (tests package the debug build; no release build needed).
# --output DIR (or $TAILTRACK_DEB_DIR): where the .deb goes; default .build/deb.
# --version V (or $TAILTRACK_VERSION): the package version; default from `git describe`, else 0.1.0.
# --fast: compress lightly (tests packaging a large debug binary).
# Prints the sizes (binary, .deb, dbgsym) and, on its last line, the path of the .deb; the
# .ddeb is beside it.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
binary="${TAILTRACK_BINARY:-}"
output="${TAILTRACK_DEB_DIR:-$root/.build/deb}"
version="${TAILTRACK_VERSION:-}"
level=9
given_binary=no

while [ $# -gt 0 ]; do
    case "$1" in
        --binary) binary="$2"; given_binary=yes; shift 2 ;;
        --output) output="$2"; shift 2 ;;
        --version) version="$2"; shift 2 ;;
        --fast) level=1; shift ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "build-deb.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
done

if [ -z "$version" ]; then
    version="$(git -C "$root" describe --tags --abbrev=0 2>/dev/null | sed 's/^v//')" || true
    version="${version:-0.1.0}"
fi

if [ -z "$binary" ]; then
    (cd "$root" && swift build -c release --static-swift-stdlib --product tailtrack --scratch-path .build-deb)
    binary="$root/.build-deb/release/tailtrack"
fi
if [ ! -x "$binary" ]; then
    echo "build-deb.sh: $binary is not an executable; build it or pass --binary PATH" >&2
    exit 1
fi

# A package must run without a Swift toolchain on the host: the Swift runtime is linked in
# (--static-swift-stdlib) and only the libraries of the control file's Depends remain.
if ldd "$binary" 2>/dev/null | grep -E 'libswift|libFoundation|lib_FoundationICU|libdispatch|libBlocksRuntime' >&2; then
    if [ -z "${TAILTRACK_BINARY:-}" ] && [ "$given_binary" = no ]; then
        echo "build-deb.sh: the binary needs the Swift runtime (above); build with --static-swift-stdlib" >&2
        exit 1
    fi
    echo "build-deb.sh: warning: $binary links the Swift runtime dynamically (a test build?)" >&2
fi

arch="$(dpkg --print-architecture)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
pkg="$work/tailtrack"

install -d "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/usr/lib/systemd/system" "$pkg/etc/tailtrack/rules.d" \
    "$pkg/usr/share/man/man1" "$pkg/usr/share/doc/tailtrack/examples/rules"
install -m 0755 "$binary" "$pkg/usr/bin/tailtrack"

# Debug symbols apart: keep them in a file named by the build id, then strip the binary and
# point it at that file (gdb finds it by build id, or by the debuglink).
build_id="$(readelf -n "$binary" | sed -n 's/^ *Build ID: *\([0-9a-f]*\)$/\1/p' | head -n 1)"
if [ -z "$build_id" ]; then
    echo "build-deb.sh: $binary has no GNU build id; link with --build-id" >&2
    exit 1
fi
dbg="$work/tailtrack-dbgsym"
debug_file="$dbg/usr/lib/debug/.build-id/${build_id:0:2}/${build_id:2}.debug"
install -d "$(dirname "$debug_file")" "$dbg/DEBIAN" "$dbg/usr/share/doc"
objcopy --only-keep-debug --compress-debug-sections=zlib "$binary" "$debug_file"
chmod 0644 "$debug_file"
strip --strip-debug --strip-unneeded --remove-section=.comment --remove-section=.note "$pkg/usr/bin/tailtrack"
objcopy --add-gnu-debuglink="$debug_file" "$pkg/usr/bin/tailtrack"
ln -s tailtrack "$dbg/usr/share/doc/tailtrack-dbgsym"
install -m 0644 "$root/packaging/tailtrack.service" "$pkg/usr/lib/systemd/system/tailtrack.service"
install -m 0644 "$root/packaging/tailtrack.yml" "$pkg/etc/tailtrack/tailtrack.yml"
install -m 0644 "$root/packaging/environment" "$pkg/etc/tailtrack/environment"
install -m 0644 "$root/packaging/rules.d-README" "$pkg/etc/tailtrack/rules.d/README"
for rules in "$root"/rules/*.yml; do
    install -m 0644 "$rules" "$pkg/usr/share/doc/tailtrack/examples/rules/"
done
gzip -9n -c "$root/packaging/tailtrack.1" > "$pkg/usr/share/man/man1/tailtrack.1.gz"
install -m 0644 "$root/packaging/README.Debian" "$pkg/usr/share/doc/tailtrack/README.Debian"
for script in postinst prerm postrm; do
    install -m 0755 "$root/packaging/$script" "$pkg/DEBIAN/$script"
done
cat > "$pkg/DEBIAN/conffiles" <<CONFFILES
/etc/tailtrack/tailtrack.yml
/etc/tailtrack/environment
/etc/tailtrack/rules.d/README
CONFFILES
size="$(du -sk "$pkg" | cut -f1)"
cat > "$pkg/DEBIAN/control" <<CONTROL
Package: tailtrack
Version: $version
Architecture: $arch
Maintainer: tailtrack maintainers <tailtrack@localhost>
Installed-Size: $size
Depends: libc6, libpcre2-8-0, zlib1g, libstdc++6, adduser
Section: admin
Priority: optional
Homepage: https://customer.io/docs/api/track/
Description: ships application log lines to the Customer.io Track API
 tailtrack follows log files through rotation (into rotated .gz files), maps
 matching lines by rules to Track API v2 operations and posts them in batches,
 saving file positions so that a restart, a crash or an outage loses nothing.
 Runs as a hardened systemd service (Type=notify, watchdog, SIGHUP reload) with
 an optional Prometheus endpoint.
CONTROL

dbg_size="$(du -sk "$dbg" | cut -f1)"
cat > "$dbg/DEBIAN/control" <<CONTROL
Package: tailtrack-dbgsym
Source: tailtrack
Version: $version
Auto-Built-Package: debug-symbols
Architecture: $arch
Maintainer: tailtrack maintainers <tailtrack@localhost>
Installed-Size: $dbg_size
Depends: tailtrack (= $version)
Section: debug
Priority: optional
Description: debug symbols for tailtrack
Build-Ids: $build_id
CONTROL

mkdir -p "$output"
deb="$output/tailtrack_${version}_${arch}.deb"
ddeb="$output/tailtrack-dbgsym_${version}_${arch}.ddeb"
dpkg-deb --root-owner-group -Zxz -z"$level" --build "$pkg" "$deb" >/dev/null
dpkg-deb --root-owner-group -Zxz -z"$level" --build "$dbg" "$ddeb" >/dev/null
mib() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f MB", b / 1000000 }'; }
echo "binary (stripped): $(mib "$pkg/usr/bin/tailtrack"), unstripped $(mib "$binary")"
echo "package: $(mib "$deb")  $deb"
echo "debug symbols: $(mib "$ddeb")  $ddeb"
echo "$deb"
