"""``navarch aws up|down|status`` against moto's in-process AWS (``mock_aws``).

No request may leave this machine: every test runs with fake credentials, no profile or
config file, no ``AWS_ENDPOINT_URL``, the instance-metadata credential lookup disabled,
and sockets that refuse any address but loopback; moto answers every AWS call inside
the process.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import socket
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import moto.ec2.models.amis as moto_amis
import pytest
import yaml
from botocore.exceptions import ClientError
from moto import mock_aws
from typer.testing import CliRunner

from cli.aws import kubeconfig
from cli.aws.provision import Provisioner, Rule
from cli.aws.session import READ_ONLY_PREFIXES, AwsError
from cli.aws.spec import TOKEN_RE, ClusterSpec
from cli.navarch import app

REGION = "eu-west-1"
OPERATOR = "203.0.113.7/32"
TAG = {"Name": "tag:navarch-cluster", "Values": ["navarch-aws"]}


def _ami(ami_id: str, name: str, arch: str, date: str, owner: str = "136693071363") -> dict:
    return {
        "ami_id": ami_id,
        "state": "available",
        "public": True,
        "owner_id": owner,
        "root_device_type": "ebs",
        "root_device_name": "/dev/xvda",
        "description": name,
        "image_type": "machine",
        "architecture": arch,
        "name": name,
        "virtualization_type": "hvm",
        "hypervisor": "xen",
        "creation_date": date,
    }


IMAGES = [
    _ami("ami-0debold", "debian-12-amd64-20240101-1600", "x86_64", "2024-01-01T16:00:00.000Z"),
    _ami("ami-0debnew", "debian-12-amd64-20240717-1811", "x86_64", "2024-07-17T18:11:00.000Z"),
    _ami("ami-0debarm", "debian-12-arm64-20240717-1811", "arm64", "2024-07-17T18:11:00.000Z"),
    # Newer, but not what was asked for: backports, or published by someone else.
    _ami(
        "ami-0debbpo",
        "debian-12-backports-amd64-20240801-1811",
        "x86_64",
        "2024-08-01T00:00:00.000Z",
    ),
    _ami(
        "ami-0dfake",
        "debian-12-amd64-20250101-0000",
        "x86_64",
        "2025-01-01T00:00:00.000Z",
        "999999999999",
    ),
]

ADMIN_CONF = """\
apiVersion: v1
kind: Config
clusters:
- name: kubernetes
  cluster: {server: 'https://10.0.1.10:6443', certificate-authority-data: Q0E=}
users:
- name: kubernetes-admin
  user: {client-certificate-data: Q0VSVA==, client-key-data: S0VZ}
contexts:
- name: kubernetes-admin@kubernetes
  context: {cluster: kubernetes, user: kubernetes-admin}
