"""Reading a Luminate answer: XML and JSON into one tree, and what any answer must be."""

from __future__ import annotations

import time

import pytest
from lxml import etree

from conformance.answer import Answer, count_items, lookup, normalise, read_luminate, xml_tree
from conformance.outcome import CheckErrored, Exchange, Failure
from conformance.transport import HttpAnswer

XML = "text/xml;charset=UTF-8"
JSON = "application/json;charset=UTF-8"
ROOT_ATTRS = (
    'xsi:schemaLocation="http://convio.com/crm/v1.0 http://service.convio.net/xmlschema/crm.public.v1.xsd" '
    'xmlns="http://convio.com/crm/v1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def http(body: bytes | str, content_type: str = XML, status: int = 200) -> HttpAnswer:
    data = body.encode("utf-8") if isinstance(body, str) else body
    exchange = Exchange("POST", "http://target.invalid/site/SRConsAPI", {}, "")
    return HttpAnswer(status, {"content-type": content_type} if content_type else {}, data, exchange)


def xml_answer(root: str, inner: str) -> str:
    return f"{DECLARATION}<{root} {ROOT_ATTRS}>{inner}</{root}>"


LOGGED_XML = xml_answer(
    "updateConsResponse",
    "<cons_id>1000010</cons_id><message>Interaction logged successfully.</message>"
    "<interaction_id>3</interaction_id>",
)
LOGGED_JSON = (
    '{"updateConsResponse":{"cons_id":"1000010","message":"Interaction logged successfully.",'
    '"interaction_id":"3"}}'
)
ERROR_XML = xml_answer("errorResponse", "<code>23</code><message>Input size error.</message>")
ERROR_JSON = '{"errorResponse":{"code":"23","message":"Input size error."}}'
INTERACTION_XML = xml_answer(
    "getInteractionResponse",
    "<interaction><interactionId>3</interactionId><interactionTypeId>0</interactionTypeId>"
    "<categoryId>0</categoryId><referenceId>0</referenceId><consId>1000010</consId>"
    "<createdBy>1000001</createdBy><creationDate>2026-11-22T16:35:30.692+00:00</creationDate>"
    "<note><categoryId>0</categoryId><typeOfConsNote>normal</typeOfConsNote><consId>1000010</consId>"
    "<createdBy>1000001</createdBy><creationDate>2026-11-22T16:35:30.692+00:00</creationDate>"
    "<interactionId>3</interactionId><modifiedBy>1000001</modifiedBy>"
    "<modifiedDate>2026-11-22T16:35:30.692+00:00</modifiedDate><noteId>1</noteId>"
    "<subject>hello</subject><text>body</text><type>comment</type></note>"
    "<subject>hello</subject><count>1</count></interaction>",
)


# -- well-formed answers --------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "requested", "fmt"),
    [
        pytest.param(LOGGED_XML, XML, "xml", "xml", id="xml"),
        pytest.param(LOGGED_JSON, JSON, "json", "json", id="json"),
        pytest.param(LOGGED_JSON, JSON, "xml", "json", id="json-although-xml-was-asked-for"),
    ],
)
def test_xml_and_json_answers_become_the_same_tree(
    body: str, content_type: str, requested: str, fmt: str
) -> None:
    answer = read_luminate(http(body, content_type), requested)
    assert answer.failures == []
    assert (answer.format, answer.root, answer.status) == (fmt, "updateConsResponse", 200)
    assert answer.tree == {
        "cons_id": "1000010",
        "message": "Interaction logged successfully.",
        "interaction_id": "3",
    }
    assert not answer.is_error and answer.error_code() is None


@pytest.mark.parametrize(
    ("body", "content_type", "requested"),
    [pytest.param(ERROR_XML, XML, "xml", id="xml"), pytest.param(ERROR_JSON, JSON, "json", id="json")],
)
def test_an_error_answer_carries_its_code(body: str, content_type: str, requested: str) -> None:
    answer = read_luminate(http(body, content_type, status=403), requested)
    assert answer.failures == []
    assert answer.is_error
    assert answer.error_code() == "23"
    assert answer.status == 403


