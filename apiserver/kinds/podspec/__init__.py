"""Pod specs: Kubernetes 1.30's defaults, validation, update rules and QoS class.

Shared by the Pod strategy and by every workload whose object carries a pod template
(Deployments, Jobs, ...), so that a template is defaulted and refused exactly as the pods
stamped from it would be. One module per part of the spec:

- ``defaults``: ``default_pod_spec(spec)`` applies what every ``PodSpec`` gets,
  templates included; ``default_pod_spec(spec, pod=True)`` adds what only real pods get;
- ``spec``: the whole spec (``validate_pod_spec``) and a workload's template, calling
  ``containers`` (with ``probes`` and ``security``), ``volumes`` (with ``downwardapi``),
  ``resources``, ``affinity``, ``tolerations``;
- ``update``: what may change in a pod's spec after create;
- ``qos``: the pod's QoS class;
- ``checks``: small checks the others share.

Validation returns ``FieldError`` lists with Kubernetes' field paths and wording; paths
are built below the ``FieldPath`` the caller passes (``spec`` for a pod,
``spec.template.spec`` for a Deployment). Values Kubernetes' decoder would refuse before
validation (a malformed quantity) are reported here as ordinary field errors.
"""

from __future__ import annotations

from apiserver.kinds.podspec.defaults import (
    DEFAULT_SCHEDULER_NAME,
    DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS,
    default_pod_spec,
    default_pod_template_spec,
    default_resource_list,
    image_pull_policy_for,
)
from apiserver.kinds.podspec.resources import (
    parse_quantity_field,
    validate_quantity_value,
    validate_resource_requirements,
)
from apiserver.kinds.podspec.spec import validate_pod_spec, validate_pod_template_spec
from apiserver.kinds.podspec.tolerations import validate_taint_effect, validate_tolerations
from apiserver.kinds.podspec.update import validate_pod_spec_update

__all__ = [
    "DEFAULT_SCHEDULER_NAME",
    "DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS",
    "default_pod_spec",
    "default_pod_template_spec",
    "default_resource_list",
    "image_pull_policy_for",
    "parse_quantity_field",
    "validate_pod_spec",
    "validate_pod_spec_update",
    "validate_pod_template_spec",
    "validate_quantity_value",
    "validate_resource_requirements",
    "validate_taint_effect",
    "validate_tolerations",
]
