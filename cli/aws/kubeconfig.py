"""The new cluster's kubeconfig context: fetched from the control plane over SSH.

Why SSH: Debian's cloud images carry no SSM agent, and the key pair is there anyway.
The host key is pinned before the first connection: cloud-init prints the instance's
SSH host keys to its serial console, which the EC2 API (``GetConsoleOutput``) hands
only to the account's own principals; ``up`` writes them to a known_hosts file of the
cluster and ``ssh`` runs with ``StrictHostKeyChecking=yes`` against it. The admin
kubeconfig then carries the cluster CA, so the apiserver's TLS is checked too.

The context, cluster and user are all named after the cluster (``--name``), with the
server changed from the control plane's private address to its public one (which
``navarch init`` put in the apiserver's certificate: ``--apiserver-cert-extra-sans``).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from apiclient.config import default_kubeconfig_paths
from cli.aws.spec import ADMIN_KUBECONFIG, LOGIN_USER

HOST_KEYS_BEGIN = "-----BEGIN SSH HOST KEY KEYS-----"
HOST_KEYS_END = "-----END SSH HOST KEY KEYS-----"
_HOST_KEY = re.compile(
    r"\b(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-[a-z0-9@.-]+)\s+(AAAA[0-9A-Za-z+/]+=*)"
)

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


class KubeconfigError(Exception):
    """The admin kubeconfig could not be read or is not a kubeconfig."""


def host_keys(console: str) -> list[tuple[str, str]]:
    """The SSH host keys (type, base64) of the last block cloud-init printed to the
    console (lines may carry a syslog or ``ec2:`` prefix)."""
    blocks: list[list[tuple[str, str]]] = []
    inside = False
    for line in console.splitlines():
        if HOST_KEYS_BEGIN in line:
            blocks.append([])
            inside = True
        elif HOST_KEYS_END in line:
            inside = False
        elif inside and (found := _HOST_KEY.search(line)):
            blocks[-1].append((found.group(1), found.group(2)))
    return next((b for b in reversed(blocks) if b), [])


def write_known_hosts(path: Path, address: str, keys: list[tuple[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{address} {kind} {key}\n" for kind, key in keys))
    path.chmod(0o600)


def ssh_command(address: str, key_file: Path, known_hosts: Path, *remote: str) -> list[str]:
    """``ssh`` to the login user of Debian's image, trusting only the pinned host keys
    and never asking anything (a missing key or a changed host key is a failure)."""
    return [
        "ssh",
        "-i", str(key_file),
        "-o", "IdentitiesOnly=yes",
        "-o", "BatchMode=yes",
        "-o", "StrictHostKeyChecking=yes",
        "-o", f"UserKnownHostsFile={known_hosts}",
        "-o", "ConnectTimeout=10",
        f"{LOGIN_USER}@{address}",
        *remote,
    ]  # fmt: skip


def run_ssh(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run ``ssh``; a hung connection counts as a failed attempt (the caller retries)."""
    try:
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=60, check=False)
    except FileNotFoundError as err:
        raise KubeconfigError(
            "no ssh client: install OpenSSH's client, or run up with --no-wait"
        ) from err
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(list(argv), 255, "", "timed out")


def fetch_admin_kubeconfig(
    address: str, key_file: Path, known_hosts: Path, runner: Runner = run_ssh
) -> str | None:
    """The control plane's admin kubeconfig, or None while it is not there yet (SSH not
    up, ``navarch init`` not done)."""
    done = runner(ssh_command(address, key_file, known_hosts, "sudo", "cat", ADMIN_KUBECONFIG))
    if done.returncode != 0 or not done.stdout.strip():
        return None
    return done.stdout


def adopt(admin: str, *, name: str, public_address: str) -> dict[str, Any]:
    """The admin kubeconfig's current context as entries named ``name``, its server at
    ``public_address`` (same scheme and port)."""
    try:
        doc = yaml.safe_load(admin) or {}
    except yaml.YAMLError as err:
        raise KubeconfigError(f"the admin kubeconfig is not YAML: {err}") from err
    if not isinstance(doc, dict):
        raise KubeconfigError("the admin kubeconfig is not a mapping")
    contexts = {c.get("name"): c.get("context") or {} for c in doc.get("contexts") or []}
    current = doc.get("current-context") or next(iter(contexts), None)
    context = contexts.get(current)
    if context is None:
        raise KubeconfigError("the admin kubeconfig has no context")
    clusters = {c.get("name"): c.get("cluster") or {} for c in doc.get("clusters") or []}
    users = {u.get("name"): u.get("user") or {} for u in doc.get("users") or []}
    cluster = dict(clusters.get(context.get("cluster"), {}))
    if not cluster.get("server"):
        raise KubeconfigError("the admin kubeconfig's cluster has no server")
    parts = urlsplit(cluster["server"])
    port = f":{parts.port}" if parts.port else ""
    cluster["server"] = urlunsplit((parts.scheme, f"{public_address}{port}", parts.path, "", ""))
    return {
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": name, "user": dict(users.get(context.get("user"), {}))}],
        "contexts": [
            {
                "name": name,
                "context": {
                    "cluster": name,
                    "user": name,
                    "namespace": context.get("namespace") or "default",
                },
            }
        ],
    }


def user_kubeconfig() -> Path:
    """The file kubectl writes to: the first of ``KUBECONFIG``, else ``~/.kube/config``."""
    return default_kubeconfig_paths()[0]


def merge(path: Path, entries: dict[str, Any], *, make_current: str | None = None) -> None:
    """Replace the same-named clusters, users and contexts in ``path`` by ``entries``
    (a kubeconfig with credentials: written 0600)."""
    doc = _read(path)
    for section in ("clusters", "users", "contexts"):
        names = {e["name"] for e in entries.get(section, [])}
        kept = [e for e in doc.get(section) or [] if e.get("name") not in names]
        doc[section] = kept + list(entries.get(section, []))
    if make_current:
        doc["current-context"] = make_current
    _write(path, doc)


def remove(path: Path, name: str) -> bool:
    """Remove the cluster, user and context ``name`` from ``path``; True if any was."""
    if not path.exists():
        return False
    doc = _read(path)
    removed = False
    for section in ("clusters", "users", "contexts"):
        entries = doc.get(section) or []
        kept = [e for e in entries if e.get("name") != name]
        removed = removed or len(kept) != len(entries)
        doc[section] = kept
    if doc.get("current-context") == name:
        doc["current-context"] = ""
        removed = True
    if removed:
        _write(path, doc)
    return removed


def has_context(path: Path, name: str) -> bool:
    return path.exists() and any(c.get("name") == name for c in _read(path).get("contexts") or [])


def _read(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if path.exists():
        doc = yaml.safe_load(path.read_text()) or {}
    doc.setdefault("apiVersion", "v1")
    doc.setdefault("kind", "Config")
    return doc


def _write(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(yaml.safe_dump(doc, sort_keys=False))
    path.chmod(0o600)
