"""``navctl logs``: a container's log, streamed from ``GET .../pods/<name>/log``.

``-f`` keeps the stream open. A ``TYPE/NAME`` target (``deploy/web``) or ``-l``
resolves to pods as kubectl does; with ``-f``, several streams are copied at once, and
``--prefix`` marks each line with its pod and container.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.navctl.console import err
from cli.navctl.errors import fail
from cli.navctl.options import Namespace, Selector, duration_flag, verb_app
from cli.navctl.resources import resource
from cli.navctl.session import Session, run
from cli.navctl.streams import Transport, pick_container, resolve_pods

if TYPE_CHECKING:
    pass

app = verb_app()


@app.command("logs")
def logs_cmd(
    target: Annotated[
        str | None, typer.Argument(help="POD, TYPE/NAME (deploy/web) or nothing with -l.")
    ] = None,
    container_arg: Annotated[
        str | None, typer.Argument(help="Container name (same as -c).", show_default=False)
    ] = None,
    container: Annotated[
        str | None, typer.Option("--container", "-c", help="The container to read.")
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep streaming new lines.")
    ] = False,
    previous: Annotated[
        bool, typer.Option("--previous", "-p", help="The previous (crashed) instance's logs.")
    ] = False,
    tail: Annotated[int, typer.Option("--tail", help="Only the last N lines (-1: all).")] = -1,
    since: Annotated[
        str | None, typer.Option("--since", help="Only lines newer than this, e.g. 5m.")
    ] = None,
    since_time: Annotated[
        str | None, typer.Option("--since-time", help="Only lines after this RFC 3339 time.")
    ] = None,
    timestamps: Annotated[
        bool, typer.Option("--timestamps", help="Prefix each line with its timestamp.")
    ] = False,
    selector: Selector = None,
    all_containers: Annotated[
        bool, typer.Option("--all-containers", help="Every container of the pod(s).")
    ] = False,
    prefix: Annotated[
        bool, typer.Option("--prefix", help="Prefix lines with [pod/NAME/CONTAINER].")
    ] = False,
    limit_bytes: Annotated[
        int | None, typer.Option("--limit-bytes", help="Stop after this many bytes.")
    ] = None,
    namespace: Namespace = None,
) -> None:
    """Print the logs of a container of a pod.

    [bold]Examples:[/bold]

      navctl logs web-7d4b9c

      navctl logs -f deploy/web -c web

      navctl logs -l app=web --tail=20 --prefix

      navctl logs web-7d4b9c --previous
    """

    async def go(session: Session) -> int:
        opts = LogOptions(
            container=container or container_arg,
            follow=follow,
            previous=previous,
            tail=tail,
            since=since,
            since_time=since_time,
            timestamps=timestamps,
            selector=selector,
            all_containers=all_containers,
            prefix=prefix,
            limit_bytes=limit_bytes,
            namespace=namespace,
        )
        return await logs(session, target, opts)

    run(go)


# --- implementation --------------------------------------------------------------------------


@dataclass
class LogOptions:
    container: str | None = None
    follow: bool = False
    previous: bool = False
    tail: int = -1
    since: str | None = None
    since_time: str | None = None
    timestamps: bool = False
    selector: str | None = None
    all_containers: bool = False
    prefix: bool = False
    limit_bytes: int | None = None
    namespace: str | None = None


def log_params(opts: LogOptions, container: str, tail: int) -> list[tuple[str, str]]:
    """The query of one ``pods/<name>/log`` request."""

    params: list[tuple[str, str]] = [("container", container)]
    if opts.follow:
        params.append(("follow", "true"))
    if opts.previous:
        params.append(("previous", "true"))
    if tail >= 0:
        params.append(("tailLines", str(tail)))
    if opts.since:
        seconds = int(duration_flag(opts.since, "--since"))
        params.append(("sinceSeconds", str(max(seconds, 1))))
    if opts.since_time:
        params.append(("sinceTime", opts.since_time))
    if opts.timestamps:
        params.append(("timestamps", "true"))
    if opts.limit_bytes is not None:
        params.append(("limitBytes", str(opts.limit_bytes)))
    return params


class _LinePrefixer:
    """Prefixes whole lines with ``[pod/NAME/CONTAINER] `` (chunks may split lines)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix.encode()
        self.at_line_start = True

    def __call__(self, chunk: bytes) -> bytes:
        out_parts: list[bytes] = []
        for piece in chunk.splitlines(keepends=True):
            if self.at_line_start:
                out_parts.append(self.prefix)
            out_parts.append(piece)
            self.at_line_start = piece.endswith(b"\n")
        return b"".join(out_parts)


async def logs(session: Session, target: str | None, opts: LogOptions) -> int:
    """Run ``navctl logs``."""
    from apiclient import errors

    if opts.since and opts.since_time:
        fail("at most one of `sinceTime` or `sinceSeconds` may be specified")
    namespace = session.namespace(opts.namespace)
    if target and opts.selector:
        fail("only one of a selector (-l) or a POD name is allowed")
    if not target and not opts.selector:
        fail("expected POD, TYPE/NAME, or -l selector")
    if opts.selector:
        listed = await session.client.list_raw(
            resource("", "pods"), namespace, label_selector=opts.selector
        )
        pods = sorted(
            listed.get("items") or [], key=lambda p: (p.get("metadata") or {}).get("name", "")
        )
        if not pods:
            err(f"No resources found in {namespace} namespace.")
            return 0
        tail = opts.tail if opts.tail >= 0 else 10
    else:
        assert target is not None
        try:
            pods = await resolve_pods(session, target, namespace)
        except errors.NotFoundError as error:
            # kubectl words a missing log target this way (not as a plain server error).
            fail(f'error from server (NotFound): {error.message} in namespace "{namespace}"')
        tail = opts.tail
    streams: list[tuple[dict[str, Any], str]] = []
    for pod in pods:
        if opts.all_containers:
            spec = pod.get("spec") or {}
            for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
                streams.append((pod, c.get("name", "")))
        else:
            streams.append((pod, pick_container(pod, opts.container)))
    prefix = opts.prefix or (bool(opts.selector) and len(streams) > 1 and opts.prefix)
    transport = Transport(session.config)
    try:
        if opts.follow and len(streams) > 1:
            await asyncio.gather(
                *(_copy_log(transport, pod, c, opts, tail, prefix) for pod, c in streams)
            )
        else:
            for pod, container in streams:
                await _copy_log(transport, pod, container, opts, tail, prefix)
    finally:
        await transport.close()
    return 0


async def _copy_log(
    transport: Transport,
    pod: dict[str, Any],
    container: str,
    opts: LogOptions,
    tail: int,
    prefix: bool,
) -> None:
    meta = pod.get("metadata") or {}
    path = resource("", "pods").path(meta.get("namespace"), meta.get("name"), "log")
    prefixer = _LinePrefixer(f"[pod/{meta.get('name')}/{container}] ") if prefix else None
    output = sys.stdout.buffer
    async for chunk in transport.stream(path, log_params(opts, container, tail)):
        output.write(prefixer(chunk) if prefixer else chunk)
        output.flush()
