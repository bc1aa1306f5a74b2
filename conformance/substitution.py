"""Case values: literals, ``${name.field}`` substitutions and generated texts.

Deliberately not a template language (the house style warns against one): a value is
a literal, a literal with ``${...}`` references to bound names, or one of four small
generators (repeat, concat, upper, lower, chr) that let a case say "81 times 'é'" instead of
spelling it out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}")


class UnboundName(Exception):
    """A ``${name}`` that no setup step or profile value binds."""

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        super().__init__(message)


def substitute(text: str, bindings: Mapping[str, str], escape: Callable[[str], str] | None = None) -> str:
    """Replace ``${name}`` references; ``escape`` quotes each inserted value (e.g. for XML)."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in bindings:
            known = ", ".join(sorted(k for k in bindings if not k.startswith("_"))[:12])
            raise UnboundName(name, f"'${{{name}}}' is not bound (known: {known})")
        return escape(bindings[name]) if escape else bindings[name]

    return _REF.sub(one, text)


def references(value: Any) -> set[str]:
    """Every name a value refers to (for load-time checks)."""
    found: set[str] = set()
    if isinstance(value, str):
        found.update(_REF.findall(value))
    elif isinstance(value, dict):
        for item in value.values():
            found |= references(item)
    elif isinstance(value, list):
        for item in value:
            found |= references(item)
    return found


def render(value: Any, bindings: Mapping[str, str], escape: Callable[[str], str] | None = None) -> str:
    """Turn a case value into the text that is sent (or compared)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return substitute(value, bindings, escape)
    if isinstance(value, dict):
        if "repeat" in value:
            unit = render(value["repeat"], bindings, escape)
            return str(value.get("separator", "")).join([unit] * int(value["count"]))
        if "concat" in value:
            return "".join(render(v, bindings, escape) for v in value["concat"])
        if "upper" in value:
            return render(value["upper"], bindings, escape).upper()
        if "lower" in value:
            return render(value["lower"], bindings, escape).lower()
        if "chr" in value:
            return chr(int(value["chr"]))
    raise TypeError(f"not a case value: {value!r}")


def is_generator(value: Any) -> bool:
    return isinstance(value, dict) and bool({"repeat", "concat", "upper", "lower", "chr"} & set(value))
