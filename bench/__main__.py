"""``python -m bench [NAME...]``: run the benchmarks (all by default)."""

from __future__ import annotations

import sys

from bench import (
    apiserver,
    compose,
    controllers,
    dns,
    hardening,
    kubelet,
    localcluster,
    network,
    proxy,
    scheduler,
    security,
)

BENCHMARKS = {
    "apiserver": apiserver.run,
    "kubelet": kubelet.run,
    "controllers": controllers.run,
    "scheduler": scheduler.run,
    "cluster": localcluster.run,
    "dns": dns.run,
    "compose": compose.run,
    "network": network.run,
    "proxy": proxy.run,
    "hardening": hardening.run,
    "security": security.run,
}


def main(argv: list[str]) -> None:
    names = argv or list(BENCHMARKS)
    for name in names:
        if name not in BENCHMARKS:
            raise SystemExit(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")
        print(f"== {name}", flush=True)
        BENCHMARKS[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
