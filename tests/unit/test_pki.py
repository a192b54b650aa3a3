"""The PKI phases: what they make, that re-running keeps it, what they renew and why,
file modes, and that the certificates work for a real TLS handshake with client
authentication."""

from __future__ import annotations

import asyncio
import datetime
import ssl
import stat
from pathlib import Path

from cryptography import x509

from apiclient.config import load_config, merge_kubeconfig
from pki import certlist, ensure, serving
from pki.certlist import ClusterPKIConfig, Host
from pki.phases import kubeconfig, sakey
from pki.x509 import load_pair, subject_of, utcnow

NOW = utcnow()
CONFIG = ClusterPKIConfig(
    nodes=(Host("n1"), Host("n2", ("10.0.0.12",))),
    etcd_members=(Host("etcd-1"),),
    apiserver_names=("lb.example", "10.0.0.2"),
)


def _run(pki_dir: Path, config: ClusterPKIConfig = CONFIG, now: datetime.datetime = NOW):
    return {
        o.name: o
        for o in ensure(pki_dir, config, server="https://127.0.0.1:6443", cluster="c", now=now)
    }


def _sans(pki_dir: Path, name: str) -> tuple[set[str], set[str]]:
    pair = load_pair(pki_dir, name)
    assert pair is not None
    ext = pair.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(ext.get_values_for_type(x509.DNSName)), {
        str(ip) for ip in ext.get_values_for_type(x509.IPAddress)
    }


def test_first_run_makes_everything_private_and_a_second_run_keeps_it(tmp_path: Path) -> None:
    pki_dir = tmp_path / "pki"
    first = _run(pki_dir)
    assert {o.action for o in first.values()} == {"created"}
    for name in ("ca", "etcd/ca", "front-proxy-ca", "apiserver", "apiserver-kubelet-client",
                 "apiserver-etcd-client", "front-proxy-client", "etcd/healthcheck-client",
                 "etcd/etcd-1/server", "etcd/etcd-1/peer", "kubelet/n1", "kubelet/n2",
                 "users/admin", "users/node-n1", "sa", "encryption", "admin.conf",
                 "node-n2.conf", "kube-proxy.conf"):  # fmt: skip
        assert name in first, name
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    second = _run(pki_dir)
    assert {o.action for o in second.values()} == {"kept"}
    assert before == {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}


def test_subjects_and_names_are_kubeadms(tmp_path: Path) -> None:
    pki_dir = tmp_path / "pki"
    _run(pki_dir)
    dns, ips = _sans(pki_dir, "apiserver")
    assert {"kubernetes", "kubernetes.default", "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local", "localhost", "lb.example"} <= dns  # fmt: skip
    assert {"127.0.0.1", "10.96.0.1", "10.0.0.2"} <= ips
    assert _sans(pki_dir, "kubelet/n2") == ({"n2"}, {"10.0.0.12"})
    read = lambda name: (pki_dir / f"{name}.crt").read_bytes()  # noqa: E731
    assert subject_of(read("users/admin")) == ("kubernetes-admin", ["system:masters"])
    assert subject_of(read("users/node-n1")) == ("system:node:n1", ["system:nodes"])
    assert subject_of(read("users/controller-manager")) == ("system:kube-controller-manager", [])
    assert subject_of(read("apiserver-etcd-client"))[0] == "kube-apiserver-etcd-client"
    etcd_ca = load_pair(pki_dir, "etcd/ca")
    server = load_pair(pki_dir, "etcd/etcd-1/server")
    assert etcd_ca is not None and server is not None
    assert server.cert.issuer == etcd_ca.cert.subject


def test_certificates_renew_with_a_third_of_their_life_left(tmp_path: Path) -> None:
    pki_dir = tmp_path / "pki"
    _run(pki_dir)
    ca_before = load_pair(pki_dir, "ca")
    # 200 days in: more than a third of a year is left; 250 days in: less.
    assert {o.action for o in _run(pki_dir, now=NOW + datetime.timedelta(days=200)).values()} == {
        "kept"
    }
    later = _run(pki_dir, now=NOW + datetime.timedelta(days=250))
    assert later["apiserver"].action == "renewed"
    assert "third of its life" in later["apiserver"].reason
    assert later["ca"].action == "kept"
    assert later["admin.conf"].action == "renewed"  # the new client cert is embedded
    assert later["sa"].action == "kept"
    # Seven years in, the CA itself renews, with the same key: leaves stay valid.
    much_later = _run(pki_dir, now=NOW + datetime.timedelta(days=7 * 365))
    assert much_later["ca"].action == "renewed"
    ca_after = load_pair(pki_dir, "ca")
    assert ca_before is not None and ca_after is not None
    assert ca_after.cert.public_key() == ca_before.cert.public_key()
    assert ca_after.cert.not_valid_after_utc > ca_before.cert.not_valid_after_utc


