"""The reference Interaction.asmx called directly (no server): every clause of Part K."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import pytest
import xmlschema
from lxml import etree

from conformance.profile import Profile, Secrets, bundled_profile_path, load_profile, resolve_secrets
from conformance.reference import kognitiv as kognitiv_module
from conformance.reference.database import Database
from conformance.reference.envelope import SOAP11_NS, SOAP12_NS
from conformance.reference.kognitiv import KognitivService
from conformance.reference.kognitiv_rules import InteractionRequest, InteractionRules, ReturnCode
from conformance.reference.reply import Reply
from conformance.reference.wsdl import bundled_wsdl_path

NS = "https://app.smartbutton.com/Services/"
SERVICE_URL = "http://reference.test:8750/Services/Interaction.asmx"
SOAP11_TYPE = "text/xml; charset=utf-8"
SOAP12_TYPE = "application/soap+xml; charset=utf-8"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
XSD_NS = "http://www.w3.org/2001/XMLSchema"


@dataclass
class Harness:
    """A fresh service on its own database, with the profile and secrets behind it."""

    profile: Profile
    secrets: Secrets
    db: Database
    service: KognitivService

    @property
    def token(self) -> str:
        assert self.profile.kognitiv is not None
        return self.secrets[self.profile.kognitiv.token]

    @property
    def no_permission_token(self) -> str:
        assert self.profile.kognitiv is not None and self.profile.kognitiv.no_permission_token is not None
        return self.secrets[self.profile.kognitiv.no_permission_token]

    def valid_fields(self) -> dict[str, str | None]:
        kg = self.profile.kognitiv
        assert kg is not None
        return {
            "SecurityToken": self.token,
            "AccountId": kg.active_account,
            "LocationExternalReference": kg.location,
            "InteractionTypeExternalReference": kg.interaction_type,
            "InteractionNote": "Visited the Main Street store",
        }

    def post(self, body: bytes, content_type: str = "text/xml; charset=utf-8", **headers: str) -> Reply:
        all_headers = {"content-type": content_type, **{k.replace("_", "-"): v for k, v in headers.items()}}
        return self.service.handle("POST", "", all_headers, body, SERVICE_URL)

    def record(self, soap12: bool = False, **changes: str | None) -> tuple[int, int]:
        """Call RecordInteraction with the valid fields changed by ``changes``."""
        return self.send(changes, soap12)

    def send(self, changes: Mapping[str, str | None], soap12: bool = False) -> tuple[int, int]:
        fields = {**self.valid_fields(), **changes}
        if soap12:
            reply = self.post(envelope(fields, SOAP12_NS), "application/soap+xml; charset=utf-8")
        else:
            reply = self.post(envelope(fields), SOAPAction=f'"{NS}RecordInteraction"')
        return result_of(reply, soap12)

    def stored(self) -> list[dict[str, Any]]:
        with self.db.transaction() as conn:
            rows = conn.execute("SELECT * FROM kognitiv_interaction ORDER BY interaction_id").fetchall()
        return [dict(row) for row in rows]


def make_harness(profile: Profile | None = None) -> Harness:
    profile = profile or load_profile(bundled_profile_path())
    secrets = resolve_secrets(profile, {}, generate_missing=True)
    db = Database()
    return Harness(profile, secrets, db, KognitivService(profile, secrets, db))


@pytest.fixture
def harness() -> Iterator[Harness]:
    h = make_harness()
    yield h
    h.db.close()


def with_kognitiv(**changes: Any) -> Profile:
    profile = load_profile(bundled_profile_path())
    assert profile.kognitiv is not None
    return replace(profile, kognitiv=replace(profile.kognitiv, **changes))


def envelope(fields: Mapping[str, str | None], soap_ns: str = SOAP11_NS, ns: str = NS) -> bytes:
    """A RecordInteraction request; a field whose value is None is left out."""
    env = etree.Element(etree.QName(soap_ns, "Envelope"), nsmap={"soap": soap_ns})
    body = etree.SubElement(env, etree.QName(soap_ns, "Body"))
    operation = etree.SubElement(body, etree.QName(ns, "RecordInteraction"), nsmap={None: ns})
    wrapper = etree.SubElement(operation, etree.QName(ns, "preqRecordInteraction"))
    for name, value in fields.items():
        if value is not None:
            etree.SubElement(wrapper, etree.QName(ns, name)).text = value
    return bytes(etree.tostring(env, xml_declaration=True, encoding="utf-8"))


def raw_envelope(body_xml: str, soap_ns: str = SOAP11_NS) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{soap_ns}">'
        f"<soap:Body>{body_xml}</soap:Body></soap:Envelope>"
    ).encode()


@pytest.fixture(scope="module")
def response_schema() -> xmlschema.XMLSchema:
    """The schema embedded in the bundled WSDL (what K-R1 validates answers against)."""
    wsdl = etree.parse(str(bundled_wsdl_path()))
    schema = wsdl.find(f"{{{WSDL_NS}}}types/{{{XSD_NS}}}schema")
    return xmlschema.XMLSchema(etree.tostring(schema).decode())


def result_of(reply: Reply, soap12: bool = False) -> tuple[int, int]:
    """(ReturnCode, InteractionId) of an ordinary answer, checking its envelope."""
    assert reply.status == 200, reply.body
    assert reply.content_type == (SOAP12_TYPE if soap12 else SOAP11_TYPE)
    root = etree.fromstring(reply.body)
    assert root.tag == f"{{{SOAP12_NS if soap12 else SOAP11_NS}}}Envelope"
    result = root.find(f"*/{{{NS}}}RecordInteractionResponse/{{{NS}}}RecordInteractionResult")
    assert result is not None, reply.body
    code = result.findtext(f"{{{NS}}}ReturnCode")
    interaction_id = result.findtext(f"{{{NS}}}InteractionId")
    assert code is not None and interaction_id is not None
    return int(code), int(interaction_id)


def fault_of(reply: Reply, soap12: bool = False, sender: bool = True) -> str:
    """The fault's message, after checking status, content type and fault code."""
    assert reply.status == (400 if soap12 and sender else 500), reply.body
    assert reply.content_type == (SOAP12_TYPE if soap12 else SOAP11_TYPE)
    root = etree.fromstring(reply.body)
    soap_ns = SOAP12_NS if soap12 else SOAP11_NS
    fault = root.find(f"{{{soap_ns}}}Body/{{{soap_ns}}}Fault")
    assert fault is not None, reply.body
    if soap12:
        code = fault.findtext(f"{{{soap_ns}}}Code/{{{soap_ns}}}Value")
        message = fault.findtext(f"{{{soap_ns}}}Reason/{{{soap_ns}}}Text")
        assert code == ("soap:Sender" if sender else "soap:Receiver")
    else:
        code, message = fault.findtext("faultcode"), fault.findtext("faultstring")
        assert code == ("soap:Client" if sender else "soap:Server")
    assert message
    return str(message)


