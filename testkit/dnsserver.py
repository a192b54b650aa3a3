"""``navarch dns`` as a real process on loopback, for integration tests and benchmarks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

from apiserver.etcd_server import free_port
from testkit.processes import DaemonProcess, wait_until
from testkit.testca import server_flags


@dataclass
class DnsServerProcess(DaemonProcess):
    port: int = 0
    health_port: int = 0

    @classmethod
    def create(
        cls,
        apiserver_url: str,
        log_dir: Path,
        *,
        upstream: str | None,
        bind_address: str = "127.0.0.1",
        port: int = 0,
        extra: tuple[str, ...] = (),
    ) -> DnsServerProcess:
        """Serve on ``bind_address`` (loopback, or a test's own Docker bridge) only.
        ``upstream``: the fake upstream's ``IP:PORT``, so that nothing is forwarded off
        this machine (``None``: no upstream at all)."""
        port, health = port or free_port(), free_port()
        args = [
            "dns", *server_flags(apiserver_url, "--master"),
            "--bind-address", bind_address, "--port", str(port), "--health-port", str(health),
            "--health-bind-address", "127.0.0.1",
            # Never this machine's resolv.conf: it may name resolvers elsewhere.
            "--resolv-conf", "/dev/null",
            *(["--upstream", upstream] if upstream else []),
            *extra,
        ]  # fmt: skip
        return cls(
            args=args, log_path=log_dir / f"dns-{bind_address}-{port}.log", port=port,
            health_port=health,
        )  # fmt: skip

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.health_port}"

    def start(self, timeout: float = 60.0) -> None:
        super().start()

        def ready() -> bool:
            if not self.alive():
                raise RuntimeError(f"navarch dns exited:\n{self.log_tail()}")
            try:
                return httpx.get(f"{self.health_url}/ready", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout, what=f"navarch dns on {self.port} ready")
