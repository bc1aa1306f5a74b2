"""The comparison of two runs of the same suite, check by check and clause by clause.

Checks are matched by their id (the pytest node id, stable for a case file, a test
description and a variant).  Raw verdicts are compared, not waived standings: a
waiver changes whether the gate passes, not whether the target behaves differently.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.summary import CheckResult, RunSummary


@dataclass(frozen=True)
class CheckChange:
    id: str
    old: str | None
    new: str | None
    check: CheckResult


@dataclass(frozen=True)
class ClauseChange:
    clause: str
    title: str
    old: str
    new: str


@dataclass(frozen=True)
class Comparison:
    old_run: str
    old_started: str
    old_state: str
    new_state: str
    #: Failing now and not before (``old`` None: a new check that fails).
    new_failures: tuple[CheckChange, ...]
    #: Failing before, passing now.
    fixed: tuple[CheckChange, ...]
    unchanged_failures: tuple[CheckChange, ...]
    #: Any other change of verdict (e.g. failed to errored, passed to skipped).
    other_changes: tuple[CheckChange, ...]
    new_checks: tuple[CheckChange, ...]
    removed_checks: tuple[CheckChange, ...]
    clause_changes: tuple[ClauseChange, ...]

    @property
    def unchanged(self) -> bool:
        return not (self.new_failures or self.fixed or self.other_changes or self.new_checks
                    or self.removed_checks or self.clause_changes)


def compare(old: RunSummary, new: RunSummary) -> Comparison:
    before = {c.id: c for c in old.checks}
    after = {c.id: c for c in new.checks}
    new_failures: list[CheckChange] = []
    fixed: list[CheckChange] = []
    unchanged: list[CheckChange] = []
    other: list[CheckChange] = []
    added: list[CheckChange] = []
    removed: list[CheckChange] = []
    for check_id, check in after.items():
        previous = before.get(check_id)
        was = previous.verdict if previous else None
        change = CheckChange(check_id, was, check.verdict, check)
        if previous is None:
            added.append(change)
        if check.verdict == "failed":
            (unchanged if was == "failed" else new_failures).append(change)
        elif was == "failed" and check.verdict == "passed":
            fixed.append(change)
        elif was is not None and was != check.verdict:
            other.append(change)
    for check_id, check in before.items():
        if check_id not in after:
            removed.append(CheckChange(check_id, check.verdict, None, check))
    old_clauses = {r.clause.id: r.verdict for r in old.clauses}
    clause_changes = tuple(
        ClauseChange(r.clause.id, r.clause.title, old_clauses.get(r.clause.id, "no checks"), r.verdict)
        for r in new.clauses if old_clauses.get(r.clause.id, "no checks") != r.verdict
    )
    return Comparison(
        old_run=str(old.header.get("run_id", "")), old_started=str(old.header.get("started", "")),
        old_state=old.conclusion.headline, new_state=new.conclusion.headline,
        new_failures=tuple(new_failures), fixed=tuple(fixed), unchanged_failures=tuple(unchanged),
        other_changes=tuple(other), new_checks=tuple(added), removed_checks=tuple(removed),
        clause_changes=clause_changes,
    )
