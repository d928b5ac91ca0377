"""RegisterManagedInstance, the node's RSA-signed credential call, pings,
DescribeInstanceInformation and deregistration."""

from __future__ import annotations

import json
import urllib.request

import pytest
from botocore.exceptions import ClientError

from ecs_anywhere_emulator import nodeauth
from ecs_anywhere_emulator.agent import AgentCallError
from support import error_of


def _raw(emu, target, body, headers=None):
    data = json.dumps(body).encode()
    h = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target, **(headers or {})}
    req = urllib.request.Request(emu.endpoint + "/", data=data, headers=h, method="POST")
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


# --- registration ---------------------------------------------------------------


def test_register_returns_mi_id_and_copies_activation_data(emu, activation, node):
    assert node.instance_id.startswith("mi-") and len(node.instance_id) == 20
    int(node.instance_id[3:], 16)
    info = emu.client("ssm").describe_instance_information()["InstanceInformationList"]
    assert len(info) == 1
    n = info[0]
    assert n["InstanceId"] == node.instance_id
    assert n["ActivationId"] == activation["ActivationId"]
    assert n["IamRole"] == "ecsAnywhereRole"
    assert n["Name"] == "edge"
    assert n["ResourceType"] == "ManagedInstance"
    assert "RegistrationDate" in n
    tags = emu.client("ssm").list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=node.instance_id)
    assert tags["TagList"] == [{"Key": "team", "Value": "infra"}]
    a = emu.client("ssm").describe_activations()["ActivationList"][0]
    assert a["RegistrationsCount"] == 1


def test_register_is_unsigned_and_in_the_ledger_as_anonymous(emu, node):
    entries = [e for e in emu.ledger() if e["operation"] == "RegisterManagedInstance"]
    assert entries and entries[-1]["identity"] == "anonymous" and entries[-1]["status"] == 200


def test_register_with_wrong_code_or_unknown_id(emu, activation):
    agent = emu.agent()
    with pytest.raises(AgentCallError) as e:
        agent.register(activation["ActivationId"], "x" * 20)
    assert (e.value.status, e.value.code) == (400, "InvalidActivation")
    with pytest.raises(AgentCallError) as e:
        agent.register("00000000-0000-4000-8000-000000000000", activation["ActivationCode"])
    assert e.value.code == "InvalidActivation"


def test_register_after_expiry(emu, activation):
    emu.advance(24 * 3600 + 1)
    with pytest.raises(AgentCallError) as e:
        emu.register_node(activation)
    assert e.value.code == "ActivationExpired"


def test_register_after_delete(emu, activation):
    emu.client("ssm").delete_activation(ActivationId=activation["ActivationId"])
    with pytest.raises(AgentCallError) as e:
        emu.register_node(activation)
    assert e.value.code == "InvalidActivation"


def test_registration_limit_and_deregistration_does_not_free_a_slot(emu, role):
    act = emu.make_activation(role, RegistrationLimit=2)
    first = emu.register_node(act)
    emu.register_node(act)
    with pytest.raises(AgentCallError) as e:
        emu.register_node(act)
    assert e.value.code == "RegistrationLimitExceeded"
    emu.client("ssm").deregister_managed_instance(InstanceId=first.instance_id)
    with pytest.raises(AgentCallError) as e:
        emu.register_node(act)
    assert e.value.code == "RegistrationLimitExceeded"
    assert emu.client("ssm").describe_activations()["ActivationList"][0]["RegistrationsCount"] == 2


def test_register_rejects_bad_public_key(emu, activation):
    status, body = _raw(
        emu,
        "AmazonSSM.RegisterManagedInstance",
        {**activation, "PublicKey": "bm90IGEga2V5", "PublicKeyType": "Rsa", "Fingerprint": "f"},
    )
    assert status == 400 and body["__type"] == "ValidationException"


# --- node credentials -------------------------------------------------------------


def test_role_token_is_an_assumed_role_session_named_after_the_node(emu, node, node_creds):
    assert node_creds["UpdateKeyPair"] is False
    assert node_creds["AccessKeyId"].startswith("ASIA")
    clock = emu.get("clock")["epoch"]
    assert abs(node_creds["TokenExpirationDate"] - (clock + 3600)) < 5
    ident = emu.node_client("sts", node_creds).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:sts::123456789012:assumed-role/ecsAnywhereRole/{node.instance_id}"
    entry = [e for e in emu.ledger() if e["operation"] == "RequestManagedInstanceRoleToken"][-1]
    assert entry["identity"] == f"arn:aws:ssm:{emu.region}:123456789012:managed-instance/{node.instance_id}"


