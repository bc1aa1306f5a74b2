"""The run's event stream: JSON lines with their own schema (schemas/events.schema.json).

A run is a header, one event per check (and per collection error), and a footer.
The HTML report and the CI gate read only this stream, so a run can be re-rendered
later and two runs compared.  Events are built on the worker that ran the check (it
knows the exchanges and the tokens it learnt, and redacts them) and written by the
controlling process, which sees every report, with or without pytest-xdist.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from conformance.outcome import Exchange, Failure
from conformance.redaction import Redactor

SCHEMA_VERSION = 1


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def file_hashes(paths: Iterable[Path], root: Path | None = None) -> dict[str, str]:
    hashes = {}
    for path in paths:
        name = str(path.relative_to(root)) if root and path.is_relative_to(root) else str(path)
        hashes[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def exchange_json(exchange: Exchange, redactor: Redactor) -> dict[str, Any]:
    r = redactor.redact
    return {
        "method": exchange.method,
        "url": r(exchange.url),
        "request_headers": {k: r(v) for k, v in exchange.request_headers.items()},
        "request_body": r(exchange.request_body),
        "status": exchange.status,
        "response_headers": {k: r(v) for k, v in exchange.response_headers.items()},
        "response_body": r(exchange.response_body),
        "elapsed_ms": round(exchange.elapsed_ms, 2),
    }


def failure_json(failure: Failure, redactor: Redactor) -> dict[str, str]:
    return {
        "clause": failure.clause,
        "where": redactor.redact(failure.where),
        "message": redactor.redact(failure.message),
    }


def redact_event(event: Mapping[str, Any], redactor: Redactor) -> dict[str, Any]:
    """Redact every string in an event (the controller's pass, after the worker's)."""

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return redactor.redact(value)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        return value

    return {k: walk(v) for k, v in event.items()}


class EventWriter:
    """Appends events to a JSON-lines file, flushed per line (a crash loses nothing)."""

    def __init__(self, path: Path, redactor: Redactor) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.redactor = redactor
        self._handle: IO[str] = path.open("w", encoding="utf-8")
        self._lock = threading.Lock()
        self.counts = {"passed": 0, "failed": 0, "errored": 0, "skipped": 0}
        # The footer's totals, kept as events pass (not re-read from the file at the end).
        self.created: list[Any] = []
        self.requests: dict[str, int] = {}
        self.started = time.monotonic()

    def write(self, event: Mapping[str, Any]) -> None:
        clean = redact_event(event, self.redactor)
        if clean.get("event") == "check":
            self.counts[clean["verdict"]] = self.counts.get(clean["verdict"], 0) + 1
            self.created.extend(clean.get("created", []))
            if clean.get("method"):
                self.requests[clean["method"]] = self.requests.get(clean["method"], 0) + clean.get(
                    "requests", 0
                )
        line = json.dumps(clean, ensure_ascii=False, sort_keys=False)
        with self._lock:
            self._handle.write(line + "\n")
            self._handle.flush()

    def close(self, exit_status: int) -> None:
        self.write(
            {
                "event": "footer",
                "finished": now_iso(),
                "duration_s": round(time.monotonic() - self.started, 3),
                "counts": dict(self.counts),
                "exit_status": exit_status,
                "created": self.created,
                "requests": self.requests,
            }
        )
        self._handle.close()


def read_events(path: Path) -> list[dict[str, Any]]:
    """Load and validate an event file; a broken line is a one-line error with its number."""
    import jsonschema

    from conformance.resources import schema_dir
    from conformance.yamlfile import DataFileError

    schema = json.loads((schema_dir() / "events.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    events = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataFileError(path, number, f"not JSON: {exc.msg}") from None
            error = jsonschema.exceptions.best_match(validator.iter_errors(event))
            if error is not None:
                where = ".".join(str(p) for p in error.absolute_path) or "(event)"
                raise DataFileError(path, number, f"{where}: {error.message}")
            events.append(event)
    if not events or events[0]["event"] != "header":
        raise DataFileError(path, 1, "an event file starts with a header event")
    return events


_CODE = re.compile(r"<(?:\w+:)?code>(\d+)</(?:\w+:)?code>|\"code\"\s*:\s*\"(\d+)\"")
_RETURN = re.compile(r"<(?:\w+:)?ReturnCode>(-?\d+)</")


def codes_seen(exchanges: Iterable[Exchange]) -> list[str]:
    """The error codes and ReturnCodes the target answered (for the report's tally)."""
    seen: list[str] = []
    for ex in exchanges:
        body = ex.response_body
        if "errorResponse" in body:
            for a, b in _CODE.findall(body):
                seen.append(f"L:{a or b}")
        for rc in _RETURN.findall(body):
            seen.append(f"K:{rc}")
    return sorted(set(seen))


def check_event(item: Any, report: Any, redactor: Redactor) -> dict[str, Any]:
    """The event of one YAML-case check (built where it ran, redacted there)."""
    check = item.check
    verdict = item.verdict or ("failed" if report.failed else "skipped" if report.skipped else "passed")
    event: dict[str, Any] = {
        "event": "check",
        "id": report.nodeid,
        "kind": "case",
        "file": str(check.case.path.name),
        "line": check.test.line,
        "case": check.case.description,
        "test": check.test.description,
        "variant": check.variant,
        "api": check.case.api,
        "method": check.method,
        "clauses": list(check.clauses),
        "failed_clauses": list(item.failed_clauses),
        "verdict": verdict,
        "duration_ms": round(report.duration * 1000, 2),
        "exchanges": [exchange_json(e, redactor) for e in item.exchanges],
        "codes_seen": codes_seen(item.exchanges),
        "requests": len(item.exchanges),
    }
    failure = item.failure
    if verdict == "failed" and failure is not None:
        event["message"] = redactor.redact(failure.headline)
        event["failures"] = [failure_json(f, redactor) for f in failure.failures]
    elif verdict == "errored":
        event["reason"] = redactor.redact(failure.reason if failure is not None else str(report.longrepr))
    elif verdict == "skipped" and item.skip is not None:
        event["reason"] = item.skip.reason
        event["skip_kind"] = (
            "policy" if item.skip.policy else "unobservable" if item.skip.unobservable else "not-applicable"
        )
    elif report.failed:  # a bug in the suite itself surfaces as an error, not a target failure
        event["verdict"] = "errored"
        event["reason"] = redactor.redact(str(report.longrepr).strip().splitlines()[-1][:500])
    created = [c for c in getattr(item, "created", [])]
    if created:
        event["created"] = created
    return event


def property_event(item: Any, report: Any, clauses: Iterable[str], redactor: Redactor) -> dict[str, Any]:
    """The event of a hypothesis property or any test marked ``@pytest.mark.clauses(...)``."""
    clause_list = list(clauses)
    if report.passed:
        verdict = "passed"
    elif report.skipped:
        verdict = "skipped"
    else:
        verdict = "errored" if getattr(report, "conformance_errored", False) else "failed"
    event: dict[str, Any] = {
        "event": "check",
        "id": report.nodeid,
        "kind": "property",
        "file": str(item.path.name),
        "test": item.name,
        "clauses": clause_list,
        "failed_clauses": clause_list if verdict == "failed" else [],
        "verdict": verdict,
        "duration_ms": round(report.duration * 1000, 2),
    }
    if verdict in ("failed", "errored"):
        event["message"] = redactor.redact(str(report.longrepr)[-4000:])
    if verdict == "skipped":
        longrepr = report.longrepr
        event["reason"] = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return event
