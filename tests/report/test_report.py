"""The HTML report, rendered from hand-made event files and read back as HTML."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from conformance.catalogue import load_catalogue
from conformance.cli import main
from conformance.report import build_report
from conformance.waiver import Waiver
from tests.report.runs import (
    GET_INTERACTION_XML,
    check,
    exchange,
    failed_code_check,
    write_run,
)

TODAY = date(2026, 1, 5)
CATALOGUE = load_catalogue()


def render(tmp_path: Path, checks: list[dict[str, Any]], waivers: tuple[Waiver, ...] = (),
           compare: list[dict[str, Any]] | None = None, **kwargs: Any) -> tuple[str, Any]:
    run = write_run(tmp_path / "run.jsonl", checks, **kwargs)
    old = write_run(tmp_path / "old.jsonl", compare, run_id="run0000000") if compare is not None else None
    text = build_report(run, old, waivers, today=TODAY)
    return text, lxml_html.document_fromstring(text)


def words(element: Any) -> str:
    """The element's text with one space wherever markup or white space separated it."""
    return " ".join(" ".join(element.itertext()).split())


def verdict_of(doc: Any) -> str:
    (state,) = doc.xpath('//header[@id="verdict"]//span[contains(@class, "state")]')
    return str(state.text_content())


def clause_row(doc: Any, clause_id: str) -> Any:
    (row,) = doc.xpath(f'//tr[@id="clause-{clause_id}"]')
    return row


def row_verdict(doc: Any, clause_id: str) -> str:
    return str(clause_row(doc, clause_id).xpath('.//td[5]/span[contains(@class, "badge")]')[0].text_content())


def test_a_conforming_run_says_so_with_every_clause_in_catalogue_order(tmp_path: Path) -> None:
    text, doc = render(tmp_path, [check("80 characters"), check("80 characters", variant="json")])
    assert verdict_of(doc) == "conforms"
    rows = doc.xpath('//table[contains(@class, "clauses")]/tbody/tr')
    assert [r.get("data-clauses") for r in rows] == list(CATALOGUE.ids())
    assert row_verdict(doc, "L-L2") == "passed"
    assert "2 passed" in clause_row(doc, "L-L2").xpath('./td[6]')[0].text_content()
    assert row_verdict(doc, "K-R1") == "no checks"
    assert "No check failed." in text
    meta = doc.xpath('//dl[@class="meta"]')[0].text_content()
    for fact in ("staging-acme", "0123456789abcdef", "run0000001", "0.1.0", "2026-01-05T10:00:00.000+00:00",
                 "12.5 s"):
        assert fact in meta


def test_a_run_of_another_catalogue_is_flagged(tmp_path: Path) -> None:
    _, doc = render(tmp_path, [check("a")])
    assert not doc.xpath('//p[@class="warning"]')
    run = tmp_path / "run.jsonl"
    header, *rest = run.read_text().splitlines()
    run.write_text("\n".join([header.replace('"schema": 1,', '"schema": 1, "catalogue": "' + "f" * 64 + '",'),
                              *rest]) + "\n")
    doc = lxml_html.document_fromstring(build_report(run, today=TODAY))
    assert "other than the one bundled" in doc.xpath('//p[@class="warning"]')[0].text_content()


def test_clause_rows_show_level_decision_and_sources(tmp_path: Path) -> None:
    _, doc = render(tmp_path, [check("a")])
    l_l2 = clause_row(doc, "L-L2")
    assert l_l2.xpath('.//span[contains(@class, "level-MUST")]')[0].text_content() == "MUST"
    decision = CATALOGUE.get("L-L2").decision
    assert decision is not None
    shown = l_l2.xpath('.//span[contains(@class, "decision-text")]')[0].text_content()
    assert shown == f"decision: {decision}"
    seed = next(s for s in CATALOGUE.get("L-L2").sources if s.seed)
    assert f"seed {seed.seed}" in l_l2.text_content()
    assert " ".join(str(seed.quote).split()) in " ".join(l_l2.text_content().split())
    l_t4 = clause_row(doc, "L-T4")
    assert not l_t4.xpath('.//span[contains(@class, "decision")]')  # a MUST clause without a decided part
    assert clause_row(doc, "L-T13").xpath('.//span[contains(@class, "level-DECIDED")]')
    assert "observation: getUserInteractions" in clause_row(doc, "L-C11").text_content()


def test_a_failure_opens_into_its_case_exchanges_and_the_marked_element(tmp_path: Path) -> None:
    text, doc = render(tmp_path, [check("80 characters"), failed_code_check()])
    assert verdict_of(doc) == "does not conform"
    assert row_verdict(doc, "L-L2") == "failed"
    (details,) = doc.xpath('//details[@data-filter="failure"]')
    body = details.text_content()
    for fact in ("subject length limit", "a subject of 81 characters is refused", "xml",
                 "logInteraction.yaml:9", "/errorResponse/code", "'23' is not code 22", "HTTP 403"):
        assert fact in body
    (mark,) = details.xpath('.//mark')
    assert mark.text_content() == "<code>23</code>"
    # The answer is shown as text: its tags are escaped, not parsed as HTML elements.
    assert not doc.xpath("//errorresponse")
    assert "&lt;errorResponse" in text
    # The clause row links to the drill-down.
    link = clause_row(doc, "L-L2").xpath(".//a")[0]
    assert link.get("href") == f"#{details.get('id')}"


