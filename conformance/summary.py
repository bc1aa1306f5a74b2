"""The summary of a run: what its events say, clause by clause, with waivers applied.

Both consumers of the event stream, the HTML report and the CI gate, stand on this
one reading, so they can never disagree about a verdict.  The rules:

* a check *failed* when its event says so; it is *waived* when every clause it fails
  (or the check itself, by id or case description) is covered by an unexpired waiver;
* a clause is *failed* when a check attributes an unwaived failure to it
  (``failed_clauses``), else *waived*, else *errored* when a check bearing on it
  errored, else *passed* when one passed, else *skipped* (with the reasons), else
  *inconclusive* when its only checks failed on other clauses, else it has *no checks*;
* the run *does not conform* when any failure stands unwaived, whatever the clause's
  level (an OBSERVE clause is documented too; it is only checked when observable);
  it is *incomplete* when checks errored, a case file could not be loaded, the run
  did not finish or nothing was checked; only otherwise does it *conform*.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from conformance.catalogue import Catalogue, Clause
from conformance.waiver import Waiver

State = Literal["conforms", "does not conform", "incomplete"]

#: How the events name a skip's kind, and how the report says it.
SKIP_KINDS = {"policy": "policy", "unobservable": "not observable", "not-applicable": "not applicable",
              "other": "unclassified"}

#: Kognitiv ReturnCodes the WSDL's documentation lists (contract K-R3).
KOGNITIV_RETURN_CODES = (0, 1, 100, 101, 300, 301, 503, 1200)

#: pytest's exit status for an interrupted session and for its own crash.
_INTERRUPTED, _INTERNAL_ERROR = 2, 3

#: Clause ids named in one reason line; the report's table has them all.
_NAMED = 8


@dataclass(frozen=True)
class CheckResult:
    """One check event, typed."""

    id: str
    kind: str
    verdict: str
    clauses: tuple[str, ...]
    failed_clauses: tuple[str, ...]
    duration_ms: float
    file: str = ""
    line: int | None = None
    case: str | None = None
    test: str = ""
    variant: str | None = None
    api: str | None = None
    method: str | None = None
    message: str = ""
    reason: str = ""
    skip_kind: str | None = None
    failures: tuple[Mapping[str, str], ...] = ()
    exchanges: tuple[Mapping[str, Any], ...] = ()
    codes_seen: tuple[str, ...] = ()
    created: tuple[Mapping[str, Any], ...] = ()
    requests: int = 0

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> CheckResult:
        return cls(
            id=event["id"], kind=event["kind"], verdict=event["verdict"],
            clauses=tuple(event["clauses"]), failed_clauses=tuple(event.get("failed_clauses", ())),
            duration_ms=float(event["duration_ms"]), file=event.get("file", ""), line=event.get("line"),
            case=event.get("case"), test=event.get("test", ""), variant=event.get("variant"),
            api=event.get("api"), method=event.get("method"), message=event.get("message", ""),
            reason=event.get("reason", ""),
            skip_kind=(event.get("skip_kind", "other") if event["verdict"] == "skipped" else None),
            failures=tuple(event.get("failures", ())), exchanges=tuple(event.get("exchanges", ())),
            codes_seen=tuple(event.get("codes_seen", ())), created=tuple(event.get("created", ())),
            requests=int(event.get("requests", len(event.get("exchanges", ())))),
        )

    @property
    def label(self) -> str:
        if self.case is None:
            return self.test or self.id
        variant = f" [{self.variant}]" if self.variant else ""
        return f"{self.case} / {self.test}{variant}"

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(sorted({clause.split("-", 1)[0] for clause in self.clauses}))


@dataclass
class WaiverUse:
    """A waiver and the failures it names in this run (check id, clause)."""

    waiver: Waiver
    expired: bool
    matches: list[tuple[str, str | None]] = field(default_factory=list)

    @property
    def stale(self) -> bool:
        return not self.matches


@dataclass
class ClauseResult:
    clause: Clause
    verdict: str
    counts: Counter[str]
    checks: list[CheckResult]
    skip_reasons: list[str]
    waivers: list[Waiver]


@dataclass(frozen=True)
class CodeTally:
    """One error code or ReturnCode: documented or not, and how many checks saw it."""

    key: str
    part: str
    code: int
    documented: bool
    clauses: tuple[str, ...]
    seen: int


@dataclass(frozen=True)
class Conclusion:
    state: State
    headline: str
    reasons: tuple[str, ...]
    #: Which incomplete-run cause leads; the gate maps it to an exit code.
    broken_cases: bool = False


@dataclass
class RunSummary:
    header: Mapping[str, Any]
    footer: Mapping[str, Any] | None
    checks: list[CheckResult]
    collect_errors: list[Mapping[str, Any]]
    clauses: list[ClauseResult]
    waiver_uses: list[WaiverUse]
    waived: dict[str, list[Waiver]]
    counts: Counter[str]
    codes: list[CodeTally]
    operations: dict[str, int]
    conclusion: Conclusion
    catalogue_matches: bool

    def is_waived(self, check: CheckResult) -> bool:
        return check.id in self.waived

    def standing(self, check: CheckResult) -> str:
        """The check's verdict with waivers applied: passed, failed, waived, errored or skipped."""
        return "waived" if self.is_waived(check) else check.verdict

    def clause(self, clause_id: str) -> ClauseResult:
        return next(result for result in self.clauses if result.clause.id == clause_id)


