"""``navarch token create|list|delete|generate``: the command line of
``cli/bootstrap/tokens.py`` (as ``kubeadm token``)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(
    name="token",
    help="Bootstrap tokens for `navarch join`: create (with --print-join-command), list, "
    "delete, generate.",
    no_args_is_help=True,
)

Kubeconfig = Annotated[
    Path,
    typer.Option(
        envvar="NAVARCH_TOKEN_KUBECONFIG",
        help="Who talks to the cluster (it needs Secrets in kube-system): by default the "
        "admin kubeconfig `navarch init` wrote.",
    ),
]
DEFAULT_KUBECONFIG = Path("/etc/navarch/admin.conf")


def _run(body: Callable[[], Any]) -> Any:
    """Run ``body``; a problem ends as one line on stderr, exit status 1."""
    import httpx

    from apiclient.config import ConfigError
    from pki.bootstraptoken import TokenError

    try:
        return body()
    except (ConfigError, TokenError, RuntimeError, OSError, ValueError, httpx.HTTPError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from err


def _client(kubeconfig: Path) -> Any:
    """An httpx client of ``kubeconfig``'s current context, and that config."""
    import httpx

    from apiclient.config import load_config

    config = load_config(kubeconfig)
    client = httpx.Client(
        base_url=config.server,
        verify=config.ssl_context(),
        headers=config.auth_headers(),
        timeout=10.0,
    )
    return client, config


@app.command("create")
def create_cmd(
    token: Annotated[
        str | None, typer.Argument(help="The token to register (default: a new random one).")
    ] = None,
    ttl: Annotated[
        str, typer.Option(help="How long until it expires (24h, 1h30m; 0: never).")
    ] = "24h0m0s",
    description: Annotated[str, typer.Option(help="A human-readable note on the token.")] = "",
    usages: Annotated[
        list[str] | None,
        typer.Option(help="What it may do: signing (discovery), authentication (joining)."),
    ] = None,
    groups: Annotated[
        list[str] | None,
        typer.Option(help="Extra groups it authenticates as (system:bootstrappers:...)."),
    ] = None,
    print_join_command: Annotated[
        bool, typer.Option("--print-join-command", help="Print the whole `navarch join` line.")
    ] = False,
    kubeconfig: Kubeconfig = DEFAULT_KUBECONFIG,
) -> None:
    """Register a bootstrap token and print it (or the join command that uses it).

    Example: navarch token create --ttl 2h --print-join-command
    """
    from cli.bootstrap import tokens
    from pki import bootstraptoken as bt

    def body() -> None:
        chosen = bt.parse(token) if token else bt.generate()
        life = tokens.parse_ttl(ttl)
        client, config = _client(kubeconfig)
        with client:
            tokens.create(
                client,
                chosen,
                now=datetime.datetime.now(datetime.UTC),
                ttl=life,
                usages=tokens.split_list(usages or list(bt.USAGES)),
                groups=tokens.split_list(groups or [bt.DEFAULT_GROUP]),
                description=description,
            )
        typer.echo(tokens.join_command(config, chosen) if print_join_command else str(chosen))

    _run(body)


@app.command("list")
def list_cmd(kubeconfig: Kubeconfig = DEFAULT_KUBECONFIG) -> None:
    """The cluster's bootstrap tokens, with their life left, usages and groups."""
    from cli.bootstrap import tokens

    def body() -> None:
        client, _ = _client(kubeconfig)
        with client:
            found = tokens.rows(client)
        for line in tokens.table(found, datetime.datetime.now(datetime.UTC)):
            typer.echo(line)

    _run(body)


@app.command("delete")
def delete_cmd(
    token: Annotated[list[str], typer.Argument(help="Tokens, or their 6-character ids.")],
    kubeconfig: Kubeconfig = DEFAULT_KUBECONFIG,
) -> None:
    """Delete bootstrap tokens: hosts can no longer join with them."""
    from cli.bootstrap import tokens

    def body() -> None:
        ids = [tokens.token_id(t) for t in token]  # all checked before any is deleted
        client, _ = _client(kubeconfig)
        with client:
            for ident in ids:
                tokens.delete(client, ident)
                typer.echo(f'bootstrap token "{ident}" deleted')

    _run(body)


@app.command("generate")
def generate_cmd() -> None:
    """Print a new random token (registers nothing: give it to `create` or `init --token`)."""
    from pki.bootstraptoken import generate

    typer.echo(str(generate()))
