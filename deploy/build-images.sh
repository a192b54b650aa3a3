#!/usr/bin/env bash
# Build the images `make up` uses, locally (no registry is needed or reached):
#   navarch/sample-web:2   busybox httpd serving a page that names its pod; it resolves
#                          names (the host's glibc resolver files: images/resolver-files.sh)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

# Debian's busybox-static is a static binary that runs on an empty image.
if ! dpkg -s busybox-static >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q busybox-static >/dev/null || { apt-get update -q >/dev/null; apt-get install -y -q busybox-static >/dev/null; }
fi
busybox=/bin/busybox

ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
cp "$busybox" "$ctx/busybox"
cp "$here/images/sample-web/Dockerfile" "$here/images/sample-web/index.sh" "$ctx/"
mkdir -p "$ctx/rootfs/etc"
cp "$here/images/nsswitch.conf" "$ctx/rootfs/etc/nsswitch.conf"
for f in $("$here/images/resolver-files.sh"); do
  mkdir -p "$ctx/rootfs$(dirname "$f")"
  cp -L "$f" "$ctx/rootfs$f"
done
if ! docker image inspect navarch/sample-web:2 >/dev/null 2>&1; then
  docker build -q -t navarch/sample-web:2 --label io.navarch.image=sample "$ctx" >/dev/null
fi
echo "image: navarch/sample-web:2"
