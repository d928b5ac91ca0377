"""CreateActivation / DescribeActivations / DeleteActivation."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from botocore.exceptions import ClientError

from support import SSM_TRUST, error_of


def _create_error(emu, **kwargs):
    with pytest.raises(ClientError) as e:
        emu.client("ssm").create_activation(**kwargs)
    return error_of(e)


def test_create_activation_returns_id_and_code(emu, role):
    out = emu.client("ssm").create_activation(IamRole=role)
    assert len(out["ActivationId"]) == 36 and out["ActivationId"].count("-") == 4
    assert len(out["ActivationCode"]) >= 20
    listed = emu.client("ssm").describe_activations()["ActivationList"]
    assert [a["ActivationId"] for a in listed] == [out["ActivationId"]]
    a = listed[0]
    assert a["RegistrationLimit"] == 1 and a["RegistrationsCount"] == 0
    assert a["Expired"] is False
    lifetime = a["ExpirationDate"] - a["CreatedDate"]
    assert abs(lifetime.total_seconds() - 24 * 3600) < 5


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"IamRole": "r" * 65}, "at 'iamRole' failed to satisfy constraint: Member must have length less than or equal to 64"),
        ({"IamRole": "ecsAnywhereRole", "RegistrationLimit": 0}, "at 'registrationLimit' failed to satisfy constraint: Member must have value greater than or equal to 1"),
        ({"IamRole": "ecsAnywhereRole", "RegistrationLimit": 1001}, "Member must have value less than or equal to 1000"),
        ({"IamRole": "ecsAnywhereRole", "Description": "d" * 257}, "at 'description'"),
        ({"IamRole": "ecsAnywhereRole", "DefaultInstanceName": "n" * 257}, "at 'defaultInstanceName'"),
        ({"IamRole": "ecsAnywhereRole", "DefaultInstanceName": "bad*name"}, "regular expression pattern"),
        ({"IamRole": "ecsAnywhereRole", "Tags": [{"Key": "", "Value": "v"}]}, "at 'tags.1.member.key'"),
        ({"IamRole": "ecsAnywhereRole", "Tags": [{"Key": "aws:x", "Value": "v"}]}, "aws:"),
    ],
)
def test_create_activation_validation(emu, role, kwargs, needle):
    code, message, status = _create_error(emu, **kwargs)
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith("1 validation error detected: Value")
    assert needle in message


def test_create_activation_reports_all_violations(emu, role):
    code, message, _ = _create_error(emu, IamRole="r" * 65, RegistrationLimit=0)
    assert code == "ValidationException"
    assert message.startswith("2 validation errors detected:")


@pytest.mark.parametrize("offset, needle", [(-60, "in the future"), (31 * 86400, "30 days")])
def test_create_activation_expiration_bounds(emu, role, offset, needle):
    when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=offset)
    code, message, _ = _create_error(emu, IamRole=role, ExpirationDate=when)
    assert code == "ValidationException" and needle in message


def test_create_activation_expiration_within_30_days(emu, role):
    when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=29)
    aid = emu.client("ssm").create_activation(IamRole=role, ExpirationDate=when)["ActivationId"]
    a = emu.client("ssm").describe_activations()["ActivationList"][0]
    assert a["ActivationId"] == aid
    assert abs((a["ExpirationDate"] - when).total_seconds()) < 2


@pytest.mark.parametrize(
    "role_value",
    ["missingRole", "service-role/ecsAnywhereRole", "arn:aws:iam::123456789012:role/ecsAnywhereRole"],
)
def test_create_activation_role_must_be_an_existing_name(emu, role, role_value):
    code, message, _ = _create_error(emu, IamRole=role_value)
    assert code == "ValidationException"
    assert message == f"Nonexistent role or missing ssm service principal in trust policy: {role_value}"


@pytest.mark.parametrize(
    "trust",
    [
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"}, "Action": "sts:TagSession"}]},
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ssm.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": "999999999999"}},
                }
            ],
        },
    ],
    ids=["other-service", "other-action", "wrong-source-account"],
)
def test_create_activation_role_must_trust_ssm(emu, trust):
    emu.make_role("wrongTrust", trust=trust)
    code, message, _ = _create_error(emu, IamRole="wrongTrust")
    assert code == "ValidationException"
    assert "missing ssm service principal" in message


def test_create_activation_accepts_list_principal_and_confused_deputy_conditions(emu):
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["ecs.amazonaws.com", "ssm.amazonaws.com"]},
                "Action": ["sts:AssumeRole"],
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": "123456789012"},
                    "ArnLike": {"aws:SourceArn": f"arn:aws:ssm:{emu.region}:123456789012:*"},
                },
            }
        ],
    }
    emu.make_role("listTrust", trust=trust)
    assert emu.client("ssm").create_activation(IamRole="listTrust")["ActivationId"]


def test_iam_propagation_delay_follows_the_emulator_clock(emu):
    emu.configure(iam_propagation_delay=30)
    emu.make_role("freshRole")
    code, message, _ = _create_error(emu, IamRole="freshRole")
    assert code == "ValidationException"
    assert message == "Nonexistent role or missing ssm service principal in trust policy: freshRole"
    emu.advance(31)
    assert emu.client("ssm").create_activation(IamRole="freshRole")["ActivationId"]


def test_iam_propagation_restarts_on_trust_policy_update(emu):
    emu.make_role("freshRole")
    emu.configure(iam_propagation_delay=30)
    emu.advance(31)
    emu.client("ssm").create_activation(IamRole="freshRole")
    emu.client("iam").update_assume_role_policy(RoleName="freshRole", PolicyDocument=json.dumps(SSM_TRUST))
    code, _, _ = _create_error(emu, IamRole="freshRole")
    assert code == "ValidationException"
    emu.advance(30.5)
    emu.client("ssm").create_activation(IamRole="freshRole")


def test_describe_activations_fields_tags_and_no_code(emu, role):
    ssm = emu.client("ssm")
    out = ssm.create_activation(
        IamRole=role,
        Description="edge fleet",
        DefaultInstanceName="edge-host",
        RegistrationLimit=7,
        Tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "infra"}],
    )
    resp = ssm.describe_activations()
    a = resp["ActivationList"][0]
    assert a["Description"] == "edge fleet"
    assert a["DefaultInstanceName"] == "edge-host"
    assert a["IamRole"] == role
    assert a["RegistrationLimit"] == 7
    assert a["Tags"] == [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "infra"}]
    raw = json.dumps(resp, default=str)
    assert out["ActivationCode"] not in raw
    assert "ActivationCode" not in raw


def test_describe_activations_filters(emu, role):
    emu.make_role("otherRole")
    ssm = emu.client("ssm")
    a1 = ssm.create_activation(IamRole=role, DefaultInstanceName="alpha")["ActivationId"]
    a2 = ssm.create_activation(IamRole="otherRole", DefaultInstanceName="beta")["ActivationId"]

    def ids(filters):
        return [a["ActivationId"] for a in ssm.describe_activations(Filters=filters)["ActivationList"]]

    assert ids([{"FilterKey": "ActivationIds", "FilterValues": [a2]}]) == [a2]
    assert ids([{"FilterKey": "IamRole", "FilterValues": [role]}]) == [a1]
    assert ids([{"FilterKey": "DefaultInstanceName", "FilterValues": ["beta"]}]) == [a2]
    assert ids([{"FilterKey": "IamRole", "FilterValues": [role]}, {"FilterKey": "DefaultInstanceName", "FilterValues": ["beta"]}]) == []
    with pytest.raises(ClientError) as e:
        ssm.describe_activations(Filters=[{"FilterKey": "Bogus", "FilterValues": ["x"]}])
    assert error_of(e)[0] == "ValidationException"


def test_describe_activations_pagination(emu, role):
    ssm = emu.client("ssm")
    created = [ssm.create_activation(IamRole=role)["ActivationId"] for _ in range(5)]
    first = ssm.describe_activations(MaxResults=2)
    assert len(first["ActivationList"]) == 2 and first["NextToken"]
    seen = [a["ActivationId"] for a in first["ActivationList"]]
    token = first["NextToken"]
    while token:
        page = ssm.describe_activations(MaxResults=2, NextToken=token)
        seen += [a["ActivationId"] for a in page["ActivationList"]]
        token = page.get("NextToken")
    assert seen == created
    paged = [a["ActivationId"] for p in ssm.get_paginator("describe_activations").paginate(PaginationConfig={"PageSize": 3}) for a in p["ActivationList"]]
    assert paged == created
    for bad in (0, 51):
        with pytest.raises(ClientError) as e:
            ssm.describe_activations(MaxResults=bad)
        assert error_of(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        ssm.describe_activations(NextToken="not-a-token")
    assert error_of(e)[0] == "InvalidNextToken"


def test_expired_flag_follows_the_clock(emu, role):
    ssm = emu.client("ssm")
    ssm.create_activation(IamRole=role)
    emu.advance(24 * 3600 + 1)
    assert ssm.describe_activations()["ActivationList"][0]["Expired"] is True


def test_delete_activation(emu, role, activation):
    ssm = emu.client("ssm")
    with pytest.raises(ClientError) as e:
        ssm.delete_activation(ActivationId="not-a-uuid")
    assert error_of(e)[:1] == ("InvalidActivationId",)
    with pytest.raises(ClientError) as e:
        ssm.delete_activation(ActivationId="00000000-0000-4000-8000-000000000000")
    assert error_of(e)[0] == "InvalidActivation"
    ssm.delete_activation(ActivationId=activation["ActivationId"])
    assert ssm.describe_activations()["ActivationList"] == []
    with pytest.raises(ClientError) as e:
        ssm.delete_activation(ActivationId=activation["ActivationId"])
    assert error_of(e)[0] == "InvalidActivation"


def test_delete_activation_keeps_registered_nodes(emu, activation):
    node = emu.register_node(activation)
    emu.client("ssm").delete_activation(ActivationId=activation["ActivationId"])
    nodes = emu.client("ssm").describe_instance_information()["InstanceInformationList"]
    assert [n["InstanceId"] for n in nodes] == [node.instance_id]
    assert node.request_role_token()["AccessKeyId"]


def test_restricted_identity_cannot_create_activation(emu, role):
    with pytest.raises(ClientError) as e:
        emu.client("ssm", who="restricted").create_activation(IamRole=role)
    code, message, status = error_of(e)
    assert (code, status) == ("AccessDeniedException", 400)
    assert message.startswith(
        "User: arn:aws:iam::123456789012:user/restricted is not authorized to perform: "
        f"ssm:CreateActivation on resource: arn:aws:ssm:{emu.region}:123456789012:*"
    )
    # but it may read
    assert emu.client("ssm", who="restricted").describe_activations()["ActivationList"] == []


def test_create_activation_needs_pass_role(emu, role):
    iam = emu.client("iam")
    iam.create_user(UserName="operator")
    iam.put_user_policy(
        UserName="operator",
        PolicyName="ssm-only",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:*", "Resource": "*"}]}),
    )
    key = iam.create_access_key(UserName="operator")["AccessKey"]
    import boto3

    ssm = boto3.Session(
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"], region_name=emu.region
    ).client("ssm", endpoint_url=emu.endpoint)
    with pytest.raises(ClientError) as e:
        ssm.create_activation(IamRole=role)
    code, message, _ = error_of(e)
    assert code == "AccessDeniedException"
    assert f"iam:PassRole on resource: arn:aws:iam::123456789012:role/{role}" in message
    iam.put_user_policy(
        UserName="operator",
        PolicyName="pass",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "iam:PassRole",
                        "Resource": f"arn:aws:iam::123456789012:role/{role}",
                        "Condition": {"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}},
                    }
                ],
            }
        ),
    )
    assert ssm.create_activation(IamRole=role)["ActivationId"]


@pytest.mark.parametrize(
    "document, needle",
    [
        ("not json", "MalformedPolicyDocument"),
        (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": ""}, "Action": "sts:AssumeRole"}]}), "Invalid principal"),
        (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}), "Missing required field Principal"),
    ],
    ids=["invalid-json", "empty-service-principal", "no-principal"],
)
def test_create_role_rejects_malformed_trust_policy(emu, document, needle):
    with pytest.raises(ClientError) as e:
        emu.client("iam").create_role(RoleName="badTrust", AssumeRolePolicyDocument=document)
    code, message, status = error_of(e)
    assert (code, status) == ("MalformedPolicyDocument", 400)
    assert needle in f"{code}: {message}"
    assert emu.client("iam").list_roles()["Roles"] == []
