"""Who is calling, and may they do it.

Authentication reuses moto's SigV4 verification (`moto.iam.access_control`):
the access key is looked up in moto's IAM/STS backends and the signature is
recomputed with botocore. Authorization collects the caller's policies with
moto and matches actions and resources with moto's statement matcher, with
IAM's semantics for conditions, NotResource and explicit denies, so that the
error names the action and resource the way AWS does."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from moto.iam.access_control import (
    CreateAccessKeyFailure,
    IAMPolicy,
    IAMPolicyStatement,
    IAMRequest,
)
import moto.iam.models as _moto_iam_models
from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam.models import iam_backends
from moto.sts.models import sts_backends
from moto.utilities.utils import get_partition

from .conditions import conditions_hold
from .errors import AwsError

UNSIGNED_STS_ACTIONS = {"AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"}


def get_account_id_from(access_key: str) -> str:
    """moto's lookup of the account owning an access key, without creating
    an IAM backend (and loading every AWS managed policy) for each of the six
    partitions on the first call after a reset: same answer, ~0.5 s less."""
    for account_id, account in list(iam_backends.items()):
        for partition in list(dict.keys(account)):
            if access_key in dict.__getitem__(account, partition).access_keys:
                return account_id
    return DEFAULT_ACCOUNT_ID


_moto_iam_models.get_account_id_from = get_account_id_from


def auth_error(kind: str, protocol: str) -> AwsError:
    """Authentication failures, shaped per protocol like the real endpoints."""
    query = protocol == "query"
    if kind == "missing":
        if query:
            return AwsError("MissingAuthenticationToken", "Request is missing Authentication Token", 403)
        return AwsError("MissingAuthenticationTokenException", "Missing Authentication Token", 400)
    if kind == "invalid_key":
        msg = "The security token included in the request is invalid."
        if query:
            return AwsError("InvalidClientTokenId", msg, 403)
        return AwsError("UnrecognizedClientException", msg, 400)
    if kind == "signature":
        msg = (
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service "
            "documentation for details."
        )
        if query:
            return AwsError("SignatureDoesNotMatch", msg, 403)
        return AwsError("InvalidSignatureException", msg, 400)
    if kind == "expired":
        msg = "The security token included in the request is expired"
        if query:
            return AwsError("ExpiredToken", msg, 403)
        return AwsError("ExpiredTokenException", msg, 400)
    raise ValueError(kind)


class _AuthFailure(Exception):
    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class _SigRequest(IAMRequest):
    """moto's SigV4 request check, raising our own failure kinds."""

    def _raise_signature_does_not_match(self) -> None:
        raise _AuthFailure("signature")

    def _raise_invalid_access_key(self, reason: str) -> None:
        raise _AuthFailure("invalid_key")

    def _raise_access_denied(self) -> None:  # not used: we authorize ourselves
        raise _AuthFailure("denied")


@dataclass
class Caller:
    arn: str
    access_key_id: str
    account_id: str
    partition: str
    region: str
    signing_service: str
    kind: str  # "user" | "assumed-role"
    user_name: str | None = None
    role_name: str | None = None
    session_name: str | None = None
    _request: Any = field(default=None, repr=False)

    def policies(self) -> list[Any]:
        return self._request._access_key.collect_policies()


def parse_scope(authorization: str) -> tuple[str, str, str, str] | None:
    """(access_key_id, date, region, service) from a SigV4 Authorization header."""
    try:
        cred = authorization.split("Credential=", 1)[1].split(",", 1)[0].strip()
        akid, date, region, service, _ = cred.split("/")
        return akid, date, region, service
    except (IndexError, ValueError):
        return None


