"""Kognitiv RecordInteraction from the suite's side: envelopes out, results in.

Envelopes are built here rather than by zeep so a case can also send what zeep would
never build (fields outside the namespace, no wrapper, SOAP 1.2 with any action).
zeep is used where it is the point: loading the target's WSDL and building a request
from it (K-T1).  Answers are parsed with a hardened lxml parser and validated against
the WSDL's embedded schema (K-R1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from conformance.answer import parse_xml, refuse_dtd
from conformance.outcome import Failure
from conformance.transport import HttpAnswer

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
RETURN_CODES = frozenset({0, 1, 100, 101, 300, 301, 503, 1200})
FIELDS = (
    "SecurityToken",
    "AccountId",
    "LocationExternalReference",
    "InteractionTypeExternalReference",
    "InteractionNote",
)


def envelope(namespace: str, fields: Mapping[str, str | None], version: str = "1.1") -> bytes:
    """A RecordInteraction envelope; a field whose value is None is left out."""
    env = SOAP11 if version == "1.1" else SOAP12
    inner = "".join(
        # CR as a character reference: a raw CR is turned into LF by any XML parser, so
        # the target would count other characters than were sent.
        f"<{name}>{escape(value, {chr(13): '&#13;'})}</{name}>"
        for name, value in fields.items()
        if value is not None
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{env}"><soap:Body>'
        f'<RecordInteraction xmlns="{escape(namespace, {chr(34): "&quot;"})}">'
        f"<preqRecordInteraction>{inner}</preqRecordInteraction>"
        "</RecordInteraction></soap:Body></soap:Envelope>"
    ).encode()


def headers_for(version: str, namespace: str, action: str | None = None) -> dict[str, str]:
    action = action if action is not None else namespace + "RecordInteraction"
    if version == "1.1":
        return {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}
    return {"Content-Type": f'application/soap+xml; charset=utf-8; action="{action}"'}


@dataclass
class SoapAnswer:
    status: int
    fault: bool
    return_code: str | None = None
    interaction_id: str | None = None
    failures: list[Failure] = field(default_factory=list)
    http: HttpAnswer | None = field(default=None, repr=False)


def read_answer(http: HttpAnswer, version: str, namespace: str) -> SoapAnswer:
    from lxml import etree

    body = http.body
    refuse_dtd(body, "the SOAP answer")
    answer = SoapAnswer(status=http.status, fault=False, http=http)
    mtype = http.header("content-type").split(";")[0].strip().lower()
    want_type = "text/xml" if version == "1.1" else "application/soap+xml"
    if mtype != want_type:
        answer.failures.append(Failure("K-T1", "Content-Type", f"'{mtype or '(none)'}' is not {want_type}"))
    try:
        root = parse_xml(body, "the SOAP answer")
    except etree.XMLSyntaxError as exc:
        answer.failures.append(
            Failure("K-T1", f"line {exc.lineno}", f"the answer is not well-formed XML: {exc.msg}")
        )
        return answer
    env_ns = SOAP11 if version == "1.1" else SOAP12
    if root.tag != f"{{{env_ns}}}Envelope":
        answer.failures.append(Failure("K-T1", "/", f"root {root.tag!r} is not a SOAP {version} Envelope"))
        return answer
    body_el = root.find(f"{{{env_ns}}}Body")
    payload = None if body_el is None else next((c for c in body_el if isinstance(c.tag, str)), None)
    if payload is None:
        answer.failures.append(Failure("K-T1", "/Envelope/Body", "no element in the SOAP Body"))
        return answer
    if payload.tag == f"{{{env_ns}}}Fault":
        answer.fault = True
        return answer
    if payload.tag != f"{{{namespace}}}RecordInteractionResponse":
        answer.failures.append(
            Failure(
                "K-T2", "/Envelope/Body", f"{payload.tag!r} is not {{{namespace}}}RecordInteractionResponse"
            )
        )
        return answer
    from conformance.validation import kognitiv_schemas

    for v in kognitiv_schemas(namespace).iter_result_errors(payload):
        answer.failures.append(Failure("K-R1", v.path, v.message))
    result = payload.find(f"{{{namespace}}}RecordInteractionResult")
    if result is not None:
        rc = result.find(f"{{{namespace}}}ReturnCode")
        iid = result.find(f"{{{namespace}}}InteractionId")
        answer.return_code = None if rc is None else (rc.text or "").strip()
        answer.interaction_id = None if iid is None else (iid.text or "").strip()
    return answer


def check_result(answer: SoapAnswer, spec: Any, strict: bool, seen_ids: set[str]) -> list[Failure]:
    """K-R2, K-R3, K-F1 and the expected ReturnCode."""
    from conformance.expectation import accepted_codes

    failures: list[Failure] = []
    where = "/RecordInteractionResponse/RecordInteractionResult"
    if answer.fault:
        return [
            Failure(
                "K-F1",
                "/Envelope/Body/Fault",
                "a SOAP Fault where a ReturnCode belongs (business errors are never Faults)",
            )
        ]
    if answer.status != 200:
        failures.append(
            Failure("K-F1", "HTTP status", f"{answer.status} is not 200 for a RecordInteraction result")
        )
    rc, iid = answer.return_code, answer.interaction_id
    if rc is None or not _is_int(rc):
        failures.append(Failure("K-R1", f"{where}/ReturnCode", f"{rc!r} is not an int"))
        return failures
    if iid is None or not _is_int(iid):
        failures.append(Failure("K-R1", f"{where}/InteractionId", f"{iid!r} is not an int"))
        return failures
    code = int(rc)
    if code not in RETURN_CODES:
        failures.append(
            Failure(
                "K-R3",
                f"{where}/ReturnCode",
                f"{code} is not a documented ReturnCode ({sorted(RETURN_CODES)})",
            )
        )
    if code == 0:
        if int(iid) <= 0:
            failures.append(
                Failure("K-R2", f"{where}/InteractionId", f"{iid} is not a positive id for ReturnCode 0")
            )
        elif iid in seen_ids:
            failures.append(
                Failure("K-R2", f"{where}/InteractionId", f"{iid} was already returned for another call")
            )
        seen_ids.add(iid)
    elif int(iid) != -1:
        failures.append(Failure("K-R2", f"{where}/InteractionId", f"{iid} is not -1 for ReturnCode {code}"))
    codes, said = accepted_codes(spec, strict)
    if codes is not None and code not in codes:
        failures.append(Failure("", f"{where}/ReturnCode", f"{code} is not {said}"))
    return failures


def check_fault(answer: SoapAnswer, version: str) -> list[Failure]:
    allowed = (500,) if version == "1.1" else (400, 500)
    failures = []
    if not answer.fault:
        got = f"ReturnCode {answer.return_code}" if answer.return_code is not None else "no Fault"
        failures.append(Failure("K-F1", "/Envelope/Body", f"expected a SOAP {version} Fault, got {got}"))
    if answer.status not in allowed:
        failures.append(
            Failure(
                "K-F1",
                "HTTP status",
                f"{answer.status} is not {' or '.join(map(str, allowed))} for a SOAP {version} Fault",
            )
        )
    return failures


def check_wsdl(http: HttpAnswer, namespace: str) -> list[Failure]:
    """K-T1: the target's WSDL describes RecordInteraction and zeep can use it."""
    from lxml import etree

    if http.status != 200:
        return [Failure("K-T1", "HTTP status", f"{http.status} for ?WSDL (expected 200)")]
    try:
        doc = parse_xml(http.body, "the WSDL")
    except etree.XMLSyntaxError as exc:
        return [Failure("K-T1", f"line {exc.lineno}", f"the WSDL is not well-formed XML: {exc.msg}")]
    return wsdl_failures(doc, http.body, namespace)