def summarise(
    events: Sequence[Mapping[str, Any]],
    catalogue: Catalogue,
    waivers: Iterable[Waiver] = (),
    today: date | None = None,
    catalogue_hash: str | None = None,
) -> RunSummary:
    """Read a run's events (header first, as :func:`conformance.events.read_events` returns them)."""
    today = today or date.today()  # the reader's calendar day: a waiver lasts through its local expiry day
    header = events[0]
    footer = next((e for e in events if e["event"] == "footer"), None)
    checks = [CheckResult.from_event(e) for e in events if e["event"] == "check"]
    collect_errors = [e for e in events if e["event"] == "collect-error"]
    uses = [WaiverUse(w, w.expired(today)) for w in waivers]
    waived = _apply_waivers(checks, uses)
    counts: Counter[str] = Counter()
    for check in checks:
        counts[check.verdict] += 1
        if check.id in waived:
            counts["waived"] += 1
        if check.skip_kind:
            counts["skip:" + check.skip_kind] += 1
    clauses = [_clause_result(clause, checks, waived, uses) for clause in catalogue]
    return RunSummary(
        header=header, footer=footer, checks=checks, collect_errors=collect_errors, clauses=clauses,
        waiver_uses=uses, waived=waived, counts=counts, codes=_codes(catalogue, checks),
        operations=_operations(checks),
        conclusion=_conclude(checks, waived, collect_errors, footer, catalogue),
        catalogue_matches=catalogue_hash is None or header.get("catalogue") in (None, catalogue_hash),
    )


def _apply_waivers(checks: list[CheckResult], uses: list[WaiverUse]) -> dict[str, list[Waiver]]:
    """Record which failures each waiver names; return the fully waived checks and their waivers."""
    waived: dict[str, list[Waiver]] = {}
    for check in checks:
        if check.verdict != "failed":
            continue
        clauses: list[str | None] = list(check.failed_clauses) or [None]
        covering: list[Waiver] = []
        uncovered = False
        for clause in clauses:
            named = [u for u in uses if u.waiver.covers(check.id, check.case, clause)]
            for use in named:
                use.matches.append((check.id, clause))
            live = [u.waiver for u in named if not u.expired]
            covering.extend(w for w in live if w not in covering)
            uncovered |= not live
        if not uncovered:
            waived[check.id] = covering
    return waived


def _clause_result(clause: Clause, checks: list[CheckResult], waived: Mapping[str, list[Waiver]],
                   uses: list[WaiverUse]) -> ClauseResult:
    mine = [c for c in checks if clause.id in c.clauses or clause.id in c.failed_clauses]
    counts: Counter[str] = Counter(c.verdict for c in mine)
    failing = [c for c in mine if clause.id in c.failed_clauses]
    # A clause is waived only when every failure attributed to it is covered, by a
    # waiver of this clause or of the failing check as a whole.
    unwaived = [c for c in failing if not any(
        not u.expired and u.waiver.covers(c.id, c.case, clause.id) for u in uses)]
    counts["waived"] = len(failing) - len(unwaived)
    skip_reasons = list(dict.fromkeys(
        f"{SKIP_KINDS.get(c.skip_kind or 'other', 'unclassified')}: {c.reason}" if c.reason
        else SKIP_KINDS.get(c.skip_kind or "other", "unclassified")
        for c in mine if c.verdict == "skipped"))
    if unwaived:
        verdict = "failed"
    elif failing:
        verdict = "waived"
    elif counts["errored"]:
        verdict = "errored"
    elif counts["passed"]:
        verdict = "passed"
    elif counts["skipped"]:
        verdict = "skipped"
    elif mine:
        # Its only checks failed on other clauses: nothing shows this clause held.
        verdict = "inconclusive"
    else:
        verdict = "no checks"
    clause_waivers = [u.waiver for u in uses if u.waiver.clause == clause.id]
    return ClauseResult(clause, verdict, counts, mine, skip_reasons, clause_waivers)


