"""Reading manifests as ``kubectl -f`` reads them.

``-f`` takes files, directories (their ``.yaml``, ``.yml`` and ``.json`` files in name
order; ``-R`` descends), and ``-`` for stdin. A file may hold several YAML documents;
``kind: List`` (or any ``...List`` with ``items``) expands into its items. YAML is read
as kubectl reads it (YAML 1.1 scalars, but timestamps stay strings and keys become
strings, since the result must be JSON).

Errors name the file and the problem, in one line. ``set_namespace`` settles the
namespace an object from a manifest goes to, as kubectl settles it.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from cli.navctl.errors import fail

if TYPE_CHECKING:
    from apitypes.registry import ResourceType

EXTENSIONS = (".yaml", ".yml", ".json")


@dataclass
class Manifest:
    """One object from a manifest and where it came from."""

    source: str
    obj: dict[str, Any]

    @property
    def api_version(self) -> str:
        return str(self.obj.get("apiVersion") or "")

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind") or "")

    @property
    def name(self) -> str:
        return str((self.obj.get("metadata") or {}).get("name") or "")

    @property
    def namespace(self) -> str:
        return str((self.obj.get("metadata") or {}).get("namespace") or "")


class _Loader(yaml.SafeLoader):
    """YAML 1.1 as sigs.k8s.io/yaml reads it: no timestamp type (JSON has none), and
    keys turned into strings as they are read (so ``1`` and ``true`` stay two keys)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        self.flatten_mapping(node)
        mapping: dict[Hashable, Any] = {}
        for key_node, value_node in node.value:
            key = _key(self.construct_object(key_node, deep=deep))
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _jsonify(value: Any) -> Any:
    if isinstance(value, dict):
        return {_key(k): _jsonify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonify(v) for v in value]
    if isinstance(value, bytes):
        import base64

        return base64.b64encode(value).decode()
    return value


def _key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)


def parse_documents(text: str, source: str) -> list[dict[str, Any]]:
    """The objects in ``text`` (YAML or JSON, one or many documents, Lists expanded)."""
    try:
        docs = list(yaml.load_all(text, Loader=_Loader))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        fail(f"error parsing {source}: {problem}{where}")
    objects: list[dict[str, Any]] = []
    for doc in docs:
        if doc is None:
            continue
        if not isinstance(doc, dict):
            fail(
                f"error validating {source!r}: a manifest must be a mapping, not {type(doc).__name__}"
            )
        data = _jsonify(doc)
        kind = str(data.get("kind") or "")
        if kind.endswith("List") and isinstance(data.get("items"), list):
            for item in data["items"]:
                if isinstance(item, dict):
                    objects.append(item)
            continue
        objects.append(data)
    return objects


def validate(manifest: Manifest) -> None:
    """kubectl's client-side check that an object names its type and itself."""
    missing = [key for key in ("apiVersion", "kind") if not manifest.obj.get(key)]
    if missing:
        problems = ", ".join(f"{key} not set" for key in missing)
        fail(f'error validating "{manifest.source}": error validating data: [{problems}]')


def _files(path: Path, recursive: bool) -> list[Path]:
    if not path.exists():
        fail(f'the path "{path}" does not exist')
    if path.is_file():
        return [path]
    found: list[Path] = []
    for child in sorted(path.iterdir()):
        if child.is_dir():
            if recursive:
                found.extend(_files(child, recursive))
        elif child.suffix in EXTENSIONS:
            found.append(child)
    return found


def load(
    paths: list[str], *, recursive: bool = False, stdin: str | None = None, verb: str = "apply"
) -> list[Manifest]:
    """Every object named by ``-f`` arguments, in order."""
    if not paths:
        fail("must specify one of -f and -k")
    manifests: list[Manifest] = []
    for arg in paths:
        if arg == "-":
            text = stdin if stdin is not None else sys.stdin.read()
            manifests.extend(Manifest("STDIN", obj) for obj in parse_documents(text, "STDIN"))
            continue
        if arg.startswith(("http://", "https://")):
            fail(f"{arg}: reading manifests from URLs is not supported; download the file first")
        for path in _files(Path(arg), recursive):
            text = path.read_text()
            manifests.extend(Manifest(str(path), obj) for obj in parse_documents(text, str(path)))
    if not manifests:
        fail(f"no objects passed to {verb}")
    return manifests


def set_namespace(
    manifest: Manifest, rtype: ResourceType, namespace: str, explicit: bool
) -> dict[str, Any]:
    """The object to send, with its namespace settled as kubectl settles it."""
    obj = copy.deepcopy(manifest.obj)
    if not rtype.namespaced:
        return obj
    meta = obj.setdefault("metadata", {})
    own = meta.get("namespace")
    if own and explicit and own != namespace:
        fail(
            f'the namespace from the provided object "{own}" does not match the namespace '
            f"\"{namespace}\". You must pass '--namespace={own}' to perform this operation."
        )
    if not own:
        meta["namespace"] = namespace
    return obj
