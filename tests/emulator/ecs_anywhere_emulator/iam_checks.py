"""Checks real IAM makes on trust policies and moto's CreateRole skips.

moto validates UpdateAssumeRolePolicy documents but stores whatever
CreateRole gets; IAM rejects malformed JSON, statements without a
principal and empty or malformed service principals (the seed document's
trust policy shows an empty principal, an easy mistake to copy)."""

from __future__ import annotations

import json
from typing import Any, Mapping

from moto.iam.policy_validation import IAMTrustPolicyDocumentValidator

from .errors import AwsError


def _malformed(message: str) -> AwsError:
    return AwsError("MalformedPolicyDocument", message, 400)


def validate_trust_policy(document: Any) -> None:
    if not isinstance(document, str):
        raise _malformed("Syntax errors in policy.")
    try:
        IAMTrustPolicyDocumentValidator(document).validate()
    except Exception as e:  # noqa: BLE001 - moto raises its MalformedPolicyDocument
        message = getattr(e, "message", None) or str(e).split(": ", 1)[-1]
        raise _malformed(message) from None
    try:
        doc = json.loads(document)
    except ValueError:
        raise _malformed("This policy contains invalid Json") from None
    statements = doc.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    for stmt in statements:
        if not isinstance(stmt, Mapping):
            continue
        if "Principal" not in stmt and "NotPrincipal" not in stmt:
            raise _malformed("Missing required field Principal")
        principal = stmt.get("Principal", stmt.get("NotPrincipal"))
        if principal == "*":
            continue
        if not isinstance(principal, Mapping) or not principal:
            raise _malformed(f"Invalid principal in policy: {json.dumps(principal)}")
        for kind, values in principal.items():
            if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
                raise _malformed(f'Invalid principal in policy: "{kind}"')
            for value in values if isinstance(values, list) else [values]:
                if not isinstance(value, str) or not value.strip():
                    raise _malformed(f'Invalid principal in policy: "{kind.upper()}":"{value}"')
                if kind == "Service" and "." not in value:
                    raise _malformed(f'Invalid principal in policy: "SERVICE":"{value}"')


def check_before_forward(service: str, operation: str, params: Mapping[str, Any]) -> None:
    if service != "iam":
        return
    if operation == "CreateRole":
        validate_trust_policy(params.get("AssumeRolePolicyDocument"))
    elif operation == "UpdateAssumeRolePolicy":
        validate_trust_policy(params.get("PolicyDocument"))
