"""DefaultTolerationSeconds: a new pod that does not tolerate the ``not-ready`` and
``unreachable`` NoExecute taints gets tolerations for them, for
``--default-not-ready-toleration-seconds`` and ``--default-unreachable-toleration-seconds``
(300 s), so that it is evicted from a failed node after that long. A toleration of the
pod's own counts when its key is the taint's (or empty) and its effect NoExecute (or
empty), as Kubernetes' plugin decides (``apitypes.scheduling.default_tolerations``, which
the taint-eviction controller applies too, for pods admitted without this plugin)."""

from __future__ import annotations

from apiserver.admission import CREATE, Attributes, Plugin
from apitypes.scheduling import default_tolerations


class DefaultTolerationSeconds(Plugin):
    name = "DefaultTolerationSeconds"

    async def admit(self, attrs: Attributes) -> None:
        if attrs.operation != CREATE or not attrs.is_("", "pods") or attrs.obj.spec is None:
            return
        attrs.obj.spec.tolerations = default_tolerations(
            attrs.obj,
            self.settings.default_not_ready_toleration_seconds,
            self.settings.default_unreachable_toleration_seconds,
        )
