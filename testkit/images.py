"""Local test images, built without any registry, and cleanup of test containers.

Every image is ``FROM scratch`` plus Debian's static busybox (one binary that is every
Unix tool), so it builds in a second from files on this machine, and the host's glibc
resolver files (``deploy/images/resolver-files.sh``: NSS modules, libc, the loader;
and ``/etc/nsswitch.conf``), without which the static busybox crashes on any name
lookup. Images and the containers tests start carry the label ``navarch.test=1``.

    ensure_busybox_image() -> "navarch-test/busybox:2"   sh, sleep, nc, wget, ...
    ensure_httpd_image()   -> "navarch-test/httpd:2"     busybox httpd on port 8080
    remove_containers({"io.navarch.node": "n1"})         force-remove by labels

``ensure_*`` build only when the image is missing (or ``rebuild=True``); a file lock
keeps concurrent test processes from building the same image twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors

TEST_LABEL = "navarch.test"
# :2 resolves names (the resolver files); :1 crashed on lookups.
BUSYBOX_IMAGE = "navarch-test/busybox:2"
HTTPD_IMAGE = "navarch-test/httpd:2"
HTTPD_PORT = 8080
BUSYBOX_BINARY = Path("/bin/busybox")
IMAGES_DIR = Path(__file__).resolve().parents[2] / "deploy" / "images"

_LOCK = Path(tempfile.gettempdir()) / "navarch-test-images.lock"


def docker_client() -> docker.DockerClient:
    return docker.from_env(timeout=120)


def busybox_binary() -> Path:
    """The host's static busybox; installs Debian's ``busybox-static`` if it is missing."""
    if BUSYBOX_BINARY.is_file():
        return BUSYBOX_BINARY
    if shutil.which("apt-get") is None:
        raise RuntimeError("no /bin/busybox and no apt-get to install busybox-static")
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "busybox-static"],
        check=True,
        capture_output=True,
        env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )
    return BUSYBOX_BINARY


def resolver_files() -> list[Path]:
    """The host files a static-glibc busybox needs to resolve names (see the script)."""
    out = subprocess.run(
        [str(IMAGES_DIR / "resolver-files.sh")], check=True, capture_output=True, text=True
    )
    return [Path(line) for line in out.stdout.split()]


def _applets(binary: Path) -> list[str]:
    out = subprocess.run([str(binary), "--list"], check=True, capture_output=True, text=True)
    return [name for name in out.stdout.split() if name and "/" not in name]


def _add_file(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    tar.addfile(info, io.BytesIO(data))


def _add_dir(tar: tarfile.TarFile, name: str, mode: int = 0o755) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = mode
    tar.addfile(info)


def _context(files: dict[str, bytes], cmd: list[str] | None, expose: int | None) -> io.BytesIO:
    """A build context: a busybox root filesystem (``rootfs/``), ``files`` and a Dockerfile."""
    binary = busybox_binary()
    lines = ["FROM scratch", "COPY rootfs/ /"]
    if expose:
        lines.append(f"EXPOSE {expose}")
    if cmd:
        quoted = ", ".join(f'"{part}"' for part in cmd)
        lines.append(f"CMD [{quoted}]")
    else:
        lines.append('CMD ["sh"]')
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        _add_file(tar, "Dockerfile", ("\n".join(lines) + "\n").encode())
        for directory in ("rootfs", "rootfs/bin", "rootfs/etc", "rootfs/root", "rootfs/www"):
            _add_dir(tar, directory)
        _add_dir(tar, "rootfs/tmp", 0o1777)
        tar.add(str(binary), arcname="rootfs/bin/busybox")
        for applet in _applets(binary):
            if applet == "busybox":
                continue
            link = tarfile.TarInfo(f"rootfs/bin/{applet}")
            link.type = tarfile.SYMTYPE
            link.linkname = "busybox"
            tar.addfile(link)
        _add_file(
            tar,
            "rootfs/etc/passwd",
            b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
        )
        _add_file(tar, "rootfs/etc/group", b"root:x:0:\nnogroup:x:65534:\n")
        _add_file(tar, "rootfs/etc/nsswitch.conf", (IMAGES_DIR / "nsswitch.conf").read_bytes())
        for path in resolver_files():
            tar.add(str(path.resolve()), arcname=f"rootfs{path}")
        for name, data in files.items():
            _add_file(tar, f"rootfs/{name}", data)
    buf.seek(0)
    return buf


@contextlib.contextmanager
def _build_lock() -> Iterator[None]:
    with open(_LOCK, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _ensure(
    tag: str,
    files: dict[str, bytes],
    cmd: list[str] | None,
    expose: int | None = None,
    *,
    rebuild: bool = False,
) -> str:
    client = docker_client()
    try:
        with _build_lock():
            if not rebuild:
                with contextlib.suppress(docker.errors.ImageNotFound):
                    client.images.get(tag)
                    return tag
            client.images.build(
                fileobj=_context(files, cmd, expose),
                custom_context=True,
                tag=tag,
                labels={TEST_LABEL: "1"},
                rm=True,
                forcerm=True,
            )
        return tag
    finally:
        client.close()


def ensure_busybox_image(*, rebuild: bool = False) -> str:
    """``navarch-test/busybox:2``: every busybox applet in /bin, ``sh`` by default."""
    return _ensure(BUSYBOX_IMAGE, {}, None, rebuild=rebuild)


def ensure_httpd_image(*, rebuild: bool = False) -> str:
    """``navarch-test/httpd:2``: busybox httpd serving /www on port 8080 (logs to stderr).

    ``/www/index.html`` says ``hello from navarch``; ``/www/healthz`` says ``ok`` (delete
    it to make an HTTP probe fail).
    """
    files = {"www/index.html": b"hello from navarch\n", "www/healthz": b"ok\n"}
    cmd = ["httpd", "-f", "-v", "-p", str(HTTPD_PORT), "-h", "/www"]
    return _ensure(HTTPD_IMAGE, files, cmd, HTTPD_PORT, rebuild=rebuild)


def remove_containers(labels: dict[str, str]) -> int:
    """Force-remove every container carrying all of ``labels``; how many were removed."""
    client = docker_client()
    try:
        filters = {"label": [f"{k}={v}" for k, v in labels.items()]}
        removed = 0
        for container in client.api.containers(all=True, filters=filters):
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                client.api.remove_container(container["Id"], force=True, v=True)
                removed += 1
        return removed
    finally:
        client.close()


def containers(labels: dict[str, str], *, running_only: bool = False) -> list[dict[str, object]]:
    """Summaries (``docker ps`` rows) of containers carrying all of ``labels``."""
    client = docker_client()
    try:
        filters = {"label": [f"{k}={v}" for k, v in labels.items()]}
        return list(client.api.containers(all=not running_only, filters=filters))
    finally:
        client.close()


def remove_network(name: str) -> None:
    """Remove every Docker network named exactly ``name`` (errors ignored)."""
    client = docker_client()
    try:
        for net in client.api.networks(names=[name]):
            if net["Name"] == name:
                with contextlib.suppress(docker.errors.APIError):
                    client.api.remove_network(net["Id"])
    finally:
        client.close()
