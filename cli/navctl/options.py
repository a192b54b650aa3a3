"""The flags several navctl commands share: their declarations and how their values read.

Each ``Annotated`` type below is one flag as kubectl spells it (``-n``, ``-A``, ``-l``,
``-o``, ``-f``, ``--dry-run``, ...): a command declares a parameter of that type to
accept it. ``dry_run_mode`` and ``duration_flag`` read values as kubectl reads them
(``--dry-run=client``, ``--timeout=1m30s``). ``verb_app`` makes the ``typer.Typer`` that
a command module declares its verbs on.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.navctl.errors import CliError, fail


def verb_app(**settings: Any) -> typer.Typer:
    """A Typer for one command module, with navctl's help conventions (``-h``, rich text)."""
    return typer.Typer(
        rich_markup_mode="rich",
        context_settings={"help_option_names": ["-h", "--help"]},
        **settings,
    )


Namespace = Annotated[
    str | None,
    typer.Option("--namespace", "-n", help="Namespace for this request (default: the context's)."),
]
AllNamespaces = Annotated[
    bool,
    typer.Option("--all-namespaces", "-A", help="Across all namespaces."),
]
Selector = Annotated[
    str | None,
    typer.Option("--selector", "-l", help="Label selector, e.g. -l 'app=web,tier!=db'."),
]
FieldSelector = Annotated[
    str | None,
    typer.Option("--field-selector", help="Field selector, e.g. status.phase=Running."),
]
OutputFlag = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        help="wide|yaml|json|name|jsonpath=...|jsonpath-file=...|custom-columns=...",
    ),
]
Filenames = Annotated[
    list[str] | None,
    typer.Option("--filename", "-f", help="Manifest file, directory, or - for stdin."),
]
Recursive = Annotated[
    bool, typer.Option("--recursive", "-R", help="Descend into directories given with -f.")
]
DryRun = Annotated[
    str | None,
    typer.Option(
        "--dry-run",
        help="none, client (only print what would be sent) or server (the apiserver checks).",
    ),
]
All = Annotated[bool, typer.Option("--all", help="Every object of the type(s) in the namespace.")]


def complete_types(incomplete: str) -> list[str]:
    """Shell completion of resource type names (plurals and short names)."""
    from apitypes.registry import STORED

    names = sorted({n for r in STORED for n in (r.plural, *r.short_names)})
    return [n for n in names if n.startswith(incomplete)]


ResourceArgs = Annotated[
    list[str] | None,
    typer.Argument(
        help="TYPE[,TYPE...] [NAME...] or TYPE/NAME...",
        autocompletion=complete_types,
        show_default=False,
    ),
]


def dry_run_mode(value: str | None) -> str:
    """``--dry-run``'s mode: "" (none), "client" or "server"; a usage error otherwise."""
    if value in (None, "", "none", "false"):
        return ""
    if value in ("client", "true"):
        return "client"
    if value == "server":
        return "server"
    raise typer.BadParameter(
        f'Invalid dry-run value ({value}). Must be "none", "server", or "client".'
    ) from CliError("")


def dry_run_suffix(mode: str) -> str:
    """What kubectl appends to "created", "configured", ... under ``--dry-run=mode``."""
    return {"client": " (dry run)", "server": " (server dry run)"}.get(mode, "")


# --- durations (--timeout, --since) ---------------------------------------------------

WEEK = 7 * 24 * 3600.0
"""What a timeout of 0 (or -1) means where kubectl means "no limit"."""


def duration_flag(text: str, flag: str = "--timeout") -> float:
    """A duration flag's value in seconds (``apitypes.duration.parse_duration``), or the
    usage error kubectl gives."""
    from apitypes.duration import parse_duration

    try:
        return parse_duration(text)
    except ValueError:
        fail(f'invalid argument "{text}" for "{flag}" flag: time: invalid duration "{text}"')
