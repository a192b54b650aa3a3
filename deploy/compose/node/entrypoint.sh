#!/bin/bash
# A compose node's PID 1: the node's own Docker Engine, then `navarch join`, the code
# path of every other host (cli/bootstrap): discovery with the bootstrap token and the
# CA's hash, the kubelet's TLS bootstrap (its client and serving certificates from CSRs
# the controller-manager approves and signs), then kube-proxy and the network agent,
# run as the node. systemd is not PID 1 here: navarch's supervisor runs the units.
# A node that already joined (its kubelet.conf and join record are on its volumes)
# comes back without discovery: join starts its units again. On SIGTERM (docker stop /
# restart) the supervisor stops the daemons first, then the engine stops, which stops
# the pods' containers; the next start brings them back through the kubelet.
#
# Given by deploy/docker-compose.yml: NODE_NAME, NODE_INDEX (1..), NODE_IP (the node's
# address on the project bridge), API_ENDPOINT (haproxy, host:port) and CLUSTER_CIDR
# (the pods' addresses, routed locally before anything starts); and, mounted read-only
# at /etc/navarch-join from the host (cli/composepki.py), only `token` (the bootstrap
# token) and `ca-cert-hash`. /etc/navarch and /var/lib/navarch are the node's volumes.
# Logs: the engine's and join's lines on the container's output, prefixed with their
# names, as are the units' (the supervisor writes them to /var/log/navarch/<unit>.log).
set -uo pipefail
: "${NODE_NAME:?}" "${NODE_INDEX:?}" "${NODE_IP:?}" "${API_ENDPOINT:?}"
join_dir=/etc/navarch-join
run_dir=/var/lib/navarch/run
CLUSTER_CIDR="${CLUSTER_CIDR:-10.244.0.0/16}"
SERVICE_CIDR="${SERVICE_CIDR:-10.96.0.0/12}"
logs=/var/log/navarch
mkdir -p "$logs" /etc/navarch /etc/docker /var/lib/navarch

say() { echo "navarch-node[$NODE_NAME]: $*"; }

# What `--security-opt systempaths=unconfined` would give (compose cannot ask for it):
# the engine and the network agent write sysctls and bridge settings.
mount -o remount,rw /proc/sys 2>/dev/null || say "cannot remount /proc/sys writable"
mount -o remount,rw /sys 2>/dev/null || say "cannot remount /sys writable"

for file in token ca-cert-hash; do
  [ -r "$join_dir/$file" ] || say "missing $join_dir/$file (the host's: python -m cli.compose pki)"
done

# Never off the machine (docs/network.md): the service and cluster CIDRs are routed
# here before anything runs, so what kube-proxy or the pod routes do not take is
# dropped, not sent to the default gateway. The network agent's own code does it (a
# dummy device, or an ifb one where the kernel has no dummy driver), and the agent
# keeps them in place afterwards.
python3 -c 'import sys
from netagent.localroutes import ensure_blackhole, ensure_service_route
ensure_service_route(sys.argv[1])
ensure_blackhole(sys.argv[2])' "$SERVICE_CIDR" "$CLUSTER_CIDR" || say "could not route $SERVICE_CIDR and $CLUSTER_CIDR locally"
sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 2>/dev/null || true

# The inner engine: its docker0 and default pools in 10.121.<n>.0/24, which overlaps
# none of the outer networks; its containers' cgroups under this container's own (the
# host's v1 hierarchy is mounted here), so the node's memory counts its pods.
own_cgroup="$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3; exit}' /proc/self/cgroup)"
cgroup_parent=""
if [ -n "$own_cgroup" ] && [ "$own_cgroup" != "/" ]; then
  cgroup_parent="\"cgroup-parent\": \"$own_cgroup/docker\","
