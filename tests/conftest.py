"""Shared fixtures: a live reference server for tests that drive it over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance.profile import bundled_profile_path, load_profile, resolve_secrets
from conformance.reference.server import ReferenceServer


@pytest.fixture(scope="session")
def reference() -> Iterator[ReferenceServer]:
    """The bundled reference on a free loopback port, with fresh random secrets."""
    profile = load_profile(bundled_profile_path())
    secrets = resolve_secrets(profile, {}, generate_missing=True)
    with ReferenceServer(profile, secrets) as server:
        yield server
