"""The network agent (``navarch network-agent``): routes to the other nodes' pod
CIDRs, pod NAT and forward rules, and the local routes that keep the service and pod
CIDRs on the machine. See README.md."""
