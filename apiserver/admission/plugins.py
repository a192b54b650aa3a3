"""The admission plugins navarch has, in Kubernetes' order, and which run by default.

``--enable-admission-plugins`` adds to the defaults, ``--disable-admission-plugins``
removes from them (Kubernetes' flags); the order is always this one.
"""

from __future__ import annotations

from collections.abc import Sequence

from apiserver.admission import Chain, Lookup, Plugin, Settings
from apiserver.admission.certificates import (
    CertificateApproval,
    CertificateSigning,
    CertificateSubjectRestriction,
)
from apiserver.admission.defaulttolerationseconds import DefaultTolerationSeconds
from apiserver.admission.limitranger import LimitRanger
from apiserver.admission.namespacelifecycle import NamespaceLifecycle
from apiserver.admission.noderestriction import NodeRestriction
from apiserver.admission.podsecurity import PodSecurity
from apiserver.admission.resourcequota import ResourceQuotaPlugin
from apiserver.admission.serviceaccount import ServiceAccount

ORDER: tuple[type[Plugin], ...] = (
    NamespaceLifecycle,
    LimitRanger,
    ServiceAccount,
    NodeRestriction,
    PodSecurity,
    DefaultTolerationSeconds,
    CertificateApproval,
    CertificateSigning,
    CertificateSubjectRestriction,
    ResourceQuotaPlugin,
)
"""Every plugin, in the order Kubernetes runs them (ResourceQuota last: it charges the
quota only for what every other plugin let through)."""

DEFAULT_ON = (
    "NamespaceLifecycle",
    "LimitRanger",
    "ServiceAccount",
    "PodSecurity",
    "DefaultTolerationSeconds",
    "CertificateApproval",
    "CertificateSigning",
    "CertificateSubjectRestriction",
    "ResourceQuota",
)
"""What runs without flags (Kubernetes' defaults that navarch has; NodeRestriction is
off by default there too)."""


def names() -> list[str]:
    return [p.name for p in ORDER]


def chain(
    lookup: Lookup,
    settings: Settings,
    *,
    enable: Sequence[str] = (),
    disable: Sequence[str] = (),
) -> Chain:
    """The chain the flags ask for; ValueError naming a plugin navarch does not have."""
    known = set(names())
    for name in (*enable, *disable):
        if name not in known:
            raise ValueError(f"unknown admission plugin {name!r}; known: {', '.join(names())}")
    wanted = (set(DEFAULT_ON) | set(enable)) - set(disable)
    return Chain([cls(lookup, settings) for cls in ORDER if cls.name in wanted])
