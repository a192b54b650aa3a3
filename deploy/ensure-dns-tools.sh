#!/usr/bin/env bash
# Make sure the DNS test and benchmark clients are on PATH: `dig` (Debian's
# bind9-dnsutils) for the cluster DNS tests, `dnsperf` for `python -m bench dns`.
# Installed with apt when missing; neither starts a daemon.
set -euo pipefail

missing=()
command -v dig >/dev/null 2>&1 || missing+=(bind9-dnsutils)
command -v dnsperf >/dev/null 2>&1 || missing+=(dnsperf)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-dns-tools: missing ${missing[*]} and not root; apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "ensure-dns-tools: installing Debian's ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q "${missing[@]}" >/dev/null
command -v dig >/dev/null && command -v dnsperf >/dev/null || {
  echo "ensure-dns-tools: dig or dnsperf is still missing" >&2; exit 1; }
