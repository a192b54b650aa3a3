"""``navctl expose``: a Service for a Deployment, ReplicaSet, Pod or Service.

The Service selects what the object selects (or ``--selector``) and serves its
container ports (or ``--port``/``--target-port``), as ``kubectl expose`` builds it.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.navctl.errors import fail
from cli.navctl.generators import create_generated, split_key_values
from cli.navctl.options import DryRun, Namespace, OutputFlag, ResourceArgs, dry_run_mode, verb_app
from cli.navctl.resources import parse_targets
from cli.navctl.session import Session, run

app = verb_app()


@app.command("expose")
def expose_cmd(
    args: ResourceArgs = None,
    port: Annotated[str | None, typer.Option("--port", help="The Service's port.")] = None,
    target_port: Annotated[
        str | None, typer.Option("--target-port", help="The container port (number or name).")
    ] = None,
    protocol: Annotated[str, typer.Option("--protocol", help="TCP, UDP or SCTP.")] = "TCP",
    service_type: Annotated[
        str | None, typer.Option("--type", help="ClusterIP (default), NodePort or LoadBalancer.")
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="The Service's name (default: the object's).")
    ] = None,
    selector: Annotated[
        str | None, typer.Option("--selector", help="Use this selector instead of the object's.")
    ] = None,
    namespace: Namespace = None,
    dry_run: DryRun = None,
    output: OutputFlag = None,
) -> None:
    """Create a Service for a Deployment, ReplicaSet, Pod or Service.

    [bold]Examples:[/bold]

      navctl expose deploy web --port=80 --target-port=8080

      navctl expose pod web-7d4b9c --port=80 --name=web-direct --type=NodePort
    """

    async def go(session: Session) -> int:
        return await expose(
            session, args or [], port=port, target_port=target_port,
            protocol=protocol, service_type=service_type, name=name, selector=selector,
            namespace=namespace, dry_run=dry_run_mode(dry_run), output=output,
        )  # fmt: skip

    run(go)


# --- implementation --------------------------------------------------------------------------


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
