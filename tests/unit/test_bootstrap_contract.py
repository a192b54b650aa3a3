"""The AWS user-data (``cli/aws/userdata.py``) calls ``navarch init``/``join`` with the
flags of the contract in docs/aws.md: every flag it passes is one the commands take,
and both read the token from ``NAVARCH_BOOTSTRAP_TOKEN``."""

from __future__ import annotations

import re

import typer

from cli.aws.spec import ClusterSpec
from cli.aws.userdata import Install, bootstrap_script
from cli.navarch import app

SPEC = ClusterSpec(operator_cidr="203.0.113.7/32")
INSTALL = Install(package_url="navarch")


def _invocation(script: str, verb: str) -> str:
    match = re.search(rf"^navarch {verb} (.*?)\| redact", script, re.S | re.M)
    assert match is not None, script
    return match.group(1)


def _options(verb: str) -> dict[str, object]:
    command = typer.main.get_command(app).commands[verb]  # type: ignore[attr-defined]
    found: dict[str, object] = {}
    for param in command.params:
        for opt in getattr(param, "opts", []):
            found[opt] = param
    return found


def test_init_and_join_take_every_flag_the_user_data_passes() -> None:
    for index, verb in ((1, "init"), (2, "join")):
        args = _invocation(bootstrap_script(SPEC, index, INSTALL), verb)
        flags = set(re.findall(r"(--[a-z-]+)", args))
        assert flags, args
        assert flags <= set(_options(verb)), flags - set(_options(verb))
    # The public address comes through an array the script fills.
    script = bootstrap_script(SPEC, 1, INSTALL)
    assert "extra_sans=(--apiserver-cert-extra-sans" in script
    assert "--apiserver-cert-extra-sans" in _options("init")


def test_the_token_comes_from_the_environment() -> None:
    for verb in ("init", "join"):
        token = _options(verb)["--token"]
        assert getattr(token, "envvar", None) == "NAVARCH_BOOTSTRAP_TOKEN"
