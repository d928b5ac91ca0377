"""What an extended operation's handler gets to work with."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from . import auth
from .errors import AwsError
from .resources import managed_instance_arn, ssm_arn

if TYPE_CHECKING:
    from .app import Emulator
    from .state import ManagedNode

FORWARD = object()  # a handler's answer meaning "let moto handle this call"


@dataclass
class CallCtx:
    app: "Emulator"
    service: str
    operation: str
    protocol: str
    payload: dict[str, Any]
    region: str
    account: str
    partition: str
    caller: auth.Caller | None = None
    node: "ManagedNode | None" = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def now(self) -> float:
        return self.app.clock.now()

    @property
    def config(self):
        return self.app.config

    @property
    def state(self):
        return self.app.ext

    def authorize(self, action: str, resource: str, extra_ctx: Mapping[str, Any] | None = None) -> None:
        if self.caller is None:
            raise auth.auth_error("missing", self.protocol)
        auth.authorize(self.caller, action, resource, self.protocol, extra_ctx)

    def ssm_arn(self, resource: str = "*") -> str:
        return ssm_arn(self.partition, self.region, self.account, resource)

    def managed_instance_arn(self, instance_id: str) -> str:
        return managed_instance_arn(self.partition, self.region, self.account, instance_id)


def encode_token(offset: int, salt: str) -> str:
    raw = json.dumps({"o": offset, "s": salt}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_token(token: Any, salt: str, error: AwsError) -> int:
    if not isinstance(token, str) or not token:
        raise error
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        if data.get("s") != salt or not isinstance(data.get("o"), int) or data["o"] < 0:
            raise ValueError
        return data["o"]
    except (ValueError, TypeError, AttributeError):
        raise error from None
