"""Resource names as people type them, resolved the way kubectl resolves them.

``po``, ``pods``, ``pod``, ``Pod``, ``deployments.apps``, ``deploy.v1.apps`` all name a
``ResourceType``. The compiled-in registry (``apitypes.registry``) answers the common
cases without a round trip; anything else, and the ``all`` category, comes from the
server's discovery documents (``/api/v1``, ``/apis``, ``/apis/<group>/<version>``),
read once per command. Discovery also gives ``api-resources`` its rows.

The registry is imported when first needed, never at import time: every command
module imports this one, and ``navctl --help`` must not pay for the API models.

``parse_targets`` implements kubectl's argument forms: ``TYPE``, ``TYPE NAME...``,
``TYPE1,TYPE2``, and ``TYPE/NAME...``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from cli.navctl.errors import fail

if TYPE_CHECKING:
    from apiclient import Client
    from apitypes.registry import ResourceType


class ClientSource(Protocol):
    """What a ``Resolver`` needs of its session: the client, made when first asked for.

    A protocol rather than the ``Session`` itself, which makes its resolver: the
    session module imports this one, and this one does not import it back.
    """

    @property
    def client(self) -> Client: ...


@dataclass(frozen=True)
class ApiResource:
    """One row of discovery: a resource and what it allows."""

    type: ResourceType
    verbs: tuple[str, ...] = ()
    preferred: bool = True


@dataclass
class Target:
    """One resource type and the names asked for (none: the whole collection)."""

    resource: ResourceType
    names: list[str] = field(default_factory=list)


def resource(group: str, plural: str) -> ResourceType:
    """A kind navarch compiles in (``apitypes.registry.resource``).

    The registry (and every API model with it) is imported on first use, not when a
    command module is imported, so that ``navctl --help`` and completion stay fast.
    """
    from apitypes.registry import resource as compiled_in

    return compiled_in(group, plural)


def kind_prefix(resource: ResourceType) -> str:
    """``pod``, ``deployment.apps``: how kubectl names a kind in ``kind/name``."""
    return f"{resource.kind}.{resource.group}".lower() if resource.group else resource.kind.lower()


def resource_label(resource: ResourceType) -> str:
    """``pods``, ``deployments.apps``: how the apiserver names a resource in messages."""
    return resource.qualified


class Resolver:
    """Resolves names, kinds and categories for one session."""

    def __init__(self, session: ClientSource) -> None:
        self.session = session
        self._discovery: list[ApiResource] | None = None
        self._lock = asyncio.Lock()

    async def discovery(self) -> list[ApiResource]:
        """Every served resource (subresources excluded), core first, in server order."""
        async with self._lock:
            if self._discovery is None:
                self._discovery = await self._discover()
            return self._discovery

    async def _discover(self) -> list[ApiResource]:
        client = self.session.client
        core, groups = await asyncio.gather(
            client.request("GET", "/api/v1"), client.request("GET", "/apis")
        )
        versions: list[tuple[str, str, str]] = []
        for group in (groups or {}).get("groups") or []:
            # As kubectl does, each group is seen through its preferred version only.
            preferred = (group.get("preferredVersion") or {}).get("groupVersion")
            if not preferred and group.get("versions"):
                preferred = group["versions"][0].get("groupVersion")
            if preferred:
                versions.append((group["name"], preferred.partition("/")[2], preferred))
        docs = await asyncio.gather(
            *(client.request("GET", f"/apis/{gv}") for _, _, gv in versions),
            return_exceptions=True,
        )
        out = self._resources("", "v1", core or {})
        for (group, version, _), doc in zip(versions, docs, strict=True):
            if isinstance(doc, BaseException):
                continue
            out.extend(self._resources(group, version, doc or {}))
        return out

    @staticmethod
    def _resources(group: str, version: str, doc: dict[str, Any]) -> list[ApiResource]:
        from apitypes.base import KubeObject
        from apitypes.registry import ResourceType, by_kind

        out: list[ApiResource] = []
        for entry in doc.get("resources") or []:
            name = entry.get("name", "")
            if "/" in name:
                continue
            known = by_kind(f"{group}/{version}" if group else version, entry.get("kind", ""))
            model = known.model if known is not None else KubeObject
            rtype = ResourceType(
                group,
                version,
                entry.get("kind", ""),
                name,
                bool(entry.get("namespaced")),
                model,
                tuple(entry.get("shortNames") or ()),
                tuple(entry.get("categories") or ()),
            )
            out.append(ApiResource(rtype, tuple(entry.get("verbs") or ())))
        return out

    async def resolve(self, name: str) -> ResourceType:
        """The resource ``name`` means; an error in kubectl's words if none."""
        found = _from_registry(name)
        if found is not None:
            return found
        for item in await self.discovery():
            if _matches(item.type, name):
                return item.type
        fail(f'the server doesn\'t have a resource type "{name}"')

    async def resolve_kind(self, api_version: str, kind: str) -> ResourceType:
        """The resource a manifest's ``apiVersion``/``kind`` names."""
        from apitypes.registry import by_kind

        found = by_kind(api_version, kind)
        if found is not None:
            return found
        for item in await self.discovery():
            if item.type.api_version == api_version and item.type.kind == kind:
                return item.type
        fail(
            f'no matches for kind "{kind}" in version "{api_version}"; ensure CRDs are installed first'
        )

    async def category(self, name: str) -> list[ResourceType]:
        return [item.type for item in await self.discovery() if name in item.type.categories]


