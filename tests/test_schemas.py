"""The contracts under test (XSD, JSON Schemas, WSDL) and :mod:`conformance.validation`.

Every sample answer must pass, and every deliberately broken variant must be refused with
exactly one violation, at the path of the bad element, naming the broken rule, with a
message that leads with the offending value.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from conformance.resources import schema_dir
from conformance.validation import (
    KOGNITIV_NAMESPACE,
    LUMINATE_NAMESPACE,
    KognitivSchemas,
    Violation,
    kognitiv_schemas,
    luminate_schemas,
    parse_xml,
)

SEEDS = Path(__file__).parent / "fixtures" / "seeds"
MADE = SEEDS / "from-vendor-facts"
LUMINATE = schema_dir() / "luminate"
WSDL = schema_dir() / "kognitiv" / "Interaction.wsdl"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
SEED_ROOTS = ("updateConsResponse", "getInteractionResponse", "createOrUpdateConsResponse")


def _luminate_samples(suffix: str) -> list[Path]:
    paths = [*SEEDS.glob(f"*{suffix}"), *MADE.glob(f"*{suffix}")]
    return sorted(path for path in paths if not path.name.startswith("RecordInteraction"))


def _sample_id(path: Path) -> str:
    return path.relative_to(SEEDS).as_posix()


def _root_of(path: Path) -> str:
    """Sample files are named ``<root>[.<variant>].<ext>``."""
    return path.name.split(".", 1)[0]


def _messages(violations: list[Violation]) -> list[str]:
    return [str(violation) for violation in violations]


# ---------------------------------------------------------------------------------------
# The schema files themselves


def test_seed_samples_are_all_present() -> None:
    for root in SEED_ROOTS:
        assert (SEEDS / f"{root}.xml").is_file()
        assert (SEEDS / f"{root}.json").is_file()


def test_the_xsd_and_the_json_schemas_name_the_same_roots() -> None:
    import xmlschema

    xsd = xmlschema.XMLSchema(str(LUMINATE / "crm.public.v1.xsd"))
    assert xsd.target_namespace == LUMINATE_NAMESPACE
    assert set(xsd.elements) == set(luminate_schemas().root_names())
    assert luminate_schemas().root_names() == {
        "updateConsResponse",
        "getInteractionResponse",
        "createOrUpdateConsResponse",
        "loginResponse",
        "errorResponse",
        "getConsResponse",
        "getUserInteractionsResponse",
        "getConsGroupsResponse",
    }


@pytest.mark.parametrize(
    "path", sorted((LUMINATE / "json").glob("*.schema.json")), ids=lambda path: path.name
)
def test_each_json_schema_is_a_valid_2020_12_schema_with_its_own_id(path: Path) -> None:
    from jsonschema import Draft202012Validator

    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith(f"/luminate/json/{path.name}")
    if path.name != "common.schema.json":
        root = path.name.removesuffix(".schema.json")
        assert schema["required"] == [root]
        assert schema["additionalProperties"] is False


def test_every_json_object_schema_forbids_additional_properties() -> None:
    def objects(node: object) -> Iterator[Mapping[str, Any]]:
        if isinstance(node, Mapping):
            if "properties" in node:
                yield node
            for value in node.values():
                yield from objects(value)
        elif isinstance(node, list):
            for item in node:
                yield from objects(item)

    for path in (LUMINATE / "json").glob("*.schema.json"):
        for schema in objects(json.loads(path.read_text(encoding="utf-8"))):
            assert schema.get("additionalProperties") is False, f"{path.name}: {sorted(schema['properties'])}"


def test_luminate_schemas_is_one_cached_instance() -> None:
    assert luminate_schemas() is luminate_schemas()
    assert kognitiv_schemas() is kognitiv_schemas()


# ---------------------------------------------------------------------------------------
# Luminate: every sample passes


@pytest.mark.parametrize("path", _luminate_samples(".xml"), ids=_sample_id)
def test_xml_sample_is_valid(path: Path) -> None:
    document = path.read_bytes()
    assert etree.QName(parse_xml(document)).text == f"{{{LUMINATE_NAMESPACE}}}{_root_of(path)}"
    assert _messages(list(luminate_schemas().iter_xml_errors(document))) == []


@pytest.mark.parametrize("path", _luminate_samples(".json"), ids=_sample_id)
def test_json_sample_is_valid(path: Path) -> None:
    document = json.loads(path.read_bytes())
    assert list(document) == [_root_of(path)]
    assert _messages(list(luminate_schemas().iter_json_errors(document))) == []


def test_a_parsed_element_is_accepted_as_well_as_bytes() -> None:
    element = parse_xml((SEEDS / "getInteractionResponse.xml").read_bytes())
    assert list(luminate_schemas().iter_xml_errors(element)) == []
    count = element.find(f".//{{{LUMINATE_NAMESPACE}}}count")
    assert count is not None
    count.text = "x"
    assert [v.path for v in luminate_schemas().iter_xml_errors(element)] == [
        "/getInteractionResponse/interaction/count"
    ]


def _json_form(element: etree._Element) -> object:
    """The JSON form of an XML answer element (L-T10): strings, null for nil, lists of two+."""
    if element.get(XSI_NIL) == "true":
        return None
    children = [child for child in element if isinstance(child.tag, str)]
    if not children:
        return element.text or ""
    grouped: dict[str, list[object]] = {}
    for child in children:
        grouped.setdefault(etree.QName(child).localname, []).append(_json_form(child))
    return {name: values[0] if len(values) == 1 else values for name, values in grouped.items()}


@pytest.mark.parametrize("path", _luminate_samples(".xml"), ids=_sample_id)
def test_xml_sample_and_its_json_twin_carry_the_same_data(path: Path) -> None:
    root = parse_xml(path.read_bytes())
    form = _json_form(root)
    # An empty list answer is an element without children; its JSON form is an empty object.
    expected = {etree.QName(root).localname: form if form != "" else {}}
    assert json.loads(path.with_suffix(".json").read_bytes()) == expected


# ---------------------------------------------------------------------------------------
# Luminate XML: accepted and refused variants

_UPDATE = SEEDS / "updateConsResponse.xml"
_INTERACTION = SEEDS / "getInteractionResponse.xml"
_ERROR = MADE / "errorResponse.xml"
_LOGIN = MADE / "loginResponse.login.xml"
_LOGOUT = MADE / "loginResponse.logout.xml"
_GROUPS = MADE / "getConsGroupsResponse.xml"
_CONS = MADE / "getConsResponse.xml"
_INTERACTIONS = MADE / "getUserInteractionsResponse.xml"
_NOTE = (
    "<note> <categoryId>0</categoryId> <typeOfConsNote>normal</typeOfConsNote> <consId>1001001</consId>"
    " <createdBy>1001001</createdBy> <creationDate>2016-02-01T09:43:35.159-06:00</creationDate>"
    " <interactionId>1000</interactionId> <modifiedBy>1001001</modifiedBy>"
    " <modifiedDate>2016-02-01T09:43:35.159-06:00</modifiedDate> <noteId>1000</noteId>"
    " <subject>Sample Subject</subject> <text>Lorem ipsum dolor sit amet, consetetur sadipscing</text>"
    " <type>comment</type> </note> "
)


def _edited(path: Path, *replacements: tuple[str, str]) -> bytes:
    """The file with each replacement applied once; each must apply, or the test is void."""
    text = path.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, f"{path.name} has no {old!r}"
        text = text.replace(old, new, 1)
    return text.encode("utf-8")


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(_edited(_INTERACTION, (_NOTE, "")), id="note-omitted"),
        pytest.param(
            _edited(
                _INTERACTION, ("<text>Lorem ipsum dolor sit amet, consetetur sadipscing</text>", "<text/>")
            ),
            id="note-text-empty",
        ),
        pytest.param(
            _edited(
                _INTERACTION,
                ("<text>Lorem ipsum dolor sit amet, consetetur sadipscing</text>", '<text xsi:nil="true"/>'),
            ),
            id="note-text-nil",
        ),
        pytest.param(
            _edited(_INTERACTION, ("2016-02-01T09:43:35.159-06:00", "2016-02-01T15:43:35.159Z")),
            id="date-in-utc",
        ),
        pytest.param(
            _edited(
                _LOGIN,
                (
                    '  <timestamp xsi:nil="true"/>\n  <signature xsi:nil="true"/>\n'
                    '  <login_test_url xsi:nil="true"/>\n',
                    "",
                ),
            ),
            id="login-without-some-optional-fields",
        ),
        pytest.param(
            _edited(_CONS, ("<origin>35</origin>", '<origin xsi:nil="true"/>')), id="observation-nil"
        ),
        pytest.param(
            _edited(
                _UPDATE, ('xsi:schemaLocation="http://convio.com/crm/v1.0 ', 'xsi:schemaLocation="urn:x ')
            ),
            id="xsi-attributes-are-not-the-schemas-business",
        ),
    ],
)
def test_xml_variant_is_accepted(document: bytes) -> None:
    assert _messages(list(luminate_schemas().iter_xml_errors(document))) == []


@pytest.mark.parametrize(
    ("document", "path", "rule", "message_start"),
    [
        pytest.param(
            _edited(_UPDATE, ("  <interaction_id>1001</interaction_id>\n", "")),
            "/updateConsResponse",
            "required",
            "'interaction_id' is a required child element of 'updateConsResponse'",
            id="missing-interaction_id",
        ),
        pytest.param(
            _edited(
                _INTERACTION,
                ("<note>", "<subject>Sample Subject</subject> <note>"),
                ("</note> <subject>Sample Subject</subject>", "</note>"),
            ),
            "/getInteractionResponse/interaction/note",
            "order",
            "'note' is out of order (expected 'count')",
            id="subject-before-note",
        ),
        pytest.param(
            _edited(_INTERACTION, ("<count>1</count>", "<count>1</count> <count>1</count>")),
            "/getInteractionResponse/interaction/count[2]",
            "repeated",
            "'count' is repeated",
            id="count-twice",
        ),
        pytest.param(
            _edited(_UPDATE, ('xmlns="http://convio.com/crm/v1.0"', 'xmlns="http://convio.com/crm/v2.0"')),
            "/updateConsResponse",
            "namespace",
            "'{http://convio.com/crm/v2.0}updateConsResponse' is not in the namespace http://convio.com/crm/v1.0",
            id="root-in-wrong-namespace",
        ),
        pytest.param(
            _edited(_UPDATE, ("<cons_id>", '<cons_id xmlns="">')),
            "/updateConsResponse/cons_id",
            "namespace",
            "'cons_id' is not in the namespace http://convio.com/crm/v1.0",
            id="child-without-namespace",
        ),
        pytest.param(
            _edited(_ERROR, ("<errorResponse", "<fooResponse"), ("</errorResponse>", "</fooResponse>")),
            "/fooResponse",
            "root",
            "'fooResponse' is not an answer root",
            id="unknown-root",
        ),
        pytest.param(
            _edited(_UPDATE, ("</updateConsResponse>", "</updateConsRespons>")),
            "/",
            "well-formed",
            "the answer is not well-formed XML",
            id="not-well-formed",
        ),
        pytest.param(
            _edited(
                _INTERACTION,
                ("<creationDate>2016-02-01T09:43:35.159-06:00", "<creationDate>2016-02-01T09:43:35.159"),
            ),
            "/getInteractionResponse/interaction/creationDate",
            "pattern",
            "'2016-02-01T09:43:35.159' is not a dateTime with milliseconds and a UTC offset",
            id="date-without-offset",
        ),
        pytest.param(
            _edited(
                _INTERACTION,
                ("<modifiedDate>2016-02-01T09:43:35.159-06:00", "<modifiedDate>2016-02-01T09:43:35-06:00"),
            ),
            "/getInteractionResponse/interaction/note/modifiedDate",
            "pattern",
            "'2016-02-01T09:43:35-06:00' is not a dateTime with milliseconds and a UTC offset",
            id="date-without-milliseconds",
        ),
        pytest.param(
            _edited(_INTERACTION, ("<creationDate>2016-02-01", "<creationDate>2016-02-30")),
            "/getInteractionResponse/interaction/creationDate",
            "type",
            "'2016-02-30T09:43:35.159-06:00' is not a dateTime with milliseconds and a UTC offset",
            id="date-that-does-not-exist",
        ),
        pytest.param(
            _edited(_UPDATE, ("1000121", "12a")),
            "/updateConsResponse/cons_id",
            "pattern",
            "'12a' is not a non-negative integer",
            id="cons_id-not-an-integer",
        ),
        pytest.param(
            _edited(_UPDATE, ("<interaction_id>1001", "<interaction_id>+1001")),
            "/updateConsResponse/interaction_id",
            "pattern",
            "'+1001' is not a positive integer",
            id="interaction_id-with-sign",
        ),
        pytest.param(
            _edited(_UPDATE, ("<interaction_id>1001", "<interaction_id>0")),
            "/updateConsResponse/interaction_id",
            "pattern",
            "'0' is not a positive integer",
            id="interaction_id-zero",
        ),
        pytest.param(
            _edited(_UPDATE, ("<cons_id>1000121</cons_id>", '<cons_id xsi:nil="true"/>')),
            "/updateConsResponse/cons_id",
            "nil",
            "xsi:nil on 'cons_id' is not allowed here",
            id="nil-where-not-nillable",
        ),
        pytest.param(
            _edited(_INTERACTION, (">normal<", ">private<")),
            "/getInteractionResponse/interaction/note/typeOfConsNote",
            "enumeration",
            "'private' is not the note kind \"normal\"",
            id="typeOfConsNote-not-normal",
        ),
        pytest.param(
            _edited(_INTERACTION, ("<count>1</count>", "<count>1</count> <channel>web</channel>")),
            "/getInteractionResponse/interaction/channel",
            "unexpected",
            "'channel' is not an allowed child element here (no more child elements expected)",
            id="interaction-extra-child",
        ),
        pytest.param(
            _edited(_ERROR, ("</message>", "</message>\n  <detail>stack trace</detail>")),
            "/errorResponse/detail",
            "unexpected",
            "'detail' is not an allowed child element here",
            id="errorResponse-extra-child",
        ),
        pytest.param(
            _edited(_ERROR, ("<message>Unable to process request.</message>", "<message> </message>")),
            "/errorResponse/message",
            "pattern",
            "' ' is not a non-empty text",
            id="errorResponse-blank-message",
        ),
        pytest.param(
            _edited(_ERROR, ("<code>1</code>", "<code>-1</code>")),
            "/errorResponse/code",
            "pattern",
            "'-1' is not a non-negative integer",
            id="errorResponse-negative-code",
        ),
        pytest.param(
            _edited(
                _LOGIN,
                ("  <nonce>a7f3c9e1</nonce>\n", ""),
                ("<timestamp", "<nonce>a7f3c9e1</nonce><timestamp"),
            ),
            "/loginResponse/timestamp",
            "order",
            "'timestamp' is out of order",
            id="login-nonce-before-timestamp",
        ),
        pytest.param(
            _edited(_LOGIN, ("  <token>sample_token_4mS8oYc2Rk3QJbT1xW0vLq..</token>\n", "")),
            "/loginResponse/timestamp",
            "order",
            "'timestamp' is out of order (expected 'token')",
            id="login-without-token",
        ),
        pytest.param(
            _edited(_LOGOUT, ("<message>", "<cons_id>1001002</cons_id><message>")),
            "/loginResponse/message",
            "order",
            "'message' is out of order (expected 'token')",
            id="logout-mixed-with-login",
        ),
        pytest.param(
            _edited(_GROUPS, ("<id>1042</id>", "<id>g1042</id>")),
            "/getConsGroupsResponse/group/id",
            "pattern",
            "'g1042' is not a non-negative integer",
            id="group-id-not-an-integer",
        ),
        pytest.param(
            _edited(_CONS, ("</email>", "</email>\n  <phone>555</phone>")),
            "/getConsResponse/phone",
            "unexpected",
            "'phone' is not an allowed child element here",
            id="getConsResponse-unknown-field",
        ),
        pytest.param(
            _edited(_INTERACTIONS, ("<count>2</count>", "<count>two</count>")),
            "/getUserInteractionsResponse/interaction[2]/count",
            "pattern",
            "'two' is not a non-negative integer",
            id="second-interaction-bad-count",
        ),
    ],
)
def test_xml_variant_is_refused_at_its_path(
    document: bytes, path: str, rule: str, message_start: str
) -> None:
    violations = list(luminate_schemas().iter_xml_errors(document))
    assert [(violation.path, violation.rule) for violation in violations] == [(path, rule)], _messages(
        violations
    )
    assert violations[0].message.startswith(message_start), violations[0].message


def test_parse_xml_never_expands_an_external_entity(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("classified", encoding="utf-8")
    document = f'<!DOCTYPE r [<!ENTITY x SYSTEM "{secret.as_uri()}">]><r>&x;</r>'.encode()
    assert "classified" not in etree.tostring(parse_xml(document), encoding="unicode")


# ---------------------------------------------------------------------------------------
# Luminate JSON: accepted and refused variants

_DELETE = object()


def _json_edited(path: Path, edits: Mapping[str, object]) -> object:
    """The JSON file with ``{"a.b.0.c": value}`` edits applied (``_DELETE`` removes the key)."""
    document = json.loads(path.read_bytes())
    for dotted, value in edits.items():
        *parents, last = dotted.split(".")
        node: Any = document
        for step in parents:
            node = node[int(step)] if isinstance(node, list) else node[step]
        if value is _DELETE:
            assert last in node, f"{path.name} has no {dotted}"
            del node[last]
        else:
            node[last] = copy.deepcopy(value)
    return document


_FIRST_INTERACTION = json.loads((MADE / "getUserInteractionsResponse.json").read_bytes())[
    "getUserInteractionsResponse"
]["interaction"][0]
_I = "getInteractionResponse.interaction"


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(
            _json_edited(SEEDS / "getInteractionResponse.json", {f"{_I}.note": _DELETE}), id="note-omitted"
        ),
        pytest.param(
            _json_edited(SEEDS / "getInteractionResponse.json", {f"{_I}.note.text": None}),
            id="note-text-null",
        ),
        pytest.param(
            _json_edited(SEEDS / "getInteractionResponse.json", {f"{_I}.note.text": ""}), id="note-text-empty"
        ),
        pytest.param(
            {"getUserInteractionsResponse": {"interaction": _FIRST_INTERACTION}},
            id="list-of-one-is-an-object",
        ),
        pytest.param({"getConsResponse": {"cons_id": "1001002"}}, id="getConsResponse-with-hidden-fields"),
        pytest.param(
            {"loginResponse": {"cons_id": "1001002", "token": "t"}}, id="login-without-optional-fields"
        ),
    ],
)
def test_json_variant_is_accepted(document: object) -> None:
    assert _messages(list(luminate_schemas().iter_json_errors(document))) == []


@pytest.mark.parametrize(
    ("document", "path", "rule", "message_start"),
    [
        pytest.param(
            _json_edited(SEEDS / "updateConsResponse.json", {"updateConsResponse.cons_id": 1000121}),
            "$.updateConsResponse.cons_id",
            "type",
            "1000121 is not of type 'string'",
            id="cons_id-as-a-number",
        ),
        pytest.param(
            _json_edited(SEEDS / "updateConsResponse.json", {"updateConsResponse.interaction_id": _DELETE}),
            "$.updateConsResponse",
            "required",
            "'interaction_id' is a required property",
            id="missing-interaction_id",
        ),
        pytest.param(
            _json_edited(SEEDS / "updateConsResponse.json", {"updateConsResponse.interaction_id": "0"}),
            "$.updateConsResponse.interaction_id",
            "pattern",
            "'0' is not a positive integer",
            id="interaction_id-zero",
        ),
        pytest.param(
            _json_edited(MADE / "errorResponse.json", {"errorResponse.detail": "stack trace"}),
            "$.errorResponse.detail",
            "additionalProperties",
            "'detail' is not allowed here (allowed: 'code', 'message')",
            id="errorResponse-extra-key",
        ),
        pytest.param(
            _json_edited(MADE / "errorResponse.json", {"errorResponse.code": 1}),
            "$.errorResponse.code",
            "type",
            "1 is not of type 'string'",
            id="errorResponse-code-as-a-number",
        ),
        pytest.param(
            _json_edited(MADE / "errorResponse.json", {"errorResponse.message": ""}),
            "$.errorResponse.message",
            "pattern",
            "'' is not a non-empty text",
            id="errorResponse-empty-message",
        ),
        pytest.param(
            _json_edited(
                SEEDS / "getInteractionResponse.json", {f"{_I}.creationDate": "2016-02-01T09:43:35.159"}
            ),
            "$.getInteractionResponse.interaction.creationDate",
            "pattern",
            "'2016-02-01T09:43:35.159' is not a dateTime with milliseconds and a UTC offset",
            id="date-without-offset",
        ),
        pytest.param(
            _json_edited(
                SEEDS / "getInteractionResponse.json",
                {f"{_I}.note.modifiedDate": "2016-02-30T09:43:35.159-06:00"},
            ),
            "$.getInteractionResponse.interaction.note.modifiedDate",
            "format",
            "'2016-02-30T09:43:35.159-06:00' is not a dateTime with milliseconds and a UTC offset",
            id="date-that-does-not-exist",
        ),
        pytest.param(
            _json_edited(SEEDS / "getInteractionResponse.json", {f"{_I}.note.typeOfConsNote": "private"}),
            "$.getInteractionResponse.interaction.note.typeOfConsNote",
            "const",
            "'private' is not the note kind \"normal\"",
            id="typeOfConsNote-not-normal",
        ),
        pytest.param(
            _json_edited(SEEDS / "getInteractionResponse.json", {f"{_I}.count": None}),
            "$.getInteractionResponse.interaction.count",
            "type",
            "null is not of type 'string'",
            id="null-where-not-nillable",
        ),
        pytest.param(
            _json_edited(SEEDS / "getInteractionResponse.json", {_I: "1000"}),
            "$.getInteractionResponse.interaction",
            "type",
            "'1000' is not of type 'object'",
            id="interaction-as-a-string",
        ),
        # vendor-facts: "a list of one item is an object". An array of one is a shape the
        # vendor never writes, so the strict contract refuses it rather than tolerating it.
        pytest.param(
            {"getUserInteractionsResponse": {"interaction": [_FIRST_INTERACTION]}},
            "$.getUserInteractionsResponse.interaction",
            "minItems",
            "an array of 1 item is not an array of two or more interactions",
            id="list-of-one-as-an-array",
        ),
        # An empty list is an absent key, never an empty array.
        pytest.param(
            {"getUserInteractionsResponse": {"interaction": []}},
            "$.getUserInteractionsResponse.interaction",
            "minItems",
            "an array of 0 items is not an array of two or more interactions",
            id="empty-list-as-an-array",
        ),
        pytest.param(
            {"getConsGroupsResponse": {"group": [{"id": "1042", "name": "Gala volunteers"}]}},
            "$.getConsGroupsResponse.group",
            "minItems",
            "an array of 1 item is not an array of two or more groups",
            id="group-list-of-one-as-an-array",
        ),
        pytest.param(
            _json_edited(
                MADE / "getUserInteractionsResponse.json",
                {"getUserInteractionsResponse.interaction.1.count": "two"},
            ),
            "$.getUserInteractionsResponse.interaction[1].count",
            "pattern",
            "'two' is not a non-negative integer",
            id="second-interaction-bad-count",
        ),
        pytest.param(
            _json_edited(MADE / "loginResponse.logout.json", {"loginResponse.cons_id": "1001002"}),
            "$.loginResponse.cons_id",
            "additionalProperties",
            "'cons_id' is not allowed here (allowed: 'message')",
            id="logout-mixed-with-login",
        ),
        pytest.param(
            _json_edited(MADE / "loginResponse.login.json", {"loginResponse.token": _DELETE}),
            "$.loginResponse",
            "required",
            "'token' is a required property",
            id="login-without-token",
        ),
        pytest.param(
            _json_edited(MADE / "loginResponse.login.json", {"loginResponse.token": None}),
            "$.loginResponse.token",
            "type",
            "null is not of type 'string'",
            id="login-token-null",
        ),
        pytest.param(
            _json_edited(MADE / "getConsResponse.json", {"getConsResponse.phone": "555"}),
            "$.getConsResponse.phone",
            "additionalProperties",
            "'phone' is not allowed here",
            id="getConsResponse-unknown-field",
        ),
        pytest.param(
            {"errorResponse": None}, "$.errorResponse", "type", "null is not of type 'object'", id="root-null"
        ),
        pytest.param(
            {"fooResponse": {}}, "$", "root", "'fooResponse' is not an answer root", id="unknown-root"
        ),
        pytest.param(
            {"errorResponse": {"code": "1", "message": "m"}, "updateConsResponse": {}},
            "$",
            "root",
            "keys 'errorResponse', 'updateConsResponse' are not exactly one answer root",
            id="two-roots",
        ),
        pytest.param([], "$", "type", "an array of 0 items is not an object", id="not-an-object"),
    ],
)
def test_json_variant_is_refused_at_its_path(
    document: object, path: str, rule: str, message_start: str
) -> None:
    violations = list(luminate_schemas().iter_json_errors(document))
    assert [(violation.path, violation.rule) for violation in violations] == [(path, rule)], _messages(
        violations
    )
    assert violations[0].message.startswith(message_start), violations[0].message


def test_json_violations_come_sorted_by_path() -> None:
    document = {"updateConsResponse": {"message": 2, "interaction_id": "x", "cons_id": 1}}
    paths = [violation.path for violation in luminate_schemas().iter_json_errors(document)]
    assert paths == [
        "$.updateConsResponse.cons_id",
        "$.updateConsResponse.interaction_id",
        "$.updateConsResponse.message",
    ]


# ---------------------------------------------------------------------------------------
# Kognitiv: the WSDL through zeep, results through KognitivSchemas

_FIELDS = {
    "SecurityToken": "token-1",
    "AccountId": "ACC-100",
    "LocationExternalReference": "LOC-1",
    "InteractionTypeExternalReference": "IT-1",
    "InteractionNote": "Visited the store",
}


@pytest.fixture(scope="module")
def client() -> Any:
    import zeep

    # zeep ships py.typed but leaves its constructors unannotated.
    return zeep.Client(str(WSDL))  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(
    ("port", "envelope_namespace"), [("InteractionSoap", SOAP11), ("InteractionSoap12", SOAP12)]
)
def test_zeep_builds_a_record_interaction_request(client: Any, port: str, envelope_namespace: str) -> None:
    service = client.bind("Interaction", port)
    envelope = client.create_message(service, "RecordInteraction", preqRecordInteraction=_FIELDS)
    assert envelope.tag == f"{{{envelope_namespace}}}Envelope"
    (operation,) = envelope.find(f"{{{envelope_namespace}}}Body")
    assert operation.tag == f"{{{KOGNITIV_NAMESPACE}}}RecordInteraction"
    (wrapper,) = operation
    assert wrapper.tag == f"{{{KOGNITIV_NAMESPACE}}}preqRecordInteraction"
    assert [(child.tag, child.text) for child in wrapper] == [
        (f"{{{KOGNITIV_NAMESPACE}}}{name}", value) for name, value in _FIELDS.items()
    ]


def test_zeep_default_service_is_soap_1_1(client: Any) -> None:
    envelope = client.create_message(client.service, "RecordInteraction", preqRecordInteraction=_FIELDS)
    assert envelope.tag == f"{{{SOAP11}}}Envelope"


def test_wsdl_describes_the_asmx_service(client: Any) -> None:
    ports = client.wsdl.services["Interaction"].ports
    assert {name: type(port.binding).__name__ for name, port in ports.items()} == {
        "InteractionSoap": "Soap11Binding",
        "InteractionSoap12": "Soap12Binding",
    }
    for port in ports.values():
        assert port.binding_options["address"] == "https://app.kognitivloyalty.com/Services/Interaction.asmx"
        operation = port.binding.get("RecordInteraction")
        assert operation.soapaction == "https://app.smartbutton.com/Services/RecordInteraction"
        assert operation.style == "document"
    request = client.get_type(f"{{{KOGNITIV_NAMESPACE}}}reqRecordInteraction")
    assert [name for name, _ in request.elements] == list(_FIELDS)
    response = client.get_type(f"{{{KOGNITIV_NAMESPACE}}}respRecordInteraction")
    assert [(name, element.type.name, element.min_occurs) for name, element in response.elements] == [
        ("ReturnCode", "int", 1),
        ("InteractionId", "int", 1),
    ]


def _result(document: bytes) -> etree._Element:
    """The child of soap:Body."""
    envelope = parse_xml(document)
    body = next(child for child in envelope if etree.QName(child).localname == "Body")
    return body[0]


_SOAP11 = MADE / "RecordInteractionResponse.soap11.xml"
_SOAP12 = MADE / "RecordInteractionResponse.soap12.xml"
_RESULT_PATH = "/Envelope/Body/RecordInteractionResponse/RecordInteractionResult"


@pytest.mark.parametrize("path", [_SOAP11, _SOAP12], ids=lambda path: path.name)
def test_kognitiv_sample_result_is_valid(path: Path) -> None:
    assert _messages(list(KognitivSchemas().iter_result_errors(_result(path.read_bytes())))) == []


@pytest.mark.parametrize(
    ("document", "path", "rule", "message_start"),
    [
        pytest.param(
            _edited(_SOAP11, ("<ReturnCode>0</ReturnCode>", "<ReturnCode>abc</ReturnCode>")),
            f"{_RESULT_PATH}/ReturnCode",
            "type",
            "'abc' is not a valid xs:int",
            id="ReturnCode-not-an-int",
        ),
        pytest.param(
            _edited(
                _SOAP12, ("<InteractionId>-1</InteractionId>", "<InteractionId>2147483648</InteractionId>")
            ),
            f"{_RESULT_PATH}/InteractionId",
            "type",
            "'2147483648' is not a valid xs:int",
            id="InteractionId-beyond-int",
        ),
        pytest.param(
            _edited(_SOAP11, ("        <InteractionId>4711</InteractionId>\n", "")),
            _RESULT_PATH,
            "required",
            "'InteractionId' is a required child element of 'RecordInteractionResult'",
            id="InteractionId-missing",
        ),
        pytest.param(
            _edited(
                _SOAP11,
                ("        <ReturnCode>0</ReturnCode>\n", ""),
                ("</InteractionId>", "</InteractionId><ReturnCode>0</ReturnCode>"),
            ),
            f"{_RESULT_PATH}/InteractionId",
            "order",
            "'InteractionId' is out of order (expected 'ReturnCode')",
            id="InteractionId-before-ReturnCode",
        ),
        pytest.param(
            _edited(
                _SOAP11,
                (
                    "      <RecordInteractionResult>\n        <ReturnCode>0</ReturnCode>\n"
                    "        <InteractionId>4711</InteractionId>\n      </RecordInteractionResult>\n",
                    "",
                ),
            ),
            "/Envelope/Body/RecordInteractionResponse",
            "required",
            "'RecordInteractionResult' is a required child element of 'RecordInteractionResponse'",
            id="result-missing",
        ),
        pytest.param(
            _edited(
                _SOAP11,
                ('xmlns="https://app.smartbutton.com/Services/"', 'xmlns="https://example.test/Services/"'),
            ),
            "/Envelope/Body/RecordInteractionResponse",
            "namespace",
            "'{https://example.test/Services/}RecordInteractionResponse' is not in the namespace "
            "https://app.smartbutton.com/Services/",
            id="answer-in-another-namespace",
        ),
        pytest.param(
            _edited(
                _SOAP11,
                ("<RecordInteractionResponse ", "<RecordInteraction "),
                ("</RecordInteractionResponse>", "</RecordInteraction>"),
            ),
            "/Envelope/Body/RecordInteraction",
            "root",
            "'RecordInteraction' is not the answer element",
            id="request-element-instead-of-answer",
        ),
    ],
)
def test_kognitiv_result_is_refused_at_its_path(
    document: bytes, path: str, rule: str, message_start: str
) -> None:
    violations = list(KognitivSchemas().iter_result_errors(_result(document)))
    assert [(violation.path, violation.rule) for violation in violations] == [(path, rule)], _messages(
        violations
    )
    assert violations[0].message.startswith(message_start), violations[0].message


def test_kognitiv_schemas_follow_a_profile_namespace() -> None:
    other = "https://example.test/Services/"
    schemas = KognitivSchemas(namespace=other)
    moved = _edited(_SOAP11, (f'xmlns="{KOGNITIV_NAMESPACE}"', f'xmlns="{other}"'))
    assert list(schemas.iter_result_errors(_result(moved))) == []
    broken = moved.replace(b"<ReturnCode>0<", b"<ReturnCode>x<")
    assert [v.path for v in schemas.iter_result_errors(_result(broken))] == [f"{_RESULT_PATH}/ReturnCode"]
    assert [v.rule for v in schemas.iter_result_errors(_result(_SOAP11.read_bytes()))] == ["namespace"]


def test_kognitiv_schemas_read_a_given_wsdl(tmp_path: Path) -> None:
    wsdl = tmp_path / "Interaction.wsdl"
    wsdl.write_bytes(
        WSDL.read_bytes().replace(
            b'name="InteractionId" type="s:int"', b'name="InteractionId" type="s:string"'
        )
    )
    document = _edited(_SOAP11, ("<InteractionId>4711</InteractionId>", "<InteractionId>n/a</InteractionId>"))
    assert list(KognitivSchemas(wsdl_path=wsdl).iter_result_errors(_result(document))) == []
    assert [v.rule for v in KognitivSchemas().iter_result_errors(_result(document))] == ["type"]
