"""The Luminate site the reference serves: settings, fixtures and credential values.

Everything comes from a :class:`~conformance.profile.Profile` plus its resolved
:class:`~conformance.profile.Secrets`, so the reference is exactly the target its
bundled profile describes.  Secret values live in fields excluded from ``repr`` and
``__repr__`` is written out by hand as well, so a site object that ends up in a log line,
a traceback or an assertion message never shows a key or a password.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.profile import Account, Group, Profile, Secrets
from conformance.reference.fault import NO_FAULTS, FaultSet


@dataclass(frozen=True)
class Login:
    """A seeded login: who it is (cons_id) and the credential values that open it."""

    cons_id: int
    role: str  # "api_admin", "admin" or "constituent"
    user_name: str = field(repr=False)
    password: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Login(cons_id={self.cons_id}, role={self.role!r}, credentials=<hidden>)"


@dataclass(frozen=True)
class LuminateSite:
    servlet_base: str
    unique_email: bool
    welcome_mail: bool
    custom_interaction_types: frozenset[int]
    security_categories: frozenset[int]
    groups: tuple[Group, ...]
    api_admin: Login
    other_admin: Login | None
    constituent: Login | None
    constituent_email: str | None
    shared_member_id: str | None
    shared_email: str | None
    # The observation methods the profile says this target offers; the reference answers
    # exactly those (others are unknown methods), so a profile that withholds one makes the
    # reference behave like a target without it.
    observations: frozenset[str]
    api_key: str = field(repr=False)
    # Redirect signing (L-T13) with no secret configured signs with the empty key, so a
    # profile without secret_key still gets well-shaped signatures.
    secret_key: str = field(repr=False)
    # Deliberate mistakes switched on for `conformance selftest` (fault.py); none in
    # normal use.
    faults: FaultSet = NO_FAULTS

    def fault(self, name: str) -> bool:
        """Whether the named deliberate mistake is switched on (always False normally)."""
        return self.faults(name)

    def __repr__(self) -> str:
        return (
            f"LuminateSite(servlet_base={self.servlet_base!r}, unique_email={self.unique_email}, "
            f"welcome_mail={self.welcome_mail}, api_admin={self.api_admin!r}, faults={self.faults!r}, "
            "secrets=<hidden>)"
        )

    @property
    def logins(self) -> tuple[Login, ...]:
        return tuple(x for x in (self.api_admin, self.other_admin, self.constituent) if x is not None)

    @classmethod
    def from_profile(cls, profile: Profile, secrets: Secrets) -> LuminateSite:
        lo = profile.luminate
        if lo is None:
            raise ValueError(f"profile {profile.name!r} has no luminate section to serve")

        def account(acct: Account, role: str) -> Login:
            return Login(int(acct.account_id), role, secrets[acct.login_name], secrets[acct.login_password])

        constituent = None
        if lo.constituent is not None:
            c = lo.constituent
            constituent = Login(int(c.cons_id), "constituent", secrets[c.user_name], secrets[c.password])
        settings = lo.settings
        return cls(
            servlet_base=lo.site,
            unique_email=settings.unique_email,
            welcome_mail=settings.welcome_mail,
            custom_interaction_types=frozenset(settings.custom_interaction_types),
            # Category 0 ("General") always exists (L-L6), whatever the profile lists.
            security_categories=frozenset(settings.security_categories) | {0},
            groups=settings.groups,
            api_admin=account(lo.api_admin, "api_admin"),
            other_admin=account(lo.other_admin, "admin") if lo.other_admin is not None else None,
            constituent=constituent,
            constituent_email=lo.constituent.primary_email if lo.constituent is not None else None,
            shared_member_id=lo.shared_member_id,
            shared_email=lo.shared_email,
            observations=lo.observations,
            api_key=secrets[lo.api_key],
            secret_key=secrets.get(lo.secret_key) or "",
            faults=FaultSet(profile.faults),
        )
