"""``navctl``: kubectl-style commands for people.

Every command follows kubectl's conventions (flags, output, messages, exit codes), so
that a kubectl user needs no manual. This module only declares the commands and their
flags; each command imports its implementation (``cli.navctl_*``) when it runs, so
that ``--help`` and completion stay fast.

Connection flags (``--kubeconfig``, ``--context``, ``--server``/``-s``, ``--token``,
``--insecure-skip-tls-verify``, ``--request-timeout``) may come anywhere on the
command line, as with kubectl: ``main`` moves them in front of the command.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cli.navctl.commands import (
    api_resources,
    apply,
    cluster_info,
    config,
    create,
    delete,
    drain,
    edit,
    events,
    expose,
    label,
    logs,
    patch,
    port_forward,
    rollout,
    scale,
    version,
    wait,
)
from cli.navctl.commands import exec as exec_
from cli.navctl.commands import run as run_verb
from cli.navctl.options import (
    AllNamespaces,
    FieldSelector,
    Filenames,
    Namespace,
    OutputFlag,
    Recursive,
    ResourceArgs,
    Selector,
)
from cli.navctl.session import FLAGS, Session, run

app = typer.Typer(
    name="navctl",
    help="Drive a navarch (or any Kubernetes) cluster, the way kubectl does.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    kubeconfig: Annotated[
        str | None, typer.Option("--kubeconfig", help="Path to the kubeconfig file to use.")
    ] = None,
    context: Annotated[
        str | None, typer.Option("--context", help="The kubeconfig context to use.")
    ] = None,
    server: Annotated[
        str | None,
        typer.Option("--server", "-s", help="The address of the apiserver (no kubeconfig needed)."),
    ] = None,
    namespace: Namespace = None,
    token: Annotated[
        str | None, typer.Option("--token", help="Bearer token for the apiserver.")
    ] = None,
    insecure_skip_tls_verify: Annotated[
        bool,
        typer.Option("--insecure-skip-tls-verify", help="Do not check the server's certificate."),
    ] = False,
    request_timeout: Annotated[
        str | None,
        typer.Option("--request-timeout", help="Timeout of one request, e.g. 30s, 1m; 0: none."),
    ] = None,
) -> None:
    """Global flags, accepted before or after the command."""
    FLAGS.kubeconfig = kubeconfig
    FLAGS.context = context
    FLAGS.server = server
    FLAGS.namespace = namespace
    FLAGS.token = token
    FLAGS.insecure_skip_tls_verify = insecure_skip_tls_verify
    if request_timeout:
        from cli.navctl.errors import fail
        from cli.navctl.options import parse_duration

        try:
            FLAGS.request_timeout = parse_duration(request_timeout) or None
        except ValueError:
            fail(f"invalid --request-timeout {request_timeout!r}")  # pragma: no cover


# --- get, describe ------------------------------------------------------------------------


@app.command("get")
def get_cmd(
    args: ResourceArgs = None,
    output: OutputFlag = None,
    namespace: Namespace = None,
    all_namespaces: AllNamespaces = False,
    selector: Selector = None,
    field_selector: FieldSelector = None,
    watch: Annotated[
        bool, typer.Option("--watch/--no-watch", "-w", help="After listing, watch for changes.")
    ] = False,
    watch_only: Annotated[
        bool, typer.Option("--watch-only", help="Watch for changes without listing first.")
    ] = False,
    output_watch_events: Annotated[
        bool, typer.Option("--output-watch-events", help="With -w, print the event type too.")
    ] = False,
    show_labels: Annotated[
        bool, typer.Option("--show-labels", help="Add a LABELS column.")
    ] = False,
    label_columns: Annotated[
        list[str] | None,
        typer.Option("--label-columns", "-L", help="Add a column for each of these label keys."),
    ] = None,
    sort_by: Annotated[
        str | None, typer.Option("--sort-by", help="Sort by a JSONPath, e.g. .metadata.name.")
    ] = None,
    no_headers: Annotated[bool, typer.Option("--no-headers", help="Omit headers.")] = False,
    show_kind: Annotated[
        bool, typer.Option("--show-kind", help="Prefix names with their kind.")
    ] = False,
    ignore_not_found: Annotated[
        bool, typer.Option("--ignore-not-found", help="Say nothing about missing objects.")
    ] = False,
    filename: Filenames = None,
    recursive: Recursive = False,
) -> None:
    """Display one or many resources.

    Prints the columns the apiserver defines for each kind (as kubectl does), or whole
    objects with -o yaml|json, or what a JSONPath or custom columns select.

    [bold]Examples:[/bold]

      navctl get pods

      navctl get po,svc -o wide

      navctl get all -A

      navctl get deploy/web -o yaml

      navctl get pods -l app=web -o jsonpath='{.items[*].metadata.name}'

      navctl get pods -w
    """

    async def go(session: Session) -> int:
        from cli.navctl.output import Output
        from cli.navctl_get import GetOptions, get

        opts = GetOptions(
            output=Output.parse(output),
            namespace=namespace,
            all_namespaces=all_namespaces,
            selector=selector,
            field_selector=field_selector,
            watch=watch,
            watch_only=watch_only,
            output_watch_events=output_watch_events,
            show_labels=show_labels,
            label_columns=[c for cols in label_columns or [] for c in cols.split(",")],
            sort_by=sort_by,
            no_headers=no_headers,
            show_kind=show_kind,
            ignore_not_found=ignore_not_found,
            filenames=filename or [],
            recursive=recursive,
        )
        return await get(session, args or [], opts)

    run(go)


@app.command("describe")
def describe_cmd(
    args: ResourceArgs = None,
    namespace: Namespace = None,
    all_namespaces: AllNamespaces = False,
    selector: Selector = None,
    filename: Filenames = None,
    show_events: Annotated[
        bool, typer.Option("--show-events/--no-show-events", help="Show the object's events.")
    ] = True,
) -> None:
    """Show details of objects, with their recent events.

    NAME may be a prefix: describe prints every object whose name starts with it, as
    kubectl does.

    [bold]Examples:[/bold]

      navctl describe pod web-7d4b9c

      navctl describe deploy web

      navctl describe nodes

      navctl describe svc -l app=web
    """

    async def go(session: Session) -> int:
        from cli.navctl_describe import describe

        return await describe(
            session,
            args or [],
            namespace=namespace,
            all_namespaces=all_namespaces,
            selector=selector,
            filenames=filename or [],
            show_events=show_events,
        )

    run(go)


# --- the verbs: one module each, added in the order --help lists them ----------------------

for verb in (
    apply,
    delete,
    edit,
    patch,
    label,
    scale,
    drain,
    run_verb,
    expose,
    logs,
    exec_,
    port_forward,
    events,
    wait,
    api_resources,
    version,
    cluster_info,
):
    app.add_typer(verb.app)
app.add_typer(create.app, name="create")
app.add_typer(rollout.app, name="rollout")
app.add_typer(config.app, name="config")


# --- entry point ---------------------------------------------------------------------------

_GLOBAL_WITH_VALUE = ("--kubeconfig", "--context", "--server", "-s", "--token", "--request-timeout")
_GLOBAL_SWITCHES = ("--insecure-skip-tls-verify",)


def hoist_global_flags(argv: list[str]) -> list[str]:
    """Move connection flags given after the command in front of it (kubectl allows both).

    Stops at ``--``: what follows belongs to the command run in a container.
    """
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        name = arg.split("=", 1)[0]
        if name in _GLOBAL_WITH_VALUE:
            if "=" in arg or i + 1 >= len(argv):
                front.append(arg)
                i += 1
            else:
                front.extend(argv[i : i + 2])
                i += 2
            continue
        if name in _GLOBAL_SWITCHES:
            front.append(arg)
            i += 1
            continue
        rest.append(arg)
        i += 1
    return front + rest


# Boolean flags declared as --X/--no-X, and plain switches: kubectl users write
# --X=true / --X=false, which click's flags do not take.
_PAIRED = ("--wait", "--show-events", "--watch", "--namespaced")
_SWITCHES = (
    "--all-namespaces", "--all", "--show-labels", "--no-headers", "--overwrite", "--force",
    "--now", "--ignore-not-found", "--ignore-daemonsets", "--delete-emptydir-data", "--follow",
    "--previous", "--timestamps", "--stdin", "--tty", "--command", "--recursive", "--show-kind",
    "--watch-only", "--output-watch-events", "--save-config", "--insecure-skip-tls-verify",
    "--raw", "--minify", "--current", "--client", "--prefix", "--all-containers", "--list",
    "--disable-eviction", "--server-side",
)  # fmt: skip


def kubectl_booleans(argv: list[str]) -> list[str]:
    """Rewrite ``--flag=true|false`` into the click spelling (up to ``--``)."""
    result: list[str] = []
    for i, arg in enumerate(argv):
        if arg == "--":
            result.extend(argv[i:])
            break
        name, sep, value = arg.partition("=")
        lowered = value.lower()
        if sep and lowered in ("true", "false") and name in (*_PAIRED, *_SWITCHES):
            if lowered == "true":
                result.append(name)
            elif name in _PAIRED:
                result.append("--no-" + name[2:])
            continue
        result.append(arg)
    return result


def main() -> None:
    sys.argv[1:] = kubectl_booleans(hoist_global_flags(sys.argv[1:]))
    app(prog_name="navctl")


if __name__ == "__main__":
    main()
