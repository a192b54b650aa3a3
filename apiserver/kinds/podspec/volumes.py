"""Volumes: exactly one source each, and each source's own rules."""

from __future__ import annotations

from collections.abc import Sequence

from apiserver.kinds.podspec.checks import (
    dns_label,
    file_mode,
    local_non_reserved_path,
    no_backsteps,
)
from apiserver.kinds.podspec.downwardapi import downward_api_file
from apiserver.kinds.podspec.resources import parse_quantity_field
from apitypes.core import Volume
from apitypes.validation import (
    FieldError,
    FieldPath,
    duplicate,
    forbidden,
    invalid,
    not_supported,
    required,
)

_HOST_PATH_TYPES = (
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
)


# The order Kubernetes checks volume sources in, and the name its "more than one" error
# uses for each (two of them differ from the wire name, as in Kubernetes).
_VOLUME_SOURCES: tuple[tuple[str, str, str], ...] = (
    ("empty_dir", "emptyDir", "emptyDir"),
    ("host_path", "hostPath", "hostPath"),
    ("git_repo", "gitRepo", "gitRepo"),
    ("gce_persistent_disk", "gcePersistentDisk", "gcePersistentDisk"),
    ("aws_elastic_block_store", "awsElasticBlockStore", "awsElasticBlockStore"),
    ("secret", "secret", "secret"),
    ("nfs", "nfs", "nfs"),
    ("iscsi", "iscsi", "iscsi"),
    ("glusterfs", "glusterfs", "glusterfs"),
    ("flocker", "flocker", "flocker"),
    ("persistent_volume_claim", "persistentVolumeClaim", "persistentVolumeClaim"),
    ("rbd", "rbd", "rbd"),
    ("cinder", "cinder", "cinder"),
    ("cephfs", "cephfs", "cephFS"),
    ("quobyte", "quobyte", "quobyte"),
    ("downward_api", "downwardAPI", "downwarAPI"),
    ("fc", "fc", "fc"),
    ("flex_volume", "flexVolume", "flexVolume"),
    ("config_map", "configMap", "configMap"),
    ("azure_file", "azureFile", "azureFile"),
    ("vsphere_volume", "vsphereVolume", "vsphereVolume"),
    ("photon_persistent_disk", "photonPersistentDisk", "photonPersistentDisk"),
    ("portworx_volume", "portworxVolume", "portworxVolume"),
    ("azure_disk", "azureDisk", "azureDisk"),
    ("storageos", "storageos", "storageos"),
    ("projected", "projected", "projected"),
    ("scale_io", "scaleIO", "scaleIO"),
    ("csi", "csi", "csi"),
    ("ephemeral", "ephemeral", "ephemeral"),
)


