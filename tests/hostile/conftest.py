"""The hostile fake target, and a profile that points the suite at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.profile import bundled_profile_path
from tests.hostile.server import HostileServer
from tests.safety.run import write_profile

# The case files here are data for a suite run against the hostile server (given by
# path to that run); ``pytest --conformance tests`` must not run them against the
# embedded reference, where they would fail by design.
collect_ignore_glob = ["cases/*.yaml"]


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


def hostile_profile(directory: Path, server: HostileServer, **changes: Any) -> Path:
    """The bundled reference profile, moved to the hostile server, with short timeouts.

    The read timeout of 1 s is what the stall scenarios outlast; the overall deadline
    (connect + read, 2 s) is what the trickles outlast.
    """
    bundled = yaml.safe_load(bundled_profile_path().read_text(encoding="utf-8"))
    luminate = {**bundled["luminate"], "site": f"{server.base_url}/site"}
    kognitiv = {**bundled["kognitiv"], "service": f"{server.base_url}/Services/Interaction.asmx"}
    settings: dict[str, Any] = {
        "embedded": False,
        "timeouts": {"connect": 1, "read": 1},
        "hosts": ["127.0.0.1"],
        "luminate": luminate,
        "kognitiv": kognitiv,
        **changes,
    }
    return write_profile(directory, "hostile", **settings)
