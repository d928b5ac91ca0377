"""One emulator per test session (scripts/emulator on a free port), reset
before every test."""

from __future__ import annotations

import pytest

from support import Emu, start_emulator


@pytest.fixture(scope="session")
def emu_session():
    process = start_emulator("--port", "0")
    emu = Emu(process)
    try:
        yield emu
    finally:
        code = process.stop()
        assert code == 0, f"emulator exited with {code}:\n{process.stderr_tail()}"


@pytest.fixture
def emu(emu_session: Emu) -> Emu:
    emu_session.reset()
    return emu_session


@pytest.fixture
def role(emu: Emu) -> str:
    return emu.make_role()


@pytest.fixture
def activation(emu: Emu, role: str) -> dict[str, str]:
    return emu.make_activation(role, RegistrationLimit=5, DefaultInstanceName="edge", Tags=[{"Key": "team", "Value": "infra"}])


@pytest.fixture
def node(emu: Emu, activation: dict[str, str]):
    return emu.register_node(activation)


@pytest.fixture
def node_creds(node) -> dict:
    return node.request_role_token()


@pytest.fixture
def cluster(emu: Emu) -> str:
    emu.client("ecs").create_cluster(clusterName="edge")
    return "edge"