def peek_identity(authorization: str | None) -> str:
    """Best-effort principal ARN without verifying anything (for the ledger)."""
    if not authorization:
        return "anonymous"
    scope = parse_scope(authorization)
    if not scope:
        return "unauthenticated"
    akid, _, region, _ = scope
    partition = get_partition(region)
    account = get_account_id_from(akid)
    try:
        backend = iam_backends[account][partition]
        for user in backend.list_users("/", None, None):
            for key in user.access_keys:
                if key.access_key_id == akid:
                    return f"arn:{partition}:iam::{account}:user/{user.name}"
        for role in sts_backends[account][partition].assumed_roles:
            if role.access_key_id == akid:
                return role.arn
    except Exception:  # noqa: BLE001 - the ledger must never break a call
        pass
    return "unauthenticated"


def authenticate(
    *,
    method: str,
    path: str,
    headers: Any,
    body: bytes,
    form: dict[str, list[str]],
    action: str,
    protocol: str,
    now_naive_utc: Any,
) -> Caller:
    authorization = headers.get("Authorization")
    if not authorization:
        raise auth_error("missing", protocol)
    scope = parse_scope(authorization)
    if scope is None or not authorization.startswith("AWS4-HMAC-SHA256"):
        raise AwsError(
            "IncompleteSignatureException" if protocol != "query" else "IncompleteSignature",
            "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.",
            400 if protocol != "query" else 403,
        )
    akid, _, region, service = scope
    account = get_account_id_from(akid)
    partition = get_partition(region)
    try:
        req = _SigRequest(
            account_id=account,
            method=method,
            path=path,
            data=form,
            body=body,
            headers=headers,
            action=action,
        )
        req.check_signature()
    except _AuthFailure as failure:
        raise auth_error(failure.kind, protocol) from None
    except CreateAccessKeyFailure:
        raise auth_error("invalid_key", protocol) from None
    except KeyError:
        # e.g. no X-Amz-Date header: the signature cannot be checked.
        raise AwsError(
            "IncompleteSignatureException" if protocol != "query" else "IncompleteSignature",
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
            400 if protocol != "query" else 403,
        ) from None

    access_key = req._access_key
    iam = iam_backends[account][partition]
    if access_key.__class__.__name__ == "IAMUserAccessKey":
        stored = iam.access_keys.get(akid)
        if stored is not None and getattr(stored, "status", "Active") != "Active":
            raise auth_error("invalid_key", protocol)
        return Caller(
            arn=access_key.arn,
            access_key_id=akid,
            account_id=account,
            partition=partition,
            region=region,
            signing_service=service,
            kind="user",
            user_name=access_key._owner_user_name,
            _request=req,
        )
    assumed = sts_backends[account][partition].get_assumed_role_from_access_key(akid)
    if assumed is not None and assumed.expiration <= now_naive_utc:
        raise auth_error("expired", protocol)
    return Caller(
        arn=access_key.arn,
        access_key_id=akid,
        account_id=account,
        partition=partition,
        region=region,
        signing_service=service,
        kind="assumed-role",
        role_name=access_key._owner_role_name,
        session_name=access_key._session_name,
        _request=req,
    )


# --- authorization -----------------------------------------------------------


def _statements(policy: Any) -> list[Mapping[str, Any]]:
    doc = IAMPolicy(policy)._policy_json
    stmts = doc.get("Statement", [])
    return stmts if isinstance(stmts, list) else [stmts]


