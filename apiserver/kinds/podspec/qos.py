"""Which resources decide a pod's QoS class (the class itself is
``apitypes.resources.pod_qos_class``, shared with the scheduler, kubelet and navctl)."""

from __future__ import annotations

QOS_RESOURCES = ("cpu", "memory")
