"""Every clause of the catalogue is exercised by at least one case or property."""

from __future__ import annotations

import pytest

from conformance.catalogue import load_catalogue
from conformance.coverage import Coverage, measure, property_clauses


@pytest.fixture(scope="module")
def coverage() -> Coverage:
    return measure()


def test_every_clause_has_a_case_or_property(coverage: Coverage) -> None:
    catalogue = load_catalogue()
    # OBSERVE clauses count too: the reference profile declares every observation, so
    # the bundled cases must exercise them (a target without them reports "not observable").
    missing = [c.id for c in catalogue if coverage.total(c.id) == 0]
    assert not missing, f"clauses with no case or property: {', '.join(missing)}"


def test_the_matrix_never_loses_tests(coverage: Coverage) -> None:
    # The matrix multiplies checks, never tests: a check count below the test count
    # would mean expansion lost tests.
    for clause_id, tests in coverage.tests.items():
        assert coverage.checks[clause_id] >= tests, clause_id


def test_property_markers_are_read_without_importing(tmp_path: object) -> None:
    from pathlib import Path

    module = Path(str(tmp_path)) / "test_props.py"
    module.write_text(
        "import pytest\n"
        "@pytest.mark.clauses('L-L2', 'L-T14')\n"
        "def test_a(): pass\n"
        "@pytest.mark.clauses('L-L2')\n"
        "def test_b(): pass\n"
        "import hypothesis_that_does_not_exist\n",
        encoding="utf-8",
    )
    assert property_clauses([module]) == {"L-L2": 2, "L-T14": 1}