# --- success and the ReturnCodes (K-R1, K-R2, K-R3, K-E1..K-E5) -----------------------


def test_valid_request_is_recorded_with_new_positive_ids(harness: Harness) -> None:
    first = harness.record()
    second = harness.record()
    assert first[0] == second[0] == 0
    assert 0 < first[1] < second[1]
    rows = harness.stored()
    assert [row["interaction_id"] for row in rows] == [first[1], second[1]]
    assert rows[0]["account_id"] == "ACCT-ACTIVE-0001"
    assert rows[0]["note"] == "Visited the Main Street store"
    assert "token" not in " ".join(rows[0])  # the token is not stored at all


def test_answers_validate_against_the_wsdl_schema(
    harness: Harness, response_schema: xmlschema.XMLSchema
) -> None:
    for changes in ({}, {"AccountId": "NOBODY"}):
        for soap12 in (False, True):
            fields = {**harness.valid_fields(), **changes}
            reply = (
                harness.post(envelope(fields, SOAP12_NS), "application/soap+xml")
                if soap12
                else harness.post(envelope(fields))
            )
            root = etree.fromstring(reply.body)
            response = root.find(f"*/{{{NS}}}RecordInteractionResponse")
            response_schema.validate(etree.tostring(response).decode())


FAILURES: list[tuple[str, dict[str, str | None], int]] = [
    ("token wrong", {"SecurityToken": "not-the-token"}, 100),
    ("token empty", {"SecurityToken": ""}, 100),
    ("token missing", {"SecurityToken": None}, 100),
    ("account unknown", {"AccountId": "ACCT-UNKNOWN-0001"}, 300),
    ("account other letter case", {"AccountId": "acct-active-0001"}, 300),
    ("account with spaces", {"AccountId": " ACCT-ACTIVE-0001 "}, 300),
    ("account inactive", {"AccountId": "ACCT-INACTIVE-0001"}, 301),
    ("location unknown", {"LocationExternalReference": "LOC-NOWHERE"}, 503),
    ("location other letter case", {"LocationExternalReference": "loc-main-street"}, 503),
    ("location empty", {"LocationExternalReference": ""}, 503),
    ("location missing", {"LocationExternalReference": None}, 503),
    ("type unknown", {"InteractionTypeExternalReference": "ITYPE-NONE"}, 1200),
    ("type other letter case", {"InteractionTypeExternalReference": "itype-store-visit"}, 1200),
    ("type missing", {"InteractionTypeExternalReference": None}, 1200),
    ("note 257 characters", {"InteractionNote": "n" * 257}, 1),
]