def test_a_nested_answer_is_a_nested_tree() -> None:
    answer = read_luminate(http(INTERACTION_XML), "xml")
    assert answer.failures == []
    assert lookup(answer.tree, "interaction/note/text") == (True, "body")
    assert lookup(answer.tree, "interaction/subject") == (True, "hello")
    assert lookup(answer.tree, "interaction/note/missing") == (False, None)
    assert lookup(answer.tree, "interaction/subject/deeper") == (False, None)


def test_nil_and_empty_elements_differ() -> None:
    element = etree.fromstring(
        '<r xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        '<nil xsi:nil="true"/><one xsi:nil="1"/><empty/><text>t</text></r>'
    )
    assert xml_tree(element) == {"nil": None, "one": None, "empty": "", "text": "t"}


def test_repeated_elements_become_a_list_and_single_ones_do_not() -> None:
    element = etree.fromstring(
        "<r><item><s>a</s></item><item><s>b</s></item><item><s>c</s></item><single><s>d</s></single></r>"
    )
    tree = xml_tree(element)
    assert tree == {"item": [{"s": "a"}, {"s": "b"}, {"s": "c"}], "single": {"s": "d"}}
    assert lookup(tree, "item[0]/s") == (True, "a")
    assert lookup(tree, "item[2]/s") == (True, "c")
    assert lookup(tree, "item[3]/s") == (False, None)
    # One item is an object in JSON: [0] on an object is the object itself.
    assert lookup(tree, "single[0]/s") == (True, "d")
    assert lookup(tree, "single[1]/s") == (False, None)
    assert (count_items(tree, "item"), count_items(tree, "single"), count_items(tree, "none")) == (3, 1, 0)


def test_normalise_makes_one_item_lists_objects() -> None:
    assert normalise({"b": ["x"], "a": [{"s": "1"}]}) == {"a": {"s": "1"}, "b": "x"}
    assert normalise({"i": [{"s": "1"}, {"s": "2"}]}) == {"i": [{"s": "1"}, {"s": "2"}]}


def test_a_redirect_has_no_document() -> None:
    answer = read_luminate(http(b"", "", status=302), "xml")
    assert (answer.status, answer.format, answer.root, answer.tree, answer.failures) == (
        302,
        "",
        None,
        None,
        [],
    )


# -- what every answer must be ----------------------------------------------------------


def _clauses(answer: Answer) -> set[str]:
    return {f.clause for f in answer.failures}


def test_a_not_well_formed_xml_answer_fails_l_t9() -> None:
    body = f"{DECLARATION}<updateConsResponse {ROOT_ATTRS}><cons_id>1</updateConsResponse>"
    answer = read_luminate(http(body), "xml")
    assert answer.root is None
    [failure] = answer.failures
    assert failure.clause == "L-T9"
    assert failure.where == "line 2"
    assert failure.message.startswith("the answer is not well-formed XML: ")


def test_a_json_answer_that_is_no_json_fails_l_t10() -> None:
    answer = read_luminate(http('{"updateConsResponse": {', JSON), "json")
    assert answer.root is None
    [failure] = answer.failures
    assert (failure.clause, failure.where) == ("L-T10", "$")
    assert failure.message.startswith("the body is not JSON: ")


@pytest.mark.parametrize(
    ("body", "content_type", "requested", "expected"),
    [
        pytest.param(
            LOGGED_XML,
            "text/html; charset=UTF-8",
            "xml",
            Failure("L-T9", "Content-Type", "'text/html' is not text/xml or application/xml"),
            id="xml-as-html",
        ),
        pytest.param(
            LOGGED_XML,
            "",
            "xml",
            Failure("L-T9", "Content-Type", "'(none)' is not text/xml or application/xml"),
            id="xml-untyped",
        ),
        pytest.param(
            LOGGED_JSON,
            "text/plain",
            "json",
            Failure("L-T10", "Content-Type", "'text/plain' is not application/json"),
            id="json-as-text",
        ),
        pytest.param(
            LOGGED_JSON,
            XML,
            "json",
            Failure("L-T10", "Content-Type", "'text/xml' is not application/json"),
            id="json-as-xml",
        ),
    ],
)
def test_a_wrong_content_type_fails_its_clause(
    body: str, content_type: str, requested: str, expected: Failure
) -> None:
    answer = read_luminate(http(body, content_type), requested)
    assert answer.failures == [expected]
    assert answer.root == "updateConsResponse"  # the body is still read


