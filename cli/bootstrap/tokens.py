"""``navarch token create|list|delete|generate``: bootstrap tokens after ``init``, as
``kubeadm token`` manages them.

A token is a Secret ``kube-system/bootstrap-token-<id>`` (``pki.bootstraptoken``); the
controller-manager's bootstrap signer signs ``cluster-info`` for every token usable for
signing, and its token cleaner deletes expired ones. ``init`` makes one token with a
24 h life; joining hosts later needs a new one, and ``create --print-join-command``
prints the whole ``navarch join`` line for it: the server and the CA's hash come from
the kubeconfig used (``/etc/navarch/admin.conf`` on the control-plane host).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from apiclient.config import ClientConfig
from apitypes.duration import go_duration_error, human_duration, parse_go_duration
from pki import bootstraptoken as bt

_SECRETS = f"/api/v1/namespaces/{bt.SECRET_NAMESPACE}/secrets"


def parse_ttl(text: str) -> datetime.timedelta | None:
    """A Go duration, as ``time.ParseDuration`` reads it (``24h``, ``1h30m``, ``90s``,
    ``24h0m0s``); zero: the token never expires (None). Raises TokenError naming the
    form expected for anything else, a negative duration included."""
    value = text.strip()
    if go_duration_error(value) is not None or value.startswith("-"):
        raise bt.TokenError(f"--ttl {text!r}: expected a duration such as 24h, 1h30m or 0 (never)")
    seconds = parse_go_duration(value)
    return datetime.timedelta(seconds=seconds) if seconds else None


def split_list(values: Iterable[str]) -> tuple[str, ...]:
    """Repeated and comma-separated flag values, in order, without blanks."""
    return tuple(p.strip() for item in values for p in item.split(",") if p.strip())


@dataclass(frozen=True)
class TokenRow:
    """One bootstrap token as ``list`` shows it."""

    token: str
    expires: datetime.datetime | None
    usages: tuple[str, ...]
    description: str
    groups: tuple[str, ...]

    def ttl(self, now: datetime.datetime) -> str:
        if self.expires is None:
            return "<forever>"
        left = (self.expires - now).total_seconds()
        return human_duration(left) if left > 0 else "<expired>"


def create(
    api: httpx.Client,
    token: bt.Token,
    *,
    now: datetime.datetime,
    ttl: datetime.timedelta | None,
    usages: tuple[str, ...],
    groups: tuple[str, ...],
    description: str,
) -> None:
    """Register ``token``; raises TokenError for bad settings (nothing is written) and
    RuntimeError when the API refuses (a token with that id exists: 409)."""
    manifest = bt.secret_manifest(
        token, now=now, ttl=ttl, groups=groups, usages=usages, description=description
    )
    resp = api.post(_SECRETS, json=manifest)
    if resp.status_code == 409:
        raise RuntimeError(f"a bootstrap token with id {token.id!r} exists already")
    if resp.status_code >= 300:
        raise RuntimeError(f"cannot create the token: {_reason(resp)}")


def _decode(data: dict[str, str]) -> dict[str, str]:
    out = {}
    for key, value in data.items():
        try:
            out[key] = base64.b64decode(value).decode()
        except (binascii.Error, UnicodeDecodeError):
            out[key] = ""
    return out


def rows(api: httpx.Client) -> list[TokenRow]:
    """Every well-formed bootstrap token Secret, by id."""
    resp = api.get(_SECRETS)
    if resp.status_code != 200:
        raise RuntimeError(f"cannot list the tokens: {_reason(resp)}")
    found = []
    for item in resp.json().get("items") or []:
        if item.get("type") != bt.SECRET_TYPE:
            continue
        data = _decode(item.get("data") or {})
        try:
            token = bt.parse(f"{data.get('token-id', '')}.{data.get('token-secret', '')}")
        except bt.TokenError:
            continue  # not a usable token: the authenticator ignores it too
        if item["metadata"]["name"] != token.secret_name:
            continue
        raw = {k: v.encode() for k, v in data.items()}
        found.append(
            TokenRow(
                token=str(token),
                expires=bt.expiration(raw),
                usages=tuple(u for u in bt.USAGES if data.get(f"usage-bootstrap-{u}") == "true"),
                description=data.get("description", ""),
                groups=split_list([data.get("auth-extra-groups", "")]),
            )
        )
    return sorted(found, key=lambda r: r.token)


def table(found: list[TokenRow], now: datetime.datetime) -> list[str]:
    """``kubeadm token list``'s columns, aligned."""
    head = ("TOKEN", "TTL", "EXPIRES", "USAGES", "DESCRIPTION", "EXTRA GROUPS")
    body = [
        (
            r.token,
            r.ttl(now),
            bt.rfc3339(r.expires) if r.expires else "<never>",
            ",".join(r.usages) or "<none>",
            r.description or "<none>",
            ",".join(r.groups) or "<none>",
        )
        for r in found
    ]
    widths = [max(len(row[i]) for row in (head, *body)) for i in range(len(head))]
    return ["   ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in (head, *body)]  # fmt: skip


def token_id(text: str) -> str:
    """The id of ``<id>`` or ``<id>.<secret>``; raises TokenError."""
    value = text.strip()
    if re.fullmatch(r"[a-z0-9]{6}", value):
        return value
    return bt.parse(value).id


def delete(api: httpx.Client, ident: str) -> None:
    """Delete the token with id ``ident``; RuntimeError when there is none."""
    resp = api.delete(f"{_SECRETS}/{bt.SECRET_PREFIX}{ident}")
    if resp.status_code == 404:
        raise RuntimeError(f"bootstrap token {ident!r} not found")
    if resp.status_code >= 300:
        raise RuntimeError(f"cannot delete token {ident!r}: {_reason(resp)}")


def join_command(config: ClientConfig, token: bt.Token) -> str:
    """The ``navarch join`` line for ``token``: the kubeconfig's server and the hash of
    its CA. Raises RuntimeError when the kubeconfig has no CA to hash."""
    if not config.ca_file:
        raise RuntimeError("the kubeconfig names no certificate authority: cannot print its hash")
    ca_hash = bt.ca_cert_hash(Path(config.ca_file).read_bytes())
    parts = urlsplit(config.server)
    endpoint = parts.netloc or config.server
    return f"navarch join {endpoint} --token {token} --discovery-token-ca-cert-hash {ca_hash}"


def _reason(resp: httpx.Response) -> str:
    try:
        body: Any = resp.json()
    except ValueError:
        return f"{resp.status_code} {resp.text.strip()[:200]}"
    return f"{resp.status_code} {body.get('message') if isinstance(body, dict) else body}"
