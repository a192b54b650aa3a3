"""The PKI as kubeadm's ``init`` phases: each module is one phase, re-runnable, that
makes what is missing and renews what is due, and leaves the rest alone.

``certs`` (CAs and leaf certificates), ``sakey`` (the service-account signing key),
``kubeconfig`` (a kubeconfig per client identity, credentials embedded) and
``encryption`` (the EncryptionConfiguration for Secrets at rest), in that order:
later phases read what earlier ones wrote.
"""