current-context: kubernetes-admin@kubernetes
"""

CONSOLE = """\
[   10.1] cloud-init[512]: Cloud-init v. 22.4.2 running 'modules:final'
<14>Dec  3 10:00:00 ec2: -----BEGIN SSH HOST KEY KEYS-----
<14>Dec  3 10:00:00 ec2: ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY= root@ip-10-0-1-10
<14>Dec  3 10:00:00 ec2: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKey root@ip-10-0-1-10
<14>Dec  3 10:00:00 ec2: -----END SSH HOST KEY KEYS-----
"""


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An environment in which boto3 can reach nothing but moto: fake credentials, no
    profile or config, no endpoint override, no metadata service, loopback only."""
    import os

    for var in list(os.environ):
        if var.startswith(("AWS_", "BOTO_")):
            monkeypatch.delenv(var)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KUBECONFIG", str(home / "kubeconfig"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    real_connect = socket.socket.connect

    def loopback_only(sock: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and not ipaddress.ip_address(host).is_loopback:
            raise AssertionError(f"a test tried to connect to {address}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", loopback_only)
    return home


@pytest.fixture
def aws(offline: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """moto's AWS with Debian's images (and decoys) in it; yields the fake HOME."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    # moto loads exactly these images (read when a region's backend is made).
    monkeypatch.setenv("MOTO_AMIS_PATH", "set-so-that-moto-loads-AMIS-only")
    monkeypatch.setattr(moto_amis, "AMIS", [dict(i) for i in IMAGES])
    # The command line's sessions too (boto3.client() makes its default one with it).
    monkeypatch.setattr(boto3, "Session", new_session)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    with mock_aws():
        yield offline


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    path = tmp_path / "navarch-0.1.0-py3-none-any.whl"
    path.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    return path


def spec_for(wheel: Path, **changes: Any) -> ClusterSpec:
    settings: dict[str, Any] = {"operator_cidr": OPERATOR, "region": REGION, "wheel": wheel}
    return ClusterSpec(**(settings | changes))


_LOADER = botocore.loaders.create_loader()
_Session = boto3.Session


def new_session(**kwargs: Any) -> Any:
    """A boto3 session that shares one loader of botocore's service models (parsing
    EC2's takes a second; each session would parse it again)."""
    core = botocore.session.get_session()
    core.register_component("data_loader", _LOADER)
    return _Session(botocore_session=core, **kwargs)


class Calls(list[str]):
    def mutating(self) -> list[str]:
        return [c for c in self if not c.startswith(READ_ONLY_PREFIXES)]


def provisioner(
    spec: ClusterSpec, console: str | None = None, **kwargs: Any
) -> tuple[Provisioner, Calls, list[str]]:
    """A Provisioner on a fresh session whose every API call is recorded (and whose
    instances' console shows ``console``)."""
    session = new_session()
    calls = Calls()
    session.events.register("before-call", lambda model, **_: calls.append(model.name))
    if console is not None:
        fake_console(session, console)
    out: list[str] = []
    kwargs.setdefault("sleep", lambda _: None)
    return Provisioner(session, spec, echo=out.append, **kwargs), calls, out


def fake_console(session: Any, text: str) -> None:
    """GetConsoleOutput answers ``text`` (moto's is a fixed Xen boot log). Clients
    copy the session's handlers when made: call this before making them."""
    encoded = base64.b64encode(text.encode()).decode()

    def answer(params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        return SimpleNamespace(status_code=200, headers={}), {
            "InstanceId": params["body"]["InstanceId"],  # the request, as EC2 gets it
            "Output": encoded,
        }

    session.events.register("before-call.ec2.GetConsoleOutput", answer)


def tagged(resource: dict[str, Any]) -> dict[str, str]:
    tags = resource.get("Tags") or resource.get("TagSet") or resource.get("TagList") or []
    return {t["Key"]: t["Value"] for t in tags}


def user_data(ec2: Any, instance_id: str) -> str:
    got = ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="userData")
    return base64.b64decode(got["UserData"]["Value"]).decode()


def live(ec2: Any) -> list[dict[str, Any]]:
    reservations = ec2.describe_instances(
        Filters=[TAG, {"Name": "instance-state-name", "Values": ["pending", "running"]}]
    )["Reservations"]
    return sorted(
        (i for r in reservations for i in r["Instances"]),
        key=lambda i: tagged(i)["navarch-index"],
    )


# ------------------------------------------------------------------------------- up


def test_up_creates_exactly_the_cluster(aws: Path, wheel: Path) -> None:
    spec = spec_for(wheel)
    prov, _, out = provisioner(spec)
    prov.up(wait=False)
    ec2, iam, ssm, s3 = (boto3.client(s) for s in ("ec2", "iam", "ssm", "s3"))

    vpcs = ec2.describe_vpcs(Filters=[TAG])["Vpcs"]
    assert [v["CidrBlock"] for v in vpcs] == ["10.0.0.0/16"]
    vpc = vpcs[0]["VpcId"]
    attr = ec2.describe_vpc_attribute(VpcId=vpc, Attribute="enableDnsHostnames")
    assert attr["EnableDnsHostnames"]["Value"] is True
    subnets = ec2.describe_subnets(Filters=[TAG])["Subnets"]
    assert [(s["VpcId"], s["CidrBlock"]) for s in subnets] == [(vpc, "10.0.1.0/24")]
    subnet = subnets[0]["SubnetId"]
    igws = ec2.describe_internet_gateways(Filters=[TAG])["InternetGateways"]
    assert [[a["VpcId"] for a in g["Attachments"]] for g in igws] == [[vpc]]
    tables = ec2.describe_route_tables(Filters=[TAG])["RouteTables"]
    assert len(tables) == 1
    default = [r for r in tables[0]["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
    assert [r["GatewayId"] for r in default] == [igws[0]["InternetGatewayId"]]
    assert [a["SubnetId"] for a in tables[0]["Associations"] if not a.get("Main")] == [subnet]

    groups = ec2.describe_security_groups(Filters=[TAG])["SecurityGroups"]
    assert len(groups) == 1 and groups[0]["VpcId"] == vpc
    group = groups[0]["GroupId"]
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group]}])
    ingress = {Rule.from_api(r) for r in rules["SecurityGroupRules"] if not r["IsEgress"]}
    assert ingress == {
        Rule("tcp", 22, 22, OPERATOR),
        Rule("tcp", 6443, 6443, OPERATOR),
        Rule("tcp", 30000, 32767, OPERATOR),
        Rule("udp", 30000, 32767, OPERATOR),
        Rule("-1", -1, -1, group=group),
        Rule("-1", -1, -1, "10.244.0.0/16"),
    }
    assert all(
        tagged(r).get("navarch-cluster") == "navarch-aws"
        for r in rules["SecurityGroupRules"]
        if not r["IsEgress"]
    )

    pairs = ec2.describe_key_pairs(Filters=[TAG])["KeyPairs"]
    assert [p["KeyName"] for p in pairs] == ["navarch-aws"]
    key = aws / ".navarch" / "aws" / f"navarch-aws-{REGION}.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert "PRIVATE KEY" in key.read_text()

    instances = live(ec2)
    assert len(instances) == 3
    for index, inst in enumerate(instances, start=1):
        tags = tagged(inst)
        assert tags["Name"] == f"navarch-aws-{index}"
        assert tags["navarch-role"] == ("control-plane" if index == 1 else "node")
        assert inst["ImageId"] == "ami-0debnew"  # newest Debian 12 amd64 from Debian's account
        assert inst["InstanceType"] == "t3.medium"
        assert inst["SubnetId"] == subnet
        # The group is the interface's (moto lists none at the instance level).
        assert [g["GroupId"] for g in inst["NetworkInterfaces"][0]["Groups"]] == [group]
        assert inst["KeyName"] == "navarch-aws"
        assert inst["SourceDestCheck"] is False
        assert inst.get("PublicIpAddress")
        assert inst["MetadataOptions"]["HttpTokens"] == "required"
        role = tags["navarch-role"]
        assert inst["IamInstanceProfile"]["Arn"].endswith(f"/navarch/navarch-aws-{REGION}-{role}")
        data = user_data(ec2, inst["InstanceId"])
        assert data.startswith("#cloud-config\n")
        if index == 1:
            assert inst["PrivateIpAddress"] == "10.0.1.10"
            assert "navarch init" in data and "navarch join" not in data
        else:
            assert 'navarch join "$APISERVER"' in data and "APISERVER=10.0.1.10:6443" in data
    volumes = ec2.describe_volumes(Filters=[TAG])["Volumes"]
    assert len(volumes) == 3

    token = ssm.get_parameter(Name="/navarch/navarch-aws/bootstrap-token", WithDecryption=True)
    assert token["Parameter"]["Type"] == "SecureString"
    assert TOKEN_RE.match(token["Parameter"]["Value"])
    ca_hash = ssm.get_parameter(Name="/navarch/navarch-aws/ca-cert-hash")["Parameter"]
    assert (ca_hash["Type"], ca_hash["Value"]) == ("String", "pending")
    for name in ("bootstrap-token", "ca-cert-hash"):
        listed = ssm.list_tags_for_resource(
            ResourceType="Parameter", ResourceId=f"/navarch/navarch-aws/{name}"
        )
        assert tagged(listed) == {"navarch-cluster": "navarch-aws"}

    account = boto3.client("sts").get_caller_identity()["Account"]
    params = f"arn:aws:ssm:{REGION}:{account}:parameter/navarch/navarch-aws"
    bucket = f"navarch-aws-{account}-{REGION}"
    for role, gets, puts in (
        ("control-plane", [f"{params}/bootstrap-token"], True),
        ("node", [f"{params}/bootstrap-token", f"{params}/ca-cert-hash"], False),
    ):
        name = f"navarch-aws-{REGION}-{role}"
        got = iam.get_role(RoleName=name)["Role"]
        assert tagged(got)["navarch-cluster"] == "navarch-aws"
        assert tagged(got)["navarch-region"] == REGION
        trust = got["AssumeRolePolicyDocument"]
        assert trust["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
        assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["navarch-bootstrap"]
        doc = iam.get_role_policy(RoleName=name, PolicyName="navarch-bootstrap")["PolicyDocument"]
        allowed = {(s["Action"], json.dumps(s["Resource"])) for s in doc["Statement"]}
        expected = {
            ("ssm:GetParameter", json.dumps(gets)),
            ("s3:GetObject", json.dumps(f"arn:aws:s3:::{bucket}/wheels/*")),
        }
        if puts:
            expected.add(("ssm:PutParameter", json.dumps(f"{params}/ca-cert-hash")))
        assert allowed == expected
        profile = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
        assert [r["RoleName"] for r in profile["Roles"]] == [name]

    assert tagged(s3.get_bucket_tagging(Bucket=bucket))["navarch-cluster"] == "navarch-aws"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    objects = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert [o["Key"] for o in objects] == ["wheels/navarch-0.1.0-py3-none-any.whl"]
    body = s3.get_object(Bucket=bucket, Key=objects[0]["Key"])["Body"].read()
    assert body == wheel.read_bytes()

    # Every EC2 resource made carries the tag: nothing untagged was created beside it.
    assert len(ec2.describe_vpcs()["Vpcs"]) == 2  # moto's default VPC, and ours
    assert len(ec2.describe_key_pairs()["KeyPairs"]) == 1
    assert (
        len(
            ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
                "SecurityGroups"
            ]
        )
        == 2
    )  # the VPC's default group, and ours
    assert any("instance" in line and "created" in line for line in out)


