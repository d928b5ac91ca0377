"""Fault injection through /_emulator/faults, as the SDKs see it."""

from __future__ import annotations

import time

import botocore.config
import pytest
from botocore.exceptions import ClientError

from support import error_of

RETRYING = botocore.config.Config(retries={"max_attempts": 4, "mode": "standard"}, parameter_validation=False)


def test_throttling_fires_count_times_then_succeeds(emu):
    emu.faults([{"service": "ssm", "operation": "DescribeActivations", "error": "ThrottlingException", "count": 2}])
    ssm = emu.client("ssm")
    for _ in range(2):
        with pytest.raises(ClientError) as e:
            ssm.describe_activations()
        code, message, status = error_of(e)
        assert (code, status) == ("ThrottlingException", 400)
        assert e.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == "ThrottlingException"
    assert ssm.describe_activations()["ActivationList"] == []
    rules = emu.get("faults")["rules"]
    assert rules[0]["fired"] == 2 and rules[0]["count"] == 2
    entries = [e for e in emu.ledger() if e["operation"] == "DescribeActivations"]
    assert [(e["status"], e["error"], e["fault"]) for e in entries] == [
        (400, "ThrottlingException", True),
        (400, "ThrottlingException", True),
        (200, None, False),
    ]


def test_sdk_retries_injected_throttling(emu):
    emu.faults([{"service": "ecs", "operation": "ListClusters", "error": "ThrottlingException", "count": 2}])
    out = emu.client("ecs", config=RETRYING).list_clusters()
    assert out["ResponseMetadata"]["RetryAttempts"] == 2


def test_server_error_500(emu):
    emu.faults([{"service": "ssm", "operation": "*", "error": "InternalServerError", "status": 500, "count": 1}])
    with pytest.raises(ClientError) as e:
        emu.client("ssm").describe_activations()
    assert error_of(e)[0::2] == ("InternalServerError", 500)
    out = emu.client("ssm", config=RETRYING).describe_activations()
    assert out["ResponseMetadata"]["RetryAttempts"] == 0  # the rule is used up
    emu.faults([{"service": "ssm", "error": "InternalServerError", "count": 1}])  # status defaults to 500
    out = emu.client("ssm", config=RETRYING).describe_activations()
    assert out["ResponseMetadata"]["RetryAttempts"] == 1


def test_query_protocol_faults_are_xml(emu):
    emu.faults(
        [
            {"service": "iam", "operation": "ListRoles", "error": "Throttling", "count": 1},
            {"service": "iam", "operation": "ListRoles", "error": "ServiceUnavailable", "status": 503, "count": 1},
        ]
    )
    iam = emu.client("iam")
    with pytest.raises(ClientError) as e:
        iam.list_roles()
    assert error_of(e)[0::2] == ("Throttling", 400)
    assert e.value.response["Error"]["Type"] == "Sender"
    with pytest.raises(ClientError) as e:
        iam.list_roles()
    assert error_of(e)[0::2] == ("ServiceUnavailable", 503)
    assert e.value.response["Error"]["Type"] == "Receiver"
    assert iam.list_roles()["Roles"] == []


def test_latency_only_rule(emu):
    emu.faults([{"service": "sts", "latency_ms": 400}])
    t = time.monotonic()
    emu.client("sts").get_caller_identity()
    assert time.monotonic() - t >= 0.4
    entry = [e for e in emu.ledger() if e["operation"] == "GetCallerIdentity"][-1]
    assert entry["duration_ms"] >= 400 and entry["status"] == 200 and entry["error"] is None


def test_probability_is_seeded(emu):
    rule = {"service": "ecs", "operation": "ListClusters", "error": "ThrottlingException", "probability": 0.5}

    def run():
        emu.faults([rule], seed=42)
        ecs = emu.client("ecs")
        outcomes = []
        for _ in range(16):
            try:
                ecs.list_clusters()
                outcomes.append("ok")
            except ClientError:
                outcomes.append("throttled")
        return outcomes

    first = run()
    assert "ok" in first and "throttled" in first
    assert run() == first


def test_wildcard_rule_hits_other_services_but_not_control(emu):
    emu.faults([{"error": "ThrottlingException", "count": 1}])
    assert emu.get("health") == {"ok": True}
    with pytest.raises(ClientError) as e:
        emu.client("ecs").list_clusters()
    assert error_of(e)[0] == "ThrottlingException"
    emu.client("ecs").list_clusters()


def test_faults_are_validated_and_cleared_by_reset(emu):
    for bad in ({"rules": [{"error": "X", "status": 200}]}, {"rules": [{"probability": 2, "error": "X"}]}, {"rules": [{}]}, {"rules": "x"}):
        status, body = emu.control("POST", "faults", bad)
        assert status == 400 and body["error"]
    emu.faults([{"error": "ThrottlingException"}])
    emu.reset()
    assert emu.get("faults")["rules"] == []
    emu.client("ecs").list_clusters()


def test_fault_ledger_identity(emu):
    emu.faults([{"service": "ecs", "error": "ThrottlingException", "count": 1}])
    with pytest.raises(ClientError):
        emu.client("ecs", who="restricted").list_clusters()
    entry = emu.ledger()[-1]
    assert entry["identity"] == "arn:aws:iam::123456789012:user/restricted"
    assert entry["fault"] is True
