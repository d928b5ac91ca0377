"""SSM hybrid activations and managed (mi-) nodes, which moto does not model.

Operations: CreateActivation, DescribeActivations, DeleteActivation,
RegisterManagedInstance (unsigned), RequestManagedInstanceRoleToken and
UpdateManagedInstancePublicKey (signed with the node's RSA key),
UpdateInstanceInformation (the agent's ping), DescribeInstanceInformation,
DeregisterManagedInstance, UpdateManagedInstanceRole, and the tag operations
for ResourceType=ManagedInstance."""

from __future__ import annotations

import datetime as _dt
import hmac
import re
import secrets
import string
import uuid
from typing import Any, Callable

import regex
from moto.iam.models import iam_backends
from moto.sts.models import sts_backends

from . import auth, nodeauth
from .context import FORWARD, CallCtx, decode_token, encode_token
from .errors import AwsError, validation
from .state import Activation, ManagedNode

MAX_EXPIRY = 30 * 24 * 3600
DEFAULT_EXPIRY = 24 * 3600
TOKEN_LIFETIME = 3600
SSM_PRINCIPAL = "ssm.amazonaws.com"

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MI_RE = re.compile(r"^mi-[0-9a-f]{17}$")
MANAGED_INSTANCE_ID_PATTERN = r"(^mi-[0-9a-f]{17}$)|(^eks_c:[0-9A-Za-z][A-Za-z0-9\-_]{0,99}_\w{17}$)"
NAME_PATTERN = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$"
NAME_RE = regex.compile(NAME_PATTERN)
CODE_ALPHABET = string.ascii_letters + string.digits + "+/"

HANDLERS: dict[str, Callable[[CallCtx], Any]] = {}


def handler(name: str):
    def wrap(fn):
        HANDLERS[name] = fn
        return fn

    return wrap


# --- validation helpers ------------------------------------------------------


