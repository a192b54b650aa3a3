"""The instances: Debian 12 from Debian's account, user-data per role, the source/
destination check off, and the admin kubeconfig fetched once the control plane is up.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from cli.aws import kubeconfig
from cli.aws.session import AwsError
from cli.aws.spec import ARCHES, DEBIAN_NAME, DEBIAN_OWNER, INDEX_TAG, LOGIN_USER, ROLE_TAG
from cli.aws.steps import Steps, error_code, tag_value
from cli.aws.userdata import Install, render

LIVE_STATES = ["pending", "running", "stopping", "stopped", "shutting-down"]


class InstanceSteps(Steps):
    """Image, instances, their attributes, the kubeconfig."""

    # ----- image

    def find_ami(self) -> dict[str, Any]:
        """The newest Debian 12 image, published by Debian, for the instance type's
        architecture (x86_64 -> amd64, arm64 -> arm64)."""
        found = self.ec2.describe_instance_types(InstanceTypes=[self.spec.instance_type])
        arches = found["InstanceTypes"][0]["ProcessorInfo"]["SupportedArchitectures"]
        arch = next((a for a in ("x86_64", "arm64") if a in arches), None)
        if arch is None:
            raise AwsError(f"{self.spec.instance_type}: no Debian 12 image for {arches}")
        images = self.ec2.describe_images(
            Owners=[DEBIAN_OWNER],
            Filters=[
                {"Name": "name", "Values": [DEBIAN_NAME.format(arch=ARCHES[arch])]},
                {"Name": "architecture", "Values": [arch]},
                {"Name": "state", "Values": ["available"]},
            ],
        )["Images"]
        if not images:
            raise AwsError(
                f"no Debian 12 {ARCHES[arch]} image from owner {DEBIAN_OWNER} in {self.spec.region}"
            )
        image: dict[str, Any] = max(images, key=lambda i: i.get("CreationDate", ""))
        self.report("image", image["ImageId"], f"{image.get('Name', '')} ({arch})")
        return image

    # ----- instances

    def live_instances(self) -> list[dict[str, Any]]:
        reservations = self.ec2.describe_instances(
            Filters=[
                *self.spec.cluster_filter,
                {"Name": "instance-state-name", "Values": LIVE_STATES},
            ]
        )["Reservations"]
        found = [i for r in reservations for i in r["Instances"]]
        return sorted(found, key=lambda i: int(tag_value(i, INDEX_TAG) or 0))

    def ensure_instances(
        self,
        image: dict[str, Any],
        subnet_id: str,
        group_id: str,
        profiles: dict[str, str],
        install: Install,
    ) -> None:
        spec = self.spec
        existing = {tag_value(i, INDEX_TAG): i for i in self.live_instances()}
        for index in range(1, spec.count + 1):
            name, role = spec.instance_name(index), spec.role_of(index)
            found = existing.pop(str(index), None)
            if found is not None:
                state = found["State"]["Name"]
                self.report("instance", found["InstanceId"], f"exists ({name}, {role}, {state})")
                if state == "stopped":
                    # A stopped node is not a node: start it (its disk and role are kept).
                    if not self.dry_run:
                        self.ec2.start_instances(InstanceIds=[found["InstanceId"]])
                    verb = "would be started" if self.dry_run else "started"
                    self.report("instance", found["InstanceId"], verb)
                continue
            user_data = render(spec, index, install)
            where = spec.control_plane_ip if index == 1 else "an address of the subnet"
            if self.dry_run:
                self.report(
                    "instance", name, f"would create ({spec.instance_type}, {role}, {where})"
                )
                continue
            made = self._run_instance(index, image, subnet_id, group_id, profiles[role], user_data)
            self.report("instance", made["InstanceId"], f"created ({name}, {role}, {where})")
        for number, extra in existing.items():
            self.report(
                "instance",
                extra["InstanceId"],
                f"exists beyond --count {spec.count} (index {number}): left alone; `down` removes it",
            )

    def _run_instance(
        self,
        index: int,
        image: dict[str, Any],
        subnet_id: str,
        group_id: str,
        profile: str,
        user_data: str,
    ) -> dict[str, Any]:
        spec = self.spec
        name, role = spec.instance_name(index), spec.role_of(index)
        interface: dict[str, Any] = {
            "DeviceIndex": 0,
            "SubnetId": subnet_id,
            "Groups": [group_id],
            "AssociatePublicIpAddress": True,
            "DeleteOnTermination": True,
        }
        if index == 1:
            interface["PrivateIpAddress"] = spec.control_plane_ip
        args = {
            "ImageId": image["ImageId"],
            "InstanceType": spec.instance_type,
            "MinCount": 1,
            "MaxCount": 1,
            "KeyName": spec.ssh_key_name,
            "UserData": user_data,
            "IamInstanceProfile": {"Name": profile},
            "NetworkInterfaces": [interface],
            "BlockDeviceMappings": [
                {
                    "DeviceName": image.get("RootDeviceName", "/dev/xvda"),
                    "Ebs": {
                        "VolumeSize": spec.disk_gb,
                        "VolumeType": "gp3",
                        "DeleteOnTermination": True,
                        "Encrypted": True,
                    },
                }
            ],
            # IMDSv2 only, one hop: pods (a bridge away) cannot take the role's credentials.
            "MetadataOptions": {
                "HttpTokens": "required",
                "HttpPutResponseHopLimit": 1,
                "HttpEndpoint": "enabled",
            },
            "TagSpecifications": [
                spec.tag_spec("instance", name, **{ROLE_TAG: role, INDEX_TAG: str(index)}),
                spec.tag_spec("volume", name),
                spec.tag_spec("network-interface", name),
            ],
            # A retried call in the same subnet launches nothing twice.
            "ClientToken": f"{subnet_id}-{index}",
        }
        deadline = self.clock() + 120
        while True:
            try:
                made: dict[str, Any] = self.ec2.run_instances(**args)["Instances"][0]
                return made
            except ClientError as err:
                # A new instance profile takes seconds to be usable by EC2.
                message = str(err).lower()
                if (
                    error_code(err) == "InvalidParameterValue"
                    and "instance profile" in message
                    and self.clock() < deadline
                ):
                    self.sleep(self.poll_interval)
                    continue
                raise

    def wait_running(self, deadline: float) -> list[dict[str, Any]]:
        def running() -> list[dict[str, Any]] | None:
            live = self.live_instances()
            if all(i["State"]["Name"] == "running" for i in live):
                return live
            return None

        return self.until("the instances to run", running, deadline)

    def ensure_source_dest_check_off(self, instances: list[dict[str, Any]]) -> None:
        """Pods' packets carry pod addresses: an instance must send and receive what is
        not addressed to itself (the network agent routes pod CIDRs via the nodes)."""
        for inst in instances:
            if inst.get("SourceDestCheck", True):
                self.ec2.modify_instance_attribute(
                    InstanceId=inst["InstanceId"], SourceDestCheck={"Value": False}
                )
                self.report("instance", inst["InstanceId"], "source/destination check off")

    # ----- kubeconfig

    def ensure_kubeconfig(self, first: dict[str, Any], deadline: float) -> str | None:
        spec = self.spec
        address = first.get("PublicIpAddress")
        target = kubeconfig.user_kubeconfig()
        if not address:
            self.report(
                "kubeconfig", spec.name, "not fetched: the control plane has no public address"
            )
            return None
        if kubeconfig.has_context(target, spec.name):
            self.report("kubeconfig", spec.name, f"exists in {target}")
            return spec.name
        key_file = spec.private_key_path
        if not key_file.exists():
            self.report(
                "kubeconfig", spec.name, f"not fetched: no private key {key_file} (pass --key-file)"
            )
            return None
        self.echo(f"waiting for the control plane ({address}) to finish navarch init...")

        def console_keys() -> list[tuple[str, str]] | None:
            output = self._console_output(first["InstanceId"])
            return kubeconfig.host_keys(output) or None

        keys = self.until("the SSH host keys on the instance's console", console_keys, deadline)
        kubeconfig.write_known_hosts(spec.known_hosts_path, address, keys)
        admin = self.until(
            f"{address} to serve its admin kubeconfig over SSH (what the instance did: "
            f"ssh -i {key_file} {LOGIN_USER}@{address} sudo tail /var/log/cloud-init-output.log)",
            lambda: kubeconfig.fetch_admin_kubeconfig(
                address, key_file, spec.known_hosts_path, self.ssh_runner
            ),
            deadline,
        )
        entries = kubeconfig.adopt(admin, name=spec.name, public_address=address)
        kubeconfig.merge(target, entries, make_current=spec.name)
        self.report("kubeconfig", spec.name, f"written to {target}, current context")
        return spec.name

    def _console_output(self, instance_id: str) -> str:
        try:
            got = self.ec2.get_console_output(InstanceId=instance_id, Latest=True)
        except ClientError as err:
            if error_code(err) != "UnsupportedOperation":  # Latest needs a Nitro instance
                raise
            got = self.ec2.get_console_output(InstanceId=instance_id)
        return str(got.get("Output") or "")
