"""NamespaceLifecycle: the namespaces the cluster needs (``default``, ``kube-system``,
``kube-public``) may not be deleted. That nothing is created in a namespace that does
not exist or is terminating is checked by the store itself for every create (it holds
for the server's own writes too), with Kubernetes' words."""

from __future__ import annotations

from apiserver import errors
from apiserver.admission import DELETE, Attributes, Plugin

IMMORTAL = ("default", "kube-system", "kube-public")


class NamespaceLifecycle(Plugin):
    name = "NamespaceLifecycle"

    async def admit(self, attrs: Attributes) -> None:
        if attrs.operation == DELETE and attrs.is_("", "namespaces") and attrs.name in IMMORTAL:
            raise errors.forbidden("namespaces", attrs.name, "this namespace may not be deleted")

    async def validate(self, attrs: Attributes) -> None:
        await self.admit(attrs)
