#!/usr/bin/env bash
# Build navarch's images locally, from Debian packages (no registry is pulled from or
# pushed to). `build-images.sh [FLAVOR...]` (default: node cp, the compose cluster's):
#
#   node    navarch/compose-node:current   a node: Debian's dockerd, iptables, iproute2,
#           conntrack, nftables, python3 and navarch (kubelet, network agent, kube-proxy),
#           started by deploy/compose/node/entrypoint.sh
#   cp      navarch/compose-cp:current     the control plane: etcd-server, haproxy, python3,
#           navarch
#   addon   navarch/navarch:current        python3 and navarch only: what cluster add-ons
#           run in pods (the DNS server of deploy/addons/dns.yaml)
#   host    navarch/compose-host:current   a whole machine for the three-host test
#           (testkit/hosts.py): the node's packages plus systemd as PID 1 (as kind's
#           node image), etcd-server, openssl and curl, i.e. what the AWS user-data
#           installs; Docker's and containerd's units enabled, etcd's disabled
#
# Each is two steps, each cached:
#   1. a Debian base: `debootstrap --variant=minbase bookworm` with the packages below,
#      imported with `docker import` as navarch/compose-base-<flavor>:<hash of the package
#      list and this script>; remade only when those change (about 40 s each).
#   2. navarch on top (deploy/compose/Dockerfile, with the flavor's files): the project's wheels, built
#      here from this checkout, installed offline into /opt/navarch. The image is tagged
#      navarch/compose-<flavor>:<hash of the sources, pyproject.toml and deploy/compose>
#      and labelled io.navarch.source-hash; when that tag exists, nothing is built.
# `:current` always names the images of this checkout; deploy/docker-compose.yml uses it.
#
# Needs root (debootstrap), debootstrap and a Docker Engine; deploy/compose/up.sh
# installs them. Prints the two image names.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
mirror="${NAVARCH_DEBIAN_MIRROR:-}"
cache="${NAVARCH_COMPOSE_CACHE:-/var/cache/navarch-compose}"
label=io.navarch.image=compose

node_packages=docker.io,iptables,iproute2,conntrack,nftables,python3,python3-venv,busybox-static,procps,ca-certificates,kmod
# Bump when the way the bases are made changes (they are remade only when this or a
# package list does).
base_recipe=bookworm-minbase-1
cp_packages=etcd-server,etcd-client,haproxy,python3,python3-venv,procps,ca-certificates,iproute2
addon_packages=python3,python3-venv,ca-certificates
host_packages=$node_packages,etcd-server,openssl,curl,systemd,systemd-sysv,dbus

