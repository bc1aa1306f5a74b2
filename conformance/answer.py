"""Reading a Luminate answer: media type, well-formedness, schema, and one tree.

XML and JSON answers are turned into the same plain tree (a dict per element, a list
for repeated elements, text or None for leaves) so expectations, read-back checks and
the XML/JSON comparison (L-T11) are written once.  Everything the transport clauses
demand of *any* answer (L-T8 to L-T10) is checked here, so no case has to repeat it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from conformance.outcome import CheckErrored, Failure
from conformance.transport import HttpAnswer

NS = "http://convio.com/crm/v1.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = "http://convio.com/crm/v1.0 http://service.convio.net/xmlschema/crm.public.v1.xsd"
XML_TYPES = ("text/xml", "application/xml")

#: The clause whose shape each answer root carries (schema violations name it too).
ROOT_CLAUSE = {
    "errorResponse": "L-T8",
    "updateConsResponse": "L-L8",
    "getInteractionResponse": "L-G4",
    "createOrUpdateConsResponse": "L-C9",
    "loginResponse": "L-A2",
}

Tree = dict[str, Any] | list[Any] | str | None


@dataclass
class Answer:
    status: int
    format: str  # "xml", "json" or "" when the body could not be read as either
    root: str | None
    tree: Tree
    http: HttpAnswer = field(repr=False)
    failures: list[Failure] = field(default_factory=list)

    @property
    def is_error(self) -> bool:
        return self.root == "errorResponse"

    def error_code(self) -> str | None:
        if self.is_error and isinstance(self.tree, dict):
            code = self.tree.get("code")
            return code if isinstance(code, str) else None
        return None


def media_type(http: HttpAnswer) -> str:
    return http.header("content-type").split(";")[0].strip().lower()


def read_luminate(http: HttpAnswer, requested: str) -> Answer:
    """Parse an answer; format problems become failures, hostile ones CheckErrored."""
    mtype = media_type(http)
    if http.status in (302, 405) or (not http.body and http.status != 200):
        return Answer(http.status, "", None, None, http)
    looks_json = http.body.lstrip()[:1] in (b"{", b"[")
    if requested == "json" or (mtype == "application/json" and looks_json):
        return _read_json(http, mtype)
    return _read_xml(http, mtype)


def _read_json(http: HttpAnswer, mtype: str) -> Answer:
    failures: list[Failure] = []
    if mtype != "application/json":
        failures.append(Failure("L-T10", "Content-Type", f"'{mtype or '(none)'}' is not application/json"))
    try:
        doc = json.loads(http.body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        failures.append(Failure("L-T10", "$", f"the body is not UTF-8 ({exc.reason} at byte {exc.start})"))
        return Answer(http.status, "json", None, None, http, failures)
    except json.JSONDecodeError as exc:
        failures.append(
            Failure("L-T10", "$", f"the body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
        )
        return Answer(http.status, "json", None, None, http, failures)
    if not (isinstance(doc, dict) and len(doc) == 1):
        keys = list(doc) if isinstance(doc, dict) else type(doc).__name__
        failures.append(Failure("L-T10", "$", f"{keys!r} is not one object with a single root key"))
        return Answer(http.status, "json", None, doc, http, failures)
    root, tree = next(iter(doc.items()))
    from conformance.validation import luminate_schemas

    for v in luminate_schemas().iter_json_errors(doc):
        failures.append(Failure("L-T10", v.path, v.message))
        if root in ROOT_CLAUSE:
            failures.append(Failure(ROOT_CLAUSE[root], v.path, v.message))
    return Answer(http.status, "json", root, tree, http, failures)


def _read_xml(http: HttpAnswer, mtype: str) -> Answer:
    from lxml import etree

    failures: list[Failure] = []
    if mtype not in XML_TYPES:
        failures.append(
            Failure("L-T9", "Content-Type", f"'{mtype or '(none)'}' is not text/xml or application/xml")
        )
    body = http.body
    head = body[:512].lower()
    if b"<!doctype" in head or b"<!entity" in body[:65536].lower():
        # A DTD in an API answer can only be there to expand entities or reach out to
        # external ones: refuse to parse it at all (hostile, not merely malformed).
        raise CheckErrored("the answer declares a DTD or entities; refused to parse it (entity expansion)")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        failures.append(Failure("L-T9", "/", f"the body is not UTF-8 ({exc.reason} at byte {exc.start})"))
        return Answer(http.status, "xml", None, None, http, failures)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_blank_text=False
    )
    try:
        element = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        failures.append(
            Failure("L-T9", f"line {exc.lineno}", f"the answer is not well-formed XML: {exc.msg}")
        )
        return Answer(http.status, "xml", None, None, http, failures)
    qname = etree.QName(element)
    root = qname.localname
    if qname.namespace != NS:
        failures.append(Failure("L-T9", f"/{root}", f"namespace '{qname.namespace or ''}' is not '{NS}'"))
    location = element.get(f"{{{XSI}}}schemaLocation")
    if location is None or " ".join(location.split()) != SCHEMA_LOCATION:
        failures.append(
            Failure("L-T9", f"/{root}/@xsi:schemaLocation", f"{location!r} is not '{SCHEMA_LOCATION}'")
        )
    if not body.lstrip().startswith(b"<?xml") or b"utf-8" not in body[:100].lower():
        failures.append(Failure("L-T9", "/", "the XML declaration does not say encoding UTF-8"))
    from conformance.validation import luminate_schemas

    for v in luminate_schemas().iter_xml_errors(element):
        failures.append(Failure("L-T9", v.path, v.message))
        if root in ROOT_CLAUSE:
            failures.append(Failure(ROOT_CLAUSE[root], v.path, v.message))
    return Answer(http.status, "xml", root, xml_tree(element), http, failures)


def xml_tree(element: Any) -> Tree:
    children = [c for c in element if isinstance(c.tag, str)]
    if not children:
        if element.get(f"{{{XSI}}}nil") in ("true", "1"):
            return None
        return element.text or ""
    # A leaf is text and a compound element a dict, so a list can only come from
    # repeated siblings: the JSON form of a repeated element (vendor-facts.md).
    tree: dict[str, Any] = {}
    for child in children:
        name = child.tag.split("}", 1)[-1]
        value = xml_tree(child)
        if name not in tree:
            tree[name] = value
        elif isinstance(tree[name], list):
            tree[name].append(value)
        else:
            tree[name] = [tree[name], value]
    return tree


def lookup(tree: Tree, path: str) -> tuple[bool, Any]:
    """Follow a slash path (``interaction/note/text``, ``interaction[1]/subject``).

    A list of one item is an object in JSON (vendor-facts.md), so ``x[0]`` on an object
    is the object itself.
    """
    node: Any = tree
    for step in path.split("/"):
        name, index = step, None
        if step.endswith("]") and "[" in step:
            name, _, rest = step.partition("[")
            index = int(rest[:-1])
        if not isinstance(node, dict) or name not in node:
            return False, None
        node = node[name]
        if index is not None:
            items = node if isinstance(node, list) else [node]
            if index >= len(items):
                return False, None
            node = items[index]
    return True, node


def count_items(tree: Tree, path: str) -> int:
    found, node = lookup(tree, path)
    if not found or node is None:
        return 0
    return len(node) if isinstance(node, list) else 1


def normalise(tree: Tree) -> Tree:
    """The comparable form: one-item lists as objects, key order ignored for dicts."""
    if isinstance(tree, list):
        items = [normalise(x) for x in tree]
        return items[0] if len(items) == 1 else items
    if isinstance(tree, dict):
        return {k: normalise(v) for k, v in sorted(tree.items())}
    return tree