@pytest.mark.parametrize("soap12", [False, True], ids=["soap11", "soap12"])
@pytest.mark.parametrize(("changes", "code"), [f[1:] for f in FAILURES], ids=[f[0] for f in FAILURES])
def test_each_failure_has_its_code_and_id_minus_one(
    harness: Harness, changes: dict[str, str | None], code: int, soap12: bool
) -> None:
    assert harness.record(soap12=soap12, **changes) == (code, -1)
    assert harness.stored() == []


def test_token_in_other_letter_case_is_invalid(harness: Harness) -> None:
    assert harness.record(SecurityToken=harness.token.swapcase()) == (100, -1)
    assert harness.record(SecurityToken=harness.token + " ") == (100, -1)


def test_no_permission_token_is_101(harness: Harness) -> None:
    assert harness.record(SecurityToken=harness.no_permission_token) == (101, -1)
    assert harness.stored() == []


def test_every_documented_code_is_reachable(harness: Harness) -> None:
    seen = {code for _, _, code in FAILURES} | {101, harness.record()[0]}
    assert seen == {int(c) for c in ReturnCode}


# --- K-V1: AccountId required, at most 60 characters ------------------------------------


def test_account_id_of_60_characters_is_accepted() -> None:
    h = make_harness(with_kognitiv(active_account="é" * 59 + "A"))
    code, interaction_id = h.record(AccountId="é" * 59 + "A")
    assert (code, interaction_id > 0) == (0, True)


def test_account_id_of_61_characters_is_refused_even_when_known() -> None:
    # The limit is a rule of its own, not a side effect of the account being unknown.
    h = make_harness(with_kognitiv(active_account="A" * 61))
    assert h.record(AccountId="A" * 61) == (300, -1)
    assert h.stored() == []


@pytest.mark.parametrize("account", ["", None], ids=["empty", "missing"])
def test_empty_or_missing_account_id_is_300(harness: Harness, account: str | None) -> None:
    assert harness.record(AccountId=account) == (300, -1)


def test_nil_fields_are_absent(harness: Harness) -> None:
    fields = harness.valid_fields()
    body = envelope(fields).replace(
        b"<AccountId>ACCT-ACTIVE-0001</AccountId>",
        b'<AccountId xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/>',
    )
    assert result_of(harness.post(body)) == (300, -1)


# --- K-V2: InteractionNote optional, at most 256 characters ----------------------------


@pytest.mark.parametrize(
    ("note", "code"),
    [
        ("n" * 256, 0),
        ("n" * 257, 1),
        ("é" * 256, 0),  # 512 bytes in UTF-8: the limit counts characters
        ("é" * 257, 1),
        ("😀" * 256, 0),  # four bytes each, outside the BMP
        ("😀" * 257, 1),
        ("", 0),
        (None, 0),
    ],
    ids=["256", "257", "256-e-acute", "257-e-acute", "256-emoji", "257-emoji", "empty", "missing"],
)
def test_note_limit_counts_characters(harness: Harness, note: str | None, code: int) -> None:
    recorded, interaction_id = harness.record(InteractionNote=note)
    assert recorded == code
    assert (interaction_id > 0) if code == 0 else (interaction_id == -1)


