"""The client library every navarch daemon and the CLI use to talk to the apiserver.

- ``Client``: async REST over httpx, typed objects in and out, ``Status`` as exceptions;
- ``load_config``: kubeconfig files and contexts, as kubectl reads them;
- ``Informer`` / ``InformerFactory``: list + watch into an indexed cache, relisting
  on 410, resuming broken watches, periodic resync;
- ``WorkQueue`` / ``run_workers``: keys, never processed twice at once, with backoff;
- ``LeaderElector``: one active copy of a daemon, on a Lease;
- ``EventRecorder``: Events that people read with ``kubectl describe``.
"""

from apiclient import errors
from apiclient.config import (
    ClientConfig,
    ConfigError,
    load_config,
    merge_kubeconfig,
    write_kubeconfig,
)
from apiclient.events import NORMAL, WARNING, EventRecorder
from apiclient.informer import (
    Informer,
    InformerFactory,
    Store,
    index_by_controller_uid,
    index_by_namespace,
    index_by_node_name,
    index_by_owner_uid,
    object_key,
    split_key,
)
from apiclient.leaderelection import ElectionConfig, LeaderElector
from apiclient.rest import Client, ObjectList, WatchEvent
from apiclient.workqueue import WorkQueue, run_workers

__all__ = [
    "NORMAL",
    "WARNING",
    "Client",
    "ClientConfig",
    "ConfigError",
    "ElectionConfig",
    "EventRecorder",
    "Informer",
    "InformerFactory",
    "LeaderElector",
    "ObjectList",
    "Store",
    "WatchEvent",
    "WorkQueue",
    "errors",
    "index_by_controller_uid",
    "index_by_namespace",
    "index_by_node_name",
    "index_by_owner_uid",
    "load_config",
    "merge_kubeconfig",
    "object_key",
    "run_workers",
    "split_key",
    "write_kubeconfig",
]
