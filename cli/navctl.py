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

from cli.navctl_common import FLAGS, Session, run

app = typer.Typer(
    name="navctl",
    help="Drive a navarch (or any Kubernetes) cluster, the way kubectl does.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)

# --- shared option types ------------------------------------------------------------------

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


def _complete_types(incomplete: str) -> list[str]:
    from apitypes.registry import RESOURCES

    names = sorted({n for r in RESOURCES for n in (r.plural, *r.short_names)})
    return [n for n in names if n.startswith(incomplete)]


ResourceArgs = Annotated[
    list[str] | None,
    typer.Argument(
        help="TYPE[,TYPE...] [NAME...] or TYPE/NAME...",
        autocompletion=_complete_types,
        show_default=False,
    ),
]


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
        from cli.navctl_common import fail

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
        from cli.navctl_get import GetOptions, get
        from cli.navctl_output import Output

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


# --- apply, create, delete, edit, patch ------------------------------------------------------


@app.command("apply")
def apply_cmd(
    filename: Filenames = None,
    recursive: Recursive = False,
    namespace: Namespace = None,
    dry_run: DryRun = None,
    output: OutputFlag = None,
    server_side: Annotated[
        bool, typer.Option("--server-side", help="Not supported: navctl applies client-side.")
    ] = False,
) -> None:
    """Apply a configuration to objects from files or stdin (client-side, as kubectl).

    Creates what does not exist; otherwise sends the three-way strategic merge patch of
    the last-applied configuration, the manifest and the live object, so that fields
    removed from the manifest are removed and fields others set are kept. Records the
    manifest in the kubectl.kubernetes.io/last-applied-configuration annotation.

    [bold]Examples:[/bold]

      navctl apply -f deploy.yaml

      navctl apply -f manifests/

      cat app.yaml | navctl apply -f -

      navctl apply -f deploy.yaml --dry-run=server
    """

    async def go(session: Session) -> int:
        from cli.navctl_apply import apply
        from cli.navctl_common import fail

        if server_side:
            fail("--server-side is not supported by navctl; omit it to apply client-side")
        return await apply(
            session,
            filename or [],
            recursive=recursive,
            namespace=namespace,
            dry_run=_dry_run(dry_run),
            output=output,
        )

    run(go)


def _dry_run(value: str | None) -> str:
    if value in (None, "", "none", "false"):
        return ""
    if value in ("client", "true"):
        return "client"
    if value == "server":
        return "server"
    from cli.navctl_common import CliError

    raise typer.BadParameter(
        f'Invalid dry-run value ({value}). Must be "none", "server", or "client".'
    ) from CliError("")


# No help= here: it would hide create_cmd's docstring (and its examples) from --help.
create_app = typer.Typer(
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(create_app, name="create")


@create_app.callback(invoke_without_command=True)
def create_cmd(
    ctx: typer.Context,
    filename: Filenames = None,
    recursive: Recursive = False,
    namespace: Namespace = None,
    dry_run: DryRun = None,
    output: OutputFlag = None,
    save_config: Annotated[
        bool,
        typer.Option("--save-config", help="Record the last-applied annotation (for apply)."),
    ] = False,
) -> None:
    """Create objects from files, stdin or a generator; fails if one exists.

    [bold]Examples:[/bold]

      navctl create -f pod.yaml

      navctl create namespace team-a

      navctl create configmap settings --from-literal=mode=fast

      navctl create secret generic db --from-literal=password=s3cret

      navctl create deployment web --image=nginx:1.25 --replicas=3
    """
    if ctx.invoked_subcommand is not None:
        ctx.obj = {"namespace": namespace, "dry_run": dry_run, "output": output}
        return
    if not filename:
        typer.echo(ctx.get_help())
        raise typer.Exit(1)

    async def go(session: Session) -> int:
        from cli.navctl_apply import create_from_files

        return await create_from_files(
            session,
            filename or [],
            recursive=recursive,
            namespace=namespace,
            dry_run=_dry_run(dry_run),
            output=output,
            save_config=save_config,
        )

    run(go)


def _create_obj(
    ctx: typer.Context, namespace: str | None, dry_run: str | None, output: str | None
) -> tuple[str | None, str, str | None]:
    parent = ctx.obj or {}
    return (
        namespace or parent.get("namespace"),
        _dry_run(dry_run or parent.get("dry_run")),
        output or parent.get("output"),
    )


@create_app.command("ns", hidden=True)
@create_app.command("namespace")
def create_namespace_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name of the namespace.")],
    dry_run: DryRun = None,
    output: OutputFlag = None,
) -> None:
    """Create a namespace.

    [bold]Example:[/bold]

      navctl create namespace team-a
    """
    _, dry, out_flag = _create_obj(ctx, None, dry_run, output)

    async def go(session: Session) -> int:
        from cli.navctl_generators import create_generated, namespace_object

        return await create_generated(session, namespace_object(name), dry_run=dry, output=out_flag)

    run(go)


@create_app.command("cm", hidden=True)
@create_app.command("configmap")
def create_configmap_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name of the ConfigMap.")],
    from_literal: Annotated[
        list[str] | None, typer.Option("--from-literal", help="KEY=VALUE, repeatable.")
    ] = None,
    from_file: Annotated[
        list[str] | None,
        typer.Option("--from-file", help="FILE, KEY=FILE or a directory, repeatable."),
    ] = None,
    from_env_file: Annotated[
        list[str] | None, typer.Option("--from-env-file", help="A file of KEY=VALUE lines.")
    ] = None,
    namespace: Namespace = None,
    dry_run: DryRun = None,
    output: OutputFlag = None,
) -> None:
    """Create a ConfigMap from literals, files or env files.

    [bold]Examples:[/bold]

      navctl create configmap settings --from-literal=mode=fast --from-literal=level=3

      navctl create configmap nginx-conf --from-file=nginx.conf
    """
    ns, dry, out_flag = _create_obj(ctx, namespace, dry_run, output)

    async def go(session: Session) -> int:
        from cli.navctl_generators import configmap_object, create_generated

        obj = configmap_object(name, from_literal or [], from_file or [], from_env_file or [])
        return await create_generated(session, obj, namespace=ns, dry_run=dry, output=out_flag)

    run(go)


