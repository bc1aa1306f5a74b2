"""A target at run time: profile, secret values, HTTP client, names cases may use.

One Target per process (per pytest-xdist worker): it holds the keep-alive session, the
redactor fed with every secret value, the run id stamped on every record the suite
creates, and the ledger of those records.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from conformance.plan import HOST_NOT_LISTED, WRITES_FORBIDDEN
from conformance.profile import Profile, Secrets
from conformance.redaction import Redactor
from conformance.transport import HttpClient, RequestBudget


@dataclass
class Created:
    kind: str
    id: str
    check: str
    detail: str = ""
    #: Listed by its YAML case's own event; otherwise (properties, their fixtures) by
    #: the next property event of the same process.
    by_case: bool = False


@dataclass
class Ledger:
    """Everything the suite created on the target, so a run can say what it left."""

    items: list[Created] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, item: Created) -> None:
        with self._lock:
            self.items.append(item)


#: Room for each worker's unique numbers: worker i numbers from i * this + 1.
WORKER_SPAN = 1_000_000


def worker_share(total: int | None, worker: int, workers: int) -> int | None:
    """This worker's part of a run-wide request budget; the parts sum to ``total``."""
    if total is None:
        return None
    return total // workers + (1 if worker < total % workers else 0)


class Target:
    """The target as one process sees it.

    With pytest-xdist each of ``workers`` processes holds its own Target; the
    profile's request budget and rate are run-wide, so each gets its share of both,
    and its unique numbers come from its own range (emails never collide between
    workers on one target).
    """

    def __init__(
        self,
        profile: Profile,
        secrets: Secrets,
        run_id: str | None = None,
        *,
        worker: int = 0,
        workers: int = 1,
    ) -> None:
        self.profile = profile
        self.secrets = secrets
        self.run_id = run_id or uuid.uuid4().hex[:10]
        self.redactor = Redactor(secrets.values())
        rate = profile.rate_limit_per_second
        self.budget = RequestBudget(
            worker_share(profile.request_budget, worker, workers),
            rate / workers if rate else None,
        )
        self.http = HttpClient(
            self.redactor,
            connect_timeout=profile.connect_timeout,
            read_timeout=profile.read_timeout,
            max_body=profile.max_body_bytes,
            budget=self.budget,
            refuse_writes=self.write_refusal(),
        )
        self.ledger = Ledger()
        self.kognitiv_ids: set[str] = set()
        self._counter = itertools.count(worker * WORKER_SPAN + 1)
        self._base = self._bindings()

    def unique(self) -> int:
        return next(self._counter)

    def write_refusal(self) -> str | None:
        """Why this target must receive no write, or None when writes may be sent."""
        if not self.profile.writes_allowed:
            return WRITES_FORBIDDEN
        if not self.host_allowed():
            return HOST_NOT_LISTED
        return None

    def host_allowed(self) -> bool:
        """Write cases run only against hosts the profile declares (staging guard)."""
        hosts = {h.lower() for h in self.profile.hosts}  # urlsplit lower-cases hostnames
        urls = []
        if self.profile.luminate:
            urls.append(self.profile.luminate.site)
        if self.profile.kognitiv:
            urls.append(self.profile.kognitiv.service)
        return all(urlsplit(u).hostname in hosts for u in urls)

    def bindings(self) -> dict[str, str]:
        return dict(self._base)

    def _bindings(self) -> dict[str, str]:
        p = self.profile
        b: dict[str, str] = {"run.id": self.run_id}
        lo = p.luminate
        if lo is not None:
            s = lo.settings
            b["site.url"] = lo.site
            b["profile.admin.account_id"] = lo.api_admin.account_id
            b["secret.api_key"] = self.secrets[lo.api_key]
            b["secret.admin_login"] = self.secrets[lo.api_admin.login_name]
            b["secret.admin_password"] = self.secrets[lo.api_admin.login_password]
            if lo.other_admin is not None:
                b["profile.other_admin.account_id"] = lo.other_admin.account_id
                b["secret.other_admin_login"] = self.secrets[lo.other_admin.login_name]
                b["secret.other_admin_password"] = self.secrets[lo.other_admin.login_password]
            if lo.constituent is not None:
                b["profile.constituent.cons_id"] = lo.constituent.cons_id
                b["profile.constituent.primary_email"] = lo.constituent.primary_email
                b["secret.constituent_user"] = self.secrets[lo.constituent.user_name]
                b["secret.constituent_password"] = self.secrets[lo.constituent.password]
            types = s.custom_interaction_types
            b["profile.custom_type"] = str(types[0])
            b["profile.custom_type_2"] = str(types[1] if len(types) > 1 else types[0])
            b["profile.standard_type"] = str(s.standard_interaction_type)
            cats = s.security_categories
            b["profile.category"] = str(next((c for c in cats if c != 0), 0))
            b["profile.missing_category"] = str(max(cats) + 7919)
            taken = set(types) | {s.standard_interaction_type, 0}
            b["profile.missing_type"] = str(max(taken) + 7919)
            if lo.shared_member_id:
                b["profile.shared_member_id"] = lo.shared_member_id
            if lo.shared_email:
                b["profile.shared_email"] = lo.shared_email
            if s.groups:
                b["profile.group"] = str(s.groups[0].id)
                b["profile.group_name"] = s.groups[0].name
                b["profile.group_2"] = str(s.groups[-1].id)
            for fact, name in lo.observation_fields.items():
                b[f"obs.{fact}"] = name
            b["profile.missing_group"] = str(max([g.id for g in s.groups] + [1000]) + 7919)
        kg = p.kognitiv
        if kg is not None:
            b["kognitiv.active_account"] = kg.active_account
            if kg.inactive_account:
                b["kognitiv.inactive_account"] = kg.inactive_account
            b["kognitiv.location"] = kg.location
            b["kognitiv.namespace"] = kg.namespace
            b["kognitiv.interaction_type"] = kg.interaction_type
            b["secret.kognitiv_token"] = self.secrets[kg.token]
            if kg.no_permission_token is not None:
                b["secret.kognitiv_no_permission_token"] = self.secrets[kg.no_permission_token]
        return b
