"""``navctl certificate approve|deny NAME...``: decide CertificateSigningRequests, as
``kubectl certificate`` does.

Each request is read, given an ``Approved`` (reason ``KubectlApprove``) or ``Denied``
(``KubectlDeny``) condition and written through its ``approval`` subresource (the
apiserver's CertificateApproval admission asks for ``approve`` on its signer). A
request already decided the same way is left as it is; one decided the other way is
an error unless ``--force`` (which adds the condition anyway; the apiserver refuses
to have both).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.navctl.console import out
from cli.navctl.errors import fail
from cli.navctl.options import verb_app
from cli.navctl.session import Session, run

app = verb_app(help="Approve or deny certificate signing requests.", no_args_is_help=True)

Names = Annotated[list[str] | None, typer.Argument(help="CertificateSigningRequest names.")]
Force = Annotated[
    bool, typer.Option("--force", help="Update the request even if it is already decided.")
]


@app.command("approve")
def approve_cmd(names: Names = None, force: Force = False) -> None:
    """Approve certificate signing requests.

    [bold]Example:[/bold]

      navctl certificate approve node-csr-abc
    """

    async def go(session: Session) -> int:
        return await decide(session, names or [], "Approved", force=force)

    run(go)


@app.command("deny")
def deny_cmd(names: Names = None, force: Force = False) -> None:
    """Deny certificate signing requests.

    [bold]Example:[/bold]

      navctl certificate deny node-csr-abc
    """

    async def go(session: Session) -> int:
        return await decide(session, names or [], "Denied", force=force)

    run(go)


# --- implementation --------------------------------------------------------------------------

_VERBS = {"Approved": ("approve", "KubectlApprove"), "Denied": ("deny", "KubectlDeny")}


def with_decision(
    csr: dict[str, Any], decision: str, now: str, *, force: bool = False
) -> dict[str, Any] | None:
    """``csr`` with the condition ``decision`` (Approved or Denied) added; None when it
    already has it. ValueError naming the other decision when it has that one. With
    ``force`` the condition is added whatever is there (the apiserver has the last word:
    a decision is never removed, Approved and Denied exclude each other)."""
    verb, reason = _VERBS[decision]
    conditions = list((csr.get("status") or {}).get("conditions") or [])
    decided = {c.get("type") for c in conditions} & set(_VERBS)
    if decision in decided and not force:
        return None
    if decided and not force:
        raise ValueError(
            f'certificate signing request "{csr["metadata"]["name"]}" is already {decided.pop()}'
        )
    conditions.append(
        {
            "type": decision,
            "status": "True",
            "reason": reason,
            "message": f"This CSR was {decision.lower()} by kubectl certificate {verb}.",
            "lastUpdateTime": now,
        }
    )
    return csr | {"status": (csr.get("status") or {}) | {"conditions": conditions}}


async def decide(session: Session, names: list[str], decision: str, *, force: bool) -> int:
    """Run ``navctl certificate approve|deny``."""
    from apitypes.base import format_time, now
    from apitypes.registry import resource

    if not names:
        fail("one or more CSRs must be specified as <name> or -f <filename>")
    csrs = resource("certificates.k8s.io", "certificatesigningrequests")
    for name in names:
        csr = await session.client.get_raw(csrs, name)
        try:
            changed = with_decision(csr, decision, format_time(now()), force=force)
        except ValueError as err:
            fail(str(err))
        if changed is not None:
            await session.client.update_raw(csrs, changed, subresource="approval")
        out(f"certificatesigningrequest.certificates.k8s.io/{name} {decision.lower()}\n")
    return 0
