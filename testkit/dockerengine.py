"""Restart the host's Docker Engine for real, for the tests that check what survives it.

A restart stops every container on the host (those without a restart policy stay
stopped), so the tests that call it run only where that is wanted: ``restart_allowed``
says whether this is such a machine (CI, or ``NAVARCH_TEST_RESTART_DOCKER=1``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from pathlib import Path

from testkit.processes import wait_until

LOG = Path("/var/log/navarch-dockerd.log")
"""Where an engine this module starts writes (as ``deploy/ensure-docker.sh``'s does)."""


def restart_allowed() -> str | None:
    """None where restarting the host's engine is allowed, else why not."""
    if os.environ.get("CI") == "true" or os.environ.get("NAVARCH_TEST_RESTART_DOCKER") == "1":
        return None
    return (
        "restarting the host's Docker Engine stops every container on this machine: "
        "runs under CI=true or with NAVARCH_TEST_RESTART_DOCKER=1"
    )


def _answers() -> bool:
    done = subprocess.run(["docker", "info"], capture_output=True, check=False)
    return done.returncode == 0


def _systemd_unit() -> str | None:
    if not Path("/run/systemd/system").is_dir() or shutil.which("systemctl") is None:
        return None
    done = subprocess.run(
        ["systemctl", "is-active", "docker.service"], capture_output=True, text=True, check=False
    )
    return "docker.service" if done.stdout.strip() == "active" else None


def _dockerd_pid() -> int:
    """The host's dockerd: the one in this PID namespace (the engines inside node
    containers show up in ``pgrep`` too)."""
    done = subprocess.run(["pgrep", "-x", "dockerd"], capture_output=True, text=True, check=False)
    own = os.readlink("/proc/self/ns/pid")
    pids = []
    for pid in (int(p) for p in done.stdout.split()):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{pid}/ns/pid") == own:
                pids.append(pid)
    if len(pids) != 1:
        raise RuntimeError(f"expected one dockerd in this PID namespace, found {pids or 'none'}")
    return pids[0]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def restart_engine(timeout: float = 120.0) -> None:
    """Stop the host's engine as its service manager would (SIGTERM: it stops its
    containers and exits), start it again with the same command line, and return once
    it answers. Under systemd, ``systemctl restart docker``."""
    unit = _systemd_unit()
    if unit is not None:
        subprocess.run(["systemctl", "restart", unit], check=True, timeout=timeout)
        wait_until(_answers, timeout, 0.2, "the Docker Engine answering after its restart")
        return
    pid = _dockerd_pid()
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]
    os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not _alive(pid), timeout, 0.2, f"dockerd (pid {pid}) exiting")
    with LOG.open("ab") as log:
        # Its own session, so that it outlives this test run as the one it replaces did.
        subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )
    wait_until(_answers, timeout, 0.2, "the Docker Engine answering after its restart")
