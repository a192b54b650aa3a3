"""Objects built from flags: ``create namespace|configmap|secret generic|deployment``,
``run`` and ``expose``, shaped as kubectl's generators shape them.

The builders are pure functions returning the object dict; ``create_generated`` and
``run_pod`` send it (or print it with ``--dry-run=client -o yaml``).
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

from cli.navctl.console import out
from cli.navctl.errors import fail
from cli.navctl.generators import split_key_values
from cli.navctl.output import Output, render
from cli.navctl.resources import kind_prefix
from cli.navctl.session import Session

_ENV_KEY = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_DNS_LABEL_BAD = re.compile(r"[^a-z0-9-]+")


# --- builders --------------------------------------------------------------------------


def namespace_object(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def _env_file(path: str) -> dict[str, str]:
    data: dict[str, str] = {}
    for number, raw in enumerate(Path(path).read_text().splitlines(), start=1):
        line = raw.lstrip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not _ENV_KEY.match(key):
            fail(
                f'"{key}" is not a valid key name: a valid environment variable name must '
                "consist of alphabetic characters, digits, '_', '-', or '.', and must not "
                f"start with a digit ({path}, line {number})"
            )
        data[key] = value if sep else ""
    return data


def _file_sources(sources: list[str]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for source in sources:
        key, sep, path = source.partition("=")
        if not sep:
            key, path = "", source
        target = Path(path)
        if not target.exists():
            fail(f"error reading {path}: no such file or directory")
        if target.is_dir():
            if key:
                fail("cannot give a key name for a directory path")
            for child in sorted(target.iterdir()):
                if child.is_file():
                    files[child.name] = child.read_bytes()
            continue
        files[key or target.name] = target.read_bytes()
    return files


def _check_sources(literals: list[str], files: list[str], env_files: list[str]) -> None:
    if env_files and (literals or files):
        fail("from-env-file cannot be combined with from-file or from-literal")


def configmap_object(
    name: str, literals: list[str], files: list[str], env_files: list[str]
) -> dict[str, Any]:
    """A ConfigMap; non-UTF-8 file contents go to ``binaryData`` (base64)."""
    _check_sources(literals, files, env_files)
    data: dict[str, str] = {}
    binary: dict[str, str] = {}
    for path in env_files:
        data.update(_env_file(path))
    data.update(split_key_values(literals, "literal"))
    for key, content in _file_sources(files).items():
        try:
            data[key] = content.decode()
        except UnicodeDecodeError:
            binary[key] = base64.b64encode(content).decode()
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
    if data:
        obj["data"] = data
    if binary:
        obj["binaryData"] = binary
    return obj


def secret_object(
    name: str,
    literals: list[str],
    files: list[str],
    env_files: list[str],
    secret_type: str | None = None,
) -> dict[str, Any]:
    """A Secret with base64 ``data``, as ``kubectl create secret generic`` makes it."""
    _check_sources(literals, files, env_files)
    raw: dict[str, bytes] = {}
    for path in env_files:
        raw.update({k: v.encode() for k, v in _env_file(path).items()})
    raw.update({k: v.encode() for k, v in split_key_values(literals, "literal").items()})
    raw.update(_file_sources(files))
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}}
    if raw:
        obj["data"] = {k: base64.b64encode(v).decode() for k, v in raw.items()}
    if secret_type:
        obj["type"] = secret_type
    return obj


def container_name(image: str) -> str:
    """A container name from an image reference (``registry/x/nginx:1.25`` -> ``nginx``)."""
    last = image.rsplit("/", 1)[-1]
    last = last.split("@", 1)[0].split(":", 1)[0]
    name = _DNS_LABEL_BAD.sub("-", last.lower()).strip("-")
    return name[:63] or "container"


def deployment_object(
    name: str, images: list[str], replicas: int, port: int | None, command: list[str]
) -> dict[str, Any]:
    if not images:
        fail('required flag(s) "image" not set')
    if len(images) > 1 and command:
        fail("cannot specify multiple --image options and command")
    labels = {"app": name}
    containers: list[dict[str, Any]] = []
    for image in images:
        container: dict[str, Any] = {"image": image, "name": container_name(image)}
        containers.append(container)
    if command:
        containers[0]["command"] = list(command)
    if port is not None:
        containers[0]["ports"] = [{"containerPort": port}]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"labels": dict(labels), "name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(labels)},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {"containers": containers},
            },
        },
    }


def pod_object(
    name: str,
    *,
    image: str,
    restart: str = "Always",
    env: list[str] | None = None,
    port: int | None = None,
    labels: str | None = None,
    args: list[str] | None = None,
    command: bool = False,
    image_pull_policy: str | None = None,
) -> dict[str, Any]:
    """The Pod ``kubectl run`` creates."""
    if not image:
        fail("--image is required")
    if restart not in ("Always", "OnFailure", "Never"):
        fail(f"invalid restart policy: {restart}")
    pod_labels = split_key_values([labels], "labels") if labels else {"run": name}
    container: dict[str, Any] = {"image": image, "name": name}
    if args:
        container["command" if command else "args"] = list(args)
    elif command:
        fail("--command requires arguments after --")
    if env:
        container["env"] = [
            {"name": k, "value": v} for k, v in split_key_values(env, "env").items()
        ]
    if port is not None:
        container["ports"] = [{"containerPort": port}]
    if image_pull_policy:
        container["imagePullPolicy"] = image_pull_policy
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"labels": pod_labels, "name": name},
        "spec": {
            "containers": [container],
            "dnsPolicy": "ClusterFirst",
            "restartPolicy": restart,
        },
    }


def _int_or_name(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def service_for(
    obj: dict[str, Any],
    *,
    port: str | None,
    target_port: str | None,
    protocol: str,
    service_type: str | None,
    name: str | None,
    selector: str | None,
) -> dict[str, Any]:
    """The Service ``kubectl expose`` makes for a Deployment/ReplicaSet/Pod/Service."""
    kind = obj.get("kind", "")
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    if selector:
        chosen = split_key_values([selector], "labels")
    elif kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"):
        sel = spec.get("selector") or {}
        if sel.get("matchExpressions"):
            fail(
                "couldn't retrieve selectors via --selector flag or introspection: the "
                f"{kind} has a selector with expressions, which a Service cannot use"
            )
        chosen = dict(sel.get("matchLabels") or {})
    elif kind == "Pod":
        chosen = dict(meta.get("labels") or {})
    elif kind == "Service":
        chosen = dict(spec.get("selector") or {})
    else:
        fail(f"cannot expose a {kind}")
    if not chosen:
        fail("couldn't retrieve selectors via --selector flag or introspection")
    ports: list[dict[str, Any]] = []
    if port:
        ports.append(
            {
                "port": int(port),
                "protocol": protocol,
                "targetPort": _int_or_name(target_port) if target_port else int(port),
            }
        )
    else:
        found = _ports_of(obj)
        if not found:
            fail("couldn't find port via --port flag or introspection")
        for i, (number, proto) in enumerate(found, start=1):
            entry: dict[str, Any] = {
                "port": number,
                "protocol": proto,
                "targetPort": _int_or_name(target_port) if target_port else number,
            }
            if len(found) > 1:
                entry["name"] = f"port-{i}"
            ports.append(entry)
    service: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name or meta.get("name", "")},
        "spec": {"ports": ports, "selector": chosen},
    }
    if meta.get("labels"):
        service["metadata"]["labels"] = dict(meta["labels"])
    if service_type:
        service["spec"]["type"] = service_type
    return service


def _ports_of(obj: dict[str, Any]) -> list[tuple[int, str]]:
    spec = obj.get("spec") or {}
    if obj.get("kind") == "Service":
        return [(p["port"], p.get("protocol", "TCP")) for p in spec.get("ports") or []]
    pod_spec = spec if obj.get("kind") == "Pod" else (spec.get("template") or {}).get("spec") or {}
    found: list[tuple[int, str]] = []
    for container in pod_spec.get("containers") or []:
        for p in container.get("ports") or []:
            found.append((p["containerPort"], p.get("protocol", "TCP")))
    return found


# --- sending ---------------------------------------------------------------------------


async def create_generated(
    session: Session,
    obj: dict[str, Any],
    *,
    namespace: str | None = None,
    dry_run: str = "",
    output: str | None = None,
    verb: str = "created",
) -> int:
    """POST ``obj`` (in ``namespace`` when namespaced) and say so as kubectl does."""
    rtype = await session.resolver.resolve_kind(obj["apiVersion"], obj["kind"])
    printer = Output.parse(output)
    if rtype.namespaced:
        obj["metadata"]["namespace"] = session.namespace(namespace)
    if dry_run == "client":
        result = obj
    else:
        result = await session.client.create_raw(
            rtype, obj, obj["metadata"].get("namespace"), dry_run=dry_run == "server"
        )
    if printer.format:
        out(render(printer, [result], single=True))
        return 0
    suffix = {"client": " (dry run)", "server": " (server dry run)"}.get(dry_run, "")
    out(f"{kind_prefix(rtype)}/{obj['metadata']['name']} {verb}{suffix}\n")
    return 0


async def run_pod(
    session: Session,
    obj: dict[str, Any],
    *,
    namespace: str | None = None,
    dry_run: str = "",
    output: str | None = None,
) -> int:
    return await create_generated(session, obj, namespace=namespace, dry_run=dry_run, output=output)


async def expose(
    session: Session,
    args: list[str],
    *,
    port: str | None,
    target_port: str | None,
    protocol: str,
    service_type: str | None,
    name: str | None,
    selector: str | None,
    namespace: str | None,
    dry_run: str,
    output: str | None,
) -> int:
    """Run ``navctl expose``: ``service/NAME exposed``."""
    from cli.navctl.resources import parse_targets

    targets = await parse_targets(session.resolver, args, verb="expose")
    if len(targets) != 1 or len(targets[0].names) != 1:
        fail("expose needs exactly one object: TYPE NAME or TYPE/NAME")
    target = targets[0]
    ns = session.namespace(namespace)
    obj = await session.client.get_raw(target.resource, target.names[0], ns)
    obj.setdefault("kind", target.resource.kind)
    service = service_for(
        obj, port=port, target_port=target_port, protocol=protocol,
        service_type=service_type, name=name, selector=selector,
    )  # fmt: skip
    return await create_generated(
        session, service, namespace=ns, dry_run=dry_run, output=output, verb="exposed"
    )
