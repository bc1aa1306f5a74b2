"""Target profiles: what the suite needs to know about a target.

One format serves the suite (which tests a target) and the reference server (which
seeds its site from the bundled profile).  Credentials are environment-variable
*names*; :func:`resolve_secrets` turns them into values at the last moment and the
values live only in a :class:`Secrets`, which also feeds redaction.
"""

from __future__ import annotations

import json
import os
import secrets as _random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from conformance.resources import schema_dir
from conformance.yamlfile import DataFileError, LoadedYaml, load_yaml, schema_error

OBSERVATIONS = ("getUser", "getUserInteractions", "getUserGroups")


@dataclass(frozen=True)
class Credential:
    """A secret named by its environment variable; ``where`` is the profile line."""

    env: str
    role: str
    where: str


@dataclass(frozen=True)
class Account:
    login_name: Credential
    login_password: Credential
    account_id: str


@dataclass(frozen=True)
class Constituent:
    user_name: Credential
    password: Credential
    cons_id: str
    primary_email: str


@dataclass(frozen=True)
class Group:
    id: int
    name: str


@dataclass(frozen=True)
class LuminateSettings:
    unique_email: bool
    welcome_mail: bool
    custom_interaction_types: tuple[int, ...]
    standard_interaction_type: int
    security_categories: tuple[int, ...]
    groups: tuple[Group, ...]


@dataclass(frozen=True)
class Luminate:
    site: str
    api_key: Credential
    secret_key: Credential | None
    api_admin: Account
    other_admin: Account | None
    constituent: Constituent | None
    settings: LuminateSettings
    shared_member_id: str | None
    shared_email: str | None
    observations: frozenset[str]
    observation_fields: Mapping[str, str]

    def servlet_url(self, servlet: str) -> str:
        return self.site.rstrip("/") + "/" + servlet