secret_app = typer.Typer(
    help="""Create a Secret.

    [bold]Examples:[/bold]

      navctl create secret generic db --from-literal=password=s3cret
    """,
    rich_markup_mode="rich",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
create_app.add_typer(secret_app, name="secret")


@secret_app.command("generic")
def create_secret_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name of the Secret.")],
    from_literal: Annotated[
        list[str] | None, typer.Option("--from-literal", help="KEY=VALUE, repeatable.")
    ] = None,
    from_file: Annotated[
        list[str] | None,
        typer.Option("--from-file", help="FILE, KEY=FILE or a directory, repeatable."),
    ] = None,
    from_env_file: Annotated[
        list[str] | None, typer.Option("--from-env-file", help="A file of KEY=VALUE lines.")
    ] = None,
    secret_type: Annotated[
        str | None, typer.Option("--type", help="The Secret's type (default Opaque).")
    ] = None,
    namespace: Namespace = None,
    dry_run: DryRun = None,
    output: OutputFlag = None,
) -> None:
    """Create a generic (Opaque) Secret from literals, files or env files.

    [bold]Example:[/bold]

      navctl create secret generic db --from-literal=user=app --from-literal=password=s3cret
    """
    parent = ctx.parent.obj if ctx.parent is not None and ctx.parent.obj else {}
    ns = namespace or parent.get("namespace")
    dry = _dry_run(dry_run or parent.get("dry_run"))
    out_flag = output or parent.get("output")

    async def go(session: Session) -> int:
        from cli.navctl_generators import create_generated, secret_object

        obj = secret_object(
            name, from_literal or [], from_file or [], from_env_file or [], secret_type
        )
        return await create_generated(session, obj, namespace=ns, dry_run=dry, output=out_flag)

    run(go)


@create_app.command("deploy", hidden=True)
@create_app.command("deployment")
def create_deployment_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name of the Deployment.")],
    image: Annotated[
        list[str] | None, typer.Option("--image", help="Container image; repeat for several.")
    ] = None,
    replicas: Annotated[int, typer.Option("--replicas", "-r", help="Number of replicas.")] = 1,
    port: Annotated[int | None, typer.Option("--port", help="Port the container exposes.")] = None,
    namespace: Namespace = None,
    dry_run: DryRun = None,
    output: OutputFlag = None,
    command: Annotated[
        list[str] | None, typer.Argument(help="-- COMMAND [ARGS...] for the container.")
    ] = None,
) -> None:
    """Create a Deployment with the given image(s).

    [bold]Examples:[/bold]

      navctl create deployment web --image=nginx:1.25 --replicas=3 --port=80

      navctl create deployment job --image=busybox -- sleep 3600
    """
    ns, dry, out_flag = _create_obj(ctx, namespace, dry_run, output)

    async def go(session: Session) -> int:
        from cli.navctl_generators import create_generated, deployment_object

        obj = deployment_object(name, image or [], replicas, port, command or [])
        return await create_generated(session, obj, namespace=ns, dry_run=dry, output=out_flag)

    run(go)


