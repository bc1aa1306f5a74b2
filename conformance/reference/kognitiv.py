"""The reference Kognitiv ``Interaction.asmx``: RecordInteraction over SOAP 1.1 and 1.2.

Transport in, transport out: GET serves the WSDL or a help page, POST parses the
envelope (:mod:`~conformance.reference.envelope`), reads the request and judges it
(:mod:`~conformance.reference.kognitiv_rules`), stores a success and answers.  Business
errors are ReturnCodes in an HTTP 200 answer; only a request that is not a usable
envelope, or names another operation, gets a Fault (K-F1).  Nothing escapes
:meth:`KognitivService.handle`: an unexpected error is a Server/Receiver Fault, logged
with every secret redacted, and stores nothing.
"""

from __future__ import annotations

import html
import logging
import traceback
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from lxml import etree

from conformance.profile import Profile, Secrets
from conformance.reference.database import Database
from conformance.reference.envelope import (
    SOAP12,
    Call,
    EnvelopeError,
    SoapVersion,
    answer,
    fault,
    name_of,
    parse_call,
    version_for_content_type,
)
from conformance.reference.fault import FaultSet
from conformance.reference.kognitiv_rules import (
    OPERATION,
    InteractionRules,
    ReturnCode,
    read_request,
)
from conformance.reference.reply import Reply
from conformance.reference.wsdl import ServiceDescription, soap_action

logger = logging.getLogger(__name__)

