"""``namespaces/<name>/finalize``: the only way to change a namespace's ``spec.finalizers``.

The namespace controller empties them through it once the namespace's content is
gone; the main resource keeps them. Everything else is kept from the stored object.
"""

from __future__ import annotations

from typing import Any

from apiserver.registry.strategy import Strategy
from apiserver.subresources.object import ObjectSubresource
from apitypes.core import NamespaceSpec


class Finalize(ObjectSubresource):
    name = "finalize"
    verbs = ("update",)

    def prepare_for_update(self, strategy: Strategy, new: Any, old: Any) -> None:
        finalizers = list(new.spec.finalizers) if new.spec else []
        new.metadata = old.metadata.model_copy(deep=True)
        new.status = old.status
        new.spec = NamespaceSpec(finalizers=finalizers)