def test_note_with_markup_and_non_ascii_round_trips_into_storage(harness: Harness) -> None:
    note = "<b>&amp;</b> \"quoted\" 'single' Zoë 東京 😀\ttab\r\nline"
    code, interaction_id = harness.record(InteractionNote=note)
    assert code == 0
    assert harness.stored()[0]["note"] == note
    assert harness.stored()[0]["interaction_id"] == interaction_id


# --- K-O1: the first fault in order wins -----------------------------------------------

ORDERED_FAULTS: list[tuple[str, str, str | None, int]] = [
    ("bad-token", "SecurityToken", "wrong-token", 100),
    ("no-permission", "SecurityToken", "<no-permission>", 101),
    ("unknown-account", "AccountId", "ACCT-UNKNOWN", 300),
    ("long-account", "AccountId", "A" * 61, 300),
    ("inactive-account", "AccountId", "ACCT-INACTIVE-0001", 301),
    ("bad-location", "LocationExternalReference", None, 503),
    ("bad-type", "InteractionTypeExternalReference", "ITYPE-NONE", 1200),
    ("long-note", "InteractionNote", "x" * 257, 1),
]
FAULT_PAIRS = [(a, b) for a, b in itertools.combinations(ORDERED_FAULTS, 2) if a[1] != b[1]]


@pytest.mark.parametrize(("first", "second"), FAULT_PAIRS, ids=[f"{a[0]}+{b[0]}" for a, b in FAULT_PAIRS])
def test_pair_of_faults_answers_the_earlier(
    harness: Harness, first: tuple[str, str, str | None, int], second: tuple[str, str, str | None, int]
) -> None:
    def value(fault: tuple[str, str, str | None, int]) -> str | None:
        return harness.no_permission_token if fault[2] == "<no-permission>" else fault[2]

    changes = {first[1]: value(first), second[1]: value(second)}
    assert harness.send(changes) == (first[3], -1)


def test_all_faults_at_once_answer_100(harness: Harness) -> None:
    changes = {field: value for _, field, value, _ in ORDERED_FAULTS if value != "<no-permission>"}
    assert harness.send(changes) == (100, -1)


# --- K-F1 DECIDED: namespace, wrapper, SOAPAction ---------------------------------------


def test_fields_outside_the_namespace_are_absent(harness: Harness) -> None:
    fields = "".join(f"<{k} xmlns='urn:other'>{v}</{k}>" for k, v in harness.valid_fields().items())
    body = raw_envelope(
        f'<RecordInteraction xmlns="{NS}"><preqRecordInteraction>{fields}'
        f"</preqRecordInteraction></RecordInteraction>"
    )
    assert result_of(harness.post(body)) == (100, -1)


def test_unqualified_fields_are_absent(harness: Harness) -> None:
    fields = "".join(f"<{k}>{v}</{k}>" for k, v in harness.valid_fields().items())
    body = raw_envelope(
        f'<r:RecordInteraction xmlns:r="{NS}"><r:preqRecordInteraction>{fields}'
        f"</r:preqRecordInteraction></r:RecordInteraction>"
    )
    assert result_of(harness.post(body)) == (100, -1)


def test_one_field_outside_the_namespace_is_that_field_absent(harness: Harness) -> None:
    body = envelope(harness.valid_fields()).replace(b"<AccountId>", b'<AccountId xmlns="urn:other">')
    assert result_of(harness.post(body)) == (300, -1)


def test_missing_wrapper_makes_every_field_absent(harness: Harness) -> None:
    fields = "".join(f"<{k}>{v}</{k}>" for k, v in harness.valid_fields().items())
    body = raw_envelope(f'<RecordInteraction xmlns="{NS}">{fields}</RecordInteraction>')
    assert result_of(harness.post(body)) == (100, -1)


def test_wrapper_in_another_namespace_is_missing(harness: Harness) -> None:
    body = envelope(harness.valid_fields()).replace(
        b"<preqRecordInteraction>", b'<preqRecordInteraction xmlns="urn:other">'
    )
    assert result_of(harness.post(body)) == (100, -1)


