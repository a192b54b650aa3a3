"""Security contexts: the container's and the pod's, and seccomp profiles."""

from __future__ import annotations

from apiserver.kinds.podspec.checks import local_descending_path, valid_id
from apitypes.core import PodSpec, SeccompProfile, SecurityContext
from apitypes.validation import FieldError, FieldPath, invalid, not_supported, required

_SECCOMP_TYPES = ("Localhost", "RuntimeDefault", "Unconfined")


_PROC_MOUNT_TYPES = ("Default", "Unmasked")


_FS_GROUP_CHANGE_POLICIES = ("Always", "OnRootMismatch")


def validate_seccomp_profile(profile: SeccompProfile | None, path: FieldPath) -> list[FieldError]:
    if profile is None:
        return []
    errs: list[FieldError] = []
    if not profile.type:
        errs.append(required(path.child("type"), "type is required when seccompProfile is set"))
    elif profile.type not in _SECCOMP_TYPES:
        errs.append(not_supported(path.child("type"), profile.type, _SECCOMP_TYPES))
    if profile.type == "Localhost":
        if profile.localhost_profile is None:
            errs.append(
                required(
                    path.child("localhostProfile"), "must be set when seccomp type is Localhost"
                )
            )
        else:
            errs.extend(
                local_descending_path(profile.localhost_profile, path.child("localhostProfile"))
            )
    elif profile.localhost_profile is not None:
        errs.append(
            invalid(
                path.child("localhostProfile"),
                profile,
                "can only be set when seccomp type is Localhost",
            )
        )
    return errs


def validate_security_context(
    context: SecurityContext | None, path: FieldPath, *, host_users: bool
) -> list[FieldError]:
    if context is None:
        return []
    errs = valid_id(context.run_as_user, path.child("runAsUser"))
    errs.extend(valid_id(context.run_as_group, path.child("runAsGroup")))
    if context.proc_mount is not None:
        if context.proc_mount not in _PROC_MOUNT_TYPES:
            errs.append(
                not_supported(path.child("procMount"), context.proc_mount, _PROC_MOUNT_TYPES)
            )
        if host_users and context.proc_mount == "Unmasked":
            errs.append(
                invalid(
                    path.child("procMount"),
                    context.proc_mount,
                    "`hostUsers` must be false to use `Unmasked`",
                )
            )
    errs.extend(validate_seccomp_profile(context.seccomp_profile, path.child("seccompProfile")))
    if context.allow_privilege_escalation is False:
        if context.privileged:
            errs.append(
                invalid(
                    path,
                    context,
                    "cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
                )
            )
        if context.capabilities is not None and "CAP_SYS_ADMIN" in context.capabilities.add:
            errs.append(
                invalid(
                    path,
                    context,
                    "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN",
                )
            )
    return errs


def validate_pod_security_context(spec: PodSpec, path: FieldPath) -> list[FieldError]:
    context = spec.security_context
    if context is None:
        return []
    errs = valid_id(context.fs_group, path.child("fsGroup"))
    errs.extend(valid_id(context.run_as_user, path.child("runAsUser")))
    errs.extend(valid_id(context.run_as_group, path.child("runAsGroup")))
    for i, gid in enumerate(context.supplemental_groups):
        errs.extend(valid_id(gid, path.child("supplementalGroups").index(i)))
    if spec.share_process_namespace and spec.host_pid:
        errs.append(
            invalid(
                path.child("shareProcessNamespace"),
                True,
                "ShareProcessNamespace and HostPID cannot both be enabled",
            )
        )
    if (
        context.fs_group_change_policy is not None
        and context.fs_group_change_policy not in _FS_GROUP_CHANGE_POLICIES
    ):
        errs.append(
            not_supported(
                path.child("fsGroupChangePolicy"),
                context.fs_group_change_policy,
                _FS_GROUP_CHANGE_POLICIES,
            )
        )
    errs.extend(validate_seccomp_profile(context.seccomp_profile, path.child("seccompProfile")))
    for i, sysctl in enumerate(context.sysctls):
        if not sysctl.name:
            errs.append(required(path.child("sysctls").index(i).child("name")))
    return errs
