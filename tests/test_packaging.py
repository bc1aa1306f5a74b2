"""The wheel is a working suite: schemas, cases and profiles travel inside it.

Built once (hatchling, no isolation: the build backend is a dev dependency) and
installed with ``pip --target`` into a temporary folder, then run from a directory
that is not the source tree, so nothing can be picked up from the checkout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(dist.glob("conformance-*.whl"))
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return target


def run(installed: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(installed)}
    return subprocess.run(
        [sys.executable, "-m", "conformance", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_wheel_carries_schemas_cases_and_profiles(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    names = zipfile.ZipFile(next(dist.glob("*.whl"))).namelist()
    for expected in (
        "conformance/schemas/clauses.yaml",
        "conformance/schemas/case.schema.json",
        "conformance/schemas/luminate/crm.public.v1.xsd",
        "conformance/schemas/kognitiv/Interaction.wsdl",
        "conformance/profiles/reference.yaml",
    ):
        assert expected in names
    assert any(n.startswith("conformance/cases/") and n.endswith(".yaml") for n in names)


def test_help_works_outside_the_source_tree(installed: Path, tmp_path: Path) -> None:
    result = run(installed, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for command in ("run", "serve", "check-cases", "clauses", "report", "gate", "selftest"):
        assert command in result.stdout


def test_the_installed_package_is_the_one_used(installed: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(installed)}
    where = subprocess.run(
        [
            sys.executable,
            "-c",
            "import conformance.resources as r; print(r.schema_dir()); print(r.cases_dir())",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all(Path(p).is_relative_to(installed) for p in where), where


def test_bundled_cases_check_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    result = run(installed, "check-cases", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ", 0 broken" in result.stdout


def test_example_profile_is_valid() -> None:
    from conformance.profile import load_profile

    profile = load_profile(ROOT / "examples" / "staging.yaml")
    assert profile.luminate is not None and profile.kognitiv is not None
    assert profile.writes_allowed and not profile.embedded
