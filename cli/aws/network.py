"""The cluster's network: VPC, internet gateway, public subnet, route table, and a
security group that lets in only what the cluster needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cli.aws.session import AwsError
from cli.aws.spec import ClusterSpec
from cli.aws.steps import Steps


@dataclass(frozen=True)
class Rule:
    """One ingress rule of the cluster's security group."""

    protocol: str
    """``tcp``, ``udp`` or ``-1`` (all)."""
    from_port: int
    to_port: int
    cidr: str | None = None
    group: str | None = None
    description: str = field(default="", compare=False)

    def permission(self) -> dict[str, Any]:
        perm: dict[str, Any] = {"IpProtocol": self.protocol}
        if self.protocol != "-1":
            perm |= {"FromPort": self.from_port, "ToPort": self.to_port}
        if self.cidr:
            perm["IpRanges"] = [{"CidrIp": self.cidr, "Description": self.description}]
        else:
            perm["UserIdGroupPairs"] = [{"GroupId": self.group, "Description": self.description}]
        return perm

    def __str__(self) -> str:
        ports = "all" if self.protocol == "-1" else f"{self.protocol}/{self.from_port}"
        if self.protocol != "-1" and self.to_port != self.from_port:
            ports += f"-{self.to_port}"
        return f"{ports} from {self.cidr or 'the group'}"

    @classmethod
    def from_api(cls, rule: dict[str, Any]) -> Rule:
        protocol = rule["IpProtocol"]
        low, high = (-1, -1) if protocol == "-1" else (rule["FromPort"], rule["ToPort"])
        group = (rule.get("ReferencedGroupInfo") or {}).get("GroupId")
        return cls(protocol, low, high, rule.get("CidrIpv4"), group, rule.get("Description", ""))


def desired_rules(spec: ClusterSpec, group_id: str) -> list[Rule]:
    """Only what the cluster needs, nothing from anywhere else."""
    low, high = spec.node_port_range
    rules = [
        Rule("tcp", 22, 22, spec.ssh_cidr, description="SSH from the operator"),
        Rule("tcp", 6443, 6443, spec.operator_cidr, description="apiserver from the operator"),
    ]
    for cidr in spec.effective_node_port_cidrs:
        for protocol in ("tcp", "udp"):
            rules.append(Rule(protocol, low, high, cidr, description="NodePorts"))
    rules += [
        # Node to node, by the nodes' own addresses: the apiserver (6443) and etcd-less
        # control-plane ports, the kubelets (10250), and Service traffic kube-proxy
        # masquerades to a node address on its way to a pod on another node (any port).
        Rule("-1", -1, -1, group=group_id, description="node to node"),
        # Pod to pod across hosts: routed (host-gw) with pod source addresses, never
        # NATed, so a group reference (which matches the nodes' addresses) misses it.
        Rule("-1", -1, -1, spec.pod_network_cidr, description="pod to pod across nodes"),
    ]
    return rules


