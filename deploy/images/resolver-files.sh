#!/usr/bin/env bash
# Print, one a line, the host files a static-glibc busybox needs to resolve names:
# static glibc still loads its NSS modules (and through them the shared libc and the
# dynamic loader) at run time, and a static busybox without them crashes (SIGSEGV,
# exit 139) in `wget http://web`. They must be the host's glibc, the one Debian's
# busybox-static was built against (the same release). The image builders
# (deploy/build-images.sh, testkit/images.py) copy each file to the same path in
# the image, dereferenced, with deploy/images/nsswitch.conf as /etc/nsswitch.conf.
set -euo pipefail

for lib in libc.so.6 libnss_files.so.2 libnss_dns.so.2 libresolv.so.2; do
  path=$(/sbin/ldconfig -p | awk -v l="$lib" '$1 == l { print $NF; exit }')
  [ -n "$path" ] || { echo "resolver-files: $lib not found by ldconfig" >&2; exit 1; }
  echo "$path"
done
# The program interpreter, as the shared libc expects to find it.
loader=$(ldd /bin/sh | awk '/ld-linux/ { print $1; exit }')
[ -n "$loader" ] || { echo "resolver-files: no dynamic loader found" >&2; exit 1; }
echo "$loader"