def _from_registry(name: str) -> ResourceType | None:
    from apitypes.registry import lookup

    found = lookup(name)
    if found is not None:
        return found
    # ``deploy.apps``, ``deployments.v1.apps``, ``Deployment``.
    head, _, rest = name.partition(".")
    candidate = lookup(head)
    if candidate is None:
        return None
    if not rest:
        return candidate
    if rest in (candidate.group, f"{candidate.version}.{candidate.group}"):
        return candidate
    if not candidate.group and rest == candidate.version:
        return candidate
    return None


def _matches(rtype: ResourceType, name: str) -> bool:
    lowered = name.lower()
    head, _, rest = lowered.partition(".")
    names = {rtype.plural, rtype.singular, rtype.kind.lower(), *rtype.short_names}
    if lowered in names:
        return True
    if head in names and rest:
        return rest in (rtype.group, f"{rtype.version}.{rtype.group}")
    return False


async def parse_targets(
    resolver: Resolver, args: list[str], *, verb: str = "get", allow_all: bool = True
) -> list[Target]:
    """kubectl's ``TYPE [NAME...]`` / ``TYPE1,TYPE2`` / ``TYPE/NAME...`` argument forms."""
    if not args:
        fail(
            f'You must specify the type of resource to {verb}. Use "navctl api-resources" '
            "for a complete list of supported resources."
        )
    if any("/" in arg for arg in args):
        if not all("/" in arg for arg in args):
            fail(
                "there is no need to specify a resource type as a separate argument when "
                "passing arguments in resource/name form (e.g. 'navctl get resource/<name>' "
                "instead of 'navctl get resource resource/<name>')"
            )
        targets: list[Target] = []
        for arg in args:
            kind, _, name = arg.partition("/")
            if not kind or not name:
                fail(
                    f"arguments in resource/name form must have a single resource and name: {arg!r}"
                )
            rtype = await resolver.resolve(kind)
            if targets and targets[-1].resource == rtype:
                targets[-1].names.append(name)
            else:
                targets.append(Target(rtype, [name]))
        return targets
    types: list[ResourceType] = []
    for part in args[0].split(","):
        if not part:
            continue
        if allow_all and part == "all":
            for rtype in await resolver.category("all"):
                if rtype not in types:
                    types.append(rtype)
            continue
        rtype = await resolver.resolve(part)
        if rtype not in types:
            types.append(rtype)
    names = list(args[1:])
    return [Target(rtype, list(names)) for rtype in types]
