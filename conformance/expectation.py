"""Expectations: what a case says an answer must be, checked into Failures.

Checks are small functions that return failures instead of raising, so one answer
reports everything wrong with it at once.  A failure with an empty clause stands for
the check's own clauses; format failures name L-T7..L-T10 themselves.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from conformance.answer import Answer, lookup
from conformance.outcome import Failure
from conformance.redaction import Redactor
from conformance.substitution import is_generator, render, substitute


@dataclass(frozen=True)
class Context:
    bindings: Mapping[str, str]
    strict: bool
    suppress: bool
    clock_tolerance: float
    secret_key: str | None
    started: float  # time.time() when the step's request was sent

    @cached_property
    def redactor(self) -> Redactor:
        """The secrets a case can refer to (``${secret.*}``), masked in every message."""
        return Redactor(v for k, v in self.bindings.items() if k.startswith("secret."))


def accepted_codes(spec: Any, strict: bool) -> tuple[list[int] | None, str]:
    """The codes a ``codes`` expectation accepts (None: any) and how to say so."""
    if isinstance(spec, int):
        return [spec], str(spec)
    if isinstance(spec, list):
        if strict:
            return [spec[0]], f"{spec[0]} (strict profile)"
        return list(spec), " or ".join(str(c) for c in spec)
    if strict:
        return [spec["code"]], f"{spec['code']} (strict profile)"
    return None, "any code"


def check_luminate(expect: Mapping[str, Any], answer: Answer, ctx: Context) -> list[Failure]:
    failures: list[Failure] = []
    redirect = expect.get("redirect")
    if redirect is not None:
        return _check_redirect(redirect, answer, ctx)
    if expect.get("well_formed"):
        if answer.status >= 500:
            failures.append(
                Failure("", "HTTP status", f"{answer.status} is a server error (expected not 5xx)")
            )
        return failures + [f for f in answer.failures if f.malformed]
    error = expect.get("error")
    status = expect.get("status")
    if status is None:
        status = 200 if (error is None or ctx.suppress) else 403
    allowed_status = status if isinstance(status, list) else [status]
    if answer.status not in allowed_status:
        clause = "L-T7" if error is not None or answer.is_error else ""
        got = f"{answer.status}"
        if answer.is_error:
            got += f" with errorResponse code {answer.error_code()}"
        failures.append(
            Failure(clause, "HTTP status", f"expected {' or '.join(map(str, allowed_status))}, got {got}")
        )
    failures.extend(answer.failures)
    if error is not None:
        codes, said = accepted_codes(error, ctx.strict)
        if not answer.is_error:
            failures.append(
                Failure(
                    "",
                    f"/{answer.root or '?'}",
                    f"expected errorResponse (code {said}), got {answer.root or 'no document'}",
                )
            )
        else:
            code = answer.error_code()
            if codes is not None and (code is None or not code.isdigit() or int(code) not in codes):
                failures.append(Failure("", "/errorResponse/code", f"'{code}' is not code {said}"))
    else:
        root = expect.get("root")
        if root is not None and answer.root != root:
            detail = answer.root or "no document"
            if answer.is_error:
                detail += f" code {answer.error_code()}"
            failures.append(Failure("", "/", f"expected {root}, got {detail}"))
    if answer.root is not None:
        for path, matcher in (expect.get("fields") or {}).items():
            failures.extend(check_field(answer.tree, path, matcher, ctx, answer.root))
    return failures


def check_field(tree: Any, path: str, matcher: Any, ctx: Context, root: str) -> list[Failure]:
    path = substitute(path, ctx.bindings)
    found, value = lookup(tree, path)
    where = f"/{root}/{path}"
    if isinstance(matcher, dict) and "same_as" in matcher:
        other = substitute(matcher["same_as"], ctx.bindings)
        other_found, other_value = lookup(tree, other)
        if (found, value) != (other_found, other_value):
            theirs = _show(other_found, other_value, ctx)
            shown = f"{_show(found, value, ctx)} differs from {other} ({theirs})"
            return [Failure("", where, shown)]
        return []
    problem = match(found, value, matcher, ctx)
    return [Failure("", where, problem)] if problem else []


def match(found: bool, value: Any, matcher: Any, ctx: Context) -> str | None:
    """None when ``value`` satisfies ``matcher``, else a message leading with the value."""
    shown = _show(found, value, ctx)
    if isinstance(matcher, dict) and not is_generator(matcher):
        if "absent" in matcher:
            return None if not found else f"{shown} is present (expected absent)"
        if "present" in matcher:
            return None if found else "absent (expected present)"
        if "empty_or_absent" in matcher:
            return None if (not found or value in (None, "")) else f"{shown} is not empty, nil or absent"
        if "items" in matcher:
            n = 0 if (not found or value is None) else (len(value) if isinstance(value, list) else 1)
            return None if n == matcher["items"] else f"{n} items (expected {matcher['items']})"
        if not found:
            return f"absent (expected {_describe(matcher, ctx)})"
        if "pattern" in matcher:
            ok = isinstance(value, str) and re.fullmatch(matcher["pattern"], value)
            return None if ok else f"{shown} does not match /{matcher['pattern']}/"
        if "one_of" in matcher:
            options = [_expected_text(m, ctx) for m in matcher["one_of"]]
            return None if value in options else f"{shown} is not one of {options!r}"
        if "not" in matcher:
            other = _expected_text(matcher["not"], ctx)
            return None if value != other else f"{shown} equals {other!r} (expected something else)"
        if "near_now" in matcher:
            return _near_now(value, ctx)
    if not found:
        return f"absent (expected {_describe(matcher, ctx)})"
    expected = _expected_text(matcher, ctx)
    if value != expected:
        return f"{shown} is not {_clip(expected, ctx)!r}" if expected is not None else f"{shown} is not nil"
    return None


def _expected_text(matcher: Any, ctx: Context) -> str | None:
    return None if matcher is None else render(matcher, ctx.bindings)


def _describe(matcher: Any, ctx: Context) -> str:
    if isinstance(matcher, dict) and not is_generator(matcher):
        return ", ".join(f"{k} {v}" for k, v in matcher.items())
    text = _expected_text(matcher, ctx)
    return "nil" if text is None else repr(_clip(text, ctx))


def _show(found: bool, value: Any, ctx: Context) -> str:
    if not found:
        return "absent"
    if value is None:
        return "nil"
    if isinstance(value, str):
        return repr(_clip(value, ctx))
    return f"{type(value).__name__} {_clip(repr(value), ctx)}"


def _clip(text: str, ctx: Context, limit: int = 60) -> str:
    # Mask secrets before cutting: a cut secret no longer matches the redactor later.
    text = ctx.redactor.redact(text)
    if len(text) <= limit:
        return text
    return f"{text[: limit // 2]}…({len(text)} chars)…{text[-limit // 4 :]}"


def _near_now(value: Any, ctx: Context) -> str | None:
    if not isinstance(value, str):
        return f"{_show(True, value, ctx)} is not a dateTime"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return f"{value!r} is not an xsd:dateTime"
    if moment.tzinfo is None:
        return f"{value!r} has no UTC offset"
    skew = moment.timestamp() - ctx.started
    if abs(skew) > ctx.clock_tolerance:
        return (
            f"{value!r} is {skew:+.0f} s from the logging call "
            f"(tolerance {ctx.clock_tolerance:g} s; a wrong offset or time zone?)"
        )
    return None


def _check_redirect(spec: Mapping[str, Any], answer: Answer, ctx: Context) -> list[Failure]:
    failures: list[Failure] = []
    target = render(spec["to"], ctx.bindings)
    if answer.status != 302:
        detail = f" errorResponse code {answer.error_code()}" if answer.is_error else ""
        return [Failure("L-T12", "HTTP status", f"expected 302 to {target!r}, got {answer.status}{detail}")]
    location = answer.http.header("location")
    if not spec.get("signed"):
        if location != target:
            failures.append(Failure("L-T12", "Location", f"{location!r} is not {target!r}"))
        return failures
    return _check_signature(location, target, ctx)


def _check_signature(location: str, target: str, ctx: Context) -> list[Failure]:
    joiner = "&" if "?" in target else "?"
    if not location.startswith(target + joiner):
        return [Failure("L-T13", "Location", f"{location!r} does not start with {target + joiner!r}")]
    query = urlsplit(location).query
    pairs = parse_qsl(query, keep_blank_values=True)
    if len(pairs) < 2 or pairs[-2][0] != "ts" or pairs[-1][0] != "sig":
        return [Failure("L-T13", "Location", f"{query!r} does not end with ts=...&sig=...")]
    ts, sig = pairs[-2][1], pairs[-1][1]
    failures = []
    exact = f"{target}{joiner}ts={ts}&sig={sig}"
    if location != exact:
        # "nothing else changed": only ts and sig may be appended to the given URL.
        failures.append(
            Failure("L-T13", "Location", f"{location!r} is not the given URL plus ts and sig ({exact!r})")
        )
    if not ts.isdigit() or abs(int(ts) - time.time()) > ctx.clock_tolerance:
        failures.append(Failure("L-T13", "Location ts", f"{ts!r} is not the current Unix time in seconds"))
    if not re.fullmatch(r"[0-9a-f]{40}", sig):
        failures.append(Failure("L-T13", "Location sig", f"{sig!r} is not lower-case hex SHA-1"))
    elif ctx.secret_key:
        signed_part = query[: query.rindex("&sig=")]
        want = hashlib.sha1((signed_part + ctx.secret_key).encode(), usedforsecurity=False).hexdigest()
        if sig != want:
            failures.append(
                Failure(
                    "L-T13",
                    "Location sig",
                    f"{sig!r} is not SHA-1 of {signed_part!r} followed by the secret key",
                )
            )
    return failures
