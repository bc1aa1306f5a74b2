"""Expectations: error codes (default and strict), every matcher, and redirect signatures."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from conformance.answer import Answer, read_luminate
from conformance.expectation import Context, accepted_codes, check_field, check_luminate, match
from conformance.outcome import Exchange, Failure
from conformance.redaction import Redactor
from conformance.transport import HttpAnswer
from tests.engine.test_answer import ERROR_XML, http

SECRET_KEY = "site-secret-key-0123"


def ctx(
    strict: bool = False,
    suppress: bool = False,
    secret_key: str | None = None,
    bindings: dict[str, str] | None = None,
) -> Context:
    return Context(
        bindings=bindings or {},
        strict=strict,
        suppress=suppress,
        clock_tolerance=300,
        secret_key=secret_key,
        started=time.time(),
    )


def answer(
    root: str | None,
    tree: Any = None,
    status: int = 200,
    failures: list[Failure] | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    http = HttpAnswer(status, headers or {}, b"", Exchange("POST", "http://target.invalid/", {}, ""))
    return Answer(status, "xml", root, tree, http, list(failures or []))


def error(code: str, status: int = 403) -> Answer:
    return answer("errorResponse", {"code": code, "message": "m"}, status)


LOGGED = answer("updateConsResponse", {"cons_id": "1000010", "message": "Interaction logged successfully."})


# -- error codes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "strict", "codes", "said"),
    [
        pytest.param(16, False, [16], "16", id="exact"),
        pytest.param(16, True, [16], "16", id="exact-strict"),
        pytest.param([6, 17], False, [6, 17], "6 or 17", id="also-accepted"),
        pytest.param([6, 17], True, [6], "6 (strict profile)", id="also-accepted-strict"),
        pytest.param({"code": 23, "any": True}, False, None, "any code", id="any"),
        pytest.param({"code": 23, "any": True}, True, [23], "23 (strict profile)", id="any-strict"),
    ],
)
def test_accepted_codes(spec: Any, strict: bool, codes: list[int] | None, said: str) -> None:
    assert accepted_codes(spec, strict) == (codes, said)


@pytest.mark.parametrize(
    ("spec", "code", "strict", "problem"),
    [
        pytest.param(23, "23", False, None, id="the-code"),
        pytest.param(23, "30", False, "'30' is not code 23", id="another-code"),
        pytest.param([6, 17], "17", False, None, id="an-also-accepted-code"),
        pytest.param(
            [6, 17], "17", True, "'17' is not code 6 (strict profile)", id="also-accepted-under-strict"
        ),
        pytest.param([6, 17], "5", False, "'5' is not code 6 or 17", id="neither"),
        pytest.param({"code": 23, "any": True}, "30", False, None, id="any-code"),
        pytest.param(
            {"code": 23, "any": True}, "30", True, "'30' is not code 23 (strict profile)", id="any-strict"
        ),
        pytest.param(23, "x1", False, "'x1' is not code 23", id="not-a-number"),
    ],
)
def test_an_error_code_is_checked_against_what_the_profile_accepts(
    spec: Any, code: str, strict: bool, problem: str | None
) -> None:
    failures = check_luminate({"error": spec}, error(code), ctx(strict=strict))
    assert failures == ([Failure("", "/errorResponse/code", problem)] if problem else [])


def test_an_error_is_http_403_unless_suppressed() -> None:
    assert check_luminate({"error": 23}, error("23", status=403), ctx()) == []
    assert check_luminate({"error": 23}, error("23", status=200), ctx(suppress=True)) == []
    assert check_luminate({"error": 23}, error("23", status=200), ctx()) == [
        Failure("L-T7", "HTTP status", "expected 403, got 200 with errorResponse code 23")
    ]
    assert check_luminate({"error": 23}, error("23", status=403), ctx(suppress=True)) == [
        Failure("L-T7", "HTTP status", "expected 200, got 403 with errorResponse code 23")
    ]
    assert check_luminate({"error": 23, "status": [403, 500]}, error("23", status=500), ctx()) == []


def test_a_success_where_an_error_was_expected_fails() -> None:
    assert check_luminate({"error": 23}, LOGGED, ctx()) == [
        Failure("L-T7", "HTTP status", "expected 403, got 200"),
        Failure("", "/updateConsResponse", "expected errorResponse (code 23), got updateConsResponse"),
    ]


def test_an_error_where_a_success_was_expected_fails() -> None:
    assert check_luminate({"root": "updateConsResponse"}, error("5"), ctx()) == [
        Failure("L-T7", "HTTP status", "expected 200, got 403 with errorResponse code 5"),
        Failure("", "/", "expected updateConsResponse, got errorResponse code 5"),
    ]


def test_format_failures_of_the_answer_are_always_reported() -> None:
    broken = answer("updateConsResponse", {"cons_id": "1"}, failures=[Failure("L-T9", "/", "bad")])
    assert check_luminate({"root": "updateConsResponse"}, broken, ctx()) == [Failure("L-T9", "/", "bad")]


def test_well_formed_asks_only_for_no_5xx_and_a_readable_answer() -> None:
    # A wrong media type or shape is some other clause's business, not L-T6's.
    odd = read_luminate(http(ERROR_XML, "text/html", status=403), "xml")
    assert odd.failures and odd.root == "errorResponse"
    assert check_luminate({"well_formed": True}, odd, ctx()) == []
    broken = read_luminate(http(ERROR_XML[:-5], status=500), "xml")
    [failure] = broken.failures
    assert check_luminate({"well_formed": True}, broken, ctx()) == [
        Failure("", "HTTP status", "500 is a server error (expected not 5xx)"),
        failure,
    ]


# -- matchers ---------------------------------------------------------------------------

FOUND, ABSENT = True, False


@pytest.mark.parametrize(
    ("found", "value", "matcher", "problem"),
    [
        pytest.param(FOUND, "a", "a", None, id="literal"),
        pytest.param(FOUND, "a", "b", "'a' is not 'b'", id="literal-differs"),
        pytest.param(FOUND, "5", 5, None, id="a-number-is-compared-as-text"),
        pytest.param(FOUND, "true", True, None, id="a-boolean-is-compared-as-text"),
        pytest.param(ABSENT, None, "a", "absent (expected 'a')", id="literal-absent"),
        pytest.param(FOUND, None, None, None, id="nil"),
        pytest.param(FOUND, "", None, "'' is not nil", id="empty-is-not-nil"),
        pytest.param(ABSENT, None, {"absent": True}, None, id="absent"),
        pytest.param(
            FOUND, "x", {"absent": True}, "'x' is present (expected absent)", id="absent-but-present"
        ),
        pytest.param(FOUND, None, {"present": True}, None, id="present-nil"),
        pytest.param(ABSENT, None, {"present": True}, "absent (expected present)", id="present-but-absent"),
        pytest.param(FOUND, "123", {"pattern": "^[1-9][0-9]*$"}, None, id="pattern"),
        pytest.param(
            FOUND,
            "12a",
            {"pattern": "^[1-9][0-9]*$"},
            "'12a' does not match /^[1-9][0-9]*$/",
            id="pattern-differs",
        ),
        pytest.param(
            FOUND,
            "1234",
            {"pattern": "[0-9]{3}"},
            "'1234' does not match /[0-9]{3}/",
            id="pattern-matches-the-whole-value",
        ),
        pytest.param(
            FOUND, 123, {"pattern": "^[0-9]+$"}, "int 123 does not match /^[0-9]+$/", id="pattern-on-a-number"
        ),
        pytest.param(ABSENT, None, {"pattern": "^x$"}, "absent (expected pattern ^x$)", id="pattern-absent"),
        pytest.param(FOUND, "b", {"one_of": ["a", "b"]}, None, id="one-of"),
        pytest.param(FOUND, "c", {"one_of": ["a", 1]}, "'c' is not one of ['a', '1']", id="one-of-differs"),
        pytest.param(FOUND, "a", {"not": "b"}, None, id="not"),
        pytest.param(
            FOUND, "b", {"not": "b"}, "'b' equals 'b' (expected something else)", id="not-but-equal"
        ),
        pytest.param(FOUND, [{"s": "1"}, {"s": "2"}, {"s": "3"}], {"items": 3}, None, id="items"),
        pytest.param(FOUND, {"s": "1"}, {"items": 1}, None, id="one-item-is-an-object"),
        pytest.param(ABSENT, None, {"items": 0}, None, id="no-item-is-absent"),
        pytest.param(FOUND, None, {"items": 0}, None, id="no-item-is-nil"),
        pytest.param(
            FOUND, [{"s": "1"}, {"s": "2"}], {"items": 3}, "2 items (expected 3)", id="items-differ"
        ),
        pytest.param(FOUND, "", {"empty_or_absent": True}, None, id="empty"),
        pytest.param(FOUND, None, {"empty_or_absent": True}, None, id="empty-nil"),
        pytest.param(ABSENT, None, {"empty_or_absent": True}, None, id="empty-absent"),
        pytest.param(
            FOUND, "x", {"empty_or_absent": True}, "'x' is not empty, nil or absent", id="not-empty"
        ),
        pytest.param(FOUND, "ééé", {"repeat": "é", "count": 3}, None, id="generator"),
        pytest.param(FOUND, "éé", {"repeat": "é", "count": 3}, "'éé' is not 'ééé'", id="generator-differs"),
        pytest.param(FOUND, "a-b", {"concat": ["a", "-", "b"]}, None, id="concat"),
        pytest.param(FOUND, "\b", {"chr": 8}, None, id="chr"),
    ],
)
def test_each_matcher(found: bool, value: Any, matcher: Any, problem: str | None) -> None:
    assert match(found, value, matcher, ctx()) == problem


def test_a_long_value_is_clipped_in_the_message() -> None:
    problem = match(True, "x" * 200, "y", ctx())
    assert problem is not None
    assert "(200 chars)" in problem and len(problem) < 100


def test_a_literal_may_refer_to_bound_names() -> None:
    assert match(True, "1000010", "${alice.cons_id}", ctx(bindings={"alice.cons_id": "1000010"})) is None
    assert (
        match(True, "1", "${alice.cons_id}", ctx(bindings={"alice.cons_id": "1000010"}))
        == "'1' is not '1000010'"
    )


def test_near_now_accepts_the_current_time_with_an_offset() -> None:
    now = datetime.now(UTC)
    assert match(True, now.isoformat(), {"near_now": True}, ctx()) is None
    assert (
        match(True, now.astimezone(timezone(timedelta(hours=-5))).isoformat(), {"near_now": True}, ctx())
        is None
    )


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        pytest.param("2020-01-01T00:00:00", "'2020-01-01T00:00:00' has no UTC offset", id="no-offset"),
        pytest.param("yesterday", "'yesterday' is not an xsd:dateTime", id="not-a-date"),
        pytest.param(None, "nil is not a dateTime", id="nil"),
    ],
)
def test_near_now_refuses_what_is_no_moment(value: Any, problem: str) -> None:
    assert match(True, value, {"near_now": True}, ctx()) == problem


def test_near_now_refuses_a_time_off_by_an_hour() -> None:
    # The usual bug: local time labelled as UTC.
    shifted = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    problem = match(True, shifted, {"near_now": True}, ctx())
    assert problem is not None
    assert problem.startswith(f"{shifted!r} is +3600 s from the logging call")
    assert problem.endswith("(tolerance 300 s; a wrong offset or time zone?)")


def test_fields_are_found_by_path_and_named_by_their_path() -> None:
    tree = {"interaction": {"consId": "1", "createdBy": "2", "note": {"consId": "1"}}}
    assert check_field(tree, "interaction/note/consId", {"same_as": "interaction/consId"}, ctx(), "r") == []
    assert check_field(tree, "interaction/createdBy", {"same_as": "interaction/consId"}, ctx(), "r") == [
        Failure("", "/r/interaction/createdBy", "'2' differs from interaction/consId ('1')")
    ]
    assert (
        check_field(tree, "interaction/${obs.origin}", "1", ctx(bindings={"obs.origin": "consId"}), "r") == []
    )


def test_field_failures_follow_the_root() -> None:
    failures = check_luminate(
        {
            "root": "updateConsResponse",
            "fields": {"message": "Interaction logged successfully.", "cons_id": "7"},
        },
        LOGGED,
        ctx(),
    )
    assert failures == [Failure("", "/updateConsResponse/cons_id", "'1000010' is not '7'")]


def test_a_clipped_message_does_not_leak_part_of_a_long_secret() -> None:
    secret = "s3cr3t-" + "k" * 50 + "-END-OF-THE-SECRET"
    problem = match(True, "other", "${secret.api_key}", ctx(bindings={"secret.api_key": secret}))
    assert problem is not None
    shown = Redactor([secret]).redact(problem)
    assert secret[:20] not in shown and secret[-12:] not in shown


# -- redirects ---------------------------------------------------------------------------

TARGET = "https://example.org/ok?from=api"


def _signed(target: str, secret: str, ts: int | None = None, upper: bool = False) -> str:
    ts = int(time.time()) if ts is None else ts
    location = f"{target}&ts={ts}"
    signed = location.split("?", 1)[1]
    sig = hashlib.sha1((signed + secret).encode(), usedforsecurity=False).hexdigest()
    return f"{location}&sig={sig.upper() if upper else sig}"


def redirect(location: str) -> Answer:
    return answer(None, status=302, headers={"location": location})


def test_an_unsigned_redirect_goes_exactly_where_it_was_told() -> None:
    assert check_luminate({"redirect": {"to": TARGET}}, redirect(TARGET), ctx()) == []
    assert check_luminate({"redirect": {"to": TARGET}}, redirect(TARGET + "&x=1"), ctx()) == [
        Failure("L-T12", "Location", f"'{TARGET}&x=1' is not '{TARGET}'")
    ]
    assert check_luminate({"redirect": {"to": TARGET}}, error("5"), ctx()) == [
        Failure("L-T12", "HTTP status", f"expected 302 to '{TARGET}', got 403 errorResponse code 5")
    ]


def test_a_signed_redirect_is_checked_with_the_known_secret() -> None:
    spec = {"redirect": {"to": TARGET, "signed": True}}
    good = _signed(TARGET, SECRET_KEY)
    assert check_luminate(spec, redirect(good), ctx(secret_key=SECRET_KEY)) == []
    signed_part = good.split("?", 1)[1].rsplit("&sig=", 1)[0]
    forged = _signed(TARGET, "another-secret")
    assert check_luminate(spec, redirect(forged), ctx(secret_key=SECRET_KEY)) == [
        Failure(
            "L-T13",
            "Location sig",
            f"'{forged.rsplit('=', 1)[1]}' is not SHA-1 of {signed_part!r} followed by the secret key",
        )
    ]


def test_without_the_secret_only_the_shape_of_a_signature_is_checked() -> None:
    spec = {"redirect": {"to": TARGET, "signed": True}}
    assert check_luminate(spec, redirect(_signed(TARGET, "any-secret")), ctx()) == []
    upper = _signed(TARGET, "any-secret", upper=True)
    [failure] = check_luminate(spec, redirect(upper), ctx())
    assert (failure.clause, failure.where) == ("L-T13", "Location sig")
    assert failure.message.endswith("is not lower-case hex SHA-1")


def test_a_stale_or_misplaced_timestamp_fails() -> None:
    spec = {"redirect": {"to": TARGET, "signed": True}}
    stale = _signed(TARGET, SECRET_KEY, ts=int(time.time()) - 3600)
    assert check_luminate(spec, redirect(stale), ctx(secret_key=SECRET_KEY)) == [
        Failure(
            "L-T13", "Location ts", f"'{int(time.time()) - 3600}' is not the current Unix time in seconds"
        )
    ]
    assert check_luminate(spec, redirect(TARGET + "&sig=abc"), ctx()) == [
        Failure("L-T13", "Location", "'from=api&sig=abc' does not end with ts=...&sig=...")
    ]
    assert check_luminate(spec, redirect("https://evil.example/ok?from=api&ts=1&sig=2"), ctx()) == [
        Failure(
            "L-T13",
            "Location",
            f"'https://evil.example/ok?from=api&ts=1&sig=2' does not start with '{TARGET}&'",
        )
    ]
