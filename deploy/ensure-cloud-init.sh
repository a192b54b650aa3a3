#!/usr/bin/env bash
# Make sure `cloud-init schema` is on PATH: the `navarch aws` tests validate the
# user-data they render with Debian's own cloud-init (the version Debian 12's cloud
# images boot with). Installed with apt when missing.
#
# Installing it starts nothing: cloud-init's units run only at boot (cloud-init-local,
# cloud-init, cloud-config, cloud-final are ordered into the boot transaction, and
# the package's scripts do not start them), and where systemd is not PID 1 (a
# container) nothing could start them. The script checks that afterwards.
set -euo pipefail

if command -v cloud-init >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-cloud-init: cloud-init is missing and not root; apt-get install cloud-init" >&2
  exit 1
fi
echo "ensure-cloud-init: installing Debian's cloud-init" >&2
export DEBIAN_FRONTEND=noninteractive
# needrestart (where installed) would otherwise offer to restart services after apt.
export NEEDRESTART_SUSPEND=1
apt-get update -q >/dev/null
# python3-jsonschema: without it `cloud-init schema` cannot validate anything.
apt-get install -y -q --no-install-recommends cloud-init python3-jsonschema >/dev/null
command -v cloud-init >/dev/null || { echo "ensure-cloud-init: still missing" >&2; exit 1; }
if pgrep -f '/usr/bin/cloud-init' >/dev/null 2>&1; then
  echo "ensure-cloud-init: a cloud-init process runs after the install; it should not" >&2
  exit 1
fi
