"""Secrets never leave the process: the redactor's forms and names, and a whole failing run."""

from __future__ import annotations

import html
import json
import secrets
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from conformance.profile import Profile
from conformance.redaction import MASK, Redactor
from tests.engine.conftest import RunPytest, Write, credential_names, profile_copy

VALUE = "Zq7<&>\"' +/é%xyz"


def _forms(value: str) -> dict[str, str]:
    """Every shape a secret takes on its way out: in a form, in XML, in JSON."""
    return {
        "raw": value,
        "percent-encoded": quote(value, safe=""),
        "plus-encoded": quote_plus(value),
        "xml-escaped text": html.escape(value, quote=False),
        "xml-escaped attribute": html.escape(value),
        "json-escaped": json.dumps(value)[1:-1],
        "json-escaped utf-8": json.dumps(value, ensure_ascii=False)[1:-1],
    }


@pytest.mark.parametrize(("form", "text"), list(_forms(VALUE).items()), ids=list(_forms(VALUE)))
def test_a_value_is_redacted_in_every_form(form: str, text: str) -> None:
    redactor = Redactor([VALUE])
    assert redactor.redact(f"before {text} after") == f"before {MASK} after"


def test_the_forms_really_differ() -> None:
    # Otherwise the test above would prove less than it says.
    assert len(set(_forms(VALUE).values())) == len(_forms(VALUE))


def test_every_occurrence_and_every_value_is_redacted() -> None:
    redactor = Redactor(["first-secret", "second-secret"])
    text = "first-secret, second-secret, first-secret"
    assert redactor.redact(text) == f"{MASK}, {MASK}, {MASK}"


def test_the_longest_value_wins_where_values_overlap() -> None:
    redactor = Redactor(["secret", "secretvalue"])
    assert redactor.redact("a secretvalue b") == f"a {MASK} b"


def test_values_added_later_are_redacted_too() -> None:
    redactor = Redactor()
    assert redactor.redact("tok-123456") == "tok-123456"
    redactor.add("tok-123456", None, "")
    assert redactor.redact("x tok-123456 y") == f"x {MASK} y"
    assert "tok-123456" in redactor


@pytest.mark.parametrize("value", ["abc", "a", ""])
def test_short_values_are_ignored(value: str) -> None:
    redactor = Redactor([value])
    text = "abc is a common prefix of abcdef"
    assert redactor.redact(text) == text
    assert value not in redactor


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("method=x&api_key=unknown1&v=1.0", f"method=x&api_key={MASK}&v=1.0", id="form"),
        pytest.param(
            "login_name=a&login_password=pw%20x", f"login_name=a&login_password={MASK}", id="form-encoded"
        ),
        pytest.param("?auth=tok&x=1", f"?auth={MASK}&x=1", id="query"),
        pytest.param("sso_auth_token=abc123", f"sso_auth_token={MASK}", id="form-at-the-start"),
        pytest.param("Cookie: JSESSIONID=0A1B2C; Path=/", f"Cookie: JSESSIONID={MASK}; Path=/", id="cookie"),
        pytest.param('{"auth":"tok123456"}', f'{{"auth":"{MASK}"}}', id="json"),
        pytest.param(
            '{"token": "a b \\" c", "x": 1}', f'{{"token": "{MASK}", "x": 1}}', id="json-with-space-and-quote"
        ),
        pytest.param(
            "<SecurityToken>tok999999</SecurityToken>", f"<SecurityToken>{MASK}</SecurityToken>", id="xml"
        ),
        pytest.param(
            '<s:SecurityToken xmlns:s="urn:x">tok 9</s:SecurityToken>',
            f'<s:SecurityToken xmlns:s="urn:x">{MASK}</s:SecurityToken>',
            id="xml-prefixed-with-attribute",
        ),
        pytest.param("<token>abc</token>", f"<token>{MASK}</token>", id="xml-login-token"),
    ],
)
def test_named_parameters_are_redacted_even_when_unknown(text: str, expected: str) -> None:
    assert Redactor().redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("interaction_auth=abc&my_token=def", id="a-longer-name"),
        pytest.param("the auth token is refused -> code 1", id="prose"),
        pytest.param("<tokenCount>3</tokenCount>", id="another-element"),
        pytest.param("token: abc", id="not-a-parameter"),
    ],
)
def test_other_text_is_left_alone(text: str) -> None:
    assert Redactor().redact(text) == text


# -- end to end ---------------------------------------------------------------------

CASE = """\
cases:
  - description: secrets in a failing check
    clauses: [L-G4]
    api: SRConsAPI
    setup:
      - constituent: alice
    tests:
      - description: a subject holding the API key reads back as the admin password
        request:
          method: logInteraction
          params: {cons_id: "${alice.cons_id}", interaction_subject: "${secret.api_key}"}
        expect: {root: updateConsResponse}
        capture: {iid: interaction_id}
        then:
          - request:
              method: getInteraction
              params: {cons_id: "${alice.cons_id}", interaction_id: "${iid}"}
            expect:
              root: getInteractionResponse
              fields:
                interaction/subject: ${secret.admin_password}
      - description: a login name that is the password
        request:
          method: logInteraction
          params:
            login_name: ${secret.admin_password}
            cons_id: ${alice.cons_id}
            interaction_subject: ${secret.constituent_password}
        expect: {root: updateConsResponse}
"""


def test_a_failing_run_shows_no_secret_anywhere(
    tmp_path: Path, write: Write, run_pytest: RunPytest, reference_profile: Profile
) -> None:
    # Distinctive values with characters that every encoding changes; the random token
    # in each survives every encoding, so finding it anywhere means a leak in some form.
    tokens = {name: secrets.token_hex(6) for name in credential_names(reference_profile)}
    environ = {name: f'S<{token}>&"é +/%' for name, token in tokens.items()}
    profile = profile_copy(tmp_path / "embedded.yaml", embedded=True)
    case = write("secrets.yaml", CASE)
    events, junit = tmp_path / "events.jsonl", tmp_path / "junit.xml"

    result = run_pytest(
        str(case),
        "--target",
        str(profile),
        "-vv",
        "-rA",
        "--tb=long",
        "--showlocals",
        f"--events={events}",
        f"--junitxml={junit}",
        env=environ,
    )

    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert output.count("FAILED secrets.yaml::") == 4, output  # 2 tests x (xml, json)
    # The secrets were really there to hide: sent, echoed back and compared.
    assert f"interaction_subject={MASK}" in output
    assert f"/getInteractionResponse/interaction/subject: '{MASK}' is not '{MASK}'" in output
    assert f"<subject>{MASK}</subject>" in output
    for where, text in (
        ("pytest output", output),
        ("events", events.read_text(encoding="utf-8")),
        ("JUnit XML", junit.read_text(encoding="utf-8")),
    ):
        for name, token in tokens.items():
            assert token not in text, f"{name} leaks into the {where}"
