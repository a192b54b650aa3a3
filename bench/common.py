"""Shared pieces of the benchmarks: processes, statistics, and the report file."""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from apiserver.etcd_server import EtcdProcess
from testkit.processes import ApiServerProcess

REPORT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Latencies:
    samples: list[float]

    @property
    def p50_ms(self) -> float:
        return percentile(self.samples, 50) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.samples, 99) * 1000

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.samples) * 1000 if self.samples else float("nan")


@contextmanager
def control_plane(*apiserver_args: str) -> Iterator[tuple[EtcdProcess, ApiServerProcess]]:
    """A fresh etcd and one apiserver in a temporary directory, stopped afterwards."""
    with tempfile.TemporaryDirectory(prefix="navarch-bench-") as tmp:
        root = Path(tmp)
        etcd = EtcdProcess(data_dir=root / "etcd", log_path=root / "etcd.log")
        etcd.start()
        # Plain HTTP, as the numbers in docs/benchmarks.md were measured (the tests'
        # apiservers serve HTTPS; a TLS comparison names its own flags).
        api = ApiServerProcess.create(
            etcd.url, root, "--etcd-compaction-interval", "0", *apiserver_args, tls=False
        )
        try:
            api.start()
            yield etcd, api
        finally:
            api.stop()
            etcd.stop()


def write_section(title: str, body: str) -> None:
    """Replace (or add) the ``## title`` section of docs/benchmarks.md."""
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    text = REPORT.read_text() if REPORT.exists() else "# Benchmarks\n\nWritten by `make bench`.\n"
    header = f"## {title}\n"
    start = text.find(header)
    section = header + "\n" + body.strip() + "\n\n"
    if start == -1:
        text = text.rstrip() + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(header))
        text = text[:start] + section + (text[end + 1 :] if end != -1 else "")
    REPORT.write_text(text.rstrip() + "\n")
