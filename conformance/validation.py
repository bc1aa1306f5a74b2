"""Validate answers against the contracts under test: the Luminate XSD and JSON Schemas, and
the schema embedded in the Kognitiv WSDL.

Each schema is compiled once, on first use, and kept: compiling the XSD costs about 150 ms,
validating a document against the compiled form about 100 us, and a prebuilt jsonschema
validator about 27 us per document against 1.3 ms for ``jsonschema.validate`` (which rebuilds
the validator every call).  xmlschema, jsonschema and referencing are imported only when a
schema is first compiled, so importing this module stays cheap.

Every problem becomes a :class:`Violation` carrying where (an XPath or a JSON path), what
(a message that leads with the offending value) and which rule was broken, so the case
engine and the report never see a library's own exception types.

Nothing here touches the network: XML is parsed without entity expansion or network
access, the XSDs are compiled with remote loading forbidden, and the JSON Schemas refer to
each other through a local :class:`referencing.Registry`.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import etree

from conformance.resources import schema_dir

if TYPE_CHECKING:
    import xmlschema
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

LUMINATE_NAMESPACE = "http://convio.com/crm/v1.0"
KOGNITIV_NAMESPACE = "https://app.smartbutton.com/Services/"
_XSD_NAMESPACE = "http://www.w3.org/2001/XMLSchema"
_JSON_SUFFIX = ".schema.json"
_JSON_COMMON = "common" + _JSON_SUFFIX
_PREVIEW_CHARS = 60

# jsonschema keywords whose failure is about the value itself: their message is built from
# the failing schema's title ("'12a' is not a non-negative integer").
_JSON_VALUE_RULES = frozenset({"pattern", "const", "enum", "format", "minLength", "maxLength", "minItems"})


@dataclass(frozen=True)
class Violation:
    """One way a document breaks its contract."""

    path: str
    """XPath for XML (``/getInteractionResponse/interaction/consId``), JSON path for JSON
    (``$.getInteractionResponse.interaction.count``)."""
    message: str
    """Leads with the offending value: ``'12a' is not a non-negative integer``."""
    rule: str
    """Short name of the broken rule: ``pattern``, ``required``, ``order``, ``type``, ..."""

    def __str__(self) -> str:
        return f"{self.path}: {self.message} [{self.rule}]"


def parse_xml(document: bytes) -> etree._Element:
    """Parse an answer without resolving entities, loading a DTD or touching the network.

    A fresh parser per call: lxml parsers must not be shared between threads, and building
    one costs microseconds.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
    return etree.fromstring(document, parser)


# ---------------------------------------------------------------------------------------
# Luminate


class LuminateSchemas:
    """The Luminate answer contracts: one XSD for the XML form, one JSON Schema per root."""

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory if directory is not None else schema_dir() / "luminate"

    def root_names(self) -> frozenset[str]:
        """The answer roots (one JSON Schema file each; known without compiling anything)."""
        return self._root_names

    @functools.cached_property
    def _root_names(self) -> frozenset[str]:
        return frozenset(path.name.removesuffix(_JSON_SUFFIX) for path in self._json_files())

    def _json_files(self) -> list[Path]:
        directory = self._directory / "json"
        return sorted(path for path in directory.glob("*" + _JSON_SUFFIX) if path.name != _JSON_COMMON)

    def iter_xml_errors(self, document: bytes | etree._Element) -> Iterator[Violation]:
        """Violations of the XSD, in document order; nothing when the document is valid."""
        if isinstance(document, bytes):
            try:
                root = parse_xml(document)
            except etree.XMLSyntaxError as error:
                yield Violation("/", f"the answer is not well-formed XML ({error})", "well-formed")
                return
        else:
            root = document
        tag = etree.QName(root)
        roots = self.root_names()
        if tag.localname not in roots:
            expected = ", ".join(sorted(roots))
            yield Violation(
                _xpath(root), f"{tag.localname!r} is not an answer root (expected one of: {expected})", "root"
            )
            return
        if tag.namespace != LUMINATE_NAMESPACE:
            yield _foreign_root(root, LUMINATE_NAMESPACE)
            return
        yield from _xml_violations(self._xsd, root)

    def iter_json_errors(self, document: object) -> Iterator[Violation]:
        """Violations of the root's JSON Schema, sorted by path; nothing when valid."""
        if not isinstance(document, dict):
            yield Violation("$", f"{_preview(document)} is not an object with one answer root", "type")
            return
        if len(document) != 1:
            keys = ", ".join(repr(key) for key in document) or "none"
            yield Violation("$", f"keys {keys} are not exactly one answer root", "root")
            return
        (root,) = document
        validator = self._json_validators.get(root)
        if validator is None:
            expected = ", ".join(sorted(self._json_validators))
            yield Violation("$", f"{root!r} is not an answer root (expected one of: {expected})", "root")
            return
        found = sorted(
            (violation for error in validator.iter_errors(document) for violation in _json_violations(error)),
            key=lambda violation: (violation.path, violation.message, violation.rule),
        )
        # A value can fail two keywords with the same words (a garbage date fails both the
        # pattern and the date-time format): report it once.
        reported: set[tuple[str, str]] = set()
        for violation in found:
            if (violation.path, violation.message) not in reported:
                reported.add((violation.path, violation.message))
                yield violation

    @functools.cached_property
    def _xsd(self) -> xmlschema.XMLSchema:
        import xmlschema

        # Read through the safe parser and compile with every resource access forbidden:
        # the XSD is self-contained, so it can neither fetch nor include anything.
        source = parse_xml((self._directory / "crm.public.v1.xsd").read_bytes())
        return xmlschema.XMLSchema(source, allow="none")

    @functools.cached_property
    def _json_validators(self) -> dict[str, Validator]:
        from jsonschema import Draft202012Validator
        from referencing import Registry, Resource

        def resource(path: Path) -> Resource[Any]:
            return Resource.from_contents(json.loads(path.read_text(encoding="utf-8")))

        roots = {path.name.removesuffix(_JSON_SUFFIX): resource(path) for path in self._json_files()}
        common = resource(self._directory / "json" / _JSON_COMMON)
        # Every schema is registered under its $id, so the relative "common.schema.json#..."
        # references resolve here; a reference to anything else fails instead of fetching.
        registry: Registry[Any] = Registry().with_resources(
            (item.id() or "", item) for item in [*roots.values(), common]
        )
        checker = _format_checker()
        validators: dict[str, Validator] = {}
        for name, item in roots.items():
            # Resolving a $ref costs more than checking the value behind it (330 us against
            # about 100 us for a getInteractionResponse), so references are resolved once here.
            schema = _inline_references(item.contents, registry.resolver(item.id() or ""))
            validators[name] = Draft202012Validator(schema, registry=registry, format_checker=checker)
        return validators


