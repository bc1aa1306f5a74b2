"""How well the bundled cases and properties cover the clause catalogue.

Cases are counted from the case files (tests, and checks after matrix expansion);
properties from the ``@pytest.mark.clauses(...)`` markers in the property modules,
read with ``ast`` so counting never imports hypothesis or runs anything.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from conformance.casefile import discover, load_case_file
from conformance.catalogue import Catalogue, load_catalogue
from conformance.plan import expand
from conformance.resources import cases_dir


@dataclass
class Coverage:
    tests: dict[str, int] = field(default_factory=dict)
    checks: dict[str, int] = field(default_factory=dict)
    properties: dict[str, int] = field(default_factory=dict)

    def total(self, clause_id: str) -> int:
        return self.tests.get(clause_id, 0) + self.properties.get(clause_id, 0)


def property_clauses(paths: Iterable[Path]) -> dict[str, int]:
    """Clause IDs named by ``pytest.mark.clauses(...)`` in Python files under ``paths``."""
    counts: dict[str, int] = {}
    for root in paths:
        files = sorted(root.rglob("*.py")) if root.is_dir() else [root]
        for path in files:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "clauses"
                ):
                    for arg in node.args:
                        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                            counts[arg.value] = counts.get(arg.value, 0) + 1
    return counts


def measure(extra: Iterable[Path] = (), catalogue: Catalogue | None = None) -> Coverage:
    catalogue = catalogue or load_catalogue()
    ids = catalogue.ids()
    coverage = Coverage({cid: 0 for cid in ids}, {cid: 0 for cid in ids}, {})
    roots = [cases_dir(), *extra]
    for path in discover(roots):
        for case in load_case_file(path, ids):
            for test in case.tests:
                for cid in test.clauses:
                    coverage.tests[cid] += 1
            for check in expand(case):
                for cid in check.clauses:
                    coverage.checks[cid] += 1
    coverage.properties = property_clauses(r for r in roots if r.exists())
    return coverage
