"""``navarch <daemon> --config FILE``: a daemon's flags from a YAML file, so that a
systemd unit's ``ExecStart`` stays one short line and what differs per host lives in
``/etc/navarch/<daemon>.yaml`` (written by ``navarch init``/``join``).

The file is a mapping of flag names (without the dashes) to values::

    secure-port: 6443
    etcd-servers: https://127.0.0.1:2379
    authentication-token-webhook: true      # a switch: --authentication-token-webhook
    cluster-dns: [10.96.0.10]               # a list: the flag once per item

Flags given on the command line win: a key whose flag is also on the command line is
ignored. Unknown keys, a value of the wrong shape or a file that is not a mapping are
refused with one line on stderr (exit status 2), before the daemon starts.

Where the daemon has a ``--config`` of its own (the scheduler's
KubeSchedulerConfiguration), a file with ``apiVersion`` and ``kind`` is that
configuration and is passed through; any other mapping is flags, as above.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

DAEMONS = frozenset(
    {"apiserver", "controller-manager", "scheduler", "kubelet", "proxy", "network-agent"}
)


class ConfigFileError(ValueError):
    """The file cannot be read, or names a flag the daemon lacks; one line."""


def _split(argv: list[str]) -> tuple[list[str], str | None]:
    """``argv`` without ``--config FILE`` / ``--config=FILE``, and FILE."""
    rest: list[str] = []
    found: str | None = None
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        if arg == "--config" and i + 1 < len(argv):
            found = argv[i + 1]
            i += 2
            continue
        if arg.startswith("--config="):
            found = arg.split("=", 1)[1]
            i += 1
            continue
        rest.append(arg)
        i += 1
    return rest, found


def _given(argv: list[str]) -> set[str]:
    """The option names on the command line (``--x`` of ``--x=1`` too)."""
    return {a.split("=", 1)[0] for a in argv if a.startswith("--")}


def _scalar(value: Any, flag: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise ConfigFileError(f"{flag}: expected a string, number or boolean, not {value!r}")


def _options(command: Any) -> list[Any]:
    """A click command's options (typer ships its own click: checked by shape)."""
    return [p for p in command.params if getattr(p, "param_type_name", "") == "option"]


def flags_for(doc: dict[Any, Any], command: Any, given: set[str]) -> list[str]:
    """The command-line flags ``doc`` stands for, leaving out those in ``given``
    (``command``: the daemon's click command)."""
    by_name: dict[str, Any] = {}
    for each in _options(command):
        for opt in (*each.opts, *each.secondary_opts):
            by_name[opt] = each
    out: list[str] = []
    for key, value in doc.items():
        flag = f"--{str(key).removeprefix('--')}"
        param = by_name.get(flag)
        if param is None or flag == "--config":
            raise ConfigFileError(f"unknown flag {key!r}")
        if given & {*param.opts, *param.secondary_opts}:
            continue  # the command line wins
        if value is None:
            continue
        if param.is_flag:
            if not isinstance(value, bool):
                raise ConfigFileError(f"{key}: a switch takes true or false, not {value!r}")
            if value:
                out.append(param.opts[0])
            elif param.secondary_opts:
                out.append(param.secondary_opts[0])
            continue
        items = value if isinstance(value, list) else [value]
        if param.multiple:
            for item in items:
                out += [flag, _scalar(item, str(key))]
        else:
            out += [flag, ",".join(_scalar(item, str(key)) for item in items)]
    return out


def load(path: str) -> dict[Any, Any]:
    try:
        doc = yaml.safe_load(Path(path).read_text())
    except OSError as err:
        raise ConfigFileError(f"cannot read it: {err.strerror or err}") from err
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise ConfigFileError(f"not YAML{line}") from err
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ConfigFileError("expected a mapping of flag names to values")
    return doc


def expand(argv: list[str], group: Any) -> list[str]:
    """``argv`` (after the program name) with a daemon's ``--config FILE`` replaced by
    the flags it holds; other commands' arguments are returned as they are. Raises
    ConfigFileError naming the file."""
    if not argv or argv[0] not in DAEMONS:
        return argv
    command = group.commands.get(argv[0])
    if command is None:
        return argv
    rest, path = _split(argv[1:])
    if path is None:
        return argv
    try:
        doc = load(path)
        own = any("--config" in p.opts for p in _options(command))
        if own and "kind" in doc and "apiVersion" in doc:
            return argv  # the daemon's own configuration file
        return [argv[0], *flags_for(doc, command, _given(rest)), *rest]
    except ConfigFileError as err:
        raise ConfigFileError(f"--config {path}: {err}") from err


def overrides(items: list[str], command: Any, option: str) -> dict[str, Any]:
    """``KEY=VALUE`` items (``navarch join --kubelet-arg``, as k3s's ``--kubelet-arg``)
    as a ``--config`` mapping for ``command`` (the daemon's click command): a switch
    takes ``true`` or ``false``, a flag the daemon takes more than once gets every
    item's value in order, any other flag the last one. Raises ConfigFileError, one
    line naming ``option``, for an item without ``=``, a flag the daemon lacks, or a
    switch given something else."""
    by_name: dict[str, Any] = {}
    for each in _options(command):
        for opt in (*each.opts, *each.secondary_opts):
            by_name[opt] = each
    found: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip().removeprefix("--")
        if not sep or not key:
            raise ConfigFileError(f"{option} {item!r}: expected KEY=VALUE (node-ip=10.0.0.5)")
        param = by_name.get(f"--{key}")
        if param is None or key == "config":
            raise ConfigFileError(f"{option} {item!r}: {command.name} has no flag --{key}")
        if param.is_flag:
            if value.lower() not in ("true", "false"):
                raise ConfigFileError(f"{option} {item!r}: --{key} takes true or false")
            found[key] = value.lower() == "true"
        elif param.multiple:
            found.setdefault(key, []).append(value)
        else:
            found[key] = value
    return found
