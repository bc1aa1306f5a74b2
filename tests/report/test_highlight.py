"""Finding the element a failure names inside an answer, as text offsets."""

from __future__ import annotations

import pytest

from conformance.highlight import find, render, steps
from tests.report.runs import GET_INTERACTION_XML, SOAP_RESULT


def found(body: str, where: str) -> list[str]:
    return [body[span.start:span.end] for span in find(body, where)]


@pytest.mark.parametrize(("where", "expected"), [
    ("/getInteractionResponse/interaction/subject", [("getInteractionResponse", None), ("interaction", None),
                                                     ("subject", None)]),
    ("/a/b[2]/@xsi:schemaLocation", [("a", None), ("b", 2), ("@xsi:schemaLocation", None)]),
    ("$.getInteractionResponse.interaction[0].subject", [("getInteractionResponse", None), ("interaction", 1),
                                                         ("subject", None)]),
    ("/soap:Envelope/soap:Body", [("Envelope", None), ("Body", None)]),
    ("HTTP status", []), ("Content-Type", []), ("line 3", []), ("/", []),
])
def test_steps_read_xpaths_json_paths_and_refuse_non_elements(where: str, expected: list[object]) -> None:
    assert steps(where) == expected


def test_a_path_picks_the_element_at_that_place_not_a_namesake() -> None:
    assert found(GET_INTERACTION_XML, "/getInteractionResponse/interaction/subject") == [
        "<subject>Tom &amp; Jerry &lt;b&gt;</subject>"]
    assert found(GET_INTERACTION_XML, "interaction/note/subject") == [
        "<subject>note &lt;subject&gt;</subject>"]


def test_positions_count_like_xpath_in_xml_and_from_zero_in_json_paths() -> None:
    xml = "<r><item><id>1</id></item><item><id>2</id></item></r>"
    assert found(xml, "/r/item[2]/id") == ["<id>2</id>"]
    assert found(xml, "/r/item/id") == ["<id>1</id>", "<id>2</id>"]
    body = '{"r": {"item": [{"id": "1"}, {"id": "2"}]}}'
    assert found(body, "$.r.item[1].id") == ['"id": "2"']
    assert found(body, "/r/item[1]/id") == ['"id": "1"']


def test_a_soap_answer_is_matched_by_local_names() -> None:
    where = "/Envelope/Body/RecordInteractionResponse/RecordInteractionResult/ReturnCode"
    assert found(SOAP_RESULT, where) == ["<ReturnCode>503</ReturnCode>"]


def test_attributes_and_empty_elements_can_be_named() -> None:
    xml = '<r xsi:schemaLocation="a b" x=\'1\'><nil/></r>'
    assert found(xml, "/r/@xsi:schemaLocation") == ['xsi:schemaLocation="a b"']
    assert found(xml, "/r/nil") == ["<nil/>"]


@pytest.mark.parametrize("body", ["<a><b>1</a>", '{"a": {"b": 1', "not a document", ""])
def test_a_broken_answer_gets_no_mark_rather_than_a_wrong_one(body: str) -> None:
    assert find(body, "/a/b") == []


def test_render_escapes_everything_and_marks_only_the_spans() -> None:
    body = '<r><code>23</code><m>&lt;"x"</m></r>'
    marked = str(render(body, find(body, "/r/code")))
    assert marked == ('&lt;r&gt;<mark class="hit">&lt;code&gt;23&lt;/code&gt;</mark>'
                      "&lt;m&gt;&amp;lt;&#34;x&#34;&lt;/m&gt;&lt;/r&gt;")
    # Nested spans (a parent and its child both named) keep the outer one only.
    nested = str(render(body, [*find(body, "/r"), *find(body, "/r/code")]))
    assert nested.count("<mark") == 1
