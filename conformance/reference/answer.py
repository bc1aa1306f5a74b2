"""Luminate answers as one tree, written out as XML or JSON.

The service builds an :class:`Element` tree once and both writers walk the same tree,
so the XML and JSON answers to one call carry the same fields, values and list order
(L-T11) by construction.

XML (L-T9, L-T14): UTF-8, the vendor's root attributes, ``&``/``<``/``>`` escaped and a
carriage return written as ``&#13;`` (a literal CR would be normalised to LF by every
XML parser, so it would not round-trip).  JSON (L-T10): ``{"<root>": {...}}``, every
scalar a string, nil as ``null``, a repeated element an array, a single one an object.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

NAMESPACE = "http://convio.com/crm/v1.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{NAMESPACE} http://service.convio.net/xmlschema/crm.public.v1.xsd"
XML_CONTENT_TYPE = "text/xml;charset=UTF-8"
JSON_CONTENT_TYPE = "application/json;charset=UTF-8"

# Characters XML 1.0 forbids (L-T15), lone surrogates included.  The service refuses
# them on input (code 35); the writer still replaces any that reach it, so no answer can
# ever be ill-formed, whatever a future code path echoes.
FORBIDDEN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

#: Asks whether a deliberate mistake is switched on (``LuminateSite.fault``); the
#: writers take it so the selftest can break them, and default to "never".
FaultCheck = Callable[[str], bool]


def _never(name: str) -> bool:
    return False


@dataclass(frozen=True)
class Element:
    """A leaf (``value`` a string, or ``None`` for nil) or a node with children."""

    name: str
    value: str | tuple[Element, ...] | None


def leaf(name: str, value: str | int | None) -> Element:
    return Element(name, None if value is None else str(value))


def node(name: str, *children: Element) -> Element:
    return Element(name, tuple(children))


def error_tree(code: int, message: str, fault: FaultCheck = _never) -> Element:
    if fault("error-message-empty"):
        message = ""
    if fault("error-extra-field"):
        return node("errorResponse", leaf("code", code), leaf("message", message), leaf("detail", message))
    return node("errorResponse", leaf("code", code), leaf("message", message))


def render(root: Element, json_format: bool, fault: FaultCheck = _never) -> tuple[bytes, str]:
    """The answer's bytes and content type."""
    if json_format:
        ctype = "text/plain;charset=UTF-8" if fault("json-content-type-text") else JSON_CONTENT_TYPE
        return render_json(root, fault), ctype
    if fault("xml-encoding-latin1"):
        text = render_xml(root, fault).decode("utf-8")
        text = text.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"', 1)
        return text.encode("latin-1", "replace"), "text/xml;charset=ISO-8859-1"
    ctype = "text/html;charset=UTF-8" if fault("xml-content-type-html") else XML_CONTENT_TYPE
    return render_xml(root, fault), ctype


# ---- XML ----


def _text(value: str, fault: FaultCheck = _never) -> str:
    value = FORBIDDEN_XML.sub("\ufffd", value)
    if not fault("amp-unescaped"):
        value = value.replace("&", "&amp;")
    value = value.replace("<", "&lt;").replace(">", "&gt;")
    return value if fault("cr-not-escaped") else value.replace("\r", "&#13;")


def _write(element: Element, depth: int, out: list[str], fault: FaultCheck) -> None:
    pad = "  " * depth
    value = element.value
    if value is None:
        out.append(f'{pad}<{element.name} xsi:nil="true"/>')
    elif isinstance(value, str):
        out.append(f"{pad}<{element.name}>{_text(value, fault)}</{element.name}>")
    elif not value:
        out.append(f"{pad}<{element.name}/>")
    else:
        out.append(f"{pad}<{element.name}>")
        for child in value:
            _write(child, depth + 1, out, fault)
        out.append(f"{pad}</{element.name}>")


def render_xml(root: Element, fault: FaultCheck = _never) -> bytes:
    attrs = f'xmlns:xsi="{XSI}"'
    if not fault("xml-namespace-missing"):
        attrs = f'xmlns="{NAMESPACE}" {attrs}'
    if not fault("xml-schema-location-missing"):
        attrs = f'xsi:schemaLocation="{SCHEMA_LOCATION}" {attrs}'
    out = ['<?xml version="1.0" encoding="UTF-8"?>']
    children = root.value
    if isinstance(children, tuple) and children:
        out.append(f"<{root.name} {attrs}>")
        for child in children:
            _write(child, 1, out, fault)
        out.append(f"</{root.name}>")
    elif isinstance(children, tuple):
        out.append(f"<{root.name} {attrs}/>")
    else:  # a root is always a node; a leaf root would still be written faithfully
        text = "" if children is None else _text(children, fault)
        out.append(f"<{root.name} {attrs}>{text}</{root.name}>")
    return ("\n".join(out) + "\n").encode("utf-8")


# ---- JSON ----


def _json_value(element: Element, fault: FaultCheck) -> Any:
    value = element.value
    if value is None:
        return "" if fault("json-nil-empty") else None
    if isinstance(value, str):
        if fault("json-numbers") and value.isdigit():
            return int(value)
        return FORBIDDEN_XML.sub("\ufffd", value)
    grouped: dict[str, list[Any]] = {}
    for child in value:  # dicts keep first-insertion order: the XML order of first occurrence
        grouped.setdefault(child.name, []).append(_json_value(child, fault))
    if fault("json-list-reversed"):
        grouped = {name: items[::-1] for name, items in grouped.items()}
    if fault("json-list-last-only"):
        grouped = {name: items[-1:] for name, items in grouped.items()}
    return {name: items[0] if len(items) == 1 else items for name, items in grouped.items()}


def render_json(root: Element, fault: FaultCheck = _never) -> bytes:
    document = {root.name: _json_value(root, fault)}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