@app.command("delete")
def delete_cmd(
    args: ResourceArgs = None,
    filename: Filenames = None,
    recursive: Recursive = False,
    namespace: Namespace = None,
    all_namespaces: AllNamespaces = False,
    selector: Selector = None,
    field_selector: FieldSelector = None,
    all_: All = False,
    cascade: Annotated[
        str,
        typer.Option("--cascade", help="background (default), foreground or orphan."),
    ] = "background",
    grace_period: Annotated[
        int,
        typer.Option("--grace-period", help="Seconds for graceful termination; -1: the object's."),
    ] = -1,
    now: Annotated[
        bool, typer.Option("--now", help="Terminate at once (same as --grace-period=1).")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="With --grace-period=0, skip graceful deletion.")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Wait until the objects are gone.")
    ] = True,
    timeout: Annotated[
        str, typer.Option("--timeout", help="How long to wait, e.g. 60s; 0: a week.")
    ] = "0s",
    ignore_not_found: Annotated[
        bool, typer.Option("--ignore-not-found", help="Treat missing objects as deleted.")
    ] = False,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="name: print only kind/name.")
    ] = None,
    dry_run: DryRun = None,
) -> None:
    """Delete objects by file, by type and name, by label, or all of a type.

    Waits until the objects are really gone (finalizers run, pods terminate) unless
    --wait=false, as kubectl does.

    [bold]Examples:[/bold]

      navctl delete -f deploy.yaml

      navctl delete pod web-7d4b9c

      navctl delete deploy/web svc/web

      navctl delete pods -l app=web

      navctl delete pods --all --grace-period=0 --force
    """

    async def go(session: Session) -> int:
        from cli.navctl_delete import DeleteOptions, delete

        opts = DeleteOptions(
            filenames=filename or [],
            recursive=recursive,
            namespace=namespace,
            all_namespaces=all_namespaces,
            selector=selector,
            field_selector=field_selector,
            all=all_,
            cascade=cascade,
            grace_period=grace_period,
            now=now,
            force=force,
            wait=wait,
            timeout=timeout,
            ignore_not_found=ignore_not_found,
            output=output,
            dry_run=_dry_run(dry_run),
        )
        return await delete(session, args or [], opts)

    run(go)


@app.command("edit")
def edit_cmd(
    args: ResourceArgs = None,
    namespace: Namespace = None,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="Edit as yaml (default) or json; print the result."),
    ] = None,
    filename: Filenames = None,
) -> None:
    """Edit an object in $KUBE_EDITOR or $EDITOR (default vi), then save it.

    On a refused change the file re-opens with the error as a comment at the top, as
    kubectl does; saving it unchanged (or empty) cancels the edit.

    [bold]Examples:[/bold]

      navctl edit deploy/web

      KUBE_EDITOR=nano navctl edit configmap settings -o json
    """

    async def go(session: Session) -> int:
        from cli.navctl_edit import edit

        return await edit(
            session, args or [], namespace=namespace, fmt=output or "yaml",
            filenames=filename or [], print_result=output is not None,
        )  # fmt: skip

    run(go)


@app.command("patch")
def patch_cmd(
    args: ResourceArgs = None,
    patch: Annotated[str, typer.Option("--patch", "-p", help="The patch, JSON or YAML.")] = "",
    patch_type: Annotated[
        str, typer.Option("--type", help="strategic (default), merge or json.")
    ] = "strategic",
    namespace: Namespace = None,
    subresource: Annotated[
        str | None, typer.Option("--subresource", help="status or scale.")
    ] = None,
    dry_run: DryRun = None,
    output: OutputFlag = None,
) -> None:
    """Update fields of an object with a strategic merge, JSON merge or JSON patch.

    [bold]Examples:[/bold]

      navctl patch deploy web -p '{"spec":{"replicas":3}}'

      navctl patch node n1 --type=merge -p '{"spec":{"unschedulable":true}}'

      navctl patch deploy web --type=json -p '[{"op":"replace","path":"/spec/replicas","value":1}]'
    """

    async def go(session: Session) -> int:
        from cli.navctl_metadata import patch as do_patch

        return await do_patch(
            session, args or [], patch, patch_type=patch_type,
            namespace=namespace, subresource=subresource, dry_run=_dry_run(dry_run),
            output=output,
        )  # fmt: skip

    run(go)


# --- label, annotate, scale ------------------------------------------------------------------


