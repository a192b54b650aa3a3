"""An AWS session chosen as the AWS CLI chooses one, and errors in one line.

Region: ``--region``, else ``AWS_REGION``, else ``AWS_DEFAULT_REGION``, else the
profile's ``region``. Profile: ``--profile``, else ``AWS_PROFILE``, else ``default``.
Credentials: boto3's chain (environment, shared files, SSO, instance role, ...).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


class AwsError(Exception):
    """Something the operator must fix; the message is one line and says what."""


def _boto3() -> Any:
    try:
        import boto3
    except ImportError as err:
        raise AwsError(
            "navarch aws needs boto3: pip install 'navarch[aws]' (make install does)"
        ) from err
    return boto3


@dataclass(frozen=True)
class Identity:
    account: str
    partition: str
    arn: str


def open_session(profile: str | None, region: str | None) -> Any:
    """A ``boto3.Session`` with a region and credentials, or AwsError saying which is
    missing. No request is sent."""
    boto3 = _boto3()
    from botocore.exceptions import BotoCoreError

    region = region or os.environ.get("AWS_REGION") or None
    try:
        session = boto3.Session(profile_name=profile or None, region_name=region)
    except BotoCoreError as err:  # ProfileNotFound, a broken config file
        raise AwsError(one_line(err)) from err
    if not session.region_name:
        raise AwsError(
            "no AWS region: pass --region, or set AWS_REGION (or AWS_DEFAULT_REGION), "
            "or a region in your profile"
        )
    try:
        credentials = session.get_credentials()
    except BotoCoreError as err:
        raise AwsError(f"AWS credentials could not be loaded: {one_line(err)}") from err
    if credentials is None:
        raise AwsError(
            "no AWS credentials: set AWS_PROFILE (or pass --profile), or "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws configure` / "
            "`aws sso login`"
        )
    return session


def identity(session: Any) -> Identity:
    """Who the credentials are (``sts:GetCallerIdentity``: read-only, allowed to every
    principal), which also proves they work."""
    with aws_errors():
        found = session.client("sts").get_caller_identity()
    arn = found["Arn"]
    return Identity(account=found["Account"], partition=arn.split(":")[1], arn=arn)


def one_line(err: BaseException) -> str:
    return " ".join(str(err).split())


@contextmanager
def aws_errors() -> Iterator[None]:
    """Turn botocore's exceptions into AwsError with one line that says what failed."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        op = err.operation_name
        message = err.response.get("Error", {}).get("Message", "")
        if code in {
            "InvalidClientTokenId",
            "UnrecognizedClientException",
            "SignatureDoesNotMatch",
            "ExpiredToken",
            "ExpiredTokenException",
            "AuthFailure",
        }:
            raise AwsError(f"AWS rejected the credentials ({code}): {message}") from err
        raise AwsError(f"{op} failed ({code}): {one_line(Exception(message))}") from err
    except BotoCoreError as err:
        raise AwsError(one_line(err)) from err


READ_ONLY_PREFIXES = ("Describe", "Get", "List", "Head")


def forbid_mutations(session: Any, seen: Callable[[str], None] | None = None) -> None:
    """Make every client of ``session`` refuse any call that is not a read
    (``Describe*``, ``Get*``, ``List*``, ``Head*``) before it is sent: ``--dry-run``
    relies on this, not on each code path remembering to skip."""

    def guard(model: Any, **_: Any) -> None:
        if seen is not None:
            seen(model.name)
        if not model.name.startswith(READ_ONLY_PREFIXES):
            raise AwsError(f"--dry-run: refused to call {model.name}")

    session.events.register("before-call", guard)
