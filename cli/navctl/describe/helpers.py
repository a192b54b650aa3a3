"""What every describe page is made of: the writer, the shared blocks, the events.

A page writes lines through a ``PrefixWriter`` (two spaces per level, cells separated
by tabs); the whole page is laid out by one ``TabWriter`` with kubectl's describe
settings (minimum width 0, padding 2), so columns align in blocks exactly as kubectl's
do. Events are found as kubectl finds them: by ``involvedObject`` field selectors.

A ``Page`` is what describes one kind: it fetches what its page shows besides the
object (pods, replica sets, endpoints, a lease) and renders it, asking ``EventSearch``
for the object's events.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cli.navctl.printing import TabWriter, age, parse_time
from cli.navctl.resources import resource

if TYPE_CHECKING:
    from cli.navctl.session import Session

SKIP_ANNOTATIONS = {"kubectl.kubernetes.io/last-applied-configuration"}
MAX_ANNOTATION_LEN = 140

EventSearch = Callable[..., Awaitable[list[dict[str, Any]] | None]]
"""The events about the object described (keywords as ``search_events``'s); None when
events are not shown (``--show-events=false``) or cannot be read."""

Page = Callable[["Session", dict[str, Any], EventSearch], Awaitable[str]]
"""Describes one object of a kind: fetches what its page needs, returns the page."""


class PrefixWriter:
    """kubectl's PrefixWriter: text at an indentation level, laid out when rendered."""

    def __init__(self) -> None:
        self._parts: list[str] = []

    def write(self, level: int, text: str) -> None:
        self._parts.append("  " * level + text)

    def line(self, text: str = "") -> None:
        self._parts.append(text + "\n")

    def raw(self) -> str:
        return "".join(self._parts)

    def render(self) -> str:
        writer = TabWriter(minwidth=0, padding=2)
        writer.write(self.raw())
        return writer.flush()


# --- shared blocks -----------------------------------------------------------------------


def rfc1123z(timestamp: str | None) -> str:
    """Go's ``time.RFC1123Z`` in local time: ``Mon, 02 Jan 2006 15:04:05 -0700``."""
    moment = parse_time(timestamp)
    if moment is None:
        return "<unknown>"
    return moment.astimezone().strftime("%a, %d %b %Y %H:%M:%S %z")


def labels_multiline(
    w: PrefixWriter, title: str, labels: dict[str, str] | None, indent: str = ""
) -> None:
    w.write(0, f"{indent}{title}:\t")
    keys = sorted(labels or {})
    if not keys:
        w.line("<none>")
        return
    for i, key in enumerate(keys):
        if i:
            w.write(0, f"{indent}\t")
        w.write(0, f"{key}={(labels or {})[key]}\n")


def annotations_multiline(w: PrefixWriter, title: str, annotations: dict[str, str] | None) -> None:
    w.write(0, f"{title}:\t")
    keys = sorted(k for k in (annotations or {}) if k not in SKIP_ANNOTATIONS)
    if not keys:
        w.line("<none>")
        return
    for i, key in enumerate(keys):
        if i:
            w.write(0, "\t")
        value = (annotations or {})[key].removesuffix("\n")
        if len(value) + len(key) + 2 > MAX_ANNOTATION_LEN or "\n" in value:
            w.write(0, f"{key}:\n")
            for part in value.split("\n"):
                shown = part
                if len(part) > MAX_ANNOTATION_LEN - 2:
                    shown = part[: MAX_ANNOTATION_LEN - 2] + "..."
                w.write(0, f"\t  {shown}\n")
        else:
            w.write(0, f"{key}: {value}\n")


def tolerations_multiline(
    w: PrefixWriter, title: str, tolerations: list[dict[str, Any]], indent: str = ""
) -> None:
    w.write(0, f"{indent}{title}:\t")
    if not tolerations:
        w.line("<none>")
        return
    for i, tol in enumerate(tolerations):
        if i:
            w.write(0, f"{indent}\t")
        text = tol.get("key", "")
        if tol.get("value"):
            text += f"={tol['value']}"
        if tol.get("effect"):
            text += f":{tol['effect']}"
        if tol.get("operator") == "Exists" and not tol.get("value"):
            text += " op=Exists" if tol.get("key") or tol.get("effect") else "op=Exists"
        if tol.get("tolerationSeconds") is not None:
            text += f" for {tol['tolerationSeconds']}s"
        w.write(0, text + "\n")


def controller_of(meta: dict[str, Any]) -> str:
    for ref in meta.get("ownerReferences") or []:
        if ref.get("controller"):
            return f"{ref.get('kind')}/{ref.get('name')}"
    return ""


def format_selector(selector: dict[str, Any] | None) -> str:
    """``metav1.FormatLabelSelector``: ``a=b,c in (d,e)``; ``<none>`` when empty."""
    if not selector:
        return "<none>"
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        op = expr.get("operator", "")
        values = ",".join(expr.get("values") or [])
        key = expr.get("key", "")
        if op == "In":
            parts.append(f"{key} in ({values})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({values})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
        else:
            parts.append(f"{key} {op} ({values})")
    return ",".join(parts) or "<none>"


# --- events ------------------------------------------------------------------------------


def _event_time(event: dict[str, Any]) -> datetime:
    """The sort key of an event on a page; events without any time sort first."""
    moment = parse_time(event.get("lastTimestamp")) or parse_time(event.get("eventTime"))
    return moment or datetime.min.replace(tzinfo=UTC)


def describe_events(w: PrefixWriter, events: list[dict[str, Any]] | None) -> None:
    if events is None:
        return
    if not events:
        w.write(0, "Events:\t<none>\n")
        return
    w.write(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n")
    w.write(1, "----\t------\t----\t----\t-------\n")
    for event in sorted(events, key=_event_time):
        first = (
            age(event.get("eventTime"))
            if event.get("eventTime")
            else age(event.get("firstTimestamp"))
        )
        series = event.get("series")
        if series:
            interval = (
                f"{age(series.get('lastObservedTime'))} (x{series.get('count', 0)} over {first})"
            )
        elif (event.get("count") or 0) > 1:
            interval = f"{age(event.get('lastTimestamp'))} (x{event['count']} over {first})"
        else:
            interval = first
        source = (event.get("source") or {}).get("component") or event.get("reportingComponent", "")
        message = str(event.get("message", "")).strip()
        w.write(
            1,
            f"{event.get('type', '')}\t{event.get('reason', '')}\t{interval}\t{source}\t{message}\n",
        )


async def search_events(
    session: Session, obj: dict[str, Any], *, with_kind: bool = True, uid: str | None = None
) -> list[dict[str, Any]]:
    """The events about ``obj``, found by ``involvedObject`` fields as kubectl finds them."""
    meta = obj.get("metadata") or {}
    selectors = [f"involvedObject.name={meta.get('name', '')}"]
    namespace = meta.get("namespace") or ""
    selectors.append(f"involvedObject.namespace={namespace}")
    if with_kind and obj.get("kind"):
        selectors.append(f"involvedObject.kind={obj['kind']}")
    the_uid = uid if uid is not None else meta.get("uid")
    if the_uid:
        selectors.append(f"involvedObject.uid={the_uid}")
    listed = await session.client.list_raw(
        resource("", "events"), namespace or None, all_namespaces=not namespace,
        field_selector=",".join(selectors),
    )  # fmt: skip
    return list(listed.get("items") or [])


async def list_items(
    session: Session, group: str, plural: str, namespace: str | None, **kwargs: Any
) -> list[dict[str, Any]]:
    """The items of a collection (one list request), for pages that show related objects."""
    listed = await session.client.list_raw(resource(group, plural), namespace, **kwargs)
    return list(listed.get("items") or [])
