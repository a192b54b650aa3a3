"""``navarch proxy``: kube-proxy (see ``kubeproxy/README.md``)."""

from __future__ import annotations

import socket
from typing import Annotated

import typer


def proxy_cmd(
    kubeconfig: Annotated[
        str | None, typer.Option(help="Kubeconfig file with the apiserver and credentials.")
    ] = None,
    server: Annotated[
        str | None,
        typer.Option("--server", "--master", help="Apiserver URL (alone: no kubeconfig is read)."),
    ] = None,
    proxy_mode: Annotated[str, typer.Option(help="iptables, nftables or userspace.")] = "iptables",
    hostname_override: Annotated[
        str | None, typer.Option(help="This node's name (default: the hostname).")
    ] = None,
    cluster_cidr: Annotated[
        str, typer.Option(help="Pod CIDR: ClusterIP traffic from outside it is masqueraded.")
    ] = "10.244.0.0/16",
    masquerade_all: Annotated[
        bool, typer.Option(help="Masquerade all traffic sent to ClusterIPs.")
    ] = False,
    sync_period: Annotated[
        str, typer.Option(help="How often everything is rewritten (a full resync).")
    ] = "30s",
    min_sync_period: Annotated[
        str, typer.Option(help="Shortest time between syncs (bursts of 2 allowed).")
    ] = "1s",
    lb_algorithm: Annotated[
        str, typer.Option(help="userspace mode: round-robin, least-conn or source-hash.")
    ] = "round-robin",
    healthz_bind_address: Annotated[
        str, typer.Option(help="host:port of /healthz; port 0 disables it.")
    ] = "0.0.0.0:10256",
    metrics_bind_address: Annotated[
        str, typer.Option(help="host:port of /metrics; port 0 disables it.")
    ] = "127.0.0.1:10249",
    lb_announce_interface: Annotated[
        str,
        typer.Option(
            help="Announce the LoadBalancer IPs this node owns on this interface (MetalLB-style "
            "L2: one Ready node per IP answers ARP; strict ARP on). Off when empty."
        ),
    ] = "",
    cleanup: Annotated[
        bool,
        typer.Option(
            "--cleanup", help="Remove every rule, table and address kube-proxy made, then exit."
        ),
    ] = False,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Make Services reachable on this host: ClusterIP, NodePort, LoadBalancer IPs.

    Example: navarch proxy --kubeconfig ~/.navarch/kubeconfig --proxy-mode nftables
    """
    import logging

    from apiclient import ConfigError, load_config
    from apitypes.duration import parse_duration
    from kubeproxy.main import ProxyConfig, run_cleanup, serve, validate

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if cleanup:
        raise typer.Exit(run_cleanup(announce_interface=lb_announce_interface))
    try:
        config = ProxyConfig(
            client=load_config(kubeconfig, server=server),
            mode=proxy_mode,
            node_name=hostname_override or socket.gethostname(),
            cluster_cidr=cluster_cidr or None,
            masquerade_all=masquerade_all,
            sync_period=parse_duration(sync_period),
            min_sync_period=parse_duration(min_sync_period),
            lb_algorithm=lb_algorithm,
            healthz_bind_address=healthz_bind_address,
            metrics_bind_address=metrics_bind_address,
            lb_announce_interface=lb_announce_interface,
        )
        validate(config)
    except (ValueError, ConfigError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from err
    raise typer.Exit(serve(config))