#: InteractionId of every answer that is not a success (K-R2).
NO_INTERACTION = -1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kognitiv_interaction (
    interaction_id   INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused (K-R2: new per call)
    account_id       TEXT NOT NULL,
    location         TEXT NOT NULL,
    interaction_type TEXT NOT NULL,
    note             TEXT,
    soap_version     TEXT NOT NULL,
    recorded_at      TEXT NOT NULL
)
"""

_ALLOWED = "GET, HEAD, POST"
_TEXT = "text/plain; charset=utf-8"
_WSDL_TYPE = "text/xml; charset=utf-8"


class KognitivService:
    """One ``Interaction.asmx`` for the profile's ``kognitiv`` section."""

    def __init__(self, profile: Profile, secrets: Secrets, db: Database) -> None:
        kg = profile.kognitiv
        if kg is None:
            raise ValueError(f"profile {profile.name!r} has no kognitiv section")
        self._namespace = kg.namespace
        # Deliberate mistakes switched on for `conformance selftest` (fault.py).
        self.faults = FaultSet(profile.faults)
        self._rules = InteractionRules(
            token=secrets[kg.token],
            no_permission_token=secrets.get(kg.no_permission_token),
            active_accounts=frozenset({kg.active_account}),
            inactive_accounts=frozenset(a for a in (kg.inactive_account,) if a is not None),
            location=kg.location,
            interaction_type=kg.interaction_type,
            faults=self.faults,
        )
        self._secrets = secrets
        self._db = db
        self._description = ServiceDescription(kg.namespace)
        with db.transaction() as conn:
            conn.execute(_SCHEMA)

    def handle(  # the positional signature is the app's calling convention
        self,
        http_method: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
        service_url: str,
        oversize: bool = False,
    ) -> Reply:
        """Answer one HTTP request; never raises."""
        try:
            # HEAD is GET without the body (RFC 9110 asks every server for both); the
            # ASGI server drops the body and keeps the Content-Length.
            if http_method in ("GET", "HEAD"):
                return self._get(query, service_url)
            if http_method == "POST":
                return self._post(headers, body, oversize)
            return Reply(405, b"method not allowed\n", _TEXT, (("Allow", _ALLOWED),))
        except Exception:
            self._log_internal_error()
            if http_method == "POST":
                return fault(
                    version_for_content_type(headers.get("content-type")), "internal error", sender=False
                )
            return Reply(500, b"internal error\n", _TEXT)

    def _get(self, query: str, service_url: str) -> Reply:
        # ASP.NET accepts ?WSDL in any letter case, with or without a value.
        if any(key.lower() == "wsdl" for key, _ in parse_qsl(query, keep_blank_values=True)):
            document = self._description.render(service_url)
            if self.faults("wsdl-input-renamed"):
                document = document.replace(b'name="preqRecordInteraction"', b'name="request"')
            return Reply(200, document, _WSDL_TYPE)
        return Reply(200, self._help_page(service_url), "text/html; charset=utf-8")

    def _post(self, headers: Mapping[str, str], body: bytes, oversize: bool) -> Reply:
        content_type = headers.get("content-type")
        if oversize:
            return fault(version_for_content_type(content_type), "the request body is too large")
        try:
            call = parse_call(body, content_type)
        except EnvelopeError as exc:
            if self.faults("malformed-envelope-200"):
                return self._result(exc.version, ReturnCode.UNDEFINED_ERROR, NO_INTERACTION)
            return fault(exc.version, str(exc))
        if call.version is SOAP12 and self.faults("soap12-refused"):
            return fault(call.version, "SOAP 1.2 is not supported")
        # The Body's element is the operation, whatever SOAPAction says (K-F1 DECIDED).
        known = etree.QName(call.operation) == etree.QName(self._namespace, OPERATION)
        if not known and not self.faults("unknown-operation-recorded"):
            return fault(call.version, f"unknown operation {name_of(call.operation)}")
        try:
            return self._record(call)
        except Exception:
            self._log_internal_error()
            return fault(call.version, "internal error", sender=False)

    def _record(self, call: Call) -> Reply:
        request = read_request(call.operation, self._namespace)
        code = self._rules.judge(request)
        if code != ReturnCode.SUCCESS:
            logger.debug("RecordInteraction answered ReturnCode %d", code)
            if self.faults("business-error-fault"):
                return fault(call.version, f"RecordInteraction failed with code {code}")
            return self._result(call.version, code, 0 if self.faults("failure-id-zero") else NO_INTERACTION)
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO kognitiv_interaction"
                " (account_id, location, interaction_type, note, soap_version, recorded_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    request.account_id,
                    request.location,
                    request.interaction_type,
                    request.note,
                    call.version.name,
                    datetime.now(UTC).isoformat(timespec="seconds"),
                ),
            )
            interaction_id = cursor.lastrowid
            if interaction_id is None or interaction_id <= 0:
                raise RuntimeError("SQLite returned no row id for the new interaction")
            if self.faults("interaction-id-repeats"):
                first = conn.execute(
                    "SELECT MIN(interaction_id) FROM kognitiv_interaction WHERE account_id = ?",
                    (request.account_id,),
                ).fetchone()
                interaction_id = int(first[0])
            # Rendered inside the transaction: if the answer cannot be built, the row
            # is rolled back, so a Fault never leaves a recorded interaction behind.
            reply = self._result(call.version, ReturnCode.SUCCESS, interaction_id)
        logger.debug("RecordInteraction recorded interaction %d", interaction_id)
        return reply

    def _result(self, version: SoapVersion, code: int, interaction_id: int) -> Reply:
        ns = self._namespace
        response = etree.Element(etree.QName(ns, f"{OPERATION}Response"), nsmap={None: ns})
        result_name = f"{OPERATION}Return" if self.faults("result-renamed") else f"{OPERATION}Result"
        result = etree.SubElement(response, etree.QName(ns, result_name))
        etree.SubElement(result, etree.QName(ns, "ReturnCode")).text = str(int(code))
        if code == ReturnCode.SUCCESS or not self.faults("interaction-id-omitted"):
            etree.SubElement(result, etree.QName(ns, "InteractionId")).text = str(interaction_id)
        return Reply(200, answer(version, response), version.content_type)

    def _log_internal_error(self) -> None:
        # A traceback can quote request data (a token included), so it is redacted as
        # a whole before it reaches the log.
        text = traceback.format_exc()
        for secret in sorted(self._secrets.values(), key=len, reverse=True):
            text = text.replace(secret, "[redacted]")
        logger.error("Kognitiv reference: internal error\n%s", text)

    def _help_page(self, service_url: str) -> bytes:
        ns = self._namespace
        fields = "".join(
            f"<{name}>string</{name}>"
            for name in (
                "SecurityToken",
                "AccountId",
                "LocationExternalReference",
                "InteractionTypeExternalReference",
                "InteractionNote",
            )
        )
        sample = (
            f'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            f'<{OPERATION} xmlns="{ns}"><preqRecordInteraction>{fields}</preqRecordInteraction>'
            f"</{OPERATION}></soap:Body></soap:Envelope>"
        )
        e = html.escape
        title = "Interaction Service" if self.faults("control-help-page-title") else "Interaction"
        page = (
            f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
            "<h1>Interaction</h1>"
            f"<p>Operation: <b>{OPERATION}</b> (SOAP 1.1 and SOAP 1.2, namespace {e(ns)}).</p>"
            f"<p>Service description: <a href='{e(service_url)}?WSDL'>{e(service_url)}?WSDL</a></p>"
            f"<p>SOAP 1.1 request (POST, <code>Content-Type: text/xml; charset=utf-8</code>, "
            f"<code>SOAPAction: &quot;{e(soap_action(ns, OPERATION))}&quot;</code>):</p>"
            f"<pre>{e(sample)}</pre>"
            "</body></html>"
        )
        return page.encode("utf-8")
