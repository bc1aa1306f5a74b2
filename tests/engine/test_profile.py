"""Target profiles: one-line errors, credentials only as environment-variable names,
missing variables refused before any request, ``rebased`` and ``fingerprint``."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from conformance.profile import Profile, bundled_profile_path, load_profile, resolve_secrets
from conformance.yamlfile import DataFileError
from tests.engine.conftest import RunPytest, Write, credential_names, profile_copy

VALID = bundled_profile_path().read_text(encoding="utf-8")
CREDENTIAL_HINT = "(hint: values never appear in a profile: export NAME=... and write {env: NAME})"


def _line_of(text: str, needle: str) -> int:
    [number] = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    return number


def test_the_bundled_profile_loads(reference_profile: Profile) -> None:
    p = reference_profile
    assert (p.name, p.strict, p.writes, p.embedded) == ("reference", False, "allowed", True)
    assert p.luminate is not None and p.kognitiv is not None
    assert p.luminate.api_key.env == "CONFORMANCE_LO_API_KEY"
    assert p.luminate.api_key.where == f"{bundled_profile_path()}:{_line_of(VALID, 'CONFORMANCE_LO_API_KEY')}"
    assert p.luminate.observations == frozenset({"getUser", "getUserInteractions", "getUserGroups"})
    assert (p.connect_timeout, p.read_timeout) == (5.0, 30.0)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param(
            "name: reference\n", "", "8: (top level): 'name' is a required property", id="missing-name"
        ),
        pytest.param(
            "  site: http://127.0.0.1:8750/site\n",
            "",
            "21: luminate: 'site' is a required property",
            id="missing-nested-key",
        ),
        pytest.param(
            "strict: false\n",
            "strict: false\nwrits: allowed\n",
            "8: (top level): unknown key 'writs' (hint: did you mean 'writes'?)",
            id="unknown-key",
        ),
        pytest.param(
            "  api_key: {env: CONFORMANCE_LO_API_KEY}\n",
            "  api_key: {env: CONFORMANCE_LO_API_KEY}\n  secrt_key: {env: X}\n",
            "21: luminate: unknown key 'secrt_key' (hint: did you mean 'secret_key'?)",
            id="unknown-nested-key",
        ),
        pytest.param(
            "writes: allowed",
            "writes: maybe",
            "8: writes: 'maybe' is not one of ['allowed', 'forbidden']"
            " (hint: one of: 'allowed', 'forbidden')",
            id="not-in-enum",
        ),
        pytest.param(
            "strict: false", "strict: [true]", "11: strict: [True] is not of type 'boolean'", id="wrong-type"
        ),
        pytest.param(
            "embedded: true",
            "embedded: true\nembedded: false",
            "14: duplicate key 'embedded'",
            id="duplicate-key",
        ),
    ],
)
def test_a_broken_profile_is_one_line(write: Write, old: str, new: str, message: str) -> None:
    assert VALID.count(old) == 1, "the variant must change exactly one place"
    path = write("profile.yaml", VALID.replace(old, new))
    with pytest.raises(DataFileError) as excinfo:
        load_profile(path)
    assert str(excinfo.value) == f"{path}:{message}"


SECRET = "hunter2-Literal-Value"


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        pytest.param("{env: CONFORMANCE_LO_API_KEY}", SECRET, "luminate.api_key", id="a-literal-string"),
        pytest.param(
            "{env: CONFORMANCE_LO_ADMIN_PASSWORD}",
            f"{{value: {SECRET}}}",
            "luminate.api_admin.login_password",
            id="a-value-key",
        ),
        pytest.param(
            "{env: CONFORMANCE_KG_TOKEN}",
            f"{{env: CONFORMANCE_KG_TOKEN, value: {SECRET}}}",
            "kognitiv.token",
            id="a-value-next-to-env",
        ),
        pytest.param(
            "{env: CONFORMANCE_LO_SECRET_KEY}",
            f"{{env: '{SECRET} !'}}",
            "luminate.secret_key",
            id="a-value-as-the-name",
        ),
    ],
)
def test_a_credential_value_in_a_profile_is_refused_without_echoing_it(
    write: Write, old: str, new: str, where: str
) -> None:
    assert VALID.count(old) == 1
    path = write("profile.yaml", VALID.replace(old, new))
    with pytest.raises(DataFileError) as excinfo:
        load_profile(path)
    line = _line_of(VALID, old)
    assert str(excinfo.value) == (
        f"{path}:{line}: {where}: a credential is the name of an environment variable,"
        f" written {{env: NAME}}; a value here is refused {CREDENTIAL_HINT}"
    )
    assert SECRET not in str(excinfo.value)


def test_an_empty_profile_is_one_line(write: Write) -> None:
    path = write("profile.yaml", "")
    with pytest.raises(DataFileError) as excinfo:
        load_profile(path)
    assert str(excinfo.value) == (
        f"{path}:1: a profile is a mapping (expected keys profile, name, luminate/kognitiv)"
    )


def test_a_missing_variable_names_itself_and_its_line(reference_profile: Profile) -> None:
    environ = {name: f"value-of-{name}" for name in credential_names(reference_profile)}
    del environ["CONFORMANCE_LO_ADMIN_PASSWORD"]
    with pytest.raises(DataFileError) as excinfo:
        resolve_secrets(reference_profile, environ)
    line = _line_of(VALID, "CONFORMANCE_LO_ADMIN_PASSWORD")
    assert str(excinfo.value) == (
        f"{bundled_profile_path()}:{line}: environment variable CONFORMANCE_LO_ADMIN_PASSWORD"
        " (luminate.api_admin.login_password) is not set"
        " (hint: export CONFORMANCE_LO_ADMIN_PASSWORD=... before running)"
    )


def test_an_empty_variable_counts_as_missing(reference_profile: Profile) -> None:
    environ = {name: "x" * 12 for name in credential_names(reference_profile)}
    environ["CONFORMANCE_KG_TOKEN"] = ""
    with pytest.raises(
        DataFileError, match=r"environment variable CONFORMANCE_KG_TOKEN \(kognitiv\.token\) is not set"
    ):
        resolve_secrets(reference_profile, environ)


def test_secrets_resolve_from_the_environment(reference_profile: Profile) -> None:
    environ = {name: f"value-of-{name}" for name in credential_names(reference_profile)}
    secrets = resolve_secrets(reference_profile, environ)
    lo = reference_profile.luminate
    assert lo is not None
    assert secrets[lo.api_key] == "value-of-CONFORMANCE_LO_API_KEY"
    assert sorted(secrets.values()) == sorted(environ.values())


def test_generated_secrets_are_random_and_fill_only_what_is_missing(reference_profile: Profile) -> None:
    lo = reference_profile.luminate
    assert lo is not None
    given = {"CONFORMANCE_LO_API_KEY": "given-api-key-value"}
    one = resolve_secrets(reference_profile, given, generate_missing=True)
    two = resolve_secrets(reference_profile, given, generate_missing=True)
    assert one[lo.api_key] == two[lo.api_key] == "given-api-key-value"
    assert one[lo.api_admin.login_password] != two[lo.api_admin.login_password]
    assert len(one[lo.api_admin.login_password]) >= 16


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A listening socket nobody answers on: a connection shows up in its backlog."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    yield sock
    sock.close()


def _connections(sock: socket.socket) -> int:
    count = 0
    while True:
        try:
            conn, _ = sock.accept()
        except BlockingIOError:
            return count
        conn.close()
        count += 1


CASE = """\
cases:
  - description: a record is created
    clauses: [L-C9]
    api: SRConsAPI
    formats: [json]
    tests:
      - description: a new email creates a record
        request:
          method: createOrUpdate
          params: {primary_email: "${check.email}"}
        expect: {root: createOrUpdateConsResponse}
