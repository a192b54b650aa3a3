"""ServiceAccount: metadata only; SECRETS counts its secrets; ``token`` issues its tokens
(the TokenRequest API)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apiserver.kinds.common import CoreStrategy
from apiserver.kinds.printers import AGE_COLUMN
from apiserver.registry.strategy import Column, age
from apiserver.subresources.token import Token
from apitypes import registry
from apitypes.core import ServiceAccount


class ServiceAccountStrategy(CoreStrategy):
    resource = registry.resource("", "serviceaccounts")
    subresources = (Token(),)
    columns = (
        Column("Secrets", description="Secrets is a list of the secrets in the same namespace."),
        AGE_COLUMN,
    )

    def row(self, obj: ServiceAccount) -> Sequence[Any]:
        return [len(obj.secrets), age(obj.metadata.creation_timestamp)]
