"""Which page describes an object: one table from kind to page, the generic page else."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cli.navctl.describe import config, generic, nodes, pods, services, workloads
from cli.navctl.describe.helpers import Page, search_events

if TYPE_CHECKING:
    from apitypes.registry import ResourceType
    from cli.navctl.session import Session

PAGES: dict[str, Page] = {
    **pods.PAGES,
    **workloads.PAGES,
    **services.PAGES,
    **config.PAGES,
    **nodes.PAGES,
}
"""The kinds with their own page (of the core, apps and batch groups)."""


async def describe_object(
    session: Session, rtype: ResourceType, obj: dict[str, Any], show_events: bool
) -> str:
    """The page for one object (fetching what its page needs: pods, events, ...)."""
    from apiclient import errors

    obj.setdefault("kind", rtype.kind)
    obj.setdefault("apiVersion", rtype.api_version)
    kind = rtype.kind if rtype.group in ("", "apps", "batch") else ""

    async def events(**kwargs: Any) -> list[dict[str, Any]] | None:
        if not show_events:
            return None
        try:
            return await search_events(session, obj, **kwargs)
        except errors.ApiError:
            return None

    page = PAGES.get(kind, generic.page)
    return await page(session, obj, events)