@dataclass(frozen=True)
class Kognitiv:
    service: str
    namespace: str
    wsdl: str
    soap12: bool
    token: Credential
    no_permission_token: Credential | None
    active_account: str
    inactive_account: str | None
    location: str
    interaction_type: str


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    path: Path
    strict: bool
    writes: str
    hosts: tuple[str, ...]
    connect_timeout: float
    read_timeout: float
    max_body_bytes: int
    rate_limit_per_second: float | None
    request_budget: int | None
    clock_tolerance_seconds: float
    faults: tuple[str, ...]
    embedded: bool
    luminate: Luminate | None
    kognitiv: Kognitiv | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def writes_allowed(self) -> bool:
        return self.writes == "allowed"

    def credentials(self) -> Iterator[Credential]:
        lo, kg = self.luminate, self.kognitiv
        if lo is not None:
            yield lo.api_key
            if lo.secret_key is not None:
                yield lo.secret_key
            for account in (lo.api_admin, lo.other_admin):
                if account is not None:
                    yield account.login_name
                    yield account.login_password
            if lo.constituent is not None:
                yield lo.constituent.user_name
                yield lo.constituent.password
        if kg is not None:
            yield kg.token
            if kg.no_permission_token is not None:
                yield kg.no_permission_token

    def fingerprint(self) -> str:
        """A stable hash of the profile's content (never of secret values)."""
        import hashlib

        blob = json.dumps(self.raw, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def rebased(self, base: str) -> Profile:
        """The same profile with every endpoint moved to ``base`` (scheme://host:port).

        The embedded reference listens on a free port chosen at start-up, so the
        bundled profile's URLs are rewritten to it.
        """
        new = urlsplit(base)

        def move(url: str) -> str:
            old = urlsplit(url)
            return urlunsplit((new.scheme, new.netloc, old.path, old.query, old.fragment))

        lo = replace(self.luminate, site=move(self.luminate.site)) if self.luminate else None
        kg = replace(self.kognitiv, service=move(self.kognitiv.service)) if self.kognitiv else None
        return replace(self, luminate=lo, kognitiv=kg)


class Secrets:
    """Resolved credential values, keyed by environment-variable name."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    def __getitem__(self, credential: Credential) -> str:
        return self._values[credential.env]

    def get(self, credential: Credential | None) -> str | None:
        return None if credential is None else self._values.get(credential.env)

    def values(self) -> list[str]:
        return [v for v in self._values.values() if v]

    def environ(self) -> dict[str, str]:
        return dict(self._values)


def resolve_secrets(
    profile: Profile, environ: Mapping[str, str] | None = None, *, generate_missing: bool = False
) -> Secrets:
    """Read every credential the profile names from the environment.

    A missing variable is a one-line error naming the profile line, raised before any
    request is sent.  ``generate_missing`` is for the embedded reference only: it
    invents a random value, so the reference never has a well-known password.
    """
    env = os.environ if environ is None else environ
    values: dict[str, str] = {}
    for cred in profile.credentials():
        value = env.get(cred.env, "")
        if not value and generate_missing:
            value = values.get(cred.env) or _random.token_urlsafe(18).replace("-", "x").replace("_", "y")
        if not value:
            raise DataFileError(
                cred.where.rsplit(":", 1)[0],
                int(cred.where.rsplit(":", 1)[1]),
                f"environment variable {cred.env} ({cred.role}) is not set",
                f"export {cred.env}=... before running",
            )
        values[cred.env] = value
    return Secrets(values)


@cache
def _profile_validator() -> Any:
    import jsonschema

    schema = json.loads((schema_dir() / "profile.schema.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def bundled_profile_path(name: str = "reference") -> Path:
    return Path(__file__).resolve().parent / "profiles" / f"{name}.yaml"


def load_profile(path: Path | str) -> Profile:
    """Load and validate a profile; any problem is one ``file:line: message`` error."""
    path = Path(path)
    loaded = load_yaml(path)
    if not isinstance(loaded.data, dict):
        raise DataFileError(
            path, 1, "a profile is a mapping (expected keys profile, name, luminate/kognitiv)"
        )
    validator = _profile_validator()
    errors = sorted(validator.iter_errors(loaded.data), key=lambda e: list(e.absolute_path))
    if errors:
        raise _credential_error(loaded, errors[0], validator.schema) or schema_error(loaded, errors[0])
    return _build(loaded)


def _credential_error(loaded: LoadedYaml, error: Any, schema: Mapping[str, Any]) -> DataFileError | None:
    """A credential written as anything but ``{env: NAME}``: refused, and never echoed.

    The generic message would lead with the offending value ("'s3cr3t' is not of type
    'object'"), which here is most likely the secret itself.
    """
    credential = schema["$defs"]["credential"]
    path = list(error.absolute_path)
    if error.schema == credential["properties"]["env"] and path and path[-1] == "env":
        path = path[:-1]
    elif error.schema != credential:
        return None
    where = ".".join(str(p) for p in path)
    parent: Any = loaded.data
    for step in path[:-1]:
        parent = parent[step]
    return DataFileError(
        loaded.path,
        loaded.line_of_key(parent, path[-1], loaded.line_at(path)) if path else 1,
        f"{where}: a credential is the name of an environment variable, written {{env: NAME}}; "
        "a value here is refused",
        "values never appear in a profile: export NAME=... and write {env: NAME}",
    )


def _build(loaded: LoadedYaml) -> Profile:
    d = loaded.data
    name = str(loaded.path)

    def cred(node: Mapping[str, Any], role: str) -> Credential:
        return Credential(env=node["env"], role=role, where=f"{name}:{loaded.line_of(node)}")

    def account(node: Mapping[str, Any] | None, role: str) -> Account | None:
        if node is None:
            return None
        return Account(
            cred(node["login_name"], f"{role}.login_name"),
            cred(node["login_password"], f"{role}.login_password"),
            node["account_id"],
        )

    lo = None
    if "luminate" in d:
        ld = d["luminate"]
        sd = ld["settings"]
        settings = LuminateSettings(
            unique_email=sd["unique_email"],
            welcome_mail=sd["welcome_mail"],
            custom_interaction_types=tuple(sd["custom_interaction_types"]),
            standard_interaction_type=sd["standard_interaction_type"],
            security_categories=tuple(sd["security_categories"]),
            groups=tuple(Group(g["id"], g["name"]) for g in sd.get("groups", [])),
        )
        cd = ld.get("constituent")
        constituent = (
            Constituent(
                cred(cd["user_name"], "luminate.constituent.user_name"),
                cred(cd["password"], "luminate.constituent.password"),
                cd["cons_id"],
                cd["primary_email"],
            )
            if cd
            else None
        )
        admin = account(ld["api_admin"], "luminate.api_admin")
        assert admin is not None  # required by the schema
        fixtures = ld.get("fixtures", {})
        lo = Luminate(
            site=ld["site"],
            api_key=cred(ld["api_key"], "luminate.api_key"),
            secret_key=cred(ld["secret_key"], "luminate.secret_key") if "secret_key" in ld else None,
            api_admin=admin,
            other_admin=account(ld.get("other_admin"), "luminate.other_admin"),
            constituent=constituent,
            settings=settings,
            shared_member_id=fixtures.get("shared_member_id"),
            shared_email=fixtures.get("shared_email"),
            observations=frozenset(ld.get("observations", [])),
            observation_fields={
                k: ld.get("observation_fields", {}).get(k, k)
                for k in ("origin", "active", "active_detail", "donor_status")
            },
        )
    kg = None
    if "kognitiv" in d:
        kd = d["kognitiv"]
        kg = Kognitiv(
            service=kd["service"],
            namespace=kd.get("namespace", "https://app.smartbutton.com/Services/"),
            wsdl=kd.get("wsdl", "target"),
            soap12=kd.get("soap12", True),
            token=cred(kd["token"], "kognitiv.token"),
            no_permission_token=(
                cred(kd["no_permission_token"], "kognitiv.no_permission_token")
                if "no_permission_token" in kd
                else None
            ),
            active_account=kd["accounts"]["active"],
            inactive_account=kd["accounts"].get("inactive"),
            location=kd["location"],
            interaction_type=kd["interaction_type"],
        )
    timeouts = d.get("timeouts", {})
    return Profile(
        name=d["name"],
        description=d.get("description", ""),
        path=loaded.path,
        strict=d.get("strict", False),
        writes=d.get("writes", "allowed"),
        hosts=tuple(d.get("hosts", [])),
        connect_timeout=float(timeouts.get("connect", 5.0)),
        read_timeout=float(timeouts.get("read", 30.0)),
        max_body_bytes=int(d.get("max_body_bytes", 1_048_576)),
        rate_limit_per_second=d.get("rate_limit_per_second"),
        request_budget=d.get("request_budget"),
        clock_tolerance_seconds=float(d.get("clock_tolerance_seconds", 300)),
        faults=tuple(d.get("faults", [])),
        embedded=d.get("embedded", False),
        luminate=lo,
        kognitiv=kg,
        raw=d,
    )
