"""Pod volumes as host directories that containers bind-mount.

Layout under the kubelet's root directory, as Kubernetes lays it out::

    pods/<uid>/volumes/kubernetes.io~<plugin>/<volume>/    one directory per volume
    pods/<uid>/containers/<container>/<instance>           termination-message files

ConfigMap, Secret, downwardAPI and projected volumes are written by an atomic writer:
the files live in a timestamped directory, ``..data`` is a symlink to it, and every
visible name is a symlink through ``..data``. An update writes a new directory and
swaps ``..data`` with one rename, so a container never sees half an update and a
bind mount of the volume directory sees every update.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from apitypes.core import (
    Container,
    DownwardAPIVolumeFile,
    KeyToPath,
    Pod,
    Volume,
)
from kubelet.envvars import ConfigError, PodContext, expand, field_value, resource_value
from kubelet.runtime import Mount

DEFAULT_MODE = 0o644
SECRET_DEFAULT_MODE = 0o400
"""A Secret's files: readable by the container's user only, unless ``defaultMode`` or an
item's ``mode`` says otherwise; never by others (the world bits are always cleared)."""
NOT_WORLD = ~0o007 & 0o7777
DATA_DIR = "..data"


class VolumeError(Exception):
    """A volume cannot be set up (``FailedMount``): the pod cannot start."""


@dataclass
class FileEntry:
    data: bytes
    mode: int


Payload = dict[str, FileEntry]


def _check_relative(path: str, what: str) -> str:
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise VolumeError(f"{what}: path {path!r} must be relative and may not contain '..'")
    return str(pure)


def _inside(volume: str, path: Path, sub_path: str) -> str:
    """``path`` with every symlink resolved; ``VolumeError`` when that is outside
    ``volume`` (Kubernetes refuses such a subPath)."""
    root = os.path.realpath(volume)
    resolved = os.path.realpath(path)
    if resolved != root and not resolved.startswith(root.rstrip("/") + "/"):
        raise VolumeError(f"subPath {sub_path!r} resolves outside its volume: {resolved}")
    return resolved