@functools.cache
def luminate_schemas() -> LuminateSchemas:
    """The process-wide Luminate schemas (compiled on first use)."""
    return LuminateSchemas()


def _inline_references(node: Any, resolver: Any) -> Any:
    """``node`` with every ``$ref`` replaced by the schema it names, resolved by ``resolver``.

    The answer schemas are not recursive, so this ends.  A ``$ref`` with sibling keywords
    keeps them next to an ``allOf`` of the target, which is what 2020-12 means by it.
    ``$defs`` are dropped: once inlined nothing refers to them.
    """
    if isinstance(node, list):
        return [_inline_references(item, resolver) for item in node]
    if not isinstance(node, dict):
        return node
    inlined = {
        key: _inline_references(value, resolver)
        for key, value in node.items()
        if key not in {"$ref", "$defs"}
    }
    if "$ref" not in node:
        return inlined
    resolved = resolver.lookup(node["$ref"])
    target = _inline_references(resolved.contents, resolved.resolver)
    if not inlined:
        return target
    return {**inlined, "allOf": [*inlined.get("allOf", []), target]}


def _format_checker() -> Any:
    """A checker asserting only ``date-time``, with the standard library.

    jsonschema's own date-time check depends on an optional package, so whether it runs
    would depend on the environment; this one always runs.  The schemas' pattern already
    demands milliseconds and an offset; this adds that the date exists (no 2016-13-01).
    """
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())
    checker.checks("date-time", raises=ValueError)(_is_date_time)
    return checker


def _is_date_time(value: object) -> bool:
    """True for strings the standard library reads as a date and time; raises otherwise."""
    if isinstance(value, str):
        datetime.fromisoformat(value)
    return True


def _json_violations(error: ValidationError) -> Iterator[Violation]:
    rule = str(error.validator)
    path = error.json_path
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    title = schema.get("title")
    if rule == "additionalProperties" and isinstance(error.instance, Mapping):
        # One violation per extra key, at the key's own path, as an XML extra child is
        # reported at the child's path.
        allowed = schema.get("properties", {})
        for key in error.instance:
            if key not in allowed:
                expected = ", ".join(repr(name) for name in allowed) or "none"
                yield Violation(
                    _json_child_path(path, key), f"{key!r} is not allowed here (allowed: {expected})", rule
                )
        return
    if rule == "type":
        types = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        names = " or ".join(repr(name) for name in types)
        hint = " (every scalar of the JSON form is a string)" if "string" in types else ""
        message = f"{_preview(error.instance)} is not of type {names}{hint}"
    elif rule in _JSON_VALUE_RULES and isinstance(title, str):
        message = f"{_preview(error.instance)} is not {title}"
    else:
        message = error.message
    yield Violation(path, message, rule)


