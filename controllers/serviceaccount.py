"""The ServiceAccount controller: a ``default`` ServiceAccount in every namespace.

As Kubernetes' ``serviceaccount-controller``: watches Namespaces (a new or changed one
is checked) and ServiceAccounts (deleting one of the ensured accounts checks its
namespace again). For one namespace key, ``reconcile`` creates each account of
``ACCOUNTS`` that the cache does not hold, unless the namespace is going away; an
account created meanwhile by someone else (409) is as good as ours.
"""

from __future__ import annotations

import logging

from apiclient import Informer, errors
from apitypes.core import Namespace, ServiceAccount
from apitypes.registry import by_model
from controllers.base import Controller, ControllerContext

log = logging.getLogger(__name__)

SERVICE_ACCOUNTS = by_model(ServiceAccount)
ACCOUNTS = ("default",)
"""The accounts every namespace gets (``--service-accounts-to-ensure`` in Kubernetes'
older releases: only ``default``)."""


class ServiceAccountController(Controller):
    name = "serviceaccount-controller"
    service_account = "service-account-controller"
    aliases = ("serviceaccount",)

    def __init__(self, ctx: ControllerContext, workers: int = 1) -> None:
        super().__init__(ctx, workers)
        self.namespaces: Informer[Namespace] = self.factory.informer(Namespace)
        self.accounts: Informer[ServiceAccount] = self.factory.informer(ServiceAccount)
        self.namespaces.add_handler(self.enqueue, lambda _old, new: self.enqueue(new))
        self.accounts.add_handler(None, None, self._account_deleted)

    def _account_deleted(self, sa: ServiceAccount) -> None:
        if sa.metadata.name in ACCOUNTS and sa.metadata.namespace:
            self.queue.add(sa.metadata.namespace)

    async def reconcile(self, key: str) -> float | None:
        ns = self.namespaces.store.get(key)
        if ns is None or ns.is_terminating() or ns.metadata.deletion_timestamp is not None:
            return None
        for name in ACCOUNTS:
            if self.accounts.store.get_by_name(key, name) is not None:
                continue
            body = {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": name, "namespace": key},
            }
            try:
                await self.client.create_raw(SERVICE_ACCOUNTS, body, key)
            except errors.AlreadyExistsError:
                continue
            except (errors.ForbiddenError, errors.NotFoundError):
                # The namespace went away (or started to) since the cache saw it.
                return None
            log.info("created ServiceAccount %s/%s", key, name)
        return None
