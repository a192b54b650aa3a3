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

PARTS = {
    "proxy-datapath": proxy.run_data_path,
}
"""Parts of a benchmark above that also run alone (not by default: their whole runs them)."""


def main(argv: list[str]) -> None:
    names = argv or list(BENCHMARKS)
    known = {**BENCHMARKS, **PARTS}
    for name in names:
        if name not in known:
            raise SystemExit(f"unknown benchmark {name!r}; choose from {', '.join(known)}")
        print(f"== {name}", flush=True)
        known[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