def test_node_credentials_follow_the_role_policies(emu, node, node_creds, cluster):
    ecs = emu.node_client("ecs", node_creds)
    out = ecs.register_container_instance(cluster=cluster)
    assert out["containerInstance"]["ec2InstanceId"] == node.instance_id
    with pytest.raises(ClientError) as e:
        emu.node_client("ssm", node_creds).describe_instance_information()
    code, message, _ = error_of(e)
    assert code == "AccessDeniedException"
    assert f"assumed-role/ecsAnywhereRole/{node.instance_id} is not authorized to perform: ssm:DescribeInstanceInformation" in message
    with pytest.raises(ClientError) as e:
        emu.node_client("iam", node_creds).create_role(RoleName="x", AssumeRolePolicyDocument="{}")
    assert error_of(e)[0] == "AccessDenied"
    # Adding a policy to the role widens what the same session may do.
    emu.client("iam").attach_role_policy(RoleName="ecsAnywhereRole", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert emu.node_client("ssm", node_creds).describe_instance_information()["InstanceInformationList"]


def test_role_token_needs_the_node_key(emu, node):
    impostor = emu.agent()
    impostor.instance_id = node.instance_id  # someone else's key
    with pytest.raises(AgentCallError) as e:
        impostor.request_role_token()
    assert e.value.code == "InvalidSignatureException"
    status, body = _raw(emu, "AmazonSSM.RequestManagedInstanceRoleToken", {"Fingerprint": "f"})
    assert status == 400 and body["__type"] == "MissingAuthenticationTokenException"


def test_role_token_signature_covers_the_body(emu, node):
    body = json.dumps({"Fingerprint": node.fingerprint}).encode()
    headers = nodeauth.sign_request(
        url=emu.endpoint + "/",
        region=emu.region,
        instance_id=node.instance_id,
        private_key=node.private_key,
        body=body,
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonSSM.RequestManagedInstanceRoleToken"},
    )
    tampered = json.dumps({"Fingerprint": "other"}).encode()
    req = urllib.request.Request(emu.endpoint + "/", data=tampered, headers=headers, method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    assert json.loads(e.value.read())["__type"] == "InvalidSignatureException"
    req = urllib.request.Request(emu.endpoint + "/", data=body, headers=headers, method="POST")
    with urllib.request.urlopen(req) as r:
        assert json.loads(r.read())["SessionToken"]


def test_public_key_rotation(emu, node):
    old_key = node.private_key
    node.update_public_key(nodeauth.generate_key())
    assert node.request_role_token()["AccessKeyId"]
    node.private_key = old_key
    with pytest.raises(AgentCallError) as e:
        node.request_role_token()
    assert e.value.code == "InvalidSignatureException"


def test_credentials_expire_on_the_emulator_clock(emu, node, node_creds):
    sts = emu.node_client("sts", node_creds)
    sts.get_caller_identity()
    emu.advance(3601)
    with pytest.raises(ClientError) as e:
        sts.get_caller_identity()
    assert error_of(e)[0] == "ExpiredToken"
    with pytest.raises(ClientError) as e:
        emu.node_client("ecs", node_creds).list_clusters()
    assert error_of(e)[0] == "ExpiredTokenException"
    fresh = node.request_role_token()
    emu.node_client("sts", fresh).get_caller_identity()


def test_deregistered_node_gets_no_credentials(emu, node):
    emu.client("ssm").deregister_managed_instance(InstanceId=node.instance_id)
    with pytest.raises(AgentCallError) as e:
        node.request_role_token()
    assert (e.value.status, e.value.code) == (400, "InvalidInstanceId")
    assert emu.client("ssm").describe_instance_information()["InstanceInformationList"] == []


def test_deregister_errors(emu, node):
    ssm = emu.client("ssm")
    with pytest.raises(ClientError) as e:
        ssm.deregister_managed_instance(InstanceId="mi-00000000000000000")
    assert error_of(e)[0] == "InvalidInstanceId"
    with pytest.raises(ClientError) as e:
        ssm.deregister_managed_instance(InstanceId="i-123")
    assert error_of(e)[0] == "ValidationException"
    ssm.deregister_managed_instance(InstanceId=node.instance_id)
    with pytest.raises(ClientError) as e:
        ssm.deregister_managed_instance(InstanceId=node.instance_id)
    assert error_of(e)[0] == "InvalidInstanceId"
    with pytest.raises(ClientError) as e:
        emu.client("ssm", who="restricted").deregister_managed_instance(InstanceId="mi-00000000000000001")
    code, message, _ = error_of(e)
    assert code == "AccessDeniedException" and "ssm:DeregisterManagedInstance on resource: arn:aws:ssm:" in message


def test_update_managed_instance_role(emu, node):
    emu.make_role("otherRole")
    ssm = emu.client("ssm")
    ssm.update_managed_instance_role(InstanceId=node.instance_id, IamRole="otherRole")
    assert ssm.describe_instance_information()["InstanceInformationList"][0]["IamRole"] == "otherRole"
    creds = node.request_role_token()
    arn = emu.node_client("sts", creds).get_caller_identity()["Arn"]
    assert arn.endswith(f"assumed-role/otherRole/{node.instance_id}")
    with pytest.raises(ClientError) as e:
        ssm.update_managed_instance_role(InstanceId=node.instance_id, IamRole="nope")
    assert error_of(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        ssm.update_managed_instance_role(InstanceId="mi-00000000000000000", IamRole="otherRole")
    assert error_of(e)[0] == "InvalidInstanceId"


# --- pings ------------------------------------------------------------------------------


def test_ping_sets_online_and_agent_fields_then_connection_lost(emu, node, node_creds):
    ssm = emu.client("ssm")
    before = ssm.describe_instance_information()["InstanceInformationList"][0]
    assert before["PingStatus"] == "ConnectionLost" and "LastPingDateTime" not in before
    node.update_instance_information(
        node_creds,
        AgentVersion="3.3.40.0",
        AgentName="amazon-ssm-agent",
        PlatformType="Linux",
        PlatformName="Ubuntu",
        PlatformVersion="22.04",
        IPAddress="10.0.0.5",
        ComputerName="edge-1",
    )
    n = ssm.describe_instance_information()["InstanceInformationList"][0]
    assert n["PingStatus"] == "Online"
    assert (n["AgentVersion"], n["PlatformType"], n["PlatformName"], n["PlatformVersion"]) == ("3.3.40.0", "Linux", "Ubuntu", "22.04")
    assert (n["IPAddress"], n["ComputerName"]) == ("10.0.0.5", "edge-1")
    assert "LastPingDateTime" in n
    emu.advance(301)
    assert ssm.describe_instance_information()["InstanceInformationList"][0]["PingStatus"] == "ConnectionLost"
    emu.configure(ping_timeout=600)
    assert ssm.describe_instance_information()["InstanceInformationList"][0]["PingStatus"] == "Online"


def test_ping_must_come_from_the_node_itself(emu, activation, node, node_creds):
    other = emu.register_node(activation)
    other_creds = other.request_role_token()
    node.instance_id, real = other.instance_id, node.instance_id
    with pytest.raises(AgentCallError) as e:
        node.update_instance_information(node_creds)  # node's session, other's id
    assert e.value.code == "InvalidInstanceId"
    node.instance_id = real
    node.update_instance_information(node_creds)
    other.update_instance_information(other_creds)


def test_ping_refused_after_deregistration(emu, node, node_creds):
    emu.client("ssm").deregister_managed_instance(InstanceId=node.instance_id)
    with pytest.raises(AgentCallError) as e:
        node.update_instance_information(node_creds)
    assert e.value.code == "InvalidInstanceId"


# --- DescribeInstanceInformation ----------------------------------------------------------


@pytest.fixture
def fleet(emu, role):
    a1 = emu.make_activation(role, RegistrationLimit=10, Tags=[{"Key": "site", "Value": "paris"}])
    a2 = emu.make_activation(role, RegistrationLimit=10, Tags=[{"Key": "site", "Value": "lyon"}])
    nodes1 = [emu.register_node(a1) for _ in range(3)]
    nodes2 = [emu.register_node(a2) for _ in range(3)]
    for n in nodes1:
        n.update_instance_information(n.request_role_token(), PlatformType="Linux", AgentVersion="3.3.1.0")
    return a1, a2, nodes1, nodes2


def _ids(resp):
    return sorted(n["InstanceId"] for n in resp["InstanceInformationList"])


def test_describe_instance_information_filters(emu, fleet):
    a1, a2, nodes1, nodes2 = fleet
    ssm = emu.client("ssm")
    ids1, ids2 = sorted(n.instance_id for n in nodes1), sorted(n.instance_id for n in nodes2)
    assert _ids(ssm.describe_instance_information(Filters=[{"Key": "ActivationIds", "Values": [a2["ActivationId"]]}])) == ids2
    assert _ids(ssm.describe_instance_information(Filters=[{"Key": "PingStatus", "Values": ["Online"]}])) == ids1
    assert _ids(ssm.describe_instance_information(Filters=[{"Key": "PingStatus", "Values": ["ConnectionLost"]}])) == ids2
    assert _ids(ssm.describe_instance_information(Filters=[{"Key": "tag:site", "Values": ["lyon"]}])) == ids2
    assert _ids(ssm.describe_instance_information(Filters=[{"Key": "tag-key", "Values": ["site"]}])) == sorted(ids1 + ids2)
    assert _ids(ssm.describe_instance_information(Filters=[{"Key": "ResourceType", "Values": ["ManagedInstance"]}])) == sorted(ids1 + ids2)
    assert _ids(ssm.describe_instance_information(Filters=[{"Key": "InstanceIds", "Values": [ids1[0], ids2[0]]}])) == sorted([ids1[0], ids2[0]])
    both = [{"Key": "ActivationIds", "Values": [a1["ActivationId"]]}, {"Key": "InstanceIds", "Values": [ids1[1], ids2[1]]}]
    assert _ids(ssm.describe_instance_information(Filters=both)) == [ids1[1]]
    legacy = ssm.describe_instance_information(
        InstanceInformationFilterList=[{"key": "PingStatus", "valueSet": ["Online"]}]
    )
    assert _ids(legacy) == ids1
    legacy = ssm.describe_instance_information(
        InstanceInformationFilterList=[{"key": "InstanceIds", "valueSet": [ids2[2]]}]
    )
    assert _ids(legacy) == [ids2[2]]


def test_describe_instance_information_errors(emu, fleet):
    ssm = emu.client("ssm")
    with pytest.raises(ClientError) as e:
        ssm.describe_instance_information(Filters=[{"Key": "InstanceIds", "Values": ["mi-00000000000000000"]}])
    assert error_of(e)[0] == "InvalidInstanceId"
    with pytest.raises(ClientError) as e:
        ssm.describe_instance_information(Filters=[{"Key": "Nonsense", "Values": ["x"]}])
    assert error_of(e)[0] == "InvalidFilterKey"
    with pytest.raises(ClientError) as e:
        ssm.describe_instance_information(Filters=[{"Key": "PingStatus", "Values": ["Sleeping"]}])
    assert error_of(e)[0] == "InvalidInstanceInformationFilterValue"
    for bad in (4, 51):
        with pytest.raises(ClientError) as e:
            ssm.describe_instance_information(MaxResults=bad)
        code, message, _ = error_of(e)
        assert code == "ValidationException" and "maxResults" in message
    with pytest.raises(ClientError) as e:
        ssm.describe_instance_information(NextToken="garbage")
    assert error_of(e)[0] == "InvalidNextToken"


def test_describe_instance_information_pagination(emu, fleet):
    ssm = emu.client("ssm")
    page = ssm.describe_instance_information(MaxResults=5)
    assert len(page["InstanceInformationList"]) == 5 and page["NextToken"]
    rest = ssm.describe_instance_information(MaxResults=5, NextToken=page["NextToken"])
    assert len(rest["InstanceInformationList"]) == 1 and "NextToken" not in rest
    all_ids = [n["InstanceId"] for p in ssm.get_paginator("describe_instance_information").paginate(PaginationConfig={"PageSize": 5}) for n in p["InstanceInformationList"]]
    assert len(set(all_ids)) == 6


def test_managed_instance_tags(emu, node):
    ssm = emu.client("ssm")
    ssm.add_tags_to_resource(ResourceType="ManagedInstance", ResourceId=node.instance_id, Tags=[{"Key": "role", "Value": "ecs"}])
    tags = ssm.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=node.instance_id)["TagList"]
    assert {t["Key"]: t["Value"] for t in tags} == {"team": "infra", "role": "ecs"}
    assert _ids(ssm.describe_instance_information(Filters=[{"Key": "tag:role", "Values": ["ecs"]}])) == [node.instance_id]
    ssm.remove_tags_from_resource(ResourceType="ManagedInstance", ResourceId=node.instance_id, TagKeys=["team"])
    tags = ssm.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=node.instance_id)["TagList"]
    assert tags == [{"Key": "role", "Value": "ecs"}]
    with pytest.raises(ClientError) as e:
        ssm.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId="mi-00000000000000000")
    assert error_of(e)[0] == "InvalidResourceId"
