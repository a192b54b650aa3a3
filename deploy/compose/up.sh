#!/usr/bin/env bash
# make compose-up: install what is missing (Docker, debootstrap, docker-compose), build
# the images (cached), start the compose cluster, wait until its nodes are Ready, and
# merge the kubeconfig context navarch-compose (made current).
#
# Settings (environment): COMPOSE_PROJECT_NAME (navarch), NAVARCH_COMPOSE_API_PORT
# (7443: haproxy on 127.0.0.1), NAVARCH_COMPOSE_NET (10.120.0: the project bridge's
# first three octets), NAVARCH_COMPOSE_CLUSTER_CIDR (10.244.0.0/16: the pods'),
# NAVARCH_COMPOSE_TIMEOUT (seconds to wait for the nodes, 180).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
python="$root/.venv/bin/python"

"$here/ensure-tools.sh"
"$here/build-images.sh" node cp addon >/dev/null
cd "$root"
"$python" -m cli.compose up --timeout "${NAVARCH_COMPOSE_TIMEOUT:-180}"
"$root/.venv/bin/navctl" --context navarch-compose get nodes -o wide
