"""Credentials that are a service account's token, requested with another client's
credentials and renewed before they expire (client-go's
``SAControllerClientBuilder``): how the controller-manager runs each controller as its
own service account (``--use-service-account-credentials``).

``ServiceAccountTokenSource.start`` makes the account if it is missing and requests a
token (TokenRequest); a background task requests the next one once 80% of the
current one's life has passed. A ``ClientConfig`` with ``token_source=`` the source
sends its current token with every request.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import time

from apiclient import errors
from apiclient.rest import Client
from apitypes.core import ServiceAccount
from apitypes.meta import ObjectMeta

log = logging.getLogger(__name__)

REFRESH_FRACTION = 0.8


class ServiceAccountTokenSource:
    def __init__(
        self, client: Client, namespace: str, name: str, *, expiration_seconds: int = 3600
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.name = name
        self.expiration_seconds = expiration_seconds
        self._token = ""
        self._task: asyncio.Task[None] | None = None

    def __call__(self) -> str:
        return self._token

    async def start(self) -> ServiceAccountTokenSource:
        with contextlib.suppress(errors.AlreadyExistsError):
            await self.client.create(
                ServiceAccount(metadata=ObjectMeta(name=self.name)), self.namespace
            )
        delay = await self._renew()
        self._task = asyncio.get_running_loop().create_task(self._renewing(delay))
        return self

    async def _renew(self) -> float:
        """Request a fresh token; seconds until the next one is due."""
        body = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": self.expiration_seconds},
        }
        path = f"/api/v1/namespaces/{self.namespace}/serviceaccounts/{self.name}/token"
        issued_at = time.time()
        answer = await self.client.request("POST", path, body=body)
        status = answer.get("status") or {}
        self._token = str(status["token"])
        expires = datetime.datetime.fromisoformat(
            str(status["expirationTimestamp"]).replace("Z", "+00:00")
        ).timestamp()
        return max((expires - issued_at) * REFRESH_FRACTION, 1.0)

    async def _renewing(self, delay: float) -> None:
        while True:
            await asyncio.sleep(delay)
            try:
                delay = await self._renew()
            except (errors.ApiError, KeyError, ValueError) as err:
                log.warning("token of %s/%s not renewed: %s", self.namespace, self.name, err)
                delay = 5.0

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
