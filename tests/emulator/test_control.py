"""Control endpoints, authentication, and the ledger."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request

import boto3
import pytest
from botocore.exceptions import ClientError

from support import NO_RETRY, error_of


def test_health(emu):
    assert emu.get("health") == {"ok": True}


def test_unknown_control_endpoint(emu):
    status, body = emu.control("GET", "nope")
    assert status == 404


def test_ledger_records_every_call_with_identity(emu, role, activation, node):
    with pytest.raises(ClientError):
        emu.client("ssm", who="restricted").create_activation(IamRole=role)
    emu.get("config")  # control calls are not AWS calls
    entries = emu.ledger()
    summary = [(e["service"], e["operation"], e["identity"], e["status"], e["error"]) for e in entries]
    admin = "arn:aws:iam::123456789012:user/admin"
    assert summary == [
        ("iam", "CreateRole", admin, 200, None),
        ("iam", "AttachRolePolicy", admin, 200, None),
        ("iam", "AttachRolePolicy", admin, 200, None),
        ("ssm", "CreateActivation", admin, 200, None),
        ("ssm", "RegisterManagedInstance", "anonymous", 200, None),
        ("ssm", "CreateActivation", "arn:aws:iam::123456789012:user/restricted", 400, "AccessDeniedException"),
    ]
    for e in entries:
        assert isinstance(e["duration_ms"], (int, float)) and e["duration_ms"] >= 0
        dt.datetime.fromisoformat(e["time"].replace("Z", "+00:00"))
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))


def test_ledger_records_moto_errors(emu):
    with pytest.raises(ClientError):
        emu.client("iam").get_role(RoleName="missing")
    last = emu.ledger()[-1]
    assert (last["service"], last["operation"], last["status"], last["error"]) == ("iam", "GetRole", 404, "NoSuchEntity")


def test_reset_keeps_the_keys(emu, role, activation):
    env_before = dict(emu.process.env)
    emu.advance(100)
    emu.configure(ping_timeout=5)
    emu.reset()
    assert emu.ledger() == []
    assert emu.get("clock")["offset"] == 0
    assert emu.get("config")["ping_timeout"] == 300
    # same keys still work, state is gone
    assert emu.client("iam").list_roles()["Roles"] == []
    assert emu.client("ssm").describe_activations()["ActivationList"] == []
    assert emu.client("sts", who="restricted").get_caller_identity()["Arn"].endswith("user/restricted")
    assert emu.process.env == env_before
    users = sorted(u["UserName"] for u in emu.client("iam").list_users()["Users"])
    assert users == ["admin", "restricted"]


def test_config_endpoint(emu):
    assert emu.get("config") == {"iam_propagation_delay": 0.0, "ping_timeout": 300.0, "heartbeat_timeout": 60.0}
    assert emu.configure(iam_propagation_delay=5)["iam_propagation_delay"] == 5
    for bad in ({"ping_timeout": -1}, {"nope": 1}, {"heartbeat_timeout": "x"}):
        status, _ = emu.control("POST", "config", bad)
        assert status == 400


def test_clock_endpoint(emu):
    before = emu.get("clock")
    after = emu.post("clock", {"advance": 3600})
    assert after["offset"] == 3600
    assert after["epoch"] - before["epoch"] >= 3600
    assert after["now"].endswith("Z")
    status, _ = emu.control("POST", "clock", {"advance": -5})
    assert status == 400


def test_unsigned_calls_are_rejected(emu):
    req = urllib.request.Request(
        emu.endpoint + "/",
        data=b"{}",
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    assert e.value.code == 400
    assert json.loads(e.value.read())["__type"] == "MissingAuthenticationTokenException"
    req = urllib.request.Request(
        emu.endpoint + "/",
        data=b"Action=ListRoles&Version=2010-05-08",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    assert e.value.code == 403
    assert b"<Code>MissingAuthenticationToken</Code>" in e.value.read()
    assert emu.ledger()[-1]["identity"] == "anonymous"


def _client(emu, service, key, secret):
    return boto3.Session(aws_access_key_id=key, aws_secret_access_key=secret, region_name=emu.region).client(
        service, endpoint_url=emu.endpoint, config=NO_RETRY
    )


def test_bad_credentials(emu):
    key = emu.process.env["AWS_ACCESS_KEY_ID"]
    with pytest.raises(ClientError) as e:
        _client(emu, "ecs", key, "wrong-secret").list_clusters()
    assert error_of(e)[0::2] == ("InvalidSignatureException", 400)
    with pytest.raises(ClientError) as e:
        _client(emu, "iam", key, "wrong-secret").list_roles()
    assert error_of(e)[0::2] == ("SignatureDoesNotMatch", 403)
    with pytest.raises(ClientError) as e:
        _client(emu, "ssm", "AKIAXXXXXXXXXXXXXXXX", "x").describe_activations()
    assert error_of(e)[0] == "UnrecognizedClientException"
    with pytest.raises(ClientError) as e:
        _client(emu, "sts", "AKIAXXXXXXXXXXXXXXXX", "x").get_caller_identity()
    assert error_of(e)[0] == "InvalidClientTokenId"
    assert emu.ledger()[-1]["identity"] == "unauthenticated"


def test_inactive_access_key_is_rejected(emu):
    iam = emu.client("iam")
    iam.create_user(UserName="bob")
    iam.attach_user_policy(UserName="bob", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    k = iam.create_access_key(UserName="bob")["AccessKey"]
    ecs = _client(emu, "ecs", k["AccessKeyId"], k["SecretAccessKey"])
    ecs.list_clusters()
    iam.update_access_key(UserName="bob", AccessKeyId=k["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError) as e:
        ecs.list_clusters()
    assert error_of(e)[0] == "UnrecognizedClientException"


def test_restricted_is_denied_writes_but_admin_is_not(emu):
    with pytest.raises(ClientError) as e:
        emu.client("ecs", who="restricted").create_cluster(clusterName="c")
    code, message, status = error_of(e)
    assert (code, status) == ("AccessDeniedException", 400)
    assert message.startswith(
        "User: arn:aws:iam::123456789012:user/restricted is not authorized to perform: ecs:CreateCluster "
        f"on resource: arn:aws:ecs:{emu.region}:123456789012:cluster/c"
    )
    with pytest.raises(ClientError) as e:
        emu.client("iam", who="restricted").create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    code, message, status = error_of(e)
    assert (code, status) == ("AccessDenied", 403)
    assert "iam:CreateRole on resource: arn:aws:iam::123456789012:role/r" in message
    emu.client("ecs").create_cluster(clusterName="c")
    assert emu.client("ecs", who="restricted").list_clusters()["clusterArns"]


def test_explicit_deny_wins(emu):
    iam = emu.client("iam")
    iam.create_user(UserName="carol")
    iam.attach_user_policy(UserName="carol", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.put_user_policy(
        UserName="carol",
        PolicyName="no-ecs-writes",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "ecs:Create*", "Resource": "*"}]}
        ),
    )
    k = iam.create_access_key(UserName="carol")["AccessKey"]
    ecs = _client(emu, "ecs", k["AccessKeyId"], k["SecretAccessKey"])
    with pytest.raises(ClientError) as e:
        ecs.create_cluster(clusterName="c")
    assert "with an explicit deny in an identity-based policy" in error_of(e)[1]
    ecs.list_clusters()


def test_assume_role_respects_trust_policy(emu):
    iam = emu.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/admin"}, "Action": "sts:AssumeRole"}],
    }
    arn = iam.create_role(RoleName="adminOnly", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    creds = emu.client("sts").assume_role(RoleArn=arn, RoleSessionName="s")["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    iam.create_user(UserName="dave")
    iam.attach_user_policy(UserName="dave", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    k = iam.create_access_key(UserName="dave")["AccessKey"]
    with pytest.raises(ClientError) as e:
        _client(emu, "sts", k["AccessKeyId"], k["SecretAccessKey"]).assume_role(RoleArn=arn, RoleSessionName="s")
    assert error_of(e)[0] == "AccessDenied"


def test_unimplemented_operations_are_loud_and_not_retryable(emu):
    emu.client("ecs").create_cluster(clusterName="c")
    with pytest.raises(ClientError) as e:
        emu.client("ecs").submit_task_state_change(cluster="c")
    code, message, status = error_of(e)
    assert (code, status) == ("EmulatorNotImplemented", 400)
    assert "ecs:SubmitTaskStateChange" in message
