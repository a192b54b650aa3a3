"""``navctl run``: one Pod running one image, as ``kubectl run`` makes it."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.navctl.errors import fail
from cli.navctl.generators import create_generated, split_key_values
from cli.navctl.options import DryRun, Namespace, OutputFlag, dry_run_mode, verb_app
from cli.navctl.session import Session, run

app = verb_app()


@app.command("run")
def run_cmd(
    name: Annotated[str, typer.Argument(help="Name of the pod.")],
    args: Annotated[
        list[str] | None, typer.Argument(help="-- [COMMAND] ARGS... for the container.")
    ] = None,
    image: Annotated[str, typer.Option("--image", help="The container image.")] = "",
    restart: Annotated[
        str, typer.Option("--restart", help="Always (default), OnFailure or Never.")
    ] = "Always",
    env: Annotated[
        list[str] | None, typer.Option("--env", help="KEY=VALUE environment, repeatable.")
    ] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port the container exposes.")] = None,
    labels: Annotated[
        str | None, typer.Option("--labels", "-l", help="Labels, e.g. app=web,tier=fe.")
    ] = None,
    command: Annotated[
        bool, typer.Option("--command", help="The arguments after -- are the command.")
    ] = False,
    image_pull_policy: Annotated[
        str | None, typer.Option("--image-pull-policy", help="Always, IfNotPresent or Never.")
    ] = None,
    namespace: Namespace = None,
    dry_run: DryRun = None,
    output: OutputFlag = None,
) -> None:
    """Create a Pod running one image.

    [bold]Examples:[/bold]

      navctl run web --image=nginx:1.25 --port=80

      navctl run tmp --image=busybox --restart=Never -- echo hello

      navctl run sleeper --image=busybox --command -- sleep 3600
    """

    async def go(session: Session) -> int:
        obj = pod_object(
            name, image=image, restart=restart, env=env or [], port=port, labels=labels,
            args=args or [], command=command, image_pull_policy=image_pull_policy,
        )  # fmt: skip
        return await run_pod(
            session, obj, namespace=namespace, dry_run=dry_run_mode(dry_run), output=output
        )

    run(go)


# --- implementation --------------------------------------------------------------------------


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


async def run_pod(
    session: Session,
    obj: dict[str, Any],
    *,
    namespace: str | None = None,
    dry_run: str = "",
    output: str | None = None,
) -> int:
    return await create_generated(session, obj, namespace=namespace, dry_run=dry_run, output=output)
