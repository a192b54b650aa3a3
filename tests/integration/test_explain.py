"""``kubectl explain`` against a real apiserver: every field it lists has a description,
published from the API types' own documentation in the OpenAPI documents."""

from __future__ import annotations

import pytest

from apitypes import registry, schema
from testkit.kubectl import Kubectl

pytestmark = [pytest.mark.integration, pytest.mark.kubectl]

NO_DESCRIPTION = "<no description>"


def _explained(kubectl: Kubectl, what: str, *flags: str) -> str:
    out = kubectl("explain", what, *flags).stdout
    assert NO_DESCRIPTION not in out, f"kubectl explain {what}:\n{out}"
    return out


def test_explain_pod_containers_describes_every_field(kubectl: Kubectl) -> None:
    out = _explained(kubectl, "pod.spec.containers")
    assert "FIELD: containers <[]Container>" in out
    assert "livenessProbe\t<Probe>" in out
    # A field's own words, taken from apitypes.core.
    assert "The container image to run" in out


def test_explain_covers_top_level_and_spec_fields_of_every_served_kind(
    kubectl: Kubectl,
) -> None:
    for resource in registry.RESOURCES:
        name = resource.qualified
        out = _explained(kubectl, name)
        assert "DESCRIPTION:" in out and "FIELDS:" in out
        fields = schema.fields_of(resource.model)
        if "spec" in fields:
            _explained(kubectl, f"{name}.spec")
        if "status" in fields:
            _explained(kubectl, f"{name}.status")


@pytest.mark.parametrize(
    "what",
    [
        "deployment.spec.strategy.rollingUpdate",
        "pod.spec.affinity.nodeAffinity",
        "pod.spec.volumes.configMap",
        "service.spec.ports",
        "cronjob.spec.jobTemplate.spec.template.spec.securityContext",
        "pod.metadata",
    ],
)
def test_explain_deeper_fields(kubectl: Kubectl, what: str) -> None:
    _explained(kubectl, what)


def test_explain_from_the_openapi_v2_document_too(kubectl: Kubectl) -> None:
    out = _explained(kubectl, "pods.spec", "--output=plaintext-openapiv2")
    assert "The containers of the pod." in out
