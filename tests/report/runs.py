"""Hand-made event streams for the report's tests: a header, check events, a footer.

Each builder returns one event as the plugin writes it (valid against
``schemas/events.schema.json``, which ``read_events`` enforces), so the report's tests
depend on the event format only, never on a live run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

LUMINATE_URL = "http://127.0.0.1:8750/site/SRConsAPI"

ERROR_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<errorResponse xsi:schemaLocation="http://convio.com/crm/v1.0 http://service.convio.net/xmlschema/crm.public.v1.xsd"'
    ' xmlns="http://convio.com/crm/v1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
    "  <code>23</code>\n"
    "  <message>Input size error. interaction_subject is longer than 80 characters.</message>\n"
    "</errorResponse>\n"
)

GET_INTERACTION_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<getInteractionResponse xmlns="http://convio.com/crm/v1.0">\n'
    "  <interaction>\n    <interactionId>7</interactionId>\n"
    "    <note>\n      <subject>note &lt;subject&gt;</subject>\n    </note>\n"
    "    <subject>Tom &amp; Jerry &lt;b&gt;</subject>\n    <count>1</count>\n"
    "  </interaction>\n</getInteractionResponse>\n"
)

SOAP_RESULT = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    '<RecordInteractionResponse xmlns="https://app.smartbutton.com/Services/"><RecordInteractionResult>'
    "<ReturnCode>503</ReturnCode><InteractionId>-1</InteractionId>"
    "</RecordInteractionResult></RecordInteractionResponse></soap:Body></soap:Envelope>"
)


def header(run_id: str = "run0000001", **profile: Any) -> dict[str, Any]:
    return {
        "event": "header", "schema": 1, "suite_version": "0.1.0", "run_id": run_id,
        "started": "2026-01-05T10:00:00.000+00:00",
        "profile": {"name": "staging-acme", "fingerprint": "0123456789abcdef", "strict": False,
                    "writes": "allowed", "embedded": False,
                    "endpoints": {"luminate": "https://secure2.example.org/acme/site"}, **profile},
        "case_files": {"logInteraction.yaml": "0" * 64},
    }


def exchange(body: str, *, status: int = 200, request: str = "method=logInteraction&api_key=***&v=1.0",
             url: str = LUMINATE_URL, content_type: str = "text/xml;charset=UTF-8") -> dict[str, Any]:
    return {"method": "POST", "url": url,
            "request_headers": {"Content-Type": "application/x-www-form-urlencoded"},
            "request_body": request, "status": status,
            "response_headers": {"content-type": content_type}, "response_body": body, "elapsed_ms": 3.5}


def check(name: str, verdict: str = "passed", clauses: Iterable[str] = ("L-L2",), *,
          method: str = "logInteraction", variant: str = "xml", case: str = "subject length limit",
          **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event": "check", "id": f"logInteraction.yaml::{case} / {name} [{variant}]", "kind": "case",
        "file": "logInteraction.yaml", "line": 9, "case": case, "test": name, "variant": variant,
        "api": "SRConsAPI", "method": method, "clauses": list(clauses), "failed_clauses": [],
        "verdict": verdict, "duration_ms": 4.2, "exchanges": [], "codes_seen": [], "requests": 0,
    }
    if verdict == "failed":
        event["failed_clauses"] = list(clauses)
        event.setdefault("message", f"POST SRConsAPI {method} [{', '.join(clauses)}] {variant}: broken")
    event.update(extra)
    if event["exchanges"]:
        event["requests"] = len(event["exchanges"])
    return event


def failed_code_check(name: str = "a subject of 81 characters is refused", **extra: Any) -> dict[str, Any]:
    """The classic failure: the target answered code 23 where 22 was expected."""
    return check(
        name, "failed",
        message="POST SRConsAPI logInteraction [L-L2] xml: /errorResponse/code: '23' is not code 22",
        failures=[{"clause": "", "where": "/errorResponse/code", "message": "'23' is not code 22"}],
        exchanges=[exchange(ERROR_XML, status=403,
                            request="method=logInteraction&interaction_subject=" + "s" * 81)],
        codes_seen=["L:23"], **extra)


def footer(events: Iterable[Mapping[str, Any]], **extra: Any) -> dict[str, Any]:
    counts = {"passed": 0, "failed": 0, "errored": 0, "skipped": 0}
    created: list[Any] = []
    for event in events:
        if event["event"] == "check":
            counts[event["verdict"]] += 1
            created += event.get("created", [])
    return {"event": "footer", "finished": "2026-01-05T10:00:12.500+00:00", "duration_s": 12.5,
            "counts": counts, "exit_status": 1 if counts["failed"] else 0, "created": created,
            "requests": {"logInteraction": 3}, **extra}


def write_run(path: Path, checks: Iterable[Mapping[str, Any]], *, with_footer: bool = True,
              run_id: str = "run0000001", **footer_extra: Any) -> Path:
    events: list[Mapping[str, Any]] = [header(run_id), *checks]
    if with_footer:
        events.append(footer(events, **footer_extra))
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path
