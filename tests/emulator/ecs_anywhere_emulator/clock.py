"""The emulator clock: wall time plus an offset that tests move forward.

Everything the extension decides by time (activation and credential expiry,
ping status, agent heartbeats, IAM propagation) reads this clock."""

from __future__ import annotations

import datetime as _dt
import threading
import time


class Clock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def now_dt(self) -> _dt.datetime:
        return _dt.datetime.fromtimestamp(self.now(), tz=_dt.timezone.utc)

    def now_naive_utc(self) -> _dt.datetime:
        """moto keeps naive UTC datetimes; compare with those through this."""
        return self.now_dt().replace(tzinfo=None)

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0

    def describe(self) -> dict:
        now = self.now()
        return {
            "now": iso(now),
            "epoch": now,
            "offset": self.offset,
        }


def iso(epoch: float) -> str:
    return (
        _dt.datetime.fromtimestamp(epoch, tz=_dt.timezone.utc)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )
