"""YAML loading that remembers where every mapping came from.

Case files, profiles and the catalogue all report a broken file as one line,
``file:line: what is wrong``; that needs the line of each mapping, which plain
``yaml.safe_load`` throws away.  We keep it in a side table keyed by ``id()`` of the
loaded dict rather than in the data itself, so the data stays plain (validators and
users see exactly what they wrote).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class DataFileError(Exception):
    """A data file is broken; ``str()`` is the one-line ``file:line: message``."""

    def __init__(self, path: Path | str, line: int | None, message: str, hint: str = "") -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        self.hint = hint
        where = f"{self.path}:{line}" if line else self.path
        text = f"{where}: {message}"
        if hint:
            text += f" (hint: {hint})"
        super().__init__(text)


@dataclass
class LoadedYaml:
    """A loaded document plus the 1-based line of every mapping, list and mapping key."""

    path: Path
    data: Any
    lines: dict[int, int]
    key_lines: dict[tuple[int, Any], int] = field(default_factory=dict)

    def line_of(self, node: object, default: int = 1) -> int:
        return self.lines.get(id(node), default)

    def line_of_key(self, mapping: object, key: Any, default: int | None = None) -> int:
        """The line where ``key`` is written in ``mapping``."""
        fallback = self.line_of(mapping) if default is None else default
        return self.key_lines.get((id(mapping), key), fallback)

    def line_at(self, path: list[str | int] | tuple[str | int, ...]) -> int:
        """The line of the deepest container on ``path`` (a jsonschema-style path)."""
        node: Any = self.data
        line = self.line_of(node)
        for step in path:
            try:
                node = node[step]
            except (KeyError, IndexError, TypeError):
                break
            line = self.lines.get(id(node), line)
        return line


def _loader_class(lines: dict[int, int], key_lines: dict[tuple[int, Any], int]) -> type[yaml.SafeLoader]:
    class LineLoader(yaml.SafeLoader):
        """SafeLoader (no custom tags, no object construction) that records lines."""

        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                if isinstance(key, str) and key in seen:
                    # Plain YAML keeps the last duplicate silently; a case author
                    # almost always meant something else, so say so.
                    raise DataFileError("", line, f"duplicate key '{key}'")
                if isinstance(key, Hashable):  # an unhashable key: the constructor below says so
                    seen[key] = line
            mapping = super().construct_mapping(node, deep=deep)
            lines[id(mapping)] = node.start_mark.line + 1
            for key, line in seen.items():
                key_lines[(id(mapping), key)] = line
            return mapping

        def construct_text(self, node: yaml.Node) -> str:
            return str(self.construct_scalar(node))  # type: ignore[arg-type]

        def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> list[Any]:
            seq = super().construct_sequence(node, deep=deep)
            lines[id(seq)] = node.start_mark.line + 1
            return seq

    LineLoader.add_constructor("tag:yaml.org,2002:map", LineLoader.construct_mapping)
    LineLoader.add_constructor("tag:yaml.org,2002:seq", LineLoader.construct_sequence)
    # Dates stay text: the schemas speak of text, and PyYAML's date constructor raises a
    # bare ValueError (no line) for a date-shaped value that is no date (2025-02-30).
    LineLoader.add_constructor("tag:yaml.org,2002:timestamp", LineLoader.construct_text)
    return LineLoader


def load_yaml(path: Path, text: str | None = None) -> LoadedYaml:
    """Load one YAML file; any syntax problem becomes a one-line DataFileError."""
    lines: dict[int, int] = {}
    key_lines: dict[tuple[int, Any], int] = {}
    try:
        source = path.read_text(encoding="utf-8") if text is None else text
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(path, None, f"cannot read file: {exc}") from None
    try:
        data = yaml.load(source, Loader=_loader_class(lines, key_lines))  # noqa: S506 - SafeLoader subclass
    except DataFileError as exc:
        raise DataFileError(path, exc.line, exc.message, exc.hint) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        unknown_tag = "could not determine a constructor for the tag "
        if isinstance(exc, yaml.constructor.ConstructorError) and unknown_tag in (exc.problem or ""):
            # SafeLoader refuses every tag it does not know (``!python/object``,
            # ``!include``): the data files are plain YAML, so a tag is never constructed.
            tag = (exc.problem or "").split(unknown_tag, 1)[1]
            raise DataFileError(
                path, line, f"invalid YAML: the tag {tag} is not allowed", "plain YAML only: no custom tags"
            ) from None
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise DataFileError(path, line, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise DataFileError(path, None, f"invalid YAML: {exc}") from None
    return LoadedYaml(path=path, data=data, lines=lines, key_lines=key_lines)


def schema_error(loaded: LoadedYaml, error: Any, root_schema: Any = None) -> DataFileError:
    """Turn a jsonschema ValidationError into a one-line error at the right line.

    ``root_schema`` lets an ``unevaluatedProperties`` error name the keys that were
    allowed (they live behind local ``$ref``s that the error itself does not carry).
    """
    path = list(error.absolute_path)
    where = ".".join(str(p) for p in path) or "(top level)"
    hint = ""
    unknown_keys = error.validator in ("additionalProperties", "unevaluatedProperties")
    if unknown_keys and isinstance(error.instance, dict):
        import difflib

        allowed = _allowed_keys(error.schema, root_schema)
        extra = [k for k in error.instance if k not in allowed]
        if extra:
            close = difflib.get_close_matches(str(extra[0]), allowed, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "allowed keys: " + ", ".join(allowed)
            return DataFileError(
                loaded.path, loaded.line_at(path), f"{where}: unknown key '{extra[0]}'", hint
            )
    if error.validator == "enum":
        hint = "one of: " + ", ".join(repr(v) for v in error.validator_value)
    if error.validator in ("oneOf", "anyOf") and isinstance(error.schema, dict):
        # "is not valid under any of the given schemas" says nothing useful; the
        # schema's own description says what shapes are allowed.
        described = error.schema.get("description")
        if described:
            shown = repr(error.instance)
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            return DataFileError(
                loaded.path, loaded.line_at(path), f"{where}: {shown} is not allowed here", described
            )
    return DataFileError(loaded.path, loaded.line_at(path), f"{where}: {error.message}", hint)


def _allowed_keys(schema: Any, root_schema: Any) -> list[str]:
    """The property names a schema allows, following ``allOf`` and local ``$ref``s."""
    allowed: list[str] = []
    pending = [schema]
    while pending:
        node = pending.pop(0)
        if not isinstance(node, dict):
            continue
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/") and root_schema is not None:
            target: Any = root_schema
            for part in ref[2:].split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
            pending.append(target)
        allowed += [k for k in node.get("properties", {}) if k not in allowed]
        pending += node.get("allOf", [])
    return allowed