def _json_child_path(path: str, key: str) -> str:
    return f"{path}.{key}" if key.isidentifier() else f"{path}[{key!r}]"


# ---------------------------------------------------------------------------------------
# Kognitiv


class KognitivSchemas:
    """The schema embedded in the Kognitiv WSDL, for RecordInteractionResponse elements."""

    def __init__(self, wsdl_path: Path | None = None, namespace: str = KOGNITIV_NAMESPACE) -> None:
        self._wsdl_path = (
            wsdl_path if wsdl_path is not None else schema_dir() / "kognitiv" / "Interaction.wsdl"
        )
        self.namespace = namespace

    def iter_result_errors(self, element: etree._Element) -> Iterator[Violation]:
        """Violations of a RecordInteractionResponse element (the child of soap:Body)."""
        tag = etree.QName(element)
        if tag.localname != "RecordInteractionResponse":
            yield Violation(
                _xpath(element),
                f"{tag.localname!r} is not the answer element (expected 'RecordInteractionResponse')",
                "root",
            )
            return
        if tag.namespace != self.namespace:
            yield _foreign_root(element, self.namespace)
            return
        yield from _xml_violations(self._schema, element)

    @functools.cached_property
    def _schema(self) -> xmlschema.XMLSchema:
        import xmlschema

        wsdl = parse_xml(self._wsdl_path.read_bytes())
        embedded = next(
            (
                schema
                for schema in wsdl.iter(f"{{{_XSD_NAMESPACE}}}schema")
                if schema.find(f"{{{_XSD_NAMESPACE}}}element[@name='RecordInteractionResponse']") is not None
            ),
            None,
        )
        if embedded is None:
            raise ValueError(
                f"{self._wsdl_path}: no embedded schema declares the element RecordInteractionResponse"
            )
        return xmlschema.XMLSchema(_standalone_schema(embedded, self.namespace), allow="none")


@functools.cache
def kognitiv_schemas(namespace: str = KOGNITIV_NAMESPACE) -> KognitivSchemas:
    """The process-wide schemas of the bundled WSDL for one service namespace."""
    return KognitivSchemas(namespace=namespace)


def _standalone_schema(embedded: etree._Element, namespace: str) -> etree._Element:
    """The WSDL's embedded schema as a document of its own, in ``namespace``.

    The copy gets every namespace declaration in scope at the original (``type="tns:..."``
    names a prefix declared on wsdl:definitions, which a plain copy would lose).  When the
    profile names another service namespace (K-T2: one sibling service on the vendor's host
    uses its own), the target answers in that namespace with the same shape; rewriting the
    targetNamespace, and every prefix bound to the old one, lets the bundled shape judge
    those answers instead of reporting every element as foreign.
    """
    old = embedded.get("targetNamespace")
    nsmap = {prefix: (namespace if uri == old else uri) for prefix, uri in embedded.nsmap.items()}
    standalone = etree.Element(embedded.tag, attrib=dict(embedded.attrib), nsmap=nsmap)
    standalone.set("targetNamespace", namespace)
    standalone.extend(copy.deepcopy(child) for child in embedded)
    return standalone


# ---------------------------------------------------------------------------------------
# XSD errors to violations


def _xml_violations(schema: xmlschema.XMLSchema, root: etree._Element) -> Iterator[Violation]:
    from xmlschema.validators import XMLSchemaChildrenValidationError

    reported: set[tuple[str, str]] = set()
    for error in schema.iter_errors(root):
        if isinstance(error, XMLSchemaChildrenValidationError):
            violation = _children_violation(error)
            key = (violation.path, violation.message)
        else:
            violation = _value_violation(schema, root, error)
            # xmlschema reports a bad value once per failed facet and once more for the
            # base type ('12a' fails the pattern and int()); one violation per element is
            # enough, and a nil violation already explains the empty value behind it.
            key = (violation.path, "value")
        if key not in reported:
            reported.add(key)
            yield violation


def _children_violation(error: Any) -> Violation:
    parent = error.elem
    expected = [element.local_name for element in (error.expected or ()) if hasattr(element, "local_name")]
    wanted = " or ".join(repr(name) for name in expected)
    child = error.invalid_child
    if child is None:
        return Violation(
            _xpath(parent),
            f"{wanted} is a required child element of {etree.QName(parent).localname!r}",
            "required",
        )
    name = etree.QName(child)
    declared = {element.name: element for element in error.validator.iter_elements()}
    declared_local = {element.local_name for element in declared.values()}
    tail = f" (expected {wanted})" if wanted else " (no more child elements expected)"
    if name.text in declared:
        if any(sibling.tag == child.tag for sibling in child.itersiblings(preceding=True)):
            return Violation(_xpath(child), f"{name.localname!r} is repeated{tail}", "repeated")
        return Violation(_xpath(child), f"{name.localname!r} is out of order{tail}", "order")
    if name.localname in declared_local:
        namespaces = " or ".join(sorted({element.target_namespace for element in declared.values()}))
        return Violation(
            _xpath(child), f"{name.text!r} is not in the namespace {namespaces}{tail}", "namespace"
        )
    # Clark notation only when the namespace differs from the parent's, where it matters.
    shown = name.localname if name.namespace == etree.QName(parent).namespace else name.text
    return Violation(_xpath(child), f"{shown!r} is not an allowed child element here{tail}", "unexpected")