# The Debian mirror this host's apt uses (the only place packages come from).
if [ -z "$mirror" ]; then
  mirror="$(sed -n 's/^URIs: *\(http[^ ]*debian\/\?\) *$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1 || true)"
  [ -n "$mirror" ] || mirror="$(awk '$1=="deb" && $2 ~ /^http/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)"
  [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
fi

# debootstrap mounts /proc and /sys inside the tree: unmount before removing anything.
remove_rootfs() {
  awk -v r="$1" '$2 == r || index($2, r "/") == 1 {print $2}' /proc/mounts | sort -r |
    while read -r m; do umount -l "$m" || true; done
  rm -rf --one-file-system "$1"
}

hash_of() { sha256sum | cut -c1-16; }

# A tree where systemd boots as a container's PID 1 (what kind's node image does): no
# consoles, no udev, no kernel-module or hardware units, journald not reading the
# kernel's ring buffer, an empty machine-id (made anew at each container's first boot).
# Docker's and containerd's units stay enabled; Debian's etcd.service is disabled (the
# AWS user-data disables it too: `navarch init` runs etcd as its own unit).
systemd_rootfs() {
  local r="$1" unit
  for unit in getty@tty1.service console-getty.service serial-getty@.service \
    systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket \
    systemd-udev-trigger.service systemd-modules-load.service systemd-remount-fs.service \
    sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount \
    sys-fs-fuse-connections.mount dev-hugepages.mount systemd-logind.service \
    apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
    fstrim.timer systemd-timesyncd.service systemd-firstboot.service; do
    ln -sf /dev/null "$r/etc/systemd/system/$unit"
  done
  rm -f "$r"/etc/systemd/system/multi-user.target.wants/etcd.service
  rm -f "$r"/etc/systemd/system/getty.target.wants/*
  ln -sf /lib/systemd/system/multi-user.target "$r/etc/systemd/system/default.target"
  mkdir -p "$r/etc/systemd/journald.conf.d"
  printf '[Journal]\nReadKMsg=no\nStorage=volatile\n' >"$r/etc/systemd/journald.conf.d/container.conf"
  : >"$r/etc/machine-id"
  rm -f "$r/var/lib/dbus/machine-id"
}

# A Debian base image with $2's packages, made once per package list.
base_image() {
  local flavor="$1" packages="$2"
  local tag
  tag="navarch/compose-base-$flavor:$(echo "$base_recipe $packages" | hash_of)"
  if docker image inspect "$tag" >/dev/null 2>&1; then
    echo "$tag"
    return
  fi
  command -v debootstrap >/dev/null || { echo "build-images: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
  local rootfs
  rootfs="$(mktemp -d /var/tmp/navarch-rootfs-XXXXXX)"
  mkdir -p "$cache/debs"
  echo "build-images: debootstrap bookworm ($flavor) from $mirror ..." >&2
  if ! debootstrap --variant=minbase --cache-dir="$cache/debs" --include="$packages" \
      bookworm "$rootfs" "$mirror" >"$cache/debootstrap-$flavor.log" 2>&1; then
    echo "build-images: debootstrap failed; see $cache/debootstrap-$flavor.log" >&2
    remove_rootfs "$rootfs"
    exit 1
  fi
  # Nothing inside ever runs apt: drop its lists and caches, and the docs.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/usr/share/doc/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*
  local changes=(--change 'CMD ["/bin/bash"]')
  if [ "$flavor" = host ]; then
    systemd_rootfs "$rootfs"
    # systemd's container interface: it learns it runs in a container from $container
    # (and shuts down on SIGRTMIN+3: the Dockerfile's STOPSIGNAL, which import cannot set).
    changes=(--change 'CMD ["/sbin/init"]' --change 'ENV container=docker')
  fi
  if ! tar -C "$rootfs" --numeric-owner -c . |
    docker import "${changes[@]}" --change "LABEL $label" - "$tag" >/dev/null; then
    echo "build-images: docker import of $tag failed" >&2
    remove_rootfs "$rootfs"
    exit 1
  fi
  remove_rootfs "$rootfs"
  echo "$tag"
}

# The project's wheels (navarch and its dependencies) for the image's Python (Debian
# bookworm's 3.11, as this host's), so that the image installs them offline.
wheels() {
  local out="$1"
  mkdir -p "$out/deps" "$out/navarch"
  # pip's own chatter (build back-end deprecation notes) goes to a log, shown on failure.
  if ! { "$python" -m pip wheel -q --no-deps -w "$out/navarch" "$root" &&
         "$python" -m pip wheel -q -w "$out/deps" "$root"; } >"$cache/pip-wheel.log" 2>&1; then
    cat "$cache/pip-wheel.log" >&2
    echo "build-images: building the wheels failed" >&2
    exit 1
  fi
  rm -f "$out"/deps/navarch-*.whl
}

# What the images are made of: the packages' sources (every one the wheel holds, so
# not tests/, bench/, hack/, docs/), pyproject.toml and this directory.
source_hash() {
  cd "$root"
  {
    git ls-files -co --exclude-standard -- pyproject.toml deploy/compose '*.py' '*.json' \
      ':!tests' ':!bench' ':!hack' ':!docs' ':!deploy/aws' 2>/dev/null |
      while read -r f; do [ -f "$f" ] && echo "$f"; done | sort | xargs sha256sum
  } | hash_of
}

# The image a flavor is tagged as, without its tag.
repo_of() {
  case "$1" in
    addon) echo navarch/navarch ;;
    *) echo "navarch/compose-$1" ;;
  esac
}

main() {
  local flavors=("$@") src flavor missing=()
  [ "${#flavors[@]}" -gt 0 ] || flavors=(node cp)
  src="$(source_hash)"
  for flavor in "${flavors[@]}"; do
    case "$flavor" in node | cp | addon | host) ;; *) echo "build-images: unknown flavor $flavor (node, cp, addon, host)" >&2; exit 2 ;; esac
    if docker image inspect "$(repo_of "$flavor"):$src" >/dev/null 2>&1; then
      docker tag "$(repo_of "$flavor"):$src" "$(repo_of "$flavor"):current"
      echo "$(repo_of "$flavor"):$src"
    else
      missing+=("$flavor")
    fi
  done
  [ "${#missing[@]}" -gt 0 ] || return 0
  local ctx
  ctx="$(mktemp -d /var/tmp/navarch-compose-ctx-XXXXXX)"
  trap 'rm -rf "$ctx"' RETURN
  wheels "$ctx/wheels"
  for flavor in "${missing[@]}"; do
    local base want packages
    want="$(repo_of "$flavor"):$src"
    rm -rf "$ctx/files"
    mkdir -p "$ctx/files"
    case "$flavor" in
      node)
        packages="$node_packages"
        install -D -m 0755 "$here/node/entrypoint.sh" "$ctx/files/usr/local/bin/navarch-node" ;;
      cp)
        packages="$cp_packages"
        install -D -m 0644 "$here/controlplane/haproxy.cfg" "$ctx/files/etc/haproxy/haproxy.cfg" ;;
      addon)
        packages="$addon_packages" ;;
      host)
        packages="$host_packages" ;;
    esac
    base="$(base_image "$flavor" "$packages")" || exit 1
    local stop=SIGTERM
    [ "$flavor" != host ] || stop=SIGRTMIN+3
    # The classic builder: Docker Engine 20.10's, and no buildx plugin is needed.
    if ! DOCKER_BUILDKIT=0 docker build -f "$here/Dockerfile" --build-arg "BASE=$base" \
      --build-arg "STOPSIGNAL=$stop" \
      --label "$label" --label "io.navarch.source-hash=$src" -t "$want" "$ctx" \
      >"$cache/build-$flavor.log" 2>&1; then
      tail -n 30 "$cache/build-$flavor.log" >&2
      echo "build-images: building $want failed; see $cache/build-$flavor.log" >&2
      exit 1
    fi
    docker tag "$want" "$(repo_of "$flavor"):current"
    echo "$want"
    # Older builds of this image are of no use: their tags go (layers still used stay).
    docker images --format '{{.Repository}}:{{.Tag}}' --filter "reference=$(repo_of "$flavor")" |
      grep -v -e ":current$" -e ":$src$" | xargs -r docker rmi >/dev/null 2>&1 || true
  done
}

main "$@"