@pytest.mark.parametrize(
    "action",
    [None, '""', '"https://app.smartbutton.com/Services/GetMember"', "urn:nonsense"],
    ids=["absent", "empty", "other-operation", "nonsense"],
)
def test_soap_action_is_ignored(harness: Harness, action: str | None) -> None:
    headers = {} if action is None else {"SOAPAction": action}
    code, interaction_id = result_of(harness.post(envelope(harness.valid_fields()), **headers))
    assert code == 0 and interaction_id > 0


def test_comments_and_cdata_do_not_change_a_field(harness: Harness) -> None:
    body = envelope(harness.valid_fields()).replace(
        b"<AccountId>ACCT-ACTIVE-0001</AccountId>",
        b"<AccountId>ACCT-<!-- c -->ACTIVE<![CDATA[-0001]]></AccountId>",
    )
    assert result_of(harness.post(body))[0] == 0


# --- SOAP 1.2 (K-T1 DECIDED) -----------------------------------------------------------


def test_soap12_request_gets_a_soap12_answer(harness: Harness) -> None:
    code, interaction_id = harness.record(soap12=True)
    assert code == 0 and interaction_id > 0
    assert harness.stored()[0]["soap_version"] == "1.2"


def test_version_follows_the_envelope_not_the_content_type(harness: Harness) -> None:
    reply = harness.post(envelope(harness.valid_fields(), SOAP12_NS), "text/xml")
    assert result_of(reply, soap12=True)[0] == 0


# --- Faults (K-F1) ---------------------------------------------------------------------


@pytest.mark.parametrize("soap12", [False, True], ids=["soap11", "soap12"])
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<soap:Envelope xmlns:soap='x'><soap:Body>", "well-formed"),
        (b"not xml at all", "well-formed"),
        (b"", "empty"),
        (b"  \r\n", "empty"),
        (b"<RecordInteraction xmlns='https://app.smartbutton.com/Services/'/>", "root element"),
    ],
    ids=["truncated", "text", "empty", "blank", "no-envelope"],
)
def test_unusable_body_is_a_fault_in_the_announced_version(
    harness: Harness, body: bytes, expected: str, soap12: bool
) -> None:
    content_type = "application/soap+xml; charset=utf-8" if soap12 else "text/xml; charset=utf-8"
    assert expected in fault_of(harness.post(body, content_type), soap12)


@pytest.mark.parametrize("soap_ns", [SOAP11_NS, SOAP12_NS], ids=["soap11", "soap12"])
@pytest.mark.parametrize(
    ("inner", "expected"),
    [
        (f"<GetMember xmlns='{NS}'/>", "unknown operation"),
        ("<RecordInteraction xmlns='urn:other'/>", "unknown operation"),
        ("<RecordInteraction/>", "unknown operation"),
        ("<!-- nothing -->", "Body is empty"),
    ],
    ids=["other-name", "other-namespace", "no-namespace", "empty-body"],
)
def test_unknown_operation_is_a_fault(harness: Harness, inner: str, expected: str, soap_ns: str) -> None:
    reply = harness.post(raw_envelope(inner, soap_ns))
    assert expected in fault_of(reply, soap12=soap_ns == SOAP12_NS)


def test_envelope_without_body_is_a_fault(harness: Harness) -> None:
    body = f'<soap:Envelope xmlns:soap="{SOAP11_NS}"><soap:Header/></soap:Envelope>'.encode()
    assert "no Body" in fault_of(harness.post(body))


def test_header_before_body_is_fine(harness: Harness) -> None:
    body = envelope(harness.valid_fields()).replace(
        b"<soap:Body>", b"<soap:Header><h:Trace xmlns:h='urn:h'>1</h:Trace></soap:Header><soap:Body>"
    )
    assert result_of(harness.post(body))[0] == 0


@pytest.mark.parametrize("soap12", [False, True], ids=["soap11", "soap12"])
def test_oversize_body_is_a_fault_and_stores_nothing(harness: Harness, soap12: bool) -> None:
    content_type = "application/soap+xml" if soap12 else "text/xml"
    reply = harness.service.handle(
        "POST", "", {"content-type": content_type}, b"", SERVICE_URL, oversize=True
    )
    assert "too large" in fault_of(reply, soap12)
    assert harness.stored() == []


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE soap:Envelope [<!ENTITY a "aaaaaaaaaa">'
    + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)
    )  # b..j: j expands to 10**10 characters
    + "]>"
)