def test_instance_type_picks_the_architecture_and_count(aws: Path, wheel: Path) -> None:
    prov, _, _ = provisioner(spec_for(wheel, instance_type="t4g.medium", count=1))
    prov.up(wait=False)
    ec2 = boto3.client("ec2")
    instances = live(ec2)
    assert [(i["ImageId"], i["InstanceType"]) for i in instances] == [("ami-0debarm", "t4g.medium")]
    # One instance: no node role is needed, none is made.
    with pytest.raises(ClientError):
        boto3.client("iam").get_role(RoleName=f"navarch-aws-{REGION}-node")


def test_up_twice_changes_nothing(aws: Path, wheel: Path) -> None:
    spec = spec_for(wheel)
    first, _, _ = provisioner(spec)
    first.up(wait=False)
    before = sorted((f.kind, f.id) for f in first.inventory())
    ssm = boto3.client("ssm")
    token = ssm.get_parameter(Name=spec.token_parameter, WithDecryption=True)["Parameter"]

    again, calls, out = provisioner(spec)
    again.up(wait=False)
    assert calls.mutating() == []
    assert calls, "the second up looked at nothing"
    assert sorted((f.kind, f.id) for f in again.inventory()) == before
    after = ssm.get_parameter(Name=spec.token_parameter, WithDecryption=True)["Parameter"]
    assert (after["Value"], after["Version"]) == (token["Value"], token["Version"])
    assert not [line for line in out if "created" in line or "added" in line]


