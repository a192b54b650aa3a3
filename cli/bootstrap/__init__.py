"""``navarch init``, ``join`` and ``reset``: a host of a multi-host cluster, as kubeadm
makes one (see ``cli/README.md`` and ``docs/aws.md``, "The init/join contract").

- ``layout``: where a host keeps things (``/etc/navarch``, ``/var/lib/navarch``, the
  unit directory), under a root prefix for tests (``NAVARCH_ROOT``).
- ``units``: the systemd unit templates (``systemd/``, shipped in the wheel; the
  repository's ``deploy/systemd`` links here) and each daemon's ``--config`` file.
- ``initsystem``: systemd when it runs the host, else navarch's supervisor running the
  very ``ExecStart`` lines of the same units.
- ``discovery``: what init publishes (token Secret, ``cluster-info``, RBAC) and what
  join checks (the JWS, the CA hash).
- ``host``: the three verbs.
"""
