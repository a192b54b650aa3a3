"""Where the apiserver is and how to talk to it: kubeconfig files, as kubectl reads them,
and the in-cluster configuration of a pod.

Precedence as in kubectl: an explicit ``--kubeconfig`` file; else the files listed in
``KUBECONFIG`` (merged, the first file to define a name wins); else
``~/.kube/config``; else, inside a pod (``KUBERNETES_SERVICE_HOST`` set), the pod's
service account (client-go's ``InClusterConfig``): the server at
``https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT``, the token and CA the
kubelet mounts at ``/var/run/secrets/kubernetes.io/serviceaccount`` (the token re-read
on every request: the kubelet rotates it). A context picks a cluster, a user and a
default namespace.
"""

from __future__ import annotations

import base64
import os
import ssl
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class ConfigError(Exception):
    """The kubeconfig is missing, malformed, or names something it does not define."""


@dataclass
class ClientConfig:
    """Everything a ``Client`` needs to reach one apiserver as one user."""

    server: str
    namespace: str = "default"
    ca_file: str | None = None
    insecure_skip_tls_verify: bool = False
    client_cert_file: str | None = None
    client_key_file: str | None = None
    token: str | None = None
    token_file: str | None = None
    timeout: float = 30.0
    qps: float = 0.0
    """Requests per second allowed to this client (0: unlimited), as client-go's QPS."""
    burst: int = 0
    context: str = ""
    extra_headers: dict[str, str] = field(default_factory=dict)
    token_source: Callable[[], str] | None = field(default=None, repr=False)
    """A bearer token that changes (a service account's, renewed before it expires)."""
    _contexts: list[ssl.SSLContext] = field(default_factory=list, repr=False, compare=False)
    """The TLS contexts handed out, so that a rotated client certificate reaches them."""

    def bearer_token(self) -> str | None:
        if self.token_source is not None:
            return self.token_source() or None
        if self.token:
            return self.token
        if self.token_file:
            # Re-read on every request: projected service account tokens rotate.
            return Path(self.token_file).read_text().strip()
        return None

    def auth_headers(self) -> dict[str, str]:
        """The ``Authorization`` header of this config's bearer token (none without one);
        read per request, as the token may rotate."""
        token = self.bearer_token()
        return {"Authorization": f"Bearer {token}"} if token else {}

    def ssl_context(self) -> ssl.SSLContext | bool:
        if not self.server.startswith("https://"):
            return False
        if self.insecure_skip_tls_verify:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        else:
            ctx = ssl.create_default_context(cafile=self.ca_file)
        if self.client_cert_file:
            ctx.load_cert_chain(self.client_cert_file, self.client_key_file)
        self._contexts.append(ctx)
        return ctx

    def use_client_certificate(self, cert_file: str, key_file: str) -> None:
        """Authenticate with ``cert_file``/``key_file`` from now on (a rotated client
        certificate): every TLS context made so far loads them, so new connections of
        every client built on this config present them."""
        self.client_cert_file, self.client_key_file = cert_file, key_file
        for ctx in self._contexts:
            ctx.load_cert_chain(cert_file, key_file)


SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
"""Where the kubelet mounts a pod's token, ``ca.crt`` and ``namespace``."""


def in_cluster_config(root: Path = SERVICE_ACCOUNT_DIR) -> ClientConfig:
    """The configuration of a process running in a pod; ``ConfigError`` outside one."""
    host = os.environ.get("KUBERNETES_SERVICE_HOST", "")
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "")
    if not host or not port:
        raise ConfigError(
            "not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are unset"
        )
    token = root / "token"
    if not token.exists():
        raise ConfigError(f"in a cluster, but {token} does not exist (no service account token)")
    if ":" in host:
        host = f"[{host}]"
    namespace_file = root / "namespace"
    namespace = namespace_file.read_text().strip() if namespace_file.exists() else "default"
    ca = root / "ca.crt"
    return ClientConfig(
        server=f"https://{host}:{port}",
        namespace=namespace or "default",
        ca_file=str(ca) if ca.exists() else None,
        token_file=str(token),
        context="in-cluster",
    )


def default_kubeconfig_paths() -> list[Path]:
    env = os.environ.get("KUBECONFIG")
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return [Path("~/.kube/config").expanduser()]


def load_merged(paths: list[Path]) -> dict[str, Any]:
    """The kubeconfig documents at ``paths`` merged as kubectl merges them."""
    merged: dict[str, Any] = {"clusters": [], "users": [], "contexts": []}
    seen: dict[str, set[str]] = {"clusters": set(), "users": set(), "contexts": set()}
    for path in paths:
        if not path.exists():
            continue
        try:
            doc = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: not valid YAML: {err}") from err
        if not isinstance(doc, dict):
            raise ConfigError(f"{path}: a kubeconfig must be a mapping")
        for section in ("clusters", "users", "contexts"):
            for entry in doc.get(section) or []:
                name = entry.get("name")
                if name and name not in seen[section]:
                    seen[section].add(name)
                    merged[section].append(_resolve_paths(entry, path.parent))
        if "current-context" not in merged and doc.get("current-context"):
            merged["current-context"] = doc["current-context"]
    return merged