def test_up_repairs_what_drifted(aws: Path, wheel: Path) -> None:
    spec = spec_for(wheel)
    prov, _, _ = provisioner(spec)
    prov.up(wait=False)
    ec2 = boto3.client("ec2")
    group = ec2.describe_security_groups(Filters=[TAG])["SecurityGroups"][0]["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group, IpProtocol="tcp", FromPort=80, ToPort=80, CidrIp="0.0.0.0/0"
    )
    ssh = [
        r["SecurityGroupRuleId"]
        for r in ec2.describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [group]}]
        )["SecurityGroupRules"]
        if r.get("FromPort") == 22
    ]
    ec2.revoke_security_group_ingress(GroupId=group, SecurityGroupRuleIds=ssh)
    first = live(ec2)[0]["InstanceId"]
    ec2.modify_instance_attribute(InstanceId=first, SourceDestCheck={"Value": True})
    third = live(ec2)[2]["InstanceId"]
    ec2.stop_instances(InstanceIds=[third])

    # And the operator moved: the new address replaces the old one.
    moved = spec_for(wheel, operator_cidr="198.51.100.0/24")
    again, calls, _ = provisioner(moved)
    again.up(wait=False)
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group]}])
    ingress = {Rule.from_api(r) for r in rules["SecurityGroupRules"] if not r["IsEgress"]}
    assert Rule("tcp", 80, 80, "0.0.0.0/0") not in ingress
    assert Rule("tcp", 22, 22, "198.51.100.0/24") in ingress
    assert not any(r.cidr == OPERATOR for r in ingress)
    assert live(ec2)[0]["SourceDestCheck"] is False
    assert [i["InstanceId"] for i in live(ec2)][2] == third  # started again, not replaced
    assert "RunInstances" not in calls and "StartInstances" in calls


