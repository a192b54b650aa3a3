"""The security plane of one apiserver, built from its flags: the authenticator, the
authorizer, the admission chain and the service-account token issuer. ``ApiServer``
builds one ``Security``; the request chain (``filters.py``), the stores (admission)
and the subresources and review kinds (token requests, access reviews) share it."""

from __future__ import annotations

from dataclasses import dataclass, field

from apiserver.admission import Chain, Lookup, Settings
from apiserver.admission import plugins as admission_plugins
from apiserver.admission.certificates import SignerAuthorizing, SignerCheck
from apiserver.admission.podsecurity import LEVELS
from apiserver.audit import Auditor, load_policy
from apiserver.authn.bootstrap import BootstrapTokens
from apiserver.authn.serviceaccount import (
    DEFAULT_ISSUER,
    TokenIssuer,
    TokenVerifier,
    load_private_key,
    load_public_keys,
)
from apiserver.authn.tokenfile import TokenFile
from apiserver.authn.union import Authenticator
from apiserver.authz import AlwaysAllow, AlwaysDeny, Authorizer
from apiserver.authz import Attributes as AuthzAttributes
from apiserver.authz.escalation import EscalationCheck
from apiserver.authz.node import NodeAuthorizer
from apiserver.authz.rbac import RBACAuthorizer
from apiserver.authz.union import Union
from apiserver.user import UserInfo
from apiserver.watchcache import WatchCache
from apitypes.certificates import GROUP as CERTIFICATES

AUTHORIZATION_MODES = ("AlwaysAllow", "AlwaysDeny", "Node", "RBAC")


@dataclass
class SecurityConfig:
    """The apiserver flags of authentication, authorization and admission."""

    anonymous_auth: bool = True
    client_ca_file: str | None = None
    token_auth_file: str | None = None
    enable_bootstrap_token_auth: bool = False
    service_account_issuer: list[str] = field(default_factory=list)
    """The first issues tokens; all are accepted."""
    service_account_key_file: list[str] = field(default_factory=list)
    service_account_signing_key_file: str | None = None
    service_account_max_token_expiration: int | None = None
    api_audiences: list[str] = field(default_factory=list)
    authorization_mode: list[str] = field(default_factory=lambda: ["AlwaysAllow"])
    enable_admission_plugins: list[str] = field(default_factory=list)
    disable_admission_plugins: list[str] = field(default_factory=list)
    pod_security_default: str = "privileged"
    pod_security_exempt_namespaces: list[str] = field(default_factory=list)
    default_not_ready_toleration_seconds: int = 300
    default_unreachable_toleration_seconds: int = 300
    audit_policy_file: str | None = None
    audit_log_path: str | None = None
    """Audit events as JSON lines here ("-": standard output); with a policy only."""


@dataclass
class Security:
    authenticator: Authenticator
    authorizer: Authorizer
    admission: Chain
    tokens: TokenIssuer | None = None
    lookup: Lookup | None = None
    rbac: bool = False
    """Whether the RBAC authorizer is on (the default roles are then kept in place)."""
    auditor: Auditor | None = None


@dataclass(frozen=True)
class ReviewContext:
    """What a create-only kind (TokenReview, the access reviews) answers with."""

    user: UserInfo
    namespace: str | None
    security: Security


def build(
    config: SecurityConfig,
    lookup: Lookup,
    *,
    pods: WatchCache | None = None,
    pod_prefix: str = "",
) -> Security:
    """The security plane ``config`` describes (``pods``: the pods' watch cache, which the
    Node authorizer follows); ValueError for flags that do not fit."""
    issuers = config.service_account_issuer or [DEFAULT_ISSUER]
    audiences = config.api_audiences or issuers
    tokens = None
    verifier = None
    keys = [k for path in config.service_account_key_file for k in load_public_keys(path)]
    if config.service_account_signing_key_file:
        signing = load_private_key(config.service_account_signing_key_file)
        tokens = TokenIssuer(
            signing,
            issuers[0],
            audiences,
            max_expiration=config.service_account_max_token_expiration,
        )
        keys.append(signing.public_key())
    if keys:
        verifier = TokenVerifier(keys, issuers, audiences, lookup.get)
    authenticator = Authenticator(
        token_file=TokenFile.load(config.token_auth_file) if config.token_auth_file else None,
        bootstrap=BootstrapTokens(lookup.get) if config.enable_bootstrap_token_auth else None,
        service_accounts=verifier,
        anonymous=config.anonymous_auth,
    )
    modes: list[Authorizer] = []
    rbac: RBACAuthorizer | None = None
    for mode in config.authorization_mode:
        if mode == "AlwaysAllow":
            modes.append(AlwaysAllow())
        elif mode == "AlwaysDeny":
            modes.append(AlwaysDeny())
        elif mode == "RBAC":
            rbac = RBACAuthorizer(lookup)
            modes.append(rbac)
        elif mode == "Node" and pods is not None:
            modes.append(NodeAuthorizer(pods, pod_prefix))
        else:
            raise ValueError(
                f"--authorization-mode: unknown mode {mode!r}; choose from "
                f"{', '.join(AUTHORIZATION_MODES)}"
            )
    settings = Settings(
        service_account_tokens=tokens is not None,
        pod_security_default=config.pod_security_default,
        pod_security_exempt_namespaces=tuple(config.pod_security_exempt_namespaces),
        default_not_ready_toleration_seconds=config.default_not_ready_toleration_seconds,
        default_unreachable_toleration_seconds=config.default_unreachable_toleration_seconds,
    )
    if config.pod_security_default not in LEVELS:
        raise ValueError(
            f"--pod-security-default: {config.pod_security_default!r} is not one of "
            f"{', '.join(LEVELS)}"
        )
    chain = admission_plugins.chain(
        lookup,
        settings,
        enable=config.enable_admission_plugins,
        disable=config.disable_admission_plugins,
    )
    authorizer = Union(modes)
    for plugin in chain.plugins:
        if isinstance(plugin, SignerAuthorizing):
            plugin.use_authorizer(_signer_check(authorizer))
    if rbac is not None:
        # Nobody grants what they do not hold; not a plugin one may turn off.
        chain.plugins.insert(0, EscalationCheck(rbac, authorizer, settings))
    auditor = None
    if config.audit_policy_file and config.audit_log_path:
        auditor = Auditor(load_policy(config.audit_policy_file), config.audit_log_path)
    return Security(
        authenticator, authorizer, chain, tokens, lookup, rbac=rbac is not None, auditor=auditor
    )


def _signer_check(authorizer: Authorizer) -> SignerCheck:
    """Whether a user may ``verb`` ``signers/<name>`` (certificates.k8s.io), asked of
    ``authorizer``: what the certificate admission plugins need."""

    async def check(user: UserInfo, verb: str, name: str) -> bool:
        question = AuthzAttributes(
            user=user, verb=verb, is_resource_request=True,
            api_group=CERTIFICATES, resource="signers", name=name,
        )  # fmt: skip
        return (await authorizer.authorize(question)).allowed

    return check
