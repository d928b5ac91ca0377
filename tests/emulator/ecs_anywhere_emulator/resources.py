"""The resource ARN(s) an operation acts on, for authorization and for the
`on resource:` part of AccessDenied messages. Operations not listed act on
`*`, which is what moto assumes for every call."""

from __future__ import annotations

from typing import Any, Mapping

from moto.iam.models import iam_backends


def _first(params: Mapping[str, Any], key: str) -> Any:
    v = params.get(key)
    if isinstance(v, list):
        return v[0] if v else None
    return v


def iam_role_arn(account: str, partition: str, name: str) -> str:
    try:
        return iam_backends[account][partition].get_role(name).arn
    except Exception:  # noqa: BLE001 - a missing role still has an ARN to name
        return f"arn:{partition}:iam::{account}:role/{name}"


def iam_user_arn(account: str, partition: str, name: str) -> str:
    try:
        return iam_backends[account][partition].get_user(name).arn
    except Exception:  # noqa: BLE001
        return f"arn:{partition}:iam::{account}:user/{name}"


def ecs_cluster_arn(partition: str, region: str, account: str, cluster: str | None) -> str:
    cluster = cluster or "default"
    if cluster.startswith("arn:"):
        return cluster
    return f"arn:{partition}:ecs:{region}:{account}:cluster/{cluster}"


def ssm_arn(partition: str, region: str, account: str, resource: str = "*") -> str:
    return f"arn:{partition}:ssm:{region}:{account}:{resource}"


def managed_instance_arn(partition: str, region: str, account: str, instance_id: str) -> str:
    return ssm_arn(partition, region, account, f"managed-instance/{instance_id}")


_ECS_CLUSTER_OPS = {
    "DescribeClusters": None,
    "DeleteCluster": "cluster",
    "UpdateCluster": "cluster",
    "UpdateClusterSettings": "cluster",
    "PutClusterCapacityProviders": "cluster",
    "ListServices": "cluster",
    "ListTasks": "cluster",
    "RunTask": "cluster",
    "StartTask": "cluster",
    "PutAttributes": "cluster",
    "DeleteAttributes": "cluster",
    "CreateService": "cluster",
}

_SSM_PARAMETER_OPS = {
    "GetParameter",
    "PutParameter",
    "DeleteParameter",
    "GetParameterHistory",
    "LabelParameterVersion",
    "UnlabelParameterVersion",
}


def resolve(
    service: str,
    operation: str,
    params: Mapping[str, Any],
    *,
    region: str,
    account: str,
    partition: str,
) -> list[str]:
    if service == "iam":
        if operation == "PassRole":
            return ["*"]
        name = _first(params, "RoleName")
        if name:
            return [iam_role_arn(account, partition, name)]
        name = _first(params, "UserName")
        if name:
            return [iam_user_arn(account, partition, name)]
        arn = _first(params, "PolicyArn")
        if arn:
            return [arn]
        name = _first(params, "InstanceProfileName")
        if name:
            return [f"arn:{partition}:iam::{account}:instance-profile/{name}"]
        name = _first(params, "GroupName")
        if name:
            return [f"arn:{partition}:iam::{account}:group/{name}"]
        return ["*"]
    if service == "sts":
        if operation == "AssumeRole":
            arn = _first(params, "RoleArn")
            return [arn] if arn else ["*"]
        return ["*"]
    if service == "ecs":
        if operation == "CreateCluster":
            return [ecs_cluster_arn(partition, region, account, params.get("clusterName"))]
        if operation in _ECS_CLUSTER_OPS and _ECS_CLUSTER_OPS[operation]:
            return [ecs_cluster_arn(partition, region, account, params.get("cluster"))]
        if operation == "DescribeClusters":
            clusters = params.get("clusters") or ["default"]
            return [ecs_cluster_arn(partition, region, account, c) for c in clusters]
        return ["*"]
    if service == "ssm":
        if operation in _SSM_PARAMETER_OPS and params.get("Name"):
            name = str(params["Name"]).lstrip("/")
            return [ssm_arn(partition, region, account, f"parameter/{name}")]
        if operation in ("GetParameters", "DeleteParameters") and params.get("Names"):
            return [
                ssm_arn(partition, region, account, f"parameter/{str(n).lstrip('/')}")
                for n in params["Names"]
            ]
        if operation == "GetParametersByPath" and params.get("Path"):
            path = str(params["Path"]).lstrip("/")
            return [ssm_arn(partition, region, account, f"parameter/{path}")]
        return ["*"]
    return ["*"]
