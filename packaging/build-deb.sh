#!/usr/bin/env bash
# Builds tailtrack's .deb with dpkg-deb.
#
#   packaging/build-deb.sh                          # swift build -c release, then package
#   packaging/build-deb.sh --binary PATH --output DIR
#
# --binary PATH (or $TAILTRACK_BINARY): package an already built binary instead of building
#   one (tests package the debug build; no release build needed).
# --output DIR (or $TAILTRACK_DEB_DIR): where the .deb goes; default .build/deb.
# --version V (or $TAILTRACK_VERSION): the package version; default from `git describe`, else 0.1.0.
# --fast: compress lightly (tests packaging a large debug binary).
# Prints the path of the .deb on its last line.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
binary="${TAILTRACK_BINARY:-}"
output="${TAILTRACK_DEB_DIR:-$root/.build/deb}"
version="${TAILTRACK_VERSION:-}"
level=9

while [ $# -gt 0 ]; do
    case "$1" in
        --binary) binary="$2"; shift 2 ;;
        --output) output="$2"; shift 2 ;;
        --version) version="$2"; shift 2 ;;
        --fast) level=1; shift ;;
        -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "build-deb.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
done

if [ -z "$version" ]; then
    version="$(git -C "$root" describe --tags --abbrev=0 2>/dev/null | sed 's/^v//')" || true
    version="${version:-0.1.0}"
fi

if [ -z "$binary" ]; then
    (cd "$root" && swift build -c release --static-swift-stdlib --product tailtrack)
    binary="$root/.build/release/tailtrack"
fi
if [ ! -x "$binary" ]; then
    echo "build-deb.sh: $binary is not an executable; build it or pass --binary PATH" >&2
    exit 1
fi

arch="$(dpkg --print-architecture)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
pkg="$work/tailtrack"

install -d "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/usr/lib/systemd/system" "$pkg/etc/tailtrack/rules.d" \
    "$pkg/usr/share/man/man1" "$pkg/usr/share/doc/tailtrack/examples/rules"
install -m 0755 "$binary" "$pkg/usr/bin/tailtrack"
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

mkdir -p "$output"
deb="$output/tailtrack_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zgzip -z"$level" --build "$pkg" "$deb" >/dev/null
echo "$deb"
