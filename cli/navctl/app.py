"""The ``navctl`` root command: its global flags, its verbs, and the entry point.

Every command follows kubectl's conventions (flags, output, messages, exit codes), so
that a kubectl user needs no manual. Each verb, or tight family of verbs, is one module
of ``cli.navctl.commands`` that declares its flags and help on its own Typer; this
module adds them in the order ``--help`` lists them. No command module imports the API
types or the client library when it is imported, so that ``--help`` and completion
stay fast.

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
    certificate,
    cluster_info,
    config,
    create,
    delete,
    describe,
    drain,
    edit,
    events,
    expose,
    get,
    label,
    logs,
    patch,
    port_forward,
    rollout,
    run,
    scale,
    version,
    wait,
)
from cli.navctl.commands import exec as exec_
from cli.navctl.errors import fail
from cli.navctl.options import Namespace
from cli.navctl.session import FLAGS

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
        from apitypes.duration import parse_duration

        try:
            FLAGS.request_timeout = parse_duration(request_timeout) or None
        except ValueError:
            fail(f"invalid --request-timeout {request_timeout!r}")  # pragma: no cover


# --- the verbs -----------------------------------------------------------------------------

# In the order --help lists them: a module's verbs (label, annotate) in its own order,
# then the groups, which typer lists after the commands.
for verb in (
    get,
    describe,
    apply,
    delete,
    edit,
    patch,
    label,
    scale,
    drain,
    run,
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
app.add_typer(certificate.app, name="certificate")


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
    """Run navctl with ``sys.argv``, rewritten to what click parses."""
    sys.argv[1:] = kubectl_booleans(hoist_global_flags(sys.argv[1:]))
    app(prog_name="navctl")


if __name__ == "__main__":
    main()
