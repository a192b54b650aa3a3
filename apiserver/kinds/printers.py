"""Small pieces of ``kubectl get`` output shared by the kinds' table rows.

Each function renders one cell the way Kubernetes' server-side printers do
(``pkg/printers/internalversion``), so that every kind words the same thing alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from apiserver.registry.strategy import Column
from apitypes.core import Container

NONE = "<none>"
UNKNOWN = "<unknown>"

AGE_DESCRIPTION = (
    "CreationTimestamp is a timestamp representing the server time when this object was created."
)
AGE_COLUMN = Column("Age", description=AGE_DESCRIPTION)
"""The AGE column every kind prints (its cell: ``age(metadata.creationTimestamp)``)."""


def format_labels(labels: Mapping[str, str] | None) -> str:
    """``k=v`` pairs sorted by key and joined by commas; ``<none>`` when empty
    (``labels.FormatLabels``)."""
    if not labels:
        return NONE
    return ",".join(f"{key}={labels[key]}" for key in sorted(labels))


def join_host_port(host: str, port: int) -> str:
    """``host:port``, with IPv6 hosts in brackets (``net.JoinHostPort``)."""
    if ":" in host:
        return f"[{host}]:{port}"
    return f"{host}:{port}"


def layout_container_cells(containers: Iterable[Container]) -> tuple[str, str]:
    """The CONTAINERS and IMAGES cells of a workload: names and images, comma-joined."""
    listed = list(containers)
    return (
        ",".join(container.name for container in listed),
        ",".join(container.image or "" for container in listed),
    )


__all__ = [
    "AGE_COLUMN",
    "AGE_DESCRIPTION",
    "NONE",
    "UNKNOWN",
    "format_labels",
    "join_host_port",
    "layout_container_cells",
]
