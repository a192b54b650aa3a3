"""The etcd storage's gRPC channel: which name a TLS channel checks in the members'
certificates."""

from __future__ import annotations

from apiserver.storage.etcd import TLS_NAME_OF_MEMBERS, _channel_options


def names(servers: list[str], tls: bool) -> list[str]:
    return [v for k, v in _channel_options(servers, tls) if k == "grpc.ssl_target_name_override"]


def test_a_tls_channel_over_several_members_checks_the_name_they_all_carry() -> None:
    members = ["https://10.120.0.3:2379", "https://10.120.0.4:2379", "https://10.120.0.5:2379"]
    assert names(members, tls=True) == [TLS_NAME_OF_MEMBERS] == ["localhost"]


def test_one_member_or_plaintext_keeps_the_targets_own_name() -> None:
    assert names(["https://127.0.0.1:2379"], tls=True) == []
    assert names(["http://10.0.0.3:2379", "http://10.0.0.4:2379"], tls=False) == []
