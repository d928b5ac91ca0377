"""scripts/emulator itself: flags, the export lines, clean shutdown."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from support import ROOT, SCRIPT, start_emulator


def _port(endpoint: str) -> int:
    return int(endpoint.rsplit(":", 1)[1])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(x) for x in out.stdout.split()]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_prints_exports_and_stops_cleanly(sig):
    proc = start_emulator("--region", "eu-west-1", "--iam-propagation-delay", "7")
    try:
        env = proc.env
        assert list(env) == [
            "AWS_ENDPOINT_URL",
            "AWS_REGION",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "RESTRICTED_AWS_ACCESS_KEY_ID",
            "RESTRICTED_AWS_SECRET_ACCESS_KEY",
        ]
        assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        assert env["AWS_REGION"] == "eu-west-1"
        assert env["AWS_ACCESS_KEY_ID"] != env["RESTRICTED_AWS_ACCESS_KEY_ID"]
        assert proc.startup_seconds < 20
        with urllib.request.urlopen(env["AWS_ENDPOINT_URL"] + "/_emulator/config") as r:
            assert json.loads(r.read())["iam_propagation_delay"] == 7
        # exec: the launcher became the server, no wrapper or stray child processes
        assert _children(proc.proc.pid) == []
        with open(f"/proc/{proc.proc.pid}/cmdline", "rb") as f:
            assert b"ecs_anywhere_emulator" in f.read()
    finally:
        started = time.monotonic()
        code = proc.stop(sig)
    assert code == 0, proc.stderr_tail()
    assert time.monotonic() - started < 5
    assert not _pid_alive(proc.proc.pid)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", _port(proc.env["AWS_ENDPOINT_URL"])), timeout=1)
    assert proc.proc.stdout.read() == ""  # nothing after the exports on stdout


def test_fixed_port_and_binding():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = start_emulator("--port", str(port))
    try:
        assert proc.endpoint == f"http://127.0.0.1:{port}"
        out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True)
        if out.returncode == 0:  # only loopback, never 0.0.0.0 or ::
            assert [line.split()[3] for line in out.stdout.splitlines()] == [f"127.0.0.1:{port}"]
    finally:
        assert proc.stop() == 0


def test_setup_only_and_bad_arguments():
    out = subprocess.run([str(SCRIPT), "--setup-only"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0 and out.stdout == ""
    out = subprocess.run([str(SCRIPT), "--bogus"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 2 and "unknown argument" in out.stderr
    out = subprocess.run([str(SCRIPT), "--port"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 2
    out = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0 and "--setup-only" in out.stdout
