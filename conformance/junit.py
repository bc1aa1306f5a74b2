"""Errored checks as ``<error>`` in pytest's JUnit XML.

pytest writes a failure in the call phase as ``<failure>``; for a check whose verdict
is *errored* (the connection or the suite broke, nothing is known about the clause)
that would tell CI the target broke a clause.  After pytest has written the file we
turn those testcases' ``<failure>`` into ``<error>`` and fix the counts, so JUnit keeps
failed and errored apart as the events and the report do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path


def junit_address(nodeid: str) -> tuple[str, str]:
    """(classname, name) as pytest's junitxml derives them from a node id."""
    names = nodeid.split("::")
    names[0] = re.sub(r"\.py$", "", names[0].replace("/", "."))
    return ".".join(names[:-1]), names[-1]


def mark_errored(path: Path, nodeids: Iterable[str]) -> int:
    """Rewrite ``path`` in place; returns how many testcases were changed."""
    from lxml import etree

    wanted = {junit_address(n) for n in nodeids}
    # Our own file, just written by pytest: no entities to fear, but keep the parser strict.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    tree = etree.parse(str(path), parser)
    changed = 0
    for suite in tree.iter("testsuite"):
        moved = 0
        for case in suite.iter("testcase"):
            if (case.get("classname", ""), case.get("name", "")) not in wanted:
                continue
            for failure in case.findall("failure"):
                failure.tag = "error"
                moved += 1
        if moved:
            suite.set("failures", str(max(0, int(suite.get("failures", "0")) - moved)))
            suite.set("errors", str(int(suite.get("errors", "0")) + moved))
            changed += moved
    if changed:
        tree.write(str(path), encoding="utf-8", xml_declaration=True)
    return changed
