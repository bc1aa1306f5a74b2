"""The reading of a run that the report and the gate share: clause verdicts and the run's verdict."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from conformance.catalogue import load_catalogue
from conformance.events import read_events
from conformance.summary import RunSummary, operation, summarise
from conformance.waiver import Waiver
from tests.report.runs import SOAP_RESULT, check, exchange, failed_code_check, write_run

CATALOGUE = load_catalogue()
TODAY = date(2026, 1, 5)


def waiver(clause: str | None = "L-L2", case: str | None = None, expires: date = date(2026, 6, 30)) -> Waiver:
    return Waiver(clause=clause, case=case, reason="vendor ticket 4711", owner="alice", expires=expires,
                  where="waivers.yaml:1")


def summary_of(tmp_path: Path, checks: list[dict[str, Any]], waivers: tuple[Waiver, ...] = (),
               **kwargs: Any) -> RunSummary:
    path = write_run(tmp_path / "run.jsonl", checks, **kwargs)
    return summarise(read_events(path), CATALOGUE, waivers, TODAY)


def test_a_run_whose_checks_all_pass_conforms(tmp_path: Path) -> None:
    summary = summary_of(tmp_path, [check("80 characters"), check("80 characters", variant="json")])
    assert summary.conclusion.state == "conforms"
    assert summary.conclusion.headline == "conforms"
    assert summary.clause("L-L2").verdict == "passed"
    assert summary.clause("L-L2").counts["passed"] == 2
    assert summary.clause("L-L1").verdict == "no checks"


def test_a_failed_check_means_the_run_does_not_conform(tmp_path: Path) -> None:
    summary = summary_of(tmp_path, [check("80 characters"), failed_code_check()])
    assert summary.conclusion.state == "does not conform"
    assert summary.conclusion.reasons[0] == "1 failed check on 1 clause (MUST 1)"
    assert summary.clause("L-L2").verdict == "failed"


def test_an_observe_clause_failure_also_breaks_conformance(tmp_path: Path) -> None:
    summary = summary_of(tmp_path, [check("logged interaction visible", "failed", ("L-C11",))])
    assert summary.conclusion.state == "does not conform"
    assert summary.conclusion.reasons[0] == "1 failed check on 1 clause (OBSERVE 1)"


def test_a_failure_is_attributed_only_to_the_clauses_it_names(tmp_path: Path) -> None:
    event = check("wrong status", "failed", ("L-L2", "L-T7"), failed_clauses=["L-T7"])
    summary = summary_of(tmp_path, [event])
    assert summary.clause("L-T7").verdict == "failed"
    assert summary.clause("L-L2").verdict == "inconclusive"
    both = summary_of(tmp_path, [event, check("80 characters")])
    assert both.clause("L-L2").verdict == "passed"


def test_errored_checks_make_the_run_incomplete_never_conforming(tmp_path: Path) -> None:
    summary = summary_of(tmp_path, [check("80 characters"), check("81 characters", "errored",
                                                                  reason="connection refused")])
    assert summary.conclusion.state == "incomplete"
    assert summary.conclusion.headline == "incomplete: 1 check errored"
    assert "1 check errored (on L-L2)" in summary.conclusion.reasons
    # One passed and one errored check on L-L2: the errored one hides the clause.
    assert summary.clause("L-L2").verdict == "errored"


def test_a_failure_outranks_errored_checks_but_both_are_said(tmp_path: Path) -> None:
    summary = summary_of(tmp_path, [failed_code_check(), check("x", "errored", ("L-L3",), reason="timeout")])
    assert summary.conclusion.state == "does not conform"
    assert summary.conclusion.reasons == ("1 failed check on 1 clause (MUST 1)", "1 check errored (on L-L3)")


@pytest.mark.parametrize(("checks", "kwargs", "headline"), [
    ([], {}, "incomplete: nothing was checked"),
    ([check("a", "skipped", skip_kind="policy", reason="writes forbidden")], {},
     "incomplete: nothing was checked"),
    ([check("a")], {"with_footer": False}, "incomplete: the run did not finish (no footer event)"),
    ([check("a")], {"exit_status": 2}, "incomplete: the run was interrupted"),
])
def test_a_run_that_checked_nothing_or_did_not_finish_is_incomplete(
    tmp_path: Path, checks: list[dict[str, Any]], kwargs: dict[str, Any], headline: str
) -> None:
    assert summary_of(tmp_path, checks, **kwargs).conclusion.headline == headline


def test_a_broken_case_file_leaves_the_run_incomplete(tmp_path: Path) -> None:
    path = write_run(tmp_path / "run.jsonl", [check("a")], exit_status=2)
    lines = path.read_text().splitlines()
    broken = '{"event": "collect-error", "file": "bad.yaml", "message": "bad.yaml:3: unknown key"}'
    path.write_text("\n".join([lines[0], broken, *lines[1:]]) + "\n")
    summary = summarise(read_events(path), CATALOGUE, (), TODAY)
    assert summary.conclusion.headline == "incomplete: 1 case file could not be loaded"
    assert summary.conclusion.broken_cases


def test_skips_are_counted_by_kind_and_explained_per_clause(tmp_path: Path) -> None:
    summary = summary_of(tmp_path, [
        check("a"),
        check("b", "skipped", ("L-C11",), skip_kind="unobservable",
              reason="the profile lacks getUserInteractions"),
        check("c", "skipped", ("L-C14",), skip_kind="policy", reason="writes are forbidden"),
        check("d", "skipped", ("L-T13",), skip_kind="not-applicable", reason="the secret key is unknown"),
        check("e", "skipped", ("L-T13",), skip_kind="not-applicable", reason="the secret key is unknown"),
    ])
    counts = summary.counts
    by_kind = [counts[k] for k in ("skipped", "skip:policy", "skip:unobservable", "skip:not-applicable")]
    assert by_kind == [4, 1, 1, 2]
    assert summary.clause("L-C11").verdict == "skipped"
    assert summary.clause("L-C11").skip_reasons == ["not observable: the profile lacks getUserInteractions"]
    assert summary.clause("L-T13").skip_reasons == ["not applicable: the secret key is unknown"]


def test_a_clause_waiver_waives_the_failure_and_the_run_conforms(tmp_path: Path) -> None:
    summary = summary_of(tmp_path, [check("80 characters"), failed_code_check()], (waiver(),))
    assert summary.conclusion.state == "conforms"
    assert summary.clause("L-L2").verdict == "waived"
    assert summary.counts["waived"] == 1
    (use,) = summary.waiver_uses
    assert use.matches and not use.expired


def test_a_case_waiver_matches_a_check_id_or_a_case_description(tmp_path: Path) -> None:
    failed = failed_code_check()
    by_id = summary_of(tmp_path, [failed], (waiver(None, case=failed["id"]),))
    by_case = summary_of(tmp_path, [failed], (waiver(None, case="subject length limit"),))
    other = summary_of(tmp_path, [failed], (waiver(None, case="some other case"),))
    assert by_id.is_waived(by_id.checks[0]) and by_case.is_waived(by_case.checks[0])
    assert not other.is_waived(other.checks[0])
    assert other.waiver_uses[0].stale


def test_a_check_failing_two_clauses_needs_both_waived(tmp_path: Path) -> None:
    event = check("wrong status", "failed", ("L-L2", "L-T7"), failed_clauses=["L-L2", "L-T7"])
    summary = summary_of(tmp_path, [event], (waiver("L-L2"),))
    assert not summary.is_waived(summary.checks[0])
    assert summary.clause("L-L2").verdict == "waived"
    assert summary.clause("L-T7").verdict == "failed"
    assert summary.conclusion.state == "does not conform"


def test_an_expired_waiver_waives_nothing(tmp_path: Path) -> None:
    summary = summary_of(tmp_path, [failed_code_check()], (waiver(expires=date(2026, 1, 4)),))
    assert summary.conclusion.state == "does not conform"
    assert summary.clause("L-L2").verdict == "failed"
    (use,) = summary.waiver_uses
    assert use.expired and use.matches


def test_codes_seen_are_tallied_against_the_documented_lists(tmp_path: Path) -> None:
    summary = summary_of(tmp_path, [failed_code_check(), check("k", clauses=("K-E4",), codes_seen=["K:503"]),
                                    check("odd", codes_seen=["L:99"])])
    tally = {t.key: t for t in summary.codes}
    assert tally["L:23"].seen == 1 and tally["L:23"].documented and "L-L2" in tally["L:23"].clauses
    assert tally["L:17"].seen == 0 and tally["L:17"].documented  # the "also accept" codes are documented too
    assert tally["K:503"].seen == 1 and tally["K:1200"].seen == 0
    assert not tally["L:99"].documented
    documented_k = {f"K:{c}" for c in (0, 1, 100, 101, 300, 301, 503, 1200)}
    assert {t.key for t in summary.codes if t.part == "K"} == documented_k


def test_operations_are_read_from_the_exchanges() -> None:
    assert operation(exchange("", request="v=1.0&method=getInteraction&cons_id=1")) == "getInteraction"
    soap = exchange(SOAP_RESULT, request="<soap:Envelope><soap:Body>\n <RecordInteraction xmlns='x'/>",
                    url="http://h/Services/Interaction.asmx")
    assert operation(soap) == "RecordInteraction"
    assert operation(exchange("", request="", url="http://h/Services/Interaction.asmx?WSDL")) == "WSDL"
