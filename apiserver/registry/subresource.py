"""Subresources: what a kind serves below its objects (``pods/<name>/status``, ``.../scale``).

A kind declares its subresources on its ``Strategy`` as objects
(``subresources = (Status(), Scale())``). The generic handler finds one by the last
segment of the path, checks the verb against its ``verbs``, and hands it the request;
discovery and OpenAPI list exactly what is declared. So a subresource exists when, and
only when, a kind declares an object that serves it.

Two shapes, as in Kubernetes:

- ``ObjectSubresource`` (``apiserver.subresources.object``): a view of the object
  itself (``status``, ``finalize``). GET reads the object; PUT and PATCH write it
  through the generic store, which applies the subresource's own rules instead of the
  kind's: what the write may change (``prepare_for_update``), whether defaults apply
  (``default``), and what is checked (``validate_update``), as Kubernetes'
  ``podStatusStrategy`` does.
- ``Subresource`` with its own ``serve`` (``scale``, ``binding``, ``eviction``,
  ``log``, ``exec``, ``portforward``): it answers the request itself, with the
  helpers of ``apiserver.rest``; one that writes its object through the store with
  rules of its own (``binding``) passes itself as the store's ``subresource``. One that
  sets ``websocket`` also answers WebSocket upgrades on its path (``serve_websocket``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from apiserver.kubeletclient import KubeletClient
from apitypes.base import KubeObject
from apitypes.validation import FieldError

if TYPE_CHECKING:
    from apiserver.registry.store import ResourceStore
    from apiserver.registry.strategy import Strategy
    from apiserver.security import Security

VERBS = {"GET": "get", "PUT": "update", "PATCH": "patch", "POST": "create"}
"""The discovery verb of each HTTP method a subresource may answer."""


@dataclass(frozen=True)
class SubresourceKind:
    """The kind a subresource reads and writes, when it is not its parent's
    (``autoscaling/v1`` ``Scale``); discovery and OpenAPI name it."""

    group: str
    version: str
    kind: str
    model: type[KubeObject] | None = None
    """Its model, for the OpenAPI definitions; None for kinds navarch has no model of
    (``PodExecOptions``)."""


@dataclass(frozen=True)
class Backends:
    """What subresources may reach beyond their own object: every kind's store (by
    ``(group, plural)``), and the kubelets."""

    stores: Mapping[tuple[str, str], ResourceStore]
    kubelets: KubeletClient
    security: Security | None = None
    """Authentication, authorization, admission and the token issuer (the ``token``
    subresource issues tokens; subresources that write outside the store admit)."""


@dataclass(frozen=True)
class Target:
    """The object a subresource request is about, and what else it may reach."""

    store: ResourceStore
    namespace: str | None
    name: str
    backends: Backends


class Subresource:
    """A subresource of a kind: its name, the verbs it answers (as discovery lists
    them), the kind it speaks, and how it answers."""

    name: ClassVar[str]
    verbs: ClassVar[tuple[str, ...]]
    kind: ClassVar[SubresourceKind | None] = None
    """None: the parent's kind (``pods/status`` reads and writes Pods)."""
    websocket: ClassVar[bool] = False
    """Whether WebSocket upgrades on this path are served (``serve_websocket``)."""

    async def serve(self, request: Request, target: Target) -> Response:
        """Answer an HTTP request whose method is one of ``verbs`` (see ``VERBS``)."""
        raise NotImplementedError(f"{self.name} serves no HTTP requests")

    async def serve_websocket(self, websocket: WebSocket, target: Target) -> None:
        """Answer a WebSocket upgrade (only called when ``websocket`` is set)."""
        raise NotImplementedError(f"{self.name} serves no WebSockets")

    async def admit(self, request: Request, target: Target, obj: Any = None) -> None:
        """Pass a create on this subresource that is not written through the store (an
        eviction, a token request) through admission, as its requester."""
        from apiserver import admission
        from apiserver.filters import user_of

        security = target.backends.security
        user = user_of(request.scope)
        if security is None or user is None:
            return
        attrs = admission.Attributes(
            operation=admission.CREATE,
            resource=target.store.resource,
            namespace=target.namespace,
            name=target.name,
            user=user,
            obj=obj,
            subresource=self.name,
        )
        await security.admission.admit(attrs)
        await security.admission.validate(attrs)

    # --- rules of a write through the store (``ResourceStore.update``/``patch``) ------

    def prepare_for_update(self, strategy: Strategy, new: Any, old: Any) -> None:
        """Keep in ``new`` what a write through this subresource may not change."""
        raise NotImplementedError(f"{self.name} does not write through the store")

    def default(self, strategy: Strategy, obj: Any) -> None:
        """Fill defaults into the written object (the kind's, unless overridden)."""
        strategy.default(obj)

    def validate_update(self, strategy: Strategy, new: Any, old: Any) -> list[FieldError]:
        """Errors in the written object (the kind's whole validation, unless overridden)."""
        return strategy.validate(new)
