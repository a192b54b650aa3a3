"""Who may do what: the key pair, the SSM parameters (bootstrap token, CA cert hash),
and the instances' IAM roles, each allowed only what its boot needs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from cli.aws.package import WHEEL_PREFIX
from cli.aws.session import AwsError
from cli.aws.spec import (
    CLUSTER_TAG,
    CONTROL_PLANE,
    IAM_PATH,
    NODE,
    REGION_TAG,
    ROLE_TAG,
    new_bootstrap_token,
)
from cli.aws.steps import Steps, error_code, ours

POLICY_NAME = "navarch-bootstrap"
EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


class AccessSteps(Steps):
    """Key pair, parameters, roles and instance profiles."""

    # ----- key pair

    def ensure_key_pair(self) -> str:
        spec = self.spec
        if spec.key_name:
            try:
                self.ec2.describe_key_pairs(KeyNames=[spec.key_name])
            except ClientError as err:
                if error_code(err) == "InvalidKeyPair.NotFound":
                    raise AwsError(
                        f"--key-name {spec.key_name}: no such key pair in {spec.region}"
                    ) from err
                raise
            self.report("key pair", spec.key_name, "given (not managed)")
            return spec.key_name
        name = spec.created_key_name
        path = spec.private_key_path
        pairs = self.ec2.describe_key_pairs(
            Filters=[*spec.cluster_filter, {"Name": "key-name", "Values": [name]}]
        )["KeyPairs"]
        if pairs:
            note = "" if path.exists() else f"; its private key {path} is missing"
            self.report("key pair", name, f"exists{note}")
            return name
        if path.exists():
            raise AwsError(
                f"{path} exists but key pair {name} does not: move the file away, or pass "
                "--key-name with an existing key pair and --key-file"
            )
        if not self.dry_run:
            made = self.ec2.create_key_pair(
                KeyName=name,
                KeyType="ed25519",
                KeyFormat="pem",
                TagSpecifications=[spec.tag_spec("key-pair", name)],
            )
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(made["KeyMaterial"].rstrip("\n") + "\n")
        self.report("key pair", name, f"{self.created()} (private key {path}, 0600)")
        return name

    # ----- the bootstrap token and the CA cert hash

    def ensure_parameters(self) -> None:
        spec = self.spec
        for name, kind, value, what in (
            (spec.token_parameter, "SecureString", None, "a new bootstrap token"),
            (spec.ca_hash_parameter, "String", "pending", "set by the control plane"),
        ):
            if self._parameter_exists(name):
                self.report("parameter", name, "exists")
                continue
            if not self.dry_run:
                self.ssm.put_parameter(
                    Name=name,
                    Type=kind,
                    # The token is made here and goes straight to SSM: never echoed.
                    Value=value if value is not None else new_bootstrap_token(),
                    Description=f"navarch cluster {spec.name}: {what}",
                    Tags=spec.tag_list(),
                )
            self.report("parameter", name, f"{self.created()} ({kind}, {what})")

    def _parameter_exists(self, name: str) -> bool:
        found = self.ssm.describe_parameters(
            ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}]
        )["Parameters"]
        return bool(found)

    # ----- IAM: one role and instance profile per role of instance

    def policy(self, role: str, bucket: str | None) -> dict[str, Any]:
        """Least privilege: read the token (and, to join, the CA hash); the control
        plane may write the CA hash; read the wheel. Nothing else."""
        who, spec = self.identity, self.spec

        def parameter(name: str) -> str:
            return f"arn:{who.partition}:ssm:{spec.region}:{who.account}:parameter{name}"

        readable = [parameter(spec.token_parameter)]
        if role == NODE:
            readable.append(parameter(spec.ca_hash_parameter))
        statements: list[dict[str, Any]] = [
            {
                "Sid": "ReadBootstrap",
                "Effect": "Allow",
                "Action": "ssm:GetParameter",
                "Resource": readable,
            }
        ]
        if role == CONTROL_PLANE:
            statements.append(
                {
                    "Sid": "PublishCaCertHash",
                    "Effect": "Allow",
                    "Action": "ssm:PutParameter",
                    "Resource": parameter(spec.ca_hash_parameter),
                }
            )
        if bucket is not None:
            statements.append(
                {
                    "Sid": "ReadWheel",
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:{who.partition}:s3:::{bucket}/{WHEEL_PREFIX}*",
                }
            )
        return {"Version": "2012-10-17", "Statement": statements}

    def ensure_role(self, role: str, bucket: str | None) -> str:
        """The role and instance profile of ``role``; returns the profile's name."""
        spec = self.spec
        name = spec.role_name(role)
        tags = spec.tag_list(name, **{REGION_TAG: spec.region, ROLE_TAG: role})
        found = self.get_iam(self.iam.get_role, "Role", RoleName=name)
        if found is None:
            if not self.dry_run:
                self.iam.create_role(
                    Path=IAM_PATH,
                    RoleName=name,
                    AssumeRolePolicyDocument=json.dumps(EC2_TRUST),
                    Description=f"navarch cluster {spec.name} ({spec.region}): {role} instances",
                    Tags=tags,
                )
            self.report("iam role", name, self.created())
        else:
            self._check_ours("iam role", name, found.get("Tags"))
            self.report("iam role", name, "exists")
        wanted = self.policy(role, bucket)
        current = None
        if found is not None:
            got = self.get_iam(
                self.iam.get_role_policy, "PolicyDocument", RoleName=name, PolicyName=POLICY_NAME
            )
            current = json.loads(got) if isinstance(got, str) else got
        if current != wanted:
            if not self.dry_run:
                self.iam.put_role_policy(
                    RoleName=name, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(wanted)
                )
            verb = "set" if current is None else "updated"
            self.report(
                "role policy", f"{name}/{POLICY_NAME}", f"would be {verb}" if self.dry_run else verb
            )
        profile = self.get_iam(
            self.iam.get_instance_profile, "InstanceProfile", InstanceProfileName=name
        )
        if profile is None:
            if not self.dry_run:
                self.iam.create_instance_profile(InstanceProfileName=name, Path=IAM_PATH, Tags=tags)
            self.report("instance profile", name, self.created())
        else:
            self._check_ours("instance profile", name, profile.get("Tags"))
            self.report("instance profile", name, "exists")
        roles = [r["RoleName"] for r in (profile or {}).get("Roles", [])]
        if name not in roles:
            if not self.dry_run:
                self.iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
            if profile is not None:
                self.report("instance profile", name, "role added")
        return name

    def get_iam(self, call: Callable[..., Any], key: str, **args: Any) -> Any:
        try:
            return call(**args)[key]
        except ClientError as err:
            if error_code(err) == "NoSuchEntity":
                return None
            raise

    def _check_ours(self, kind: str, name: str, tags: list[dict[str, str]] | None) -> None:
        if not ours(tags, self.spec):
            raise AwsError(
                f"{kind} {name} exists but is not tagged {CLUSTER_TAG}={self.spec.name}, "
                f"{REGION_TAG}={self.spec.region}: not touching it"
            )
