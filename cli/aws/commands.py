"""``navarch aws up|down|status``: the command line of ``cli/aws``.

Each flag also reads an environment variable (``NAVARCH_AWS_<FLAG>``), as the AWS CLI
reads ``AWS_REGION`` and ``AWS_PROFILE``; those two are honoured as the AWS CLI does.
boto3 is imported only when a command runs (it is the optional ``aws`` extra).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.aws.session import AwsError, aws_errors

app = typer.Typer(
    name="aws",
    help="Three (or N) AWS instances running navarch: up, down, status (see docs/aws.md).",
    no_args_is_help=True,
)

Name = Annotated[
    str,
    typer.Option(envvar="NAVARCH_AWS_NAME", help="Cluster name: the navarch-cluster tag's value."),
]
Region = Annotated[
    str | None,
    typer.Option(help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's)."),
]
Profile = Annotated[
    str | None, typer.Option(help="AWS profile of ~/.aws/config (default: AWS_PROFILE).")
]
KeyName = Annotated[
    str | None,
    typer.Option(
        envvar="NAVARCH_AWS_KEY_NAME",
        help="An existing key pair (with --key-file) instead of one up creates (and down deletes).",
    ),
]
KeyFile = Annotated[
    Path | None,
    typer.Option(
        envvar="NAVARCH_AWS_KEY_FILE",
        help="Private key of the key pair (default ~/.navarch/aws/NAME-REGION.pem, 0600).",
    ),
]
DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Print the plan; only read from AWS, change nothing.")
]

DEFAULT_NAME = "navarch-aws"


def _run(body: Callable[[], Any]) -> Any:
    """Run ``body``; any AWS or settings problem ends as one line on stderr, exit 1."""
    from cli.aws.kubeconfig import KubeconfigError
    from cli.aws.spec import SpecError

    try:
        with aws_errors():
            return body()
    except (AwsError, SpecError, KubeconfigError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from err


def _provisioner(spec: Any, profile: str | None, region: str | None, dry_run: bool) -> Any:
    from dataclasses import replace

    from cli.aws.provision import Provisioner
    from cli.aws.session import open_session

    session = open_session(profile, region)
    spec = replace(spec, region=session.region_name)
    spec.validate(for_up=False)
    return Provisioner(session, spec, echo=typer.echo, dry_run=dry_run)


@app.command("up")
def up_cmd(
    operator_cidr: Annotated[
        str,
        typer.Option(
            envvar="NAVARCH_AWS_OPERATOR_CIDR",
            help="Your address: SSH (22) and the apiserver (6443) accept only it, e.g. 203.0.113.7/32.",
        ),
    ] = "",
    name: Name = DEFAULT_NAME,
    region: Region = None,
    profile: Profile = None,
    instance_type: Annotated[
        str, typer.Option(envvar="NAVARCH_AWS_INSTANCE_TYPE", help="EC2 instance type.")
    ] = "t3.medium",
    count: Annotated[
        int,
        typer.Option(
            envvar="NAVARCH_AWS_COUNT", help="Instances: 1 control plane + COUNT-1 nodes."
        ),
    ] = 3,
    vpc_cidr: Annotated[str, typer.Option(envvar="NAVARCH_AWS_VPC_CIDR")] = "10.0.0.0/16",
    subnet_cidr: Annotated[
        str,
        typer.Option(envvar="NAVARCH_AWS_SUBNET_CIDR", help="The public subnet, inside the VPC."),
    ] = "10.0.1.0/24",
    availability_zone: Annotated[
        str | None,
        typer.Option(help="Zone of the subnet (default: the first offering the instance type)."),
    ] = None,
    pod_network_cidr: Annotated[
        str, typer.Option(envvar="NAVARCH_AWS_POD_NETWORK_CIDR", help="Pod addresses.")
    ] = "10.244.0.0/16",
    service_cidr: Annotated[
        str, typer.Option(envvar="NAVARCH_AWS_SERVICE_CIDR", help="ClusterIP addresses.")
    ] = "10.96.0.0/12",
    node_port_range: Annotated[
        str, typer.Option(help="NodePorts the apiserver hands out and the group opens.")
    ] = "30000-32767",
    node_port_cidr: Annotated[
        list[str] | None,
        typer.Option(
            help="Who reaches NodePorts (repeatable; default the operator CIDR; 'none': nobody)."
        ),
    ] = None,
    disk_size: Annotated[int, typer.Option(help="Root volume of each instance, GiB (gp3).")] = 20,
    key_name: KeyName = None,
    key_file: KeyFile = None,
    wheel: Annotated[
        Path | None,
        typer.Option(help="navarch wheel to install (default: built from this checkout)."),
    ] = None,
    package_url: Annotated[
        str | None,
        typer.Option(help="Instead of a wheel: a pip requirement URL the instances install."),
    ] = None,
    wait: Annotated[
        bool, typer.Option(help="Wait for the control plane and write the kubeconfig context.")
    ] = True,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for all of it.")] = 1200.0,
    dry_run: DryRun = False,
) -> None:
    """Create (or complete) the cluster: VPC, subnet, internet gateway, route table,
    security group, key pair, IAM roles, SSM parameters, wheel bucket, instances; then
    merge a kubeconfig context NAME. Again: changes nothing.

    Example: navarch aws up --operator-cidr 203.0.113.7/32 --region eu-west-1
    """

    def body() -> None:
        from cli.aws.spec import ClusterSpec, parse_port_range

        cidrs: tuple[str, ...] | None = None
        if node_port_cidr is not None:
            cidrs = tuple(c for c in node_port_cidr if c.lower() != "none")
        spec = ClusterSpec(
            name=name,
            operator_cidr=operator_cidr,
            vpc_cidr=vpc_cidr,
            subnet_cidr=subnet_cidr,
            availability_zone=availability_zone,
            pod_network_cidr=pod_network_cidr,
            service_cidr=service_cidr,
            node_port_range=parse_port_range(node_port_range),
            node_port_cidrs=cidrs,
            instance_type=instance_type,
            count=count,
            disk_gb=disk_size,
            key_name=key_name,
            key_file=key_file.expanduser() if key_file else None,
            package_url=package_url,
            wheel=wheel,
        )
        spec.validate()  # before any AWS call: a bad flag needs no credentials
        provisioner = _provisioner(spec, profile, region, dry_run)
        provisioner.spec.validate()
        result = provisioner.up(wait=wait, timeout=timeout)
        if dry_run or not result.control_plane_public_ip:
            return
        ip = result.control_plane_public_ip
        key = provisioner.spec.private_key_path
        typer.echo(
            f"\ncontrol plane: {ip} (apiserver https://{ip}:6443)\n"
            f"  ssh -i {key} admin@{ip}\n"
            + (
                f"  navctl --context {name} get nodes     # or kubectl\n"
                if result.kubeconfig_context
                else ""
            )
            + f"  navarch aws status --name {name} --region {provisioner.spec.region}\n"
            f"  navarch aws down --name {name} --region {provisioner.spec.region}"
        )

    _run(body)


@app.command("down")
def down_cmd(
    name: Name = DEFAULT_NAME,
    region: Region = None,
    profile: Profile = None,
    key_name: KeyName = None,
    key_file: KeyFile = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before deleting.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the deletions.")] = 900.0,
    dry_run: DryRun = False,
) -> None:
    """Delete everything tagged navarch-cluster=NAME in the region, dependants first,
    waiting for each; then the private key, known_hosts and kubeconfig context up wrote.

    Example: navarch aws down --name navarch-aws --region eu-west-1 --yes
    """

    def body() -> None:
        from cli.aws.spec import ClusterSpec

        spec = ClusterSpec(name=name, key_name=key_name, key_file=key_file)
        provisioner = _provisioner(spec, profile, region, dry_run)
        found = provisioner.inventory()
        if not found:
            typer.echo(f"nothing of cluster {name} in {provisioner.spec.region}")
            provisioner.forget_locally()
            return
        if not (yes or dry_run):
            _print_found(found)
            if not typer.confirm(f"Delete these {len(found)} resources?", default=False):
                raise typer.Exit(1)
        provisioner.down(timeout=timeout)

    _run(body)


@app.command("status")
def status_cmd(name: Name = DEFAULT_NAME, region: Region = None, profile: Profile = None) -> None:
    """List what exists of the cluster (found by its tag), one resource a line.

    Example: navarch aws status --name navarch-aws --region eu-west-1
    """

    def body() -> None:
        from cli.aws.spec import ClusterSpec

        provisioner = _provisioner(ClusterSpec(name=name), profile, region, dry_run=False)
        found = provisioner.inventory()
        if not found:
            typer.echo(f"nothing of cluster {name} in {provisioner.spec.region}")
            return
        _print_found(found)

    _run(body)


def _print_found(found: list[Any]) -> None:
    for item in found:
        typer.echo(f"{item.kind:<16} {item.id:<34} {item.name:<24} {item.detail}".rstrip())