def test_the_token_is_never_printed_nor_in_user_data(aws: Path, wheel: Path) -> None:
    prov, _, out = provisioner(spec_for(wheel))
    prov.up(wait=False)
    token = boto3.client("ssm").get_parameter(
        Name="/navarch/navarch-aws/bootstrap-token", WithDecryption=True
    )["Parameter"]["Value"]
    ec2 = boto3.client("ec2")
    texts = [*out, *(user_data(ec2, i["InstanceId"]) for i in live(ec2))]
    token_id, secret = token.split(".")
    assert not [t for t in texts if secret in t or token_id + "." in t]


# ------------------------------------------------------------------------ dry run


def test_dry_run_calls_nothing_that_changes_anything(aws: Path, wheel: Path) -> None:
    prov, calls, out = provisioner(spec_for(wheel), dry_run=True)
    prov.up()
    assert calls and calls.mutating() == []
    assert "DescribeImages" in calls
    assert any("would create" in line for line in out)
    ec2 = boto3.client("ec2")
    assert ec2.describe_vpcs(Filters=[TAG])["Vpcs"] == []
    assert ec2.describe_instances(Filters=[TAG])["Reservations"] == []
    assert not (aws / ".navarch").exists()


def test_dry_run_refuses_a_mutating_call_itself(aws: Path, wheel: Path) -> None:
    prov, _, _ = provisioner(spec_for(wheel), dry_run=True)
    with pytest.raises(AwsError, match="refused to call CreateVpc"):
        prov.ec2.create_vpc(CidrBlock="10.9.0.0/16")


def test_dry_run_down_deletes_nothing(aws: Path, wheel: Path) -> None:
    spec = spec_for(wheel)
    prov, _, _ = provisioner(spec)
    prov.up(wait=False)
    before = prov.inventory()
    dry, calls, out = provisioner(spec, dry_run=True)
    dry.down()
    assert calls.mutating() == []
    assert len([line for line in out if "would" in line]) >= len(before)
    assert len(prov.inventory()) == len(before)


# ------------------------------------------------------------------------------ down


def test_down_leaves_nothing(aws: Path, wheel: Path) -> None:
    spec = spec_for(wheel)
    prov, _, _ = provisioner(spec)
    prov.up(wait=False)
    kube = Path(aws / "kubeconfig")
    kubeconfig.merge(
        kube, kubeconfig.adopt(ADMIN_CONF, name="navarch-aws", public_address="192.0.2.1")
    )
    kubeconfig.merge(kube, kubeconfig.adopt(ADMIN_CONF, name="local", public_address="127.0.0.1"))

    down, _, _ = provisioner(spec)
    down.down()
    assert down.inventory() == []
    ec2, iam, ssm, s3 = (boto3.client(s) for s in ("ec2", "iam", "ssm", "s3"))
    reservations = ec2.describe_instances(Filters=[TAG])["Reservations"]
    assert {i["State"]["Name"] for r in reservations for i in r["Instances"]} == {"terminated"}
    for listed in (
        ec2.describe_vpcs(Filters=[TAG])["Vpcs"],
        ec2.describe_subnets(Filters=[TAG])["Subnets"],
        ec2.describe_internet_gateways(Filters=[TAG])["InternetGateways"],
        ec2.describe_route_tables(Filters=[TAG])["RouteTables"],
        ec2.describe_security_groups(Filters=[TAG])["SecurityGroups"],
        ec2.describe_key_pairs(Filters=[TAG])["KeyPairs"],
        ec2.describe_volumes(Filters=[TAG])["Volumes"],
        ssm.describe_parameters()["Parameters"],
        iam.list_roles(PathPrefix="/navarch/")["Roles"],
        iam.list_instance_profiles(PathPrefix="/navarch/")["InstanceProfiles"],
        s3.list_buckets()["Buckets"],
    ):
        assert listed == []
    assert not (aws / ".navarch" / "aws" / f"navarch-aws-{REGION}.pem").exists()
    contexts = [c["name"] for c in yaml.safe_load(kube.read_text())["contexts"]]
    assert contexts == ["local"]

    # Nothing left: down again is a no-op, and up builds it all anew.
    down.down()
    prov.up(wait=False)
    assert len(live(ec2)) == 3