"""


def test_a_missing_variable_stops_the_run_before_any_request(
    tmp_path: Path, write: Write, run_pytest: RunPytest, listener: socket.socket, reference_profile: Profile
) -> None:
    base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    profile = profile_copy(tmp_path / "target.yaml", base=base, timeouts="{connect: 1, read: 0.2}")
    case = write("case.yaml", CASE)
    environ = {name: f"value-of-{name}" for name in credential_names(reference_profile)}
    del environ["CONFORMANCE_LO_API_KEY"]

    result = run_pytest(str(case), "--target", str(profile), "-q", env=environ)

    line = _line_of(profile.read_text(encoding="utf-8"), "CONFORMANCE_LO_API_KEY")
    assert result.returncode == 4, result.stdout + result.stderr  # pytest's usage error
    assert result.stderr.strip() == (
        f"ERROR: {profile}:{line}: environment variable CONFORMANCE_LO_API_KEY (luminate.api_key) is not set"
        " (hint: export CONFORMANCE_LO_API_KEY=... before running)"
    )
    assert _connections(listener) == 0

    # The control: with the variable set, the same run does reach the socket (and errors
    # on the silence), so "nothing connected" above means something.
    environ["CONFORMANCE_LO_API_KEY"] = "value-of-CONFORMANCE_LO_API_KEY"
    result = run_pytest(str(case), "--target", str(profile), "-q", env=environ)
    assert result.returncode == 1, result.stdout + result.stderr
    assert _connections(listener) >= 1


def test_rebased_moves_every_endpoint_and_nothing_else(reference_profile: Profile) -> None:
    moved = reference_profile.rebased("https://[::1]:9443")
    assert moved.luminate is not None and moved.kognitiv is not None
    assert moved.luminate.site == "https://[::1]:9443/site"
    assert moved.luminate.servlet_url("SRConsAPI") == "https://[::1]:9443/site/SRConsAPI"
    assert moved.kognitiv.service == "https://[::1]:9443/Services/Interaction.asmx"
    assert replace(moved, luminate=reference_profile.luminate, kognitiv=reference_profile.kognitiv) == (
        reference_profile
    )


def test_the_fingerprint_is_stable_and_ignores_secret_values(
    tmp_path: Path, reference_profile: Profile
) -> None:
    fingerprint = reference_profile.fingerprint()
    assert len(fingerprint) == 16
    # Another load, another path, a rebased copy: the same content, the same fingerprint.
    copy = tmp_path / "copy.yaml"
    copy.write_text(VALID, encoding="utf-8")
    assert load_profile(copy).fingerprint() == fingerprint
    assert reference_profile.rebased("http://127.0.0.1:1").fingerprint() == fingerprint
    # Secret values are not part of the profile at all.
    names = credential_names(reference_profile)
    resolve_secrets(reference_profile, {n: "one-secret-value" for n in names})
    resolve_secrets(reference_profile, {n: "another-secret-value" for n in names})
    assert reference_profile.fingerprint() == fingerprint
    assert "one-secret-value" not in repr(reference_profile.raw)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param("strict: false", "strict: true", id="a-setting"),
        pytest.param("{env: CONFORMANCE_LO_API_KEY}", "{env: OTHER_API_KEY}", id="a-variable-name"),
    ],
)
def test_the_fingerprint_changes_with_the_content(tmp_path: Path, old: str, new: str) -> None:
    path = tmp_path / "changed.yaml"
    path.write_text(VALID.replace(old, new), encoding="utf-8")
    assert load_profile(path).fingerprint() != load_profile(bundled_profile_path()).fingerprint()
