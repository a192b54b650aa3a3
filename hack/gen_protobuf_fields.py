"""Generate ``apitypes/protobuf_fields.json`` from Kubernetes' ``generated.proto`` files.

A development tool, never needed at run time: the generated file is committed. Run it
again when a model gains a field or a kind is added, and review the diff::

    python hack/gen_protobuf_fields.py ~/src/k8s.io/api ~/src/k8s.io/apimachinery \
        ~/src/k8s.io/kube-aggregator /tmp/api-v0.30.14 /tmp/apimachinery-v0.30.14

(the committed file names its sources in ``sources``; ``--label`` sets those names).
Each argument is a checkout of ``kubernetes/api``, ``kubernetes/apimachinery`` or
``kubernetes/kube-aggregator`` (APIService). The
first checkouts that define a message are authoritative; later ones (older releases)
only add fields a newer release removed but navarch's models still carry (a PodResourceClaim's
``source``). A name with two numbers is an error; a number a newer release renamed keeps
its newer name.

What it reads:

- every ``generated.proto``: message names, field names, numbers and types;
- the Go structs next to it (``types.go`` and friends), for facts protobuf files do
  not state: which fields are Go pointers (for those, a zero value sent on the wire
  means "set to zero", for the others it means "unset"), which non-pointer fields
  Go's JSON writes even when zero (no ``omitempty``: ``restartCount: 0``), and which
  are embedded inline in JSON but are a nested message on the wire (a Volume's
  ``VolumeSource``).

What it writes: for every model class reachable from the served kinds (and ``Status``,
``DeleteOptions``, ``PartialObjectMetadata``) its message name, and for each message
involved its field numbers, field types, pointer, always-written and inline fields. It fails,
naming them, when a model field has no protobuf field, or when one model class would
stand for two incompatible messages.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apitypes import meta, registry, schema  # noqa: E402
from apitypes.base import KubeObject  # noqa: E402

OUT = ROOT / "apitypes" / "protobuf_fields.json"

META = "k8s.io.apimachinery.pkg.apis.meta.v1"
RUNTIME = "k8s.io.apimachinery.pkg.runtime"
SPECIAL_MESSAGES = (
    f"{META}.Time",
    f"{META}.MicroTime",
    f"{META}.FieldsV1",
    f"{META}.WatchEvent",
    f"{RUNTIME}.Unknown",
    f"{RUNTIME}.TypeMeta",
    f"{RUNTIME}.RawExtension",
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString",
    "k8s.io.apimachinery.pkg.api.resource.Quantity",
)
"""Messages the codec handles by hand (scalars in JSON, envelopes); numbers still come
from here."""

SCALARS = frozenset(
    {
        "double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64",
        "fixed32", "fixed64", "sfixed32", "sfixed64", "bool", "string", "bytes",
    }
)  # fmt: skip


# --- reading generated.proto ---------------------------------------------------------------


@dataclass
class Message:
    name: str
    fields: dict[str, int] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    nullable: set[str] = field(default_factory=set)
    emitted: set[str] = field(default_factory=set)
    inline: set[str] = field(default_factory=set)
    source: str = ""


_PACKAGE = re.compile(r"^package\s+([\w.]+)\s*;")
_MESSAGE = re.compile(r"^message\s+(\w+)\s*\{")
_FIELD = re.compile(
    r"^\s*(?:(optional|repeated|required)\s+)?"
    r"(map\s*<\s*([\w.]+)\s*,\s*([\w.]+)\s*>|[\w.]+)\s+(\w+)\s*=\s*(\d+)\s*(?:\[[^\]]*\])?\s*;"
)


def _qualify(type_name: str, package: str) -> str:
    if type_name in SCALARS:
        return type_name
    if type_name.startswith("."):
        return type_name[1:]
    return f"{package}.{type_name}"


def read_proto(path: Path) -> list[Message]:
    package = ""
    messages: list[Message] = []
    current: Message | None = None
    for raw in path.read_text().splitlines():
        line = raw.split("//", 1)[0].rstrip()
        if not line.strip():
            continue
        if m := _PACKAGE.match(line):
            package = m.group(1)
        elif m := _MESSAGE.match(line):
            if current is not None:
                raise SystemExit(f"{path}: nested message {m.group(1)} is not expected")
            current = Message(f"{package}.{m.group(1)}", source=str(path))
        elif line.strip() == "}":
            if current is not None:
                messages.append(current)
            current = None
        elif current is not None:
            m = _FIELD.match(line)
            if m is None:
                raise SystemExit(f"{path}: cannot read field line {raw!r}")
            label, type_text, key, value, name, number = m.groups()
            if key is not None:
                kind = f"map<{_qualify(key, package)}, {_qualify(value, package)}>"
            else:
                kind = _qualify(type_text, package)
                if label == "repeated":
                    kind = f"repeated {kind}"
            current.fields[name] = int(number)
            current.types[name] = kind
    return messages


# --- reading the Go structs ----------------------------------------------------------------

_STRUCT = re.compile(r"^type\s+(\w+)\s+struct\s*\{")
_GO_FIELD = re.compile(r"^\s*(?:(\w+)\s+)?([^\s`]+)\s+`([^`]*)`")
_TAG = re.compile(r'(\w+):"([^"]*)"')


def read_go_structs(directory: Path, package: str, messages: dict[str, Message]) -> None:
    """Mark pointer, always-written and inline-embedded fields of the package's messages."""
    for path in sorted(directory.glob("*.go")):
        if path.name.endswith("_test.go") or path.name.startswith(("zz_", "generated")):
            continue
        struct: Message | None = None
        for line in path.read_text().splitlines():
            if m := _STRUCT.match(line):
                struct = messages.get(f"{package}.{m.group(1)}")
                continue
            if line.startswith("}"):
                struct = None
                continue
            if struct is None or "protobuf:" not in line:
                continue
            m = _GO_FIELD.match(line)
            if m is None:
                continue
            go_type = m.group(2)
            tags = dict(_TAG.findall(m.group(3)))
            parts = tags.get("protobuf", "").split(",")
            proto_name = next((p[5:] for p in parts if p.startswith("name=")), None)
            if proto_name is None and len(parts) > 1 and parts[1].isdigit():
                # ``protobuf:"bytes,1,req"`` (an embedded struct): known by its number.
                by_number = {n: f for f, n in struct.fields.items()}
                proto_name = by_number.get(int(parts[1]))
            if proto_name is None or proto_name not in struct.fields:
                continue
            json_tag = tags.get("json", "").split(",")
            if json_tag[0] and json_tag[0] not in ("-", proto_name):
                # Protobuf names a few fields otherwise than JSON (a BoundObjectReference's
                # ``uID`` is ``uid``): the table speaks JSON names.
                struct.fields[json_tag[0]] = struct.fields.pop(proto_name)
                struct.types[json_tag[0]] = struct.types.pop(proto_name)
                proto_name = json_tag[0]
            if go_type.startswith("*"):
                struct.nullable.add(proto_name)
            elif "omitempty" not in json_tag[1:] and m.group(1) is not None:
                struct.emitted.add(proto_name)
            # An embedded struct without a JSON name is inlined by encoding/json (older
            # releases also say ``json:",inline"``), while protobuf nests it.
            embedded = m.group(1) is None
            if embedded and json_tag[0] == "":
                struct.inline.add(proto_name)


