"""ECS container instances for external (ECS Anywhere) hosts.

moto only registers container instances for EC2 instances it knows. Here an
external instance registers with the credentials of its SSM managed node and
gets that mi- id as `ec2InstanceId`. The objects live in moto's ECS backend
(so moto's RunTask, StartTask and attribute calls see them); every
container-instance operation is answered here so that all of them agree on
status, heartbeats (`agentConnected`), tags and deregistered (INACTIVE)
instances."""

from __future__ import annotations

import copy
import datetime as _dt
import re
import uuid
from typing import Any, Callable

from moto.ecs.models import ContainerInstance, ecs_backends

from . import cql
from .context import FORWARD, CallCtx, decode_token, encode_token
from .errors import AwsError
from .resources import ecs_cluster_arn
from .state import InactiveContainerInstance

HANDLERS: dict[str, Callable[[CallCtx], Any]] = {}
INACTIVE_RETENTION = 3600  # seconds an INACTIVE instance stays describable
MI_RE = re.compile(r"^mi-[0-9a-f]{17}$")

DEFAULT_RESOURCES = [
    {"name": "CPU", "type": "INTEGER", "doubleValue": 0.0, "longValue": 0, "integerValue": 1024},
    {"name": "MEMORY", "type": "INTEGER", "doubleValue": 0.0, "longValue": 0, "integerValue": 2048},
    {"name": "PORTS", "type": "STRINGSET", "doubleValue": 0.0, "longValue": 0, "integerValue": 0,
     "stringSetValue": ["22", "2376", "2375", "51678", "51679"]},
    {"name": "PORTS_UDP", "type": "STRINGSET", "doubleValue": 0.0, "longValue": 0, "integerValue": 0,
     "stringSetValue": []},
]


def handler(name: str):
    def wrap(fn):
        HANDLERS[name] = fn
        return fn

    return wrap


class ExternalContainerInstance(ContainerInstance):
    """A container instance on a managed (mi-) node; no EC2 instance behind it."""

    def __init__(  # noqa: PLR0913 - mirrors the RegisterContainerInstance request
        self,
        *,
        backend: Any,
        cluster_name: str,
        ec2_instance_id: str,
        attributes: dict[str, str | None],
        version_info: dict[str, str],
        total_resources: list[dict[str, Any]],
        tags: list[dict[str, str]],
        registered_at: float,
    ) -> None:
        # ContainerInstance.__init__ looks the instance up in EC2: not here.
        self.ec2_instance_id = ec2_instance_id
        self.agent_connected = True
        self.status = "ACTIVE"
        self.registered_resources = copy.deepcopy(total_resources)
        self.remaining_resources = copy.deepcopy(total_resources)
        self.pending_tasks_count = 0
        self.running_tasks_count = 0
        self.version_info = dict(version_info)
        self.attributes = dict(attributes)
        self.registered_at = _dt.datetime.fromtimestamp(registered_at, tz=_dt.timezone.utc).replace(tzinfo=None)
        self.region_name = backend.region_name
        self.id = uuid.uuid4().hex
        self.cluster_name = cluster_name
        self._account_id = backend.account_id
        self._backend = backend
        self.tags = list(tags)
        self.version = 1
        self.last_heartbeat: float | None = registered_at
        self.status_reason: str | None = None


# --- helpers -----------------------------------------------------------------------


def _backend(ctx: CallCtx):
    return ecs_backends[ctx.account][ctx.region]


def _cluster(ctx: CallCtx, cluster: Any):
    name = str(cluster or "default").split("/")[-1]
    cluster_obj = _backend(ctx).clusters.get(name)
    if cluster_obj is None:
        raise AwsError("ClusterNotFoundException", "Cluster not found.")
    return cluster_obj


def _cluster_arn(ctx: CallCtx, cluster: Any) -> str:
    return ecs_cluster_arn(ctx.partition, ctx.region, ctx.account, str(cluster or "default"))


def _ci_arn(ctx: CallCtx, cluster_name: str, ci_id: str) -> str:
    return f"arn:{ctx.partition}:ecs:{ctx.region}:{ctx.account}:container-instance/{cluster_name}/{ci_id}"