fi
cat > /etc/docker/daemon.json <<EOF
{
  "bip": "10.121.$NODE_INDEX.1/25",
  "default-address-pools": [{"base": "10.121.$NODE_INDEX.128/25", "size": 28}],
  "storage-driver": "overlay2",
  "exec-opts": ["native.cgroupdriver=cgroupfs"],
  $cgroup_parent
  "log-driver": "json-file",
  "log-opts": {"max-size": "10m", "max-file": "2"},
  "shutdown-timeout": 5
}
EOF
# A stale pid file from a killed engine makes dockerd refuse to start; the supervisor's
# (on the volume) would name processes of the container that ran before.
rm -f /var/run/docker.pid /run/docker.pid "$run_dir"/*.pid

declare -A pids=()

# keep NAME CMD...: run CMD, restart it when it exits, until this node stops.
keep() {
  local name="$1"
  shift
  (
    child=""
    trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 0' TERM INT
    delay=1
    while true; do
      started=$SECONDS
      "$@" > >(sed -u "s/^/$name: /" | tee -a "$logs/$name.log") 2>&1 &
      child=$!
      wait "$child"
      code=$?
      child=""
      say "$name exited ($code); restarting in ${delay}s"
      sleep "$delay" & wait $!
      if (( SECONDS - started > 30 )); then delay=1; else delay=$(( delay * 2 > 30 ? 30 : delay * 2 )); fi
    done
  ) &
  pids[$name]=$!
}

alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# The supervisor `navarch join` started (detached): SIGTERM makes it stop its units
# (latest first) and exit.
stop_units() {
  local pid
  pid="$(cat "$run_dir/supervisor.pid" 2>/dev/null)" || return 0
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 300); do
    alive "$pid" || return 0
    sleep 0.1
  done
  say "the supervisor did not stop in 30s; killing it"
  kill -KILL "$pid" 2>/dev/null
}

stop() {
  say "stopping"
  [ -n "${pids[join]:-}" ] && kill -TERM "${pids[join]}" 2>/dev/null && wait "${pids[join]}" 2>/dev/null
  stop_units
  kill -TERM "${pids[dockerd]}" 2>/dev/null
  wait "${pids[dockerd]}" 2>/dev/null
  # The engine removed its containers' cgroups; the parent it made them in is ours to
  # remove, or the outer engine could not remove this container's cgroup.
  if [ -n "$own_cgroup" ] && [ "$own_cgroup" != "/" ]; then
    find /sys/fs/cgroup/*"$own_cgroup"/docker -depth -type d -exec rmdir {} + 2>/dev/null || true
  fi
  say "stopped"
  exit 0
}
trap stop TERM INT

# The units' logs on the container's output too (-F: they may not exist yet).
for unit in supervisor navarch-kubelet navarch-proxy navarch-network-agent; do
  tail -n0 -F "$logs/$unit.log" 2>/dev/null | sed -u "s/^/${unit#navarch-}: /" &
done

# The engine and the join start together, so that join's discovery overlaps the
# engine's start-up (the kubelet retries the engine every 0.25-2 s until it answers).
keep dockerd dockerd --config-file /etc/docker/daemon.json

# LoadBalancer IPs come from the project bridge (docs/network.md): the node that owns
# one adds it to its interface there, so it answers ARP (strict ARP keeps the others
# quiet). That, and the kubelet's cluster DNS, are this cluster's own daemon settings.
bridge_if="$(ip -o -4 addr show to "$NODE_IP" | awk '{sub(/@.*/, "", $2); print $2; exit}')"
# Until it succeeds (a join that failed, e.g. the token never registered, is tried
# again; it starts over where nothing was completed).
(
  child=""
  trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 0' TERM INT
  delay=2
  while true; do
    NAVARCH_BOOTSTRAP_TOKEN="$(cat "$join_dir/token" 2>/dev/null)" navarch join "$API_ENDPOINT" \
      --discovery-token-ca-cert-hash "$(cat "$join_dir/ca-cert-hash" 2>/dev/null)" \
      --node-name "$NODE_NAME" --node-ip "$NODE_IP" --init-system supervisor --timeout 600 \
      --kubelet-arg "cluster-dns=${CLUSTER_DNS:-10.96.0.10}" \
      --proxy-arg "lb-announce-interface=${bridge_if:-eth0}" > >(sed -u "s/^/join: /") 2>&1 &
    child=$!
    wait "$child" && break
    child=""
    say "navarch join failed; again in ${delay}s"
    sleep "$delay" & wait $!
    delay=$(( delay * 2 > 30 ? 30 : delay * 2 ))
  done
) &
pids[join]=$!
say "started: dockerd, navarch join"

while true; do
  sleep 3600 & wait $!
done