def _meta_cmd(
    which: str,
    args: list[str],
    overwrite: bool,
    namespace: str | None,
    selector: str | None,
    all_: bool,
    all_namespaces: bool,
    dry_run: str | None,
    output: str | None,
    list_: bool,
    resource_version: str | None,
) -> None:
    async def go(session: Session) -> int:
        from cli.navctl_metadata import MetaOptions, change_metadata

        opts = MetaOptions(
            field=which,
            overwrite=overwrite,
            namespace=namespace,
            selector=selector,
            all=all_,
            all_namespaces=all_namespaces,
            dry_run=_dry_run(dry_run),
            output=output,
            list=list_,
            resource_version=resource_version,
        )
        return await change_metadata(session, args, opts)

    run(go)


Overwrite = Annotated[
    bool, typer.Option("--overwrite", help="Allow replacing a key that already has a value.")
]
ListFlag = Annotated[bool, typer.Option("--list", help="Only print the current keys and values.")]
ResourceVersion = Annotated[
    str | None,
    typer.Option("--resource-version", help="Only change the object at this resourceVersion."),
]
MetaArgs = Annotated[
    list[str] | None,
    typer.Argument(
        help="TYPE NAME | TYPE/NAME, then KEY=VALUE to set or KEY- to remove.",
        autocompletion=_complete_types,
        show_default=False,
    ),
]


@app.command("label")
def label_cmd(
    args: MetaArgs = None,
    overwrite: Overwrite = False,
    namespace: Namespace = None,
    selector: Selector = None,
    all_: All = False,
    all_namespaces: AllNamespaces = False,
    dry_run: DryRun = None,
    output: OutputFlag = None,
    list_: ListFlag = False,
    resource_version: ResourceVersion = None,
) -> None:
    """Add, change (--overwrite) or remove (KEY-) labels of objects.

    [bold]Examples:[/bold]

      navctl label pods web-7d4b9c tier=frontend

      navctl label --overwrite deploy web tier=backend

      navctl label nodes n1 disk-

      navctl label pods -l app=web canary=true
    """
    _meta_cmd(
        "labels", args or [], overwrite, namespace, selector, all_, all_namespaces, dry_run,
        output, list_, resource_version,
    )  # fmt: skip


@app.command("annotate")
def annotate_cmd(
    args: MetaArgs = None,
    overwrite: Overwrite = False,
    namespace: Namespace = None,
    selector: Selector = None,
    all_: All = False,
    all_namespaces: AllNamespaces = False,
    dry_run: DryRun = None,
    output: OutputFlag = None,
    list_: ListFlag = False,
    resource_version: ResourceVersion = None,
) -> None:
    """Add, change (--overwrite) or remove (KEY-) annotations of objects.

    [bold]Examples:[/bold]

      navctl annotate deploy web owner=team-a

      navctl annotate --overwrite pods web-7d4b9c description='the web tier'

      navctl annotate svc web owner-
    """
    _meta_cmd(
        "annotations", args or [], overwrite, namespace, selector, all_, all_namespaces, dry_run,
        output, list_, resource_version,
    )  # fmt: skip


@app.command("scale")
def scale_cmd(
    args: ResourceArgs = None,
    replicas: Annotated[int, typer.Option("--replicas", help="The new number of replicas.")] = -1,
    current_replicas: Annotated[
        int, typer.Option("--current-replicas", help="Only scale if it has this many now.")
    ] = -1,
    namespace: Namespace = None,
    selector: Selector = None,
    all_: All = False,
    filename: Filenames = None,
    timeout: Annotated[
        str, typer.Option("--timeout", help="Wait this long for the scale to finish (0: no wait).")
    ] = "0s",
    dry_run: DryRun = None,
    output: OutputFlag = None,
) -> None:
    """Set the number of replicas of a Deployment, ReplicaSet or StatefulSet.

    [bold]Examples:[/bold]

      navctl scale deploy/web --replicas=3

      navctl scale --current-replicas=2 --replicas=3 deployment web
    """

    async def go(session: Session) -> int:
        from cli.navctl_workloads import scale

        return await scale(
            session, args or [], replicas=replicas,
            current_replicas=current_replicas, namespace=namespace, selector=selector,
            all_=all_, filenames=filename or [], timeout=timeout, dry_run=_dry_run(dry_run),
            output=output,
        )  # fmt: skip

    run(go)


# --- rollout ---------------------------------------------------------------------------------

