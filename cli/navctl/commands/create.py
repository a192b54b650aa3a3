"""``navctl create``: objects from manifests (``-f``) or from flags (namespace, configmap,
secret generic, deployment), shaped as kubectl's generators shape them.

``create -f`` POSTs each object of the manifests; one that exists already is an error
(``--save-config`` records the last-applied annotation, for a later ``apply``). The
generators are pure functions returning the object; ``generators.create_generated``
sends it (or prints it, with ``--dry-run=client -o yaml``).
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.navctl.console import err, out
from cli.navctl.errors import api_error_line, fail
from cli.navctl.generators import create_generated, split_key_values
from cli.navctl.lastapplied import with_last_applied
from cli.navctl.manifests import load, set_namespace, validate
from cli.navctl.options import (
    DryRun,
    Filenames,
    Namespace,
    OutputFlag,
    Recursive,
    dry_run_mode,
    dry_run_suffix,
    verb_app,
)
from cli.navctl.output import Output, render
from cli.navctl.resources import kind_prefix
from cli.navctl.session import Session, run

_ENV_KEY = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_DNS_LABEL_BAD = re.compile(r"[^a-z0-9-]+")

# No help= here: it would hide create_cmd's docstring (and its examples) from --help.
app = verb_app()


@app.callback(invoke_without_command=True)
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
        return await create_from_files(
            session,
            filename or [],
            recursive=recursive,
            namespace=namespace,
            dry_run=dry_run_mode(dry_run),
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
        dry_run_mode(dry_run or parent.get("dry_run")),
        output or parent.get("output"),
    )


@app.command("ns", hidden=True)
@app.command("namespace")
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
        return await create_generated(session, namespace_object(name), dry_run=dry, output=out_flag)

    run(go)


@app.command("cm", hidden=True)
@app.command("configmap")
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
        obj = configmap_object(name, from_literal or [], from_file or [], from_env_file or [])
        return await create_generated(session, obj, namespace=ns, dry_run=dry, output=out_flag)

    run(go)


secret_app = verb_app(
    help="""Create a Secret.

    [bold]Examples:[/bold]

      navctl create secret generic db --from-literal=password=s3cret
    """,
    no_args_is_help=True,
)
app.add_typer(secret_app, name="secret")


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
    dry = dry_run_mode(dry_run or parent.get("dry_run"))
    out_flag = output or parent.get("output")

    async def go(session: Session) -> int:
        obj = secret_object(
            name, from_literal or [], from_file or [], from_env_file or [], secret_type
        )
        return await create_generated(session, obj, namespace=ns, dry_run=dry, output=out_flag)

    run(go)


@app.command("deploy", hidden=True)
@app.command("deployment")
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
        obj = deployment_object(name, image or [], replicas, port, command or [])
        return await create_generated(session, obj, namespace=ns, dry_run=dry, output=out_flag)

    run(go)


# --- implementation --------------------------------------------------------------------------


async def create_from_files(
    session: Session,
    filenames: list[str],
    *,
    recursive: bool = False,
    namespace: str | None = None,
    dry_run: str = "",
    output: str | None = None,
    save_config: bool = False,
    stdin: str | None = None,
) -> int:
    """Run ``navctl create -f``: POST each object; an existing one is an error."""
    from apiclient import errors

    manifests = load(filenames, recursive=recursive, stdin=stdin, verb="create")
    printer = Output.parse(output)
    ns = session.namespace(namespace)
    explicit = session.explicit_namespace(namespace)
    results: list[dict[str, Any]] = []
    problems: list[str] = []
    for manifest in manifests:
        validate(manifest)
        rtype = await session.resolver.resolve_kind(manifest.api_version, manifest.kind)
        obj = set_namespace(manifest, rtype, ns, explicit)
        if save_config:
            obj = with_last_applied(obj)
        meta = obj.get("metadata") or {}
        try:
            if dry_run == "client":
                created = obj
            else:
                created = await session.client.create_raw(
                    rtype, obj, meta.get("namespace"), dry_run=dry_run == "server"
                )
        except errors.ApiError as error:
            if isinstance(error, errors.ConnectionFailedError):
                raise
            line = api_error_line(error, session.server)
            if isinstance(error, errors.AlreadyExistsError):
                line = line.replace("): ", f'): error when creating "{manifest.source}": ', 1)
            problems.append(line)
            continue
        name = (created.get("metadata") or {}).get("name") or meta.get("name")
        if printer.format:
            results.append(created)
        else:
            out(f"{kind_prefix(rtype)}/{name} created{dry_run_suffix(dry_run)}\n")
    if printer.format and results:
        out(render(printer, results, single=len(results) == 1))
    for line in problems:
        err(line)
    return 1 if problems else 0


# --- generators ------------------------------------------------------------------------------


def namespace_object(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def _env_file(path: str) -> dict[str, str]:
    data: dict[str, str] = {}
    for number, raw in enumerate(Path(path).read_text().splitlines(), start=1):
        line = raw.lstrip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not _ENV_KEY.match(key):
            fail(
                f'"{key}" is not a valid key name: a valid environment variable name must '
                "consist of alphabetic characters, digits, '_', '-', or '.', and must not "
                f"start with a digit ({path}, line {number})"
            )
        data[key] = value if sep else ""
    return data


def _file_sources(sources: list[str]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for source in sources:
        key, sep, path = source.partition("=")
        if not sep:
            key, path = "", source
        target = Path(path)
        if not target.exists():
            fail(f"error reading {path}: no such file or directory")
        if target.is_dir():
            if key:
                fail("cannot give a key name for a directory path")
            for child in sorted(target.iterdir()):
                if child.is_file():
                    files[child.name] = child.read_bytes()
            continue
        files[key or target.name] = target.read_bytes()
    return files


def _check_sources(literals: list[str], files: list[str], env_files: list[str]) -> None:
    if env_files and (literals or files):
        fail("from-env-file cannot be combined with from-file or from-literal")


def configmap_object(
    name: str, literals: list[str], files: list[str], env_files: list[str]
) -> dict[str, Any]:
    """A ConfigMap; non-UTF-8 file contents go to ``binaryData`` (base64)."""
    _check_sources(literals, files, env_files)
    data: dict[str, str] = {}
    binary: dict[str, str] = {}
    for path in env_files:
        data.update(_env_file(path))
    data.update(split_key_values(literals, "literal"))
    for key, content in _file_sources(files).items():
        try:
            data[key] = content.decode()
        except UnicodeDecodeError:
            binary[key] = base64.b64encode(content).decode()
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
    if data:
        obj["data"] = data
    if binary:
        obj["binaryData"] = binary
    return obj


def secret_object(
    name: str,
    literals: list[str],
    files: list[str],
    env_files: list[str],
    secret_type: str | None = None,
) -> dict[str, Any]:
    """A Secret with base64 ``data``, as ``kubectl create secret generic`` makes it."""
    _check_sources(literals, files, env_files)
    raw: dict[str, bytes] = {}
    for path in env_files:
        raw.update({k: v.encode() for k, v in _env_file(path).items()})
    raw.update({k: v.encode() for k, v in split_key_values(literals, "literal").items()})
    raw.update(_file_sources(files))
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}}
    if raw:
        obj["data"] = {k: base64.b64encode(v).decode() for k, v in raw.items()}
    if secret_type:
        obj["type"] = secret_type
    return obj


def container_name(image: str) -> str:
    """A container name from an image reference (``registry/x/nginx:1.25`` -> ``nginx``)."""
    last = image.rsplit("/", 1)[-1]
    last = last.split("@", 1)[0].split(":", 1)[0]
    name = _DNS_LABEL_BAD.sub("-", last.lower()).strip("-")
    return name[:63] or "container"


def deployment_object(
    name: str, images: list[str], replicas: int, port: int | None, command: list[str]
) -> dict[str, Any]:
    if not images:
        fail('required flag(s) "image" not set')
    if len(images) > 1 and command:
        fail("cannot specify multiple --image options and command")
    labels = {"app": name}
    containers: list[dict[str, Any]] = []
    for image in images:
        container: dict[str, Any] = {"image": image, "name": container_name(image)}
        containers.append(container)
    if command:
        containers[0]["command"] = list(command)
    if port is not None:
        containers[0]["ports"] = [{"containerPort": port}]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"labels": dict(labels), "name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(labels)},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {"containers": containers},
            },
        },
    }