def _active(ctx: CallCtx, cluster_name: str) -> dict[str, Any]:
    return _backend(ctx).container_instances.setdefault(cluster_name, {})


def _inactive(ctx: CallCtx, cluster_name: str, ci_id: str) -> InactiveContainerInstance | None:
    rec = ctx.state.inactive_cis.get(ci_id)
    if rec is None or rec.account_id != ctx.account or rec.region != ctx.region or rec.cluster_name != cluster_name:
        return None
    if ctx.now - rec.deregistered_at > INACTIVE_RETENTION:
        return None
    return rec


def _ci_id(ref: Any) -> str:
    return str(ref).split("/")[-1]


def _epoch(dt: _dt.datetime) -> float:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=_dt.timezone.utc)
    return dt.timestamp()


def _connected(ctx: CallCtx, ci: Any) -> bool:
    if ci.status == "INACTIVE":
        return False
    if isinstance(ci, ExternalContainerInstance):
        return ci.last_heartbeat is not None and ctx.now - ci.last_heartbeat <= ctx.config.heartbeat_timeout
    return bool(getattr(ci, "agent_connected", True))


def _attributes_list(attrs: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    for name, value in attrs.items():
        item = {"name": name}
        if value is not None:
            item["value"] = value
        out.append(item)
    return out


def _view(ctx: CallCtx, ci: Any, include_tags: bool) -> dict[str, Any]:
    view: dict[str, Any] = {
        "containerInstanceArn": ci.container_instance_arn,
        "ec2InstanceId": ci.ec2_instance_id,
        "version": getattr(ci, "version", 1),
        "versionInfo": dict(ci.version_info),
        "remainingResources": copy.deepcopy(ci.remaining_resources),
        "registeredResources": copy.deepcopy(ci.registered_resources),
        "status": ci.status,
        "agentConnected": _connected(ctx, ci),
        "runningTasksCount": ci.running_tasks_count,
        "pendingTasksCount": ci.pending_tasks_count,
        "attributes": _attributes_list(ci.attributes),
        "registeredAt": _epoch(ci.registered_at),
        "attachments": [],
    }
    reason = getattr(ci, "status_reason", None)
    if reason:
        view["statusReason"] = reason
    if include_tags:
        view["tags"] = [dict(t) for t in getattr(ci, "tags", [])]
    return view


def _node_instance_id(ctx: CallCtx) -> str | None:
    """The mi- id of the managed node whose role session signed this call."""
    caller = ctx.caller
    if caller is None or caller.kind != "assumed-role" or not caller.session_name:
        return None
    if not MI_RE.match(caller.session_name):
        return None
    node = ctx.state.nodes.get(caller.session_name)
    if node is None or node.account_id != ctx.account:
        return None
    return caller.session_name


def _validate_tags(tags: Any) -> list[dict[str, str]]:
    if tags is None:
        return []
    if not isinstance(tags, list):
        raise AwsError("InvalidParameterException", "Tags must be a list.")
    out = []
    for t in tags:
        if not isinstance(t, dict) or not t.get("key"):
            raise AwsError("InvalidParameterException", "Tag keys must be non-empty strings.")
        out.append({"key": str(t["key"]), "value": str(t.get("value", ""))})
    if len(out) > 50:
        raise AwsError("InvalidParameterException", "A resource can have at most 50 tags.")
    return out


def _attributes(raw: Any) -> dict[str, str | None]:
    attrs: dict[str, str | None] = {}
    for a in raw or []:
        if not isinstance(a, dict) or not a.get("name"):
            raise AwsError("InvalidParameterException", "Attribute names must be non-empty strings.")
        attrs[str(a["name"])] = None if a.get("value") is None else str(a["value"])
    return attrs


def _task_groups(ctx: CallCtx, ci: Any) -> list[str]:
    groups = []
    for task in _backend(ctx).tasks.get(ci.cluster_name, {}).values():
        if task.container_instance_arn == ci.container_instance_arn and getattr(task, "desired_status", "") == "RUNNING":
            if getattr(task, "group", None):
                groups.append(task.group)
    return groups


# --- operations --------------------------------------------------------------------


@handler("RegisterContainerInstance")
def register_container_instance(ctx: CallCtx) -> Any:
    p = ctx.payload
    ctx.authorize("ecs:RegisterContainerInstance", _cluster_arn(ctx, p.get("cluster")))
    cluster = _cluster(ctx, p.get("cluster"))
    if p.get("instanceIdentityDocument"):
        return FORWARD  # an EC2 instance: moto's own path
    instance_id = _node_instance_id(ctx)
    if instance_id is None:
        raise AwsError(
            "InvalidParameterException",
            "An instance identity document is required unless the request is signed with the "
            "credentials of an SSM managed instance (mi-...).",
        )
    attributes = _attributes(p.get("attributes"))
    attributes["ecs.capability.external"] = None
    version_info = p.get("versionInfo") or {}
    if not isinstance(version_info, dict):
        raise AwsError("InvalidParameterException", "versionInfo must be a structure.")
    tags = _validate_tags(p.get("tags"))
    now = ctx.now

    existing_ref = p.get("containerInstanceArn")
    if existing_ref:
        ci_id = _ci_id(existing_ref)
        ci = _active(ctx, cluster.name).get(ci_id)
        if ci is None:
            if _inactive(ctx, cluster.name, ci_id) is not None:
                raise AwsError("ClientException", f"The referenced container instance {existing_ref} is INACTIVE.")
            raise AwsError("ClientException", f"The referenced container instance {existing_ref} was not found.")
        if ci.ec2_instance_id != instance_id:
            raise AwsError(
                "InvalidParameterException",
                f"The referenced container instance {existing_ref} belongs to {ci.ec2_instance_id}, not {instance_id}.",
            )
        ci.attributes.update(attributes)
        if version_info:
            ci.version_info = dict(version_info)
        if p.get("totalResources"):
            ci.registered_resources = copy.deepcopy(p["totalResources"])
        ci.version = getattr(ci, "version", 1) + 1
        ci.last_heartbeat = now
        return {"containerInstance": _view(ctx, ci, include_tags=True)}

    ci = ExternalContainerInstance(
        backend=_backend(ctx),
        cluster_name=cluster.name,
        ec2_instance_id=instance_id,
        attributes=attributes,
        version_info=version_info,
        total_resources=p.get("totalResources") or DEFAULT_RESOURCES,
        tags=tags,
        registered_at=now,
    )
    _active(ctx, cluster.name)[ci.id] = ci
    cluster.registered_container_instances_count += 1
    return {"containerInstance": _view(ctx, ci, include_tags=True)}


@handler("DiscoverPollEndpoint")
def discover_poll_endpoint(ctx: CallCtx) -> dict[str, Any]:
    ctx.authorize("ecs:DiscoverPollEndpoint", "*")
    p = ctx.payload
    instance_id = _node_instance_id(ctx)
    if instance_id is not None:
        cluster_name = str(p.get("cluster") or "default").split("/")[-1]
        wanted = _ci_id(p["containerInstance"]) if p.get("containerInstance") else None
        for ci in _active(ctx, cluster_name).values():
            if isinstance(ci, ExternalContainerInstance) and ci.ec2_instance_id == instance_id:
                if wanted is None or ci.id == wanted:
                    ci.last_heartbeat = ctx.now
    return {
        "endpoint": f"https://ecs-a-1.{ctx.region}.amazonaws.com/",
        "telemetryEndpoint": f"https://ecs-t-1.{ctx.region}.amazonaws.com/",
        "serviceConnectEndpoint": f"https://ecs-sc-1.{ctx.region}.amazonaws.com/",
    }


@handler("ListContainerInstances")
def list_container_instances(ctx: CallCtx) -> dict[str, Any]:
    p = ctx.payload
    ctx.authorize("ecs:ListContainerInstances", _cluster_arn(ctx, p.get("cluster")))
    cluster = _cluster(ctx, p.get("cluster"))
    status = p.get("status")
    if status is not None and status not in ("ACTIVE", "DRAINING", "REGISTERING", "DEREGISTERING", "REGISTRATION_FAILED"):
        raise AwsError(
            "InvalidParameterException",
            "Container instance status should be one of [ACTIVE, DRAINING, REGISTERING, DEREGISTERING, REGISTRATION_FAILED]",
        )
    max_results = p.get("maxResults")
    if max_results is not None and (isinstance(max_results, bool) or not isinstance(max_results, int) or not 1 <= max_results <= 100):
        raise AwsError("InvalidParameterException", "maxResults must be between 1 and 100.")
    predicate = None
    if p.get("filter") is not None:
        try:
            predicate = cql.compile_filter(str(p["filter"]))
        except cql.QueryError as e:
            raise AwsError("InvalidParameterException", f"Invalid filter expression: {e}") from None
    arns = []
    for ci in _active(ctx, cluster.name).values():
        if status is not None and ci.status != status:
            continue
        if predicate is not None:
            facts = cql.InstanceFacts(
                agent_connected=_connected(ctx, ci),
                agent_version=(ci.version_info or {}).get("agentVersion"),
                attributes=dict(ci.attributes),
                ec2_instance_id=ci.ec2_instance_id,
                registered_at=ci.registered_at.replace(tzinfo=_dt.timezone.utc),
                running_tasks_count=ci.running_tasks_count,
                task_groups=_task_groups(ctx, ci),
            )
            try:
                if not predicate(facts):
                    continue
            except cql.QueryError as e:
                raise AwsError("InvalidParameterException", f"Invalid filter expression: {e}") from None
        arns.append(ci.container_instance_arn)
    arns.sort()
    salt = f"ci:{cluster.name}"
    start = 0
    if p.get("nextToken") is not None:
        start = decode_token(p["nextToken"], salt, AwsError("InvalidParameterException", "Invalid nextToken."))
    size = max_results or 100
    out: dict[str, Any] = {"containerInstanceArns": arns[start : start + size]}
    if start + size < len(arns):
        out["nextToken"] = encode_token(start + size, salt)
    return out


def _instance_refs(ctx: CallCtx) -> list[str]:
    refs = ctx.payload.get("containerInstances")
    if not refs:
        raise AwsError("ClientException", "Container Instances cannot be empty.")
    if not isinstance(refs, list):
        raise AwsError("InvalidParameterException", "containerInstances must be a list.")
    if len(refs) > 100:
        raise AwsError("InvalidParameterException", "You can specify at most 100 container instances.")
    return [str(r) for r in refs]


@handler("DescribeContainerInstances")
def describe_container_instances(ctx: CallCtx) -> dict[str, Any]:
    p = ctx.payload
    refs = _instance_refs(ctx)
    cluster_ref = p.get("cluster")
    cluster_name = str(cluster_ref or "default").split("/")[-1]
    for ref in refs:
        ctx.authorize("ecs:DescribeContainerInstances", _ci_arn(ctx, cluster_name, _ci_id(ref)))
    cluster = _cluster(ctx, cluster_ref)
    include = p.get("include") or []
    include_tags = "TAGS" in include
    found, failures = [], []
    for ref in refs:
        ci_id = _ci_id(ref)
        ci = _active(ctx, cluster.name).get(ci_id)
        if ci is None:
            rec = _inactive(ctx, cluster.name, ci_id)
            ci = rec.instance if rec else None
        if ci is None:
            failures.append({"arn": _ci_arn(ctx, cluster.name, ci_id), "reason": "MISSING"})
        else:
            found.append(_view(ctx, ci, include_tags))
    return {"containerInstances": found, "failures": failures}


@handler("UpdateContainerInstancesState")
def update_container_instances_state(ctx: CallCtx) -> dict[str, Any]:
    p = ctx.payload
    refs = _instance_refs(ctx)
    cluster_ref = p.get("cluster")
    cluster_name = str(cluster_ref or "default").split("/")[-1]
    for ref in refs:
        ctx.authorize("ecs:UpdateContainerInstancesState", _ci_arn(ctx, cluster_name, _ci_id(ref)))
    cluster = _cluster(ctx, cluster_ref)
    status = p.get("status")
    if status not in ("ACTIVE", "DRAINING"):
        raise AwsError("InvalidParameterException", "Container instance status should be one of [ACTIVE, DRAINING]")
    updated, failures = [], []
    for ref in refs:
        ci_id = _ci_id(ref)
        ci = _active(ctx, cluster.name).get(ci_id)
        if ci is None:
            failures.append({"arn": _ci_arn(ctx, cluster.name, ci_id), "reason": "MISSING"})
            continue
        if ci.status != status:
            ci.status = status
            ci.version = getattr(ci, "version", 1) + 1
        updated.append(_view(ctx, ci, include_tags=False))
    return {"containerInstances": updated, "failures": failures}


@handler("DeregisterContainerInstance")
def deregister_container_instance(ctx: CallCtx) -> dict[str, Any]:
    p = ctx.payload
    ctx.authorize("ecs:DeregisterContainerInstance", _cluster_arn(ctx, p.get("cluster")))
    cluster = _cluster(ctx, p.get("cluster"))
    ref = p.get("containerInstance")
    if not ref:
        raise AwsError("InvalidParameterException", "containerInstance must be specified.")
    ci_id = _ci_id(ref)
    active = _active(ctx, cluster.name)
    ci = active.get(ci_id)
    if ci is None:
        raise AwsError(
            "InvalidParameterException",
            f"The referenced container instance {ref} was not found or is already INACTIVE.",
        )
    force = bool(p.get("force"))
    if ci.running_tasks_count > 0 and not force:
        raise AwsError("InvalidParameterException", "Found running tasks on the instance.")
    del active[ci_id]
    cluster.registered_container_instances_count = max(0, cluster.registered_container_instances_count - 1)
    ci.status = "INACTIVE"
    ci.agent_connected = False
    ci.version = getattr(ci, "version", 1) + 1
    ctx.state.inactive_cis[ci_id] = InactiveContainerInstance(
        account_id=ctx.account,
        region=ctx.region,
        cluster_name=cluster.name,
        instance=ci,
        deregistered_at=ctx.now,
    )
    return {"containerInstance": _view(ctx, ci, include_tags=False)}


# --- tags on container instances ---------------------------------------------------

CI_ARN_RE = re.compile(r"^arn:[^:]+:ecs:([^:]+):([^:]+):container-instance/([^/]+)/([^/]+)$")


def _tagged_instance(ctx: CallCtx, action: str) -> Any:
    arn = str(ctx.payload.get("resourceArn") or "")
    m = CI_ARN_RE.match(arn)
    if not m:
        return FORWARD
    ctx.authorize(action, arn)
    _, _, cluster_name, ci_id = m.groups()
    ci = _active(ctx, cluster_name).get(ci_id)
    if ci is None:
        rec = _inactive(ctx, cluster_name, ci_id)
        ci = rec.instance if rec else None
    if ci is None:
        raise AwsError("InvalidParameterException", "The specified resource could not be found.")
    if not hasattr(ci, "tags") or ci.tags is None:
        ci.tags = []
    return ci


@handler("ListTagsForResource")
def list_tags_for_resource(ctx: CallCtx) -> Any:
    ci = _tagged_instance(ctx, "ecs:ListTagsForResource")
    if ci is FORWARD:
        return FORWARD
    return {"tags": [dict(t) for t in ci.tags]}


@handler("TagResource")
def tag_resource(ctx: CallCtx) -> Any:
    ci = _tagged_instance(ctx, "ecs:TagResource")
    if ci is FORWARD:
        return FORWARD
    new = {t["key"]: t["value"] for t in _validate_tags(ctx.payload.get("tags"))}
    merged = {t["key"]: t["value"] for t in ci.tags}
    merged.update(new)
    ci.tags = [{"key": k, "value": v} for k, v in merged.items()]
    return {}


@handler("UntagResource")
def untag_resource(ctx: CallCtx) -> Any:
    ci = _tagged_instance(ctx, "ecs:UntagResource")
    if ci is FORWARD:
        return FORWARD
    drop = set(ctx.payload.get("tagKeys") or [])
    ci.tags = [t for t in ci.tags if t["key"] not in drop]
    return {}
