"""``navctl describe``: kubectl's describe pages, with the objects' events.

NAME may be a prefix: as kubectl does, describe pages every object whose name starts
with it. The pages themselves are ``cli.navctl.describe``'s.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.navctl.console import err, out
from cli.navctl.describe.pages import describe_object
from cli.navctl.errors import api_error_line
from cli.navctl.manifests import load
from cli.navctl.options import AllNamespaces, Filenames, Namespace, ResourceArgs, Selector, verb_app
from cli.navctl.resources import Target, parse_targets
from cli.navctl.session import Session, run

app = verb_app()


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


# --- implementation --------------------------------------------------------------------------


async def _objects(
    session: Session,
    target: Target,
    namespace: str | None,
    all_namespaces: bool,
    selector: str | None,
) -> tuple[list[dict[str, Any]], list[str]]:
    from apiclient import errors

    rtype = target.resource
    client = session.client
    ns = None if not rtype.namespaced else namespace
    if not target.names:
        listed = await client.list_raw(
            rtype, ns, all_namespaces=all_namespaces, label_selector=selector
        )
        return list(listed.get("items") or []), []
    found: list[dict[str, Any]] = []
    problems: list[str] = []
    everything: list[dict[str, Any]] | None = None
    for name in target.names:
        try:
            found.append(await client.get_raw(rtype, name, ns))
            continue
        except errors.NotFoundError as error:
            missing = error
        # kubectl describes every object whose name starts with what was given.
        if everything is None:
            everything = list((await client.list_raw(rtype, ns)).get("items") or [])
        matches = [
            o for o in everything if str((o.get("metadata") or {}).get("name", "")).startswith(name)
        ]
        if matches:
            for match in matches:
                match[_BY_PREFIX] = True
            found.extend(matches)
        else:
            problems.append(api_error_line(missing, session.server))
    return found, problems


_BY_PREFIX = "\0navctl-by-prefix"
"""Marks objects found by name prefix: kubectl prints those pages differently."""


async def describe(
    session: Session,
    args: list[str],
    *,
    namespace: str | None = None,
    all_namespaces: bool = False,
    selector: str | None = None,
    filenames: list[str] | None = None,
    show_events: bool = True,
) -> int:
    """Run ``navctl describe``: pages separated by blank lines, errors after."""
    if filenames:
        targets: list[Target] = []
        for m in load(filenames, verb="describe"):
            rtype = await session.resolver.resolve_kind(m.api_version, m.kind)
            targets.append(Target(rtype, [m.name]))
    else:
        targets = await parse_targets(session.resolver, args, verb="describe")
    ns = None if all_namespaces else session.namespace(namespace)
    printed = False
    problems: list[str] = []
    for target in targets:
        objects, errors_ = await _objects(session, target, ns, all_namespaces, selector)
        problems.extend(errors_)
        for obj in objects:
            by_prefix = bool(obj.pop(_BY_PREFIX, False))
            page = await describe_object(session, target.resource, obj, show_events)
            # As kubectl: pages are separated by "\n\n"; pages found by a name prefix
            # are each followed by a newline instead.
            if by_prefix:
                out(page + "\n")
            else:
                out(("\n\n" if printed else "") + page)
            printed = True
    if not printed and not problems:
        if all(t.resource.namespaced for t in targets) and not all_namespaces:
            err(f"No resources found in {ns} namespace.")
        else:
            err("No resources found")
    for line in problems:
        err(line)
    if problems:
        return 1
    return 0