def read_sources(roots: Iterable[Path]) -> dict[str, Message]:
    """Every message of the checkouts, the first checkout defining a message winning;
    fields only later checkouts have are added (numbers must not clash)."""
    merged: dict[str, Message] = {}
    for root in roots:
        found: dict[str, Message] = {}
        for proto in sorted(root.rglob("generated.proto")):
            messages = read_proto(proto)
            for message in messages:
                found[message.name] = message
            if messages:
                package = messages[0].name.rsplit(".", 1)[0]
                read_go_structs(proto.parent, package, {m.name: m for m in messages})
        for name, message in found.items():
            have = merged.get(name)
            if have is None:
                merged[name] = message
                continue
            for fname, number in message.fields.items():
                if fname in have.fields:
                    if have.fields[fname] != number:
                        raise SystemExit(f"{name}.{fname}: number {number} vs {have.fields[fname]}")
                    continue
                if number in have.fields.values():
                    continue  # a number reused under a new name: keep the newer one
                have.fields[fname] = number
                have.types[fname] = message.types[fname]
                if fname in message.nullable:
                    have.nullable.add(fname)
                if fname in message.emitted:
                    have.emitted.add(fname)
                if fname in message.inline:
                    have.inline.add(fname)
    return merged


# --- matching models to messages -----------------------------------------------------------


def _element(proto_type: str) -> str:
    """The message or scalar type of a field, without ``repeated``/``map<string, ...>``."""
    if proto_type.startswith("repeated "):
        return proto_type[len("repeated ") :]
    if proto_type.startswith("map<"):
        return proto_type[4:-1].split(", ", 1)[1]
    return proto_type


def _type_meta_fields(model: type[BaseModel]) -> set[str]:
    return {"apiVersion", "kind"} if issubclass(model, KubeObject) else set()


def _locate(messages: dict[str, Message], name: str, wire: str) -> list[str] | None:
    """The proto field path of JSON field ``wire`` of message ``name``: ``[wire]`` when
    the message has it, ``[inline, ..., wire]`` when an inline-embedded message has it."""
    message = messages[name]
    if wire in message.fields and wire not in message.inline:
        return [wire]
    for inline in sorted(message.inline):
        inner = _locate(messages, _element(message.types[inline]), wire)
        if inner is not None:
            return [inline, *inner]
    return None


def _nested_model(value_type: schema.TypeInfo) -> type[BaseModel] | None:
    node: schema.TypeInfo | None = value_type
    while node is not None:
        if node.model is not None:
            return node.model
        if node.wire_model is not None:
            return node.wire_model
        node = node.item
    return None


def qualname(model: type[BaseModel]) -> str:
    return f"{model.__module__}.{model.__qualname__}"


