"""``navarch``: the daemons, and a local cluster.

Each daemon subcommand runs one process in the foreground, as its Kubernetes
counterpart does; ``up``/``down``/``status`` manage a whole local cluster.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="navarch",
    help="navarch: a container orchestrator that speaks the Kubernetes API.",
    no_args_is_help=True,
    add_completion=True,
)


@app.callback()
def _root() -> None:
    """Keeps subcommands subcommands, even while there is only one."""


@app.command("apiserver")
def apiserver_cmd(
    etcd_servers: Annotated[
        str, typer.Option(help="Comma-separated etcd client URLs.")
    ] = "http://127.0.0.1:2379",
    bind_address: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 6443,
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
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
    workers: Annotated[
        int, typer.Option(help="Server processes sharing the port (each a whole apiserver).")
    ] = 1,
) -> None:
    """Serve the Kubernetes API over etcd.

    Example: navarch apiserver --etcd-servers http://127.0.0.1:2379 --port 6443
    """
    from apiserver.main import ServeOptions, serve
    from apiserver.server import ServerConfig

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
        bookmark_interval=watch_bookmark_interval,
        min_request_timeout=min_request_timeout,
        service_cluster_ip_range=service_cluster_ip_range,
        service_node_port_range=(int(low), int(high)),
    )
    serve(
        config,
        ServeOptions(
            bind_address=bind_address,
            port=port,
            tls_cert_file=tls_cert_file,
            tls_private_key_file=tls_private_key_file,
            log_level=log_level,
            workers=workers,
        ),
    )


DataDir = Annotated[
    Path,
    typer.Option(help="Where the cluster keeps its state, logs and pid files."),
]


@app.command("up")
def up_cmd(data_dir: DataDir = Path("~/.navarch")) -> None:
    """Start a local cluster in the background (again: changes nothing).

    Example: navarch up
    """
    from cli.localcluster import LocalCluster

    cluster = LocalCluster(data_dir.expanduser())
    try:
        cluster.up(echo=typer.echo)
    except (RuntimeError, FileNotFoundError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from err
    typer.echo(f"try: kubectl --server {cluster.apiserver_url} get namespaces")


@app.command("down")
def down_cmd(
    data_dir: DataDir = Path("~/.navarch"),
    purge: Annotated[bool, typer.Option(help="Also remove the cluster's state.")] = False,
) -> None:
    """Stop the local cluster; its state stays unless --purge.

    Example: navarch down --purge
    """
    from cli.localcluster import LocalCluster

    LocalCluster(data_dir.expanduser()).down(echo=typer.echo, purge=purge)


@app.command("status")
def status_cmd(data_dir: DataDir = Path("~/.navarch")) -> None:
    """Show each component of the local cluster, running or not, with pid and log.

    Example: navarch status
    """
    from cli.localcluster import LocalCluster

    cluster = LocalCluster(data_dir.expanduser())
    for name, pid, log in cluster.status():
        state = f"running (pid {pid})" if pid else "stopped"
        typer.echo(f"{name:<12} {state:<22} {log}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
