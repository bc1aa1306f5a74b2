"""The highlight: find the element a failure names inside an answer body.

A failure's ``where`` is an XPath (``/getInteractionResponse/interaction[2]/subject``),
a JSON path (``$.errorResponse.code``) or a slash path below the root.  The report
shows the answer as text with that element wrapped in ``<mark>``, so we need the
element's *offsets in the text as received*, which parsers throw away.  Hence two
small scanners, one for XML and one for JSON, that record every element's path and
span; a failure's path then matches an element whose path ends with the same names
(and the same positions where the failure gives one).  An answer too broken to scan
is shown without a highlight, never with a wrong one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from markupsafe import Markup, escape

#: One step of a path: the local name and, when given, its 1-based position among
#: siblings of that name (XPath's ``[2]``, JSON's ``[1]`` plus one).
Step = tuple[str, int | None]


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def steps(where: str) -> list[Step]:
    """The named steps of a failure's ``where``; empty when it names no element ("HTTP status")."""
    text = where.strip()
    if text.startswith("$"):
        parts = re.findall(r"\.([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]", text[1:])
        result: list[Step] = []
        for name, index, quoted in parts:
            if index:
                if result:  # JSON arrays count from 0, XPath from 1
                    result[-1] = (result[-1][0], int(index) + 1)
            else:
                result.append((name or quoted, None))
        return result
    if not text.startswith("/") and "/" not in text:
        return []  # a header name, "HTTP status", "line 3": not an element of the body
    result = []
    for part in text.strip("/").split("/"):
        match = re.fullmatch(r"(@?)([\w.:-]+)(?:\[(\d+)\])?", part)
        if match is None:
            return []
        at, name, index = match.groups()
        local = name.rsplit(":", 1)[-1] if not at else name
        result.append((at + local, int(index) if index else None))
    return result


def find(body: str, where: str) -> list[Span]:
    """Spans of ``body`` holding the element ``where`` names (all matches, in order)."""
    wanted = steps(where)
    if not wanted:
        return []
    stripped = body.lstrip()
    try:
        elements = list(_json_elements(body) if stripped[:1] in ("{", "[") else _xml_elements(body))
    except (ValueError, IndexError):
        return []
    return [span for path, span in elements if _ends_with(path, wanted)]


def render(body: str, spans: Iterable[Span]) -> Markup:
    """``body`` escaped as HTML, with each span (overlaps dropped) wrapped in ``<mark>``."""
    out: list[str] = []
    pos = 0
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if span.start < pos:
            continue  # nested inside a span already marked
        out.append(str(escape(body[pos:span.start])))
        out.append('<mark class="hit">' + str(escape(body[span.start:span.end])) + "</mark>")
        pos = span.end
    out.append(str(escape(body[pos:])))
    return Markup("".join(out))  # noqa: S704 - every piece above is escaped


def _ends_with(path: tuple[Step, ...], wanted: list[Step]) -> bool:
    if len(wanted) > len(path):
        return False
    for (name, index), (want_name, want_index) in zip(path[-len(wanted):], wanted, strict=True):
        if name != want_name or (want_index is not None and index != want_index):
            return False
    return True


_TOKEN = re.compile(
    r"<!--.*?-->|<\?.*?\?>|<!\[CDATA\[.*?\]\]>|<!DOCTYPE[^>]*>"
    r"|<(?P<close>/)?(?P<name>[\w.:-]+)(?P<attrs>(?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(?P<empty>/)?>",
    re.DOTALL,
)
_ATTR = re.compile(r"([\w.:-]+)\s*=\s*(\"[^\"]*\"|'[^']*')")


def _xml_elements(body: str) -> Iterator[tuple[tuple[Step, ...], Span]]:
    # Each open element: its path, where it starts, and how many children of each name it has seen.
    stack: list[tuple[tuple[Step, ...], int, dict[str, int]]] = []
    top: dict[str, int] = {}
    for token in _TOKEN.finditer(body):
        name = token.group("name")
        if name is None:
            continue
        local = name.rsplit(":", 1)[-1]
        if token.group("close"):
            if not stack or stack[-1][0][-1][0] != local:
                raise ValueError(f"unbalanced </{name}>")
            path, start, _ = stack.pop()
            yield path, Span(start, token.end())
            continue
        siblings = stack[-1][2] if stack else top
        siblings[local] = siblings.get(local, 0) + 1
        path = (*stack[-1][0], (local, siblings[local])) if stack else ((local, siblings[local]),)
        attrs_at = token.start("attrs")
        for attr in _ATTR.finditer(token.group("attrs")):
            yield (*path, ("@" + attr.group(1), 1)), Span(attrs_at + attr.start(), attrs_at + attr.end())
        if token.group("empty"):
            yield path, Span(token.start(), token.end())
        else:
            stack.append((path, token.start(), {}))


_SPACE = re.compile(r"\s*")
_DECODER = json.JSONDecoder()


def _json_elements(body: str) -> Iterator[tuple[tuple[Step, ...], Span]]:
    yield from _json_value(body, _skip(body, 0), (), None)


def _skip(body: str, pos: int) -> int:
    match = _SPACE.match(body, pos)
    return match.end() if match else pos


def _json_value(
    body: str, pos: int, path: tuple[Step, ...], found: list[int] | None
) -> Iterator[tuple[tuple[Step, ...], Span]]:
    """Elements inside the value at ``pos``; appends the value's end to ``found``."""
    char = body[pos]
    if char == "{":
        pos = _skip(body, pos + 1)
        while body[pos] != "}":
            key, after = _DECODER.raw_decode(body, pos)
            if not isinstance(key, str):
                raise ValueError("object key is not a string")
            colon = _skip(body, after)
            if body[colon] != ":":
                raise ValueError("expected ':'")
            start = _skip(body, colon + 1)
            if body[start] == "[":
                # A repeated element: each item is the element at position n, as in XML.
                pos = _skip(body, start + 1)
                number = 0
                while body[pos] != "]":
                    number += 1
                    end: list[int] = []
                    yield from _json_value(body, pos, (*path, (key, number)), end)
                    yield (*path, (key, number)), Span(pos, end[0])
                    pos = _comma(body, end[0], "]")
                value_end = pos + 1
                yield (*path, (key, None)), Span(start, value_end)
            else:
                end = []
                yield from _json_value(body, start, (*path, (key, 1)), end)
                value_end = end[0]
                # The key with its value, as `"code":"23"`, reads as the element.
                yield (*path, (key, 1)), Span(pos, value_end)
            pos = _comma(body, value_end, "}")
        if found is not None:
            found.append(pos + 1)
        return
    if char == "[":
        pos = _skip(body, pos + 1)
        while body[pos] != "]":
            end = []
            yield from _json_value(body, pos, path, end)
            pos = _comma(body, end[0], "]")
        if found is not None:
            found.append(pos + 1)
        return
    _, value_end = _DECODER.raw_decode(body, pos)
    if found is not None:
        found.append(value_end)


def _comma(body: str, pos: int, closer: str) -> int:
    """Position of the next item, or of ``closer``."""
    pos = _skip(body, pos)
    if body[pos] == ",":
        return _skip(body, pos + 1)
    if body[pos] != closer:
        raise ValueError(f"expected ',' or '{closer}'")
    return pos
