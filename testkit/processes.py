"""Real processes for integration tests: etcd and navarch daemons, started and stopped
for real, each on free loopback ports, with logs kept for failure reports."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from apiclient import ClientConfig
from apiserver.etcd_server import EtcdProcess, free_port
from testkit.testca import server_flags, session_ca


def wait_until(
    condition: Callable[[], object], timeout: float = 30.0, interval: float = 0.05, what: str = ""
) -> object:
    """Poll ``condition`` until it returns something truthy; raise on the deadline."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as err:
            last_error = err
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what or condition}: {last_error}")


NAVARCH = [sys.executable, "-m", "cli.navarch"]


@dataclass
class DaemonProcess:
    """One navarch daemon process (``navarch <args>``) with its log file."""

    args: Sequence[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    prefix: Sequence[str] = ()
    """Run through this command (``ip netns exec NAME``)."""

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*self.prefix, *NAVARCH, *self.args],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
                start_new_session=True,
                cwd=Path(__file__).resolve().parents[1],
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def wait_for(
        self, check: Callable[[], bool], timeout: float, *, what: str, interval: float = 0.05
    ) -> None:
        """Poll ``check`` until it holds (TimeoutError on the deadline); once the
        process has exited, the error it ends with carries the log's tail."""

        def ready() -> bool:
            if not self.alive():
                raise RuntimeError(f"{what}: the process exited:\n{self.log_tail()}")
            return check()

        wait_until(ready, timeout, interval, what=what)


@dataclass
class ServingProcess(DaemonProcess):
    """A daemon that serves HTTP on a loopback ``port``; ``start`` returns once it is
    ready (``wait_ready``, each kind's own test)."""

    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        super().start()
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 60.0) -> None:
        raise NotImplementedError


