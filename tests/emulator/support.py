"""Test helpers: start scripts/emulator, talk to its control endpoints, and
build boto3 clients for the admin, restricted and managed-node identities."""

from __future__ import annotations

import json
import os
import pathlib
import queue
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.config
import botocore.exceptions

from ecs_anywhere_emulator.agent import ManagedNodeClient

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "emulator"
NO_RETRY = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"}, parameter_validation=False)

SSM_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ssm.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
SSM_CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
ECS_FOR_EC2 = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"


@dataclass
class EmulatorProcess:
    proc: subprocess.Popen
    env: dict[str, str]
    stderr_path: str
    startup_seconds: float

    @property
    def endpoint(self) -> str:
        return self.env["AWS_ENDPOINT_URL"]

    @property
    def region(self) -> str:
        return self.env["AWS_REGION"]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def stderr_tail(self) -> str:
        try:
            return pathlib.Path(self.stderr_path).read_text()[-4000:]
        except OSError:
            return ""


def start_emulator(*args: str, timeout: float = 120) -> EmulatorProcess:
    """Run scripts/emulator and wait for its six export lines."""
    err = tempfile.NamedTemporaryFile(prefix="emulator-", suffix=".log", delete=False)
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(SCRIPT), *args],
        stdout=subprocess.PIPE,
        stderr=err,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=str(ROOT),
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    env: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while len(env) < 6:
        remaining = deadline - time.monotonic()
        try:
            line = lines.get(timeout=max(remaining, 0.01))
        except queue.Empty:
            proc.kill()
            raise RuntimeError(f"emulator did not start in {timeout}s:\n{pathlib.Path(err.name).read_text()}")
        if line is None:
            raise RuntimeError(f"emulator exited early ({proc.wait()}):\n{pathlib.Path(err.name).read_text()}")
        line = line.strip()
        assert line.startswith("export "), f"unexpected stdout line: {line!r}"
        key, value = line[len("export ") :].split("=", 1)
        env[key] = value
    return EmulatorProcess(proc, env, err.name, time.monotonic() - started)


@dataclass
class Emu:
    """A running emulator plus helpers; one per test session."""

    process: EmulatorProcess
    _keys: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        return self.process.endpoint

    @property
    def region(self) -> str:
        return self.process.region

    # control endpoints
    def control(self, method: str, name: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.endpoint}/_emulator/{name}", data=data, method=method)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def get(self, name: str) -> Any:
        status, data = self.control("GET", name)
        assert status == 200, data
        return data

    def post(self, name: str, body: Any = None) -> Any:
        status, data = self.control("POST", name, body if body is not None else {})
        assert status == 200, data
        return data

    def reset(self) -> None:
        self.post("reset")

    def ledger(self) -> list[dict[str, Any]]:
        return self.get("ledger")

    def advance(self, seconds: float) -> None:
        self.post("clock", {"advance": seconds})

    def configure(self, **values: float) -> dict[str, Any]:
        return self.post("config", values)

    def faults(self, rules: list[dict[str, Any]], seed: int | None = 1) -> dict[str, Any]:
        return self.post("faults", {"seed": seed, "rules": rules})

    # identities
    def session(self, who: str = "admin") -> boto3.Session:
        e = self.process.env
        if who == "admin":
            key, secret = e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"]
        elif who == "restricted":
            key, secret = e["RESTRICTED_AWS_ACCESS_KEY_ID"], e["RESTRICTED_AWS_SECRET_ACCESS_KEY"]
        else:
            raise ValueError(who)
        return boto3.Session(aws_access_key_id=key, aws_secret_access_key=secret, region_name=self.region)

    def client(self, service: str, who: str = "admin", config: botocore.config.Config = NO_RETRY):
        return self.session(who).client(service, endpoint_url=self.endpoint, config=config)

    def credentials_session(self, creds: dict[str, Any]) -> boto3.Session:
        return boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=self.region,
        )

    def node_client(self, service: str, creds: dict[str, Any], config: botocore.config.Config = NO_RETRY):
        return self.credentials_session(creds).client(service, endpoint_url=self.endpoint, config=config)

    # fixtures-as-functions
    def make_role(
        self,
        name: str = "ecsAnywhereRole",
        trust: dict[str, Any] | None = None,
        policies: tuple[str, ...] = (SSM_CORE, ECS_FOR_EC2),
    ) -> str:
        iam = self.client("iam")
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust or SSM_TRUST))
        for arn in policies:
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        return name

    def make_activation(self, role: str = "ecsAnywhereRole", **kwargs: Any) -> dict[str, str]:
        out = self.client("ssm").create_activation(IamRole=role, **kwargs)
        return {"ActivationId": out["ActivationId"], "ActivationCode": out["ActivationCode"]}

    def agent(self) -> ManagedNodeClient:
        return ManagedNodeClient(endpoint=self.endpoint, region=self.region)

    def register_node(self, activation: dict[str, str]) -> ManagedNodeClient:
        agent = self.agent()
        agent.register(activation["ActivationId"], activation["ActivationCode"])
        return agent


def error_of(excinfo: Any) -> tuple[str, str, int]:
    """(code, message, http status) of a botocore ClientError."""
    e = excinfo.value
    assert isinstance(e, botocore.exceptions.ClientError), e
    return (
        e.response["Error"]["Code"],
        e.response["Error"].get("Message", ""),
        e.response["ResponseMetadata"]["HTTPStatusCode"],
    )