def _lower_actions(stmt: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(stmt)
    for key in ("Action", "NotAction"):
        if key in out:
            v = out[key]
            out[key] = [a.lower() for a in v] if isinstance(v, list) else str(v).lower()
    return out


def statement_applies(
    stmt: Mapping[str, Any], action: str, resource: str, ctx: Mapping[str, Any]
) -> bool:
    st_doc = _lower_actions(stmt)
    st = IAMPolicyStatement(st_doc)
    action_l = action.lower()
    if "NotAction" in st_doc:
        if st._check_element_matches("NotAction", action_l):
            return False
    elif "Action" in st_doc:
        if not st._check_element_matches("Action", action_l):
            return False
    else:
        return False
    if "NotResource" in st_doc:
        if st._check_element_matches("NotResource", resource):
            return False
    elif "Resource" in st_doc:
        if not st._check_element_matches("Resource", resource):
            return False
    else:
        return False
    cond = stmt.get("Condition")
    if cond and not conditions_hold(cond, ctx):
        return False
    return True


def evaluate(
    policies: Iterable[Any], action: str, resource: str, ctx: Mapping[str, Any]
) -> str:
    """'allow', 'implicit' (nothing allows) or 'explicit' (a Deny matched)."""
    allowed = False
    for policy in policies:
        for stmt in _statements(policy):
            if statement_applies(stmt, action, resource, ctx):
                effect = stmt.get("Effect")
                if effect == "Deny":
                    return "explicit"
                if effect == "Allow":
                    allowed = True
    return "allow" if allowed else "implicit"


def request_context(caller: Caller, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "aws:PrincipalArn": caller.arn
        if caller.kind == "user"
        else f"arn:{caller.partition}:iam::{caller.account_id}:role/{caller.role_name}",
        "aws:PrincipalAccount": caller.account_id,
        "aws:RequestedRegion": caller.region,
        "aws:SecureTransport": "false",
        "aws:PrincipalType": "User" if caller.kind == "user" else "AssumedRole",
    }
    if caller.user_name:
        ctx["aws:username"] = caller.user_name
    if extra:
        ctx.update(extra)
    return ctx


def access_denied(caller: Caller, action: str, resource: str, explicit: bool, protocol: str) -> AwsError:
    reason = (
        "with an explicit deny in an identity-based policy"
        if explicit
        else f"because no identity-based policy allows the {action} action"
    )
    message = (
        f"User: {caller.arn} is not authorized to perform: {action} "
        f"on resource: {resource} {reason}"
    )
    if protocol == "query":
        return AwsError("AccessDenied", message, 403)
    return AwsError("AccessDeniedException", message, 400)


def authorize(
    caller: Caller,
    action: str,
    resource: str,
    protocol: str,
    extra_ctx: Mapping[str, Any] | None = None,
) -> None:
    if action.lower() == "sts:getcalleridentity":
        return  # always allowed, even under an explicit deny (as in AWS)
    decision = evaluate(caller.policies(), action, resource, request_context(caller, extra_ctx))
    if decision == "allow" and action.lower() == "sts:assumerole":
        req = caller._request
        if req._is_assuming_role_operation(resource) and not req._check_role_trust_relationship(resource):
            decision = "implicit"
    if decision != "allow":
        raise access_denied(caller, action, resource, decision == "explicit", protocol)


def trust_allows_service(
    trust_policy_document: str,
    service_principal: str,
    ctx: Mapping[str, Any],
) -> bool:
    """Does a role's trust policy let `service_principal` call sts:AssumeRole?"""
    try:
        doc = json.loads(trust_policy_document)
    except (TypeError, ValueError):
        return False
    stmts = doc.get("Statement", [])
    if isinstance(stmts, Mapping):
        stmts = [stmts]
    allowed = False
    for stmt in stmts:
        if not isinstance(stmt, Mapping):
            continue
        principal = stmt.get("Principal")
        if principal == "*":
            names_principal = True
        elif isinstance(principal, Mapping):
            services = principal.get("Service", [])
            if isinstance(services, str):
                services = [services]
            aws = principal.get("AWS")
            names_principal = service_principal in services or aws == "*"
        else:
            names_principal = False
        if not names_principal:
            continue
        actions = stmt.get("Action", [])
        if isinstance(actions, str):
            actions = [actions]
        if not any(_action_matches(a, "sts:AssumeRole") for a in actions):
            continue
        cond = stmt.get("Condition")
        if cond and not conditions_hold(cond, ctx):
            continue
        if stmt.get("Effect") == "Deny":
            return False
        if stmt.get("Effect") == "Allow":
            allowed = True
    return allowed


def _action_matches(pattern: str, action: str) -> bool:
    from .conditions import _like

    return _like(pattern.lower(), action.lower())


AuthorizeFn = Callable[[str, str], None]