@dataclass
class ApiServerProcess(ServingProcess):
    """A test apiserver: HTTPS with a serving certificate of the session's test CA
    (``testkit.testca``; also its ``--client-ca-file``), ``--authorization-mode
    AlwaysAllow`` and anonymous requests let in, so that tests about the API need only
    the CA. ``ca_file`` None: plain HTTP (``create(..., tls=False)``: the benchmarks,
    whose recorded numbers were measured so; no test needs it).

    Clients: ``client()`` (httpx), ``verify`` (httpx's ``verify=``), ``client_config()``
    (navarch's apiclient), ``kubeconfig`` (kubectl, navctl, the daemons),
    ``daemon_flags()``, ``connect()`` (a raw socket), ``ca_file``.
    """

    ca_file: Path | None = None

    @classmethod
    def create(
        cls,
        etcd_url: str,
        log_dir: Path,
        *extra: str,
        port: int = 0,
        tls: bool = True,
        bind_address: str = "127.0.0.1",
    ) -> ApiServerProcess:
        port = port or free_port()
        serving: list[str] = []
        ca_file = None
        if tls:
            ca = session_ca()
            cert, key = ca.serving_cert([bind_address])
            serving = [
                "--tls-cert-file", str(cert), "--tls-private-key-file", str(key),
                "--client-ca-file", str(ca.ca_file),
            ]  # fmt: skip
            ca_file = ca.ca_file
        args = [
            "apiserver",
            "--etcd-servers", etcd_url,
            "--bind-address", bind_address,
            "--secure-port", str(port),
            *serving,
            "--authorization-mode", "AlwaysAllow",
            # Test kubelets listen on loopback: the apiserver refuses that unless told.
            "--kubelet-allowed-addresses", "127.0.0.0/8",
            *extra,
        ]  # fmt: skip
        return cls(
            args=args, log_path=log_dir / f"apiserver-{port}.log", port=port, ca_file=ca_file
        )

    @property
    def url(self) -> str:
        return f"{'https' if self.ca_file else 'http'}://127.0.0.1:{self.port}"

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """httpx's ``verify=``: a TLS context trusting the test CA (only it)."""
        return ssl.create_default_context(cafile=self.ca_file) if self.ca_file else True

    @property
    def kubeconfig(self) -> Path:
        """A kubeconfig for this apiserver: URL, the session CA and the test user's
        client certificate (``testca.TestCA.kubeconfig``)."""
        return session_ca().kubeconfig(self.url)

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client for this apiserver: ``base_url`` and the CA set, ``kwargs``
        (timeout...) as httpx takes them."""
        return httpx.Client(base_url=self.url, verify=self.verify, **kwargs)

    def connect(self) -> socket.socket:
        """A raw connection for requests written by hand: TLS (the certificate verified)
        when this apiserver serves HTTPS."""
        sock = socket.create_connection(("127.0.0.1", self.port))
        verify = self.verify
        if isinstance(verify, ssl.SSLContext):
            return verify.wrap_socket(sock, server_hostname="127.0.0.1")
        return sock

    def client_config(self, **kwargs: Any) -> ClientConfig:
        """navarch's client configuration for this apiserver (``kwargs``: namespace,
        timeout...)."""
        ca = str(self.ca_file) if self.ca_file else None
        return ClientConfig(server=self.url, ca_file=ca, **kwargs)

    def daemon_flags(self, flag: str = "--server") -> list[str]:
        """How a navarch daemon is pointed at this apiserver (``testca.server_flags``)."""
        return server_flags(self.url, flag)

    def wait_ready(self, timeout: float = 60.0) -> None:
        def ready() -> bool:
            try:
                return (
                    httpx.get(f"{self.url}/readyz", timeout=1, verify=self.verify).status_code
                    == 200
                )
            except httpx.HTTPError:
                return False

        self.wait_for(ready, timeout, what=f"apiserver on {self.port} ready")


def controller_manager(
    server: str, log_dir: Path, *args: str, name: str = "controller-manager"
) -> DaemonProcess:
    """A real ``navarch controller-manager`` process against ``server`` (not started).

    Defaults suit tests: short leader-election periods so that a standby takes over in
    a few seconds.
    """
    argv = [
        "controller-manager",
        *server_flags(server),
        "--leader-elect-lease-duration", "4s",
        "--leader-elect-renew-deadline", "3s",
        "--leader-elect-retry-period", "0.5s",
        "--log-level", "info",
        *args,
    ]  # fmt: skip
    return DaemonProcess(args=argv, log_path=log_dir / f"{name}.log")


def start_etcd(data_dir: Path) -> EtcdProcess:
    etcd = EtcdProcess(data_dir=data_dir, log_path=data_dir.parent / f"{data_dir.name}.log")
    etcd.start()
    return etcd


@contextlib.contextmanager
def controllers(server: str, log_dir: Path, suite: str, *names: str) -> Iterator[DaemonProcess]:
    """A controller-manager running only the controllers ``names`` (its own Lease, named
    after ``suite``) against ``server``, stopped on exit."""
    lease = f"kcm-{suite}-{uuid.uuid4().hex[:6]}"
    manager = controller_manager(
        server, log_dir, "--leader-elect-resource-name", lease, "--controllers", ",".join(names),
        name=f"cm-{suite}",
    )  # fmt: skip
    manager.start()
    try:
        yield manager
    finally:
        manager.stop()


@contextlib.contextmanager
def scheduler_and_controllers(
    server: str, log_dir: Path, suite: str, *manager_args: str
) -> Iterator[None]:
    """The real scheduler (no leader election) and controller-manager (its own Lease,
    named after ``suite``) against ``server``, stopped on exit."""
    scheduler = DaemonProcess(
        ["scheduler", *server_flags(server, "--master"), "--no-leader-elect"],
        log_dir / f"scheduler-{suite}.log",
    )
    manager = controller_manager(
        server, log_dir, "--leader-elect-resource-name", f"kcm-{suite}", *manager_args,
        name=f"cm-{suite}",
    )  # fmt: skip
    scheduler.start()
    manager.start()
    try:
        yield
    finally:
        manager.stop()
        scheduler.stop()
