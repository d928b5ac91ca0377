"""A minimal client for the SSM agent's side of hybrid activation, using
only the standard library and `cryptography`: what a stand-in agent needs to
talk to the emulator (or to AWS) the way amazon-ssm-agent does."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from . import nodeauth

JSON_TYPE = "application/x-amz-json-1.1"


class AgentCallError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def _post(url: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
            return json.loads(raw) if raw else {}
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            data = json.loads(raw)
        except ValueError:
            data = {}
        code = str(data.get("__type") or e.headers.get("x-amzn-ErrorType") or e.code).split("#")[-1]
        message = data.get("message") or data.get("Message") or raw.decode("utf-8", "replace")
        raise AgentCallError(e.code, code, message) from None


@dataclass
class ManagedNodeClient:
    endpoint: str  # e.g. http://127.0.0.1:PORT (the SSM endpoint)
    region: str
    private_key: rsa.RSAPrivateKey = field(default_factory=nodeauth.generate_key)
    fingerprint: str = "emulator-test-fingerprint"
    instance_id: str | None = None

    @property
    def url(self) -> str:
        return self.endpoint.rstrip("/") + "/"

    def register(self, activation_id: str, activation_code: str) -> str:
        body = json.dumps(
            {
                "ActivationCode": activation_code,
                "ActivationId": activation_id,
                "PublicKey": nodeauth.encode_public_key(self.private_key),
                "PublicKeyType": "Rsa",
                "Fingerprint": self.fingerprint,
            }
        ).encode()
        headers = {"Content-Type": JSON_TYPE, "X-Amz-Target": "AmazonSSM.RegisterManagedInstance"}
        self.instance_id = _post(self.url, headers, body)["InstanceId"]
        return self.instance_id

    def _rsa_call(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.instance_id, "register first"
        body = json.dumps(payload).encode()
        headers = nodeauth.sign_request(
            url=self.url,
            region=self.region,
            instance_id=self.instance_id,
            private_key=self.private_key,
            body=body,
            headers={"Content-Type": JSON_TYPE, "X-Amz-Target": f"AmazonSSM.{operation}"},
        )
        return _post(self.url, headers, body)

    def request_role_token(self) -> dict[str, Any]:
        return self._rsa_call("RequestManagedInstanceRoleToken", {"Fingerprint": self.fingerprint})

    def update_public_key(self, new_key: rsa.RSAPrivateKey) -> None:
        self._rsa_call(
            "UpdateManagedInstancePublicKey",
            {"NewPublicKey": nodeauth.encode_public_key(new_key), "NewPublicKeyType": "Rsa"},
        )
        self.private_key = new_key

    def update_instance_information(self, credentials: dict[str, Any], **fields: str) -> None:
        payload = {"InstanceId": self.instance_id, **fields}
        body = json.dumps(payload).encode()
        headers = nodeauth.sign_request_hmac(
            url=self.url,
            region=self.region,
            access_key_id=credentials["AccessKeyId"],
            secret_access_key=credentials["SecretAccessKey"],
            session_token=credentials.get("SessionToken"),
            body=body,
            headers={"Content-Type": JSON_TYPE, "X-Amz-Target": "AmazonSSM.UpdateInstanceInformation"},
        )
        _post(self.url, headers, body)
