"""Shared pieces of the engine's own tests: data files in tmp_path, pytest in a subprocess.

Most tests call the engine in-process.  A subprocess is used only where the point is
what a user sees end to end (the pytest plugin's collection, verdicts and messages), and
it runs with a clean environment: no ``CONFORMANCE_*`` values of the calling shell, no
``PYTEST_*`` variables of the outer (possibly xdist) run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from conformance.catalogue import load_catalogue
from conformance.profile import Profile, bundled_profile_path, load_profile

RunPytest = Callable[..., subprocess.CompletedProcess[str]]
Write = Callable[[str, str], Path]


@pytest.fixture(scope="session")
def clause_ids() -> tuple[str, ...]:
    return load_catalogue().ids()


@pytest.fixture(scope="session")
def reference_profile() -> Profile:
    """The bundled reference profile as loaded (nothing started)."""
    return load_profile(bundled_profile_path())


@pytest.fixture
def write(tmp_path: Path) -> Write:
    """Write a (dedented) data file into tmp_path and return its path."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


def profile_copy(path: Path, *, base: str | None = None, embedded: bool = False, **changes: str) -> Path:
    """The bundled reference profile, written to ``path`` with its endpoints moved to ``base``.

    ``changes`` replaces single lines by their key (``timeouts="{connect: 1, read: 1}"``).
    """
    lines = []
    for original in bundled_profile_path().read_text(encoding="utf-8").splitlines():
        key = original.split(":", 1)[0]
        line = original
        if key == "embedded":
            line = f"embedded: {'true' if embedded else 'false'}"
        elif key in changes:
            line = f"{key}: {changes.pop(key)}"
        if base is not None:
            line = line.replace("http://127.0.0.1:8750", base)
        lines.append(line)
    assert not changes, f"no such top-level key in the bundled profile: {sorted(changes)}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def credential_names(profile: Profile) -> list[str]:
    return sorted({c.env for c in profile.credentials()})


def run_pytest_in(
    cwd: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m pytest ARGS`` in ``cwd`` with a clean environment plus ``env``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CONFORMANCE_"))}
    clean.update(env or {})
    command = [
        sys.executable,
        "-m",
        "pytest",
        *args,
        "-p",
        "no:cacheprovider",
        "-c",
        os.devnull,
        "--rootdir",
        str(cwd),
    ]
    return subprocess.run(
        command, cwd=cwd, env=clean, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def run_pytest(tmp_path: Path) -> RunPytest:
    """``run_pytest_in`` tmp_path."""

    def run(
        *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return run_pytest_in(tmp_path, *args, env=env, timeout=timeout)

    return run
