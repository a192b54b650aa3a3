"""The real ``kubectl`` against a test's apiserver, reading no kubeconfig of the machine."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from testkit.testca import kubectl_flags

Kubectl = Callable[..., subprocess.CompletedProcess[str]]
"""``kubectl(*args, stdin=None, check=True)``: run one command, fail on a non-zero exit
(unless ``check=False``). ``.base`` is the command line before the arguments, ``.env``
its environment, for callers that start kubectl themselves (``-w``)."""


def kubectl_runner(server: str, namespace: str, cache_dir: Path) -> Kubectl:
    """A ``Kubectl`` for ``server`` in ``namespace``, with its discovery cache in
    ``cache_dir``; an HTTPS ``server`` is verified against the session's test CA."""
    base = [
        "kubectl",
        "--server", server,
        *kubectl_flags(server),
        "--cache-dir", str(cache_dir),
        "-n", namespace,
    ]  # fmt: skip
    env = {**os.environ, "KUBECONFIG": str(cache_dir.parent / "no-kubeconfig")}

    def run(
        *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [*base, *args],
            check=False,
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    run.base = base  # type: ignore[attr-defined]
    run.env = env  # type: ignore[attr-defined]
    return run
