"""``ObjectSubresource``: a subresource that is a view of the object itself.

GET reads the object; PUT and PATCH write it through the generic store (the same verbs
as the main resource, ``apiserver.rest``), which applies the subresource's own rules
(``prepare_for_update``, ``default``, ``validate_update``) instead of the kind's.
"""

from __future__ import annotations

from typing import ClassVar

from starlette.requests import Request
from starlette.responses import Response

from apiserver import rest
from apiserver.registry.subresource import Subresource, Target


class ObjectSubresource(Subresource):
    """A view of the object itself: GET reads it, PUT and PATCH write it through the
    generic store under this subresource's rules."""

    verbs: ClassVar[tuple[str, ...]] = ("get", "patch", "update")

    async def serve(self, request: Request, target: Target) -> Response:
        store, namespace, name = target.store, target.namespace, target.name
        method = request.method
        if method == "GET":
            return await rest.get_object(request, store, namespace, name)
        if method == "PUT":
            return await rest.update_object(request, store, namespace, name, subresource=self)
        return await rest.patch_object(request, store, namespace, name, subresource=self)
