"""``navctl config``: read and switch kubeconfig contexts, as ``kubectl config`` does.

The files are those kubectl reads: ``--kubeconfig``, else every file in ``KUBECONFIG``
(merged, the first to define a name wins), else ``~/.kube/config``. Changes go where
kubectl puts them: the current context into the file that already sets one (else the
first existing file), a context into the file that defines it. Secrets are redacted
from ``view`` unless ``--raw``. Nothing here talks to an apiserver.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from cli.navctl.console import err, out
from cli.navctl.errors import CliError, fail
from cli.navctl.options import verb_app
from cli.navctl.printing import go_json, tabulate, to_yaml
from cli.navctl.session import FLAGS

app = verb_app(
    help="""Read and switch kubeconfig contexts (the files kubectl uses).

    [bold]Examples:[/bold]

      navctl config get-contexts

      navctl config use-context staging
    """,
    no_args_is_help=True,
)


def _config_run(action: object) -> None:
    try:
        action()  # type: ignore[operator]
    except CliError as error:
        err(error.message)
        raise typer.Exit(error.exit_code) from None


@app.command("view")
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
    _config_run(lambda: view(minify=minify, raw=raw, output=output))


@app.command("get-contexts")
def config_get_contexts_cmd(
    names: Annotated[list[str] | None, typer.Argument(help="Only these contexts.")] = None,
    output: Annotated[str | None, typer.Option("--output", "-o", help="name.")] = None,
    no_headers: Annotated[bool, typer.Option("--no-headers", help="Omit headers.")] = False,
) -> None:
    """List the contexts; * marks the current one.

    [bold]Example:[/bold]

      navctl config get-contexts
    """
    _config_run(lambda: get_contexts(names or [], output=output, no_headers=no_headers))


@app.command("current-context")
def config_current_context_cmd() -> None:
    """Print the current context's name.

    [bold]Example:[/bold]

      navctl config current-context
    """
    _config_run(current_context)


@app.command("use-context")
def config_use_context_cmd(
    name: Annotated[str, typer.Argument(help="The context to make current.")],
) -> None:
    """Make a context the current one.

    [bold]Example:[/bold]

      navctl config use-context navarch
    """
    _config_run(lambda: use_context(name))


@app.command("set-context")
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
    _config_run(
        lambda: set_context(name, current=current, namespace=namespace, cluster=cluster, user=user)
    )


# --- implementation --------------------------------------------------------------------------

_SECTIONS = ("clusters", "contexts", "users")
_DATA_KEYS = ("certificate-authority-data", "client-certificate-data", "client-key-data")
_SECRET_KEYS = ("token", "password")


def kubeconfig_paths() -> list[Path]:
    if FLAGS.kubeconfig:
        return [Path(FLAGS.kubeconfig).expanduser()]
    env = os.environ.get("KUBECONFIG")
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return [Path("~/.kube/config").expanduser()]


def _read(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        fail(f"{path}: not valid YAML: {error}".replace("\n", " "))
    if not isinstance(doc, dict):
        fail(f"{path}: a kubeconfig must be a mapping")
    return doc


def _write(path: Path, doc: dict[str, Any]) -> None:
    doc.setdefault("apiVersion", "v1")
    doc.setdefault("kind", "Config")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False, default_flow_style=False))


def merged() -> dict[str, Any]:
    """The kubeconfig kubectl sees: sections merged, first definition of a name wins."""
    result: dict[str, Any] = {section: [] for section in _SECTIONS}
    seen: dict[str, set[str]] = {section: set() for section in _SECTIONS}
    for path in kubeconfig_paths():
        doc = _read(path)
        for section in _SECTIONS:
            for entry in doc.get(section) or []:
                name = entry.get("name")
                if name and name not in seen[section]:
                    seen[section].add(name)
                    result[section].append(entry)
        if not result.get("current-context") and doc.get("current-context"):
            result["current-context"] = doc["current-context"]
        if "preferences" not in result and doc.get("preferences") is not None:
            result["preferences"] = doc["preferences"]
    if FLAGS.context:
        result["current-context"] = FLAGS.context
    return result


def _redact(doc: dict[str, Any]) -> dict[str, Any]:
    for section in ("clusters", "users"):
        for entry in doc.get(section) or []:
            body = entry.get(section[:-1]) or {}
            for key in _DATA_KEYS:
                if body.get(key):
                    body[key] = "DATA+OMITTED"
            for key in _SECRET_KEYS:
                if body.get(key):
                    body[key] = "REDACTED"
    return doc


def view(*, minify: bool, raw: bool, output: str | None) -> None:
    """Print the merged kubeconfig (``--minify``: only what the current context uses)."""
    doc = merged()
    current = doc.get("current-context") or ""
    if minify:
        if not current:
            fail("current-context must exist in order to minify")
        context = _entry(doc, "contexts", current)
        if context is None:
            fail(f"cannot locate context {current}")
        body = context.get("context") or {}
        doc["contexts"] = [context]
        doc["clusters"] = [e for e in doc["clusters"] if e.get("name") == body.get("cluster")]
        doc["users"] = [e for e in doc["users"] if e.get("name") == body.get("user")]
    if not raw:
        doc = _redact(doc)
    shaped = {
        "apiVersion": "v1",
        "clusters": doc.get("clusters") or None,
        "contexts": doc.get("contexts") or None,
        "current-context": current,
        "kind": "Config",
        "preferences": doc.get("preferences") or {},
        "users": doc.get("users") or None,
    }
    if output == "json":
        out(go_json(shaped, indent=4) + "\n")
    elif output in (None, "", "yaml"):
        out(to_yaml(shaped))
    else:
        fail(f'unable to match a printer suitable for the output format "{output}"')


def _entry(doc: dict[str, Any], section: str, name: str) -> dict[str, Any] | None:
    for entry in doc.get(section) or []:
        if entry.get("name") == name:
            return dict(entry)
    return None


def get_contexts(names: list[str], *, output: str | None, no_headers: bool) -> None:
    doc = merged()
    current = doc.get("current-context") or ""
    contexts = doc.get("contexts") or []
    if names:
        missing = [n for n in names if _entry(doc, "contexts", n) is None]
        if missing:
            fail(f"context {missing[0]} not found")
        contexts = [c for c in contexts if c.get("name") in names]
    if output == "name":
        out("".join(f"{c.get('name')}\n" for c in contexts))
        return
    if output:
        fail(f'output must be one of "" or "name", not {output!r}')
    rows = [] if no_headers else [["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"]]
    for entry in contexts:
        body = entry.get("context") or {}
        rows.append(
            [
                "*" if entry.get("name") == current else "",
                str(entry.get("name") or ""),
                str(body.get("cluster") or ""),
                str(body.get("user") or ""),
                str(body.get("namespace") or ""),
            ]
        )
    out(tabulate(rows))


def current_context() -> None:
    current = merged().get("current-context")
    if not current:
        fail("current-context is not set")
    out(f"{current}\n")


def _current_context_file(paths: list[Path]) -> Path:
    for path in paths:
        if _read(path).get("current-context"):
            return path
    for path in paths:
        if path.exists():
            return path
    return paths[0]


def _defining_file(section: str, name: str, paths: list[Path]) -> Path | None:
    for path in paths:
        if _entry(_read(path), section, name) is not None:
            return path
    return None


def use_context(name: str) -> None:
    if _entry(merged(), "contexts", name) is None:
        fail(f'no context exists with the name: "{name}"')
    path = _current_context_file(kubeconfig_paths())
    doc = _read(path)
    doc["current-context"] = name
    _write(path, doc)
    out(f'Switched to context "{name}".\n')


def set_context(
    name: str | None,
    *,
    current: bool,
    namespace: str | None,
    cluster: str | None,
    user: str | None,
) -> None:
    """Create or change a context (``--current``: the current one)."""
    paths = kubeconfig_paths()
    if current:
        if name:
            fail("you cannot specify both a context name and --current")
        name = merged().get("current-context")
        if not name:
            fail("no current context is set")
    if not name:
        fail("you must specify a non-empty context name or --current")
    path = _defining_file("contexts", name, paths) or _current_context_file(paths)
    doc = _read(path)
    contexts = doc.setdefault("contexts", [])
    entry = next((c for c in contexts if c.get("name") == name), None)
    created = entry is None
    if entry is None:
        entry = {"name": name, "context": {}}
        contexts.append(entry)
    body = entry.setdefault("context", {})
    for key, value in (("namespace", namespace), ("cluster", cluster), ("user", user)):
        if value is not None:
            body[key] = value
    _write(path, doc)
    out(f'Context "{name}" {"created" if created else "modified"}.\n')