def test_billion_laughs_is_refused_fast_without_expansion(harness: Harness) -> None:
    fields = {**harness.valid_fields(), "InteractionNote": "&j;"}
    body = BILLION_LAUGHS.encode() + envelope(fields).split(b"?>", 1)[1].replace(b"&amp;j;", b"&j;")
    assert b"&j;" in body
    started = time.perf_counter()
    reply = harness.post(body)
    assert time.perf_counter() - started < 1.0
    fault_of(reply)
    assert len(reply.body) < 1000
    assert harness.stored() == []


def test_external_entity_is_neither_read_nor_accepted(harness: Harness) -> None:
    fields = {**harness.valid_fields(), "InteractionNote": "&x;"}
    body = b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + envelope(
        fields
    ).split(b"?>", 1)[1].replace(b"&amp;x;", b"&x;")
    message = fault_of(harness.post(body))
    assert "DOCTYPE" in message
    assert harness.stored() == []


def test_harmless_doctype_is_still_refused(harness: Harness) -> None:
    body = b"<!DOCTYPE soap:Envelope>" + envelope(harness.valid_fields()).split(b"?>", 1)[1]
    assert "DOCTYPE" in fault_of(harness.post(body))
    assert harness.stored() == []


def test_fault_never_echoes_the_token(harness: Harness) -> None:
    broken = envelope(harness.valid_fields()).replace(b"</soap:Body>", b"")
    reply = harness.post(broken)
    fault_of(reply)
    assert harness.token.encode() not in reply.body


# --- internal errors: a Server/Receiver fault, nothing stored, no secret logged --------


@pytest.mark.parametrize("soap12", [False, True], ids=["soap11", "soap12"])
def test_internal_error_is_a_receiver_fault_without_secrets_in_the_log(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, soap12: bool
) -> None:
    def explode(operation: Any, namespace: str) -> InteractionRequest:
        raise RuntimeError(f"broken while reading {harness.token}")

    monkeypatch.setattr(kognitiv_module, "read_request", explode)
    with caplog.at_level(logging.ERROR, logger=kognitiv_module.__name__):
        fields = harness.valid_fields()
        if soap12:
            reply = harness.post(envelope(fields, SOAP12_NS), "application/soap+xml")
        else:
            reply = harness.post(envelope(fields))
    fault_of(reply, soap12, sender=False)
    assert "[redacted]" in caplog.text and "broken while reading" in caplog.text
    assert harness.token not in caplog.text
    assert harness.token.encode() not in reply.body