rollout_app = typer.Typer(
    help="""Manage the rollout of Deployments (and DaemonSets, StatefulSets).

    [bold]Examples:[/bold]

      navctl rollout status deployment/web

      navctl rollout history deployment/web

      navctl rollout undo deployment/web --to-revision=2
    """,
    rich_markup_mode="rich",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(rollout_app, name="rollout")

RolloutArgs = Annotated[
    list[str] | None,
    typer.Argument(help="TYPE NAME or TYPE/NAME, e.g. deployment/web.", show_default=False),
]


def _rollout(
    action: str,
    args: list[str],
    namespace: str | None,
    *,
    watch: bool = True,
    timeout: str = "0s",
    revision: int = 0,
    to_revision: int = 0,
    dry_run: str = "",
) -> None:
    async def go(session: Session) -> int:
        from cli.navctl_workloads import rollout

        return await rollout(
            session, action, args, namespace=namespace, watch=watch, timeout=timeout,
            revision=revision, to_revision=to_revision, dry_run=dry_run,
        )  # fmt: skip

    run(go)


@rollout_app.command("status")
def rollout_status_cmd(
    args: RolloutArgs = None,
    namespace: Namespace = None,
    watch: Annotated[
        bool, typer.Option("--watch/--no-watch", "-w", help="Follow until the rollout ends.")
    ] = True,
    timeout: Annotated[
        str, typer.Option("--timeout", help="Give up after this long, e.g. 2m; 0: never.")
    ] = "0s",
    revision: Annotated[
        int, typer.Option("--revision", help="Pin to this revision (fails if it changes).")
    ] = 0,
) -> None:
    """Show the status of a rollout, following it until it completes.

    [bold]Examples:[/bold]

      navctl rollout status deploy/web

      navctl rollout status daemonset/agent --timeout=2m
    """
    _rollout("status", args or [], namespace, watch=watch, timeout=timeout, revision=revision)


@rollout_app.command("history")
def rollout_history_cmd(
    args: RolloutArgs = None,
    namespace: Namespace = None,
    revision: Annotated[
        int, typer.Option("--revision", help="Show the pod template of this revision.")
    ] = 0,
) -> None:
    """List the revisions of a Deployment (from its ReplicaSets).

    [bold]Examples:[/bold]

      navctl rollout history deploy/web

      navctl rollout history deploy/web --revision=2
    """
    _rollout("history", args or [], namespace, revision=revision)


@rollout_app.command("undo")
def rollout_undo_cmd(
    args: RolloutArgs = None,
    namespace: Namespace = None,
    to_revision: Annotated[
        int, typer.Option("--to-revision", help="The revision to go back to (0: the previous).")
    ] = 0,
    dry_run: DryRun = None,
) -> None:
    """Roll a Deployment back to an earlier revision's pod template.

    [bold]Examples:[/bold]

      navctl rollout undo deploy/web

      navctl rollout undo deploy/web --to-revision=2
    """
    _rollout("undo", args or [], namespace, to_revision=to_revision, dry_run=_dry_run(dry_run))


@rollout_app.command("restart")
def rollout_restart_cmd(args: RolloutArgs = None, namespace: Namespace = None) -> None:
    """Restart the pods of a Deployment, DaemonSet or StatefulSet by a new rollout.

    [bold]Example:[/bold]

      navctl rollout restart deploy/web
    """
    _rollout("restart", args or [], namespace)


@rollout_app.command("pause")
def rollout_pause_cmd(args: RolloutArgs = None, namespace: Namespace = None) -> None:
    """Pause a Deployment's rollout (template changes wait for resume).

    [bold]Example:[/bold]

      navctl rollout pause deploy/web
    """
    _rollout("pause", args or [], namespace)


@rollout_app.command("resume")
def rollout_resume_cmd(args: RolloutArgs = None, namespace: Namespace = None) -> None:
    """Resume a paused Deployment's rollout.

    [bold]Example:[/bold]

      navctl rollout resume deploy/web
    """
    _rollout("resume", args or [], namespace)


# --- nodes -----------------------------------------------------------------------------------


@app.command("cordon")
def cordon_cmd(
    nodes: Annotated[list[str] | None, typer.Argument(help="Node names.")] = None,
    selector: Selector = None,
    dry_run: DryRun = None,
) -> None:
    """Mark nodes unschedulable.

    [bold]Example:[/bold]

      navctl cordon node-1
    """

    async def go(session: Session) -> int:
        from cli.navctl_nodes import cordon

        return await cordon(
            session, nodes or [], True, selector=selector, dry_run=_dry_run(dry_run)
        )

    run(go)


@app.command("uncordon")
def uncordon_cmd(
    nodes: Annotated[list[str] | None, typer.Argument(help="Node names.")] = None,
    selector: Selector = None,
    dry_run: DryRun = None,
) -> None:
    """Mark nodes schedulable again.

    [bold]Example:[/bold]

      navctl uncordon node-1
    """

    async def go(session: Session) -> int:
        from cli.navctl_nodes import cordon

        return await cordon(
            session, nodes or [], False, selector=selector, dry_run=_dry_run(dry_run)
        )

    run(go)


@app.command("drain")
def drain_cmd(
    nodes: Annotated[list[str] | None, typer.Argument(help="Node names.")] = None,
    selector: Selector = None,
    ignore_daemonsets: Annotated[
        bool, typer.Option("--ignore-daemonsets", help="Leave DaemonSet pods in place.")
    ] = False,
    delete_emptydir_data: Annotated[
        bool,
        typer.Option("--delete-emptydir-data", help="Evict pods with emptyDir volumes too."),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Evict pods no controller manages too.")
    ] = False,
    grace_period: Annotated[
        int, typer.Option("--grace-period", help="Seconds each pod gets; -1: its own.")
    ] = -1,
    timeout: Annotated[
        str, typer.Option("--timeout", help="Give up after this long, e.g. 5m; 0: never.")
    ] = "0s",
    pod_selector: Annotated[
        str | None, typer.Option("--pod-selector", help="Only evict pods matching this.")
    ] = None,
    disable_eviction: Annotated[
        bool, typer.Option("--disable-eviction", help="Delete pods instead of evicting them.")
    ] = False,
    dry_run: DryRun = None,
) -> None:
    """Cordon nodes, then evict their pods (honouring PodDisruptionBudgets).

    Refuses to go on if a pod is managed by a DaemonSet (without --ignore-daemonsets),
    managed by nothing (without --force), or uses emptyDir (without
    --delete-emptydir-data); waits until the evicted pods are gone.

    [bold]Examples:[/bold]

      navctl drain node-1 --ignore-daemonsets

      navctl drain node-1 --ignore-daemonsets --delete-emptydir-data --force --timeout=2m
    """

    async def go(session: Session) -> int:
        from cli.navctl_nodes import DrainOptions, drain

        opts = DrainOptions(
            selector=selector,
            ignore_daemonsets=ignore_daemonsets,
            delete_emptydir_data=delete_emptydir_data,
            force=force,
            grace_period=grace_period,
            timeout=timeout,
            pod_selector=pod_selector,
            disable_eviction=disable_eviction,
            dry_run=_dry_run(dry_run),
        )
        return await drain(session, nodes or [], opts)

    run(go)


# --- run, expose -----------------------------------------------------------------------------


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
        from cli.navctl_generators import pod_object, run_pod

        obj = pod_object(
            name, image=image, restart=restart, env=env or [], port=port, labels=labels,
            args=args or [], command=command, image_pull_policy=image_pull_policy,
        )  # fmt: skip
        return await run_pod(
            session, obj, namespace=namespace, dry_run=_dry_run(dry_run), output=output
        )

    run(go)


@app.command("expose")
def expose_cmd(
    args: ResourceArgs = None,
    port: Annotated[str | None, typer.Option("--port", help="The Service's port.")] = None,
    target_port: Annotated[
        str | None, typer.Option("--target-port", help="The container port (number or name).")
    ] = None,
    protocol: Annotated[str, typer.Option("--protocol", help="TCP, UDP or SCTP.")] = "TCP",
    service_type: Annotated[
        str | None, typer.Option("--type", help="ClusterIP (default), NodePort or LoadBalancer.")
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="The Service's name (default: the object's).")
    ] = None,
    selector: Annotated[
        str | None, typer.Option("--selector", help="Use this selector instead of the object's.")
    ] = None,
    namespace: Namespace = None,
    dry_run: DryRun = None,
    output: OutputFlag = None,
) -> None:
    """Create a Service for a Deployment, ReplicaSet, Pod or Service.

    [bold]Examples:[/bold]

      navctl expose deploy web --port=80 --target-port=8080

      navctl expose pod web-7d4b9c --port=80 --name=web-direct --type=NodePort
    """

    async def go(session: Session) -> int:
        from cli.navctl_generators import expose

        return await expose(
            session, args or [], port=port, target_port=target_port,
            protocol=protocol, service_type=service_type, name=name, selector=selector,
            namespace=namespace, dry_run=_dry_run(dry_run), output=output,
        )  # fmt: skip

    run(go)