def wsdl_failures(doc: Any, raw: bytes, namespace: str) -> list[Failure]:
    wsdl = "http://schemas.xmlsoap.org/wsdl/"
    failures = []
    if doc.get("targetNamespace") != namespace:
        failures.append(
            Failure(
                "K-T2",
                "/definitions/@targetNamespace",
                f"{doc.get('targetNamespace')!r} is not {namespace!r}",
            )
        )
    ops = doc.findall(f"{{{wsdl}}}portType/{{{wsdl}}}operation")
    if "RecordInteraction" not in {op.get("name") for op in ops}:
        failures.append(Failure("K-T1", "/definitions/portType", "no operation RecordInteraction"))
    text = raw.decode("utf-8", "replace")
    for name in ("preqRecordInteraction", "reqRecordInteraction", "respRecordInteraction"):
        if f'name="{name}"' not in text:
            failures.append(Failure("K-T1", "/definitions/types", f"no {name} in the WSDL's schema"))
    if failures:
        return failures
    failures.extend(_zeep_builds(raw, namespace))
    return failures


def _zeep_builds(raw: bytes, namespace: str) -> list[Failure]:
    """zeep, given the WSDL, must build a RecordInteraction request in the namespace."""
    import importlib
    import tempfile

    zeep: Any = importlib.import_module("zeep")  # untyped library: keep mypy's strictness elsewhere
    from lxml import etree

    with tempfile.NamedTemporaryFile(suffix=".wsdl") as handle:
        handle.write(raw)
        handle.flush()
        try:
            client = zeep.Client(handle.name, transport=zeep.Transport(session=_offline_session()))
            message = client.create_message(
                client.service,
                "RecordInteraction",
                preqRecordInteraction={
                    "SecurityToken": "t",
                    "AccountId": "a",
                    "LocationExternalReference": "l",
                    "InteractionTypeExternalReference": "i",
                },
            )
        except Exception as exc:  # zeep raises many types; any is the WSDL failing K-T1
            return [Failure("K-T1", "WSDL", f"zeep cannot build RecordInteraction from it: {str(exc)[:200]}")]
    text = etree.tostring(message).decode()
    if namespace not in text or "preqRecordInteraction" not in text:
        return [
            Failure("K-T1", "WSDL", "zeep's request lacks preqRecordInteraction in the service namespace")
        ]
    return []


def _offline_session() -> Any:
    import requests

    session = requests.Session()
    session.trust_env = False
    # The WSDL must be self-contained; an import that reaches the network fails.
    session.get = _refuse  # type: ignore[method-assign]
    return session


def _refuse(*_args: Any, **_kwargs: Any) -> Any:
    raise OSError("the WSDL refers to an outside document (not fetched)")


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit() and text.count("-") <= 1