@pytest.mark.parametrize(
    ("body", "content_type", "requested", "clause"),
    [
        pytest.param(LOGGED_XML.replace("logged", "logg\xe9d"), XML, "xml", "L-T9", id="xml"),
        pytest.param(LOGGED_JSON.replace("logged", "logg\xe9d"), JSON, "json", "L-T10", id="json"),
    ],
)
def test_a_body_that_is_not_utf8_fails(body: str, content_type: str, requested: str, clause: str) -> None:
    latin1 = body.encode("latin-1")  # é as the single byte 0xE9
    answer = read_luminate(http(latin1, content_type), requested)
    assert answer.root is None
    [failure] = answer.failures
    assert failure.clause == clause
    at = latin1.index(b"\xe9")
    assert failure.message == f"the body is not UTF-8 (invalid continuation byte at byte {at})"


def test_an_answer_in_another_namespace_fails_l_t9() -> None:
    body = LOGGED_XML.replace('xmlns="http://convio.com/crm/v1.0"', 'xmlns="urn:other"')
    answer = read_luminate(http(body), "xml")
    assert Failure(
        "L-T9", "/updateConsResponse", "namespace 'urn:other' is not 'http://convio.com/crm/v1.0'"
    ) in (answer.failures)


def test_a_schema_violation_names_l_t9_and_the_roots_clause() -> None:
    body = LOGGED_XML.replace("<cons_id>1000010</cons_id>", "<cons_id>12a</cons_id>")
    answer = read_luminate(http(body), "xml")
    assert {"L-T9", "L-L8"} <= _clauses(answer)
    assert all(f.where.startswith("/updateConsResponse/cons_id") for f in answer.failures)


# -- hostile answers: errored, never expanded -------------------------------------------

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10)
    )
    + "]>\n<updateConsResponse>&lol9;</updateConsResponse>"
)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(BILLION_LAUGHS, id="billion-laughs"),
        pytest.param(
            '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
            id="external-entity",
        ),
        pytest.param(
            '<?xml version="1.0"?><!--'
            + " " * 2000
            + '--><!DOCTYPE r SYSTEM "http://127.0.0.1:1/x.dtd"><r/>',
            id="doctype-after-a-long-comment",
        ),
    ],
)
def test_a_dtd_makes_the_check_errored_without_expanding_anything(body: str) -> None:
    started = time.monotonic()
    with pytest.raises(CheckErrored) as excinfo:
        read_luminate(http(body), "xml")
    assert time.monotonic() - started < 1.0
    assert "DTD" in excinfo.value.reason
    assert "lollol" not in excinfo.value.reason and "root:" not in excinfo.value.reason


def test_a_json_answer_nested_absurdly_deep_is_errored() -> None:
    started = time.monotonic()
    with pytest.raises(CheckErrored, match="deep"):
        read_luminate(http('{"a":' * 100_000 + "1" + "}" * 100_000, JSON), "json")
    assert time.monotonic() - started < 2.0


def test_an_html_page_is_a_failure_not_a_hostile_answer() -> None:
    """A bare ``<!DOCTYPE html>`` expands nothing: the page is judged, and fails K-T1."""
    from conformance.outcome import Exchange
    from conformance.soap import check_wsdl
    from conformance.transport import HttpAnswer

    page = b"<!DOCTYPE html><html><body><h1>Interaction</h1></body></html>"
    http = HttpAnswer(200, {"content-type": "text/html"}, page, Exchange("GET", "u", {}, ""))
    failures = check_wsdl(http, "https://app.smartbutton.com/Services/")
    assert failures and {f.clause for f in failures} <= {"K-T1", "K-T2"}
