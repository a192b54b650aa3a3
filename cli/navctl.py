"""``navctl``: kubectl-style commands for people."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="navctl",
    help="Drive a navarch (or any Kubernetes) cluster, the way kubectl does.",
    no_args_is_help=True,
)


@app.callback()
def _root() -> None:
    """Keeps subcommands subcommands, even while there is only one."""


@app.command("version")
def version() -> None:
    """Print the navctl version.

    Example: navctl version
    """
    from importlib.metadata import version as pkg_version

    typer.echo(f"navctl {pkg_version('navarch')}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