# --- logs, exec, port-forward ------------------------------------------------------------------


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
        from cli.navctl_streams import LogOptions, logs

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
        from cli.navctl_streams import exec_command

        return await exec_command(
            session, target, command or [], container=container,
            stdin=stdin, tty=tty, namespace=namespace,
        )  # fmt: skip

    run(go)


@app.command("port-forward")
def port_forward_cmd(
    target: Annotated[str, typer.Argument(help="POD or TYPE/NAME (deploy/web, svc/web).")],
    ports: Annotated[
        list[str] | None,
        typer.Argument(help="[LOCAL]:REMOTE or PORT, e.g. 8080:80.", show_default=False),
    ] = None,
    address: Annotated[
        list[str] | None,
        typer.Option("--address", help="Local addresses to listen on (default localhost)."),
    ] = None,
    namespace: Namespace = None,
) -> None:
    """Forward local ports to a pod (WebSocket port-forward protocol).

    [bold]Examples:[/bold]

      navctl port-forward web-7d4b9c 8080:80

      navctl port-forward deploy/web 8080:80 9090

      navctl port-forward svc/web :80
    """

    async def go(session: Session) -> int:
        from cli.navctl_streams import port_forward

        return await port_forward(
            session, target, ports or [], addresses=address or ["localhost"],
            namespace=namespace,
        )  # fmt: skip

    run(go)


