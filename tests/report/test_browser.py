"""The report in a real browser: it renders from a file:// URL, offline, and its filters work.

Playwright drives Debian's chromium (``/usr/bin/chromium``; no browser download).  The
test is skipped, saying why, only when the ``playwright`` package or that browser is
missing; ``.ci/run`` installs both.  It leaves a screenshot in ``reports/`` for people.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.catalogue import load_catalogue
from conformance.report import build_report
from tests.report.runs import SOAP_RESULT, check, exchange, failed_code_check, write_run

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path(__file__).resolve().parents[2] / "reports" / "report-screenshot.png"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed "
                               "(pip install playwright; no `playwright install` needed)")
if not CHROMIUM.exists() and shutil.which("chromium") is None:
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        executable = str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium")
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def report(tmp_path: Path) -> Path:
    """A run with failures on a Luminate and a Kognitiv clause, a pass, a skip and an error."""
    kognitiv_failure = check(
        "an unknown location is ReturnCode 503", "failed", ("K-E4",), method="RecordInteraction",
        case="every ReturnCode", variant="soap11", api="kognitiv",
        failures=[{"clause": "K-E4",
                   "where": "/Envelope/Body/RecordInteractionResponse/RecordInteractionResult/ReturnCode",
                   "message": "503 is not ReturnCode 1200"}],
        exchanges=[exchange(SOAP_RESULT, url="http://127.0.0.1:8750/Services/Interaction.asmx",
                            request="<soap:Envelope><soap:Body><RecordInteraction/></soap:Body></soap:Envelope>")],
        codes_seen=["K:503"])
    checks = [
        check("a subject of 80 characters is accepted"),
        failed_code_check(),
        kognitiv_failure,
        check("type 0 is accepted", clauses=("L-L5",)),
        check("logged interaction is visible", "skipped", ("L-C11",), method="createOrUpdate",
              skip_kind="unobservable", reason="the profile lacks getUserInteractions"),
        check("body of 1501 characters", "errored", ("L-L3",), reason="connection reset by the target"),
    ]
    run = write_run(tmp_path / "run.jsonl", checks)
    path = tmp_path / "report.html"
    path.write_text(build_report(run), encoding="utf-8")
    return path


def visible(page: Any, selector: str) -> int:
    return int(page.locator(selector).evaluate_all("els => els.filter(e => e.offsetParent !== null).length"))


def test_the_report_renders_offline_and_its_filters_work(browser: Any, report: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(report.as_uri())

    assert page.locator("header.verdict .state").inner_text() == "does not conform"
    rows = "table.clauses tbody tr"
    assert visible(page, rows) == len(load_catalogue())
    # The verdict cell, in capitals by CSS.
    assert page.locator("#clause-L-L2 td").nth(4).inner_text().startswith("FAILED")

    # The drill-down opens on a click and shows the marked element of the answer.
    failure = page.locator('details[data-filter="failure"]').first
    assert not failure.evaluate("d => d.open")
    assert not failure.locator("mark").is_visible()
    failure.locator("summary").click()
    assert failure.evaluate("d => d.open")
    assert failure.locator("mark").inner_text() == "<code>23</code>"

    # A clause id shows that clause only (not the clauses whose text cites it).
    page.fill('input[name="text"]', "L-L2")
    assert visible(page, rows) == 1
    assert page.locator('[data-count="clause"]').inner_text() == "1"
    page.fill('input[name="text"]', "")
    page.select_option('select[name="verdict"]', "failed")
    assert visible(page, rows) == 2
    assert visible(page, 'details[data-filter="failure"]') == 2
    page.select_option('select[name="part"]', "K")
    assert visible(page, rows) == 1
    assert page.locator(f"{rows}:visible td.id").inner_text() == "K-E4"
    page.select_option('select[name="part"]', "")
    page.select_option('select[name="verdict"]', "")
    page.select_option('select[name="method"]', "createOrUpdate")
    assert 0 < visible(page, rows) < len(load_catalogue())
    assert visible(page, "#clause-L-C11") == 1 and visible(page, "#clause-K-E4") == 0
    page.click('button[type="reset"]')
    everything = len(load_catalogue())
    page.wait_for_function(f"document.querySelectorAll('{rows}:not([hidden])').length === {everything}")

    # A clause row's link opens the Kognitiv failure it names.
    page.locator("#clause-K-E4 a").first.click()
    kognitiv = page.locator('details[data-filter="failure"]').nth(1)
    assert kognitiv.evaluate("d => d.open")
    assert kognitiv.locator("mark").inner_text() == "<ReturnCode>503</ReturnCode>"

    # The screenshot people look at: the failed clauses with one failure opened.
    page.select_option('select[name="verdict"]', "failed")
    page.evaluate("window.scrollTo(0, 0)")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000

    assert errors == []
    assert {url.split(":", 1)[0] for url in requests} == {"file"}
    page.close()
