"""Running the suite as a user does: ``python -m pytest --target PROFILE`` in a subprocess.

A subprocess keeps each run's plugin state, embedded reference and xdist workers apart
from the test that asks for it, and shows what a user sees: the terminal output, the
event file and the JUnit XML.  ``probe=True`` loads :mod:`tests.safety.probe` into the
run, which reports what the embedded reference received and what it holds afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from conformance.profile import bundled_profile_path, load_profile

REPO = Path(__file__).resolve().parents[2]
#: Generous: a bounded run takes seconds; this only stops a hung one from hanging CI.
RUN_TIMEOUT = 240.0
#: Variables of the test's own pytest (an xdist worker's, perhaps) that must not leak
#: into the run under test.
_INHERITED = ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_CURRENT_TEST", "PYTEST_ADDOPTS")


@dataclass
class SuiteRun:
    returncode: int
    stdout: str
    stderr: str
    events: list[dict[str, Any]]
    junit: str
    probes: list[dict[str, Any]]

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def checks(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == "check"]

    @property
    def header(self) -> dict[str, Any]:
        return self.events[0]

    @property
    def footer(self) -> dict[str, Any]:
        assert self.events[-1]["event"] == "footer", self.output[-3000:]
        return self.events[-1]

    def check(self, test: str) -> dict[str, Any]:
        """The one check event whose test description is ``test``."""
        found = [e for e in self.checks if e.get("test") == test]
        assert len(found) == 1, f"{len(found)} checks named {test!r}; output:\n{self.output[-3000:]}"
        return found[0]

    def received(self) -> dict[str, int]:
        """Requests the embedded reference(s) received, by API method (probe runs only)."""
        counts: dict[str, int] = {}
        for probe in self.probes:
            for name, n in probe["received"].items():
                counts[name] = counts.get(name, 0) + n
        return counts


def write_profile(directory: Path, name: str, **changes: Any) -> Path:
    """A copy of the bundled reference profile with top-level keys changed."""
    data = yaml.safe_load(bundled_profile_path().read_text(encoding="utf-8"))
    data.update(changes)
    data["name"] = name
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def credentials_env(profile: Path, prefix: str) -> dict[str, str]:
    """A distinct value for every credential the profile names: ``<prefix>-<VARIABLE>``."""
    return {c.env: f"{prefix}-{c.env}" for c in load_profile(profile).credentials()}


def run_suite(
    directory: Path,
    profile: Path,
    *args: str,
    env: dict[str, str] | None = None,
    probe: bool = False,
    timeout: float = RUN_TIMEOUT,
) -> SuiteRun:
    """Run the suite against ``profile``; ``args`` are pytest's (case files, -n, -k...)."""
    events = directory / "run.jsonl"
    junit = directory / "junit.xml"
    probes = directory / "probes"
    command = [
        sys.executable,
        "-m",
        "pytest",
        *args,
        "--target",
        str(profile),
        "--events",
        str(events),
        f"--junitxml={junit}",
        "-p",
        "no:cacheprovider",
        "-q",
    ]
    environ = {
        k: v for k, v in os.environ.items() if k not in _INHERITED and not k.startswith("CONFORMANCE_")
    }
    environ.update(env or {})
    if probe:
        command += ["-p", "tests.safety.probe"]
        probes.mkdir(exist_ok=True)
        environ["CONFORMANCE_PROBE_DIR"] = str(probes)
    done = subprocess.run(
        command, cwd=REPO, env=environ, capture_output=True, text=True, timeout=timeout, check=False
    )
    lines = events.read_text(encoding="utf-8").split("\n") if events.exists() else []
    return SuiteRun(
        returncode=done.returncode,
        stdout=done.stdout,
        stderr=done.stderr,
        events=[json.loads(line) for line in lines if line.strip()],
        junit=junit.read_text(encoding="utf-8") if junit.exists() else "",
        probes=[json.loads(p.read_text(encoding="utf-8")) for p in sorted(probes.glob("*.json"))]
        if probe
        else [],
    )
