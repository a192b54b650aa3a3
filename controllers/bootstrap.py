"""The bootstrap-token controllers, as kube-controller-manager's ``bootstrapsigner`` and
``tokencleaner`` (``pkg/controller/bootstrap``); like there they are off unless
``--controllers`` names them (``navarch init`` does: ``*,bootstrapsigner,tokencleaner``).

- **bootstrap signer**: keeps the ConfigMap ``kube-public/cluster-info`` signed: one
  ``jws-kubeconfig-<token-id>`` key per bootstrap token Secret in ``kube-system`` that
  is marked ``usage-bootstrap-signing: "true"`` and has not expired, holding the
  detached JWS of the ``kubeconfig`` key (``pki.bootstraptoken``); signatures of tokens
  that went away are removed. A host that joins with a token finds its signature there
  and so trusts the CA in that kubeconfig (``navarch join``).
- **token cleaner**: deletes bootstrap token Secrets whose ``expiration`` passed (with
  the Secret's uid as precondition, so a token made again under the same name stays),
  and looks again at a token when it is due to expire.

Both act as their own service accounts (``bootstrap-signer``, ``token-cleaner``) with
``--use-service-account-credentials``, bound by the apiserver's default policy to
roles with their writes only (updating ``cluster-info``; deleting Secrets): Kubernetes
grants the same as namespaced Roles.
"""

from __future__ import annotations

import binascii
import contextlib
import logging

from apiclient import Informer, errors
from apitypes.core import ConfigMap, Secret
from apitypes.registry import by_model
from controllers.base import Controller, ControllerContext
from pki import bootstraptoken as bt

log = logging.getLogger(__name__)

SECRETS = by_model(Secret)
CONFIG_MAPS = by_model(ConfigMap)
KEY = f"{bt.PUBLIC_NAMESPACE}/{bt.CLUSTER_INFO}"


def _token_of(secret: Secret) -> tuple[bt.Token, dict[str, bytes]] | None:
    """The token a bootstrap token Secret records, with its decoded data (None when it
    is not one, or not well-formed)."""
    if secret.type != bt.SECRET_TYPE or secret.metadata.deletion_timestamp is not None:
        return None
    try:
        data = secret.decoded()
    except binascii.Error:
        return None
    token_id = data.get("token-id", b"").decode(errors="replace")
    token_secret = data.get("token-secret", b"").decode(errors="replace")
    try:
        token = bt.parse(f"{token_id}.{token_secret}")
    except bt.TokenError:
        return None
    if secret.metadata.name != token.secret_name:
        return None
    return token, data


class BootstrapSignerController(Controller):
    name = "bootstrap-signer-controller"
    aliases = ("bootstrapsigner",)
    service_account = "bootstrap-signer"

    def __init__(self, ctx: ControllerContext, workers: int = 1) -> None:
        super().__init__(ctx, workers)
        self.secrets: Informer[Secret] = self.factory.informer(
            Secret, namespace=bt.SECRET_NAMESPACE
        )
        self.config_maps: Informer[ConfigMap] = self.factory.informer(
            ConfigMap,
            namespace=bt.PUBLIC_NAMESPACE,
            field_selector=f"metadata.name={bt.CLUSTER_INFO}",
        )
        # Every change can change the one object this controller writes.
        for informer in (self.secrets, self.config_maps):
            informer.add_handler(self._any, lambda _old, _new: self._any(_new), self._any)

    def _any(self, _obj: object) -> None:
        self.queue.add(KEY)

    def signatures(self, content: str) -> dict[str, str]:
        """``jws-kubeconfig-<id>`` -> signature, for every token that may sign now."""
        now = self.clock.now()
        found: dict[str, str] = {}
        for secret in self.secrets.store.objects():
            parsed = _token_of(secret)
            if parsed is None:
                continue
            token, data = parsed
            if data.get("usage-bootstrap-signing", b"").decode(errors="replace") != "true":
                continue
            expires = bt.expiration(data)
            if expires is not None and expires <= now:
                continue
            found[bt.JWS_PREFIX + token.id] = bt.sign_detached(content, token)
        return found

    async def reconcile(self, key: str) -> float | None:
        current = self.config_maps.store.get(key)
        if current is None or current.metadata.deletion_timestamp is not None:
            return None
        content = (current.data or {}).get(bt.KUBECONFIG_KEY)
        if content is None:
            return None
        wanted = self.signatures(content)
        have = {k: v for k, v in (current.data or {}).items() if k.startswith(bt.JWS_PREFIX)}
        if have == wanted:
            return None
        data = {k: v for k, v in (current.data or {}).items() if not k.startswith(bt.JWS_PREFIX)}
        body = current.to_dict()
        body["data"] = {**data, **wanted}
        # A conflict (changed meanwhile) raises: retried once the watch brings the new one.
        await self.client.update_raw(CONFIG_MAPS, body, namespace=bt.PUBLIC_NAMESPACE)
        log.info("cluster-info signed for %d token(s)", len(wanted))
        return None


class TokenCleanerController(Controller):
    name = "token-cleaner-controller"
    aliases = ("tokencleaner",)
    service_account = "token-cleaner"

    def __init__(self, ctx: ControllerContext, workers: int = 1) -> None:
        super().__init__(ctx, workers)
        self.secrets: Informer[Secret] = self.factory.informer(
            Secret, namespace=bt.SECRET_NAMESPACE
        )
        self.secrets.add_handler(self.enqueue, lambda _old, new: self.enqueue(new))

    async def reconcile(self, key: str) -> float | None:
        secret = self.secrets.store.get(key)
        if secret is None or secret.type != bt.SECRET_TYPE:
            return None
        try:
            data = secret.decoded()
        except binascii.Error:
            return None
        expires = bt.expiration(data)
        if expires is None:
            return None
        left = (expires - self.clock.now()).total_seconds()
        if left > 0:
            return left  # look again once it is due
        with contextlib.suppress(errors.NotFoundError, errors.ConflictError):
            await self.client.delete_raw(
                SECRETS,
                secret.metadata.name or "",
                bt.SECRET_NAMESPACE,
                preconditions={"uid": secret.metadata.uid or ""},
            )
            log.info("deleted expired bootstrap token %s", key)
        return None


DISABLED_BY_DEFAULT = frozenset({BootstrapSignerController.name, TokenCleanerController.name})
"""Off under ``*`` unless named, as in Kubernetes."""
