"""The unsigned control endpoints under /_emulator/ (never in the ledger).

GET  /_emulator/health   {"ok": true}
GET  /_emulator/ledger   [entry, ...]
POST /_emulator/reset    fresh state, same admin/restricted keys
GET  /_emulator/faults   {"seed": .., "rules": [{.., "fired": n}]}
POST /_emulator/faults   {"seed": 42, "rules": [...]} replaces the rules
GET  /_emulator/config   {"iam_propagation_delay": .., "ping_timeout": .., "heartbeat_timeout": ..}
POST /_emulator/config   partial update of the same keys
GET  /_emulator/clock    {"now": iso, "epoch": s, "offset": s}
POST /_emulator/clock    {"advance": seconds}"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import Emulator


def _json(status: int, data: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    body = json.dumps(data, indent=None).encode()
    return status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], body


def _bad(message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    return _json(400, {"error": message})


def _load(body: bytes) -> Any:
    if not body.strip():
        return {}
    return json.loads(body)


def handle(app: "Emulator", environ: dict[str, Any], body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    method = environ.get("REQUEST_METHOD", "GET")
    name = environ.get("PATH_INFO", "").rstrip("/").rsplit("/", 1)[-1]
    try:
        payload = _load(body) if method == "POST" else None
    except ValueError:
        return _bad("body must be JSON")

    if name == "health" and method == "GET":
        return _json(200, {"ok": True})
    if name == "ledger" and method == "GET":
        return _json(200, app.ledger.entries())
    if name == "reset" and method == "POST":
        app.reset()
        return _json(200, {"ok": True})
    if name == "faults":
        if method == "GET":
            return _json(200, app.faults.describe())
        if method == "POST":
            try:
                app.faults.replace(payload)
            except ValueError as e:
                return _bad(str(e))
            return _json(200, app.faults.describe())
    if name == "config":
        if method == "GET":
            return _json(200, app.config.as_dict())
        if method == "POST":
            if not isinstance(payload, dict):
                return _bad("body must be a JSON object")
            try:
                with app.lock:
                    app.config.update(payload)
            except ValueError as e:
                return _bad(str(e))
            return _json(200, app.config.as_dict())
    if name == "clock":
        if method == "GET":
            return _json(200, app.clock.describe())
        if method == "POST":
            if not isinstance(payload, dict) or set(payload) - {"advance"}:
                return _bad('body must be {"advance": seconds}')
            advance = payload.get("advance", 0)
            if isinstance(advance, bool) or not isinstance(advance, (int, float)) or advance < 0:
                return _bad("advance must be a non-negative number of seconds")
            app.clock.advance(float(advance))
            return _json(200, app.clock.describe())
    return _json(404, {"error": f"no control endpoint {method} {environ.get('PATH_INFO')}"})