def test_a_new_ca_or_new_names_reissue_what_depends_on_them(tmp_path: Path) -> None:
    pki_dir = tmp_path / "pki"
    _run(pki_dir)
    wider = ClusterPKIConfig(
        nodes=(*CONFIG.nodes, Host("n3")),
        etcd_members=CONFIG.etcd_members,
        apiserver_names=(*CONFIG.apiserver_names, "api.example"),
    )
    out = _run(pki_dir, wider)
    assert out["apiserver"].action == "renewed" and "names" in out["apiserver"].reason
    assert out["kubelet/n3"].action == "created" and out["node-n3.conf"].action == "created"
    assert out["kubelet/n1"].action == "kept"
    (pki_dir / "etcd" / "ca.key").unlink()
    out = _run(pki_dir, wider)
    assert out["etcd/ca"].action == "created"
    assert out["etcd/etcd-1/server"].reason == "another CA signed it"
    assert out["apiserver-etcd-client"].action == "renewed"
    assert out["apiserver"].action == "kept"


def test_kubeconfigs_embed_the_identity_and_merge(tmp_path: Path) -> None:
    pki_dir = tmp_path / "pki"
    _run(pki_dir)
    config = load_config(tmp_path / "node-n1.conf")
    assert config.server == "https://127.0.0.1:6443"
    assert config.client_cert_file and config.client_key_file and config.ca_file
    assert subject_of(Path(config.client_cert_file).read_bytes())[0] == "system:node:n1"
    user_file = tmp_path / "home" / "config"
    merge_kubeconfig(user_file, {"clusters": [{"name": "other", "cluster": {"server": "x"}}]})
    merge_kubeconfig(
        user_file, kubeconfig.for_user(pki_dir, certlist.ADMIN, cluster="c", server="https://h:1")
    )
    merged = load_config(user_file)
    assert merged.server == "https://h:1"
    assert stat.S_IMODE(user_file.stat().st_mode) == 0o600
    assert "other" in user_file.read_text()


def test_service_account_key_is_kept_across_runs(tmp_path: Path) -> None:
    first = sakey.run(tmp_path)
    key = (tmp_path / "sa.key").read_bytes()
    (tmp_path / "sa.pub").unlink()
    again = sakey.run(tmp_path)
    assert first[0].action == "created" and again[0].action == "renewed"
    assert (tmp_path / "sa.key").read_bytes() == key


async def test_a_real_handshake_with_client_authentication(tmp_path: Path) -> None:
    pki_dir = tmp_path / "pki"
    _run(pki_dir)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=pki_dir / "ca.crt")
    server_ctx.load_cert_chain(pki_dir / "apiserver.crt", pki_dir / "apiserver.key")
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    seen: list[object] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(writer.get_extra_info("peercert"))
        writer.write(b"ok")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    client_ctx = ssl.create_default_context(cafile=pki_dir / "ca.crt")
    client_ctx.load_cert_chain(pki_dir / "users/admin.crt", pki_dir / "users/admin.key")
    async with server:
        for host in ("127.0.0.1", "localhost"):
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, ssl=client_ctx, server_hostname=host
            )
            assert await reader.read() == b"ok"
            writer.close()
        # A client of another CA is refused by the server.
        other = tmp_path / "other"
        _run(other)
        bad_ctx = ssl.create_default_context(cafile=pki_dir / "ca.crt")
        bad_ctx.load_cert_chain(other / "users/admin.crt", other / "users/admin.key")
        # (TLS 1.3: the client's side of the handshake ends first; the refusal comes
        # as an alert or a closed connection on the first read.)
        answer = b""
        try:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, ssl=bad_ctx, server_hostname="localhost"
            )
            answer = await reader.read()
        except (ssl.SSLError, ConnectionError):
            pass
        assert answer == b""
    assert len(seen) == 2
    subject = dict(item[0] for item in seen[0]["subject"])  # type: ignore[index]
    assert subject["commonName"] == "kubernetes-admin"
    assert subject["organizationName"] == "system:masters"


def test_self_signed_serving_certificate_verifies_against_its_ca(tmp_path: Path) -> None:
    files = serving.self_signed(tmp_path, "apiserver", ["localhost", "127.0.0.1"])
    ctx = ssl.create_default_context(cafile=files.ca_file)
    ctx.load_verify_locations(files.ca_file)
    chain = x509.load_pem_x509_certificates(files.cert_file.read_bytes())
    ca = x509.load_pem_x509_certificate(files.ca_file.read_bytes())
    assert chain[1] == ca
    chain[0].verify_directly_issued_by(ca)
    again = serving.self_signed(tmp_path, "apiserver", ["localhost", "127.0.0.1"])
    assert again.cert_file.read_bytes() == files.cert_file.read_bytes()