class AtomicWriter:
    """Writes a whole payload into ``target`` so that readers see all of it or none."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def current(self) -> Payload | None:
        data = self.target / DATA_DIR
        if not data.is_symlink():
            return None
        root = data.resolve()
        out: Payload = {}
        for path in root.rglob("*"):
            if path.is_file():
                rel = str(path.relative_to(root))
                out[rel] = FileEntry(path.read_bytes(), path.stat().st_mode & 0o7777)
        return out

    def write(self, payload: Payload) -> bool:
        """Make ``target`` hold exactly ``payload``; False if it already did."""
        for rel in payload:
            _check_relative(rel, "volume item")
        if self.current() == payload:
            return False
        self.target.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("..%Y_%m_%d_%H_%M_%S.", time.gmtime()) + f"{time.time_ns():d}"
        fresh = self.target / stamp
        fresh.mkdir()
        for rel, entry in payload.items():
            path = fresh / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(entry.data)
            os.chmod(path, entry.mode)
        os.chmod(fresh, 0o755)
        data = self.target / DATA_DIR
        old = data.resolve() if data.is_symlink() else None
        tmp = self.target / "..data_tmp"
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(stamp)
        os.replace(tmp, data)
        tops = {rel.split("/", 1)[0] for rel in payload}
        for top in tops:
            link = self.target / top
            if not link.is_symlink():
                link.symlink_to(f"{DATA_DIR}/{top}")
        for entry_path in self.target.iterdir():
            name = entry_path.name
            if name.startswith(".."):
                continue
            if name not in tops and entry_path.is_symlink():
                entry_path.unlink()
        if old is not None and old.exists() and old != fresh.resolve():
            shutil.rmtree(old, ignore_errors=True)
        return True


def _mode(item_mode: int | None, default_mode: int | None, *, secret: bool = False) -> int:
    if secret:
        chosen = item_mode if item_mode is not None else default_mode
        return (SECRET_DEFAULT_MODE if chosen is None else chosen) & NOT_WORLD
    return item_mode if item_mode is not None else (default_mode or DEFAULT_MODE)


def _keyed_payload(
    values: Mapping[str, bytes],
    items: list[KeyToPath],
    default_mode: int | None,
    what: str,
    optional: bool,
) -> Payload:
    secret = what == "secret"
    if not items:
        return {
            key: FileEntry(value, _mode(None, default_mode, secret=secret))
            for key, value in values.items()
        }
    out: Payload = {}
    for item in items:
        value = values.get(item.key)
        if value is None:
            if optional:
                continue
            raise VolumeError(f"{what} references non-existent key: {item.key}")
        path = _check_relative(item.path, what)
        out[path] = FileEntry(value, _mode(item.mode, default_mode, secret=secret))
    return out


def _config_map_values(ctx: PodContext, name: str, optional: bool) -> dict[str, bytes] | None:
    cm = ctx.config_maps.get(name)
    if cm is None:
        if optional:
            return None
        raise VolumeError(f'configmap "{name}" not found')
    values = {k: v.encode() for k, v in cm.data.items()}
    for key, text in cm.binary_data.items():
        values[key] = base64.b64decode(text)
    return values


def _secret_values(ctx: PodContext, name: str, optional: bool) -> dict[str, bytes] | None:
    secret = ctx.secrets.get(name)
    if secret is None:
        if optional:
            return None
        raise VolumeError(f'secret "{name}" not found')
    try:
        return secret.decoded()
    except ValueError as err:
        raise VolumeError(f'secret "{name}" holds invalid base64: {err}') from err


def _downward_payload(
    pod: Pod, items: list[DownwardAPIVolumeFile], default_mode: int | None, ctx: PodContext
) -> Payload:
    out: Payload = {}
    for item in items:
        try:
            if item.field_ref is not None:
                value = field_value(pod, item.field_ref.field_path, ctx)
            elif item.resource_field_ref is not None:
                value = resource_value(pod, None, item.resource_field_ref, ctx)
            else:
                continue
        except ConfigError as err:
            raise VolumeError(str(err)) from err
        path = _check_relative(item.path, "downwardAPI")
        out[path] = FileEntry(value.encode(), _mode(item.mode, default_mode))
    return out


def volume_payload(pod: Pod, volume: Volume, ctx: PodContext) -> Payload | None:
    """The files of a ConfigMap/Secret/downwardAPI/projected volume (None for others)."""
    if volume.config_map is not None:
        src = volume.config_map
        optional = bool(src.optional)
        values = _config_map_values(ctx, src.name or "", optional)
        if values is None:
            return {}
        return _keyed_payload(values, src.items, src.default_mode, "configMap", optional)
    if volume.secret is not None:
        ssrc = volume.secret
        optional = bool(ssrc.optional)
        values = _secret_values(ctx, ssrc.secret_name or "", optional)
        if values is None:
            return {}
        return _keyed_payload(values, ssrc.items, ssrc.default_mode, "secret", optional)
    if volume.downward_api is not None:
        dsrc = volume.downward_api
        return _downward_payload(pod, dsrc.items, dsrc.default_mode, ctx)
    if volume.projected is not None:
        psrc = volume.projected
        out: Payload = {}
        for source in psrc.sources:
            if source.config_map is not None:
                cmp = source.config_map
                values = _config_map_values(ctx, cmp.name or "", bool(cmp.optional))
                if values is not None:
                    out.update(
                        _keyed_payload(
                            values, cmp.items, psrc.default_mode, "configMap", bool(cmp.optional)
                        )
                    )
            elif source.secret is not None:
                sp = source.secret
                values = _secret_values(ctx, sp.name or "", bool(sp.optional))
                if values is not None:
                    out.update(
                        _keyed_payload(
                            values, sp.items, psrc.default_mode, "secret", bool(sp.optional)
                        )
                    )
            elif source.downward_api is not None:
                out.update(
                    _downward_payload(pod, source.downward_api.items, psrc.default_mode, ctx)
                )
            elif source.service_account_token is not None:
                sat = source.service_account_token
                token = ctx.tokens.get((sat.audience or "", sat.expiration_seconds))
                if token is None:
                    raise VolumeError(f"no service account token for {sat.path}")
                path = _check_relative(sat.path, "serviceAccountToken")
                out[path] = FileEntry(token.encode(), _mode(None, psrc.default_mode))
            # clusterTrustBundle needs an API navarch does not serve; left out.
        return out
    return None


_PLUGIN_DIRS = {
    "emptyDir": "kubernetes.io~empty-dir",
    "configMap": "kubernetes.io~configmap",
    "secret": "kubernetes.io~secret",
    "downwardAPI": "kubernetes.io~downward-api",
    "projected": "kubernetes.io~projected",
}

_HOST_PATH_CHECKS = {
    "Directory": os.path.isdir,
    "File": os.path.isfile,
    "Socket": lambda p: os.path.exists(p) and not os.path.isdir(p) and not os.path.isfile(p),
    "CharDevice": os.path.exists,
    "BlockDevice": os.path.exists,
}


class VolumeManager:
    """Sets up, refreshes and removes the host side of pod volumes under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def pod_dir(self, uid: str) -> Path:
        return self.root / "pods" / uid

    def setup(self, pod: Pod, ctx: PodContext) -> dict[str, str]:
        """Create or refresh every volume of ``pod``; volume name -> host path.

        Idempotent: ConfigMap/Secret contents are rewritten only when they changed.
        """
        uid = pod.metadata.uid or ""
        paths: dict[str, str] = {}
        for volume in pod.spec.volumes if pod.spec else []:
            kind = volume.source_type()
            if volume.host_path is not None:
                paths[volume.name] = self._host_path(volume)
                continue
            plugin = _PLUGIN_DIRS.get(kind or "")
            if plugin is None:
                raise VolumeError(
                    f"volume {volume.name!r}: {kind or 'no'} volumes are not supported"
                )
            target = self.pod_dir(uid) / "volumes" / plugin / volume.name
            payload = volume_payload(pod, volume, ctx)
            if payload is None:
                target.mkdir(parents=True, exist_ok=True)
                os.chmod(target, 0o777)
            else:
                AtomicWriter(target).write(payload)
            paths[volume.name] = str(target)
        return paths

    @staticmethod
    def _host_path(volume: Volume) -> str:
        assert volume.host_path is not None
        path = volume.host_path.path
        kind = volume.host_path.type or ""
        if kind == "DirectoryOrCreate":
            os.makedirs(path, mode=0o755, exist_ok=True)
        elif kind == "FileOrCreate":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            if not os.path.exists(path):
                Path(path).touch(mode=0o644)
        elif kind in _HOST_PATH_CHECKS and not _HOST_PATH_CHECKS[kind](path):
            raise VolumeError(f"hostPath type check failed: {path} is not a {kind}")
        return path

    def mounts(
        self, pod: Pod, container: Container, paths: Mapping[str, str], env: Mapping[str, str]
    ) -> list[Mount]:
        """The bind mounts of ``container`` (``subPath``/``subPathExpr`` resolved)."""
        read_only_kinds = {"configMap", "secret", "downwardAPI", "projected"}
        volumes = {v.name: v for v in pod.spec.volumes} if pod.spec else {}
        out: list[Mount] = []
        for vm in container.volume_mounts:
            host = paths.get(vm.name)
            volume = volumes.get(vm.name)
            if host is None or volume is None:
                raise VolumeError(f"volumeMount {vm.name!r}: no volume of that name")
            sub = vm.sub_path or ""
            if vm.sub_path_expr:
                sub = expand(vm.sub_path_expr, env)
            if sub:
                sub = _check_relative(sub, "subPath")
                source = Path(host) / sub
                # A subPath of an atomically written volume is a symlink through
                # ``..data``; Docker must be given the file it points to. A symlink a
                # container left in the volume must not lead the mount (or the mkdir
                # below) out of it.
                _inside(host, source, vm.sub_path or vm.sub_path_expr or "")
                if not source.exists():
                    source.mkdir(parents=True, exist_ok=True)
                host = _inside(host, source, vm.sub_path or vm.sub_path_expr or "")
            read_only = bool(vm.read_only) or volume.source_type() in read_only_kinds
            out.append(Mount(host, vm.mount_path, read_only))
        return out

    def termination_message_file(self, uid: str, container: str, instance: str) -> str:
        directory = self.pod_dir(uid) / "containers" / container
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / instance
        path.touch(mode=0o666)
        os.chmod(path, 0o666)
        return str(path)

    def cleanup(self, uid: str) -> None:
        """Remove everything of pod ``uid`` (its containers must be gone)."""
        shutil.rmtree(self.pod_dir(uid), ignore_errors=True)

    def known_pods(self) -> list[str]:
        base = self.root / "pods"
        return [p.name for p in base.iterdir()] if base.is_dir() else []
