"""The transport and the parsers against each hostile answer, in-process.

test_hostile_run.py shows the same answers through a whole suite run; here each one
meets the HTTP client (and the Luminate or SOAP reader) directly, with a read timeout
of 1 s and a deadline of 2 s, so the reason each yields is pinned down exactly.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lxml import etree

from conformance.answer import parse_xml, read_luminate
from conformance.outcome import CheckErrored
from conformance.redaction import Redactor
from conformance.soap import read_answer
from conformance.transport import HttpAnswer, HttpClient
from tests.hostile.server import KG_NS, HostileServer, error_xml

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SOAP = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{KG_NS}RecordInteraction"'}


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer() as hostile:
        yield hostile


@pytest.fixture(scope="module")
def http() -> HttpClient:
    # One client for the module: after each hostile answer the next request must work.
    return HttpClient(Redactor(), connect_timeout=1, read_timeout=1)


def luminate(http: HttpClient, server: HostileServer, scenario: str, extra: str = "") -> HttpAnswer:
    body = f"method=getUser&scenario={scenario}{extra}".encode()
    return http.send("POST", f"{server.base_url}/site/SRConsAPI", body, FORM)


def soap(http: HttpClient, server: HostileServer, scenario: str) -> HttpAnswer:
    note = f"<InteractionNote>{scenario}</InteractionNote>"
    body = f"<Envelope><RecordInteraction>{note}</RecordInteraction></Envelope>"
    return http.send("POST", f"{server.base_url}/Services/Interaction.asmx", body.encode(), SOAP)


HOSTILE = {
    "billion-laughs": "the answer declares entities in a DTD; refused to parse it (entity expansion",
    "external-file": "the answer declares a DTD with an external reference ('file:///etc/passwd')",
    "external-http": "/leak'); refused to parse it: external entities are never fetched",
    "external-dtd": "/leak.dtd'); refused to parse it: external entities are never fetched",
    "declared-huge": "announced a 50,000,000-byte answer (Content-Length), over the cap of 1,048,576 bytes",
    "chunked-huge": "sent more than the cap of 1,048,576 bytes (profile max_body_bytes)",
    "unframed-huge": "sent more than the cap of 1,048,576 bytes (profile max_body_bytes)",
    "gzip-bomb": "sent more than the cap of 1,048,576 bytes once decompressed",
    "stall": "stalled mid-answer: nothing for 1 s after",
    "silent": "sent no answer within 1 s (read timeout)",
    "trickle": "did not finish its answer within the 2 s deadline",
    "trickle-headers": "within the 2 s deadline",
    "huge-header": "a header line over 64 KiB",
    "many-headers": "more than 100 header lines",
    "redirect-loop": "redirect loop: ",
    "redirect-loop-relative": "redirect loop: ",
    "hang-up": "closed the connection without an answer",
}


@pytest.mark.parametrize("scenario", sorted(HOSTILE))
def test_a_hostile_luminate_answer_is_errored(http: HttpClient, server: HostileServer, scenario: str) -> None:
    with pytest.raises(CheckErrored) as errored:
        read_luminate(luminate(http, server, scenario), "xml")
    assert HOSTILE[scenario] in errored.value.reason
    assert luminate(http, server, "ok").status == 403  # and the client goes on


@pytest.mark.parametrize(
    "scenario", ["billion-laughs", "external-file", "chunked-huge", "stall", "redirect-loop"]
)
def test_a_hostile_soap_answer_is_errored(http: HttpClient, server: HostileServer, scenario: str) -> None:
    with pytest.raises(CheckErrored) as errored:
        read_answer(soap(http, server, scenario), "1.1", KG_NS)
    assert HOSTILE[scenario].replace("the answer", "the SOAP answer") in errored.value.reason
    assert read_answer(soap(http, server, "ok"), "1.1", KG_NS).return_code == "0"


def test_no_external_entity_is_ever_fetched(http: HttpClient, server: HostileServer) -> None:
    for scenario in ("external-http", "external-dtd"):
        with pytest.raises(CheckErrored):
            read_luminate(luminate(http, server, scenario), "xml")
        with pytest.raises(CheckErrored):
            read_answer(soap(http, server, scenario), "1.1", KG_NS)
    assert server.count("leak") == 0


def test_the_wsdl_redirect_loop_is_not_followed(http: HttpClient, server: HostileServer) -> None:
    before = server.count("wsdl-loop")
    with pytest.raises(CheckErrored, match="redirect loop"):
        http.send("GET", f"{server.base_url}/Services/Interaction.asmx?WSDL")
    assert server.count("wsdl-loop") == before + 1


def test_a_redirect_the_case_asked_for_is_an_answer(http: HttpClient, server: HostileServer) -> None:
    """L-T12: with a redirect parameter, a 302 (wherever it points) is the case's to judge."""
    answer = luminate(http, server, "redirect-loop", "&success_redirect=x")
    assert answer.status == 302


def test_malformed_answers_fail_their_clause(http: HttpClient, server: HostileServer) -> None:
    expected = {
        "not-well-formed": ("xml", "L-T9", "not well-formed XML"),
        "bad-utf8": ("xml", "L-T9", "the body is not UTF-8"),
        "wrong-type": ("xml", "L-T9", "'text/html' is not text/xml or application/xml"),
        "json-as-xml": ("json", "L-T10", "'text/xml' is not application/json"),
    }
    for scenario, (fmt, clause, words) in expected.items():
        extra = "&response_format=json" if fmt == "json" else ""
        answer = read_luminate(luminate(http, server, scenario, extra), fmt)
        assert any(f.clause == clause and words in f.message for f in answer.failures), (scenario, answer)


def test_a_malformed_soap_answer_fails_k_t1(http: HttpClient, server: HostileServer) -> None:
    answer = read_answer(soap(http, server, "not-well-formed"), "1.1", KG_NS)
    assert [f.clause for f in answer.failures] == ["K-T1"]


def test_a_server_error_is_an_answer(http: HttpClient, server: HostileServer) -> None:
    assert luminate(http, server, "500").status == 500


# -- the parser on its own -----------------------------------------------------------


def test_a_dtd_after_a_long_prolog_is_still_refused() -> None:
    body = error_xml(doctype="<!--" + "x" * 2000 + '--><!DOCTYPE e [<!ENTITY a "b">]>')
    with pytest.raises(CheckErrored, match="declares entities in a DTD"):
        parse_xml(body, "the answer")


def test_a_dtd_in_another_encoding_is_refused_after_parsing() -> None:
    body = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE e [<!ENTITY a "b">]><e>&a;</e>'
    with pytest.raises(CheckErrored, match="declares"):
        parse_xml(body.encode("utf-16"), "the answer")


def test_nesting_past_the_parser_limit_is_errored() -> None:
    body = b"<a>" * 300 + b"</a>" * 300
    with pytest.raises(CheckErrored, match="beyond the XML parser's safety limits"):
        parse_xml(body, "the answer")


def test_doctype_text_inside_the_document_is_not_a_dtd() -> None:
    body = error_xml("<code>2</code><message><![CDATA[<!DOCTYPE html><!ENTITY x>]]></message>")
    assert etree.QName(parse_xml(body, "the answer")).localname == "errorResponse"


def test_a_merely_broken_document_raises_the_syntax_error() -> None:
    with pytest.raises(etree.XMLSyntaxError):
        parse_xml(b"<a><b></a>", "the answer")
