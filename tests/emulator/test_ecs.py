"""Container instances of external (mi-) hosts."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from support import error_of

VERSION = {"agentVersion": "1.82.0", "agentHash": "4023248", "dockerVersion": "DockerVersion: 24.0.7"}


@pytest.fixture
def node_ecs(emu, node_creds):
    return emu.node_client("ecs", node_creds)


@pytest.fixture
def instance(node_ecs, cluster):
    out = node_ecs.register_container_instance(
        cluster=cluster,
        versionInfo=VERSION,
        attributes=[{"name": "ecs.os-type", "value": "linux"}, {"name": "site", "value": "paris"}],
        tags=[{"key": "owner", "value": "ops"}],
    )
    return out["containerInstance"]


def _describe(emu, cluster, arns, **kw):
    return emu.client("ecs").describe_container_instances(cluster=cluster, containerInstances=arns, **kw)


def test_register_external_instance(emu, node, cluster, instance):
    assert instance["ec2InstanceId"] == node.instance_id
    assert instance["status"] == "ACTIVE"
    assert instance["agentConnected"] is True
    assert instance["versionInfo"] == VERSION
    assert instance["containerInstanceArn"].startswith(
        f"arn:aws:ecs:{emu.region}:123456789012:container-instance/{cluster}/"
    )
    attrs = {a["name"]: a.get("value") for a in instance["attributes"]}
    assert attrs == {"ecs.os-type": "linux", "site": "paris", "ecs.capability.external": None}
    d = _describe(emu, cluster, [instance["containerInstanceArn"]], include=["TAGS"])["containerInstances"][0]
    assert d["ec2InstanceId"] == node.instance_id
    assert d["runningTasksCount"] == 0 and d["pendingTasksCount"] == 0
    assert d["registeredAt"]
    assert d["tags"] == [{"key": "owner", "value": "ops"}]
    assert "tags" not in _describe(emu, cluster, [instance["containerInstanceArn"]])["containerInstances"][0]
    clusters = emu.client("ecs").describe_clusters(clusters=[cluster])["clusters"]
    assert clusters[0]["registeredContainerInstancesCount"] == 1


def test_register_into_missing_cluster(emu, node_ecs):
    with pytest.raises(ClientError) as e:
        node_ecs.register_container_instance(cluster="nope")
    assert error_of(e)[:1] == ("ClusterNotFoundException",)


def test_register_needs_a_managed_instance_identity(emu, cluster):
    with pytest.raises(ClientError) as e:
        emu.client("ecs").register_container_instance(cluster=cluster)
    assert error_of(e)[0] == "InvalidParameterException"


def test_register_denied_without_permission(emu, role, node, cluster):
    iam = emu.client("iam")
    iam.detach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role")
    creds = node.request_role_token()
    with pytest.raises(ClientError) as e:
        emu.node_client("ecs", creds).register_container_instance(cluster=cluster)
    code, message, _ = error_of(e)
    assert code == "AccessDeniedException"
    assert f"ecs:RegisterContainerInstance on resource: arn:aws:ecs:{emu.region}:123456789012:cluster/{cluster}" in message


def test_reregistration_keeps_the_arn(emu, node_ecs, cluster, instance):
    again = node_ecs.register_container_instance(
        cluster=cluster,
        containerInstanceArn=instance["containerInstanceArn"],
        versionInfo={**VERSION, "agentVersion": "1.83.0"},
    )["containerInstance"]
    assert again["containerInstanceArn"] == instance["containerInstanceArn"]
    assert again["versionInfo"]["agentVersion"] == "1.83.0"
    assert again["version"] > instance["version"]
    arns = emu.client("ecs").list_container_instances(cluster=cluster)["containerInstanceArns"]
    assert arns == [instance["containerInstanceArn"]]
    # Without the ARN (agent state lost) ECS makes a second container instance.
    node_ecs.register_container_instance(cluster=cluster)
    assert len(emu.client("ecs").list_container_instances(cluster=cluster)["containerInstanceArns"]) == 2


def test_list_filters(emu, activation, cluster, instance, node):
    other = emu.register_node(activation)
    other_ci = emu.node_client("ecs", other.request_role_token()).register_container_instance(cluster=cluster)["containerInstance"]
    ecs = emu.client("ecs")

    def listed(expr):
        return sorted(ecs.list_container_instances(cluster=cluster, filter=expr)["containerInstanceArns"])

    a, b = instance["containerInstanceArn"], other_ci["containerInstanceArn"]
    assert listed(f"ec2InstanceId == {node.instance_id}") == [a]
    assert listed(f"ec2InstanceId == '{other.instance_id}'") == [b]
    assert listed(f"ec2InstanceId in [{node.instance_id}, {other.instance_id}]") == sorted([a, b])
    assert listed(f"ec2InstanceId in ['{other.instance_id}', 'mi-00000000000000000']") == [b]
    assert listed("ec2InstanceId == mi-00000000000000000") == []
    assert listed("attribute:site == paris") == [a]
    assert listed("attribute:ecs.capability.external exists") == sorted([a, b])
    assert listed("not_exists" and "attribute:site !exists") == [b]
    assert listed(f"ec2InstanceId != {node.instance_id} and agentConnected == true") == [b]
    assert listed("agentVersion >= 1.80.0") == [a]
    assert listed("runningTasksCount == 0 or ec2InstanceId =~ mi-.*") == sorted([a, b])
    for bad in ("ec2InstanceId ==", "ec2InstanceId > mi-1", "color == red", "ec2InstanceId in mi-1", "(ec2InstanceId == a"):
        with pytest.raises(ClientError) as e:
            ecs.list_container_instances(cluster=cluster, filter=bad)
        assert error_of(e)[0] == "InvalidParameterException", bad
    with pytest.raises(ClientError) as e:
        ecs.list_container_instances(cluster="nope")
    assert error_of(e)[0] == "ClusterNotFoundException"


def test_agent_connected_follows_heartbeats(emu, node_ecs, cluster, instance):
    arn = instance["containerInstanceArn"]
    assert _describe(emu, cluster, [arn])["containerInstances"][0]["agentConnected"] is True
    emu.advance(61)
    assert _describe(emu, cluster, [arn])["containerInstances"][0]["agentConnected"] is False
    ecs = emu.client("ecs")
    assert ecs.list_container_instances(cluster=cluster, filter="agentConnected == false")["containerInstanceArns"] == [arn]
    out = node_ecs.discover_poll_endpoint(cluster=cluster, containerInstance=arn)
    assert out["endpoint"].startswith("https://")
    assert _describe(emu, cluster, [arn])["containerInstances"][0]["agentConnected"] is True
    emu.configure(heartbeat_timeout=10)
    emu.advance(11)
    assert _describe(emu, cluster, [arn])["containerInstances"][0]["agentConnected"] is False
    # A poll by someone else is no heartbeat of this instance.
    emu.client("ecs").discover_poll_endpoint(cluster=cluster, containerInstance=arn)
    assert _describe(emu, cluster, [arn])["containerInstances"][0]["agentConnected"] is False


def test_drain_and_status_filter(emu, cluster, instance):
    ecs = emu.client("ecs")
    arn = instance["containerInstanceArn"]
    out = ecs.update_container_instances_state(cluster=cluster, containerInstances=[arn], status="DRAINING")
    assert out["containerInstances"][0]["status"] == "DRAINING" and out["failures"] == []
    assert ecs.list_container_instances(cluster=cluster, status="DRAINING")["containerInstanceArns"] == [arn]
    assert ecs.list_container_instances(cluster=cluster, status="ACTIVE")["containerInstanceArns"] == []
    assert _describe(emu, cluster, [arn])["containerInstances"][0]["status"] == "DRAINING"
    with pytest.raises(ClientError) as e:
        ecs.update_container_instances_state(cluster=cluster, containerInstances=[arn], status="INACTIVE")
    assert error_of(e)[0] == "InvalidParameterException"
    missing = ecs.update_container_instances_state(cluster=cluster, containerInstances=["0" * 32], status="ACTIVE")
    assert missing["failures"][0]["reason"] == "MISSING"
    with pytest.raises(ClientError) as e:
        emu.client("ecs", who="restricted").update_container_instances_state(cluster=cluster, containerInstances=[arn], status="ACTIVE")
    code, message, _ = error_of(e)
    assert code == "AccessDeniedException"
    assert f"ecs:UpdateContainerInstancesState on resource: {arn}" in message


def test_deregister_makes_it_inactive(emu, cluster, instance):
    ecs = emu.client("ecs")
    arn = instance["containerInstanceArn"]
    out = ecs.deregister_container_instance(cluster=cluster, containerInstance=arn)
    assert out["containerInstance"]["status"] == "INACTIVE"
    assert ecs.list_container_instances(cluster=cluster)["containerInstanceArns"] == []
    d = _describe(emu, cluster, [arn])
    assert d["containerInstances"][0]["status"] == "INACTIVE"
    assert d["containerInstances"][0]["agentConnected"] is False
    assert ecs.describe_clusters(clusters=[cluster])["clusters"][0]["registeredContainerInstancesCount"] == 0
    with pytest.raises(ClientError) as e:
        ecs.deregister_container_instance(cluster=cluster, containerInstance=arn)
    assert error_of(e)[0] == "InvalidParameterException"
    emu.advance(3601)
    d = _describe(emu, cluster, [arn])
    assert d["containerInstances"] == [] and d["failures"][0]["reason"] == "MISSING"


def test_reregister_after_deregister_is_refused(emu, node_ecs, cluster, instance):
    emu.client("ecs").deregister_container_instance(cluster=cluster, containerInstance=instance["containerInstanceArn"])
    with pytest.raises(ClientError) as e:
        node_ecs.register_container_instance(cluster=cluster, containerInstanceArn=instance["containerInstanceArn"])
    assert error_of(e)[0] == "ClientException"


def test_running_tasks_block_deregistration(emu, cluster, instance):
    ecs = emu.client("ecs")
    ecs.register_task_definition(
        family="web",
        containerDefinitions=[{"name": "web", "image": "nginx", "memory": 128, "cpu": 128}],
        networkMode="bridge",
    )
    arn = instance["containerInstanceArn"]
    task = ecs.start_task(cluster=cluster, taskDefinition="web", containerInstances=[arn])["tasks"][0]
    d = _describe(emu, cluster, [arn])["containerInstances"][0]
    assert d["runningTasksCount"] == 1
    listed = ecs.list_container_instances(cluster=cluster, filter="runningTasksCount > 0")["containerInstanceArns"]
    assert listed == [arn]
    # the drain flow: DRAINING, wait for the tasks to go, then deregister
    ecs.update_container_instances_state(cluster=cluster, containerInstances=[arn], status="DRAINING")
    with pytest.raises(ClientError) as e:
        ecs.deregister_container_instance(cluster=cluster, containerInstance=arn)
    assert error_of(e)[:2] == ("InvalidParameterException", "Found running tasks on the instance.")
    ecs.stop_task(cluster=cluster, task=task["taskArn"])
    d = _describe(emu, cluster, [arn])["containerInstances"][0]
    assert (d["runningTasksCount"], d["pendingTasksCount"], d["status"]) == (0, 0, "DRAINING")
    ecs.deregister_container_instance(cluster=cluster, containerInstance=arn)


def test_force_deregistration_with_running_tasks(emu, cluster, instance):
    ecs = emu.client("ecs")
    ecs.register_task_definition(
        family="web",
        containerDefinitions=[{"name": "web", "image": "nginx", "memory": 128, "cpu": 128}],
        networkMode="bridge",
    )
    arn = instance["containerInstanceArn"]
    ecs.start_task(cluster=cluster, taskDefinition="web", containerInstances=[arn])
    out = ecs.deregister_container_instance(cluster=cluster, containerInstance=arn, force=True)
    assert out["containerInstance"]["status"] == "INACTIVE"


def test_container_instance_tags(emu, cluster, instance):
    ecs = emu.client("ecs")
    arn = instance["containerInstanceArn"]
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "env", "value": "prod"}])
    tags = ecs.list_tags_for_resource(resourceArn=arn)["tags"]
    assert {t["key"]: t["value"] for t in tags} == {"owner": "ops", "env": "prod"}
    ecs.untag_resource(resourceArn=arn, tagKeys=["owner"])
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "env", "value": "prod"}]