# --- events, wait, discovery -------------------------------------------------------------------


@app.command("events")
def events_cmd(
    namespace: Namespace = None,
    all_namespaces: AllNamespaces = False,
    for_: Annotated[
        str | None, typer.Option("--for", help="Only events about this object, TYPE/NAME.")
    ] = None,
    watch: Annotated[
        bool, typer.Option("--watch/--no-watch", "-w", help="Keep printing new events.")
    ] = False,
    types: Annotated[
        list[str] | None, typer.Option("--types", help="Only these types: Normal, Warning.")
    ] = None,
    output: OutputFlag = None,
    no_headers: Annotated[bool, typer.Option("--no-headers", help="Omit headers.")] = False,
) -> None:
    """List events, oldest first (by last timestamp).

    [bold]Examples:[/bold]

      navctl events

      navctl events -A

      navctl events --for pod/web-7d4b9c -w

      navctl events --types=Warning
    """

    async def go(session: Session) -> int:
        from cli.navctl_events import events

        return await events(
            session, namespace=namespace, all_namespaces=all_namespaces,
            for_object=for_, watch=watch,
            types=[t for ts in types or [] for t in ts.split(",")], output=output,
            no_headers=no_headers,
        )  # fmt: skip

    run(go)


@app.command("wait")
def wait_cmd(
    args: ResourceArgs = None,
    for_: Annotated[
        str,
        typer.Option(
            "--for",
            help="condition=NAME[=VALUE], delete, create, or jsonpath='{.path}'=VALUE.",
        ),
    ] = "",
    timeout: Annotated[
        str, typer.Option("--timeout", help="Give up after this long, e.g. 60s (-1: a week).")
    ] = "30s",
    namespace: Namespace = None,
    all_namespaces: AllNamespaces = False,
    selector: Selector = None,
    field_selector: FieldSelector = None,
    all_: All = False,
    filename: Filenames = None,
) -> None:
    """Wait for a condition on one or many objects.

    [bold]Examples:[/bold]

      navctl wait --for=condition=Ready pod/web-7d4b9c

      navctl wait --for=condition=Available deploy/web --timeout=2m

      navctl wait --for=delete pod -l app=web --timeout=60s

      navctl wait --for=jsonpath='{.status.phase}'=Running pod/web-7d4b9c
    """

    async def go(session: Session) -> int:
        from cli.navctl_wait import WaitOptions, wait

        opts = WaitOptions(
            condition=for_,
            timeout=timeout,
            namespace=namespace,
            all_namespaces=all_namespaces,
            selector=selector,
            field_selector=field_selector,
            all=all_,
            filenames=filename or [],
        )
        return await wait(session, args or [], opts)

    run(go)


