"""Expanding cases into checks: one per test and matrix cell, with a readable id.

The matrix is response format x suppress_response_codes for Luminate, and SOAP
version for Kognitiv.  Whether a check can run against a given profile is decided
here too (``skip_reason``), from the case's requirements and the profile's policy.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.casefile import Case, Test
from conformance.profile import Profile

WRITES_FORBIDDEN = "writes: forbidden in the profile (this case creates or changes data)"
HOST_NOT_LISTED = "the target's host is not in the profile's hosts list (write cases are guarded)"


@dataclass(frozen=True)
class Check:
    case: Case
    test: Test
    format: str  # xml | json | pair | soap
    suppress: bool
    soap: str  # "1.1" | "1.2" | ""

    @property
    def clauses(self) -> tuple[str, ...]:
        return self.test.clauses

    @property
    def method(self) -> str:
        return str(
            self.test.step.request.get("method")
            or ("RecordInteraction" if self.case.api == "kognitiv" else "?")
        )

    @property
    def variant(self) -> str:
        parts = []
        if self.format not in ("soap", ""):
            parts.append(self.format)
        if self.suppress:
            parts.append("suppressed")
        if self.soap:
            parts.append(f"soap{self.soap}")
        return "-".join(parts)

    @property
    def name(self) -> str:
        return f"{self.test.description} [{self.variant}]" if self.variant else self.test.description

    @property
    def label(self) -> str:
        """How a failure message names the call: ``POST SRConsAPI logInteraction [L-L2] json``."""
        request = self.test.step.request
        if request.get("wsdl"):
            return f"GET Interaction.asmx?WSDL [{', '.join(self.clauses)}]"
        api = self.case.api if self.case.api != "kognitiv" else "Interaction.asmx"
        verb = request.get("http_method", "POST")
        return f"{verb} {api} {self.method} [{', '.join(self.clauses)}] {self.variant}".rstrip()


def expand(case: Case) -> list[Check]:
    checks = []
    for test in case.tests:
        for fmt in case.formats:
            for suppress in case.suppress:
                for soap in case.soap:
                    checks.append(Check(case, test, fmt, suppress, soap))
    return checks


def skip_reason(check: Check, profile: Profile, host_allowed: bool) -> tuple[str, str] | None:
    """(kind, reason) when the check cannot run against this profile, else None.

    kind is "policy" (the profile forbids it), "unobservable" (the profile lacks an
    observation the clause needs) or "not-applicable" (the profile lacks a fixture or
    setting the case needs).
    """
    case = check.case
    if case.api == "kognitiv" and profile.kognitiv is None:
        return "not-applicable", "the profile has no kognitiv section"
    if case.api != "kognitiv" and profile.luminate is None:
        return "not-applicable", "the profile has no luminate section"
    if case.strict == "only" and not profile.strict:
        return "not-applicable", "runs only with a strict profile"
    if case.strict == "never" and profile.strict:
        return "not-applicable", "the strict profile demands the reference's choice instead"
    if case.writes:
        if not profile.writes_allowed:
            return "policy", WRITES_FORBIDDEN
        if not host_allowed:
            return "policy", HOST_NOT_LISTED
    needs_login = case.caller == "constituent" or any(s.kind == "session" for s in case.setup)
    if needs_login and case.api != "kognitiv" and profile.luminate and profile.luminate.constituent is None:
        return "not-applicable", "the profile names no constituent login (Client API sessions)"
    if check.soap == "1.2" and profile.kognitiv is not None and not profile.kognitiv.soap12:
        return "not-applicable", "the profile says the service offers no SOAP 1.2 (soap12: false)"
    for req in case.requires:
        reason = _unmet(req, profile)
        if reason:
            kind = "unobservable" if req.startswith("observation:") else "not-applicable"
            if req == "writes":
                kind = "policy"  # the profile forbids it: reported as skipped by policy
            return kind, reason
    return None


def _unmet(req: str, profile: Profile) -> str | None:
    lo, kg = profile.luminate, profile.kognitiv
    if req == "writes":
        return None if profile.writes_allowed else WRITES_FORBIDDEN
    if req.startswith("observation:"):
        name = req.split(":", 1)[1]
        if lo is None or name not in lo.observations:
            return f"not observable: the profile does not offer {name}"
        return None
    if req.startswith("kognitiv:"):
        what = req.split(":", 1)[1]
        if kg is None:
            return "the profile has no kognitiv section"
        have = {
            "inactive_account": kg.inactive_account is not None,
            "no_permission_token": kg.no_permission_token is not None,
            "soap12": kg.soap12,
        }[what]
        return None if have else f"the profile's kognitiv section lacks {what}"
    if lo is None:
        return "the profile has no luminate section"
    s = lo.settings
    facts = {
        "unique_email": (s.unique_email, "the site does not enforce unique email"),
        "no_unique_email": (not s.unique_email, "the site enforces unique email"),
        "welcome_mail": (s.welcome_mail, "the site sends no welcome mail"),
        "no_welcome_mail": (not s.welcome_mail, "the site sends welcome mail"),
        "other_admin": (lo.other_admin is not None, "the profile names no non-API administrator"),
        "constituent": (lo.constituent is not None, "the profile names no constituent login"),
        "secret_key": (lo.secret_key is not None, "the profile does not know the site's secret key"),
        "shared_member_id": (
            lo.shared_member_id is not None,
            "the profile names no shared member_id fixture",
        ),
        "shared_email": (lo.shared_email is not None, "the profile names no shared email fixture"),
        "groups": (bool(s.groups), "the profile names no groups"),
    }
    ok, reason = facts[req]
    return None if ok else reason
