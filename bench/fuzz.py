"""``make fuzz``: schemathesis over the apiserver's OpenAPI document; no answer may be a 5xx.

``python -m bench.fuzz [CASES] [SECONDS]`` starts its own etcd and apiserver, runs
schemathesis (the ``not_a_server_error`` check) on every operation of ``/openapi/v2``:
its coverage phase (boundary and invalid values of every parameter and field), then
random cases, ``CASES`` / operations each (10,000 in all by default), stopped after
``SECONDS`` (1,800 by default). It exits non-zero if schemathesis saw a 5xx or the
server counted one (``apiserver_request_total``). The JUnit report goes to
``.fuzz/``. Its traffic stays on the loopback address of the server it started.

Loaded by schemathesis as its hooks module as well (``SCHEMATHESIS_HOOKS``): a
generated watch is bounded to a second (``timeoutSeconds``), since an open watch is
not an answer, and the watch's first lines are what show whether it failed.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx

ROOT = Path(__file__).resolve().parents[1]
REPORT_DIR = ROOT / ".fuzz"


def _watching(query: dict[str, Any]) -> bool:
    value = query.get("watch", "")
    values = value if isinstance(value, list) else [value]
    return any(str(v).lower() in ("true", "1") for v in values)


try:
    import schemathesis

    @schemathesis.hook
    def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
        query = case.query or {}
        if _watching(query):
            query["timeoutSeconds"] = 1
            case.query = query

except ImportError:  # pragma: no cover - schemathesis is a test extra
    pass


def run(cases: int = 10_000, seconds: int = 1_800) -> int:
    from bench.common import control_plane

    REPORT_DIR.mkdir(exist_ok=True)
    for old in REPORT_DIR.glob("junit-*.xml"):
        old.unlink()
    # A watch the hook missed still ends within seconds.
    with control_plane("--min-request-timeout", "2") as (_etcd, api):
        document = httpx.get(f"{api.url}/openapi/v2", timeout=30).json()
        operations = sum(
            1
            for item in document["paths"].values()
            for method in item
            if method in ("get", "put", "post", "patch", "delete")
        )
        per_operation = max(1, math.ceil(cases / operations))
        print(
            f"fuzzing {operations} operations, {per_operation} random cases each after the "
            f"coverage phase, at most {seconds} s",
            flush=True,
        )
        env = {**os.environ, "SCHEMATHESIS_HOOKS": "bench.fuzz", "PYTHONPATH": str(ROOT)}
        command = [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            f"{api.url}/openapi/v2",
            "--url", api.url,
            "--checks", "not_a_server_error",
            # Nearly every generated request is refused as malformed: one connection per
            # request, so that the server's penalty for a connection refused again and
            # again (apiserver.limits) does not stretch the run.
            "--header", "Connection: close",
            "--phases", "coverage,fuzzing",
            "--max-examples", str(per_operation),
            "--request-timeout", "30",
            "--workers", "2",
            "--seed", "12",
            "--no-shrink",
            "--continue-on-failure",
            "--suppress-health-check", "all",
            "--report", "junit",
            "--report-dir", str(REPORT_DIR),
            "--no-color",
        ]  # fmt: skip
        try:
            subprocess.run(command, env=env, cwd=ROOT, check=False, timeout=seconds)
        except subprocess.TimeoutExpired:
            print(f"stopped after {seconds} s", flush=True)
        if not api.alive():
            print("FAIL: the apiserver died during the run", flush=True)
            return 1
        server_5xx = _server_errors(api.url)
    failures, errors, tests = _junit_counts()
    print(
        f"schemathesis: {tests} operations, {failures} with a 5xx, {errors} not runnable "
        f"(errors in schemathesis itself); the server answered {server_5xx} requests with a 5xx",
        flush=True,
    )
    return 1 if failures or server_5xx else 0


def _server_errors(url: str) -> int:
    """Requests the server itself counted as answered with a 5xx."""
    text = httpx.get(f"{url}/metrics", timeout=30).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("apiserver_request_total{") and 'code="5' in line:
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


def _junit_counts() -> tuple[int, int, int]:
    failures = errors = tests = 0
    for report in REPORT_DIR.glob("junit-*.xml"):
        root = ElementTree.parse(report).getroot()
        failures += int(root.get("failures") or 0)
        errors += int(root.get("errors") or 0)
        tests += int(root.get("tests") or 0)
    return failures, errors, tests


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    sys.exit(run(*args))
