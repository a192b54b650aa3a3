"""``serviceaccounts/<name>/token``: the TokenRequest API (a service-account token).

A TokenRequest names audiences (default: the API audiences), a lifetime
(``expirationSeconds``, 10 minutes at least, default an hour, capped by
``--service-account-max-token-expiration``) and optionally the object the token is
bound to (``boundObjectRef``: a Pod of this account, a Secret or a Node; its uid must be
the stored one). A pod-bound token also names the pod's node. Admission sees the
request (NodeRestriction: a kubelet asks only for tokens bound to its own pods). The
answer carries the token and its expiry; nothing is stored. Only served by an
apiserver with ``--service-account-signing-key-file``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from apiserver import errors, rest
from apiserver.authn.serviceaccount import MIN_EXPIRATION, BoundObject
from apiserver.registry.subresource import Subresource, SubresourceKind, Target
from apitypes.authentication import GROUP, TokenRequest
from apitypes.base import format_time
from apitypes.validation import FieldError, invalid, not_supported

BOUND_KINDS = {"Pod": "pods", "Secret": "secrets", "Node": "nodes"}
MAX_EXPIRATION = 1 << 32


class Token(Subresource):
    name = "token"
    verbs = ("create",)
    kind = SubresourceKind(GROUP, "v1", "TokenRequest", TokenRequest)

    async def serve(self, request: Request, target: Target) -> Response:
        security = target.backends.security
        if security is None or security.tokens is None:
            raise errors.not_found_path(request.url.path)
        namespace = target.namespace or ""
        body = await rest.read_object(request)
        try:
            token_request = TokenRequest.model_validate(body)
        except ValueError as err:
            raise errors.bad_request(f"invalid TokenRequest: {err}") from err
        spec = token_request.spec
        errs = _spec_errors(token_request)
        if errs:
            raise errors.invalid("TokenRequest", target.name, errs, GROUP)
        account = await target.store.get(namespace, target.name)
        bound, node = await self._bound(target, account, token_request)
        await self.admit(request, target, token_request)
        issued = security.tokens.issue(
            namespace=namespace,
            service_account=target.name,
            service_account_uid=account["metadata"].get("uid", ""),
            audiences=spec.audiences,
            expiration_seconds=spec.expiration_seconds,
            bound=bound,
            node=node,
        )
        out = token_request.to_dict()
        out["metadata"] = {"name": target.name, "namespace": namespace, "creationTimestamp": None}
        out["spec"] = {
            **out.get("spec", {}),
            "audiences": list(spec.audiences) or security.tokens.api_audiences,
            "expirationSeconds": issued.seconds,
        }
        out["status"] = {
            "token": issued.token,
            "expirationTimestamp": format_time(issued.expires),
        }
        return rest.JSONResponse(out, status_code=201)

    @staticmethod
    async def _bound(
        target: Target, account: dict[str, Any], token_request: TokenRequest
    ) -> tuple[BoundObject | None, BoundObject | None]:
        ref = token_request.spec.bound_object_ref
        if ref is None:
            return None, None
        plural = BOUND_KINDS[ref.kind or ""]
        namespace = None if plural == "nodes" else target.namespace
        store = target.backends.stores[("", plural)]
        try:
            obj = await store.get(namespace, ref.name or "")
        except errors.ApiError as err:
            if err.code == 404:
                raise errors.not_found(plural, ref.name or "") from err
            raise
        uid = obj["metadata"].get("uid", "")
        if ref.uid and ref.uid != uid:
            raise errors.conflict(
                plural,
                ref.name or "",
                "",
                f"the UID in the bound object reference ({ref.uid}) does not match the UID "
                f"in record ({uid}). The object might have been deleted and then recreated",
            )
        bound = BoundObject(ref.kind or "", ref.name or "", uid)
        if plural == "nodes":
            return None, bound
        node = None
        if plural == "pods":
            spec = obj.get("spec") or {}
            if (spec.get("serviceAccountName") or "default") != target.name:
                raise errors.bad_request(
                    f'cannot bind token for serviceaccount "{target.name}" to pod running '
                    "with different serviceaccount name."
                )
            node_name = spec.get("nodeName")
            if node_name:
                nodes = target.backends.stores[("", "nodes")]
                try:
                    found = await nodes.get(None, node_name)
                    node = BoundObject("Node", node_name, found["metadata"].get("uid", ""))
                except errors.ApiError as err:
                    if err.code != 404:
                        raise
        return bound, node


def _spec_errors(token_request: TokenRequest) -> list[FieldError]:
    errs: list[FieldError] = []
    seconds = token_request.spec.expiration_seconds
    if seconds is not None:
        if seconds < MIN_EXPIRATION:
            errs.append(
                invalid(
                    "spec.expirationSeconds",
                    seconds,
                    "may not specify a duration less than 10 minutes",
                )
            )
        elif seconds > MAX_EXPIRATION:
            errs.append(
                invalid(
                    "spec.expirationSeconds",
                    seconds,
                    "may not specify a duration larger than 2^32 seconds",
                )
            )
    ref = token_request.spec.bound_object_ref
    if ref is not None:
        if ref.kind not in BOUND_KINDS:
            errs.append(not_supported("spec.boundObjectRef.kind", ref.kind, list(BOUND_KINDS)))
        if ref.api_version not in (None, "", "v1"):
            errs.append(not_supported("spec.boundObjectRef.apiVersion", ref.api_version, ["v1"]))
        if not ref.name:
            errs.append(invalid("spec.boundObjectRef.name", "", "name is required"))
    return errs