class NetworkSteps(Steps):
    """VPC, gateway, subnet, routes, security group."""

    def ensure_vpc(self) -> str:
        spec = self.spec
        vpcs = self.ec2.describe_vpcs(Filters=spec.cluster_filter)["Vpcs"]
        if vpcs:
            vpc = vpcs[0]
            note = ""
            if vpc["CidrBlock"] != spec.vpc_cidr:
                note = f" with {vpc['CidrBlock']}, not {spec.vpc_cidr}: `down` first to change it"
            self.report("vpc", vpc["VpcId"], f"exists{note}")
            vpc_id: str = vpc["VpcId"]
            attr = self.ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")
            if attr["EnableDnsHostnames"]["Value"]:
                return vpc_id
        else:
            vpc_id = "(new vpc)"
            if not self.dry_run:
                made = self.ec2.create_vpc(
                    CidrBlock=spec.vpc_cidr,
                    TagSpecifications=[spec.tag_spec("vpc", f"{spec.name}-vpc")],
                )
                vpc_id = made["Vpc"]["VpcId"]
                self.until(
                    f"vpc {vpc_id}",
                    lambda: (
                        self.ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["State"] == "available"
                    ),
                    self.clock() + 120,
                )
            self.report("vpc", vpc_id, f"{self.created()} ({spec.vpc_cidr})")
        if not self.dry_run:
            # Instances get DNS names (ip-10-0-1-10...) that resolve inside the VPC.
            self.ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
        return vpc_id

    def ensure_internet_gateway(self, vpc_id: str) -> str:
        spec = self.spec
        found = self.ec2.describe_internet_gateways(Filters=spec.cluster_filter)["InternetGateways"]
        if found:
            igw_id: str = found[0]["InternetGatewayId"]
            attached = {a["VpcId"] for a in found[0].get("Attachments", [])}
            if vpc_id in attached:
                self.report("internet gateway", igw_id, "exists")
                return igw_id
            action = "exists, would be attached" if self.dry_run else "exists, attached"
        else:
            igw_id = "(new igw)"
            if not self.dry_run:
                made = self.ec2.create_internet_gateway(
                    TagSpecifications=[spec.tag_spec("internet-gateway", f"{spec.name}-igw")]
                )
                igw_id = made["InternetGateway"]["InternetGatewayId"]
            action = self.created()
        if not self.dry_run:
            self.ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
        self.report("internet gateway", igw_id, action)
        return igw_id

    def ensure_subnet(self, vpc_id: str) -> str:
        spec = self.spec
        found = self.ec2.describe_subnets(Filters=spec.cluster_filter)["Subnets"]
        if found:
            subnet_id: str = found[0]["SubnetId"]
            self.report("subnet", subnet_id, f"exists ({found[0]['AvailabilityZone']})")
            return subnet_id
        zone = spec.availability_zone or self._zone_offering(spec.instance_type)
        subnet_id = "(new subnet)"
        if not self.dry_run:
            made = self.ec2.create_subnet(
                VpcId=vpc_id,
                CidrBlock=spec.subnet_cidr,
                AvailabilityZone=zone,
                TagSpecifications=[spec.tag_spec("subnet", f"{spec.name}-public")],
            )
            subnet_id = made["Subnet"]["SubnetId"]
        self.report("subnet", subnet_id, f"{self.created()} ({spec.subnet_cidr} in {zone})")
        return subnet_id

    def _zone_offering(self, instance_type: str) -> str:
        """The first zone (by name) of the region that offers the instance type: not
        every zone has every type (us-east-1e has no t3)."""
        offers = self.ec2.describe_instance_type_offerings(
            LocationType="availability-zone",
            Filters=[{"Name": "instance-type", "Values": [instance_type]}],
        )["InstanceTypeOfferings"]
        zones = sorted(o["Location"] for o in offers)
        if not zones:
            raise AwsError(f"no availability zone of {self.spec.region} offers {instance_type}")
        return zones[0]

    def ensure_route_table(self, vpc_id: str, subnet_id: str, igw_id: str) -> str:
        spec = self.spec
        found = self.ec2.describe_route_tables(Filters=spec.cluster_filter)["RouteTables"]
        routes: list[dict[str, Any]] = []
        associations: list[dict[str, Any]] = []
        if found:
            rtb_id: str = found[0]["RouteTableId"]
            routes, associations = found[0].get("Routes", []), found[0].get("Associations", [])
            self.report("route table", rtb_id, "exists")
        else:
            rtb_id = "(new route table)"
            if not self.dry_run:
                made = self.ec2.create_route_table(
                    VpcId=vpc_id,
                    TagSpecifications=[spec.tag_spec("route-table", f"{spec.name}-public")],
                )
                rtb_id = made["RouteTable"]["RouteTableId"]
            self.report("route table", rtb_id, self.created())
        if not any(
            r.get("DestinationCidrBlock") == "0.0.0.0/0" and r.get("GatewayId") == igw_id
            for r in routes
        ):
            if not self.dry_run:
                if any(r.get("DestinationCidrBlock") == "0.0.0.0/0" for r in routes):
                    self.ec2.replace_route(
                        RouteTableId=rtb_id, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id
                    )
                else:
                    self.ec2.create_route(
                        RouteTableId=rtb_id, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id
                    )
            self.report("route", "0.0.0.0/0", f"via {igw_id}: {self.created()}")
        if not any(a.get("SubnetId") == subnet_id for a in associations):
            if not self.dry_run:
                self.ec2.associate_route_table(RouteTableId=rtb_id, SubnetId=subnet_id)
            self.report(
                "route table",
                rtb_id,
                f"{'would be ' if self.dry_run else ''}associated with {subnet_id}",
            )
        return rtb_id

    def ensure_security_group(self, vpc_id: str) -> str:
        spec = self.spec
        found = self.ec2.describe_security_groups(Filters=spec.cluster_filter)["SecurityGroups"]
        if found:
            group_id: str = found[0]["GroupId"]
            self.report("security group", group_id, "exists")
            listed = self.ec2.describe_security_group_rules(
                Filters=[{"Name": "group-id", "Values": [group_id]}]
            )["SecurityGroupRules"]
            current = {
                Rule.from_api(r): r["SecurityGroupRuleId"] for r in listed if not r["IsEgress"]
            }
        else:
            group_id = "(new group)"
            if not self.dry_run:
                group_id = self.ec2.create_security_group(
                    GroupName=f"{spec.name}-nodes",
                    Description=f"navarch cluster {spec.name}: nodes",
                    VpcId=vpc_id,
                    TagSpecifications=[spec.tag_spec("security-group", f"{spec.name}-nodes")],
                )["GroupId"]
            self.report("security group", group_id, self.created())
            current = {}
        wanted = desired_rules(spec, group_id)
        missing = [r for r in wanted if r not in current]
        extra = [rule_id for r, rule_id in current.items() if r not in wanted]
        if missing and not self.dry_run:
            self.ec2.authorize_security_group_ingress(
                GroupId=group_id,
                IpPermissions=[r.permission() for r in missing],
                TagSpecifications=[spec.tag_spec("security-group-rule")],
            )
        for rule in missing:
            self.report(
                "ingress rule",
                str(rule),
                f"{'would be ' if self.dry_run else ''}added ({rule.description})",
            )
        if extra and not self.dry_run:
            self.ec2.revoke_security_group_ingress(GroupId=group_id, SecurityGroupRuleIds=extra)
        for rule, rule_id in current.items():
            if rule_id in extra:
                self.report(
                    "ingress rule", str(rule), f"{'would be ' if self.dry_run else ''}removed"
                )
        return group_id
