"""navarch itself on the instances: a wheel in the cluster's private bucket (built from
this checkout, or given), or a pip requirement URL.
"""

from __future__ import annotations

import contextlib
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from cli.aws.session import AwsError
from cli.aws.spec import CLUSTER_TAG
from cli.aws.steps import Steps, error_code
from cli.aws.userdata import Install
from cli.aws.wheel import build_wheel, sha256

WHEEL_PREFIX = "wheels/"


class PackageSteps(Steps):
    """The cluster's bucket and the wheel in it."""

    # ----- navarch itself: the wheel in the cluster's bucket, or a URL

    def ensure_install(self) -> tuple[str | None, Install]:
        spec = self.spec
        if spec.package_url:
            self.report("package", spec.package_url, "pip-installed by each instance")
            return None, Install(package_url=spec.package_url)
        bucket = spec.bucket_name(self.identity.account)
        exists = self._bucket_state(bucket)
        if exists:
            self.report("bucket", bucket, "exists")
        else:
            if not self.dry_run:
                args: dict[str, Any] = {"Bucket": bucket}
                if spec.region != "us-east-1":
                    args["CreateBucketConfiguration"] = {"LocationConstraint": spec.region}
                self.s3.create_bucket(**args)
                self.s3.put_public_access_block(
                    Bucket=bucket,
                    PublicAccessBlockConfiguration={
                        "BlockPublicAcls": True,
                        "IgnorePublicAcls": True,
                        "BlockPublicPolicy": True,
                        "RestrictPublicBuckets": True,
                    },
                )
                self.s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": spec.tag_list(bucket)})
            self.report("bucket", bucket, f"{self.created()} (private)")
        key = self._wheel_key(bucket) if exists else None
        if key is not None:
            self.report("wheel", key, "exists (instances install it)")
            return bucket, Install(bucket=bucket, key=key)
        if self.dry_run:
            name = spec.wheel.name if spec.wheel else f"navarch-{_version()}-py3-none-any.whl"
            source = spec.wheel or "this checkout"
            key = WHEEL_PREFIX + name
            self.report("wheel", key, f"would be built from {source} and uploaded")
            return bucket, Install(bucket=bucket, key=key)
        with tempfile.TemporaryDirectory(prefix="navarch-aws-") as tmp:
            wheel = spec.wheel or build_wheel(Path(tmp))
            key = WHEEL_PREFIX + wheel.name
            with wheel.open("rb") as body:
                self.s3.put_object(
                    Bucket=bucket,
                    Key=key,
                    Body=body,
                    Metadata={"sha256": sha256(wheel)},
                    Tagging=f"{CLUSTER_TAG}={spec.name}",
                )
        self.report("wheel", key, "uploaded")
        return bucket, Install(bucket=bucket, key=key)

    def _bucket_state(self, bucket: str) -> bool:
        """True if the bucket exists and is this cluster's; AwsError if it is another's."""
        try:
            self.s3.head_bucket(Bucket=bucket)
        except ClientError as err:
            if error_code(err) in {"404", "NoSuchBucket", "NotFound"}:
                return False
            if error_code(err) in {"403", "AccessDenied"}:
                raise AwsError(f"bucket {bucket} exists and this account may not use it") from err
            raise
        if self.bucket_tags(bucket).get(CLUSTER_TAG) != self.spec.name:
            raise AwsError(
                f"bucket {bucket} exists but is not tagged {CLUSTER_TAG}={self.spec.name}"
            )
        return True

    def bucket_tags(self, bucket: str) -> dict[str, str]:
        try:
            tags = self.s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
        except ClientError as err:
            if error_code(err) == "NoSuchTagSet":
                return {}
            raise
        return {t["Key"]: t["Value"] for t in tags}

    def _wheel_key(self, bucket: str) -> str | None:
        listed = self.s3.list_objects_v2(Bucket=bucket, Prefix=WHEEL_PREFIX)
        keys = sorted(o["Key"] for o in listed.get("Contents", []) if o["Key"].endswith(".whl"))
        return keys[0] if keys else None

    def _empty_bucket(self, bucket: str) -> None:
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                self.s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})


def _version() -> str:
    with contextlib.suppress(PackageNotFoundError):
        return version("navarch")
    return "0"