def test_failure_while_answering_leaves_nothing_stored(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = KognitivService._result

    def failing(self: KognitivService, version: Any, code: ReturnCode, interaction_id: int) -> Reply:
        if code is ReturnCode.SUCCESS:
            raise RuntimeError("cannot render")
        return original(self, version, code, interaction_id)

    monkeypatch.setattr(KognitivService, "_result", failing)
    fault_of(harness.post(envelope(harness.valid_fields())), sender=False)
    assert harness.stored() == []
    monkeypatch.undo()
    assert harness.record()[0] == 0  # the service is still usable afterwards


def test_crash_before_the_envelope_is_known_is_a_fault_in_the_announced_version(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(body: bytes, content_type: str | None) -> Any:
        raise ValueError("parser crashed")

    monkeypatch.setattr(kognitiv_module, "parse_call", explode)
    reply = harness.post(envelope(harness.valid_fields(), SOAP12_NS), "application/soap+xml")
    fault_of(reply, soap12=True, sender=False)
    assert harness.stored() == []


def test_crash_while_serving_the_wsdl_is_a_plain_500(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(service_url: str) -> bytes:
        raise OSError("disk gone")

    monkeypatch.setattr(harness.service._description, "render", explode)
    reply = harness.service.handle("GET", "WSDL", {}, b"", SERVICE_URL)
    assert (reply.status, reply.content_type) == (500, "text/plain; charset=utf-8")


# --- concurrency: ids stay unique ------------------------------------------------------


def test_concurrent_calls_get_distinct_ids(harness: Harness) -> None:
    ids: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            code, interaction_id = harness.record()
            assert code == 0
            with lock:
                ids.append(interaction_id)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == len(set(ids)) == 200
    assert min(ids) > 0
    assert len(harness.stored()) == 200


# --- GET: WSDL and help page; other methods --------------------------------------------


def _addresses(document: bytes) -> list[str]:
    root = etree.fromstring(document)
    return [
        a.get("location")
        for ns in ("http://schemas.xmlsoap.org/wsdl/soap/", "http://schemas.xmlsoap.org/wsdl/soap12/")
        for a in root.iter(f"{{{ns}}}address")
    ]


@pytest.mark.parametrize("query", ["WSDL", "wsdl", "Wsdl", "wsdl=", "WSDL&x=1"])
def test_wsdl_is_served_with_the_live_address(harness: Harness, query: str) -> None:
    reply = harness.service.handle("GET", query, {}, b"", SERVICE_URL)
    assert reply.status == 200
    assert reply.content_type == "text/xml; charset=utf-8"
    assert _addresses(reply.body) == [SERVICE_URL, SERVICE_URL]
    root = etree.fromstring(reply.body)
    assert root.get("targetNamespace") == NS
    assert root.find(f"{{{WSDL_NS}}}portType/{{{WSDL_NS}}}operation").get("name") == "RecordInteraction"


def test_wsdl_follows_the_url_it_was_fetched_at(harness: Harness) -> None:
    other = "https://other.test/Services/Interaction.asmx"
    assert _addresses(harness.service.handle("GET", "WSDL", {}, b"", other).body) == [other, other]
    assert _addresses(harness.service.handle("GET", "WSDL", {}, b"", SERVICE_URL).body) == [SERVICE_URL] * 2


def test_wsdl_cache_is_bounded(harness: Harness) -> None:
    for n in range(100):
        harness.service.handle("GET", "WSDL", {}, b"", f"http://host{n}.test/Services/Interaction.asmx")
    assert len(harness.service._description._cache) <= 16


def test_plain_get_is_a_help_page(harness: Harness) -> None:
    reply = harness.service.handle("GET", "", {}, b"", SERVICE_URL)
    assert reply.status == 200
    assert reply.content_type == "text/html; charset=utf-8"
    assert b"RecordInteraction" in reply.body and f"{SERVICE_URL}?WSDL".encode() in reply.body


def test_head_is_get_without_a_body_for_the_server_to_drop(harness: Harness) -> None:
    head = harness.service.handle("HEAD", "WSDL", {}, b"", SERVICE_URL)
    assert head == harness.service.handle("GET", "WSDL", {}, b"", SERVICE_URL)


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_are_405(harness: Harness, method: str) -> None:
    reply = harness.service.handle(method, "", {}, b"", SERVICE_URL)
    assert reply.status == 405
    assert ("Allow", "GET, HEAD, POST") in reply.headers
    assert harness.stored() == []


# --- another namespace (K-T2: a profile may name another) ------------------------------


def test_profile_namespace_rewrites_wsdl_and_requests() -> None:
    ns = "urn:example:interaction"
    h = make_harness(with_kognitiv(namespace=ns))
    document = h.service.handle("GET", "WSDL", {}, b"", SERVICE_URL).body
    assert NS.encode() not in document
    root = etree.fromstring(document)
    assert root.get("targetNamespace") == ns
    assert root.find(f"{{{WSDL_NS}}}types/{{{XSD_NS}}}schema").get("targetNamespace") == ns
    actions = {op.get("soapAction") for op in root.iter("{*}operation") if op.get("soapAction")}
    assert actions == {f"{ns}/RecordInteraction"}

    reply = h.post(envelope(h.valid_fields(), ns=ns))
    assert reply.status == 200
    answer = etree.fromstring(reply.body)
    assert answer.findtext(f"*/{{{ns}}}RecordInteractionResponse/*/{{{ns}}}ReturnCode") == "0"
    # The bundled namespace is now just another unknown operation.
    assert "unknown operation" in fault_of(h.post(envelope(h.valid_fields())))


# --- secrets stay out of reprs --------------------------------------------------------


def test_tokens_are_not_in_reprs(harness: Harness) -> None:
    request = InteractionRequest(harness.token, "A", "L", "T", None)
    rules = InteractionRules(harness.token, harness.no_permission_token, {"A"}, set(), "L", "T")
    assert harness.token not in repr(request)
    assert harness.token not in repr(rules) and harness.no_permission_token not in repr(rules)
