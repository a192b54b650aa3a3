"""Whole machines on this one: containers of the ``host`` image that boot systemd, for
tests of what runs on real hosts (``navarch init``/``join``/``reset``, the AWS
user-data's bootstrap script).

    with HostSet.create(3) as hosts:              # navarch/compose-host:current, booted
        first = hosts[0]                          # .name (hostname), .ip, .container
        first.run(["navarch", "version"])         # docker exec, output as text
        first.read("/etc/navarch/admin.conf")

The image (``deploy/compose/build-images.sh host``, cached by source hash, Debian
packages only) is the compose node's plus systemd as PID 1, as kind's node image: the
Docker Engine inside is ``docker.service``, so ``navarch init`` finds what a Debian host
gives it. A container gets what systemd and a nested engine need without
``--privileged`` (which fails here, see deploy/compose/README.md): every capability but
``CAP_SYS_RESOURCE``, seccomp, AppArmor and the masked ``/proc`` paths unconfined, the
host's ``/sys/fs/cgroup`` read-write (cgroup v1), tmpfs on ``/run``, ``/run/lock`` and
``/tmp``, and ``/var/lib/docker`` on a volume of its own.

Network: a Docker bridge network of the set's own, a free ``10.125.x.0/24``
(docs/network.md), with Docker's masquerade off; host n is ``.(9+n)`` (host 1 at
``.10``, the address ``cli.aws.spec.ClusterSpec`` gives the control plane of that
subnet). Before anything else starts in a host, a unit of the set's own
(``default-route-nowhere.service``) replaces the default route via Docker's gateway by a
route to a sink device (``dummy``, or ``ifb`` where the kernel has no dummy driver) with
the host's own address as source: a packet for any address but the hosts' and their
pods' is dropped inside the host, and "the source address of the default route" still
names the host, as on an instance. An internal network would not do: Docker's isolation
rules drop bridged packets whose addresses are not the subnet's, i.e. the pods' traffic
between hosts.

Each host's engine gets ``/etc/docker/daemon.json`` with ``docker0`` in
``10.126.<n>.0/25`` and its default pools in ``10.126.<n>.128/25`` (nothing outside
overlaps them), overlay2, and the systemd cgroup driver (the host's systemd owns the
pods' cgroups, nested in the container's own).

``/var/lib/aws-standin`` in every host is one directory of the host machine (the test's
``work`` directory), where the stand-ins of ``aws`` and ``curl`` (``STANDIN_BIN``,
first on ``PATH`` when a test asks) keep SSM parameters and S3 objects: the AWS
user-data's script runs unchanged, and nothing is sent to AWS or to the instance
metadata address.

Everything carries the label ``io.navarch.hosts=<set name>`` (and ``navarch.test=1``);
``remove`` (also on the way out of ``with``, whatever happened) stops every host
(systemd shuts down: the engine stops the pods), removes the containers, their volumes
and the network, and the empty cgroup directories the inner engine leaves. Hosts also
carry the compose node labels, so ``navarch image load --project <set name>`` loads
images into their engines as into compose nodes'.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import json
import subprocess
import tarfile
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from testkit.network import used_networks
from testkit.processes import wait_until

HOST_IMAGE = "navarch/compose-host:current"
SET_LABEL = "io.navarch.hosts"
TEST_LABEL = "navarch.test"
STANDIN_DIR = "/var/lib/aws-standin"
"""In every host: the set's shared directory (SSM parameters, S3 objects, call log)."""
STANDIN_BIN = "/opt/aws-standin/bin"
"""In every host: ``aws`` and ``curl`` stand-ins; put it first on ``PATH`` to use them."""
COMPOSE_PROJECT_LABEL = "com.docker.compose.project"
COMPOSE_SERVICE_LABEL = "com.docker.compose.service"
COMPOSE_ROLE_LABEL = "io.navarch.compose"

ROUTES_UNIT = """\
[Unit]
Description=Test hosts: nothing leaves the machine (default route to a sink device)
DefaultDependencies=no
Before=network.target docker.service containerd.service
After=systemd-tmpfiles-setup.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/default-route-nowhere

[Install]
WantedBy=sysinit.target
"""