@app.command("api-resources")
def api_resources_cmd(
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="wide (adds verbs) or name.")
    ] = None,
    namespaced: Annotated[
        bool | None,
        typer.Option(
            "--namespaced/--no-namespaced",
            help="true: only namespaced kinds; false: only cluster-wide.",
        ),
    ] = None,
    api_group: Annotated[
        str | None, typer.Option("--api-group", help="Only this group ('' for core).")
    ] = None,
    verbs: Annotated[
        list[str] | None, typer.Option("--verbs", help="Only resources allowing these verbs.")
    ] = None,
    no_headers: Annotated[bool, typer.Option("--no-headers", help="Omit headers.")] = False,
    sort_by: Annotated[str | None, typer.Option("--sort-by", help="name or kind.")] = None,
) -> None:
    """Print the resource types the server serves (from discovery).

    [bold]Examples:[/bold]

      navctl api-resources

      navctl api-resources --namespaced=false

      navctl api-resources --api-group=apps -o wide
    """

    async def go(session: Session) -> int:
        from cli.navctl_discovery import api_resources

        return await api_resources(
            session, output=output, namespaced=namespaced, api_group=api_group,
            verbs=[v for vs in verbs or [] for v in vs.split(",")], no_headers=no_headers,
            sort_by=sort_by,
        )  # fmt: skip

    run(go)


@app.command("api-versions")
def api_versions_cmd() -> None:
    """Print the group/versions the server serves.

    [bold]Example:[/bold]

      navctl api-versions
    """

    async def go(session: Session) -> int:
        from cli.navctl_discovery import api_versions

        return await api_versions(session)

    run(go)


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
        from cli.navctl_discovery import version

        return await version(session, client_only=client, output=output)

    run(go)


@app.command("cluster-info")
def cluster_info_cmd() -> None:
    """Print where the control plane (and cluster DNS, if any) is.

    [bold]Example:[/bold]

      navctl cluster-info
    """

    async def go(session: Session) -> int:
        from cli.navctl_discovery import cluster_info

        return await cluster_info(session)

    run(go)


# --- config ----------------------------------------------------------------------------------

config_app = typer.Typer(
    help="""Read and switch kubeconfig contexts (the files kubectl uses).

    [bold]Examples:[/bold]

      navctl config get-contexts

      navctl config use-context staging
    """,
    rich_markup_mode="rich",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(config_app, name="config")


def _config_run(action: object) -> None:
    from cli.navctl_common import CliError, err

    try:
        action()  # type: ignore[operator]
    except CliError as error:
        err(error.message)
        raise typer.Exit(error.exit_code) from None


@config_app.command("view")
def config_view_cmd(
    minify: Annotated[
        bool, typer.Option("--minify", help="Only what the current context uses.")
    ] = False,
    raw: Annotated[bool, typer.Option("--raw", help="Do not redact secrets.")] = False,
    output: Annotated[str | None, typer.Option("--output", "-o", help="yaml or json.")] = None,
) -> None:
    """Print the merged kubeconfig (secrets redacted).

    [bold]Examples:[/bold]

      navctl config view

      navctl config view --minify --raw
    """
    from cli.navctl_config import view

    _config_run(lambda: view(minify=minify, raw=raw, output=output))


@config_app.command("get-contexts")
def config_get_contexts_cmd(
    names: Annotated[list[str] | None, typer.Argument(help="Only these contexts.")] = None,
    output: Annotated[str | None, typer.Option("--output", "-o", help="name.")] = None,
    no_headers: Annotated[bool, typer.Option("--no-headers", help="Omit headers.")] = False,
) -> None:
    """List the contexts; * marks the current one.

    [bold]Example:[/bold]

      navctl config get-contexts
    """
    from cli.navctl_config import get_contexts

    _config_run(lambda: get_contexts(names or [], output=output, no_headers=no_headers))


@config_app.command("current-context")
def config_current_context_cmd() -> None:
    """Print the current context's name.

    [bold]Example:[/bold]

      navctl config current-context
    """
    from cli.navctl_config import current_context

    _config_run(current_context)


@config_app.command("use-context")
def config_use_context_cmd(
    name: Annotated[str, typer.Argument(help="The context to make current.")],
) -> None:
    """Make a context the current one.

    [bold]Example:[/bold]

      navctl config use-context navarch
    """
    from cli.navctl_config import use_context

    _config_run(lambda: use_context(name))


@config_app.command("set-context")
def config_set_context_cmd(
    name: Annotated[str | None, typer.Argument(help="The context to create or change.")] = None,
    current: Annotated[bool, typer.Option("--current", help="Change the current context.")] = False,
    namespace: Annotated[
        str | None, typer.Option("--namespace", help="Its default namespace.")
    ] = None,
    cluster: Annotated[str | None, typer.Option("--cluster", help="Its cluster.")] = None,
    user: Annotated[str | None, typer.Option("--user", help="Its user.")] = None,
) -> None:
    """Create or change a context (most often: its default namespace).

    [bold]Example:[/bold]

      navctl config set-context --current --namespace=team-a
    """
    from cli.navctl_config import set_context

    _config_run(
        lambda: set_context(name, current=current, namespace=namespace, cluster=cluster, user=user)
    )


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
