"""Typed Luminate and Kognitiv calls for the hypothesis properties and the state machine.

Case files speak YAML and go through :func:`conformance.runner.run_check`; properties
speak Python and go through this small layer, which adds who calls (an API
administrator on the Server API, a constituent session on the Client API, or nobody),
fresh identifiers that name no existing record, the ledger entry for every record a
property creates, and the one way a call is shown in a failure message: what was
sent and what came back, with every secret masked by the target's redactor.
Requests are built and answers read by :mod:`conformance.runner`, :mod:`conformance.answer`
and :mod:`conformance.soap`, exactly as for the YAML cases.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from conformance.answer import Answer, count_items, lookup
from conformance.model import Directory, Fresh, Record, Refused, Shown
from conformance.outcome import CheckErrored
from conformance.redaction import MASK, SECRET_NAMES
from conformance.runner import call_kognitiv, call_luminate
from conformance.soap import SoapAnswer
from conformance.target import Created, Target

SERVER = "SRConsAPI"
CLIENT = "CRConsAPI"

#: A cons_id that names no record on any target the suite knows: close to the top of
#: a signed 32-bit id (so a target that stores ids as int32 still reads it as a
#: number and answers "not found", L-K3 / L-C2) and far above any real site's ids.
NOBODY_CONS_ID = "2147481999"

#: Parameters a failure message never shows, whatever they hold (the redactor masks
#: their values too; masking by name also covers wrong values, which it does not know).
_SECRET = frozenset({*SECRET_NAMES, "login_name", "user_name"})
_SHOWN_CHARS = 48


@dataclass(frozen=True)
class Caller(Shown):
    """Who makes a Luminate call.  ``repr`` never shows a session token."""

    kind: Literal["admin", "session", "nobody"]
    token: str | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        return self.kind


ADMIN = Caller("admin")
NOBODY = Caller("nobody")


def show(value: str | None) -> str:
    """A parameter or field value as a message shows it: long texts shortened, length given."""
    if value is None:
        return "<absent>"
    if len(value) <= _SHOWN_CHARS:
        return repr(value)
    return f"{value[:_SHOWN_CHARS]!r}… ({len(value)} characters)"


@dataclass(frozen=True)
class Sent:
    """One Luminate call as sent and as answered."""

    api: str
    caller: Caller
    params: Mapping[str, str] = field(repr=False)  # secrets included: shown only via describe()
    fmt: str
    suppress: bool
    answer: Answer = field(repr=False)

    @property
    def method(self) -> str:
        return self.params.get("method", "")

    @property
    def code(self) -> int | None:
        code = self.answer.error_code()
        return int(code) if code is not None and code.isdigit() else None

    def text(self, path: str) -> str | None:
        """The text at a slash path below the root, or None (absent, nil or not text)."""
        found, value = lookup(self.answer.tree, path)
        return value if found and isinstance(value, str) else None

    def succeeded(self, root: str) -> bool:
        return self.answer.status == 200 and self.answer.root == root


@dataclass(frozen=True)
class SentSoap:
    """One RecordInteraction as sent and as answered."""

    fields: Mapping[str, str | None] = field(repr=False)
    version: str
    answer: SoapAnswer = field(repr=False)


class Client:
    """Luminate and Kognitiv calls against one target, for one property or machine."""

    def __init__(self, target: Target, label: str) -> None:
        self.target = target
        self.label = label  # the property's name, recorded in the ledger

    # -- Luminate -----------------------------------------------------------------

    @property
    def admin_account_id(self) -> str:
        lo = self.target.profile.luminate
        assert lo is not None
        return lo.api_admin.account_id

    def call(
        self,
        method: str,
        params: Mapping[str, str] | None = None,
        *,
        caller: Caller = ADMIN,
        api: str | None = None,
        fmt: str = "xml",
        suppress: bool = False,
    ) -> Sent:
        """``method`` with ``params``; the caller's credentials are added unless given."""
        lo = self.target.profile.luminate
        assert lo is not None
        sent: dict[str, str] = {"method": method}
        if caller.kind == "admin":
            sent["login_name"] = self.target.secrets[lo.api_admin.login_name]
            sent["login_password"] = self.target.secrets[lo.api_admin.login_password]
        elif caller.kind == "session" and caller.token is not None:
            sent["auth"] = caller.token
        sent.update(params or {})
        servlet = api or (SERVER if caller.kind == "admin" else CLIENT)
        answer = call_luminate(self.target, servlet, sent, fmt, suppress)
        return Sent(servlet, caller, sent, fmt, suppress, answer)

    def login(self) -> Sent:
        """Client API ``login`` of the profile's constituent; the token joins the redactor."""
        lo = self.target.profile.luminate
        assert lo is not None and lo.constituent is not None
        sent = self.call(
            "login",
            {
                "user_name": self.target.secrets[lo.constituent.user_name],
                "password": self.target.secrets[lo.constituent.password],
            },
            caller=NOBODY,
        )
        self.target.redactor.add(sent.text("token"))
        return sent

    def session(self) -> Caller:
        """A fresh constituent session, or CheckErrored when login does not give one."""
        sent = self.login()
        token = sent.text("token")
        if not sent.succeeded("loginResponse") or not token:
            raise CheckErrored(f"setup: login gave no session\n{self.describe(sent)}")
        return Caller("session", token)

    def fresh_email(self) -> str:
        # Lower case, so the same address in upper case is a different string that
        # must still find the record (L-C17).
        return f"prop.{self.target.run_id}.{self.target.unique()}@example.org"

    def fresh_member_id(self) -> str:
        return f"PROP-{self.target.run_id}-{self.target.unique()}"

    def fresh(self) -> Fresh:
        return Fresh(self.fresh_email, self.fresh_member_id, NOBODY_CONS_ID)

    def directory(self, *records: Record) -> Directory:
        """A model directory of ``records`` and the profile's shared fixtures."""
        lo = self.target.profile.luminate
        assert lo is not None
        directory = Directory(lo.shared_member_id, lo.shared_email)
        for record in records:
            directory.add(record)
        return directory

    def create_constituent(self, label: str) -> Record:
        """A new record with a fresh email and member_id (setup: failure is *errored*)."""
        email, member_id = self.fresh_email(), self.fresh_member_id()
        sent = self.call(
            "createOrUpdate",
            {
                "primary_email": email,
                "member_id": member_id,
                "name.first": "Property",
                "name.last": f"Run {self.target.run_id}",
                "source": f"conformance {self.target.run_id}",
                "sub_source": self.label.rsplit("::", 1)[-1][:40],
            },
        )
        cons_id = sent.text("cons_id")
        if not sent.succeeded("createOrUpdateConsResponse") or not cons_id:
            raise CheckErrored(f"setup: createOrUpdate did not create a record\n{self.describe(sent)}")
        self.created("constituent", cons_id, email)
        return Record(label, cons_id, member_id, email)

    def created(self, kind: str, ident: str, detail: str = "") -> None:
        self.target.ledger.add(Created(kind, ident, self.label, detail))

    def interaction_count(self, cons_id: str) -> int:
        """How many interactions the record has (getUserInteractions, page by page)."""
        total, page, size = 0, 0, 100
        while True:
            sent = self.call(
                "getUserInteractions",
                {"cons_id": cons_id, "list_page_size": str(size), "list_page_offset": str(page)},
            )
            if not sent.succeeded("getUserInteractionsResponse"):
                raise CheckErrored(f"observation getUserInteractions failed\n{self.describe(sent)}")
            items = count_items(sent.answer.tree, "interaction")
            total += items
            if items < size:
                return total
            page += 1

    def offers(self, observation: str) -> bool:
        lo = self.target.profile.luminate
        return lo is not None and observation in lo.observations

    # -- what a property demands of an answer (each returns what is wrong, if anything)

    @staticmethod
    def refusal_problems(sent: Sent, refused: Refused) -> list[str]:
        """An errorResponse with an accepted code, HTTP 403 (200 when suppressed, L-T7)."""
        answer = sent.answer
        problems = []
        if not answer.is_error:
            problems.append(f"expected {refused}, got {answer.root or 'no readable answer'}")
        elif not refused.accepts(sent.code):
            problems.append(f"expected {refused}, got code {answer.error_code()!r}")
        status = 200 if sent.suppress else 403
        if answer.status != status:
            problems.append(f"HTTP {answer.status} for an errorResponse (expected {status}) [L-T7]")
        return problems

    @staticmethod
    def success_problems(sent: Sent, root: str) -> list[str]:
        answer = sent.answer
        if answer.status == 200 and answer.root == root:
            return []
        got = f"errorResponse code {answer.error_code()!r}" if answer.is_error else answer.root
        return [f"expected HTTP 200 {root}, got HTTP {answer.status} {got or 'with no readable answer'}"]

    @staticmethod
    def format_problems(sent: Sent) -> list[str]:
        """The answer is well-formed XML or valid JSON of the right media type (L-T9, L-T10)."""
        return [f.line() for f in sent.answer.failures if f.clause in ("L-T9", "L-T10")]

    def unchanged_count(self, cons_id: str, before: int | None) -> list[str]:
        """Nothing was stored for the record: its interaction count is still ``before``."""
        if before is None:
            return []
        after = self.interaction_count(cons_id)
        if after == before:
            return []
        return [f"the record had {before} interactions before the refused call and {after} after it"]

    def check(self, problems: list[str], *sents: Sent) -> None:
        """Fail with every problem and, for each call, what was sent and what came back."""
        if problems:
            lines = [*problems]
            for sent in sents:
                lines.append(self.describe(sent))
            raise AssertionError(self.target.redactor.redact("\n".join(lines)))

    def describe(self, sent: Sent) -> str:
        """What was sent and what came back, secrets masked, for a failure message."""
        # One parameter a line: masking by name takes a value up to white space.
        shown = [
            f"        {name}={MASK if name in _SECRET else show(value)}"
            for name, value in sent.params.items()
            if name != "method"
        ]
        extras = ", ".join([sent.fmt] + (["suppress_response_codes=true"] if sent.suppress else []))
        lines = [
            f"  sent: POST {sent.api} {sent.method} as {sent.caller!r} ({extras})",
            *shown,
            f"  got:  {self._answer_line(sent.answer)}",
        ]
        return self.target.redactor.redact("\n".join(lines))

    @staticmethod
    def _answer_line(answer: Answer) -> str:
        head = f"HTTP {answer.status}"
        if answer.root is None:
            body = answer.http.body[:300].decode("utf-8", "replace")
            return f"{head}, no readable {answer.format or 'answer'}: {body!r}"
        if answer.is_error and isinstance(answer.tree, dict):
            code, message = answer.tree.get("code"), answer.tree.get("message")
            return f"{head} errorResponse code {code!r}: {show(message)}"
        tree = json.dumps(answer.tree, ensure_ascii=False)
        return f"{head} {answer.root} ({answer.format}): {tree[:600]}{'…' if len(tree) > 600 else ''}"

    # -- Kognitiv -------------------------------------------------------------------

    def record_interaction(self, fields: Mapping[str, str | None], version: str = "1.1") -> SentSoap:
        answer = call_kognitiv(self.target, fields, version)
        if answer.return_code == "0" and answer.interaction_id:
            self.created("kognitiv-interaction", answer.interaction_id)
        return SentSoap(fields, version, answer)

    def describe_soap(self, sent: SentSoap) -> str:
        shown = {
            name: (MASK if name == "SecurityToken" and value else show(value))
            for name, value in sent.fields.items()
        }
        a = sent.answer
        got = (
            "a SOAP Fault" if a.fault else f"ReturnCode {a.return_code!r}, InteractionId {a.interaction_id!r}"
        )
        lines = [
            f"  sent: RecordInteraction (SOAP {sent.version})",
            *(f"        {k}={v}" for k, v in shown.items()),
            f"  got:  HTTP {a.status}, {got}",
        ]
        lines += [f"        [{f.clause}] {f.where}: {f.message}" for f in a.failures]
        return self.target.redactor.redact("\n".join(lines))