ROUTES_SCRIPT = """\
#!/bin/bash
# The default route goes to a device that drops everything (never via Docker's
# gateway); its source address is this host's own, as an instance's default route's.
set -eu
ip link add nowhere0 type dummy 2>/dev/null || ip link add nowhere0 type ifb 2>/dev/null || true
ip link set nowhere0 up
src=$(ip -4 -o addr show dev eth0 | awk '{split($4, a, "/"); print a[1]; exit}')
ip route replace default dev nowhere0 src "$src"
"""

AWS_STANDIN = """\
#!/bin/bash
# A stand-in for the AWS CLI: only the calls of the AWS user-data's bootstrap script,
# answered from /var/lib/aws-standin (one directory shared by the test's hosts).
# Every call is appended to calls.log (values of put-parameter are not).
set -u
store=/var/lib/aws-standin
mkdir -p "$store/ssm" "$store/s3"
echo "$(hostname) aws $1 $2" >>"$store/calls.log"
name="" value="" positional=()
service="$1" op="$2"
shift 2
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name="$2"; shift 2 ;;
    --value) value="$2"; shift 2 ;;
    --region | --query | --output | --type) shift 2 ;;
    --with-decryption | --overwrite | --only-show-errors) shift ;;
    *) positional+=("$1"); shift ;;
  esac
done
file="$store/ssm/$(echo "$name" | tr / _)"
case "$service $op" in
  "ssm get-parameter")
    if [ ! -f "$file" ]; then
      echo "An error occurred (ParameterNotFound) when calling the GetParameter operation" >&2
      exit 254
    fi
    cat "$file"; echo ;;
  "ssm put-parameter")
    printf '%s' "$value" >"$file.tmp" && mv "$file.tmp" "$file" ;;
  "s3 cp")
    src="${positional[0]#s3://}"
    cp "$store/s3/$src" "${positional[1]}" ;;
  *)
    echo "aws stand-in: unexpected call: $service $op" >&2
    exit 2 ;;
esac
"""

CURL_STANDIN = """\
#!/bin/bash
# A stand-in for curl: the bootstrap script asks only the instance metadata service,
# which is not here (as on an instance without a public address, it gets nothing).
echo "$(hostname) curl $*" >>/var/lib/aws-standin/calls.log
echo "curl: (7) Failed to connect: no metadata service here" >&2
exit 7
"""


def _docker(*args: str, check: bool = True, stdin: bytes | None = None) -> str:
    done = subprocess.run(["docker", *args], input=stdin, capture_output=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args[:3])}: {done.stderr.decode().strip()}")
    return done.stdout.decode()


def free_subnet(first: int = 0) -> ipaddress.IPv4Network:
    """A ``10.125.x.0/24`` no route or Docker network of this machine overlaps."""
    used = used_networks()
    for third in range(first, 256):
        candidate = ipaddress.IPv4Network(f"10.125.{third}.0/24")
        if not any(candidate.overlaps(u) for u in used):
            return candidate
    raise RuntimeError("no free 10.125.x.0/24 left")


