#!/bin/bash
# A compose node's PID 1: the node's own Docker Engine, then its kubelet, network agent
# and kube-proxy (iptables mode), each restarted when it exits (back-off 1 s doubling to
# 30 s). On SIGTERM (docker stop / restart) the agents stop first, then the engine,
# which stops the pods' containers; the next start brings them back through the kubelet.
#
# Given by deploy/docker-compose.yml: NODE_NAME, NODE_INDEX (1..), NODE_IP (the node's
# address on the project bridge) and CLUSTER_CIDR (the pods' addresses); and, mounted
# read-only at /etc/navarch/pki from the host's PKI (cli/composepki.py), the node's
# credentials: kubelet.conf (system:node:<name>), kube-proxy.conf, network-agent.conf
# (each naming haproxy, with the cluster CA), the kubelet's serving pair kubelet.crt/key
# and ca.crt.
# Logs: each daemon's lines on the container's output, prefixed with its name, and in
# /var/log/navarch/<daemon>.log.
set -uo pipefail
: "${NODE_NAME:?}" "${NODE_INDEX:?}" "${NODE_IP:?}"
pki=/etc/navarch/pki
CLUSTER_CIDR="${CLUSTER_CIDR:-10.244.0.0/16}"
SERVICE_CIDR="${SERVICE_CIDR:-10.96.0.0/12}"
logs=/var/log/navarch
mkdir -p "$logs" /etc/navarch /etc/docker /var/lib/navarch

say() { echo "navarch-node[$NODE_NAME]: $*"; }

# What `--security-opt systempaths=unconfined` would give (compose cannot ask for it):
# the engine and the network agent write sysctls and bridge settings.
mount -o remount,rw /proc/sys 2>/dev/null || say "cannot remount /proc/sys writable"
mount -o remount,rw /sys 2>/dev/null || say "cannot remount /sys writable"

for file in ca.crt kubelet.conf kubelet.crt kubelet.key kube-proxy.conf network-agent.conf; do
  [ -r "$pki/$file" ] || say "missing $pki/$file (the host's PKI: python -m cli.compose pki)"
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
# A stale pid file from a killed engine makes dockerd refuse to start.
rm -f /var/run/docker.pid /run/docker.pid

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

stop() {
  say "stopping"
  for name in kube-proxy network-agent kubelet; do
    [ -n "${pids[$name]:-}" ] && kill -TERM "${pids[$name]}" 2>/dev/null
  done
  for name in kube-proxy network-agent kubelet; do
    [ -n "${pids[$name]:-}" ] && wait "${pids[$name]}" 2>/dev/null
  done
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

# The network agent, kube-proxy and the kubelet all start with the engine, so that
# their Python start-ups overlap the engine's (the kubelet retries the engine every
# 0.25-2 s until it answers).
keep network-agent navarch network-agent --kubeconfig "$pki/network-agent.conf" \
  --cluster-cidr "$CLUSTER_CIDR" --service-cluster-ip-range "$SERVICE_CIDR"
# LoadBalancer IPs come from the project bridge (docs/network.md): the node that owns
# one adds it to its interface there, so it answers ARP (strict ARP keeps the others
# quiet).
bridge_if="$(ip -o -4 addr show to "$NODE_IP" | awk '{sub(/@.*/, "", $2); print $2; exit}')"
keep kube-proxy navarch proxy --kubeconfig "$pki/kube-proxy.conf" --hostname-override "$NODE_NAME" \
  --cluster-cidr "$CLUSTER_CIDR" --lb-announce-interface "${bridge_if:-eth0}"
keep dockerd dockerd --config-file /etc/docker/daemon.json

# Only who the apiserver vouches for (TokenReview), with a grant on nodes/*
# (SubjectAccessReview); the apiserver verifies this serving certificate.
keep kubelet navarch kubelet --node-name "$NODE_NAME" --kubeconfig "$pki/kubelet.conf" \
  --node-ip "$NODE_IP" --address 0.0.0.0 --port 10250 --root-dir /var/lib/navarch/kubelet \
  --tls-cert-file "$pki/kubelet.crt" --tls-private-key-file "$pki/kubelet.key" \
  --client-ca-file "$pki/ca.crt" --anonymous-auth false --authentication-token-webhook \
  --authorization-mode Webhook --cluster-dns "${CLUSTER_DNS:-10.96.0.10}" \
  --cluster-domain cluster.local
say "started: ${!pids[*]}"

while true; do
  sleep 3600 & wait $!
done
