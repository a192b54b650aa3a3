"""``navctl version``: the client's version and the server's (``/version``)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.navctl.console import out
from cli.navctl.errors import fail
from cli.navctl.options import verb_app
from cli.navctl.printing import go_json, to_yaml
from cli.navctl.session import Session, run

app = verb_app()


@app.command("version")
def version_cmd(
    client: Annotated[bool, typer.Option("--client", help="Only the client's version.")] = False,
    output: Annotated[str | None, typer.Option("--output", "-o", help="yaml or json.")] = None,
) -> None:
    """Print the client and server versions.

    [bold]Examples:[/bold]

      navctl version

      navctl version --client -o json
    """

    async def go(session: Session) -> int:
        return await version(session, client_only=client, output=output)

    run(go)


# --- implementation --------------------------------------------------------------------------

CLIENT_VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0-navctl",
    "gitCommit": "navarch",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "python",
    "compiler": "cpython",
    "platform": "linux/amd64",
}


def _client_version() -> dict[str, Any]:
    import platform
    import sys
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as pkg_version

    try:
        ours = pkg_version("navarch")
    except PackageNotFoundError:  # pragma: no cover - running from a checkout
        ours = "0.0.0"
    info = dict(CLIENT_VERSION)
    info["gitVersion"] = f"v1.32.0-navctl-{ours}"
    info["goVersion"] = f"python{sys.version_info.major}.{sys.version_info.minor}"
    info["platform"] = f"{platform.system().lower()}/{platform.machine()}"
    return info


async def version(session: Session, *, client_only: bool, output: str | None) -> int:
    """``Client Version: ...`` and ``Server Version: ...`` (or the yaml/json of both)."""
    client = _client_version()
    server: dict[str, Any] | None = None
    if not client_only:
        server = await session.client.server_version()
    if output in ("json", "yaml"):
        doc: dict[str, Any] = {"clientVersion": client}
        if server is not None:
            doc["serverVersion"] = server
        out(go_json(doc, indent=2) + "\n" if output == "json" else to_yaml(doc))
        return 0
    if output:
        fail(f"--output must be 'yaml' or 'json', not {output!r}")
    out(f"Client Version: {client['gitVersion']}\n")
    if server is not None:
        out(f"Server Version: {server.get('gitVersion', '')}\n")
    return 0