def test_down_waits_for_a_dependency_to_go(aws: Path, wheel: Path) -> None:
    """AWS refuses to delete a group while a terminated instance's interface lingers:
    down retries until it goes."""
    spec = spec_for(wheel)
    prov, _, _ = provisioner(spec)
    prov.up(wait=False)
    session = new_session()
    refusals = [2]

    def busy(**_: Any) -> Any:
        if refusals[0] == 0:
            return None
        refusals[0] -= 1
        error = {"Error": {"Code": "DependencyViolation", "Message": "in use"}}
        return SimpleNamespace(status_code=400, headers={}), error

    session.events.register("before-call.ec2.DeleteSecurityGroup", busy)
    sleeps: list[float] = []
    Provisioner(session, spec, echo=lambda _: None, sleep=sleeps.append).down()
    assert refusals == [0] and len(sleeps) >= 2
    assert boto3.client("ec2").describe_security_groups(Filters=[TAG])["SecurityGroups"] == []


# ----------------------------------------------------------------------- kubeconfig


def test_up_fetches_the_admin_kubeconfig_over_ssh_with_the_pinned_host_key(
    aws: Path, wheel: Path
) -> None:
    spec = spec_for(wheel)
    answers = [subprocess.CompletedProcess([], 255, "", "Connection refused")]
    ssh_calls: list[list[str]] = []

    def ssh(argv: Any) -> subprocess.CompletedProcess[str]:
        ssh_calls.append(list(argv))
        return answers.pop(0) if answers else subprocess.CompletedProcess(argv, 0, ADMIN_CONF, "")

    prov, _, _ = provisioner(spec, CONSOLE, ssh_runner=ssh)
    # A context of another cluster stays as it is.
    kube = aws / "kubeconfig"
    kubeconfig.merge(kube, kubeconfig.adopt(ADMIN_CONF, name="local", public_address="127.0.0.1"))
    result = prov.up(wait=True, timeout=60)

    ip = result.control_plane_public_ip
    assert ip and result.kubeconfig_context == "navarch-aws"
    known = aws / ".navarch" / "aws" / f"navarch-aws-{REGION}.known_hosts"
    assert known.read_text().splitlines() == [
        f"{ip} ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY=",
        f"{ip} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKey",
    ]
    assert len(ssh_calls) == 2  # refused once, then served
    argv = ssh_calls[-1]
    assert argv[0] == "ssh" and f"admin@{ip}" in argv
    assert "StrictHostKeyChecking=yes" in argv and f"UserKnownHostsFile={known}" in argv
    assert argv[argv.index("-i") + 1] == str(spec.private_key_path)
    assert argv[-3:] == ["sudo", "cat", "/etc/navarch/admin.conf"]

    doc = yaml.safe_load(kube.read_text())
    assert doc["current-context"] == "navarch-aws"
    assert stat.S_IMODE(kube.stat().st_mode) == 0o600
    clusters = {c["name"]: c["cluster"] for c in doc["clusters"]}
    assert clusters["navarch-aws"] == {
        "server": f"https://{ip}:6443",
        "certificate-authority-data": "Q0E=",
    }
    assert clusters["local"]["server"] == "https://127.0.0.1:6443"
    users = {u["name"]: u["user"] for u in doc["users"]}
    assert users["navarch-aws"]["client-key-data"] == "S0VZ"

    # Again: the context is there, nothing is fetched.
    again, _, _ = provisioner(spec, ssh_runner=ssh)
    again.up(wait=True, timeout=60)
    assert len(ssh_calls) == 2