class Violations:
    """Collects model-constraint violations into AWS's one-message format."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, value: Any, member: str, text: str) -> None:
        shown = "null" if value is None else f"'{value}'"
        self.items.append(f"Value {shown} at '{member}' failed to satisfy constraint: {text}")

    def null(self, member: str) -> None:
        self.add(None, member, "Member must not be null")

    def length(self, value: Any, member: str, lo: int | None, hi: int | None) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            raise AwsError("SerializationException", f"Unexpected value type for {member}")
        if lo is not None and len(value) < lo:
            self.add(value, member, f"Member must have length greater than or equal to {lo}")
        if hi is not None and len(value) > hi:
            self.add(value, member, f"Member must have length less than or equal to {hi}")

    def number(self, value: Any, member: str, lo: int, hi: int) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int):
            raise AwsError("SerializationException", f"Unexpected value type for {member}")
        if value < lo:
            self.add(value, member, f"Member must have value greater than or equal to {lo}")
        elif value > hi:
            self.add(value, member, f"Member must have value less than or equal to {hi}")

    def pattern(self, value: Any, member: str, pattern: str) -> None:
        if isinstance(value, str) and not regex.search(pattern, value):
            self.add(value, member, f"Member must satisfy regular expression pattern: {pattern}")

    def check(self) -> None:
        if self.items:
            n = len(self.items)
            plural = "s" if n > 1 else ""
            raise validation(f"{n} validation error{plural} detected: " + "; ".join(self.items))


def _nonexistent_role(role: str) -> AwsError:
    return validation(f"Nonexistent role or missing ssm service principal in trust policy: {role}")


def _invalid_instance(instance_id: str) -> AwsError:
    return AwsError("InvalidInstanceId", f"Instance Id {instance_id} is not valid.", message_key="Message")


def _find_role(ctx: CallCtx, name: str):
    try:
        return iam_backends[ctx.account][ctx.partition].get_role(name)
    except Exception:  # noqa: BLE001 - moto raises its NotFoundException
        return None


def _role_arn(ctx: CallCtx, name: str) -> str:
    role = _find_role(ctx, name)
    return role.arn if role else f"arn:{ctx.partition}:iam::{ctx.account}:role/{name}"


def _check_role_for_ssm(ctx: CallCtx, name: str, source_arn: str) -> None:
    """The role must exist, trust ssm.amazonaws.com, and (IAM being
    eventually consistent) not have been created or had its trust policy
    changed less than `iam_propagation_delay` seconds ago."""
    if "/" in name or name.startswith("arn:"):
        raise _nonexistent_role(name)
    role = _find_role(ctx, name)
    if role is None:
        raise _nonexistent_role(name)
    trust_ctx = {"aws:SourceAccount": ctx.account, "aws:SourceArn": source_arn}
    if not auth.trust_allows_service(role.assume_role_policy_document, SSM_PRINCIPAL, trust_ctx):
        raise _nonexistent_role(name)
    changed = ctx.state.role_changed.get(name)
    if changed is not None and ctx.now - changed < ctx.config.iam_propagation_delay:
        raise _nonexistent_role(name)


def _validate_tags(v: Violations, tags: Any, member: str = "tags") -> list[dict[str, str]]:
    if tags is None:
        return []
    if not isinstance(tags, list):
        raise AwsError("SerializationException", "Tags must be a list")
    if len(tags) > 1000:
        v.add(tags, member, "Member must have length less than or equal to 1000")
    out = []
    for i, tag in enumerate(tags, start=1):
        if not isinstance(tag, dict):
            raise AwsError("SerializationException", "Tag must be a structure")
        key, value = tag.get("Key"), tag.get("Value")
        if key is None:
            v.null(f"{member}.{i}.member.key")
        if value is None:
            v.null(f"{member}.{i}.member.value")
        v.length(key, f"{member}.{i}.member.key", 1, 128)
        v.length(value, f"{member}.{i}.member.value", 0, 256)
        v.pattern(key, f"{member}.{i}.member.key", NAME_PATTERN)
        v.pattern(value, f"{member}.{i}.member.value", NAME_PATTERN)
        if isinstance(key, str) and key.lower().startswith("aws:"):
            v.add(key, f"{member}.{i}.member.key", "Member must not start with 'aws:'")
        if key is not None and value is not None:
            out.append({"Key": key, "Value": value})
    return out


def _timestamp(value: Any, member: str) -> float:
    if isinstance(value, bool):
        raise AwsError("SerializationException", f"Unexpected value type for {member}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            dt = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise AwsError("SerializationException", f"Unable to parse {member}") from None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=_dt.timezone.utc)
        return dt.timestamp()
    raise AwsError("SerializationException", f"Unexpected value type for {member}")


# --- activations ---------------------------------------------------------------


@handler("CreateActivation")
def create_activation(ctx: CallCtx) -> dict[str, Any]:
    ctx.authorize("ssm:CreateActivation", ctx.ssm_arn())
    p = ctx.payload
    v = Violations()
    role = p.get("IamRole")
    if role is None:
        v.null("iamRole")
    v.length(role, "iamRole", None, 64)
    description = p.get("Description")
    v.length(description, "description", 0, 256)
    default_name = p.get("DefaultInstanceName")
    v.length(default_name, "defaultInstanceName", 0, 256)
    v.pattern(default_name, "defaultInstanceName", NAME_PATTERN)
    limit = p.get("RegistrationLimit")
    v.number(limit, "registrationLimit", 1, 1000)
    tags = _validate_tags(v, p.get("Tags"))
    metadata = p.get("RegistrationMetadata")
    if metadata is not None and not isinstance(metadata, list):
        raise AwsError("SerializationException", "RegistrationMetadata must be a list")
    v.check()

    now = ctx.now
    if p.get("ExpirationDate") is None:
        expiration = now + DEFAULT_EXPIRY
    else:
        expiration = _timestamp(p["ExpirationDate"], "ExpirationDate")
        if expiration <= now:
            raise validation("ExpirationDate must be in the future.")
        if expiration > now + MAX_EXPIRY:
            raise validation("ExpirationDate cannot be more than 30 days in the future.")
    if len({t["Key"] for t in tags}) != len(tags):
        raise validation("Duplicate tag keys are not allowed.")

    activation_id = str(uuid.uuid4())
    ctx.authorize(
        "iam:PassRole",
        _role_arn(ctx, role),
        {"iam:PassedToService": SSM_PRINCIPAL},
    )
    _check_role_for_ssm(ctx, role, ctx.ssm_arn())

    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(20))
    ctx.state.activations[activation_id] = Activation(
        activation_id=activation_id,
        code=code,
        region=ctx.region,
        account_id=ctx.account,
        iam_role=role,
        description=description,
        default_instance_name=default_name,
        registration_limit=limit if limit is not None else 1,
        expiration=expiration,
        created=now,
        tags=tags,
    )
    return {"ActivationId": activation_id, "ActivationCode": code}


def _activation_view(a: Activation, now: float) -> dict[str, Any]:
    view = {
        "ActivationId": a.activation_id,
        "Description": a.description,
        "DefaultInstanceName": a.default_instance_name,
        "IamRole": a.iam_role,
        "RegistrationLimit": a.registration_limit,
        "RegistrationsCount": a.registrations_count,
        "ExpirationDate": a.expiration,
        "Expired": now >= a.expiration,
        "CreatedDate": a.created,
        "Tags": [dict(t) for t in a.tags],
    }
    return {k: v for k, v in view.items() if v is not None}


ACTIVATION_FILTER_KEYS = ("ActivationIds", "DefaultInstanceName", "IamRole")


@handler("DescribeActivations")
def describe_activations(ctx: CallCtx) -> dict[str, Any]:
    ctx.authorize("ssm:DescribeActivations", ctx.ssm_arn())
    p = ctx.payload
    v = Violations()
    max_results = p.get("MaxResults")
    v.number(max_results, "maxResults", 1, 50)
    filters = p.get("Filters") or []
    if not isinstance(filters, list):
        raise AwsError("SerializationException", "Filters must be a list")
    for i, f in enumerate(filters, start=1):
        key = f.get("FilterKey") if isinstance(f, dict) else None
        if key is not None and key not in ACTIVATION_FILTER_KEYS:
            v.add(
                key,
                f"filters.{i}.member.filterKey",
                "Member must satisfy enum value set: [ActivationIds, DefaultInstanceName, IamRole]",
            )
    v.check()
    for f in filters:
        if not f.get("FilterKey") or not isinstance(f.get("FilterValues"), list):
            raise AwsError("InvalidFilter", "The filter is not valid.", message_key="Message")

    def keep(a: Activation) -> bool:
        if a.region != ctx.region or a.account_id != ctx.account:
            return False
        for f in filters:
            values = f["FilterValues"]
            field = {
                "ActivationIds": a.activation_id,
                "DefaultInstanceName": a.default_instance_name,
                "IamRole": a.iam_role,
            }[f["FilterKey"]]
            if field not in values:
                return False
        return True

    items = [a for a in ctx.state.activations.values() if keep(a)]
    salt = "activations"
    start = 0
    if p.get("NextToken") is not None:
        start = decode_token(
            p["NextToken"], salt, AwsError("InvalidNextToken", "The specified token is not valid.", message_key="Message")
        )
    size = max_results or 50
    page = items[start : start + size]
    out: dict[str, Any] = {"ActivationList": [_activation_view(a, ctx.now) for a in page]}
    if start + size < len(items):
        out["NextToken"] = encode_token(start + size, salt)
    return out


@handler("DeleteActivation")
def delete_activation(ctx: CallCtx) -> dict[str, Any]:
    ctx.authorize("ssm:DeleteActivation", ctx.ssm_arn())
    activation_id = ctx.payload.get("ActivationId")
    v = Violations()
    if activation_id is None:
        v.null("activationId")
    v.check()
    if not isinstance(activation_id, str) or not UUID_RE.match(activation_id):
        raise AwsError(
            "InvalidActivationId",
            f"Activation ID {activation_id} is not valid. Verify the activation ID and try again.",
            message_key="Message",
        )
    a = ctx.state.activations.get(activation_id)
    if a is None or a.region != ctx.region or a.account_id != ctx.account:
        raise AwsError(
            "InvalidActivation",
            f"Activation {activation_id} does not exist.",
            message_key="Message",
        )
    del ctx.state.activations[activation_id]
    return {}


# --- registration and node credentials ---------------------------------------------


@handler("RegisterManagedInstance")
def register_managed_instance(ctx: CallCtx) -> dict[str, Any]:
    p = ctx.payload
    v = Violations()
    for member in ("ActivationCode", "ActivationId", "PublicKey", "PublicKeyType", "Fingerprint"):
        if p.get(member) is None:
            v.null(member[0].lower() + member[1:])
    v.check()
    activation = ctx.state.activations.get(p["ActivationId"])
    if activation is None or not hmac.compare_digest(
        str(activation.code).encode(), str(p["ActivationCode"]).encode()
    ):
        raise AwsError(
            "InvalidActivation",
            "Activation ID or activation code is not valid.",
            message_key="Message",
        )
    now = ctx.now
    if now >= activation.expiration:
        raise AwsError("ActivationExpired", "Activation has expired.", message_key="Message")
    if activation.registrations_count >= activation.registration_limit:
        raise AwsError(
            "RegistrationLimitExceeded",
            f"Registration limit of {activation.registration_limit} reached for SSM On-prem managed instances.",
            message_key="Message",
        )
    if p["PublicKeyType"] != "Rsa":
        raise validation(
            f"1 validation error detected: Value '{p['PublicKeyType']}' at 'publicKeyType' "
            "failed to satisfy constraint: Member must satisfy enum value set: [Rsa]"
        )
    try:
        nodeauth.decode_public_key(p["PublicKey"])
    except Exception:  # noqa: BLE001 - anything unparsable is a bad key
        raise validation("PublicKey is not a valid base64-encoded DER RSA public key.") from None

    instance_id = "mi-" + secrets.token_hex(9)[:17]
    ctx.state.nodes[instance_id] = ManagedNode(
        instance_id=instance_id,
        region=activation.region,
        account_id=activation.account_id,
        activation_id=activation.activation_id,
        iam_role=activation.iam_role,
        registration_date=now,
        public_key=p["PublicKey"],
        public_key_type=p["PublicKeyType"],
        fingerprint=p["Fingerprint"],
        name=activation.default_instance_name or None,
        tags={t["Key"]: t["Value"] for t in activation.tags},
    )
    activation.registrations_count += 1
    return {"InstanceId": instance_id}


@handler("RequestManagedInstanceRoleToken")
def request_managed_instance_role_token(ctx: CallCtx) -> dict[str, Any]:
    node = ctx.node
    assert node is not None
    fingerprint = ctx.payload.get("Fingerprint")
    v = Violations()
    if fingerprint is None:
        v.null("fingerprint")
    v.check()
    node.fingerprint = fingerprint
    role = _find_role(ctx, node.iam_role)
    trust_ctx = {
        "aws:SourceAccount": node.account_id,
        "aws:SourceArn": ctx.managed_instance_arn(node.instance_id),
    }
    if role is None or not auth.trust_allows_service(
        role.assume_role_policy_document, SSM_PRINCIPAL, trust_ctx
    ):
        raise AwsError(
            "AccessDeniedException",
            f"Systems Manager could not assume role {node.iam_role} for managed instance "
            f"{node.instance_id}: nonexistent role or missing ssm service principal in trust policy.",
            message_key="Message",
        )
    sts = sts_backends[node.account_id][ctx.partition]
    assumed = sts.assume_role(
        region_name=node.region,
        role_session_name=node.instance_id,
        role_arn=role.arn,
        policy=None,
        duration=TOKEN_LIFETIME,
        external_id=None,
    )
    expires = ctx.now + TOKEN_LIFETIME
    assumed.expiration = _dt.datetime.fromtimestamp(expires, tz=_dt.timezone.utc).replace(tzinfo=None)
    node.last_token_at = ctx.now
    return {
        "AccessKeyId": assumed.access_key_id,
        "SecretAccessKey": assumed.secret_access_key,
        "SessionToken": assumed.session_token,
        "TokenExpirationDate": expires,
        "UpdateKeyPair": False,
    }


@handler("UpdateManagedInstancePublicKey")
def update_managed_instance_public_key(ctx: CallCtx) -> dict[str, Any]:
    node = ctx.node
    assert node is not None
    p = ctx.payload
    v = Violations()
    for member in ("NewPublicKey", "NewPublicKeyType"):
        if p.get(member) is None:
            v.null(member[0].lower() + member[1:])
    v.check()
    if p["NewPublicKeyType"] != "Rsa":
        raise validation(
            f"1 validation error detected: Value '{p['NewPublicKeyType']}' at 'newPublicKeyType' "
            "failed to satisfy constraint: Member must satisfy enum value set: [Rsa]"
        )
    try:
        nodeauth.decode_public_key(p["NewPublicKey"])
    except Exception:  # noqa: BLE001
        raise validation("NewPublicKey is not a valid base64-encoded DER RSA public key.") from None
    node.public_key = p["NewPublicKey"]
    node.public_key_type = p["NewPublicKeyType"]
    return {}


def _live_node(ctx: CallCtx, instance_id: str) -> ManagedNode | None:
    node = ctx.state.nodes.get(instance_id)
    if node is None or node.deregistered or node.region != ctx.region or node.account_id != ctx.account:
        return None
    return node


def _managed_instance_id(ctx: CallCtx, member: str = "instanceId") -> str:
    instance_id = ctx.payload.get("InstanceId")
    v = Violations()
    if instance_id is None:
        v.null(member)
    v.length(instance_id, member, 20, 124)
    v.pattern(instance_id, member, MANAGED_INSTANCE_ID_PATTERN)
    v.check()
    return instance_id


AGENT_FIELDS = {
    "AgentVersion": "agent_version",
    "AgentName": "agent_name",
    "AgentStatus": "agent_status",
    "PlatformType": "platform_type",
    "PlatformName": "platform_name",
    "PlatformVersion": "platform_version",
    "IPAddress": "ip_address",
    "ComputerName": "computer_name",
}


@handler("UpdateInstanceInformation")
def update_instance_information(ctx: CallCtx) -> dict[str, Any]:
    p = ctx.payload
    instance_id = p.get("InstanceId")
    v = Violations()
    if instance_id is None:
        v.null("instanceId")
    v.check()
    ctx.authorize("ssm:UpdateInstanceInformation", ctx.managed_instance_arn(instance_id))
    node = _live_node(ctx, instance_id)
    caller = ctx.caller
    if node is None or caller is None or caller.session_name != instance_id:
        # The ping must come from the node's own role session.
        raise _invalid_instance(instance_id)
    for member, attr in AGENT_FIELDS.items():
        if p.get(member) is not None:
            setattr(node, attr, str(p[member]))
    node.last_ping = ctx.now
    return {}


# --- describing and managing nodes -----------------------------------------------

INSTANCE_FILTER_KEYS = {
    "ActivationIds",
    "AgentVersion",
    "AssociationStatus",
    "IamRole",
    "InstanceIds",
    "PingStatus",
    "PlatformTypes",
    "ResourceType",
    "SourceIds",
    "SourceTypes",
    "tag-key",
}
LEGACY_FILTER_KEYS = {
    "InstanceIds",
    "AgentVersion",
    "PingStatus",
    "PlatformTypes",
    "ActivationIds",
    "IamRole",
    "ResourceType",
    "AssociationStatus",
}
ENUM_VALUES = {
    "PingStatus": {"Online", "ConnectionLost", "Inactive"},
    "ResourceType": {"ManagedInstance", "EC2Instance"},
    "PlatformTypes": {"Windows", "Linux", "MacOS"},
}


def ping_status(node: ManagedNode, now: float, timeout: float) -> str:
    if node.last_ping is not None and now - node.last_ping <= timeout:
        return "Online"
    return "ConnectionLost"


def _node_view(node: ManagedNode, now: float, timeout: float) -> dict[str, Any]:
    view: dict[str, Any] = {
        "InstanceId": node.instance_id,
        "PingStatus": ping_status(node, now, timeout),
        "LastPingDateTime": node.last_ping,
        "AgentVersion": node.agent_version,
        "IsLatestVersion": False,
        "PlatformType": node.platform_type,
        "PlatformName": node.platform_name,
        "PlatformVersion": node.platform_version,
        "ActivationId": node.activation_id,
        "IamRole": node.iam_role,
        "RegistrationDate": node.registration_date,
        "ResourceType": "ManagedInstance",
        "Name": node.name,
        "IPAddress": node.ip_address,
        "ComputerName": node.computer_name,
        "SourceId": node.instance_id,
        "SourceType": "AWS::SSM::ManagedInstance",
    }
    return {k: val for k, val in view.items() if val is not None}


def _node_field_values(node: ManagedNode, key: str, now: float, timeout: float) -> list[str]:
    if key == "InstanceIds" or key == "SourceIds":
        return [node.instance_id]
    if key == "ActivationIds":
        return [node.activation_id]
    if key == "AgentVersion":
        return [node.agent_version] if node.agent_version else []
    if key == "IamRole":
        return [node.iam_role]
    if key == "PingStatus":
        return [ping_status(node, now, timeout)]
    if key == "PlatformTypes":
        return [node.platform_type] if node.platform_type else []
    if key == "ResourceType":
        return ["ManagedInstance"]
    if key == "SourceTypes":
        return ["AWS::SSM::ManagedInstance"]
    if key == "AssociationStatus":
        return []
    if key == "tag-key":
        return list(node.tags)
    if key.startswith("tag:"):
        k = key[4:]
        return [node.tags[k]] if k in node.tags else []
    return []


@handler("DescribeInstanceInformation")
def describe_instance_information(ctx: CallCtx) -> dict[str, Any]:
    ctx.authorize("ssm:DescribeInstanceInformation", ctx.ssm_arn())
    p = ctx.payload
    v = Violations()
    v.number(p.get("MaxResults"), "maxResults", 5, 50)
    filters: list[tuple[str, list[str]]] = []
    for i, f in enumerate(p.get("Filters") or [], start=1):
        key, values = (f.get("Key"), f.get("Values")) if isinstance(f, dict) else (None, None)
        if key is None:
            v.null(f"filters.{i}.member.key")
        if values is None:
            v.null(f"filters.{i}.member.values")
        elif not values:
            v.add(values, f"filters.{i}.member.values", "Member must have length greater than or equal to 1")
        if key is not None and values:
            filters.append((key, values))
    for i, f in enumerate(p.get("InstanceInformationFilterList") or [], start=1):
        key, values = (f.get("key"), f.get("valueSet")) if isinstance(f, dict) else (None, None)
        if key is None:
            v.null(f"instanceInformationFilterList.{i}.member.key")
        elif key not in LEGACY_FILTER_KEYS:
            v.add(
                key,
                f"instanceInformationFilterList.{i}.member.key",
                "Member must satisfy enum value set: [InstanceIds, AgentVersion, PingStatus, "
                "PlatformTypes, ActivationIds, IamRole, ResourceType, AssociationStatus]",
            )
        if values is None:
            v.null(f"instanceInformationFilterList.{i}.member.valueSet")
        elif not values:
            v.add(values, f"instanceInformationFilterList.{i}.member.valueSet", "Member must have length greater than or equal to 1")
        if key in LEGACY_FILTER_KEYS and values:
            filters.append((key, values))
    v.check()

    for key, values in filters:
        if key not in INSTANCE_FILTER_KEYS and not (key.startswith("tag:") and len(key) > 4):
            raise AwsError("InvalidFilterKey", f"The filter key {key} is not valid.")
        allowed = ENUM_VALUES.get(key)
        if allowed is not None:
            bad = [x for x in values if x not in allowed]
            if bad:
                raise AwsError(
                    "InvalidInstanceInformationFilterValue",
                    f"The filter value {bad[0]} is not valid for the filter key {key}.",
                )

    now, timeout = ctx.now, ctx.config.ping_timeout
    # Asking for a node id that isn't valid, or one the caller doesn't own, is an error.
    for key, values in filters:
        if key == "InstanceIds":
            for iid in values:
                if _live_node(ctx, iid) is None:
                    raise _invalid_instance(iid)

    def keep(node: ManagedNode) -> bool:
        for key, values in filters:
            have = _node_field_values(node, key, now, timeout)
            if not any(h in values for h in have):
                return False
        return True

    nodes = [
        n
        for n in ctx.state.nodes.values()
        if not n.deregistered and n.region == ctx.region and n.account_id == ctx.account and keep(n)
    ]
    salt = "instances"
    start = 0
    if p.get("NextToken") is not None:
        start = decode_token(
            p["NextToken"], salt, AwsError("InvalidNextToken", "The specified token is not valid.", message_key="Message")
        )
    size = p.get("MaxResults") or 50
    page = nodes[start : start + size]
    out: dict[str, Any] = {"InstanceInformationList": [_node_view(n, now, timeout) for n in page]}
    if start + size < len(nodes):
        out["NextToken"] = encode_token(start + size, salt)
    return out


@handler("DeregisterManagedInstance")
def deregister_managed_instance(ctx: CallCtx) -> dict[str, Any]:
    instance_id = _managed_instance_id(ctx)
    ctx.authorize("ssm:DeregisterManagedInstance", ctx.managed_instance_arn(instance_id))
    node = _live_node(ctx, instance_id)
    if node is None:
        raise _invalid_instance(instance_id)
    node.deregistered = True
    node.deregistered_at = ctx.now
    return {}


@handler("UpdateManagedInstanceRole")
def update_managed_instance_role(ctx: CallCtx) -> dict[str, Any]:
    instance_id = _managed_instance_id(ctx)
    role = ctx.payload.get("IamRole")
    v = Violations()
    if role is None:
        v.null("iamRole")
    v.length(role, "iamRole", None, 64)
    v.check()
    ctx.authorize("ssm:UpdateManagedInstanceRole", ctx.managed_instance_arn(instance_id))
    node = _live_node(ctx, instance_id)
    if node is None:
        raise _invalid_instance(instance_id)
    ctx.authorize("iam:PassRole", _role_arn(ctx, role), {"iam:PassedToService": SSM_PRINCIPAL})
    _check_role_for_ssm(ctx, role, ctx.managed_instance_arn(instance_id))
    node.iam_role = role
    return {}


# --- tags on managed nodes ---------------------------------------------------------


def _tag_target(ctx: CallCtx, action: str) -> ManagedNode | object:
    if ctx.payload.get("ResourceType") != "ManagedInstance":
        return FORWARD
    instance_id = ctx.payload.get("ResourceId")
    ctx.authorize(action, ctx.managed_instance_arn(str(instance_id)))
    node = _live_node(ctx, instance_id) if isinstance(instance_id, str) else None
    if node is None:
        raise AwsError("InvalidResourceId", "The resource ID is not valid. Verify that you entered the correct ID and try again.")
    return node


@handler("AddTagsToResource")
def add_tags_to_resource(ctx: CallCtx) -> Any:
    node = _tag_target(ctx, "ssm:AddTagsToResource")
    if node is FORWARD:
        return FORWARD
    v = Violations()
    tags = _validate_tags(v, ctx.payload.get("Tags"))
    v.check()
    for t in tags:
        node.tags[t["Key"]] = t["Value"]  # type: ignore[union-attr]
    return {}


@handler("RemoveTagsFromResource")
def remove_tags_from_resource(ctx: CallCtx) -> Any:
    node = _tag_target(ctx, "ssm:RemoveTagsFromResource")
    if node is FORWARD:
        return FORWARD
    for key in ctx.payload.get("TagKeys") or []:
        node.tags.pop(key, None)  # type: ignore[union-attr]
    return {}


@handler("ListTagsForResource")
def list_tags_for_resource(ctx: CallCtx) -> Any:
    node = _tag_target(ctx, "ssm:ListTagsForResource")
    if node is FORWARD:
        return FORWARD
    return {"TagList": [{"Key": k, "Value": val} for k, val in node.tags.items()]}  # type: ignore[union-attr]


RSA_SIGNED = {"RequestManagedInstanceRoleToken", "UpdateManagedInstancePublicKey"}
UNSIGNED = {"RegisterManagedInstance"}
