"""The session every ``navctl`` command runs in: global flags, the client, ``run``.

A command is an async function of a ``Session``; ``run`` executes it and turns every
failure a person can cause (see ``errors.error_line``) into ONE line on stderr and a
non-zero exit code, in kubectl's words where kubectl has words for it. Only a bug in
navctl itself shows a traceback.

The session builds its client lazily, so commands that never talk to the apiserver
(``config``, ``--help``) never import the client library.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cli.navctl.console import err
from cli.navctl.errors import ExitCode, error_line

if TYPE_CHECKING:
    from apiclient import Client, ClientConfig
    from cli.navctl.resources import Resolver


@dataclass
class GlobalFlags:
    """The flags kubectl accepts on every command."""

    kubeconfig: str | None = None
    context: str | None = None
    server: str | None = None
    namespace: str | None = None
    token: str | None = None
    insecure_skip_tls_verify: bool = False
    request_timeout: float | None = None


FLAGS = GlobalFlags()
"""Set once by the root callback before any command runs."""


class Session:
    """One command's view of the cluster: config, client, namespace, resource names."""

    def __init__(self, flags: GlobalFlags) -> None:
        self.flags = flags
        self._config: ClientConfig | None = None
        self._client: Client | None = None
        self._resolver: Resolver | None = None
        self.exit_code = 0

    @property
    def config(self) -> ClientConfig:
        if self._config is None:
            from apiclient import load_config

            config = load_config(
                self.flags.kubeconfig,
                context=self.flags.context,
                server=self.flags.server,
            )
            if self.flags.token:
                config.token = self.flags.token
            if self.flags.insecure_skip_tls_verify:
                config.insecure_skip_tls_verify = True
            if self.flags.request_timeout:
                config.timeout = self.flags.request_timeout
            self._config = config
        return self._config

    @property
    def server(self) -> str:
        return self._config.server if self._config is not None else ""

    @property
    def client(self) -> Client:
        if self._client is None:
            from apiclient import Client

            self._client = Client(self.config, user_agent="navctl/0.1.0")
        return self._client

    @property
    def resolver(self) -> Resolver:
        if self._resolver is None:
            from cli.navctl.resources import Resolver

            self._resolver = Resolver(self)
        return self._resolver

    def namespace(self, flag: str | None = None) -> str:
        """``-n`` on the command, else ``-n`` before it, else the context's namespace."""
        return flag or self.flags.namespace or self.config.namespace

    def explicit_namespace(self, flag: str | None = None) -> bool:
        return bool(flag or self.flags.namespace)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


def run(command: Callable[[Session], Awaitable[int | None]]) -> None:
    """Run ``command`` and exit as kubectl would: 0, or one error line and 1."""
    import typer

    session = Session(FLAGS)

    async def main() -> int | None:
        try:
            return await command(session)
        finally:
            await session.close()

    try:
        code = asyncio.run(main())
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except ExitCode as done:
        raise typer.Exit(done.code) from None
    except BrokenPipeError:
        # A reader like ``head`` went away; say nothing more.
        _silence_stdout()
        raise typer.Exit(0) from None
    except Exception as error:
        line = error_line(error, session.server)
        if line is None:
            raise
        err(line)
        code = getattr(error, "exit_code", 1)
        raise typer.Exit(code) from None
    code = code or session.exit_code
    if code:
        raise typer.Exit(code)


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