def _key_to_path(key: str, target: str, mode: int | None, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if not key:
        errs.append(required(path.child("key")))
    if not target:
        errs.append(required(path.child("path")))
    errs.extend(local_non_reserved_path(target, path.child("path")))
    errs.extend(file_mode(mode, path.child("mode")))
    return errs


def _projected_sources(volume: Volume, path: FieldPath) -> list[FieldError]:
    assert volume.projected is not None
    errs: list[FieldError] = []
    paths: set[str] = set()
    for i, source in enumerate(volume.projected.sources):
        count = 0
        src_path = path.child("sources").index(i)
        if source.secret is not None:
            count += 1
            proj = src_path.child("secret")
            if not source.secret.name:
                errs.append(required(proj.child("name")))
            for j, kp in enumerate(source.secret.items):
                errs.extend(_key_to_path(kp.key, kp.path, kp.mode, proj.child("items").index(j)))
                if kp.path:
                    if kp.path in paths:
                        errs.append(
                            invalid(path, source.secret.name or "", "conflicting duplicate paths")
                        )
                    paths.add(kp.path)
        if source.config_map is not None:
            count += 1
            proj = src_path.child("configMap")
            if not source.config_map.name:
                errs.append(required(proj.child("name")))
            for j, kp in enumerate(source.config_map.items):
                errs.extend(_key_to_path(kp.key, kp.path, kp.mode, proj.child("items").index(j)))
                if kp.path:
                    if kp.path in paths:
                        errs.append(
                            invalid(
                                path, source.config_map.name or "", "conflicting duplicate paths"
                            )
                        )
                    paths.add(kp.path)
        if source.downward_api is not None:
            count += 1
            proj = src_path.child("downwardAPI")
            for item in source.downward_api.items:
                errs.extend(downward_api_file(item, proj))
                if item.path:
                    if item.path in paths:
                        errs.append(invalid(path, item.path, "conflicting duplicate paths"))
                    paths.add(item.path)
        if source.service_account_token is not None:
            count += 1
            token = source.service_account_token
            proj = src_path.child("serviceAccountToken")
            seconds = token.expiration_seconds or 0
            if seconds < 600:
                errs.append(
                    invalid(
                        proj.child("expirationSeconds"),
                        seconds,
                        "may not specify a duration less than 10 minutes",
                    )
                )
            if seconds > 1 << 32:
                errs.append(
                    invalid(
                        proj.child("expirationSeconds"),
                        seconds,
                        "may not specify a duration larger than 2^32 seconds",
                    )
                )
            if not token.path:
                errs.append(required(path.child("path")))
            else:
                errs.extend(local_non_reserved_path(token.path, path.child("path")))
        if source.cluster_trust_bundle is not None:
            count += 1
            proj = src_path.child("clusterTrustBundle")
            if not source.cluster_trust_bundle.path:
                errs.append(required(proj.child("path")))
        if count > 1:
            errs.append(forbidden(src_path, "may not specify more than 1 volume type per source"))
    return errs


def _volume_source(volume: Volume, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    count = 0
    for attr, wire, forbidden_name in _VOLUME_SOURCES:
        if getattr(volume, attr) is None:
            continue
        if count:
            errs.append(
                forbidden(path.child(forbidden_name), "may not specify more than 1 volume type")
            )
            continue
        count += 1
        errs.extend(_one_volume_source(volume, attr, path.child(wire)))
    if count == 0:
        errs.append(required(path, "must specify a volume type"))
    return errs


def _one_volume_source(volume: Volume, attr: str, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if attr == "empty_dir":
        assert volume.empty_dir is not None
        limit = volume.empty_dir.size_limit
        if limit is not None:
            quantity, qerrs = parse_quantity_field(limit, path.child("sizeLimit"))
            errs.extend(qerrs)
            if quantity is not None and quantity.sign() < 0:
                errs.append(
                    forbidden(
                        path.child("sizeLimit"), "SizeLimit field must be a valid resource quantity"
                    )
                )
    elif attr == "host_path":
        assert volume.host_path is not None
        host_path = volume.host_path
        if not host_path.path:
            return [required(path.child("path"))]
        errs.extend(no_backsteps(host_path.path, path.child("path")))
        if host_path.type is not None and host_path.type not in _HOST_PATH_TYPES:
            errs.append(not_supported(path.child("type"), host_path.type, _HOST_PATH_TYPES))
    elif attr == "secret":
        assert volume.secret is not None
        if not volume.secret.secret_name:
            errs.append(required(path.child("secretName")))
        errs.extend(file_mode(volume.secret.default_mode, path.child("defaultMode")))
        for i, kp in enumerate(volume.secret.items):
            errs.extend(_key_to_path(kp.key, kp.path, kp.mode, path.child("items").index(i)))
    elif attr == "config_map":
        assert volume.config_map is not None
        if not volume.config_map.name:
            errs.append(required(path.child("name")))
        errs.extend(file_mode(volume.config_map.default_mode, path.child("defaultMode")))
        for i, kp in enumerate(volume.config_map.items):
            errs.extend(_key_to_path(kp.key, kp.path, kp.mode, path.child("items").index(i)))
    elif attr == "nfs":
        assert volume.nfs is not None
        if not volume.nfs.server:
            errs.append(required(path.child("server")))
        if not volume.nfs.path:
            errs.append(required(path.child("path")))
        if not volume.nfs.path.startswith("/"):
            errs.append(invalid(path.child("path"), volume.nfs.path, "must be an absolute path"))
    elif attr == "persistent_volume_claim":
        assert volume.persistent_volume_claim is not None
        if not volume.persistent_volume_claim.claim_name:
            errs.append(required(path.child("claimName")))
    elif attr == "downward_api":
        assert volume.downward_api is not None
        errs.extend(file_mode(volume.downward_api.default_mode, path.child("defaultMode")))
        for item in volume.downward_api.items:
            errs.extend(downward_api_file(item, path))
    elif attr == "projected":
        assert volume.projected is not None
        errs.extend(file_mode(volume.projected.default_mode, path.child("defaultMode")))
        errs.extend(_projected_sources(volume, path))
    elif attr == "csi":
        assert volume.csi is not None
        if not volume.csi.driver:
            errs.append(required(path.child("driver")))
    elif attr == "ephemeral":
        assert volume.ephemeral is not None
        if volume.ephemeral.volume_claim_template is None:
            errs.append(required(path.child("volumeClaimTemplate")))
    return errs


def validate_volumes(
    volumes: Sequence[Volume], path: FieldPath
) -> tuple[dict[str, Volume], list[FieldError]]:
    """Errors in the pod's volumes, and the valid ones by name (mounts may refer to those)."""
    errs: list[FieldError] = []
    valid: dict[str, Volume] = {}
    for i, volume in enumerate(volumes):
        idx = path.index(i)
        name_path = idx.child("name")
        own = _volume_source(volume, idx)
        if not volume.name:
            own.append(required(name_path))
        else:
            own.extend(dns_label(volume.name, name_path))
        if volume.name in valid:
            own.append(duplicate(name_path, volume.name))
        if own:
            errs.extend(own)
        else:
            valid[volume.name] = volume
    return valid, errs
