#!/usr/bin/env bash
# What the compose cluster and its tests need on the host: a Docker Engine
# (deploy/ensure-docker.sh), debootstrap (to build the images) and docker-compose (unless
# `docker compose` answers), installed from Debian's packages when missing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

"$root/deploy/ensure-docker.sh"
missing=()
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
compose_cmd >/dev/null || missing+=(docker-compose)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "compose: ${missing[*]} missing and not root; apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "compose: installing Debian's ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
fi
