"""The HTML conformance report: one self-contained file built from a run's events.

The report is a consumer of the event stream and nothing else (plus the bundled
clause catalogue for statements, levels and quotes), so any run can be rendered
again later, with other waivers or against an older run.  The file carries its CSS
and JavaScript inline and refers to no URL at all: it opens from disk, offline.
Everything that came from the target (exchanges, messages) is escaped by Jinja's
autoescaping; only :mod:`conformance.highlight` builds markup, and it escapes the text
around each ``<mark>`` itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from conformance import highlight
from conformance.catalogue import Catalogue, load_catalogue
from conformance.comparison import Comparison, compare
from conformance.events import file_hashes, read_events
from conformance.resources import schema_dir
from conformance.summary import SKIP_KINDS, CheckResult, ClauseResult, RunSummary, operation, summarise
from conformance.waiver import Waiver

_TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class FailureLine:
    clause: str
    where: str
    message: str
    #: Whether the report could point at the element in an answer.
    located: bool


@dataclass(frozen=True)
class ExchangeView:
    number: int
    title: str
    request: str
    status: Markup
    response_headers: Markup
    response_body: Markup
    marked: bool


@dataclass(frozen=True)
class CheckView:
    """A failed, waived or errored check, opened up for the drill-down."""

    anchor: str
    check: CheckResult
    standing: str
    failures: tuple[FailureLine, ...]
    exchanges: tuple[ExchangeView, ...]
    waivers: tuple[Waiver, ...]


def load_summary(events_path: Path, waivers: Iterable[Waiver] = (), today: date | None = None,
                 catalogue: Catalogue | None = None) -> RunSummary:
    """Read an event file into a summary (a broken file raises a one-line DataFileError)."""
    return summarise(read_events(events_path), catalogue or _bundled_catalogue(), waivers, today,
                     catalogue_hash=_catalogue_hash())


def build_report(events_path: Path, compare_path: Path | None = None, waivers: Iterable[Waiver] = (),
                 today: date | None = None) -> str:
    catalogue = _bundled_catalogue()
    waivers = tuple(waivers)
    summary = load_summary(events_path, waivers, today, catalogue)
    comparison = None
    if compare_path is not None:
        comparison = compare(load_summary(compare_path, waivers, today, catalogue), summary)
    return render_report(summary, comparison, source=events_path.name,
                         compared_with=compare_path.name if compare_path else None)


def render_report(summary: RunSummary, comparison: Comparison | None = None, source: str = "",
                  compared_with: str | None = None) -> str:
    checks = summary.checks
    anchors = {c.id: f"check-{n}" for n, c in enumerate(checks, 1)}
    opened = [_check_view(c, anchors[c.id], summary) for c in checks if c.verdict in ("failed", "errored")]
    methods = sorted({m for r in summary.clauses for m in r.clause.methods if m != "any"}
                     | {c.method for c in checks if c.method})
    html: str = _environment().get_template("report.html.j2").render(
        s=summary,
        conclusion=summary.conclusion,
        header=summary.header,
        footer=summary.footer or {},
        counts=summary.counts,
        skip_kinds=SKIP_KINDS,
        clauses=summary.clauses,
        failures=[v for v in opened if v.standing in ("failed", "waived")],
        errored=[v for v in opened if v.standing == "errored"],
        skipped=[c for c in checks if c.verdict == "skipped"],
        anchors=anchors,
        methods=methods,
        comparison=comparison,
        compared_with=compared_with,
        source=source,
        luminate_codes=[t for t in summary.codes if t.part == "L"],
        kognitiv_codes=[t for t in summary.codes if t.part == "K"],
        created=(summary.footer or {}).get("created") or [x for c in checks for x in c.created],
        by_method=(summary.footer or {}).get("requests") or {},
        clause_filter=_clause_filter,
        check_filter=_check_filter,
    )
    return html


def write_report(path: Path, html: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a typo in the template fails the tests, not the reader
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@cache
def _bundled_catalogue() -> Catalogue:
    return load_catalogue()  # immutable, and validating it costs more than rendering a small run


@cache
def _catalogue_hash() -> str:
    return next(iter(file_hashes([schema_dir() / "clauses.yaml"]).values()))


def _clause_filter(result: ClauseResult) -> dict[str, str]:
    clause = result.clause
    methods = set(clause.methods) | {c.method for c in result.checks if c.method}
    return {"part": clause.part, "verdict": result.verdict, "method": " ".join(sorted(methods)),
            "clauses": clause.id}


def _check_filter(check: CheckResult, standing: str) -> dict[str, str]:
    clauses = dict.fromkeys((*check.clauses, *check.failed_clauses))
    return {"part": " ".join(check.parts), "verdict": standing, "method": check.method or "",
            "clauses": " ".join(clauses)}


def _check_view(check: CheckResult, anchor: str, summary: RunSummary) -> CheckView:
    exchanges = list(check.exchanges)
    body_spans: dict[int, list[highlight.Span]] = {}
    status_marks: set[int] = set()
    header_marks: dict[int, set[str]] = {}
    lines = []
    for failure in check.failures:
        where = failure.get("where", "")
        located = _locate(where, exchanges, body_spans, status_marks, header_marks)
        lines.append(FailureLine(failure.get("clause") or ", ".join(check.failed_clauses),
                                 where, failure.get("message", ""), located))
    views = []
    for n, exchange in enumerate(exchanges):
        request = f"{exchange.get('method', '')} {exchange.get('url', '')}\n"
        request += "".join(f"{k}: {v}\n" for k, v in (exchange.get("request_headers") or {}).items())
        request += "\n" + str(exchange.get("request_body", ""))
        status = exchange.get("status")
        status_text = "no answer" if status is None else f"HTTP {status}"
        marked_status = _mark(status_text) if n in status_marks else escape(status_text)
        headers = Markup("").join(
            (_mark(f"{k}: {v}") if k.lower() in header_marks.get(n, set()) else escape(f"{k}: {v}"))
            + Markup("\n")
            for k, v in (exchange.get("response_headers") or {}).items()
        )
        body = str(exchange.get("response_body", ""))
        elapsed = exchange.get("elapsed_ms")
        title = f"{exchange.get('method', '')} {operation(exchange)} \N{EM DASH} {status_text}"
        if elapsed is not None:
            title += f" \N{EM DASH} {elapsed} ms"
        views.append(ExchangeView(
            number=n + 1, title=title, request=request, status=marked_status, response_headers=headers,
            response_body=highlight.render(body, body_spans.get(n, [])),
            marked=n in body_spans or n in status_marks or n in header_marks,
        ))
    return CheckView(anchor, check, summary.standing(check), tuple(lines), tuple(views),
                     tuple(summary.waived.get(check.id, ())))


def _locate(where: str, exchanges: list[Mapping[str, Any]], body_spans: dict[int, list[highlight.Span]],
            status_marks: set[int], header_marks: dict[int, set[str]]) -> bool:
    """Find what ``where`` names in the latest exchange that has it; record the mark."""
    if not exchanges:
        return False
    if where == "HTTP status":
        status_marks.add(len(exchanges) - 1)
        return True
    header = where.split(" ", 1)[0].lower()  # "Location ts" is about the Location header
    for n in range(len(exchanges) - 1, -1, -1):
        names = {k.lower() for k in (exchanges[n].get("response_headers") or {})}
        if header and "/" not in where and header in names:
            header_marks.setdefault(n, set()).add(header)
            return True
        spans = highlight.find(str(exchanges[n].get("response_body", "")), where)
        if spans:
            body_spans.setdefault(n, []).extend(spans)
            return True
    return False


def _mark(text: str) -> Markup:
    return Markup('<mark class="hit">') + escape(text) + Markup("</mark>")
