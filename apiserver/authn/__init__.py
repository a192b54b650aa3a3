"""Authentication: who sent a request (Kubernetes' ``authentication`` union).

Each authenticator looks at one kind of credential and answers a user, "not mine"
(None), or "yours, and it is bad" (``InvalidCredentialsError``: a 401 even where anonymous
requests are allowed, as Kubernetes answers a wrong token). The union (``union.py``)
tries them in Kubernetes' order: client certificate (``x509``), bearer token (static
``--token-auth-file`` in ``tokenfile``, bootstrap tokens in ``bootstrap``, service
account JWTs in ``serviceaccount``), then anonymous.
"""

from __future__ import annotations


class InvalidCredentialsError(Exception):
    """The request carries a credential of this kind, and it is not valid."""
