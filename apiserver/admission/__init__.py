"""Admission: the plugins every write passes after it is decoded and defaulted, before
it is stored (Kubernetes' admission chain).

Each plugin is one module with one ``Plugin`` subclass; ``plugins.py`` lists them in
Kubernetes' order and says which are on by default (``--enable-admission-plugins``,
``--disable-admission-plugins`` change that). For every write the store calls the
chain twice: ``admit`` (mutating: every plugin may change the object, in order), then,
after the kind's own validation, ``validate`` (every plugin may refuse it). Deletes
are validated with the object being deleted. A refusal is an ``ApiError`` (403 with
the plugin's reason, or 422 naming a field), and nothing is written.

Writes the server makes itself (no user: its default namespaces, bootstrap policy)
are not admitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from apiserver.user import UserInfo
from apitypes.registry import ResourceType

CREATE = "CREATE"
UPDATE = "UPDATE"
DELETE = "DELETE"
CONNECT = "CONNECT"


class Lookup(Protocol):
    """What plugins may read (``apiserver.lookup.StoreLookup``)."""

    async def get(
        self, plural: str, namespace: str | None, name: str, group: str = ""
    ) -> dict[str, Any] | None: ...

    def cached_list(
        self, plural: str, namespace: str | None = None, group: str = ""
    ) -> list[dict[str, Any]]: ...

    async def create(
        self, plural: str, namespace: str | None, body: dict[str, Any], group: str = ""
    ) -> dict[str, Any] | None: ...

    def changes(self, plural: str, group: str = "") -> int: ...

    async def update_status(
        self, plural: str, namespace: str | None, body: dict[str, Any], group: str = ""
    ) -> dict[str, Any]: ...


@dataclass
class Attributes:
    """One write as admission sees it."""

    operation: str
    resource: ResourceType
    namespace: str | None
    name: str
    user: UserInfo
    obj: Any = None
    """The typed object being written (None for a delete); mutating plugins change it."""
    old: Any = None
    """The stored object, for updates and deletes."""
    subresource: str = ""
    dry_run: bool = False
    warnings: list[str] = field(default_factory=list)
    """``Warning`` headers a plugin wants sent (Pod Security's ``warn`` mode)."""
    annotations: dict[str, str] = field(default_factory=dict)
    """Audit annotations a plugin adds (Pod Security's ``audit`` mode)."""

    @property
    def group(self) -> str:
        return self.resource.group

    def is_(self, group: str, plural: str, subresource: str = "") -> bool:
        return (
            self.resource.group == group
            and self.resource.plural == plural
            and self.subresource == subresource
        )


@dataclass(frozen=True)
class Settings:
    """Server flags plugins read."""

    service_account_tokens: bool = False
    """Whether the server issues service-account tokens (a signing key is configured):
    only then does ServiceAccount require the account and mount its token."""
    pod_security_default: str = "privileged"
    """``--pod-security-default``: the enforce level of namespaces without a label."""
    pod_security_exempt_namespaces: tuple[str, ...] = ()
    default_not_ready_toleration_seconds: int = 300
    default_unreachable_toleration_seconds: int = 300


class Plugin:
    """One admission plugin."""

    name: ClassVar[str]

    def __init__(self, lookup: Lookup, settings: Settings) -> None:
        self.lookup = lookup
        self.settings = settings

    async def admit(self, attrs: Attributes) -> None:
        """Change ``attrs.obj`` (mutating plugins)."""

    async def validate(self, attrs: Attributes) -> None:
        """Raise an ``ApiError`` to refuse the write."""


class Chain:
    """The enabled plugins, in order."""

    def __init__(self, plugins: Sequence[Plugin] = ()) -> None:
        self.plugins = list(plugins)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.plugins]

    def plugin(self, name: str) -> Plugin | None:
        return next((p for p in self.plugins if p.name == name), None)

    async def admit(self, attrs: Attributes) -> None:
        for plugin in self.plugins:
            await plugin.admit(attrs)

    async def validate(self, attrs: Attributes) -> None:
        for plugin in self.plugins:
            await plugin.validate(attrs)
