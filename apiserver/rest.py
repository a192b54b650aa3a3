"""What every request handler shares: reading a request, answering it, and the generic
verbs on one object.

The resource handler (``handlers.py``) and the subresources (``apiserver.subresources``)
both use these, so that a subresource answers exactly as the main resource would: the
same body limits and decoding, ``dryRun`` and ``fieldValidation`` checks, patch types,
and renderings (JSON, Table, PartialObjectMetadata, ``Warning`` headers). Answers are
built as JSON; the resource handler has ``negotiation.answer`` write them as YAML or
protobuf for clients that asked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from apiserver import errors, negotiation, safedecode, tables
from apiserver.fieldmanager import manager_from_user_agent, validate_manager
from apiserver.filters import user_of
from apiserver.registry.store import DeleteOptions, ResourceStore, WriteOptions, WriteResult
from apitypes import meta
from apitypes import patch as patches
from apitypes.base import KubeModel, KubeObject
from apitypes.validation import FieldError, forbidden, required

if TYPE_CHECKING:
    from apiserver.registry.subresource import Subresource


class JSONResponse(Response):
    """A JSON body ending in a newline, as Kubernetes' encoder writes every one."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_APPEND_NEWLINE)


def status_response(err: errors.ApiError) -> Response:
    return JSONResponse(err.status(), status_code=err.code, headers=err.headers)


def created_status() -> Response:
    """The ``201`` Success ``Status`` of a request that creates nothing to return
    (a binding, an eviction)."""
    return JSONResponse(errors.status_body("Success", code=201), status_code=201)


def flag(value: str | None) -> bool:
    """A boolean query parameter (``true``/``1``)."""
    return value is not None and value.lower() in ("true", "1")


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
"""The range of Kubernetes' integer query parameters and options (Go's ``int64``)."""


def int_param(params: Any, name: str) -> int | None:
    """An integer query parameter; 400 when it is not one, or not an ``int64``."""
    raw = params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError as err:
        raise errors.bad_request(f"{name}: invalid value {raw!r}: must be an integer") from err
    if not INT64_MIN <= value <= INT64_MAX:
        raise errors.bad_request(f"{name}: invalid value {raw!r}: out of range for an int64")
    return value


def dry_run(values: Any, where: str = "dryRun") -> bool:
    """Whether ``dryRun`` (the query's values, or a body's list) asks for a dry run.

    Only ``All`` is valid, as in Kubernetes; anything else (``all``, ``true``, a number)
    is a 400 before anything is read or written, so a misspelt dry run never writes.
    """
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise errors.bad_request(f"{where}: must be a list of strings")
    for value in values:
        if value != "All":
            raise errors.bad_request(
                f'{where}: Unsupported value: "{value}": supported values: "All"'
            )
    return bool(values)


# --- reading a request ----------------------------------------------------------------


async def read_body(request: Request) -> bytes:
    """The request body; 413 beyond ``negotiation.MAX_BODY``."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > negotiation.MAX_BODY:
        raise errors.too_large(negotiation.MAX_BODY)
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > negotiation.MAX_BODY:
            raise errors.too_large(negotiation.MAX_BODY)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON or YAML object."""
    return negotiation.decode_object(await read_body(request), request.headers.get("content-type"))


_OPTIONS_KIND = {"POST": "CreateOptions", "PUT": "UpdateOptions", "PATCH": "PatchOptions"}


def write_options(request: Request, *, subresource: str = "") -> WriteOptions:
    """``dryRun``, ``fieldValidation`` and ``fieldManager`` of a write; 400 for values
    Kubernetes refuses, 422 for a ``fieldManager`` it refuses. The manager of a write
    that names none is its ``User-Agent``'s first word, as in Kubernetes.
    ``subresource``: what the write is recorded under in ``managedFields`` when the
    store is not told (a ``scale`` write)."""
    params = request.query_params
    dry = dry_run(params.getlist("dryRun"))
    validation = params.get("fieldValidation") or "Warn"
    if validation not in ("Ignore", "Warn", "Strict"):
        raise errors.bad_request(
            f'fieldValidation: Unsupported value: "{validation}": supported values: '
            '"Ignore", "Strict", "Warn"'
        )
    manager = params.get("fieldManager") or ""
    errs = validate_manager(manager)
    if errs:
        kind = _OPTIONS_KIND.get(request.method, "UpdateOptions")
        raise errors.invalid(kind, "", errs, "meta.k8s.io")
    if not manager:
        manager = manager_from_user_agent(request.headers.get("user-agent", ""))
    return WriteOptions(
        dry_run=dry,
        field_validation=validation,
        field_manager=manager,
        subresource=subresource,
        user=user_of(request.scope),
    )


