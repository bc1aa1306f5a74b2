"""Reading a Luminate answer: media type, well-formedness, schema, and one tree.

XML and JSON answers are turned into the same plain tree (a dict per element, a list
for repeated elements, text or None for leaves) so expectations, read-back checks and
the XML/JSON comparison (L-T11) are written once.  Everything the transport clauses
demand of *any* answer (L-T8 to L-T10) is checked here, so no case has to repeat it.
"""

from __future__ import annotations

import json
import re
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

#: Deeper than any answer of the contract (about 5 levels) and shallow enough for the
#: recursive checks that walk a tree; libxml2 stops XML at 256 levels by itself.
MAX_DEPTH = 64


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
    if requested == "auto":  # any well-formed answer will do (L-T6): read what came
        requested = "json" if looks_json else "xml"
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
        failures.append(
            Failure("L-T10", "$", f"the body is not UTF-8 ({exc.reason} at byte {exc.start})", malformed=True)
        )
        return Answer(http.status, "json", None, None, http, failures)
    except json.JSONDecodeError as exc:
        failures.append(
            Failure(
                "L-T10",
                "$",
                f"the body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                malformed=True,
            )
        )
        return Answer(http.status, "json", None, None, http, failures)
    except RecursionError:
        # Legal JSON, but nested deeper than any API answer and than Python's parser
        # can follow: we cannot see the answer, so nothing is known about the clause.
        raise CheckErrored("the JSON answer nests arrays or objects too deeply to parse; refused") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise CheckErrored(f"the JSON answer is beyond the parser's limits: {str(exc)[:120]}") from None
    if _depth(doc) > MAX_DEPTH:
        # The checks below walk the tree recursively; an answer this deep is no API's.
        raise CheckErrored(f"the JSON answer nests more than {MAX_DEPTH} levels deep; refused")
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


def _depth(doc: Any) -> int:
    """How deeply lists and objects nest, found without recursion."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            if depth <= MAX_DEPTH:
                stack.extend(
                    (child, depth + 1) for child in (node.values() if isinstance(node, dict) else node)
                )
    return deepest


def _read_xml(http: HttpAnswer, mtype: str) -> Answer:
    from lxml import etree

    failures: list[Failure] = []
    if mtype not in XML_TYPES:
        failures.append(
            Failure("L-T9", "Content-Type", f"'{mtype or '(none)'}' is not text/xml or application/xml")
        )
    body = http.body
    refuse_dtd(body, "the answer")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        failures.append(
            Failure("L-T9", "/", f"the body is not UTF-8 ({exc.reason} at byte {exc.start})", malformed=True)
        )
        return Answer(http.status, "xml", None, None, http, failures)
    try:
        element = parse_xml(body, "the answer")
    except etree.XMLSyntaxError as exc:
        failures.append(
            Failure(
                "L-T9", f"line {exc.lineno}", f"the answer is not well-formed XML: {exc.msg}", malformed=True
            )
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
        # An element with no children reads as "" from XML and as {} from JSON.
        return {k: normalise(v) for k, v in sorted(tree.items())} if tree else ""
    return tree


# -- parsing XML that a target sent -------------------------------------------------

#: libxml2's own limits (entity amplification, nesting depth) stop a hostile document
#: early; its message then says so, and such a document is hostile, not malformed.
_LIMIT_MESSAGES = ("amplification", "excessive depth", "entity reference loop", "huge input")
_ROOT_START = re.compile(rb"<[A-Za-z_:\x80-\xff]")
_EXTERNAL = re.compile(rb"""(?:SYSTEM|PUBLIC)\s+(?:["'][^"']{0,200}["']\s+)?["']([^"']{0,200})["']""")


def refuse_dtd(body: bytes, what: str) -> None:
    """CheckErrored when ``body`` declares a DTD before its root element.

    An API answer has no use for a DTD: one can only be there to expand entities
    (billion laughs) or to reach out to external ones (file:///etc/passwd, an
    internal URL).  Nothing is parsed, fetched or expanded; the reason says which.
    """
    prolog = _prolog(body)
    if b"<!DOCTYPE" in prolog and not _bare_doctype(prolog):
        raise CheckErrored(_dtd_reason(prolog, what))


_BARE_DOCTYPE = re.compile(rb"<!DOCTYPE\s+[A-Za-z_:][\w.:-]*\s*>")


def _prolog(body: bytes) -> bytes:
    root = _ROOT_START.search(body)
    return body[: root.start()] if root else body


def _bare_doctype(prolog: bytes) -> bool:
    """``<!DOCTYPE html>``: no internal subset, no external reference, nothing to expand.

    Such an answer (an HTML error page, say) is parsed and judged on its merits: it is
    the target failing the clause, not a hostile answer.
    """
    start = prolog.find(b"<!DOCTYPE")
    return bool(_BARE_DOCTYPE.match(prolog, start)) and prolog.count(b"<!DOCTYPE") == 1


def parse_xml(body: bytes, what: str) -> Any:
    """The root element, parsed with every expansion and every fetch switched off.

    Raises CheckErrored for a hostile document (a DTD, entity expansion, nesting past
    libxml2's limits) and ``lxml.etree.XMLSyntaxError`` for one that is merely not
    well-formed, which the caller reports as the failure of its clause.
    """
    from lxml import etree

    refuse_dtd(body, what)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_blank_text=False
    )
    try:
        element = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        if any(m in str(exc.msg).lower() for m in _LIMIT_MESSAGES):
            raise CheckErrored(f"{what} is beyond the XML parser's safety limits: {exc.msg}") from None
        raise
    # A DOCTYPE the quick scan missed (another encoding, an odd prolog) still shows
    # here; nothing was expanded or fetched while parsing it.
    docinfo = element.getroottree().docinfo
    bare = _bare_doctype(_prolog(body))
    if docinfo.doctype and (docinfo.system_url or docinfo.public_id or not bare):
        raise CheckErrored(_dtd_reason(body[:65_536], what))
    return element


def _dtd_reason(prolog: bytes, what: str) -> str:
    external = _EXTERNAL.search(prolog)
    if external:
        ref = external.group(1).decode("utf-8", "replace")
        return (
            f"{what} declares a DTD with an external reference ({ref!r}); "
            "refused to parse it: external entities are never fetched"
        )
    if b"<!ENTITY" in prolog:
        return f"{what} declares entities in a DTD; refused to parse it (entity expansion, billion laughs)"
    return f"{what} declares a DTD; refused to parse it (an API answer carries none)"