def _resolve_paths(entry: dict[str, Any], base: Path) -> dict[str, Any]:
    # Relative file references in a kubeconfig are relative to the file itself.
    out = dict(entry)
    for section in ("cluster", "user"):
        body = dict(out.get(section) or {})
        for key in ("certificate-authority", "client-certificate", "client-key", "tokenFile"):
            value = body.get(key)
            if value and not os.path.isabs(value):
                body[key] = str(base / value)
        if section in out:
            out[section] = body
    return out


def _named(doc: dict[str, Any], section: str, name: str) -> dict[str, Any]:
    for entry in doc.get(section) or []:
        if entry.get("name") == name:
            return dict(entry.get(section[:-1]) or {})
    raise ConfigError(f'{section[:-1]} "{name}" is not defined in the kubeconfig')


def _data_file(data: str, suffix: str) -> str:
    # ssl wants files; inline ``*-data`` values are written to private temp files.
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - must outlive this function
        prefix="navarch-", suffix=suffix, delete=False
    )
    with handle:
        handle.write(base64.b64decode(data))
    os.chmod(handle.name, 0o600)
    return handle.name


def load_config(
    kubeconfig: str | Path | None = None,
    *,
    context: str | None = None,
    server: str | None = None,
    namespace: str | None = None,
) -> ClientConfig:
    """The ClientConfig for ``context`` (default: the current one).

    ``server`` (as ``kubectl --server``) works without any kubeconfig.
    """
    paths = [Path(kubeconfig).expanduser()] if kubeconfig else default_kubeconfig_paths()
    if kubeconfig and not paths[0].exists():
        raise ConfigError(f"kubeconfig {kubeconfig} does not exist")
    doc = load_merged(paths)
    ctx_name = context or doc.get("current-context") or ""
    if not ctx_name and not kubeconfig and os.environ.get("KUBERNETES_SERVICE_HOST"):
        config = in_cluster_config()
        if server:
            config.server = server.rstrip("/")
        if namespace:
            config.namespace = namespace
        return config
    if not ctx_name:
        if server:
            return ClientConfig(server=server.rstrip("/"), namespace=namespace or "default")
        raise ConfigError(
            "no current context: pass --kubeconfig, set KUBECONFIG, run `navarch up`, "
            "or pass --server"
        )
    ctx = _named(doc, "contexts", ctx_name)
    cluster = _named(doc, "clusters", ctx.get("cluster", ""))
    user = _named(doc, "users", ctx["user"]) if ctx.get("user") else {}
    ca = cluster.get("certificate-authority")
    if cluster.get("certificate-authority-data"):
        ca = _data_file(cluster["certificate-authority-data"], ".crt")
    cert = user.get("client-certificate")
    if user.get("client-certificate-data"):
        cert = _data_file(user["client-certificate-data"], ".crt")
    key = user.get("client-key")
    if user.get("client-key-data"):
        key = _data_file(user["client-key-data"], ".key")
    resolved_server = server or cluster.get("server")
    if not resolved_server:
        raise ConfigError(f'cluster "{ctx.get("cluster")}" has no server')
    return ClientConfig(
        server=resolved_server.rstrip("/"),
        namespace=namespace or ctx.get("namespace") or "default",
        ca_file=ca,
        insecure_skip_tls_verify=bool(cluster.get("insecure-skip-tls-verify")),
        client_cert_file=cert,
        client_key_file=key,
        token=user.get("token"),
        token_file=user.get("tokenFile"),
        context=ctx_name,
    )


def write_kubeconfig(path: Path, *, name: str, server: str, namespace: str = "default") -> None:
    """Write (or merge into) a kubeconfig a context ``name`` for ``server`` with no
    credentials, made current."""
    merge_kubeconfig(
        path,
        {
            "clusters": [{"name": name, "cluster": {"server": server}}],
            "users": [{"name": name, "user": {}}],
            "contexts": [
                {"name": name, "context": {"cluster": name, "user": name, "namespace": namespace}}
            ],
            "current-context": name,
        },
    )


def merge_kubeconfig(path: Path, doc: dict[str, Any]) -> None:
    """Merge the clusters, users and contexts of ``doc`` into the kubeconfig at ``path``
    (replacing entries of the same names, keeping the others) and make ``doc``'s
    current context current. The file is written with mode 0600 (it may hold keys)."""
    current: dict[str, Any] = {}
    if path.exists():
        current = yaml.safe_load(path.read_text()) or {}
    current.setdefault("apiVersion", "v1")
    current.setdefault("kind", "Config")
    for section in ("clusters", "users", "contexts"):
        new = doc.get(section) or []
        names = {e.get("name") for e in new}
        kept = [e for e in current.get(section) or [] if e.get("name") not in names]
        current[section] = kept + list(new)
    if doc.get("current-context"):
        current["current-context"] = doc["current-context"]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(yaml.safe_dump(current, sort_keys=False))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
