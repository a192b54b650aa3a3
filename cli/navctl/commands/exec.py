"""``navctl exec``: a command in a container, over a WebSocket upgrade of ``.../exec``.

The frames travel on the channels ``streams`` describes. ``-it`` puts the local
terminal in raw mode and follows its size; the exit code is the remote command's,
read from the final Status on channel 3 (``details.causes[reason=ExitCode]``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

from cli.navctl.console import err
from cli.navctl.errors import CliError, fail
from cli.navctl.options import Namespace, verb_app
from cli.navctl.resources import resource
from cli.navctl.session import Session, run
from cli.navctl.streams import (
    CLOSE,
    ERROR,
    EXEC_PROTOCOLS,
    RESIZE,
    STDERR,
    STDIN,
    STDOUT,
    Transport,
    pick_container,
    resolve_pods,
)

if TYPE_CHECKING:
    import aiohttp

app = verb_app()


@app.command("exec")
def exec_cmd(
    target: Annotated[str, typer.Argument(help="POD or TYPE/NAME (deploy/web).")],
    command: Annotated[
        list[str] | None, typer.Argument(help="-- COMMAND [ARGS...]", show_default=False)
    ] = None,
    container: Annotated[
        str | None, typer.Option("--container", "-c", help="The container to run in.")
    ] = None,
    stdin: Annotated[
        bool, typer.Option("--stdin", "-i", help="Pass stdin to the command.")
    ] = False,
    tty: Annotated[bool, typer.Option("--tty", "-t", help="Allocate a terminal.")] = False,
    namespace: Namespace = None,
) -> None:
    """Run a command in a container (over a WebSocket, as kubectl 1.30+ does).

    The exit code is the command's exit code.

    [bold]Examples:[/bold]

      navctl exec web-7d4b9c -- ls /

      navctl exec -it web-7d4b9c -c web -- sh

      navctl exec deploy/web -- env
    """

    async def go(session: Session) -> int:
        return await exec_command(
            session, target, command or [], container=container,
            stdin=stdin, tty=tty, namespace=namespace,
        )  # fmt: skip

    run(go)


# --- implementation --------------------------------------------------------------------------


def exit_code_of(status: dict[str, Any]) -> int | None:
    """The exit code a channel-3 Status reports (0 for Success, None for other failures)."""
    if status.get("status") == "Success":
        return 0
    if status.get("reason") == "NonZeroExitCode":
        for cause in (status.get("details") or {}).get("causes") or []:
            if cause.get("reason") == "ExitCode":
                with contextlib.suppress(TypeError, ValueError):
                    return int(cause.get("message", ""))
        return 1
    return None


def exec_params(
    command: list[str], container: str, *, stdin: bool, tty: bool
) -> list[tuple[str, str]]:
    params = [("command", part) for part in command]
    params.append(("container", container))
    params.append(("stdout", "true"))
    # With a terminal, stderr travels merged into stdout (as kubectl asks for it).
    params.append(("stderr", "false" if tty else "true"))
    if stdin:
        params.append(("stdin", "true"))
    if tty:
        params.append(("tty", "true"))
    return params


@contextlib.contextmanager
def _raw_terminal(enabled: bool) -> Any:
    if not enabled:
        yield
        return
    import termios
    import tty as ttymod

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        ttymod.setraw(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _terminal_size() -> bytes:
    size = os.get_terminal_size(sys.stdout.fileno() if sys.stdout.isatty() else 0)
    return orjson.dumps({"Width": size.columns, "Height": size.lines})


async def exec_command(
    session: Session,
    target: str,
    command: list[str],
    *,
    container: str | None = None,
    stdin: bool = False,
    tty: bool = False,
    namespace: str | None = None,
) -> int:
    """Run ``navctl exec``; returns the remote command's exit code."""
    import aiohttp

    if not command:
        fail("you must specify at least one command for the container")
    if tty and not (stdin and sys.stdin.isatty()):
        if stdin:
            err("Unable to use a TTY - input is not a terminal or the right kind of file")
        tty = False
    ns = session.namespace(namespace)
    pod = (await resolve_pods(session, target, ns))[0]
    meta = pod.get("metadata") or {}
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        fail(f"cannot exec into a container in a completed pod; current phase is {phase}")
    # The apiserver judges an unknown -c, in its own words (as for kubectl).
    name = pick_container(pod, container, check=False)
    transport = Transport(session.config)
    path = resource("", "pods").path(meta.get("namespace"), meta.get("name"), "exec")
    try:
        ws = await transport.websocket(
            path, exec_params(command, name, stdin=stdin, tty=tty), EXEC_PROTOCOLS
        )
        try:
            return await _exec_session(ws, stdin=stdin, tty=tty)
        finally:
            await ws.close()
    except aiohttp.ClientError as error:
        fail(f"exec failed: {error}")
    finally:
        await transport.close()


async def _exec_session(ws: aiohttp.ClientWebSocketResponse, *, stdin: bool, tty: bool) -> int:
    import aiohttp

    v5 = ws.protocol == EXEC_PROTOCOLS[0]
    loop = asyncio.get_running_loop()
    tasks: list[asyncio.Task[None]] = []

    async def pump_stdin() -> None:
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(os.dup(0), "rb", 0)
        )
        while True:
            data = await reader.read(32 * 1024)
            if not data:
                break
            await ws.send_bytes(bytes([STDIN]) + data)
        if v5:
            await ws.send_bytes(bytes([CLOSE, STDIN]))

    async def send_size() -> None:
        with contextlib.suppress(OSError):
            await ws.send_bytes(bytes([RESIZE]) + _terminal_size())

    with _raw_terminal(tty):
        if stdin:
            tasks.append(asyncio.create_task(pump_stdin()))
        if tty:
            await send_size()
            loop.add_signal_handler(
                signal.SIGWINCH, lambda: tasks.append(asyncio.create_task(send_size()))
            )
        status: dict[str, Any] | None = None
        try:
            async for message in ws:
                if message.type != aiohttp.WSMsgType.BINARY or not message.data:
                    continue
                channel, data = message.data[0], message.data[1:]
                if channel == STDOUT:
                    sys.stdout.buffer.write(data)
                    sys.stdout.buffer.flush()
                elif channel == STDERR:
                    sys.stderr.buffer.write(data)
                    sys.stderr.buffer.flush()
                elif channel == ERROR:
                    with contextlib.suppress(orjson.JSONDecodeError):
                        status = orjson.loads(data)
                elif channel == CLOSE:
                    continue
        finally:
            if tty:
                loop.remove_signal_handler(signal.SIGWINCH)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
    if status is None:
        return 0
    code = exit_code_of(status)
    if code is not None:
        if code:
            # kubectl says it on stderr too: "command terminated with exit code 3".
            err(f"command terminated with exit code {code}")
        return code
    raise CliError(f"error: {status.get('message') or 'exec failed'}")