def test_waiting_for_the_control_plane_times_out_with_a_clear_error(aws: Path, wheel: Path) -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    prov, _, _ = provisioner(
        spec_for(wheel),
        CONSOLE,
        sleep=sleep,
        clock=lambda: now[0],
        ssh_runner=lambda argv: subprocess.CompletedProcess(argv, 255, "", "refused"),
    )
    with pytest.raises(AwsError, match=r"timed out waiting for .* admin kubeconfig"):
        prov.up(wait=True, timeout=300)


def test_host_keys_come_from_the_last_block_on_the_console() -> None:
    older = CONSOLE.replace("AAAAC3NzaC1lZDI1NTE5AAAAIFakeKey", "AAAAC3NzaC1lZDI1NTE5AAAAIOld")
    assert kubeconfig.host_keys("nothing yet\n") == []
    assert kubeconfig.host_keys(older + CONSOLE)[-1] == (
        "ssh-ed25519",
        "AAAAC3NzaC1lZDI1NTE5AAAAIFakeKey",
    )


# ---------------------------------------------------------------------- command line


def invoke(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(app, ["aws", *args], input=input)


def test_missing_credentials_is_one_clear_line(offline: Path) -> None:
    result = invoke("status", "--region", REGION)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no AWS credentials:")
    assert "AWS_PROFILE" in lines[0] and "Traceback" not in result.output


def test_an_unknown_profile_is_one_clear_line(offline: Path) -> None:
    result = invoke("up", "--operator-cidr", OPERATOR, "--profile", "nosuch", "--region", REGION)
    assert result.exit_code == 1
    assert result.output.strip() == "error: The config profile (nosuch) could not be found"


def test_missing_region_is_one_clear_line(offline: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    result = invoke("status")
    assert result.exit_code == 1
    assert result.output.strip().startswith("error: no AWS region: pass --region")


def test_bad_flags_fail_before_any_aws_call(offline: Path) -> None:
    result = invoke("up")
    assert result.exit_code == 1 and "--operator-cidr is required" in result.output
    result = invoke("up", "--operator-cidr", "203.0.113.7/24")
    assert result.exit_code == 1 and "--operator-cidr '203.0.113.7/24'" in result.output
    result = invoke("up", "--operator-cidr", OPERATOR, "--pod-network-cidr", "10.0.0.0/8")
    assert result.exit_code == 1 and "overlaps --vpc-cidr" in result.output


def test_region_and_settings_come_from_the_environment(
    aws: Path, wheel: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "us-west-2")  # wins over AWS_DEFAULT_REGION, as in the AWS CLI
    monkeypatch.setenv("NAVARCH_AWS_OPERATOR_CIDR", OPERATOR)
    monkeypatch.setenv("NAVARCH_AWS_COUNT", "2")
    monkeypatch.setenv("NAVARCH_AWS_INSTANCE_TYPE", "t3.small")
    result = invoke("up", "--wheel", str(wheel), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "cluster navarch-aws in us-west-2" in result.output
    assert "navarch-aws-2" in result.output and "navarch-aws-3" not in result.output
    assert "would create (t3.small" in result.output


def test_the_command_line_up_status_down(aws: Path, wheel: Path) -> None:
    result = invoke("up", "--operator-cidr", OPERATOR, "--wheel", str(wheel), "--no-wait")
    assert result.exit_code == 0, result.output
    assert "control plane:" in result.output and "ssh -i" in result.output
    status = invoke("status")
    assert status.exit_code == 0
    lines = status.output.splitlines()
    assert len([line for line in lines if line.split()[1].startswith("i-")]) == 3
    assert [line for line in lines if line.startswith("vpc ")]
    assert [line for line in lines if line.startswith("bucket ")]
    refused = invoke("down", input="n\n")
    assert refused.exit_code == 1 and "Delete these" in refused.output
    assert invoke("status").output == status.output
    down = invoke("down", "--yes")
    assert down.exit_code == 0, down.output
    assert invoke("status").output.strip() == f"nothing of cluster navarch-aws in {REGION}"


def test_a_missing_ssh_client_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(kubeconfig.KubeconfigError, match="no ssh client"):
        kubeconfig.run_ssh(["ssh", "admin@127.0.0.1", "true"])
