"""Never off the machine: the service CIDR and the cluster CIDR are routed locally.

Without these routes a packet to a ClusterIP that kube-proxy has not (or not yet)
rewritten, or to a pod IP no bridge holds, follows the default route out of the
machine. With them:

- the service CIDR goes to ``navarch-svc0``, a ``dummy`` interface (as kube-proxy's
  IPVS mode does with ``kube-ipvs0``; an ``ifb`` one where the kernel has no dummy
  driver): a locally generated packet finds a route, so ``nat OUTPUT`` DNAT still
  applies, and whatever is not rewritten is swallowed by the device (a ``blackhole``
  or ``unreachable`` route would fail the connect before ``nat OUTPUT`` sees it);
- the cluster CIDR is a ``blackhole`` route with a high metric: the pod bridges'
  connected ``/24`` routes and the network agent's ``via`` routes are more specific.

``ensure``/``remove`` do exactly that. ``acquire``/``release`` add bookkeeping for
hosts that run several local clusters: each holder (a cluster's data dir) is noted in
``/run/navarch/local-routes/``, and ``release`` removes the service route only when no
other holder still uses it (and a cluster CIDR's blackhole only when no other holder
has the same one).
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from netagent.kernel import CommandError, ip_json, run

log = logging.getLogger(__name__)

SERVICE_DEVICE = "navarch-svc0"
HOST_ADDRESS = "10.123.0.1"
"""The host's address for pods of a local cluster (on ``navarch-svc0``): where an
apiserver that every node shares is reached from pods, as the ``kubernetes`` Service's
endpoint (pods cannot be sent to 127.0.0.1). ``docs/network.md`` reserves 10.123.0.0/24."""
BLACKHOLE_METRIC = 4000
REGISTRY = Path(os.environ.get("NAVARCH_LOCAL_ROUTES_DIR", "/run/navarch/local-routes"))


def _link_exists(name: str) -> bool:
    try:
        ip_json("link", "show", "dev", name)
    except CommandError:
        return False
    return True


SINK_TYPES = ("dummy", "ifb")
"""Device types that drop what is routed to them. ``dummy`` where the kernel has it;
``ifb`` where it has not (a kernel built without the dummy driver, as some container
hosts are): an ifb device drops every packet that tc did not redirect to it, and is
NOARP, so it swallows the same way."""


def _add_sink(device: str) -> None:
    last: CommandError | None = None
    for kind in SINK_TYPES:
        try:
            run(["ip", "link", "add", device, "type", kind])
            return
        except CommandError as err:
            if _link_exists(device):  # another process made it just now: fine
                return
            last = err
    assert last is not None
    raise last


def ensure_service_route(service_cidr: str, device: str = SERVICE_DEVICE) -> None:
    """``service_cidr dev navarch-svc0`` (the sink device made and set up first), and
    the device holding ``HOST_ADDRESS`` (a local address: what reaches it is delivered
    to the host, never swallowed)."""
    if not _link_exists(device):
        _add_sink(device)
    run(["ip", "link", "set", device, "up"])
    run(["ip", "route", "replace", service_cidr, "dev", device])
    run(["ip", "addr", "replace", f"{HOST_ADDRESS}/32", "dev", device])


def swallowed(device: str = SERVICE_DEVICE) -> int:
    """Packets the sink device has swallowed (a dummy counts them as sent, an ifb as
    dropped on receipt)."""
    stats = ip_json("-s", "link", "show", "dev", device)[0]["stats64"]
    return int(stats["tx"]["packets"]) + int(stats["rx"].get("dropped", 0))


def ensure_blackhole(cluster_cidr: str) -> None:
    run(["ip", "route", "replace", "blackhole", cluster_cidr, "metric", str(BLACKHOLE_METRIC)])


def ensure(service_cidr: str | None, cluster_cidrs: list[str]) -> None:
    """Route ``service_cidr`` and ``cluster_cidrs`` locally; idempotent."""
    if service_cidr:
        ensure_service_route(service_cidr)
    for cidr in cluster_cidrs:
        ensure_blackhole(cidr)


def remove_service_route(device: str = SERVICE_DEVICE) -> None:
    """Delete the dummy device (its routes go with it)."""
    if _link_exists(device):
        run(["ip", "link", "del", device], check=False)


def remove_blackhole(cluster_cidr: str) -> None:
    run(["ip", "route", "del", "blackhole", cluster_cidr, "metric", str(BLACKHOLE_METRIC)],
        check=False)  # fmt: skip


def remove(service_cidr: str | None, cluster_cidrs: list[str]) -> None:
    if service_cidr:
        remove_service_route()
    for cidr in cluster_cidrs:
        remove_blackhole(cidr)


def route_get(address: str) -> dict[str, Any]:
    """``ip route get address``: the route a packet to it would take now (for a
    blackhole, which ``route get`` refuses with EINVAL, that route with its type)."""
    try:
        found = ip_json("route", "get", address)
    except CommandError:
        found = ip_json("route", "show", "type", "blackhole", "match", address)
        return {**found[-1], "type": "blackhole"} if found else {}
    return dict(found[0]) if found else {}


def default_gateways() -> set[str]:
    return {
        str(r["gateway"])
        for r in ip_json("route", "show", "default")
        if r.get("dst") == "default" and r.get("gateway")
    }


def stays_local(address: str) -> tuple[bool, str]:
    """Whether a packet to ``address`` would stay on this machine, and the route: not
    through a default gateway, not by the default route's device, not unreachable."""
    route = route_get(address)
    text = json.dumps(route, sort_keys=True)
    if not route:
        return False, "no route"
    if route.get("gateway") and route["gateway"] in default_gateways():
        return False, text
    if route.get("type") in ("unreachable", "prohibit"):
        return False, text
    return True, text


# --- holders ------------------------------------------------------------------------------


def _holder_file(holder: str) -> Path:
    return REGISTRY / (hashlib.sha256(holder.encode()).hexdigest()[:16] + ".json")


def _holders() -> list[dict[str, Any]]:
    found = []
    for path in sorted(REGISTRY.glob("*.json")) if REGISTRY.is_dir() else []:
        try:
            found.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    return found


def acquire(holder: str, service_cidr: str | None, cluster_cidrs: list[str]) -> None:
    """Note ``holder`` as a user of these routes, then ensure them."""
    REGISTRY.mkdir(parents=True, exist_ok=True)
    doc = {"holder": holder, "serviceCIDR": service_cidr, "clusterCIDRs": cluster_cidrs}
    _holder_file(holder).write_text(json.dumps(doc))
    ensure(service_cidr, cluster_cidrs)


def release(holder: str, in_use: Callable[[str], bool]) -> list[str]:
    """Forget ``holder`` and remove the routes it used that no other holder for which
    ``in_use(holder)`` is true still uses; what was removed."""
    path = _holder_file(holder)
    mine: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        mine = json.loads(path.read_text())
    path.unlink(missing_ok=True)
    others = [h for h in _holders() if h.get("holder") != holder and in_use(str(h.get("holder")))]
    removed = []
    service = mine.get("serviceCIDR")
    if service and not any(h.get("serviceCIDR") for h in others):
        remove_service_route()
        removed.append(f"{service} dev {SERVICE_DEVICE}")
    for cidr in mine.get("clusterCIDRs") or []:
        if any(_same(cidr, c) for h in others for c in h.get("clusterCIDRs") or []):
            continue
        remove_blackhole(cidr)
        removed.append(f"blackhole {cidr}")
    return removed


def _same(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_network(a, strict=False) == ipaddress.ip_network(b, strict=False)
    except ValueError:
        return a == b