def _value_violation(schema: xmlschema.XMLSchema, root: etree._Element, error: Any) -> Violation:
    from xmlschema.validators import (
        XsdAttribute,
        XsdAttributeGroup,
        XsdElement,
        XsdEnumerationFacets,
        XsdFacet,
        XsdPatternFacets,
    )

    elem = error.elem
    path = _xpath(elem)
    validator = error.validator
    local = etree.QName(elem).localname
    if isinstance(validator, XsdAttributeGroup | XsdAttribute):
        # xmlschema's reason already leads with the attribute: "'a' attribute not allowed ..."
        return Violation(path, f"{error.reason} {local!r}", "attribute")
    if isinstance(validator, XsdElement):
        if "nil" in str(error.reason):
            return Violation(path, f"xsi:nil on {local!r} is not allowed here ({error.reason})", "nil")
        return Violation(path, f"{local!r}: {error.reason}", "element")
    if isinstance(validator, XsdPatternFacets):
        rule = "pattern"
    elif isinstance(validator, XsdEnumerationFacets):
        rule = "enumeration"
    elif isinstance(validator, XsdFacet):
        rule = "facet"
    else:
        # The base type refused the value: its parser, or one of its built-in range checks
        # (xs:int is a plain function validator in xmlschema).
        rule = "type"
    # error.obj is the text for most checks, the parsed number for the built-in ranges.
    value = error.obj if isinstance(error.obj, str) else (elem.text or "")
    return Violation(path, f"{_preview(value)} is not {_describe(_declared_type(schema, root, elem))}", rule)


def _declared_type(schema: xmlschema.XMLSchema, root: etree._Element, elem: etree._Element) -> Any:
    """The XSD type declared for ``elem``, found by walking the content models from ``root``."""
    chain: list[etree._Element] = []
    node: etree._Element | None = elem
    while node is not None and node is not root:
        chain.append(node)
        node = node.getparent()
    declaration: Any = schema.elements.get(etree.QName(root).localname)
    for step in reversed(chain):
        content = getattr(getattr(declaration, "type", None), "content", None)
        if content is None or not hasattr(content, "iter_elements"):
            return None
        declaration = next((element for element in content.iter_elements() if element.name == step.tag), None)
    return getattr(declaration, "type", None)


def _describe(xsd_type: Any) -> str:
    """A type's own words (its xs:documentation), else its XSD name."""
    annotation = getattr(xsd_type, "annotation", None)
    for documentation in getattr(annotation, "documentation", ()):
        if documentation.text and documentation.text.strip():
            return str(documentation.text.strip())
    name = getattr(xsd_type, "local_name", None)
    if not name:
        return "a valid value"
    prefix = "xs:" if xsd_type.target_namespace == _XSD_NAMESPACE else ""
    return f"a valid {prefix}{name}"


# ---------------------------------------------------------------------------------------
# Shared helpers


def _foreign_root(root: etree._Element, namespace: str) -> Violation:
    tag = etree.QName(root)
    expected = etree.QName(namespace, tag.localname).text
    return Violation(
        _xpath(root), f"{tag.text!r} is not in the namespace {namespace} (expected {expected!r})", "namespace"
    )


def _xpath(elem: etree._Element) -> str:
    """``/a/b[2]/c`` by local names, with a position only where siblings share a name."""
    steps: list[str] = []
    node: etree._Element | None = elem
    while node is not None:
        parent = node.getparent()
        step = etree.QName(node).localname
        if parent is not None:
            namesakes = [sibling for sibling in parent if sibling.tag == node.tag]
            if len(namesakes) > 1:
                step += f"[{namesakes.index(node) + 1}]"
        steps.append(step)
        node = parent
    return "/" + "/".join(reversed(steps))


def _preview(value: object) -> str:
    """A short rendering of a value for the head of a message."""
    if isinstance(value, str):
        shown = value if len(value) <= _PREVIEW_CHARS else value[:_PREVIEW_CHARS] + "..."
        return repr(shown)
    if isinstance(value, list | tuple):
        return f"an array of {len(value)} item{'' if len(value) == 1 else 's'}"
    if isinstance(value, Mapping):
        return "an object"
    return json.dumps(value) if value is None or isinstance(value, bool | int | float) else repr(value)