M = TypeVar("M", bound=KubeModel)


def decode_as(model: type[M], body: Any, what: str) -> M:
    """``body`` as ``model``, for the request bodies that are options or actions
    (DeleteOptions, Binding, Eviction) rather than stored objects: a malformed one is a
    400 naming the first wrong field, as Kubernetes' decoder answers."""
    if not isinstance(body, dict):
        raise errors.bad_request(f"{what}: must be an object")
    try:
        return model.model_validate(body)
    except ValidationError as err:
        first = err.errors()[0]
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
        raise errors.bad_request(f"{what}{field}: {first['msg']}") from err


_PROPAGATION_POLICIES = ("Background", "Foreground", "Orphan")


def decode_delete_options(body: Any, where: str = "DeleteOptions") -> meta.DeleteOptions:
    """A ``DeleteOptions`` body (of a DELETE, or an Eviction's ``deleteOptions``);
    400 naming the field when it is malformed (``preconditions: "x"``, ``dryRun: 5``)."""
    opts = decode_as(meta.DeleteOptions, body, where)
    grace = opts.grace_period_seconds
    if grace is not None and not INT64_MIN <= grace <= INT64_MAX:
        raise errors.bad_request(f"{where}.gracePeriodSeconds: out of range for an int64")
    dry_run(opts.dry_run, f"{where}.dryRun")
    _check_policy(opts.propagation_policy)
    return opts


def _check_policy(policy: str | None) -> None:
    if policy is not None and policy not in _PROPAGATION_POLICIES:
        raise errors.bad_request(
            f'propagationPolicy: Unsupported value: "{policy}": supported values: '
            '"Background", "Foreground", "Orphan"'
        )


async def delete_options(request: Request) -> DeleteOptions:
    """The options of a DELETE: the query's, else those of a ``DeleteOptions`` body.
    Every malformed or unsupported value is a 400 before anything is deleted."""
    raw = await read_body(request)
    body = meta.DeleteOptions()
    if raw.strip():
        decoded = negotiation.decode_body(raw, request.headers.get("content-type"))
        body = decode_delete_options(decoded)
    params = request.query_params
    grace = int_param(params, "gracePeriodSeconds")
    if grace is None:
        grace = body.grace_period_seconds
    policy = params.get("propagationPolicy") or body.propagation_policy
    orphan = params.get("orphanDependents")
    orphan_flag = flag(orphan) if orphan is not None else body.orphan_dependents
    if policy is None and orphan_flag is not None:
        policy = "Orphan" if orphan_flag else "Background"
    _check_policy(policy)
    query_dry_run = dry_run(params.getlist("dryRun"))
    pre = body.preconditions or meta.Preconditions()
    return DeleteOptions(
        grace_period_seconds=grace,
        precondition_uid=pre.uid,
        precondition_resource_version=pre.resource_version,
        propagation_policy=policy,
        dry_run=query_dry_run or bool(body.dry_run),
        user=user_of(request.scope),
    )