def test_the_mark_finds_the_named_element_not_a_namesake(tmp_path: Path) -> None:
    event = check("subject reads back", "failed", ("L-L9",), failures=[
        {"clause": "L-L9", "where": "/getInteractionResponse/interaction/subject",
         "message": "'Tom & Jerry <b>' is not 'Tom & Jerry'"}],
        exchanges=[exchange("<updateConsResponse/>"), exchange(GET_INTERACTION_XML)])
    _, doc = render(tmp_path, [event])
    (mark,) = doc.xpath("//mark")
    assert mark.text_content() == "<subject>Tom &amp; Jerry &lt;b&gt;</subject>"
    assert "marked" in doc.xpath('//div[contains(@class, "exchange")]')[1].get("class")


def test_json_answers_and_headers_are_marked_too(tmp_path: Path) -> None:
    event = check("json code", "failed", failures=[
        {"clause": "", "where": "/errorResponse/code", "message": "'23' is not code 22"},
        {"clause": "L-T10", "where": "Content-Type", "message": "'text/plain' is not application/json"}],
        exchanges=[exchange('{"errorResponse":{"code":"23","message":"too long"}}', status=403,
                            content_type="text/plain")])
    _, doc = render(tmp_path, [event])
    assert [m.text_content() for m in doc.xpath("//mark")] == ["content-type: text/plain", '"code":"23"']


def test_an_errored_run_is_incomplete_and_shows_the_reason(tmp_path: Path) -> None:
    errored = check("b", "errored", ("L-L3",), reason="connection refused by 127.0.0.1")
    _, doc = render(tmp_path, [check("a"), errored])
    assert verdict_of(doc) == "incomplete: 1 check errored"
    assert row_verdict(doc, "L-L3") == "errored"
    (details,) = doc.xpath('//details[@data-filter="errored"]')
    assert "connection refused by 127.0.0.1" in details.text_content()


def test_skips_are_split_by_kind_and_their_reasons_shown(tmp_path: Path) -> None:
    _, doc = render(tmp_path, [
        check("a"),
        check("b", "skipped", ("L-C11",), skip_kind="unobservable",
              reason="the profile lacks getUserInteractions"),
        check("c", "skipped", ("L-C14",), skip_kind="policy", reason="writes are forbidden"),
        check("d", "skipped", ("L-T13",), skip_kind="not-applicable", reason="the secret key is unknown"),
    ])
    tile = words(doc.xpath('//div[contains(@class, "tile skipped")]')[0])
    assert tile == "3 skipped policy 1 · not observable 1 · not applicable 1"
    assert row_verdict(doc, "L-C11") == "skipped"
    assert "not observable: the profile lacks getUserInteractions" in clause_row(doc, "L-C11").text_content()
    assert "policy: writes are forbidden" in clause_row(doc, "L-C14").text_content()


def test_waived_failures_are_shown_as_waived_not_hidden(tmp_path: Path) -> None:
    waiver = Waiver("L-L2", None, "vendor ticket 4711", "alice", date(2026, 6, 30), "waivers.yaml:1")
    _, doc = render(tmp_path, [check("a"), failed_code_check()], (waiver,))
    assert verdict_of(doc) == "conforms"
    assert row_verdict(doc, "L-L2") == "waived"
    (details,) = doc.xpath('//details[@data-filter="failure"]')
    assert details.get("data-verdict") == "waived"
    text = " ".join(details.text_content().split())
    assert "waived: vendor ticket 4711 (owner alice, expires 2026-06-30, waivers.yaml:1)" in text
    assert words(doc.xpath('//div[contains(@class, "tile failed")]')[0]) == "1 failed (1 waived)"


def test_an_expired_waiver_is_shown_and_waives_nothing(tmp_path: Path) -> None:
    waiver = Waiver("L-L2", None, "vendor ticket 4711", "alice", date(2026, 1, 4), "waivers.yaml:1")
    _, doc = render(tmp_path, [failed_code_check()], (waiver,))
    assert verdict_of(doc) == "does not conform"
    (row,) = doc.xpath('//h2[@id="waivers"]/following-sibling::table[1]/tbody/tr')
    assert "expired" in row.text_content()
    assert "1 failure(s) no longer waived" in row.text_content()


