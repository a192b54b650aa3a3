#!/usr/bin/env bash
# make compose-down: stop and remove the compose cluster's containers and network.
# Its volumes (etcd's data, the nodes' engines and kubelets) stay, so compose-up brings
# the same cluster back, unless PURGE=1 (docker-compose down --volumes).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
if ! compose_cmd >/dev/null; then
  echo "compose: neither docker compose nor docker-compose is installed; nothing to stop" >&2
  exit 0
fi
if [ "${PURGE:-0}" = 1 ]; then
  compose down --volumes --remove-orphans
else
  compose down --remove-orphans
fi
