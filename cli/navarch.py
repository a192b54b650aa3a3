"""``navarch``: the daemons, and a local cluster.

Each daemon subcommand runs one process in the foreground, as its Kubernetes
counterpart does; ``up``/``down``/``status`` manage a whole local cluster.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.daemonconfig import DAEMONS
from cli.navarch_proxy import proxy_cmd

app = typer.Typer(
    name="navarch",
    help="navarch: a container orchestrator that speaks the Kubernetes API. Each daemon "
    "(apiserver, controller-manager, scheduler, kubelet, proxy, network-agent) also takes "
    "--config FILE: a YAML mapping of its flag names to values; the command line wins.",
    no_args_is_help=True,
    add_completion=True,
)


@app.callback()
def _root() -> None:
    """Keeps subcommands subcommands, even while there is only one."""


def _klog_level(value: str | int) -> int:
    """A ``-v`` level as Kubernetes takes it: ``-v 2``, ``-v=2``, ``--v=2``."""
    if isinstance(value, int):  # the default
        return value
    text = value[1:] if value.startswith("=") else value
    if not text.isdigit():
        raise typer.BadParameter(f"{value!r} is not a level (0, 1, 2, ...)")
    return int(text)


@app.command("apiserver")
def apiserver_cmd(
    etcd_servers: Annotated[
        str, typer.Option(help="Comma-separated etcd client URLs.")
    ] = "http://127.0.0.1:2379",
    bind_address: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "--secure-port", help="Port to listen on.")] = 6443,
    advertise_address: Annotated[
        str | None,
        typer.Option(
            help="IP this apiserver is reached at: its endpoint of the kubernetes Service."
        ),
    ] = None,
    etcd_prefix: Annotated[
        str, typer.Option(help="Key prefix of every object in etcd.")
    ] = "/registry",
    etcd_cafile: Annotated[str | None, typer.Option(help="CA bundle for etcd TLS.")] = None,
    etcd_certfile: Annotated[
        str | None, typer.Option(help="Client certificate for etcd TLS.")
    ] = None,
    etcd_keyfile: Annotated[str | None, typer.Option(help="Client key for etcd TLS.")] = None,
    etcd_compaction_interval: Annotated[
        float, typer.Option(help="Seconds between etcd compactions; 0 disables.")
    ] = 300.0,
    watch_cache_size: Annotated[int, typer.Option(help="Events kept per resource.")] = 10_000,
    audit_policy_file: Annotated[
        str | None, typer.Option(help="Audit Policy (audit.k8s.io/v1): what is logged, how much.")
    ] = None,
    audit_log_path: Annotated[
        str | None, typer.Option(help="Audit events as JSON lines to this file ('-': stdout).")
    ] = None,
    encryption_provider_config: Annotated[
        str | None,
        typer.Option(help="EncryptionConfiguration: resources encrypted in etcd (aescbc...)."),
    ] = None,
    watch_bookmark_interval: Annotated[
        float, typer.Option(help="Seconds between BOOKMARK events on watches that allow them.")
    ] = 60.0,
    min_request_timeout: Annotated[
        float, typer.Option(help="Minimum seconds a watch without timeoutSeconds stays open.")
    ] = 1800.0,
    service_cluster_ip_range: Annotated[
        str, typer.Option(help="CIDR ClusterIPs are allocated from (routed only on this host).")
    ] = "10.96.0.0/12",
    service_node_port_range: Annotated[
        str, typer.Option(help="Port range NodePorts are allocated from, as LOW-HIGH.")
    ] = "30000-32767",
    tls_cert_file: Annotated[
        str | None, typer.Option(help="Serve HTTPS with this certificate.")
    ] = None,
    tls_private_key_file: Annotated[
        str | None, typer.Option(help="Key of --tls-cert-file.")
    ] = None,
    cert_dir: Annotated[
        str | None,
        typer.Option(help="Without --tls-cert-file: serve a self-signed certificate made here."),
    ] = None,
    client_ca_file: Annotated[
        str | None,
        typer.Option(help="Client certificates signed by this CA authenticate as CN (O: groups)."),
    ] = None,
    kubelet_certificate_authority: Annotated[
        str | None,
        typer.Option(help="HTTPS to kubelets, their serving certificates verified by this CA."),
    ] = None,
    kubelet_client_certificate: Annotated[
        str | None, typer.Option(help="Client certificate the apiserver shows kubelets.")
    ] = None,
    kubelet_client_key: Annotated[
        str | None, typer.Option(help="Key of --kubelet-client-certificate.")
    ] = None,
    kubelet_allowed_addresses: Annotated[
        str,
        typer.Option(
            help="CIDRs of loopback/link-local kubelet addresses allowed (comma-separated)."
        ),
    ] = "",
    anonymous_auth: Annotated[
        str, typer.Option(help="Let requests without credentials in as system:anonymous.")
    ] = "true",
    token_auth_file: Annotated[
        str | None, typer.Option(help='Static bearer tokens: CSV token,user,uid,"groups".')
    ] = None,
    enable_bootstrap_token_auth: Annotated[
        bool, typer.Option(help="Bootstrap tokens (kube-system Secrets) authenticate.")
    ] = False,
    service_account_issuer: Annotated[
        list[str] | None,
        typer.Option(help="Issuer of service-account tokens (the first issues); repeatable."),
    ] = None,
    service_account_key_file: Annotated[
        list[str] | None,
        typer.Option(help="PEM public (or private) keys that verify service-account tokens."),
    ] = None,
    service_account_signing_key_file: Annotated[
        str | None, typer.Option(help="Private key that signs service-account tokens.")
    ] = None,
    service_account_max_token_expiration: Annotated[
        str, typer.Option(help="Longest service-account token lifetime (e.g. 24h; '' none).")
    ] = "",
    api_audiences: Annotated[
        str, typer.Option(help="Audiences of the API (comma-separated; default: the issuer).")
    ] = "",
    authorization_mode: Annotated[
        str, typer.Option(help="Comma-separated, in order: AlwaysAllow, AlwaysDeny, Node, RBAC.")
    ] = "AlwaysAllow",
    enable_admission_plugins: Annotated[
        str, typer.Option(help="Admission plugins to run besides the default ones.")
    ] = "",
    disable_admission_plugins: Annotated[
        str, typer.Option(help="Default admission plugins not to run.")
    ] = "",
    pod_security_default: Annotated[
        str,
        typer.Option(help="Enforced Pod Security level of unlabelled namespaces."),
    ] = "privileged",
    pod_security_exempt_namespaces: Annotated[
        str, typer.Option(help="Namespaces Pod Security does not check (comma-separated).")
    ] = "",
    default_not_ready_toleration_seconds: Annotated[
        int, typer.Option(help="tolerationSeconds DefaultTolerationSeconds gives not-ready.")
    ] = 300,
    default_unreachable_toleration_seconds: Annotated[
        int, typer.Option(help="tolerationSeconds DefaultTolerationSeconds gives unreachable.")
    ] = 300,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
    workers: Annotated[
        int, typer.Option(help="Server processes sharing the port (each a whole apiserver).")
    ] = 1,
    max_requests_inflight: Annotated[
        int,
        typer.Option(help="Non-mutating requests served at once (watches excepted); 0: no limit."),
    ] = 400,
    max_mutating_requests_inflight: Annotated[
        int, typer.Option(help="Mutating requests served at once; beyond: 429. 0: no limit.")
    ] = 200,
    max_watches: Annotated[
        int, typer.Option(help="Watches open at once from all clients; beyond: 429. 0: no limit.")
    ] = 8000,
    max_watches_per_client: Annotated[
        int, typer.Option(help="Watches open at once from one client address; 0: no limit.")
    ] = 4000,
    request_header_timeout: Annotated[
        float, typer.Option(help="Seconds a client has to send a request's headers.")
    ] = 32.0,
    verbosity: Annotated[
        int,
        typer.Option(
            "-v",
            "--v",
            parser=_klog_level,
            metavar="LEVEL",
            help="Request log level: 0 logs 5xx (with tracebacks) and slow requests, "
            "1 also 4xx, 2 every request.",
        ),
    ] = 0,
) -> None:
    """Serve the Kubernetes API over etcd.

    Example: navarch apiserver --etcd-servers http://127.0.0.1:2379 --port 6443
    """
    from apiserver.limits import Limits
    from apiserver.main import ServeOptions, serve
    from apiserver.security import SecurityConfig
    from apiserver.server import ServerConfig
    from apitypes.duration import parse_duration

    low, _, high = service_node_port_range.partition("-")
    if not (low.isdigit() and high.isdigit() and 0 < int(low) <= int(high) < 65536):
        raise typer.BadParameter(
            "must be LOW-HIGH, e.g. 30000-32767", param_hint="--service-node-port-range"
        )
    config = ServerConfig(
        etcd_servers=[s.strip() for s in etcd_servers.split(",") if s.strip()],
        etcd_prefix=etcd_prefix.rstrip("/"),
        etcd_cafile=etcd_cafile,
        etcd_certfile=etcd_certfile,
        etcd_keyfile=etcd_keyfile,
        compaction_interval=etcd_compaction_interval,
        watch_cache_size=watch_cache_size,
        encryption_provider_config=encryption_provider_config,
        bookmark_interval=watch_bookmark_interval,
        min_request_timeout=min_request_timeout,
        service_cluster_ip_range=service_cluster_ip_range,
        service_node_port_range=(int(low), int(high)),
        kubelet_certificate_authority=kubelet_certificate_authority,
        kubelet_client_certificate=kubelet_client_certificate,
        kubelet_client_key=kubelet_client_key,
        kubelet_allowed_addresses=_csv(kubelet_allowed_addresses),
        security=SecurityConfig(
            anonymous_auth=_bool(anonymous_auth, "--anonymous-auth"),
            client_ca_file=client_ca_file,
            token_auth_file=token_auth_file,
            enable_bootstrap_token_auth=enable_bootstrap_token_auth,
            service_account_issuer=service_account_issuer or [],
            service_account_key_file=service_account_key_file or [],
            service_account_signing_key_file=service_account_signing_key_file,
            service_account_max_token_expiration=int(
                parse_duration(service_account_max_token_expiration)
            )
            if service_account_max_token_expiration
            else None,
            api_audiences=_csv(api_audiences),
            authorization_mode=_csv(authorization_mode),
            enable_admission_plugins=_csv(enable_admission_plugins),
            disable_admission_plugins=_csv(disable_admission_plugins),
            pod_security_default=pod_security_default,
            pod_security_exempt_namespaces=_csv(pod_security_exempt_namespaces),
            default_not_ready_toleration_seconds=default_not_ready_toleration_seconds,
            default_unreachable_toleration_seconds=default_unreachable_toleration_seconds,
            audit_policy_file=audit_policy_file,
            audit_log_path=audit_log_path,
        ),
        limits=Limits(
            max_requests_inflight=max_requests_inflight,
            max_mutating_requests_inflight=max_mutating_requests_inflight,
            max_watches=max_watches,
            max_watches_per_client=max_watches_per_client,
        ),
        verbosity=verbosity,
    )
    if advertise_address:
        host = f"[{advertise_address}]" if ":" in advertise_address else advertise_address
        config.advertise_address = f"{host}:{port}"
    serve(
        config,
        ServeOptions(
            bind_address=bind_address,
            port=port,
            tls_cert_file=tls_cert_file,
            tls_private_key_file=tls_private_key_file,
            client_ca_file=client_ca_file,
            cert_dir=cert_dir,
            log_level=log_level,
            workers=workers,
            request_header_timeout=request_header_timeout,
        ),
    )


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _bool(text: str, flag: str) -> bool:
    """A Kubernetes boolean flag value (``--anonymous-auth=false``)."""
    value = text.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise typer.BadParameter(f"{text!r} is not true or false", param_hint=flag)


DataDir = Annotated[
    Path,
    typer.Option(
        envvar="NAVARCH_DATA_DIR", help="Where the cluster keeps its state, logs and pid files."
    ),
]


@app.command("up")
def up_cmd(
    data_dir: DataDir = Path("~/.navarch"),
    nodes: Annotated[
        int | None, typer.Option(min=1, max=20, help="Nodes (kubelets) to run (default 3).")
    ] = None,
    apiserver_port: Annotated[
        int | None, typer.Option(help="Port of the apiserver (default 6443).")
    ] = None,
    etcd_port: Annotated[
        int | None, typer.Option(help="etcd's client port; its peer port is the next one.")
    ] = None,
    kubelet_port: Annotated[
        int | None, typer.Option(help="Logs/exec port of the first kubelet; then +1 each.")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for every node Ready.")] = 120.0,
    name: Annotated[
        str | None,
        typer.Option(
            help="Cluster name: nodes are NAME-node-1... and its kubeconfig context NAME."
        ),
    ] = None,
    cluster_cidr: Annotated[
        str | None,
        typer.Option(help="Pod addresses: each node gets a /24 of it (default 10.244.0.0/16)."),
    ] = None,
) -> None:
    """Start a local cluster in the background: etcd, apiserver, controller-manager,
    scheduler, network agent and one kubelet per node; wait until every node is Ready.
    Again on a running cluster: changes nothing. Ports, node count and cluster CIDR are
    remembered in the data dir. First routes the service CIDR (to the dummy device
    navarch-svc0) and the cluster CIDR (blackhole) locally; `navarch down` removes them.

    Example: navarch up --nodes 3
    """
    from cli.localcluster import LocalCluster, Ports

    data = data_dir.expanduser()
    current = LocalCluster(data)
    ports = None
    if apiserver_port or etcd_port or kubelet_port:
        old = current.ports
        ports = Ports(
            etcd_client=etcd_port or old.etcd_client,
            etcd_peer=(etcd_port + 1) if etcd_port else old.etcd_peer,
            apiserver=apiserver_port or old.apiserver,
            kubelet_base=kubelet_port or old.kubelet_base,
        )
    if cluster_cidr is not None:
        try:
            ipaddress.ip_network(cluster_cidr)
        except ValueError as err:
            raise typer.BadParameter(str(err), param_hint="--cluster-cidr") from err
    cluster = LocalCluster(data, ports=ports, nodes=nodes, name=name, cluster_cidr=cluster_cidr)
    try:
        cluster.up(echo=typer.echo, timeout=timeout)
    except (RuntimeError, FileNotFoundError, OSError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from err
    typer.echo(
        "\nTry:\n"
        "  navctl get nodes                      # or kubectl: the navarch context is current\n"
        "  navctl apply -f deploy/sample-app.yaml\n"
        "  navctl get pods -o wide\n"
        "  navctl logs deploy/web\n"
        "  navarch status                        # components, pids, logs\n"
        "  navarch down                          # stop; navarch up brings it back"
    )


@app.command("down")
def down_cmd(
    data_dir: DataDir = Path("~/.navarch"),
    purge: Annotated[bool, typer.Option(help="Also remove the cluster's state.")] = False,
) -> None:
    """Stop the local cluster and remove its pod containers; its state stays (so
    `navarch up` brings the same cluster back) unless --purge.

    Example: navarch down --purge
    """
    from cli.localcluster import LocalCluster

    LocalCluster(data_dir.expanduser()).down(echo=typer.echo, purge=purge)


@app.command("status")
def status_cmd(data_dir: DataDir = Path("~/.navarch")) -> None:
    """Show the local cluster's supervisor and each component (running, restarting,
    waiting, stopped or crashed) with its pid, restart count, last exit and log file,
    and whether each node is Ready. Exits 1 when something is not running.

    Example: navarch status
    """
    from cli.localcluster import LocalCluster

    cluster = LocalCluster(data_dir.expanduser())
    found = cluster.status()
    if all(st.state == "stopped" for st in found):
        for st in found:
            typer.echo(f"{st.name:<24} stopped")
        return
    trouble = False
    for st in found:
        if st.state == "running":
            state = f"running (pid {st.pid})"
        elif st.state == "crashed":
            state = "CRASHED, see its log"
        else:
            state = st.state
        trouble = trouble or st.state != "running"
        restarts = f"restarts {st.restarts}" if st.name != "supervisor" else ""
        if st.last_exit:
            restarts += f" (last: {st.last_exit})"
        node = ""
        if st.node_ready is not None:
            node = "node Ready" if st.node_ready else "node NotReady"
        typer.echo(f"{st.name:<24} {state:<22} {restarts:<38} {node:<14} {st.log}")
    if trouble:
        raise typer.Exit(1)


@app.command("supervise", hidden=True)
def supervise_cmd(
    data_dir: DataDir = Path("~/.navarch"),
    host_root: Annotated[
        Path | None,
        typer.Option(help="Instead: the units `navarch init`/`join` installed under this root."),
    ] = None,
) -> None:
    """Run the local cluster's components and restart those that exit (what `navarch
    up` starts in the background; `navarch down` stops it)."""
    from cli.localcluster import LocalCluster
    from cli.supervisor import Supervisor

    if host_root is not None:
        from cli.bootstrap.initsystem import HostProcesses
        from cli.bootstrap.layout import Layout

        Supervisor(HostProcesses(Layout(host_root))).run()
        return
    Supervisor(LocalCluster(data_dir.expanduser())).run()


HostRoot = Annotated[
    Path,
    typer.Option(
        "--root",
        envvar="NAVARCH_ROOT",
        help="Prefix of every path init/join/reset use (/etc/navarch...): for tests.",
    ),
]
InitSystemFlag = Annotated[
    str,
    typer.Option(help="Who runs the units: auto (systemd when it runs the host), systemd "
                 "or supervisor (navarch's, detached, as `navarch up`)."),
]  # fmt: skip
DaemonArgFlag = Annotated[
    list[str] | None,
    typer.Option(metavar="KEY=VALUE", help="A flag of that daemon (repeatable)."),
]
TokenFlag = Annotated[
    str | None,
    typer.Option(
        envvar="NAVARCH_BOOTSTRAP_TOKEN",
        show_envvar=True,
        help="Bootstrap token [a-z0-9]{6}.[a-z0-9]{16} (prefer the environment variable: "
        "it is on no command line).",
    ),
]


def _host_step(step: Any) -> None:
    """Run an init/join/reset step; a failure is one line on stderr, exit status 1."""
    import httpx

    from cli.bootstrap.discovery import DiscoveryError
    from cli.bootstrap.host import BootstrapError
    from pki.bootstraptoken import TokenError

    failures = (BootstrapError, DiscoveryError, TokenError, ValueError, RuntimeError, OSError)
    try:
        step()
    except (*failures, httpx.HTTPError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from err


def _phases(given: list[str] | None, known: tuple[str, ...]) -> tuple[str, ...]:
    """``--skip-phases`` values (repeatable, comma-separated), each one of ``known``."""
    phases = tuple(p.strip() for item in given or [] for p in item.split(",") if p.strip())
    unknown = [p for p in phases if p not in known]
    if unknown:
        raise typer.BadParameter(f"unknown phase {unknown[0]!r}: {', '.join(known)}")
    return phases


def _need_root(root: Path) -> None:
    import os

    if root == Path("/") and os.geteuid() != 0:
        typer.echo("error: run as root (it installs units and writes /etc/navarch)", err=True)
        raise typer.Exit(1)


@app.command("init")
def init_cmd(
    apiserver_advertise_address: Annotated[
        str | None,
        typer.Option(help="Address the API server advertises (default: the default route's)."),
    ] = None,
    apiserver_cert_extra_sans: Annotated[
        list[str] | None,
        typer.Option(help="More IPs or DNS names for the API server's certificate (commas)."),
    ] = None,
    apiserver_bind_port: Annotated[int, typer.Option(help="The API server's port.")] = 6443,
    pod_network_cidr: Annotated[
        str, typer.Option(help="Pod addresses: each node gets a /24 of it.")
    ] = "10.244.0.0/16",
    service_cidr: Annotated[str, typer.Option(help="ClusterIP range.")] = "10.96.0.0/12",
    service_node_port_range: Annotated[
        str, typer.Option(help="NodePort range, LOW-HIGH.")
    ] = "30000-32767",
    token: TokenFlag = None,
    node_name: Annotated[str | None, typer.Option(help="This node (default: hostname).")] = None,
    skip_phases: Annotated[
        list[str] | None,
        typer.Option(help="Phases not to run: node (no kubelet, kube-proxy, network agent)."),
    ] = None,
    init_system: InitSystemFlag = "auto",
    etcd_client_port: Annotated[int, typer.Option(hidden=True)] = 2379,
    etcd_peer_port: Annotated[int, typer.Option(hidden=True)] = 2380,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the API server.")] = 300.0,
    root: HostRoot = Path("/"),
) -> None:
    """Make this host a cluster's control plane (kubeadm init): PKI in /etc/navarch/pki,
    etcd, API server, controller-manager, scheduler, kubelet, kube-proxy and network
    agent as systemd units; prints the `navarch join` command for the other hosts.

    Example: navarch init --apiserver-advertise-address 10.0.1.10 --pod-network-cidr 10.244.0.0/16
    """
    from cli.bootstrap.host import PHASES, InitOptions, init
    from pki.bootstraptoken import generate, parse

    _need_root(root)
    phases = _phases(skip_phases, PHASES)
    sans = [s.strip() for item in apiserver_cert_extra_sans or [] for s in item.split(",")]

    def step() -> None:
        from cli.bootstrap.layout import Layout

        opts = InitOptions(
            advertise_address=apiserver_advertise_address,
            cert_extra_sans=[s for s in sans if s],
            pod_network_cidr=pod_network_cidr,
            service_cidr=service_cidr,
            service_node_port_range=service_node_port_range,
            token=parse(token) if token else generate(),
            node_name=node_name,
            bind_port=apiserver_bind_port,
            etcd_client_port=etcd_client_port,
            etcd_peer_port=etcd_peer_port,
            skip_phases=phases,
            init_system=init_system,
            timeout=timeout,
        )
        init(Layout(root), opts, typer.echo)

    _host_step(step)


@app.command("join")
def join_cmd(
    endpoint: Annotated[str, typer.Argument(help="The API server, host:port.")],
    discovery_token_ca_cert_hash: Annotated[
        str, typer.Option(help="sha256:<hex> of the cluster CA's public key (init prints it).")
    ],
    token: TokenFlag = None,
    node_name: Annotated[str | None, typer.Option(help="This node (default: hostname).")] = None,
    node_ip: Annotated[
        str | None, typer.Option(help="This node's address (default: the default route's).")
    ] = None,
    skip_phases: Annotated[
        list[str] | None,
        typer.Option(
            help="Phases not to run: network (the kubelet alone, no kube-proxy or network agent)."
        ),
    ] = None,
    kubelet_port: Annotated[int, typer.Option(hidden=True)] = 10250,
    kubelet_arg: DaemonArgFlag = None,
    proxy_arg: DaemonArgFlag = None,
    network_agent_arg: DaemonArgFlag = None,
    init_system: InitSystemFlag = "auto",
    timeout: Annotated[
        float, typer.Option(help="Seconds for discovery and TLS bootstrap.")
    ] = 300.0,
    root: HostRoot = Path("/"),
) -> None:
    """Join this host to a cluster as a node (kubeadm join): check the cluster's CA by
    its hash, get the kubelet's client certificate with the bootstrap token (a CSR),
    start the kubelet, kube-proxy and network agent. On a host that already joined
    (its kubelet has its own certificate): start its units again, no discovery.

    --kubelet-arg, --proxy-arg and --network-agent-arg (KEY=VALUE, repeatable, as k3s's)
    set a flag of that daemon in its --config file: --proxy-arg lb-announce-interface=eth0.

    Example: navarch join 10.0.1.10:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:...
    """
    from cli.bootstrap.host import JOIN_PHASES, JoinOptions, join, parse_endpoint
    from cli.daemonconfig import ConfigFileError, overrides
    from pki.bootstraptoken import parse, parse_ca_hash

    _need_root(root)
    phases = _phases(skip_phases, JOIN_PHASES)
    if not token:
        typer.echo("error: no bootstrap token: set NAVARCH_BOOTSTRAP_TOKEN or --token", err=True)
        raise typer.Exit(1)
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    extra_args: dict[str, dict[str, Any]] = {}
    given = {"kubelet": kubelet_arg, "proxy": proxy_arg, "network-agent": network_agent_arg}
    for daemon, items in given.items():
        try:
            if items:
                extra_args[daemon] = overrides(items, commands[daemon], f"--{daemon}-arg")
        except ConfigFileError as err:
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(2) from err

    def step() -> None:
        from cli.bootstrap.layout import Layout

        opts = JoinOptions(
            endpoint=parse_endpoint(endpoint),
            token=parse(token),
            ca_hash=parse_ca_hash(discovery_token_ca_cert_hash),
            node_name=node_name,
            node_ip=node_ip,
            init_system=init_system,
            timeout=timeout,
            skip_phases=phases,
            kubelet_port=kubelet_port,
            extra_args=extra_args,
        )
        join(Layout(root), opts, typer.echo)

    _host_step(step)


@app.command("reset")
def reset_cmd(root: HostRoot = Path("/")) -> None:
    """Undo `navarch init` or `navarch join` on this host: stop and remove the units,
    the pod containers, the rules, routes and devices the node made, /etc/navarch and
    /var/lib/navarch. Safe to run twice."""
    from cli.bootstrap.host import reset
    from cli.bootstrap.layout import Layout

    _need_root(root)
    _host_step(lambda: reset(Layout(root), typer.echo))


@app.command("pki")
def pki_cmd(
    dir: Annotated[
        Path, typer.Option("--dir", help="The PKI directory (kubeadm's /etc/kubernetes/pki).")
    ] = Path("pki"),
    node: Annotated[
        list[str] | None,
        typer.Option(help="A node, NAME or NAME=IP[,IP]: serving and client certs; repeatable."),
    ] = None,
    etcd_member: Annotated[
        list[str] | None,
        typer.Option(help="An etcd member, NAME or NAME=IP[,IP]: server and peer certs."),
    ] = None,
    control_plane: Annotated[
        list[str] | None,
        typer.Option(help="An apiserver host, NAME or NAME=IP[,IP]: in the apiserver's SANs."),
    ] = None,
    apiserver_name: Annotated[
        list[str] | None,
        typer.Option(help="Another DNS name or IP of the apiserver (a load balancer)."),
    ] = None,
    service_cidr: Annotated[
        str, typer.Option(help="The Service CIDR; its first address is in the apiserver's SANs.")
    ] = "10.96.0.0/12",
    cluster_domain: Annotated[
        str, typer.Option(help="The cluster's DNS domain.")
    ] = "cluster.local",
    server: Annotated[
        str | None,
        typer.Option(help="Apiserver URL: also write a kubeconfig per identity."),
    ] = None,
    cluster: Annotated[str, typer.Option(help="Cluster name in the kubeconfigs.")] = "kubernetes",
    kubeconfig_dir: Annotated[
        Path | None, typer.Option(help="Where the kubeconfigs go (default: --dir's parent).")
    ] = None,
    verbose: Annotated[bool, typer.Option(help="Also list what was kept.")] = False,
) -> None:
    """Make (or renew) the cluster's PKI: CAs, certificates, the service-account key, the
    encryption config, and with --server the kubeconfigs. Re-runnable: keeps what is valid.

    Example: navarch pki --dir /etc/navarch/pki --node n1=10.0.0.11 --etcd-member etcd-1=10.0.0.3
    """
    from cli import clusterpki

    try:
        config = clusterpki.config_from_flags(
            nodes=node or [],
            etcd_members=etcd_member or [],
            control_plane=control_plane or [],
            apiserver_names=apiserver_name or [],
            service_cidr=service_cidr,
            cluster_domain=cluster_domain,
        )
    except ValueError as err:
        raise typer.BadParameter(str(err)) from err
    outcomes = clusterpki.run_pki(
        dir, config, server=server, cluster=cluster, kubeconfig_dir=kubeconfig_dir
    )
    for line in clusterpki.describe(outcomes, verbose=verbose):
        typer.echo(line)


@app.command("kubeconfig")
def kubeconfig_cmd(
    user: Annotated[
        str,
        typer.Option(
            help="admin, controller-manager, scheduler, kube-proxy, network-agent or node:NAME."
        ),
    ],
    server: Annotated[str, typer.Option(help="The apiserver's URL, e.g. https://10.0.0.2:6443.")],
    dir: Annotated[Path, typer.Option("--dir", help="The PKI directory (navarch pki).")] = Path(
        "pki"
    ),
    cluster: Annotated[str, typer.Option(help="Cluster name in the kubeconfig.")] = "kubernetes",
    out: Annotated[
        Path | None, typer.Option(help="Write it here (mode 0600) instead of printing it.")
    ] = None,
) -> None:
    """Print the kubeconfig of one identity: the cluster CA, the server and the
    identity's client certificate and key, embedded.

    Example: navarch kubeconfig --dir /etc/navarch/pki --user node:n1 --server https://10.0.0.2:6443
    """
    from cli import clusterpki

    try:
        text = clusterpki.kubeconfig_text(dir, user, server=server, cluster=cluster)
    except (ValueError, FileNotFoundError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from err
    if out is None:
        typer.echo(text, nl=False)
    else:
        clusterpki.write_text(out, text)


@app.command("controller-manager")
def controller_manager_cmd(
    kubeconfig: Annotated[
        str | None, typer.Option(help="Kubeconfig file with the apiserver and credentials.")
    ] = None,
    server: Annotated[
        str | None,
        typer.Option("--server", "--master", help="Apiserver URL (overrides the kubeconfig)."),
    ] = None,
    controllers: Annotated[
        str,
        typer.Option(
            help="Controllers to run: '*' for all, 'foo' to enable, '-foo' to disable "
            "(e.g. '*,-podgc'). Names as Kubernetes: replicaset-controller or replicaset, ..."
        ),
    ] = "*",
    use_service_account_credentials: Annotated[
        bool,
        typer.Option(help="Each controller acts as its own service account in kube-system."),
    ] = False,
    leader_elect: Annotated[
        bool, typer.Option(help="Hold the Lease before acting (run several copies safely).")
    ] = True,
    leader_elect_lease_duration: Annotated[
        str, typer.Option(help="How long followers wait after the last renewal (e.g. 15s).")
    ] = "15s",
    leader_elect_renew_deadline: Annotated[
        str, typer.Option(help="How long the leader tries to renew before giving up.")
    ] = "10s",
    leader_elect_retry_period: Annotated[
        str, typer.Option(help="Time between attempts to acquire or renew.")
    ] = "2s",
    leader_elect_resource_name: Annotated[
        str, typer.Option(help="Name of the Lease used for leader election.")
    ] = "kube-controller-manager",
    leader_elect_resource_namespace: Annotated[
        str, typer.Option(help="Namespace of that Lease.")
    ] = "kube-system",
    concurrent_replicaset_syncs: Annotated[
        int, typer.Option(help="ReplicaSets synced at once.")
    ] = 5,
    concurrent_rc_syncs: Annotated[
        int, typer.Option(help="ReplicationControllers synced at once.")
    ] = 5,
    concurrent_deployment_syncs: Annotated[
        int, typer.Option(help="Deployments synced at once.")
    ] = 5,
    concurrent_daemonset_syncs: Annotated[int, typer.Option(help="DaemonSets synced at once.")] = 2,
    concurrent_statefulset_syncs: Annotated[
        int, typer.Option(help="StatefulSets synced at once.")
    ] = 5,
    concurrent_job_syncs: Annotated[int, typer.Option(help="Jobs synced at once.")] = 5,
    concurrent_cron_job_syncs: Annotated[int, typer.Option(help="CronJobs synced at once.")] = 5,
    concurrent_gc_syncs: Annotated[int, typer.Option(help="Garbage collector workers.")] = 20,
    concurrent_namespace_syncs: Annotated[
        int, typer.Option(help="Namespaces deleted at once.")
    ] = 10,
    concurrent_endpoint_syncs: Annotated[
        int, typer.Option(help="Services whose Endpoints are synced at once.")
    ] = 5,
    concurrent_service_endpoint_syncs: Annotated[
        int, typer.Option(help="Services whose EndpointSlices are synced at once.")
    ] = 5,
    max_endpoints_per_slice: Annotated[
        int, typer.Option(min=1, max=1000, help="Endpoints in one EndpointSlice at most.")
    ] = 100,
    load_balancer_ip_pool: Annotated[
        str, typer.Option(help="CIDR (or CIDRs, comma-separated) LoadBalancer IPs come from.")
    ] = "10.122.0.0/24",
    concurrent_ttl_after_finished_syncs: Annotated[
        int, typer.Option(help="Finished Jobs checked for expiry at once.")
    ] = 5,
    node_monitor_period: Annotated[
        str, typer.Option(help="How often node health is checked.")
    ] = "5s",
    node_monitor_grace_period: Annotated[
        str,
        typer.Option(help="A node whose Lease is not renewed for this long becomes Unknown."),
    ] = "40s",
    node_startup_grace_period: Annotated[
        str, typer.Option(help="Grace for a node that never reported yet.")
    ] = "1m",
    pod_eviction_timeout: Annotated[
        str | None,
        typer.Option(
            help="Deprecated in Kubernetes; here it sets both default toleration periods."
        ),
    ] = None,
    default_not_ready_toleration_seconds: Annotated[
        int,
        typer.Option(help="Seconds a pod without its own toleration stays on a NotReady node."),
    ] = 300,
    default_unreachable_toleration_seconds: Annotated[
        int,
        typer.Option(help="Seconds a pod without its own toleration stays on an unreachable node."),
    ] = 300,
    terminated_pod_gc_threshold: Annotated[
        int, typer.Option(help="Finished pods kept before the oldest are deleted (<= 0: off).")
    ] = 12500,
    job_pod_failure_backoff: Annotated[
        str, typer.Option(help="First delay before a failed Job pod is replaced (doubles).")
    ] = "10s",
    kube_api_qps: Annotated[
        float, typer.Option(help="Requests per second to the apiserver (0: unlimited).")
    ] = 0.0,
    kube_api_burst: Annotated[int, typer.Option(help="Burst above --kube-api-qps.")] = 0,
    cronjob_clock_offset: Annotated[
        float,
        typer.Option(hidden=True, help="Test hook: seconds added to the CronJob clock."),
    ] = 0.0,
    pod_gc_period: Annotated[
        str, typer.Option(hidden=True, help="Test hook: time between pod GC passes.")
    ] = "20s",
    pod_gc_orphan_quarantine: Annotated[
        str,
        typer.Option(hidden=True, help="Test hook: how long a node is missing before its pods go."),
    ] = "40s",
    root_ca_file: Annotated[
        str,
        typer.Option(help="CA published as the ConfigMap kube-root-ca.crt in every namespace."),
    ] = "",
    resource_quota_sync_period: Annotated[
        str, typer.Option(help="Every ResourceQuota's usage is recounted this often.")
    ] = "5m",
    cluster_signing_cert_file: Annotated[
        str, typer.Option(help="CA certificate that signs approved CertificateSigningRequests.")
    ] = "",
    cluster_signing_key_file: Annotated[
        str, typer.Option(help="The private key of --cluster-signing-cert-file.")
    ] = "",
    cluster_signing_duration: Annotated[
        str, typer.Option(help="Longest life of a certificate the CSR signer issues.")
    ] = "8760h",
    approve_kubelet_serving_certificates: Annotated[
        bool,
        typer.Option(
            help="Approve a node's own kubelet-serving CSRs that name only its addresses "
            "(so apiservers can verify kubelets that joined with a bootstrap token)."
        ),
    ] = False,
    allocate_node_cidrs: Annotated[
        bool, typer.Option(help="Give every Node a pod CIDR from --cluster-cidr (node IPAM).")
    ] = False,
    cluster_cidr: Annotated[
        str,
        typer.Option(help="Pod addresses of the cluster: one CIDR, or an IPv4 and an IPv6 one."),
    ] = "",
    node_cidr_mask_size: Annotated[
        int, typer.Option(help="Size of each Node's IPv4 pod CIDR (a /24: 254 pods).")
    ] = 24,
    node_cidr_mask_size_ipv6: Annotated[
        int, typer.Option(help="Size of each Node's IPv6 pod CIDR.")
    ] = 64,
    service_cluster_ip_range: Annotated[
        str, typer.Option(help="The Services' range: never given to a Node if it overlaps.")
    ] = "",
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Run the reconcile loops: ReplicaSet, Deployment, DaemonSet, StatefulSet, Job,
    CronJob, garbage collector, Namespace, node lifecycle, Endpoints, EndpointSlices,
    LoadBalancer addresses, Disruption, PodGC, node IPAM (with --allocate-node-cidrs).

    Example: navarch controller-manager --kubeconfig ~/.navarch/kubeconfig --controllers '*,-podgc'
    """
    import logging

    from apiclient import ConfigError, load_config
    from apitypes.duration import parse_duration
    from controllers.base import Options
    from controllers.manager import (
        ManagerConfig,
        UnknownControllerError,
        enabled_controllers,
        known_controllers,
        serve,
    )

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        client = load_config(kubeconfig, server=server)
    except ConfigError as err:
        raise typer.BadParameter(str(err), param_hint="--kubeconfig") from err
    client.qps = kube_api_qps
    client.burst = kube_api_burst
    names = [item for item in controllers.split(",") if item.strip()]
    try:
        enabled_controllers(names, known_controllers())
        not_ready, unreachable = (
            default_not_ready_toleration_seconds,
            default_unreachable_toleration_seconds,
        )
        if pod_eviction_timeout is not None:
            not_ready = unreachable = int(parse_duration(pod_eviction_timeout))
        options = Options(
            concurrent_replicaset_syncs=concurrent_replicaset_syncs,
            concurrent_rc_syncs=concurrent_rc_syncs,
            concurrent_deployment_syncs=concurrent_deployment_syncs,
            concurrent_daemonset_syncs=concurrent_daemonset_syncs,
            concurrent_statefulset_syncs=concurrent_statefulset_syncs,
            concurrent_job_syncs=concurrent_job_syncs,
            concurrent_cron_job_syncs=concurrent_cron_job_syncs,
            concurrent_gc_syncs=concurrent_gc_syncs,
            concurrent_namespace_syncs=concurrent_namespace_syncs,
            concurrent_endpoint_syncs=concurrent_endpoint_syncs,
            concurrent_service_endpoint_syncs=concurrent_service_endpoint_syncs,
            max_endpoints_per_slice=max_endpoints_per_slice,
            load_balancer_ip_pool=load_balancer_ip_pool,
            concurrent_ttl_after_finished_syncs=concurrent_ttl_after_finished_syncs,
            node_monitor_period=parse_duration(node_monitor_period),
            node_monitor_grace_period=parse_duration(node_monitor_grace_period),
            node_startup_grace_period=parse_duration(node_startup_grace_period),
            default_not_ready_toleration_seconds=not_ready,
            default_unreachable_toleration_seconds=unreachable,
            terminated_pod_gc_threshold=terminated_pod_gc_threshold,
            job_backoff_base=parse_duration(job_pod_failure_backoff),
            cronjob_clock_offset=cronjob_clock_offset,
            pod_gc_period=parse_duration(pod_gc_period),
            orphan_pod_quarantine=parse_duration(pod_gc_orphan_quarantine),
            allocate_node_cidrs=allocate_node_cidrs,
            cluster_cidr=cluster_cidr,
            node_cidr_mask_size=node_cidr_mask_size,
            node_cidr_mask_size_ipv6=node_cidr_mask_size_ipv6,
            service_cluster_ip_range=service_cluster_ip_range,
            root_ca_file=root_ca_file,
            resource_quota_sync_period=parse_duration(resource_quota_sync_period),
            cluster_signing_cert_file=cluster_signing_cert_file,
            cluster_signing_key_file=cluster_signing_key_file,
            cluster_signing_duration=parse_duration(cluster_signing_duration),
            approve_kubelet_serving=approve_kubelet_serving_certificates,
        )
        if allocate_node_cidrs:
            from controllers.nodeipam import check_options

            check_options(options)
        config = ManagerConfig(
            client=client,
            options=options,
            controllers=names,
            leader_elect=leader_elect,
            use_service_account_credentials=use_service_account_credentials,
            lease_name=leader_elect_resource_name,
            lease_namespace=leader_elect_resource_namespace,
            lease_duration=parse_duration(leader_elect_lease_duration),
            renew_deadline=parse_duration(leader_elect_renew_deadline),
            retry_period=parse_duration(leader_elect_retry_period),
        )
    except (UnknownControllerError, ValueError) as err:
        raise typer.BadParameter(str(err)) from err
    raise typer.Exit(serve(config))


@app.command("scheduler")
def scheduler_cmd(
    kubeconfig: Annotated[
        str | None, typer.Option(help="Kubeconfig file with the apiserver and credentials.")
    ] = None,
    master: Annotated[
        str | None,
        typer.Option("--master", "--server", help="Apiserver URL (alone: no kubeconfig is read)."),
    ] = None,
    scheduler_name: Annotated[
        str | None,
        typer.Option(
            help="Schedule pods whose spec.schedulerName is this (default: default-scheduler, "
            "or the config file's first profile)."
        ),
    ] = None,
    config: Annotated[
        str | None,
        typer.Option(help="KubeSchedulerConfiguration YAML: profiles, plugins, weights, args."),
    ] = None,
    leader_elect: Annotated[
        bool | None,
        typer.Option(help="Hold the Lease before scheduling (run several copies safely)."),
    ] = None,
    leader_elect_lease_duration: Annotated[
        str | None, typer.Option(help="How long followers wait after the last renewal (15s).")
    ] = None,
    leader_elect_renew_deadline: Annotated[
        str | None, typer.Option(help="How long the leader tries to renew before giving up (10s).")
    ] = None,
    leader_elect_retry_period: Annotated[
        str | None, typer.Option(help="Time between attempts to acquire or renew (2s).")
    ] = None,
    leader_elect_resource_name: Annotated[
        str | None, typer.Option(help="Name of the Lease (kube-scheduler).")
    ] = None,
    leader_elect_resource_namespace: Annotated[
        str | None, typer.Option(help="Namespace of the Lease (kube-system).")
    ] = None,
    bind_workers: Annotated[
        int, typer.Option(help="Bindings written concurrently while scheduling goes on.")
    ] = 16,
    identity: Annotated[
        str | None, typer.Option(help="Leader election identity (default: hostname_pid).")
    ] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Bind pending pods to nodes: filter, score, assume, bind; one leader at a time.

    Example: navarch scheduler --kubeconfig ~/.navarch/kubeconfig --config sched.yaml
    """
    from apiclient import ConfigError as ClientConfigError
    from scheduler.config import ConfigError, parse_duration
    from scheduler.main import Options, run

    try:
        options = Options(
            kubeconfig=kubeconfig,
            master=master,
            config=config,
            scheduler_name=scheduler_name,
            leader_elect=leader_elect,
            lease_duration=_duration(
                leader_elect_lease_duration, "--leader-elect-lease-duration", parse_duration
            ),
            renew_deadline=_duration(
                leader_elect_renew_deadline, "--leader-elect-renew-deadline", parse_duration
            ),
            retry_period=_duration(
                leader_elect_retry_period, "--leader-elect-retry-period", parse_duration
            ),
            resource_name=leader_elect_resource_name,
            resource_namespace=leader_elect_resource_namespace,
            bind_workers=bind_workers,
            identity=identity or "",
            log_level=log_level,
        )
        code = run(options)
    except (ConfigError, ClientConfigError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from err
    raise typer.Exit(code)


def _duration(value: str | None, flag: str, parse: Any) -> float | None:
    return None if value is None else float(parse(value, flag))


@app.command("kubelet")
def kubelet_cmd(
    node_name: Annotated[
        str | None, typer.Option(help="Name of this node (default: the hostname).")
    ] = None,
    kubeconfig: Annotated[
        str | None, typer.Option(help="Kubeconfig file with the apiserver and credentials.")
    ] = None,
    server: Annotated[
        str | None, typer.Option(help="Apiserver URL (alone: no kubeconfig is read).")
    ] = None,
    bootstrap_kubeconfig: Annotated[
        str | None,
        typer.Option(
            help="Kubeconfig with a bootstrap token: when --kubeconfig is missing, get a client "
            "certificate with it (a CertificateSigningRequest) and write --kubeconfig."
        ),
    ] = None,
    cert_dir: Annotated[
        str | None,
        typer.Option(help="Where client certificates are kept (default: <root-dir>/pki)."),
    ] = None,
    rotate_certificates: Annotated[
        bool, typer.Option(help="Renew the client certificate (a CSR) before it expires.")
    ] = False,
    rotate_server_certificates: Annotated[
        bool,
        typer.Option(
            help="Get the serving certificate from the kubelet-serving signer (a CSR someone "
            "approves) and renew it before it expires."
        ),
    ] = False,
    runtime: Annotated[
        str, typer.Option(help="docker (real containers) or fake (in memory, a hollow node).")
    ] = "docker",
    root_dir: Annotated[
        Path, typer.Option(help="Where pod volumes and termination messages live.")
    ] = Path("/var/lib/navarch/kubelet"),
    address: Annotated[str, typer.Option(help="Address the logs/exec server binds.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the logs/exec server; 0 disables it.")] = 10250,
    tls_cert_file: Annotated[
        str | None, typer.Option(help="Serve logs/exec over HTTPS with this certificate.")
    ] = None,
    tls_private_key_file: Annotated[
        str | None, typer.Option(help="Key of --tls-cert-file.")
    ] = None,
    anonymous_auth: Annotated[
        str, typer.Option(help="Let requests without credentials in as system:anonymous.")
    ] = "true",
    authentication_token_webhook: Annotated[
        bool, typer.Option(help="Bearer tokens are checked with the apiserver (TokenReview).")
    ] = False,
    authentication_token_webhook_cache_ttl: Annotated[
        str, typer.Option(help="How long a TokenReview answer is kept.")
    ] = "2m",
    client_ca_file: Annotated[
        str | None, typer.Option(help="Client certificates of this CA authenticate (HTTPS).")
    ] = None,
    authorization_mode: Annotated[
        str, typer.Option(help="AlwaysAllow, or Webhook (SubjectAccessReview on nodes/*).")
    ] = "AlwaysAllow",
    authorization_webhook_cache_authorized_ttl: Annotated[
        str, typer.Option(help="How long an allowing SubjectAccessReview answer is kept.")
    ] = "5m",
    authorization_webhook_cache_unauthorized_ttl: Annotated[
        str, typer.Option(help="How long a refusing SubjectAccessReview answer is kept.")
    ] = "30s",
    node_ip: Annotated[
        str, typer.Option(help="InternalIP the Node reports (the apiserver dials it).")
    ] = "127.0.0.1",
    hostname_override: Annotated[
        str | None, typer.Option(help="Hostname address and kubernetes.io/hostname label.")
    ] = None,
    node_labels: Annotated[
        str, typer.Option(help="Extra Node labels, as key=value,key=value.")
    ] = "",
    register_with_taints: Annotated[
        str, typer.Option(help="Taints to register with, as key=value:Effect,key:Effect.")
    ] = "",
    max_pods: Annotated[int, typer.Option(help="The Node's pods capacity.")] = 110,
    system_reserved: Annotated[
        str, typer.Option(help="Held back from allocatable for the OS, e.g. cpu=100m,memory=100Mi.")
    ] = "",
    kube_reserved: Annotated[
        str, typer.Option(help="Held back from allocatable for the daemons, same form.")
    ] = "",
    eviction_hard_memory: Annotated[
        str, typer.Option(help="memory.available threshold: MemoryPressure and reservation.")
    ] = "100Mi",
    node_status_update_frequency: Annotated[
        str, typer.Option(help="How often the Node status is computed (sent when it changed).")
    ] = "10s",
    node_status_report_frequency: Annotated[
        str, typer.Option(help="Send the Node status at least this often, changed or not.")
    ] = "5m",
    node_lease_duration: Annotated[
        int, typer.Option(help="Lease duration in seconds; renewed every quarter of it.")
    ] = 40,
    sync_frequency: Annotated[
        str, typer.Option(help="Resync every pod this often (ConfigMap/Secret volume updates).")
    ] = "1m",
    pleg_relist_period: Annotated[
        str, typer.Option(help="How often the runtime is relisted for changes.")
    ] = "1s",
    pod_manifest_path: Annotated[
        Path | None, typer.Option(help="Directory of static pod manifests.")
    ] = None,
    file_check_frequency: Annotated[
        str, typer.Option(help="How often --pod-manifest-path is rescanned.")
    ] = "20s",
    crashloop_backoff_base: Annotated[
        str, typer.Option(help="First restart back-off (doubles up to the max).")
    ] = "10s",
    crashloop_backoff_max: Annotated[str, typer.Option(help="Longest restart back-off.")] = "5m",
    image_pull_backoff_base: Annotated[
        str, typer.Option(help="First image pull back-off (doubles up to 5m).")
    ] = "10s",
    object_cache_ttl: Annotated[
        str, typer.Option(help="How long a ConfigMap/Secret read is reused.")
    ] = "10s",
    cluster_dns: Annotated[
        str, typer.Option(help="Comma-separated DNS server IPs for ClusterFirst pods.")
    ] = "",
    cluster_domain: Annotated[
        str, typer.Option(help="The cluster's DNS domain.")
    ] = "cluster.local",
    resolv_conf: Annotated[
        str,
        typer.Option(help="Resolver configuration Default-policy pods get ('' for none)."),
    ] = "/etc/resolv.conf",
    pod_network: Annotated[
        str,
        typer.Option(
            help="Docker network of pod sandboxes, created when missing (default: "
            "navarch-<node>, this node's own)."
        ),
    ] = "",
    pod_cidr: Annotated[
        str,
        typer.Option(
            "--pod-cidr",
            "--pod-network-cidr",
            help="A fixed subnet for --pod-network (standalone; kubelets may share it). "
            "Default: the Node's spec.podCIDR, which pods wait for.",
        ),
    ] = "",
    pause_image: Annotated[
        str, typer.Option(help="Sandbox image; built from the host's busybox when missing.")
    ] = "navarch/pause:1",
    docker_host: Annotated[
        str | None, typer.Option(help="Docker Engine URL (default: DOCKER_HOST or the socket).")
    ] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Run a node: register it, heartbeat its Lease, run its pods as Docker containers.

    Example: navarch kubelet --node-name node-1 --kubeconfig ~/.navarch/kubeconfig
    """
    from apiclient import ConfigError as ClientConfigError
    from apiclient import load_config
    from apitypes.duration import parse_duration
    from kubelet.auth import MODES, AuthConfig
    from kubelet.config import (
        KubeletConfig,
        parse_key_values,
        parse_reserved,
        parse_taints,
    )
    from kubelet.main import serve

    try:
        config = KubeletConfig(
            runtime=runtime,
            root_dir=root_dir.expanduser(),
            address=address,
            port=port,
            tls_cert_file=tls_cert_file,
            tls_private_key_file=tls_private_key_file,
            rotate_certificates=rotate_certificates,
            rotate_server_certificates=rotate_server_certificates,
            cert_dir=Path(cert_dir).expanduser() if cert_dir else None,
            auth=AuthConfig(
                anonymous=_bool(anonymous_auth, "--anonymous-auth"),
                token_webhook=authentication_token_webhook,
                token_cache_ttl=parse_duration(authentication_token_webhook_cache_ttl),
                authorization_mode=authorization_mode,
                authorized_ttl=parse_duration(authorization_webhook_cache_authorized_ttl),
                unauthorized_ttl=parse_duration(authorization_webhook_cache_unauthorized_ttl),
                client_ca_file=client_ca_file,
            ),
            node_ip=node_ip,
            hostname=hostname_override or "",
            node_labels=parse_key_values(node_labels, "--node-labels"),
            register_with_taints=parse_taints(register_with_taints),
            max_pods=max_pods,
            system_reserved=parse_reserved(system_reserved),
            kube_reserved=parse_reserved(kube_reserved),
            eviction_hard_memory=eviction_hard_memory,
            node_status_update_frequency=parse_duration(node_status_update_frequency),
            node_status_report_frequency=parse_duration(node_status_report_frequency),
            node_lease_duration=node_lease_duration,
            sync_frequency=parse_duration(sync_frequency),
            pleg_relist_period=parse_duration(pleg_relist_period),
            pod_manifest_path=pod_manifest_path.expanduser() if pod_manifest_path else None,
            file_check_frequency=parse_duration(file_check_frequency),
            crashloop_backoff_base=parse_duration(crashloop_backoff_base),
            crashloop_backoff_max=parse_duration(crashloop_backoff_max),
            image_pull_backoff_base=parse_duration(image_pull_backoff_base),
            object_cache_ttl=parse_duration(object_cache_ttl),
            cluster_dns=[s.strip() for s in cluster_dns.split(",") if s.strip()],
            cluster_domain=cluster_domain,
            resolv_conf=Path(resolv_conf) if resolv_conf else None,
            pod_network=pod_network,
            pod_cidr=pod_cidr,
            pause_image=pause_image,
            docker_host=docker_host,
        )
        if node_name:
            config.node_name = node_name
        if runtime not in ("docker", "fake"):
            raise ValueError(f"--runtime {runtime!r}: choose docker or fake")
        if authorization_mode not in MODES:
            raise ValueError(
                f"--authorization-mode {authorization_mode!r}: choose {', '.join(MODES)}"
            )
        if bootstrap_kubeconfig:
            if not kubeconfig:
                raise ValueError("--bootstrap-kubeconfig needs --kubeconfig (the file it writes)")
            bootstrap_from = (Path(kubeconfig), Path(bootstrap_kubeconfig), server)
            client_config = None
        else:
            bootstrap_from = None
            client_config = load_config(kubeconfig, server=server)
    except (ValueError, ClientConfigError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from err
    serve(config, client_config, log_level, bootstrap_from=bootstrap_from)


@app.command("hollow-nodes")
def hollow_nodes_cmd(
    count: Annotated[int, typer.Option(help="How many hollow nodes to run.")] = 10,
    kubeconfig: Annotated[
        str | None, typer.Option(help="Kubeconfig file with the apiserver and credentials.")
    ] = None,
    server: Annotated[
        str | None, typer.Option(help="Apiserver URL (alone: no kubeconfig is read).")
    ] = None,
    name_prefix: Annotated[
        str, typer.Option(help="Node names are this prefix and a number.")
    ] = "hollow-node-",
    cpu: Annotated[str, typer.Option(help="CPU capacity of each node.")] = "4",
    memory: Annotated[str, typer.Option(help="Memory capacity of each node.")] = "16Gi",
    max_pods: Annotated[int, typer.Option(help="Pods capacity of each node.")] = 110,
    node_labels: Annotated[
        str, typer.Option(help="Extra labels on every node, as key=value,key=value.")
    ] = "",
    register_with_taints: Annotated[
        str, typer.Option(help="Taints on every node, as key=value:Effect.")
    ] = "",
    node_lease_duration: Annotated[
        int, typer.Option(help="Lease duration in seconds; renewed every quarter of it.")
    ] = 40,
    node_status_update_frequency: Annotated[
        str, typer.Option(help="How often each Node status is computed.")
    ] = "10s",
    start_concurrency: Annotated[
        int, typer.Option(help="Nodes registering at the same time while starting.")
    ] = 50,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Run N kubelets over the fake runtime in one process, for control-plane scale tests.

    Example: navarch hollow-nodes --count 1000 --server http://127.0.0.1:6443
    """
    from apiclient import ConfigError as ClientConfigError
    from apiclient import load_config
    from apitypes.duration import parse_duration
    from kubelet.config import parse_key_values, parse_taints
    from kubelet.hollow import HollowOptions, serve

    try:
        options = HollowOptions(
            count=count,
            prefix=name_prefix,
            cpu=cpu,
            memory=memory,
            max_pods=max_pods,
            node_labels=parse_key_values(node_labels, "--node-labels"),
            taints=parse_taints(register_with_taints),
            lease_duration=node_lease_duration,
            status_update_frequency=parse_duration(node_status_update_frequency),
            start_concurrency=start_concurrency,
        )
        client_config = load_config(kubeconfig, server=server)
    except (ValueError, ClientConfigError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from err
    serve(client_config, options, log_level)


@app.command("dns")
def dns_cmd(
    kubeconfig: Annotated[
        str | None, typer.Option(help="Kubeconfig file with the apiserver and credentials.")
    ] = None,
    master: Annotated[
        str | None,
        typer.Option("--master", "--server", help="Apiserver URL (alone: no kubeconfig is read)."),
    ] = None,
    cluster_domain: Annotated[str, typer.Option(help="The cluster's DNS zone.")] = "cluster.local",
    ttl: Annotated[int, typer.Option(help="TTL of cluster records, in seconds.")] = 5,
    bind_address: Annotated[str, typer.Option(help="Address to answer on.")] = "0.0.0.0",
    port: Annotated[int, typer.Option(help="UDP and TCP port to answer on (0: any).")] = 53,
    upstream: Annotated[
        list[str] | None,
        typer.Option(
            help="Resolver for other names, IP[:PORT]; repeatable. "
            "Default: the nameservers of --resolv-conf."
        ),
    ] = None,
    resolv_conf: Annotated[
        str, typer.Option(help="Where to read upstream nameservers without --upstream.")
    ] = "/etc/resolv.conf",
    health_port: Annotated[
        int, typer.Option(help="HTTP port of /health, /ready and /metrics.")
    ] = 8080,
    health_bind_address: Annotated[str, typer.Option(help="Address of the HTTP port.")] = "0.0.0.0",
    pods: Annotated[
        str, typer.Option(help="Pod records a-b-c-d.<ns>.pod.<zone>: insecure or disabled.")
    ] = "insecure",
    cache_size: Annotated[int, typer.Option(help="Forwarded answers kept at most.")] = 10_000,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Cluster DNS: answer the Kubernetes DNS specification, forward other names.

    Example: navarch dns --kubeconfig ~/.navarch/kubeconfig --port 5353 --upstream 127.0.0.1:53
    """
    from apiclient import ConfigError as ClientConfigError
    from clusterdns.main import ConfigError, Options, run

    options = Options(
        kubeconfig=kubeconfig,
        master=master,
        cluster_domain=cluster_domain,
        ttl=ttl,
        bind_address=bind_address,
        port=port,
        upstream=upstream or [],
        resolv_conf=resolv_conf,
        health_port=health_port,
        health_bind_address=health_bind_address,
        pods=pods,
        cache_size=cache_size,
        log_level=log_level,
    )
    try:
        code = run(options)
    except (ConfigError, ClientConfigError, ValueError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from err
    raise typer.Exit(code)


image_app = typer.Typer(help="Images in the compose cluster's nodes.", no_args_is_help=True)
app.add_typer(image_app, name="image")


@image_app.command("load")
def image_load_cmd(
    images: Annotated[list[str], typer.Argument(help="Images in the host's Docker Engine.")],
    nodes: Annotated[
        str, typer.Option(help="Comma-separated nodes to load into (default: every node).")
    ] = "",
    project: Annotated[
        str, typer.Option(envvar="COMPOSE_PROJECT_NAME", help="The compose project.")
    ] = "navarch",
    context: Annotated[
        str, typer.Option(help="Kubeconfig context whose pods are checked for pulls.")
    ] = "navarch-compose",
) -> None:
    """Copy images from the host's Docker Engine into every compose node's engine (as
    kind load docker-image), and warn when a pod would still pull them.

    Example: navarch image load navarch/sample-web:2 --nodes node-1,node-2
    """
    from cli.imageload import LoadError, load, node_containers, warnings

    try:
        targets = node_containers(project, [n.strip() for n in nodes.split(",") if n.strip()])
        load(images, targets, echo=typer.echo)
    except LoadError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from err
    for line in warnings(images, _pods_or_none(context)):
        typer.echo(line, err=True)


def _pods_or_none(context: str) -> list[dict[str, Any]]:
    """Every pod of the cluster of ``context``; none when it cannot be read."""
    import httpx

    from apiclient import ConfigError, load_config

    try:
        config = load_config(None, context=context)
        resp = httpx.get(
            f"{config.server}/api/v1/pods",
            timeout=5,
            verify=config.ssl_context(),
            headers=config.auth_headers(),
        )
        resp.raise_for_status()
    except (ConfigError, httpx.HTTPError, OSError):
        return []
    return list(resp.json().get("items") or [])


@app.command("network-agent")
def network_agent_cmd(
    kubeconfig: Annotated[
        str | None, typer.Option(help="Kubeconfig file with the apiserver and credentials.")
    ] = None,
    server: Annotated[
        str | None,
        typer.Option("--server", "--master", help="Apiserver URL (overrides the kubeconfig)."),
    ] = None,
    cluster_cidr: Annotated[
        str, typer.Option(help="The pod CIDR of the cluster (one per IP family, comma-separated).")
    ] = "10.244.0.0/16",
    service_cluster_ip_range: Annotated[
        str,
        typer.Option(help="Kept routed to the dummy device navarch-svc0 ('' leaves it alone)."),
    ] = "10.96.0.0/12",
    masquerade: Annotated[
        bool, typer.Option(help="Masquerade pod traffic that leaves the cluster CIDR.")
    ] = True,
    local_routes: Annotated[
        bool,
        typer.Option(help="Keep the service CIDR's dummy route and the cluster CIDR's blackhole."),
    ] = True,
    sync_period: Annotated[
        str, typer.Option(help="Full resync against the kernel at least this often.")
    ] = "10s",
    min_sync_period: Annotated[
        str, typer.Option(help="Syncs after Node changes are at least this far apart.")
    ] = "0.5s",
    cleanup: Annotated[
        bool, typer.Option(help="Remove the routes and rules this agent keeps, and exit.")
    ] = False,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Route the other nodes' pod CIDRs via their InternalIPs, masquerade pod traffic
    leaving the cluster, open Docker's bridge isolation between pod bridges.

    Example: navarch network-agent --kubeconfig ~/.navarch/kubeconfig --cluster-cidr 10.244.0.0/16
    """
    import logging

    from apiclient import ConfigError, load_config
    from apitypes.duration import parse_duration
    from netagent.agent import AgentConfig
    from netagent.main import cleanup as remove_all
    from netagent.main import serve

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    cidrs = [c.strip() for c in cluster_cidr.split(",") if c.strip()]
    try:
        for cidr in cidrs:
            ipaddress.ip_network(cidr)
        config = AgentConfig(
            cluster_cidrs=cidrs,
            service_cidr=service_cluster_ip_range or None,
            sync_period=parse_duration(sync_period),
            min_sync_period=parse_duration(min_sync_period),
            masquerade=masquerade,
            local_routes=local_routes,
        )
    except ValueError as err:
        raise typer.BadParameter(str(err)) from err
    if cleanup:
        for item in remove_all(config):
            typer.echo(f"removed {item}")
        return
    try:
        client = load_config(kubeconfig, server=server)
    except ConfigError as err:
        raise typer.BadParameter(str(err), param_hint="--kubeconfig") from err
    serve(config, client)


from cli.aws.commands import app as aws_app  # noqa: E402 - the group's flags, no boto3 yet

app.add_typer(aws_app, name="aws")

from cli.bootstrap.tokencmd import app as token_app  # noqa: E402

app.add_typer(token_app, name="token")


app.command("proxy")(proxy_cmd)


def main() -> None:
    """The console script: a daemon's ``--config FILE`` becomes its flags
    (``cli/daemonconfig.py``), then typer parses the command line."""
    import sys

    argv = sys.argv[1:]
    if argv and argv[0] in DAEMONS and any(a.startswith("--config") for a in argv):
        from cli.daemonconfig import ConfigFileError, expand

        try:
            argv = expand(argv, typer.main.get_command(app))
        except ConfigFileError as err:
            sys.stderr.write(f"navarch {argv[0]}: {err}\n")
            raise SystemExit(2) from None
    app(args=argv)


if __name__ == "__main__":
    main()
