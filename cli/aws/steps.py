"""What every step of ``navarch aws`` shares: the clients, the report, the waits.

Each step (``network``, ``access``, ``package``, ``instances``) is a mixin over
``Steps``; ``provision.Provisioner`` puts them together.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from cli.aws import kubeconfig
from cli.aws.session import AwsError, Identity, forbid_mutations, identity
from cli.aws.spec import CLUSTER_TAG, REGION_TAG, ClusterSpec

T = TypeVar("T")


class Steps:
    """The cluster ``spec`` in the session's account and region: clients and helpers."""

    def __init__(
        self,
        session: Any,
        spec: ClusterSpec,
        *,
        echo: Callable[[str], None] = print,
        dry_run: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        poll_interval: float = 5.0,
        ssh_runner: kubeconfig.Runner = kubeconfig.run_ssh,
    ) -> None:
        if dry_run:
            forbid_mutations(session)
        self.spec = spec
        self.echo = echo
        self.dry_run = dry_run
        self.sleep = sleep
        self.clock = clock
        self.poll_interval = poll_interval
        self.ssh_runner = ssh_runner
        self.session = session
        self.ec2 = session.client("ec2")
        self.iam = session.client("iam")
        self.ssm = session.client("ssm")
        self.s3 = session.client("s3")
        self._identity: Identity | None = None

    @property
    def identity(self) -> Identity:
        if self._identity is None:
            self._identity = identity(self.session)
        return self._identity

    def report(self, kind: str, ident: str, action: str) -> None:
        self.echo(f"{kind:<16} {ident:<34} {action}")

    def created(self) -> str:
        return "would create" if self.dry_run else "created"

    def until(self, what: str, check: Callable[[], T | None], deadline: float) -> T:
        """Poll ``check`` until it returns something true, or AwsError at ``deadline``."""
        while True:
            got = check()
            if got:
                return got
            if self.clock() >= deadline:
                raise AwsError(f"timed out waiting for {what}")
            self.sleep(self.poll_interval)


def tag_value(resource: dict[str, Any], key: str) -> str | None:
    for tag in resource.get("Tags") or []:
        if tag["Key"] == key:
            value: str = tag["Value"]
            return value
    return None


def ours(tags: list[dict[str, str]] | None, spec: ClusterSpec) -> bool:
    found = {t["Key"]: t["Value"] for t in tags or []}
    return found.get(CLUSTER_TAG) == spec.name and found.get(REGION_TAG) == spec.region


def error_code(err: Exception) -> str:
    response = getattr(err, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))
