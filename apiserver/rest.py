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
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from apiserver import errors, negotiation, tables
from apiserver.fieldmanager import manager_from_user_agent, validate_manager
from apiserver.registry.store import ResourceStore, WriteOptions, WriteResult
from apitypes import patch as patches
from apitypes.base import KubeObject
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


def int_param(params: Any, name: str) -> int | None:
    """An integer query parameter; 400 when it is not one."""
    raw = params.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError as err:
        raise errors.bad_request(f"{name}: invalid value {raw!r}: must be an integer") from err


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
    dry_run = params.getlist("dryRun")
    for value in dry_run:
        if value != "All":
            raise errors.bad_request(
                f'dryRun: Unsupported value: "{value}": supported values: "All"'
            )
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
        dry_run=bool(dry_run),
        field_validation=validation,
        field_manager=manager,
        subresource=subresource,
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

    def apply(current: dict[str, Any]) -> dict[str, Any]:
        try:
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
        except patches.PatchError as err:
            raise errors.ApiError(422, "Invalid", str(err)) from err

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
