"""Secrets never leave the process: not in messages, logs, events, JUnit or the report.

Distinctive values are planted in the environment variables of an embedded profile
copy; checks that fail with those values in their requests and answers
(tests/safety/cases/secrets.yaml) run with every output switched on: the event file,
JUnit XML with captured logs, live DEBUG logging on the terminal, ``-rA``; then the
HTML report is built from the events.  Every file and both streams are searched for
each value in raw, percent-encoded, XML-escaped and JSON-escaped forms, and for the
value's distinctive core alone, which is the same in every encoding, so that a
secret cut short or encoded some other way is caught too.
"""

from __future__ import annotations

import html
import json
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote, quote_plus
from xml.sax.saxutils import escape

import pytest

from conformance.profile import load_profile
from tests.safety.run import REPO, run_suite, write_profile

CASES = Path(__file__).parent / "cases" / "secrets.yaml"
#: Characters that every encoding changes: space, &, <, >, quotes, +, /, =, %, non-ASCII.
NOISE = " &<ü>\"'+/=%"
#: Long enough (70 characters in all) that a message clips the value to show it, and
#: short enough for an interaction subject (80): a clipped secret must not leak either.
PADDING = "-" * 44


def planted(profile: Path) -> dict[str, str]:
    """One value per credential: a unique core, then characters every encoding changes."""
    return {c.env: f"K{uuid.uuid4().hex[:14]}{NOISE}{PADDING}" for c in load_profile(profile).credentials()}


def core(value: str) -> str:
    return value.split(" ", 1)[0]


def forms(value: str) -> set[str]:
    """The shapes a value takes on its way out: a form body, a URL, XML, JSON."""
    percent = {quote(value, safe=""), quote(value), quote_plus(value)}
    percent |= {p.lower() for p in percent}  # lower-case hex digits are legal too
    return {
        value,
        *percent,
        html.escape(value),
        html.escape(value, quote=False),
        escape(value),
        escape(value, {"'": "&apos;", '"': "&quot;"}),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        core(value),
    }


def test_no_secret_in_any_output(tmp_path: Path) -> None:
    """One run (one test, so one xdist worker runs it), then the report, then the search."""
    profile = write_profile(tmp_path, "secrets")
    values = planted(profile)
    verbose = ["-rA", "-v", "-o", "junit_logging=all", "--log-level=DEBUG"]
    live_logs = ["-o", "log_cli=true", "-o", "log_cli_level=DEBUG"]
    run = run_suite(tmp_path, profile, str(CASES), "-p", "no:xdist", *verbose, *live_logs, env=values)
    # The control: every check reached its (wrong) expectation, so the secrets worked
    # (a login, an api_key, a token refused would have errored or failed elsewhere),
    # and masks stand where they were.
    verdicts = {e["test"]: e["verdict"] for e in run.checks}
    assert list(verdicts.values()) == ["failed"] * 4, run.output[-4000:]
    assert "***" in run.stdout and "***" in json.dumps(run.events)

    report = tmp_path / "report.html"
    built = subprocess.run(
        [sys.executable, "-m", "conformance", "report", str(tmp_path / "run.jsonl"), "-o", str(report)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if "invalid choice: 'report'" in built.stderr:
        pytest.skip("`conformance report` is not available in this build")
    assert built.returncode == 0 and report.exists(), built.stderr

    outputs = {
        "stdout": run.stdout,
        "stderr": run.stderr,
        "report's stdout/stderr": built.stdout + built.stderr,
    }
    for path in sorted(p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".yaml"):
        outputs[path.name] = path.read_text(encoding="utf-8", errors="replace")
    assert {"run.jsonl", "junit.xml", "report.html"} <= set(outputs)
    leaks = [
        f"{name}: {variable} as {form!r}"
        for name, text in outputs.items()
        for variable, value in values.items()
        for form in forms(value)
        if form in text
    ]
    assert leaks == []


def test_log_records_are_redacted_before_any_handler_formats_them() -> None:
    import logging

    from conformance.redaction import RedactingFilter, Redactor

    secret = f"K{uuid.uuid4().hex[:14]}{NOISE}"
    redacting = RedactingFilter(Redactor([secret]).redact)
    try:
        raise ValueError(f"bad value {secret}")
    except ValueError:
        record = logging.LogRecord(
            "urllib3", logging.DEBUG, __file__, 1, "POST /x?k=%s", (quote_plus(secret),), None
        )
        record.exc_info = sys.exc_info()
    assert redacting.filter(record)
    shown = logging.Formatter().format(record)
    assert "POST /x?k=***" in shown and "bad value ***" in shown
    assert [f for f in forms(secret) if f in shown] == []
