"""``cli/bootstrap/tokens.py`` (``navarch token``): durations, the Secret's settings,
the list table and the join command, without a cluster."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

import pki
from apiclient.config import ClientConfig
from cli.bootstrap import tokens
from pki import bootstraptoken as bt
from pki.certlist import ClusterPKIConfig

NOW = datetime.datetime(2026, 12, 3, 12, 0, 0, tzinfo=datetime.UTC)
TOKEN = bt.parse("abcdef.0123456789abcdef")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("24h", 86400), ("24h0m0s", 86400), ("1h30m", 5400), ("90s", 90), ("45m", 2700),
     ("0", None), ("0s", None), ("0h0m", None),
     # Go reads these too (kubeadm takes its --ttl with time.ParseDuration).
     ("1.5h", 5400), ("30m1h", 5400)],
)  # fmt: skip
def test_ttl_is_a_go_duration_and_zero_is_forever(text: str, seconds: int | None) -> None:
    ttl = tokens.parse_ttl(text)
    assert (ttl.total_seconds() if ttl else None) == seconds


@pytest.mark.parametrize("text", ["", "1d", "h", "-1h", "10 m", "5"])
def test_bad_ttls_are_refused(text: str) -> None:
    with pytest.raises(bt.TokenError, match="--ttl"):
        tokens.parse_ttl(text)


def test_secret_carries_only_the_usages_groups_and_expiry_asked_for() -> None:
    secret = bt.secret_manifest(TOKEN, now=NOW, ttl=None, usages=("signing",), groups=(),
                                description="")  # fmt: skip
    data = secret["stringData"]
    assert isinstance(data, dict)
    assert data == {"token-id": "abcdef", "token-secret": "0123456789abcdef",
                    "usage-bootstrap-signing": "true"}  # fmt: skip


@pytest.mark.parametrize(
    ("usages", "groups"),
    [(("everything",), ()), ((), ()), (bt.USAGES, ("system:masters",)),
     (bt.USAGES, ("system:bootstrappers:",))],
)  # fmt: skip
def test_secret_refuses_unknown_usages_and_groups_outside_bootstrappers(
    usages: tuple[str, ...], groups: tuple[str, ...]
) -> None:
    with pytest.raises(bt.TokenError):
        bt.secret_manifest(TOKEN, now=NOW, usages=usages, groups=groups)


def test_table_shows_life_left_expiry_and_blanks() -> None:
    rows = [
        tokens.TokenRow(str(TOKEN), NOW + datetime.timedelta(hours=23, minutes=59), bt.USAGES,
                        "first", (bt.DEFAULT_GROUP,)),
        tokens.TokenRow("zzzzzz.0123456789abcdef", None, ("signing",), "", ()),
        tokens.TokenRow("yyyyyy.0123456789abcdef", NOW - datetime.timedelta(seconds=1),
                        ("authentication",), "", ()),
    ]  # fmt: skip
    lines = tokens.table(rows, NOW)
    assert lines[0].split() == [
        "TOKEN",
        "TTL",
        "EXPIRES",
        "USAGES",
        "DESCRIPTION",
        "EXTRA",
        "GROUPS",
    ]
    assert lines[1].split() == [str(TOKEN), "23h", "2026-12-04T11:59:00Z", "signing,authentication",
                                "first", bt.DEFAULT_GROUP]  # fmt: skip
    assert lines[2].split()[1:] == ["<forever>", "<never>", "signing", "<none>", "<none>"]
    assert lines[3].split()[1] == "<expired>"
    # Columns line up: every row's second column starts where the header's does.
    start = lines[0].index("TTL")
    assert all(line[start - 1] == " " and line[start] != " " for line in lines[1:])


def test_token_id_takes_an_id_or_a_whole_token() -> None:
    assert tokens.token_id("abcdef") == "abcdef"
    assert tokens.token_id(" abcdef.0123456789abcdef ") == "abcdef"
    for bad in ("ABCDEF", "abc", "abcdef.short", "../etc"):
        with pytest.raises(bt.TokenError):
            tokens.token_id(bad)


def test_join_command_names_the_server_and_the_ca_hash(tmp_path: Path) -> None:
    pki.ensure(tmp_path, ClusterPKIConfig(nodes=(), control_plane=(), etcd_members=()))
    ca = tmp_path / "ca.crt"
    config = ClientConfig(server="https://10.0.1.10:6443", ca_file=str(ca))
    line = tokens.join_command(config, TOKEN)
    assert line == (f"navarch join 10.0.1.10:6443 --token {TOKEN} "
                    f"--discovery-token-ca-cert-hash {bt.ca_cert_hash(ca.read_bytes())}")  # fmt: skip
    with pytest.raises(RuntimeError, match="certificate authority"):
        tokens.join_command(ClientConfig(server="https://10.0.1.10:6443"), TOKEN)
