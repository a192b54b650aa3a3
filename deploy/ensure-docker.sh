#!/usr/bin/env bash
# Make sure a Docker Engine answers on this machine: install Debian's docker.io when
# there is no engine, start dockerd when it is not running, and wait until it answers.
set -euo pipefail

answers() { docker info >/dev/null 2>&1; }

if answers; then
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-docker: no Docker Engine and not root; install docker.io first" >&2
    exit 1
  fi
  echo "ensure-docker: installing Debian's docker.io" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q docker.io busybox-static iptables iproute2 >/dev/null
fi

if ! pgrep -x dockerd >/dev/null 2>&1; then
  echo "ensure-docker: starting dockerd" >&2
  mkdir -p /var/log
  # A session of its own (setsid): not in the caller's process group, so a Ctrl-C in
  # `make test`, or the end of whatever job ran this script, does not take it down.
  setsid nohup dockerd >>/var/log/navarch-dockerd.log 2>&1 </dev/null &
fi

for _ in $(seq 1 120); do
  if answers; then
    exit 0
  fi
  sleep 0.5
done
echo "ensure-docker: dockerd did not answer within 60s; see /var/log/navarch-dockerd.log" >&2
exit 1