def _create_network(name: str, tries: int = 5) -> ipaddress.IPv4Network:
    """A bridge network on a free ``10.125.x.0/24``, Docker's masquerade off. Another
    test run may take the same /24 between the look and the create: then the next one."""
    first = 0
    for _ in range(tries):
        subnet = free_subnet(first)
        done = subprocess.run(
            ["docker", "network", "create", "--driver", "bridge", "--subnet", str(subnet),
             "--opt", "com.docker.network.bridge.enable_ip_masquerade=false",
             "--label", f"{SET_LABEL}={name}", "--label", f"{TEST_LABEL}=1", name],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode == 0:
            return subnet
        if "overlap" not in done.stderr:
            raise RuntimeError(f"docker network create {name}: {done.stderr.strip()}")
        first = subnet.network_address.packed[2] + 1
    raise RuntimeError(f"no free 10.125.x.0/24 for {name} after {tries} tries")


def _tar(files: dict[str, tuple[str | bytes, int]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path, (content, mode) in files.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@dataclass
class Host:
    index: int
    """1, 2, ...: host 1 is the one a test runs ``navarch init`` on."""
    name: str
    """The hostname, which ``navarch join`` makes the Node's name."""
    container: str
    ip: str

    def run(
        self,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        timeout: float = 120,
        check: bool = True,
        stdin: bytes | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """``argv`` in the host as root (``docker exec``); stdout and stderr as text.
        With ``check``, a non-zero exit raises ``RuntimeError`` carrying both."""
        flags = ["-i"] if stdin is not None else []
        for key, value in (env or {}).items():
            flags += ["-e", f"{key}={value}"]
        done = subprocess.run(
            ["docker", "exec", *flags, self.container, *argv],
            input=stdin,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        result = subprocess.CompletedProcess(
            done.args, done.returncode, done.stdout.decode(errors="replace"),
            done.stderr.decode(errors="replace"),
        )  # fmt: skip
        if check and done.returncode != 0:
            raise RuntimeError(
                f"{self.name}: {' '.join(argv)} exited {done.returncode}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result

    def sh(self, script: str, **kwargs: object) -> str:
        """A bash script in the host; its stdout."""
        return self.run(["bash", "-c", script], **kwargs).stdout  # type: ignore[arg-type]

    def read(self, path: str) -> bytes:
        """A file of the host (raises if it is missing)."""
        done = subprocess.run(
            ["docker", "exec", self.container, "cat", path], capture_output=True, check=False
        )
        if done.returncode != 0:
            raise FileNotFoundError(f"{self.name}:{path}: {done.stderr.decode().strip()}")
        return done.stdout

    def exists(self, path: str) -> bool:
        return self.run(["test", "-e", path], check=False).returncode == 0

    def put(self, files: dict[str, tuple[str | bytes, int]]) -> None:
        """Write files (absolute path -> (content, mode)), their directories made as needed."""
        _docker("cp", "-", f"{self.container}:/", stdin=_tar(files))

    def journal(self, lines: int = 80) -> str:
        """The last lines of the host's journal (for failure reports)."""
        return self.run(
            ["journalctl", "--no-pager", "-o", "short-precise", "-n", str(lines)], check=False
        ).stdout


@dataclass
class HostSet:
    """``count`` hosts on a network of their own; see the module's docstring."""

    name: str
    network: str
    subnet: ipaddress.IPv4Network
    work: Path
    """On the machine: the directory the hosts share at ``STANDIN_DIR``."""
    image: str = HOST_IMAGE
    hosts: list[Host] = field(default_factory=list)

    def __getitem__(self, i: int) -> Host:
        return self.hosts[i]

    def __iter__(self) -> Iterator[Host]:
        return iter(self.hosts)

    def __len__(self) -> int:
        return len(self.hosts)

    def __enter__(self) -> HostSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    @classmethod
    def create(
        cls, count: int, work: Path, *, image: str = HOST_IMAGE, boot_timeout: float = 90
    ) -> HostSet:
        """Start ``count`` hosts and wait until each has booted (systemd running, its
        engine answering, the default route on the sink). Removes what it made if
        anything fails on the way."""
        if _docker("image", "inspect", image, check=False) == "":
            raise RuntimeError(f"no image {image} (deploy/compose/build-images.sh host)")
        name = f"navhosts-{uuid.uuid4().hex[:8]}"
        work.mkdir(parents=True, exist_ok=True)
        found = cls(name, name, _create_network(name), work, image)
        try:
            for index in range(1, count + 1):
                found.hosts.append(found._create_host(index))
            for host in found.hosts:
                _docker("start", host.container)
            for host in found.hosts:
                found._wait_booted(host, boot_timeout)
        except BaseException:
            found.remove()
            raise
        return found

    def _create_host(self, index: int) -> Host:
        hostname = f"navhost-{index}"
        ip = str(self.subnet[9 + index])
        container = f"{self.name}-{index}"
        labels = {
            SET_LABEL: self.name,
            TEST_LABEL: "1",
            COMPOSE_PROJECT_LABEL: self.name,
            COMPOSE_SERVICE_LABEL: hostname,
            COMPOSE_ROLE_LABEL: "node",
        }
        volume = f"{container}-docker"
        _docker("volume", "create", "--label", f"{SET_LABEL}={self.name}", volume)
        label_flags = [flag for k, v in labels.items() for flag in ("--label", f"{k}={v}")]
        _docker(
            "create", "--name", container, "--hostname", hostname, *label_flags,
            "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
            "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
            "--security-opt", "systempaths=unconfined",
            "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "-v", f"{volume}:/var/lib/docker",
            "-v", f"{self.work}:{STANDIN_DIR}",
            "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp",
            "--network", self.network, "--ip", ip,
            self.image,
        )  # fmt: skip
        host = Host(index, hostname, container, ip)
        daemon = {
            "bip": f"10.126.{index}.1/25",
            "default-address-pools": [{"base": f"10.126.{index}.128/25", "size": 28}],
            "storage-driver": "overlay2",
            "exec-opts": ["native.cgroupdriver=systemd"],
            "log-driver": "json-file",
            "log-opts": {"max-size": "10m", "max-file": "2"},
            "shutdown-timeout": 5,
        }
        wants = "/etc/systemd/system/sysinit.target.wants/default-route-nowhere.service"
        host.put(
            {
                "/etc/docker/daemon.json": (json.dumps(daemon, indent=2) + "\n", 0o644),
                "/etc/systemd/system/default-route-nowhere.service": (ROUTES_UNIT, 0o644),
                "/usr/local/sbin/default-route-nowhere": (ROUTES_SCRIPT, 0o755),
                f"{STANDIN_BIN}/aws": (AWS_STANDIN, 0o755),
                f"{STANDIN_BIN}/curl": (CURL_STANDIN, 0o755),
            }
        )
        # A unit's [Install] is honoured only by `systemctl enable`; the link is what it makes.
        _docker(
            "cp",
            "-",
            f"{container}:/",
            stdin=_symlink_tar(wants, "../default-route-nowhere.service"),
        )
        return host

    def _wait_booted(self, host: Host, timeout: float) -> None:
        def booted() -> bool:
            state = host.run(["systemctl", "is-system-running"], check=False).stdout.strip()
            if state not in ("running", "degraded"):
                return False
            return host.run(["docker", "info"], check=False).returncode == 0

        try:
            wait_until(booted, timeout=timeout, interval=0.5)
        except TimeoutError as err:
            raise RuntimeError(f"{host.name} did not boot:\n{host.journal()}") from err
        route = host.run(["ip", "route", "show", "default"]).stdout
        if "nowhere0" not in route:
            raise RuntimeError(f"{host.name}: the default route is {route!r}, not the sink")

    def reboot(self, host: Host, timeout: float = 90) -> None:
        """Restart ``host`` as a machine restarts: systemd shuts down (``SIGRTMIN+3``),
        the container starts again with its disk (its file system and engine volume)
        and address, and this returns once it has booted again."""
        _docker("restart", "-t", "20", host.container)
        self._wait_booted(host, timeout)

    def remove(self) -> None:
        """Stop the hosts (systemd shuts down, the engines stop the pods), then remove
        the containers, their volumes, the network and what the inner engines left in
        the host's cgroup hierarchy. Errors are ignored: it runs on the way out."""
        filters = ["--filter", f"label={SET_LABEL}={self.name}"]
        ids = _docker("ps", "-aq", *filters, check=False).split()
        if ids:
            full = _docker("inspect", "--format", "{{.Id}}", *ids, check=False).split()
            _docker("stop", "-t", "20", *ids, check=False)
            _docker("rm", "-f", "-v", *ids, check=False)
            for cid in full:
                _remove_cgroups(cid)
        for volume in _docker("volume", "ls", "-q", *filters, check=False).split():
            _docker("volume", "rm", "-f", volume, check=False)
        _docker("network", "rm", self.network, check=False)


def _symlink_tar(path: str, target: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(path.lstrip("/"))
        info.type, info.linkname = tarfile.SYMTYPE, target
        tar.addfile(info)
    return buf.getvalue()


def _remove_cgroups(container_id: str) -> None:
    """Empty cgroup directories under a removed container's (``/docker/<id>`` in each
    v1 hierarchy): systemd and the engine inside made them; the outer engine removes
    only its own."""
    root = Path("/sys/fs/cgroup")
    for hierarchy in root.iterdir() if root.is_dir() else []:
        top = hierarchy / "docker" / container_id
        if not top.is_dir():
            continue
        for directory in sorted(top.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            if directory.is_dir():
                with contextlib.suppress(OSError):
                    directory.rmdir()
        with contextlib.suppress(OSError):
            top.rmdir()