def match_models(
    messages: dict[str, Message], roots: list[tuple[type[BaseModel], str]]
) -> tuple[dict[str, str], set[str]]:
    """``{model qualname: message}`` for every model reachable from ``roots``, and the
    set of messages involved (with the inline messages they embed)."""
    assigned: dict[type[BaseModel], str] = {}
    used: set[str] = set()
    problems: list[str] = []
    pending = list(roots)
    while pending:
        model, name = pending.pop()
        if name not in messages:
            problems.append(f"{qualname(model)}: no message {name}")
            continue
        if model in assigned:
            if assigned[model] != name:
                _check_compatible(messages, model, assigned[model], name, problems)
            continue
        assigned[model] = name
        used.add(name)
        skip = _type_meta_fields(model)
        for wire, fs in schema.fields_of(model).items():
            if wire in skip:
                continue
            path = _locate(messages, name, wire)
            if path is None:
                problems.append(f"{qualname(model)}.{wire}: no field in {name}")
                continue
            holder = name
            for step in path[:-1]:
                holder = _element(messages[holder].types[step])
                used.add(holder)
            nested = _nested_model(fs.value_type)
            if nested is not None:
                pending.append((nested, _element(messages[holder].types[path[-1]])))
    if problems:
        raise SystemExit("protobuf fields missing:\n  " + "\n  ".join(sorted(problems)))
    return {qualname(m): n for m, n in sorted(assigned.items(), key=lambda i: qualname(i[0]))}, used


def _check_compatible(
    messages: dict[str, Message],
    model: type[BaseModel],
    first: str,
    second: str,
    problems: list[str],
) -> None:
    skip = _type_meta_fields(model)
    for wire in schema.fields_of(model):
        if wire in skip:
            continue
        a, b = _locate(messages, first, wire), _locate(messages, second, wire)
        if a is None or b is None or _numbers(messages, first, a) != _numbers(messages, second, b):
            problems.append(f"{qualname(model)} stands for {first} and {second}, which differ")
            return


def _numbers(messages: dict[str, Message], name: str, path: list[str]) -> list[int]:
    numbers = []
    for step in path:
        numbers.append(messages[name].fields[step])
        name = _element(messages[name].types[step])
    return numbers


# Groups whose messages live outside kubernetes/api (another checkout to pass).
_OTHER_PACKAGES = {
    "apiregistration.k8s.io": "k8s.io.kube_aggregator.pkg.apis.apiregistration",
}


def _kind_message(api_version: str, kind: str) -> str:
    group, _, version = api_version.rpartition("/")
    if group in ("meta.k8s.io", ""):
        package = META if group else "k8s.io.api.core.v1"
    elif group in _OTHER_PACKAGES:
        package = f"{_OTHER_PACKAGES[group]}.{version}"
    else:
        package = f"k8s.io.api.{group.split('.')[0]}.{version}"
    return f"{package}.{kind}"


def roots() -> list[tuple[type[BaseModel], str]]:
    found: list[tuple[type[BaseModel], str]] = []
    for r in registry.RESOURCES:
        found.append((r.model, _kind_message(r.api_version, r.kind)))
    for model in registry.SUBRESOURCE_KINDS.values():
        found.append((model, _kind_message(model.API_VERSION, model.KIND)))
    for model in (meta.Status, meta.DeleteOptions, meta.PartialObjectMetadata):
        found.append((model, f"{META}.{model.KIND}"))
    found.append((meta.ListMeta, f"{META}.ListMeta"))
    return found


def _commit(path: Path) -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def generate(sources: list[Path], labels: list[str]) -> dict[str, object]:
    messages = read_sources(sources)
    root_list = roots()
    models, used = match_models(messages, root_list)
    lists = {}
    for model, name in root_list:
        if issubclass(model, KubeObject) and f"{name}List" in messages:
            lists[qualname(model)] = f"{name}List"
            used.add(f"{name}List")
    used.update(SPECIAL_MESSAGES)
    missing = sorted(n for n in used if n not in messages)
    if missing:
        raise SystemExit(f"messages not found: {missing}")
    return {
        "comment": "Generated by hack/gen_protobuf_fields.py from Kubernetes' generated.proto "
        "files; do not edit.",
        "sources": labels,
        "models": models,
        "lists": dict(sorted(lists.items())),
        "messages": {
            name: {
                "fields": dict(sorted(messages[name].fields.items(), key=lambda i: i[1])),
                "types": dict(
                    sorted(messages[name].types.items(), key=lambda i: messages[name].fields[i[0]])
                ),
                "nullable": sorted(messages[name].nullable),
                "emitted": sorted(messages[name].emitted),
                "inline": sorted(messages[name].inline),
            }
            for name in sorted(used)
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "sources",
        nargs="+",
        type=Path,
        help="checkouts of kubernetes/api and kubernetes/apimachinery, newest first",
    )
    parser.add_argument(
        "--label",
        action="append",
        default=[],
        help="how to name each source in the output (default: its path and git commit)",
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    labels = list(args.label)
    for path in args.sources[len(labels) :]:
        commit = _commit(path)
        labels.append(f"{path.name}@{commit}" if commit else path.name)
    data = generate(args.sources, labels)
    args.out.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {args.out}: {len(data['models'])} models, {len(data['messages'])} messages")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
