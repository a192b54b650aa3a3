"""The root CA publisher: a ConfigMap ``kube-root-ca.crt`` in every namespace, holding
the CA that signed the apiserver's serving certificate (``--root-ca-file``), as
Kubernetes' ``root-ca-cert-publisher`` does. Pods verify the apiserver with it: the
ServiceAccount admission plugin projects its ``ca.crt`` into every pod's token volume.

Watches Namespaces and the ConfigMaps of that name; a namespace whose ConfigMap is
missing or differs (or was edited) gets it written back. Terminating namespaces are
left alone. Off when ``--root-ca-file`` is not given.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from apiclient import Informer, errors
from apitypes.core import ConfigMap, Namespace
from apitypes.meta import ObjectMeta
from apitypes.registry import by_model
from controllers.base import Controller, ControllerContext

NAME = "kube-root-ca.crt"
KEY = "ca.crt"
DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using "
    "internal endpoints such as the internal service IP or kubernetes.default.svc. No "
    "other usage is guaranteed across distributions of Kubernetes clusters."
)
CONFIG_MAPS = by_model(ConfigMap)


class RootCACertPublisher(Controller):
    name = "root-ca-cert-publisher"
    service_account = "root-ca-cert-publisher"
    aliases = ("root-ca-certificate-publisher-controller",)

    def __init__(self, ctx: ControllerContext, workers: int = 1) -> None:
        super().__init__(ctx, workers)
        path = self.options.root_ca_file
        self.ca = Path(path).read_text() if path else ""
        self.namespaces: Informer[Namespace] = self.factory.informer(Namespace)
        self.config_maps: Informer[ConfigMap] = self.factory.informer(
            ConfigMap, field_selector=f"metadata.name={NAME}"
        )
        if not self.ca:
            return
        self.namespaces.add_handler(self.enqueue, lambda _old, new: self.enqueue(new))
        self.config_maps.add_handler(
            self._config_map, lambda _old, new: self._config_map(new), self._config_map
        )

    def _config_map(self, cm: ConfigMap) -> None:
        if cm.metadata.namespace:
            self.queue.add(cm.metadata.namespace)

    async def reconcile(self, key: str) -> float | None:
        namespace = self.namespaces.store.get(key)
        if namespace is None or namespace.metadata.deletion_timestamp is not None:
            return None
        if namespace.status is not None and namespace.status.phase == "Terminating":
            return None
        current = self.config_maps.store.get(f"{key}/{NAME}")
        if current is None:
            body = ConfigMap(
                metadata=ObjectMeta(
                    name=NAME,
                    namespace=key,
                    annotations={"kubernetes.io/description": DESCRIPTION},
                ),
                data={KEY: self.ca},
            )
            with contextlib.suppress(errors.AlreadyExistsError, errors.ForbiddenError):
                await self.client.create(body, key)
            return None
        if current.data == {KEY: self.ca}:
            return None
        patch = {"data": {KEY: self.ca, **{k: None for k in current.data if k != KEY}}}
        with contextlib.suppress(errors.NotFoundError):
            await self.client.patch_raw(CONFIG_MAPS, NAME, patch, key, patch_type="merge")
        return None
