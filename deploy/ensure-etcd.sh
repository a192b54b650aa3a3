#!/usr/bin/env bash
# Make sure an etcd server without the 3.5.0-3.5.2 crash-consistency defect is on PATH:
# Debian's etcd-server (3.4.23) and etcd-client (etcdctl), installed with apt when
# missing. Installing starts no daemon here (tests and `navarch up` run their own).
set -euo pipefail

usable() {
  command -v etcd >/dev/null 2>&1 || return 1
  local v
  v=$(etcd --version 2>/dev/null | sed -n 's/^etcd Version: //p')
  case "$v" in
    3.5.0|3.5.1|3.5.2|"") return 1 ;;
  esac
  command -v etcdctl >/dev/null 2>&1
}

if usable; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-etcd: no usable etcd and not root; apt-get install etcd-server etcd-client" >&2
  exit 1
fi
echo "ensure-etcd: installing Debian's etcd-server and etcd-client" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# policy-rc.d keeps the package from starting a system-wide etcd on hosts with an
# init system; ours are started per cluster and per test.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -q etcd-server etcd-client >/dev/null
# Nor at the next boot: its default ports are the ones `navarch up` uses.
if [ -d /run/systemd/system ]; then
  systemctl disable --now etcd >/dev/null 2>&1 || true
fi
usable || { echo "ensure-etcd: etcd is still not usable" >&2; exit 1; }
