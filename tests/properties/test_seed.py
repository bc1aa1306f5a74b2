"""A run's hypothesis seed: recorded in the header event, printed with the command that
replays the run, and enough to replay it (the same seed draws the same examples).

The Kognitiv property runs against the embedded reference in subprocesses, as a user
would run it; it is the cheapest property (no records to create).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
KOGNITIV = REPO / "cases" / "properties" / "test_properties_kognitiv.py"


@dataclass(frozen=True)
class Run:
    output: str
    header: dict[str, object]

    def draws(self) -> list[str]:
        """The examples hypothesis tried, with memory addresses (which differ) removed."""
        return [re.sub("0x[0-9a-f]+", "0x", line) for line in self.output.splitlines() if "Draw " in line]


def _run(events: Path, *extra: str) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CONFORMANCE_"))}
    command = [
        sys.executable, "-m", "pytest", str(KOGNITIV), "--conformance", "-p", "no:cacheprovider",
        "-p", "no:xdist", "--events", str(events), "--hypothesis-verbosity=verbose", "-s", *extra,
    ]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=REPO, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    header = json.loads(events.read_text(encoding="utf-8").splitlines()[0])
    return Run(done.stdout, header)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    tmp = tmp_path_factory.mktemp("seed")
    plan = {
        "seed 123": ("--hypothesis-seed=123",),
        "seed 123 again": ("--hypothesis-seed", "123"),
        "no seed": (),
    }
    with ThreadPoolExecutor(max_workers=len(plan)) as pool:
        futures = {
            name: pool.submit(_run, tmp / f"{i}.jsonl", *args) for i, (name, args) in enumerate(plan.items())
        }
        return {name: future.result() for name, future in futures.items()}


def test_a_given_seed_is_recorded_and_printed_with_the_replay_command(runs: dict[str, Run]) -> None:
    run = runs["seed 123"]
    assert run.header["seed"] == 123
    assert "conformance: hypothesis seed 123 (budget quick); replay the run:" in run.output
    assert re.search(r"python -m pytest .*test_properties_kognitiv\.py .*--hypothesis-seed=123\n", run.output)


def test_the_same_seed_draws_the_same_examples(runs: dict[str, Run]) -> None:
    first, again = runs["seed 123"].draws(), runs["seed 123 again"].draws()
    assert first, "no examples in the verbose output"
    assert first == again
    assert runs["seed 123 again"].header["seed"] == 123


def test_without_a_seed_one_is_drawn_recorded_and_printed(runs: dict[str, Run]) -> None:
    run = runs["no seed"]
    seed = run.header["seed"]
    assert isinstance(seed, int)
    assert f"conformance: hypothesis seed {seed} (budget quick)" in run.output
    assert f"--hypothesis-seed={seed}" in run.output
    assert run.draws() != runs["seed 123"].draws()