def _conclude(checks: list[CheckResult], waived: Mapping[str, list[Waiver]],
              collect_errors: list[Mapping[str, Any]], footer: Mapping[str, Any] | None,
              catalogue: Catalogue) -> Conclusion:
    failing = [c for c in checks if c.verdict == "failed" and c.id not in waived]
    errored = [c for c in checks if c.verdict == "errored"]
    incomplete: list[str] = []
    if collect_errors:
        incomplete.append(f"{_count(len(collect_errors), 'case file')} could not be loaded")
    if errored:
        hidden = sorted({cid for c in errored for cid in c.clauses}, key=catalogue_order(catalogue))
        named = ", ".join(hidden[:_NAMED])
        if len(hidden) > _NAMED:
            named += f" and {len(hidden) - _NAMED} more"
        incomplete.append(f"{_count(len(errored), 'check')} errored" + (f" (on {named})" if hidden else ""))
    if footer is None:
        incomplete.append("the run did not finish (no footer event)")
    elif not collect_errors and footer.get("exit_status") == _INTERRUPTED:
        incomplete.append("the run was interrupted")
    elif footer.get("exit_status") == _INTERNAL_ERROR:
        incomplete.append("the suite crashed (pytest internal error)")
    if not any(c.verdict in ("passed", "failed") for c in checks):
        incomplete.append("nothing was checked")
    if failing:
        by_level: Counter[str] = Counter()
        clause_ids = sorted({cid for c in failing for cid in c.failed_clauses},
                            key=catalogue_order(catalogue))
        for cid in clause_ids:
            by_level[catalogue.get(cid).level if cid in catalogue else "unknown"] += 1
        levels = ", ".join(f"{level} {n}" for level, n in sorted(by_level.items()))
        reasons = [f"{_count(len(failing), 'failed check')} on {_count(len(clause_ids), 'clause')}"
                   + (f" ({levels})" if levels else "")]
        return Conclusion("does not conform", "does not conform", tuple(reasons + incomplete),
                          broken_cases=bool(collect_errors))
    if incomplete:
        # The headline names the errored checks when there are any: that is what the
        # brief's "incomplete: N checks errored" promises the reader.
        lead = next((r for r in incomplete if " errored" in r), incomplete[0])
        headline = "incomplete: " + lead.split(" (on ")[0]
        return Conclusion("incomplete", headline, tuple(incomplete), broken_cases=bool(collect_errors))
    checked = {cid for c in checks if c.verdict in ("passed", "failed") for cid in c.clauses}
    unchecked = [cid for cid in catalogue.ids() if cid not in checked]
    # "conforms" speaks only for what was checked: say plainly when that is not the
    # whole contract (a --clause selection, or clauses whose checks were all skipped).
    total = len(catalogue)
    note = (f"{_count(len(unchecked), 'clause')} of {total} not checked by this run",) if unchecked else ()
    return Conclusion("conforms", "conforms", note)


def catalogue_order(catalogue: Catalogue) -> Callable[[str], tuple[int, str]]:
    """A sort key putting clause ids in the contract's order (unknown ids last)."""
    position = {cid: n for n, cid in enumerate(catalogue.ids())}
    return lambda cid: (position.get(cid, len(position)), cid)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _codes(catalogue: Catalogue, checks: list[CheckResult]) -> list[CodeTally]:
    documented: dict[str, list[str]] = {f"K:{code}": [] for code in KOGNITIV_RETURN_CODES}
    for clause in catalogue:
        for entry in clause.codes:
            for code in (entry.code, *entry.accept):
                if code is not None:
                    names = documented.setdefault(f"{clause.part}:{code}", [])
                    if clause.id not in names:
                        names.append(clause.id)
    seen = Counter(key for check in checks for key in set(check.codes_seen))
    keys = set(documented) | set(seen)
    tallies = []
    for key in keys:
        part, _, number = key.partition(":")
        tallies.append(CodeTally(key, part, int(number) if number.lstrip("-").isdigit() else 0,
                                 key in documented, tuple(documented.get(key, ())), seen[key]))
    return sorted(tallies, key=lambda t: (t.part != "L", t.code, t.key))


_FORM_METHOD = re.compile(r"(?:^|[?&])method=([^&\s]+)")
_SOAP_OPERATION = re.compile(r"<(?:[\w.-]+:)?Body\b[^>]*>\s*<(?:[\w.-]+:)?([\w.-]+)")


def operation(exchange: Mapping[str, Any]) -> str:
    """The operation one exchange called: the form's ``method``, the SOAP body's element, or ``?WSDL``."""
    body = str(exchange.get("request_body", ""))
    url = str(exchange.get("url", ""))
    for text in (body, url.partition("?")[2]):
        found = _FORM_METHOD.search(text)
        if found:
            return found.group(1)
    soap = _SOAP_OPERATION.search(body)
    if soap:
        return soap.group(1)
    if url.lower().endswith("?wsdl"):
        return "WSDL"
    return "(none)"


def _operations(checks: list[CheckResult]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for check in checks:
        for exchange in check.exchanges:
            counts[f"{exchange.get('method', '?')} {operation(exchange)}"] += 1
    return dict(sorted(counts.items()))
