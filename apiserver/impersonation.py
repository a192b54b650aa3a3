"""Impersonation, as Kubernetes' ``WithImpersonation`` filter does it.

A request may ask to act as another user with the headers ``Impersonate-User``,
``Impersonate-Uid``, ``Impersonate-Group`` (repeatable) and ``Impersonate-Extra-<key>``
(repeatable; the key percent-encoded). The authenticated user must be allowed the
verb ``impersonate`` on each part: ``users`` (or ``serviceaccounts`` in its namespace,
for a ``system:serviceaccount:<ns>:<name>`` user), ``groups``, ``uids`` and
``userextras/<key>`` (the last two in ``authentication.k8s.io``), named by the value.
Then the request goes on as that user: with the groups asked for plus
``system:authenticated`` (``system:unauthenticated`` for ``system:anonymous``; a
service account without groups gets its own two), and only the extras asked for.
Groups, extras or a uid without a user are a 400; a part not allowed is a 403 naming
it, and the request goes no further.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote

from apiserver import errors
from apiserver.authz import Attributes, Authorizer
from apiserver.authz.union import forbidden_message
from apiserver.user import (
    ALL_AUTHENTICATED,
    ALL_UNAUTHENTICATED,
    ANONYMOUS,
    UserInfo,
    service_account_groups,
    split_service_account,
)

USER = "impersonate-user"
UID = "impersonate-uid"
GROUP = "impersonate-group"
EXTRA_PREFIX = "impersonate-extra-"
AUTHENTICATION_GROUP = "authentication.k8s.io"


def requested(headers: Iterable[tuple[bytes, bytes]]) -> dict[str, list[str]] | None:
    """The impersonation headers of a request, by lower-cased name (None: none)."""
    found: dict[str, list[str]] = {}
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").lower()
        if name in (USER, UID, GROUP) or name.startswith(EXTRA_PREFIX):
            found.setdefault(name, []).append(raw_value.decode("latin-1"))
    return found or None


def _check(requester: UserInfo, verb_on: tuple[str, str, str, str]) -> Attributes:
    group, resource, namespace, name = verb_on
    subresource = ""
    if "/" in resource:
        resource, subresource = resource.split("/", 1)
    return Attributes(
        user=requester,
        verb="impersonate",
        is_resource_request=True,
        namespace=namespace,
        api_group=group,
        resource=resource,
        subresource=subresource,
        name=name,
    )


async def impersonate(
    requester: UserInfo, headers: dict[str, list[str]], authorizer: Authorizer
) -> UserInfo:
    """The user ``requester`` acts as; ``ApiError`` 400 or 403 when it may not."""
    users = headers.get(USER, [])
    groups = headers.get(GROUP, [])
    uids = headers.get(UID, [])
    extras = {
        unquote(name.removeprefix(EXTRA_PREFIX)): values
        for name, values in headers.items()
        if name.startswith(EXTRA_PREFIX)
    }
    if len(users) > 1 or len(uids) > 1:
        raise errors.bad_request("only one Impersonate-User and one Impersonate-Uid may be given")
    if not users or not users[0]:
        raise errors.bad_request(
            "requested impersonation of groups, extras or a uid without impersonating a user"
        )
    username = users[0]
    wanted: list[tuple[str, str, str, str]] = []
    service_account = split_service_account(username)
    if service_account is not None:
        namespace, name = service_account
        wanted.append(("", "serviceaccounts", namespace, name))
    else:
        wanted.append(("", "users", "", username))
    wanted += [("", "groups", "", group) for group in groups]
    wanted += [(AUTHENTICATION_GROUP, "uids", "", uid) for uid in uids]
    for key, values in extras.items():
        wanted += [(AUTHENTICATION_GROUP, f"userextras/{key}", "", value) for value in values]
    for part in wanted:
        attrs = _check(requester, part)
        decision = await authorizer.authorize(attrs)
        if not decision.allowed:
            raise errors.ApiError(
                403,
                "Forbidden",
                forbidden_message(attrs, decision.reason),
                details={"kind": attrs.resource, "name": attrs.name, "group": attrs.api_group},
            )
    final_groups = list(groups)
    if service_account is not None and not final_groups:
        final_groups = list(service_account_groups(service_account[0]))
    extra_group = ALL_UNAUTHENTICATED if username == ANONYMOUS else ALL_AUTHENTICATED
    if extra_group not in final_groups:
        final_groups.append(extra_group)
    return UserInfo(
        username,
        uids[0] if uids else "",
        tuple(final_groups),
        {key: tuple(values) for key, values in extras.items()},
    )
