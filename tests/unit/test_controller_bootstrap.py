"""The bootstrap signer and token cleaner: which tokens sign cluster-info, which
signatures go, which Secrets are deleted and when a token is looked at again."""

from __future__ import annotations

import base64
import datetime
from typing import Any

from apiclient.informer import Store
from apitypes.core import ConfigMap, Secret
from controllers.base import Clock, ControllerContext, Options
from controllers.bootstrap import BootstrapSignerController, TokenCleanerController
from pki import bootstraptoken as bt

KUBECONFIG = "apiVersion: v1\nclusters:\n- cluster: {server: 'https://10.0.0.1:6443'}\n  name: ''\n"


def _secret(token: str, *, expires_in: float | None = 3600, signing: bool = True,
            name: str | None = None, kind: str = bt.SECRET_TYPE) -> Secret:  # fmt: skip
    tok = bt.parse(token)
    data = {"token-id": tok.id, "token-secret": tok.secret}
    if signing:
        data["usage-bootstrap-signing"] = "true"
    if expires_in is not None:
        now = datetime.datetime.now(datetime.UTC)
        data["expiration"] = bt.rfc3339(now + datetime.timedelta(seconds=expires_in))
    return Secret.model_validate(
        {
            "metadata": {"name": name or tok.secret_name, "namespace": "kube-system",
                         "uid": f"uid-{tok.id}", "resourceVersion": "1"},
            "type": kind,
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
        }
    )  # fmt: skip


class FakeInformer:
    def __init__(self) -> None:
        self.store: Store[Any] = Store()

    def add_handler(self, *handlers: Any) -> None:
        pass


class FakeFactory:
    def __init__(self) -> None:
        self.by_model: dict[type, FakeInformer] = {}

    def informer(self, model: type, **_: Any) -> FakeInformer:
        return self.by_model.setdefault(model, FakeInformer())


class FakeApi:
    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []
        self.deletes: list[tuple[str, str, dict[str, str] | None]] = []

    async def update_raw(self, resource: Any, body: dict[str, Any], **_: Any) -> dict[str, Any]:
        self.updates.append(body)
        return body

    async def delete_raw(self, resource: Any, name: str, namespace: str, *,
                         preconditions: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
        self.deletes.append((namespace, name, preconditions))
        return {}


def _context(api: FakeApi) -> ControllerContext:
    return ControllerContext(
        client=api,  # type: ignore[arg-type]
        factory=FakeFactory(),  # type: ignore[arg-type]
        recorder=None,  # type: ignore[arg-type]
        options=Options(),
        clock=Clock(),
    )


def _cluster_info(**extra: str) -> ConfigMap:
    return ConfigMap.model_validate(
        {
            "metadata": {
                "name": "cluster-info",
                "namespace": "kube-public",
                "resourceVersion": "7",
            },
            "data": {"kubeconfig": KUBECONFIG, **extra},
        }
    )


async def test_signer_signs_with_each_valid_signing_token_and_drops_stale_ones() -> None:
    api = FakeApi()
    ctl = BootstrapSignerController(_context(api))
    good = "abcdef.0123456789abcdef"
    for secret in (
        _secret(good),
        _secret("expire.0123456789abcdef", expires_in=-1),
        _secret("nosign.0123456789abcdef", signing=False),
        _secret("opaque.0123456789abcdef", kind="Opaque"),
        _secret("misnam.0123456789abcdef", name="bootstrap-token-other0"),
    ):
        ctl.secrets.store.put(f"kube-system/{secret.metadata.name}", secret)
    ctl.config_maps.store.put(
        "kube-public/cluster-info", _cluster_info(**{"jws-kubeconfig-gone00": "x..y"})
    )
    await ctl.reconcile("kube-public/cluster-info")
    [body] = api.updates
    assert body["metadata"]["resourceVersion"] == "7"
    assert set(body["data"]) == {"kubeconfig", "jws-kubeconfig-abcdef"}
    assert bt.verify_detached(body["data"]["jws-kubeconfig-abcdef"], KUBECONFIG, bt.parse(good))


async def test_signer_writes_nothing_when_the_signatures_are_right() -> None:
    api = FakeApi()
    ctl = BootstrapSignerController(_context(api))
    token = bt.parse("abcdef.0123456789abcdef")
    ctl.secrets.store.put("kube-system/bootstrap-token-abcdef", _secret(str(token)))
    signed = {"jws-kubeconfig-abcdef": bt.sign_detached(KUBECONFIG, token)}
    ctl.config_maps.store.put("kube-public/cluster-info", _cluster_info(**signed))
    await ctl.reconcile("kube-public/cluster-info")
    assert api.updates == []


async def test_cleaner_deletes_expired_tokens_by_uid_and_waits_for_the_others() -> None:
    api = FakeApi()
    ctl = TokenCleanerController(_context(api))
    old = _secret("oldold.0123456789abcdef", expires_in=-5)
    new = _secret("newnew.0123456789abcdef", expires_in=600)
    forever = _secret("foreve.0123456789abcdef", expires_in=None)
    for s in (old, new, forever):
        ctl.secrets.store.put(f"kube-system/{s.metadata.name}", s)
    assert await ctl.reconcile("kube-system/bootstrap-token-oldold") is None
    assert api.deletes == [("kube-system", "bootstrap-token-oldold", {"uid": "uid-oldold"})]
    again = await ctl.reconcile("kube-system/bootstrap-token-newnew")
    assert again is not None and 590 < again <= 600
    assert await ctl.reconcile("kube-system/bootstrap-token-foreve") is None
    assert len(api.deletes) == 1