def test_the_report_refers_to_no_url_and_runs_no_foreign_script(tmp_path: Path) -> None:
    hostile = check("hostile", "failed", message="<script>alert(1)</script>", failures=[
        {"clause": "L-L2", "where": "/x", "message": '<img src="https://evil.example/x.png">'}],
        exchanges=[exchange('</pre><script src="https://evil.example/a.js"></script><a href="http://evil.example">',
                            request="see https://evil.example/?q=1")])
    text, doc = render(tmp_path, [failed_code_check(), hostile])
    assert len(doc.xpath("//script")) == 1 and doc.xpath("//script")[0].get("src") is None
    assert not doc.xpath("//link | //img | //iframe | //object | //embed")
    for element in doc.iter():
        for name, value in element.attrib.items():
            assert "://" not in value, f"<{element.tag} {name}={value!r}>"
            if name in ("href", "src", "action"):
                assert value.startswith("#"), f"<{element.tag} {name}={value!r}>"
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", text)
    assert not re.search(r"@import|url\(", text)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_the_comparison_lists_new_fixed_and_unchanged_failures(tmp_path: Path) -> None:
    old = [failed_code_check("stays broken"), failed_code_check("gets fixed"), check("breaks"),
           check("goes away"), check("errors now", clauses=("L-L3",))]
    new = [failed_code_check("stays broken"), check("gets fixed"), failed_code_check("breaks"),
           check("is new", "failed", ("L-L1",)), check("errors now", "errored", ("L-L3",), reason="timeout")]
    _, doc = render(tmp_path, new, compare=old)

    def listed(key: str) -> list[str]:
        return [" ".join(r.xpath("./td[1]")[0].text_content().split()) for r in
                doc.xpath(f'//table[@data-changes="{key}"]/tbody/tr')]

    def names(key: str) -> list[str]:
        return [row.split(" / ")[1].split(" [")[0] for row in listed(key)]

    assert names("new-failures") == ["breaks", "is new"]
    assert names("fixed") == ["gets fixed"]
    assert names("unchanged-failures") == ["stays broken"]
    assert names("other") == ["errors now"]
    assert names("new-checks") == ["is new"]
    assert names("removed-checks") == ["goes away"]
    clause_changes = {r.xpath("./td[1]/a")[0].text_content(): r.xpath("./td[3]")[0].text_content()
                      for r in doc.xpath('//table[@data-changes="clauses"]/tbody/tr')}
    assert clause_changes == {"L-L1": "failed", "L-L3": "errored"}


def test_the_ledger_lists_what_the_run_created_and_the_requests(tmp_path: Path) -> None:
    event = check("a", created=[{"kind": "constituent", "id": "1001000", "detail": "conf.x-1@example.org"}],
                  exchanges=[exchange("<x/>", request="method=createOrUpdate&v=1.0"),
                             exchange("<x/>", request="method=logInteraction&v=1.0")])
    _, doc = render(tmp_path, [event])
    ledger = words(doc.xpath('//h2[@id="ledger"]/following-sibling::div[1]')[0])
    assert "constituent 1001000 conf.x-1@example.org" in ledger
    assert "POST createOrUpdate 1" in ledger and "POST logInteraction 1" in ledger
    assert "logInteraction 3" in ledger  # the footer's count by method under test


def test_the_code_tally_marks_seen_and_never_seen_codes(tmp_path: Path) -> None:
    _, doc = render(tmp_path, [failed_code_check()])
    assert "seen" in doc.xpath('//tr[@data-code="L:23"]')[0].text_content()
    assert "never" in doc.xpath('//tr[@data-code="K:1200"]')[0].text_content()


def test_the_report_command_writes_the_file_and_refuses_a_broken_stream(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = write_run(tmp_path / "run.jsonl", [check("a")])
    assert main(["report", str(run)]) == 0
    assert (tmp_path / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert "report.html" in capsys.readouterr().out
    broken = tmp_path / "broken.jsonl"
    broken.write_text(run.read_text().splitlines()[0] + '\n{"event": "check"}\n')
    assert main(["report", str(broken), "-o", str(tmp_path / "b.html")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"conformance: {broken}:2: ") and "\n" not in err
    assert not (tmp_path / "b.html").exists()


def test_a_failed_property_is_drilled_down_like_a_case(tmp_path: Path) -> None:
    prop = {"event": "check", "id": "cases/properties/test_subject.py::test_subject_round_trips",
            "kind": "property", "file": "test_subject.py", "test": "test_subject_round_trips",
            "clauses": ["L-L2", "L-T14"],
            "failed_clauses": ["L-L2", "L-T14"], "verdict": "failed", "duration_ms": 812.0,
            "message": "Falsifying example: test_subject_round_trips(subject='\\x85')"}
    _, doc = render(tmp_path, [check("a"), prop])
    (details,) = doc.xpath('//details[@data-filter="failure"]')
    text = words(details)
    assert "test_subject_round_trips" in text and "Falsifying example" in text
    assert "No exchange was recorded for this check." in text
    assert row_verdict(doc, "L-T14") == "failed"