def patcher(
    request: Request, model: type[KubeObject], raw: bytes
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A function applying the request's patch (JSON, merge or strategic merge, as its
    content type says) to a wire-form object of ``model``."""
    ctype = negotiation.media_type(request.headers.get("content-type"))
    if ctype not in negotiation.PATCH_TYPES:
        raise errors.unsupported_media_type(ctype, negotiation.PATCH_TYPES)
    patch_body = negotiation.decode_body(raw, "application/json")

    def patched(current: dict[str, Any]) -> dict[str, Any]:
        if ctype == negotiation.JSON_PATCH:
            if not isinstance(patch_body, list):
                raise errors.bad_request("a JSON patch must be a list of operations")
            return patches.apply_json_patch(current, patch_body)
        if not isinstance(patch_body, dict):
            raise errors.bad_request("a merge patch must be a JSON object")
        if ctype == negotiation.MERGE_PATCH:
            return patches.apply_merge_patch(current, patch_body)
        # The store hands every attempt a private copy of the object.
        return patches.apply_strategic_merge_patch(current, patch_body, model, in_place=True)

    def apply(current: dict[str, Any]) -> dict[str, Any]:
        try:
            result = patched(current)
            if ctype == negotiation.JSON_PATCH:
                # A merge patch nests no deeper than the object or the patch (each
                # within the budget); a JSON patch may add a nested value at a nested path.
                safedecode.check_depth(result)
        except (patches.PatchError, safedecode.BodyError) as err:
            raise errors.ApiError(422, "Invalid", str(err)) from err
        return result

    return apply


# --- answering ------------------------------------------------------------------------


def render(
    request: Request,
    store: ResourceStore,
    obj: dict[str, Any],
    *,
    status_code: int = 200,
    warnings: list[str] | None = None,
) -> Response:
    """One object in the form the ``Accept`` header asks for."""
    target = negotiation.negotiate(request.headers.get("accept"))
    body: Any = obj
    if target.form == "Table":
        body = tables.table(
            store.strategy,
            [obj],
            version=target.version,
            include_object=request.query_params.get("includeObject", "Metadata"),
        )
    elif target.form in ("PartialObjectMetadata", "PartialObjectMetadataList"):
        body = tables.partial_metadata(obj, target.version)
    response = JSONResponse(body, status_code=status_code)
    for w in warnings or ():
        response.headers.append("Warning", negotiation.warning_header(w))
    return response


def render_write(request: Request, store: ResourceStore, result: WriteResult) -> Response:
    """The object a write stored: 201 if the write created it, else 200."""
    code = 201 if result.created else 200
    return render(request, store, result.obj, status_code=code, warnings=result.warnings)


# --- the generic verbs on one object (the main resource, and ObjectSubresources) ----------


async def get_object(
    request: Request, store: ResourceStore, namespace: str | None, name: str
) -> Response:
    return render(request, store, await store.get(namespace, name))


async def update_object(
    request: Request,
    store: ResourceStore,
    namespace: str | None,
    name: str,
    *,
    subresource: Subresource | None = None,
) -> Response:
    body = await read_object(request)
    result = await store.update(
        namespace, name, body, write_options(request), subresource=subresource
    )
    return render_write(request, store, result)


async def patch_object(
    request: Request,
    store: ResourceStore,
    namespace: str | None,
    name: str,
    *,
    subresource: Subresource | None = None,
) -> Response:
    """A PATCH of the object: a JSON, merge or strategic merge patch, or a server-side
    apply (``application/apply-patch+yaml``, which needs a ``fieldManager`` and takes
    ``force``)."""
    ctype = negotiation.media_type(request.headers.get("content-type"))
    if ctype not in (*negotiation.PATCH_TYPES, negotiation.APPLY_PATCH):
        raise errors.unsupported_media_type(
            ctype, (*negotiation.PATCH_TYPES, negotiation.APPLY_PATCH)
        )
    raw = await read_body(request)
    params = request.query_params
    opts = write_options(request)
    if ctype == negotiation.APPLY_PATCH:
        if not params.get("fieldManager"):
            raise _invalid_patch_options(required("fieldManager", "is required for apply patch"))
        config = negotiation.decode_object(raw, ctype)
        force = flag(params.get("force"))
        result = await store.apply(
            namespace, name, config, opts, force=force, subresource=subresource
        )
        return render_write(request, store, result)
    if "force" in params:
        raise _invalid_patch_options(forbidden("force", "may not be specified for non-apply patch"))
    apply = patcher(request, store.model, raw)
    result = await store.patch(namespace, name, apply, opts, subresource=subresource)
    return render_write(request, store, result)


def _invalid_patch_options(error: FieldError) -> errors.ApiError:
    return errors.invalid("PatchOptions", "", [error], "meta.k8s.io")
