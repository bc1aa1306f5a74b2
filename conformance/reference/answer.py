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


@dataclass(frozen=True)
class Element:
    """A leaf (``value`` a string, or ``None`` for nil) or a node with children."""

    name: str
    value: str | tuple[Element, ...] | None


def leaf(name: str, value: str | int | None) -> Element:
    return Element(name, None if value is None else str(value))


def node(name: str, *children: Element) -> Element:
    return Element(name, tuple(children))


def error_tree(code: int, message: str) -> Element:
    return node("errorResponse", leaf("code", code), leaf("message", message))


def render(root: Element, json_format: bool) -> tuple[bytes, str]:
    """The answer's bytes and content type."""
    if json_format:
        return render_json(root), JSON_CONTENT_TYPE
    return render_xml(root), XML_CONTENT_TYPE


# ---- XML ----


def _text(value: str) -> str:
    value = FORBIDDEN_XML.sub("\ufffd", value)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _write(element: Element, depth: int, out: list[str]) -> None:
    pad = "  " * depth
    value = element.value
    if value is None:
        out.append(f'{pad}<{element.name} xsi:nil="true"/>')
    elif isinstance(value, str):
        out.append(f"{pad}<{element.name}>{_text(value)}</{element.name}>")
    elif not value:
        out.append(f"{pad}<{element.name}/>")
    else:
        out.append(f"{pad}<{element.name}>")
        for child in value:
            _write(child, depth + 1, out)
        out.append(f"{pad}</{element.name}>")


def render_xml(root: Element) -> bytes:
    attrs = f'xsi:schemaLocation="{SCHEMA_LOCATION}" xmlns="{NAMESPACE}" xmlns:xsi="{XSI}"'
    out = ['<?xml version="1.0" encoding="UTF-8"?>']
    children = root.value
    if isinstance(children, tuple) and children:
        out.append(f"<{root.name} {attrs}>")
        for child in children:
            _write(child, 1, out)
        out.append(f"</{root.name}>")
    elif isinstance(children, tuple):
        out.append(f"<{root.name} {attrs}/>")
    else:  # a root is always a node; a leaf root would still be written faithfully
        text = "" if children is None else _text(children)
        out.append(f"<{root.name} {attrs}>{text}</{root.name}>")
    return ("\n".join(out) + "\n").encode("utf-8")


# ---- JSON ----


def _json_value(element: Element) -> Any:
    value = element.value
    if value is None or isinstance(value, str):
        return None if value is None else FORBIDDEN_XML.sub("\ufffd", value)
    grouped: dict[str, list[Any]] = {}
    for child in value:  # dicts keep first-insertion order: the XML order of first occurrence
        grouped.setdefault(child.name, []).append(_json_value(child))
    return {name: items[0] if len(items) == 1 else items for name, items in grouped.items()}


def render_json(root: Element) -> bytes:
    return json.dumps({root.name: _json_value(root)}, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )
