"""State the extension keeps beside moto's backends: activations, managed
nodes, IAM propagation marks, deregistered container instances, the ledger,
fault rules and run-time configuration."""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from .clock import iso


@dataclass
class Config:
    iam_propagation_delay: float = 0.0
    ping_timeout: float = 300.0
    heartbeat_timeout: float = 60.0

    KEYS = ("iam_propagation_delay", "ping_timeout", "heartbeat_timeout")

    def as_dict(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in self.KEYS}

    def update(self, values: dict[str, Any]) -> None:
        unknown = set(values) - set(self.KEYS)
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        for k, v in values.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                raise ValueError(f"{k} must be a non-negative number")
        for k, v in values.items():
            setattr(self, k, float(v))


@dataclass
class Activation:
    activation_id: str
    code: str
    region: str
    account_id: str
    iam_role: str
    description: str | None
    default_instance_name: str | None
    registration_limit: int
    expiration: float
    created: float
    tags: list[dict[str, str]]
    registrations_count: int = 0


@dataclass
class ManagedNode:
    instance_id: str
    region: str
    account_id: str
    activation_id: str
    iam_role: str
    registration_date: float
    public_key: str
    public_key_type: str
    fingerprint: str
    name: str | None
    tags: dict[str, str]
    last_ping: float | None = None
    agent_version: str | None = None
    agent_name: str | None = None
    agent_status: str | None = None
    platform_type: str | None = None
    platform_name: str | None = None
    platform_version: str | None = None
    ip_address: str | None = None
    computer_name: str | None = None
    deregistered: bool = False
    deregistered_at: float | None = None
    last_token_at: float | None = None


@dataclass
class InactiveContainerInstance:
    """A deregistered container instance, still describable for a while."""

    account_id: str
    region: str
    cluster_name: str
    instance: Any  # the ContainerInstance object, status INACTIVE
    deregistered_at: float


class ExtensionState:
    def __init__(self) -> None:
        self.activations: dict[str, Activation] = {}
        self.nodes: dict[str, ManagedNode] = {}
        self.role_changed: dict[str, float] = {}
        self.inactive_cis: dict[str, InactiveContainerInstance] = {}

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]


class Ledger:
    def __init__(self) -> None:
        self._entries: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            entry["seq"] = len(self._entries) + 1
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._entries]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


@dataclass
class FaultRule:
    service: str = "*"
    operation: str = "*"
    error: str | None = None
    status: int | None = None
    message: str | None = None
    count: int | None = None
    probability: float = 1.0
    latency_ms: float = 0.0
    fired: int = 0

    def matches(self, service: str, operation: str) -> bool:
        return self.service in ("*", service) and self.operation in ("*", operation)

    def exhausted(self) -> bool:
        return self.count is not None and self.fired >= self.count


_RULE_KEYS = {"service", "operation", "error", "status", "message", "count", "probability", "latency_ms"}


def parse_rule(raw: Any) -> FaultRule:
    if not isinstance(raw, dict):
        raise ValueError("each rule must be a JSON object")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise ValueError(f"unknown rule keys: {sorted(unknown)}")
    rule = FaultRule()
    for key in ("service", "operation"):
        v = raw.get(key, "*")
        if v is None:
            v = "*"
        if not isinstance(v, str) or not v:
            raise ValueError(f"{key} must be a non-empty string")
        setattr(rule, key, v)
    err = raw.get("error")
    if err is not None and (not isinstance(err, str) or not err):
        raise ValueError("error must be a non-empty string")
    rule.error = err
    status = raw.get("status")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599):
        raise ValueError("status must be an integer 400..599")
    rule.status = status
    msg = raw.get("message")
    if msg is not None and not isinstance(msg, str):
        raise ValueError("message must be a string")
    rule.message = msg
    count = raw.get("count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
        raise ValueError("count must be a non-negative integer")
    rule.count = count
    prob = raw.get("probability", 1.0)
    if isinstance(prob, bool) or not isinstance(prob, (int, float)) or not 0.0 <= prob <= 1.0:
        raise ValueError("probability must be a number 0..1")
    rule.probability = float(prob)
    lat = raw.get("latency_ms", 0)
    if isinstance(lat, bool) or not isinstance(lat, (int, float)) or lat < 0:
        raise ValueError("latency_ms must be a non-negative number")
    rule.latency_ms = float(lat)
    if rule.error is None and rule.latency_ms == 0:
        raise ValueError("a rule needs an error, a latency_ms, or both")
    return rule


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seed: int | None = None
        self.rules: list[FaultRule] = []
        self._rng = random.Random()

    def replace(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise ValueError("body must be a JSON object")
        unknown = set(body) - {"seed", "rules"}
        if unknown:
            raise ValueError(f"unknown keys: {sorted(unknown)}")
        seed = body.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError("seed must be an integer")
        raw_rules = body.get("rules", [])
        if not isinstance(raw_rules, list):
            raise ValueError("rules must be a list")
        rules = [parse_rule(r) for r in raw_rules]
        with self._lock:
            self.seed = seed
            self.rules = rules
            self._rng = random.Random(seed)

    def clear(self) -> None:
        with self._lock:
            self.seed = None
            self.rules = []
            self._rng = random.Random()

    def pick(self, service: str, operation: str) -> tuple[float, FaultRule | None]:
        """Total injected latency (ms) and the error rule that fires, if any.

        Rules are tried in order; latency-only rules add up and the first
        error rule that fires ends the search."""
        latency = 0.0
        with self._lock:
            for rule in self.rules:
                if not rule.matches(service, operation) or rule.exhausted():
                    continue
                if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                latency += rule.latency_ms
                if rule.error:
                    return latency, rule
        return latency, None

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "seed": self.seed,
                "rules": [asdict(r) for r in self.rules],
            }


def ledger_entry(
    *,
    service: str,
    operation: str,
    identity: str,
    status: int,
    error: str | None,
    duration_ms: float,
    started: float,
    region: str | None,
    request_id: str,
    fault: bool,
) -> dict[str, Any]:
    return {
        "service": service,
        "operation": operation,
        "identity": identity,
        "status": status,
        "error": error,
        "duration_ms": round(duration_ms, 3),
        "time": iso(started),
        "region": region,
        "request_id": request_id,
        "fault": fault,
    }
