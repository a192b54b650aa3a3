"""ServiceAccount: every pod runs as a service account, and gets its token.

On pod creation (Kubernetes' ``ServiceAccount`` plugin): ``spec.serviceAccountName``
defaults to ``default``; when the server issues tokens, the account must exist (a 403
"error looking up service account" otherwise, as Kubernetes answers while the account
controller, ``serviceaccount-controller``, has not made it yet), and unless ``automountServiceAccountToken`` (the
pod's, else the account's) is false, a projected volume ``kube-api-access-<suffix>``
is added and mounted read-only at ``/var/run/secrets/kubernetes.io/serviceaccount`` in
every container that mounts nothing there already:

- ``token``: a bound service-account token (``expirationSeconds: 3607``), which the
  kubelet requests through the TokenRequest API and refreshes;
- ``ca.crt``: from the ConfigMap ``kube-root-ca.crt`` (the controller-manager's
  root-CA publisher keeps one in every namespace);
- ``namespace``: the pod's namespace (downward API).

Mirror pods (static pods' reflections) may not use a service account's token.
"""

from __future__ import annotations

import secrets

from apiserver import errors
from apiserver.admission import CREATE, Attributes, Plugin
from apitypes import core

MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
VOLUME_PREFIX = "kube-api-access-"
ROOT_CA_CONFIGMAP = "kube-root-ca.crt"
TOKEN_EXPIRATION = 3607
DEFAULT_MODE = 0o644
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def token_volume(name: str) -> core.Volume:
    return core.Volume(
        name=name,
        projected=core.ProjectedVolumeSource(
            default_mode=DEFAULT_MODE,
            sources=[
                core.VolumeProjection(
                    service_account_token=core.ServiceAccountTokenProjection(
                        expiration_seconds=TOKEN_EXPIRATION, path="token"
                    )
                ),
                core.VolumeProjection(
                    config_map=core.ConfigMapProjection(
                        name=ROOT_CA_CONFIGMAP, items=[core.KeyToPath(key="ca.crt", path="ca.crt")]
                    )
                ),
                core.VolumeProjection(
                    downward_api=core.DownwardAPIProjection(
                        items=[
                            core.DownwardAPIVolumeFile(
                                path="namespace",
                                field_ref=core.ObjectFieldSelector(
                                    api_version="v1", field_path="metadata.namespace"
                                ),
                            )
                        ]
                    )
                ),
            ],
        ),
    )


class ServiceAccount(Plugin):
    name = "ServiceAccount"

    async def admit(self, attrs: Attributes) -> None:
        if attrs.operation != CREATE or not attrs.is_("", "pods"):
            return
        pod: core.Pod = attrs.obj
        if pod.spec is None:
            return
        spec = pod.spec
        if MIRROR_ANNOTATION in pod.metadata.annotations:
            return
        if not spec.service_account_name:
            spec.service_account_name = spec.service_account or "default"
        if not self.settings.service_account_tokens:
            return
        namespace = attrs.namespace or ""
        account = await self.lookup.get("serviceaccounts", namespace, spec.service_account_name)
        if account is None:
            raise errors.forbidden(
                "pods",
                pod.metadata.name or "",
                f"error looking up service account {namespace}/{spec.service_account_name}: "
                f'serviceaccount "{spec.service_account_name}" not found',
            )
        automount = spec.automount_service_account_token
        if automount is None:
            automount = account.get("automountServiceAccountToken")
        if automount is False:
            return
        containers = [*spec.init_containers, *spec.containers]
        wanting = [
            c for c in containers if not any(m.mount_path == MOUNT_PATH for m in c.volume_mounts)
        ]
        if not wanting:
            return
        taken = {v.name for v in spec.volumes}
        name = ""
        while not name or name in taken:
            name = VOLUME_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(5))
        spec.volumes.append(token_volume(name))
        for container in wanting:
            container.volume_mounts.append(
                core.VolumeMount(name=name, mount_path=MOUNT_PATH, read_only=True)
            )

    async def validate(self, attrs: Attributes) -> None:
        if attrs.operation != CREATE or not attrs.is_("", "pods"):
            return
        pod: core.Pod = attrs.obj
        if pod.spec is None or MIRROR_ANNOTATION not in pod.metadata.annotations:
            return
        for volume in pod.spec.volumes:
            sources = volume.projected.sources if volume.projected else []
            if volume.secret is not None or any(
                s.service_account_token is not None or s.secret is not None for s in sources
            ):
                raise errors.forbidden(
                    "pods",
                    pod.metadata.name or "",
                    f"a mirror pod may not reference secrets or service account tokens "
                    f"(volume {volume.name})",
                )
