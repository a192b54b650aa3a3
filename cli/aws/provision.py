"""``navarch aws up|down|status``: the cluster's AWS resources, reconciled.

``up`` walks the resources in dependency order and, for each, finds it by its tag
(``navarch-cluster=<name>``; IAM roles and the bucket by their derived names, then
checked by tag), creates it when absent and repairs what drifted (a missing route,
security group rules, a role policy, the source/destination check). So a second ``up``
changes nothing, and an ``up`` cut short is finished by the next. ``down`` deletes
whatever carries the tag, dependants first, and waits for each; ``status`` lists it.

With ``dry_run`` every step only reads (``Describe*``/``Get*``/``List*``/``Head*``; the
session refuses anything else, see ``session.forbid_mutations``) and says what it
would do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from cli.aws import kubeconfig
from cli.aws.access import AccessSteps
from cli.aws.instances import InstanceSteps
from cli.aws.network import NetworkSteps, Rule, desired_rules
from cli.aws.package import PackageSteps
from cli.aws.spec import CLUSTER_TAG, CONTROL_PLANE, INDEX_TAG, NODE, ROLE_TAG
from cli.aws.steps import error_code, ours, tag_value

__all__ = ["Found", "Provisioner", "Rule", "UpResult", "desired_rules"]


@dataclass
class Found:
    """One resource of the cluster as ``status`` lists it."""

    kind: str
    id: str
    name: str = ""
    detail: str = ""


@dataclass
class UpResult:
    instances: list[dict[str, Any]] = field(default_factory=list)
    control_plane_public_ip: str | None = None
    kubeconfig_context: str | None = None


class Provisioner(NetworkSteps, AccessSteps, PackageSteps, InstanceSteps):
    """The cluster ``spec`` in the session's account and region (the constructor is
    ``steps.Steps``'s)."""

    # ================================================================= up

    def up(self, *, wait: bool = True, timeout: float = 1200.0) -> UpResult:
        """Create what is missing, repair what drifted; then, with ``wait``, wait until
        the control plane wrote its admin kubeconfig and merge it as a context."""
        spec = self.spec
        deadline = self.clock() + timeout
        who = self.identity
        self.echo(
            f"cluster {spec.name} in {spec.region} (account {who.account})"
            + (": dry run, nothing is changed" if self.dry_run else "")
        )
        ami = self.find_ami()
        self.ensure_key_pair()
        bucket, install = self.ensure_install()
        self.ensure_parameters()
        profiles = {CONTROL_PLANE: self.ensure_role(CONTROL_PLANE, bucket)}
        if spec.count > 1:
            profiles[NODE] = self.ensure_role(NODE, bucket)
        vpc = self.ensure_vpc()
        igw = self.ensure_internet_gateway(vpc)
        subnet = self.ensure_subnet(vpc)
        self.ensure_route_table(vpc, subnet, igw)
        group = self.ensure_security_group(vpc)
        self.ensure_instances(ami, subnet, group, profiles, install)
        result = UpResult()
        if self.dry_run:
            self.report(
                "kubeconfig",
                spec.name,
                f"would be fetched over SSH into {kubeconfig.user_kubeconfig()}",
            )
            return result
        result.instances = self.wait_running(deadline)
        self.ensure_source_dest_check_off(result.instances)
        first = next((i for i in result.instances if tag_value(i, INDEX_TAG) == "1"), None)
        result.control_plane_public_ip = (first or {}).get("PublicIpAddress")
        if wait and first is not None:
            result.kubeconfig_context = self.ensure_kubeconfig(first, deadline)
        elif first is not None:
            self.report(
                "kubeconfig",
                spec.name,
                "not fetched (--no-wait): `navarch aws up` again fetches it",
            )
        return result

    # ================================================================= status

    def inventory(self) -> list[Found]:
        """Everything of the cluster that exists, found by its tag (IAM and the bucket
        by their names, then checked by tag)."""
        spec, ec2 = self.spec, self.ec2
        flt = spec.cluster_filter
        found: list[Found] = []
        for inst in self.live_instances():
            ips = f"{inst.get('PrivateIpAddress', '-')} / {inst.get('PublicIpAddress', '-')}"
            found.append(
                Found(
                    "instance",
                    inst["InstanceId"],
                    tag_value(inst, "Name") or "",
                    f"{tag_value(inst, ROLE_TAG)} {inst['State']['Name']} {inst['InstanceType']} {ips}",
                )
            )
        for pair in ec2.describe_key_pairs(Filters=flt)["KeyPairs"]:
            found.append(Found("key pair", pair["KeyPairId"], pair["KeyName"]))
        for sg in ec2.describe_security_groups(Filters=flt)["SecurityGroups"]:
            found.append(Found("security group", sg["GroupId"], sg["GroupName"]))
        for rtb in ec2.describe_route_tables(Filters=flt)["RouteTables"]:
            found.append(Found("route table", rtb["RouteTableId"], tag_value(rtb, "Name") or ""))
        for igw in ec2.describe_internet_gateways(Filters=flt)["InternetGateways"]:
            found.append(
                Found("internet gateway", igw["InternetGatewayId"], tag_value(igw, "Name") or "")
            )
        for subnet in ec2.describe_subnets(Filters=flt)["Subnets"]:
            found.append(
                Found(
                    "subnet",
                    subnet["SubnetId"],
                    tag_value(subnet, "Name") or "",
                    subnet["CidrBlock"],
                )
            )
        for vpc in ec2.describe_vpcs(Filters=flt)["Vpcs"]:
            found.append(Found("vpc", vpc["VpcId"], tag_value(vpc, "Name") or "", vpc["CidrBlock"]))
        for param in self._parameters():
            found.append(Found("parameter", param["Name"], "", param["Type"]))
        for role in (CONTROL_PLANE, NODE):
            name = spec.role_name(role)
            profile = self.get_iam(
                self.iam.get_instance_profile, "InstanceProfile", InstanceProfileName=name
            )
            if profile is not None and ours(profile.get("Tags"), spec):
                found.append(Found("instance profile", name))
            got = self.get_iam(self.iam.get_role, "Role", RoleName=name)
            if got is not None and ours(got.get("Tags"), spec):
                found.append(Found("iam role", name))
        bucket = self._bucket_name_if_ours()
        if bucket is not None:
            found.append(Found("bucket", bucket))
        return found

    def _parameters(self) -> list[dict[str, Any]]:
        params: list[dict[str, Any]] = self.ssm.describe_parameters(
            ParameterFilters=[
                {"Key": f"tag:{CLUSTER_TAG}", "Values": [self.spec.name]},
                {
                    "Key": "Path",
                    "Option": "OneLevel",
                    "Values": [self.spec.parameter_prefix.rstrip("/")],
                },
            ]
        )["Parameters"]
        return params

    def _bucket_name_if_ours(self) -> str | None:
        bucket = self.spec.bucket_name(self.identity.account)
        try:
            self.s3.head_bucket(Bucket=bucket)
        except ClientError:
            return None
        return bucket if self.bucket_tags(bucket).get(CLUSTER_TAG) == self.spec.name else None

    # ================================================================= down

    def down(self, *, timeout: float = 900.0) -> None:
        """Delete everything of the cluster, dependants first, waiting for each."""
        spec, ec2 = self.spec, self.ec2
        deadline = self.clock() + timeout
        found = self.inventory()
        by_kind: dict[str, list[Found]] = {}
        for item in found:
            by_kind.setdefault(item.kind, []).append(item)
        verb = "would delete" if self.dry_run else "deleted"

        instances = [f.id for f in by_kind.get("instance", [])]
        if instances:
            if not self.dry_run:
                ec2.terminate_instances(InstanceIds=instances)
                self.until(
                    "the instances to terminate", lambda: not self.live_instances(), deadline
                )
            for ident in instances:
                self.report("instance", ident, "would terminate" if self.dry_run else "terminated")
        for pair in by_kind.get("key pair", []):
            if not self.dry_run:
                ec2.delete_key_pair(KeyName=pair.name)
            self.report("key pair", pair.name, verb)
            if spec.key_name is None and spec.private_key_path.exists():
                if not self.dry_run:
                    spec.private_key_path.unlink()
                self.report("private key", str(spec.private_key_path), verb)
        for sg in by_kind.get("security group", []):
            self._delete(
                "security group",
                sg.id,
                partial(ec2.delete_security_group, GroupId=sg.id),
                deadline,
            )
        for rtb in by_kind.get("route table", []):
            if not self.dry_run:
                table = ec2.describe_route_tables(RouteTableIds=[rtb.id])["RouteTables"][0]
                for assoc in table.get("Associations", []):
                    if not assoc.get("Main"):
                        ec2.disassociate_route_table(AssociationId=assoc["RouteTableAssociationId"])
            self._delete(
                "route table",
                rtb.id,
                partial(ec2.delete_route_table, RouteTableId=rtb.id),
                deadline,
            )
        for igw in by_kind.get("internet gateway", []):
            if not self.dry_run:
                gateway = ec2.describe_internet_gateways(InternetGatewayIds=[igw.id])
                for attachment in gateway["InternetGateways"][0].get("Attachments", []):
                    ec2.detach_internet_gateway(InternetGatewayId=igw.id, VpcId=attachment["VpcId"])
            self._delete(
                "internet gateway",
                igw.id,
                partial(ec2.delete_internet_gateway, InternetGatewayId=igw.id),
                deadline,
            )
        for subnet in by_kind.get("subnet", []):
            self._delete(
                "subnet", subnet.id, partial(ec2.delete_subnet, SubnetId=subnet.id), deadline
            )
        for vpc in by_kind.get("vpc", []):
            self._delete("vpc", vpc.id, partial(ec2.delete_vpc, VpcId=vpc.id), deadline)
        params = [p.id for p in by_kind.get("parameter", [])]
        if params and not self.dry_run:
            self.ssm.delete_parameters(Names=params)
        for name in params:
            self.report("parameter", name, verb)
        for profile in by_kind.get("instance profile", []):
            if not self.dry_run:
                got = self.iam.get_instance_profile(InstanceProfileName=profile.id)
                for role in got["InstanceProfile"].get("Roles", []):
                    self.iam.remove_role_from_instance_profile(
                        InstanceProfileName=profile.id, RoleName=role["RoleName"]
                    )
                self.iam.delete_instance_profile(InstanceProfileName=profile.id)
            self.report("instance profile", profile.id, verb)
        for role in by_kind.get("iam role", []):
            if not self.dry_run:
                for policy in self.iam.list_role_policies(RoleName=role.id)["PolicyNames"]:
                    self.iam.delete_role_policy(RoleName=role.id, PolicyName=policy)
                attached = self.iam.list_attached_role_policies(RoleName=role.id)
                for policy in attached["AttachedPolicies"]:
                    self.iam.detach_role_policy(RoleName=role.id, PolicyArn=policy["PolicyArn"])
                self.iam.delete_role(RoleName=role.id)
            self.report("iam role", role.id, verb)
        for bucket in by_kind.get("bucket", []):
            if not self.dry_run:
                self._empty_bucket(bucket.id)
                self.s3.delete_bucket(Bucket=bucket.id)
            self.report("bucket", bucket.id, verb)
        self.forget_locally()

    def _delete(self, kind: str, ident: str, call: Callable[[], Any], deadline: float) -> None:
        """Delete, retrying while AWS still sees a dependant (an interface of a
        terminated instance lingers for a while)."""
        if self.dry_run:
            self.report(kind, ident, "would delete")
            return
        while True:
            try:
                call()
                break
            except ClientError as err:
                if error_code(err) != "DependencyViolation" or self.clock() >= deadline:
                    raise
                self.sleep(self.poll_interval)
        self.report(kind, ident, "deleted")

    def forget_locally(self) -> None:
        """The known_hosts file and the kubeconfig context ``up`` wrote."""
        spec = self.spec
        if spec.known_hosts_path.exists():
            if not self.dry_run:
                spec.known_hosts_path.unlink()
            self.report(
                "known hosts",
                str(spec.known_hosts_path),
                "would delete" if self.dry_run else "deleted",
            )
        target = kubeconfig.user_kubeconfig()
        if kubeconfig.has_context(target, spec.name):
            if not self.dry_run:
                kubeconfig.remove(target, spec.name)
            self.report(
                "kubeconfig",
                spec.name,
                f"{'would be ' if self.dry_run else ''}removed from {target}",
            )
