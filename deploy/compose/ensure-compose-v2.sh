#!/usr/bin/env bash
# Docker Compose v2 (`docker compose`), next to Debian 12's docker-compose 1.29 (which
# stays: the compose cluster is tested with both). Debian 12 has no v2; Debian 13
# (trixie) packages it as `docker-compose` 2.x, which would replace 1.29 if installed
# with apt. So only its plugin binary is taken, into Docker's plugin directory for
# local installs. The package comes from the same Debian mirror as apt's, and is checked
# the way apt checks it: InRelease's signature against Debian's archive keyring, the
# Packages index by the hash InRelease gives, the .deb by the hash the index gives.
# Statically linked Go; it needs nothing from trixie but libc6 >= 2.34 (Debian 12: 2.36).
set -euo pipefail

plugin_dir=/usr/local/lib/docker/cli-plugins
if docker compose version >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "compose-v2: \`docker compose\` missing and not root (run as root, or install Docker's compose plugin)" >&2
  exit 1
fi
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
suite=trixie
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

fetch() { curl -fsS --retry 3 -m 300 -o "$2" "$mirror/$1"; }
check() { # FILE SHA256
  echo "$2  $1" | sha256sum -c --quiet - || { echo "compose-v2: $1: checksum mismatch" >&2; exit 1; }
}

echo "compose-v2: installing Docker Compose v2 from Debian $suite's docker-compose package" >&2
fetch "dists/$suite/InRelease" "$tmp/InRelease"
gpgv --quiet --keyring "$keyring" --output "$tmp/Release" "$tmp/InRelease" 2>/dev/null ||
  { echo "compose-v2: $suite's InRelease: bad or unknown signature" >&2; exit 1; }
index=main/binary-amd64/Packages.xz
want="$(awk -v f="$index" '/^SHA256:/ {s = 1; next} /^[^ ]/ {s = 0} s && $3 == f {print $1}' "$tmp/Release")"
[ -n "$want" ] || { echo "compose-v2: $index not in $suite's Release" >&2; exit 1; }
fetch "dists/$suite/$index" "$tmp/Packages.xz"
check "$tmp/Packages.xz" "$want"
read -r filename sha < <(xz -dc "$tmp/Packages.xz" | awk '
  /^Package: / {p = ($2 == "docker-compose")}
  p && /^Filename: / {f = $2}
  p && /^SHA256: / {h = $2}
  /^$/ && p && f != "" {print f, h; exit}')
[ -n "${filename:-}" ] || { echo "compose-v2: no docker-compose package in $suite" >&2; exit 1; }
fetch "$filename" "$tmp/pkg.deb"
check "$tmp/pkg.deb" "$sha"
dpkg-deb -x "$tmp/pkg.deb" "$tmp/root"
install -D -m 0755 "$tmp/root/usr/libexec/docker/cli-plugins/docker-compose" "$plugin_dir/docker-compose"
docker compose version >&2
