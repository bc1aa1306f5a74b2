"""A state machine: the target and the in-memory model, driven by the same random calls.

Rules are the API's verbs (create and update constituents, log and get interactions as
an administrator and in a constituent session, log in, log out); bundles hold what
they produced.  Every rule sends its call to the target, asks the model
(:mod:`conformance.model`) what the contract makes of it, and fails at once when the
two disagree, so a failure is the shortest sequence of calls that leads to one: records
found by every identifier, interactions read back as logged, a logged-out token
refused (5).  Rules that write run only where the profile allows writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    multiple,
    precondition,
    rule,
)

from conformance.client import NOBODY, NOBODY_CONS_ID, Caller, Client, Sent
from conformance.model import (
    IDENTIFIERS,
    Accepted,
    Codes,
    InteractionInput,
    Record,
    Sessions,
    SessionState,
    Stage,
    StoredInteraction,
    Text,
)
from conformance.strategy import BODY_LIMIT, SUBJECT_LIMIT, texts_within
from conformance.target import Target

SUBJECTS = texts_within(SUBJECT_LIMIT)
BODIES = st.one_of(st.none(), texts_within(BODY_LIMIT, minimum=0))
BY = st.sampled_from(IDENTIFIERS)


class ApiModel(RuleBasedStateMachine):
    """The Luminate API (Server API administrator, Client API constituent sessions)."""

    #: Set by the module's fixture: the machine is built by hypothesis without arguments.
    target: ClassVar[Target | None] = None
    codes: ClassVar[Codes | None] = None
    label: ClassVar[str] = "TestApiModel"

    constituents = Bundle("constituents")
    interactions = Bundle("interactions")
    sessions = Bundle("sessions")
    closed_sessions = Bundle("closed_sessions")

    def __init__(self) -> None:
        super().__init__()
        assert self.target is not None and self.codes is not None
        lo = self.target.profile.luminate
        assert lo is not None
        self.lo = lo
        self.client = Client(self.target, self.label)
        self.directory = self.client.directory()
        self.sessions_model = Sessions()
        self.writes = self.target.profile.writes_allowed and self.target.host_allowed()
        self.me: Record | None = None
        if lo.constituent is not None:
            self.me = Record("constituent", lo.constituent.cons_id, None, lo.constituent.primary_email)
            self.directory.add(self.me)

    # -- the start: a session and a record, so every run can use both from its first step

    @initialize(target=sessions)
    def first_session(self) -> Caller:
        if not self.writes and self.me is None:
            pytest.skip("writes are forbidden and the profile names no constituent login: no rule can run")
        return self.login() if self.me is not None else multiple()  # type: ignore[return-value]

    @initialize(target=constituents)
    def first_constituent(self) -> Record:
        return self.create_constituent() if self.writes else multiple()  # type: ignore[return-value]

    # -- constituents ---------------------------------------------------------------

    @precondition(lambda self: self.writes)
    @rule(target=constituents)
    def create_constituent(self) -> Record:
        params = {"primary_email": self.client.fresh_email(), "member_id": self.client.fresh_member_id()}
        sent = self.client.call("createOrUpdate", params)
        cons_id = sent.text("cons_id") or ""
        problems = self.client.success_problems(sent, "createOrUpdateConsResponse")
        if not problems and self.directory.get(cons_id) is not None:
            problems.append(f"cons_id {cons_id!r} is an existing record; a new one was expected [L-C5]")
        self.client.check(problems, sent)
        self.client.created("constituent", cons_id, params["primary_email"])
        return self.directory.apply_create_or_update(params, Accepted(None), cons_id)

    @precondition(lambda self: self.writes)
    @rule(constituent=constituents, by=BY)
    def update_email(self, constituent: Record, by: str) -> None:
        """Locate the record by ``by`` and give it a new primary email (L-C1, L-C3, L-C6, L-C10)."""
        record = self.directory.get(constituent.cons_id)
        assert record is not None
        if by == "primary_email":
            # Found by its own address in other letter case, which it then takes (L-C17).
            params = {"primary_email": (record.email or "").swapcase()}
        else:
            params = {by: str(getattr(record, by)), "primary_email": self.client.fresh_email()}
        assert self.codes is not None
        predicted = self.directory.locate_for_update(params, self.lo.settings.unique_email, self.codes)
        assert predicted == Accepted(record), predicted  # the model's own consistency
        sent = self.client.call("createOrUpdate", params)
        problems = self.client.success_problems(sent, "createOrUpdateConsResponse")
        if not problems and sent.text("cons_id") != record.cons_id:
            problems.append(f"updated cons_id {sent.text('cons_id')!r}, not {record!r} named by {by}")
        self.client.check(problems, sent)
        self.directory.apply_create_or_update(params, predicted, record.cons_id)

    # -- interactions ---------------------------------------------------------------

    @precondition(lambda self: self.writes)
    @rule(target=interactions, constituent=constituents, by=BY, subject=SUBJECTS, body=BODIES)
    def log_interaction(
        self, constituent: Record, by: str, subject: Text, body: Text | None
    ) -> StoredInteraction:
        record = self.directory.get(constituent.cons_id)
        assert record is not None
        given = InteractionInput(subject=subject, body=body)
        sent = self.client.call("logInteraction", {**self._named(record, by), **given.params()})
        return self._logged(sent, record, given, self.client.admin_account_id)

    @precondition(lambda self: self.writes)
    @rule(target=interactions, session=sessions, other=constituents, subject=SUBJECTS)
    def log_own_interaction(self, session: Caller, other: Record, subject: Text) -> StoredInteraction:
        """In a session the call acts on the caller's record; another's cons_id is ignored (L-A5)."""
        assert self.me is not None
        given = InteractionInput(subject=subject)
        params = {"cons_id": other.cons_id, **given.params()}
        sent = self.client.call("logInteraction", params, caller=session)
        if not self._authenticated(session, sent):
            return multiple()  # type: ignore[return-value]
        return self._logged(sent, self.me, given, self.me.cons_id)

    @rule(interaction=interactions, by=BY)
    def get_interaction(self, interaction: StoredInteraction, by: str) -> None:
        record = self.directory.get(interaction.cons_id)
        assert record is not None
        sent = self.client.call(
            "getInteraction", {**self._named(record, by), "interaction_id": interaction.interaction_id}
        )
        self._read_back(sent, interaction)

    @rule(session=sessions, interaction=interactions)
    def get_interaction_in_session(self, session: Caller, interaction: StoredInteraction) -> None:
        """Own interactions read back in a session; another's is 27 (L-A5)."""
        assert self.me is not None and self.codes is not None
        sent = self.client.call(
            "getInteraction", {"interaction_id": interaction.interaction_id}, caller=session
        )
        if not self._authenticated(session, sent):
            return
        if interaction.cons_id == self.me.cons_id:
            self._read_back(sent, interaction)
            return
        fault = self.codes.fault("L-A5", Stage.OPERATION, f"{interaction!r} belongs to another constituent")
        self.client.check(self.client.refusal_problems(sent, self.codes.refused(fault)), sent)

    # -- sessions -------------------------------------------------------------------

    @precondition(lambda self: self.me is not None)
    @rule(target=sessions)
    def login(self) -> Caller:
        assert self.me is not None
        sent = self.client.login()
        token = sent.text("token")
        problems = self.client.success_problems(sent, "loginResponse")
        if not problems and sent.text("cons_id") != self.me.cons_id:
            problems.append(f"login answered cons_id {sent.text('cons_id')!r}, not {self.me!r} [L-A2]")
        if not problems and not token:
            problems.append("login answered no token [L-A2]")
        self.client.check(problems, sent)
        assert token is not None
        self.sessions_model.open(token, self.me.cons_id)
        return Caller("session", token)

    @rule(target=closed_sessions, session=consumes(sessions))
    def logout(self, session: Caller) -> Caller:
        sent = self.client.call("logout", {"auth": session.token or ""}, caller=NOBODY)
        problems = self.client.success_problems(sent, "loginResponse")
        if not problems and sent.text("message") != "User logged out successfully.":
            problems.append(f"logout message {sent.text('message')!r} [L-A4]")
        self.client.check(problems, sent)
        self.sessions_model.close(session.token or "")
        # Checked at once, not only when use_closed_session happens to be drawn: a token
        # that outlives its logout is the mistake this rule exists to catch (L-A4).
        self.use_closed_session(session)
        return session

    @rule(session=closed_sessions)
    def use_closed_session(self, session: Caller) -> None:
        """A logged-out token authenticates no more (L-A4).  The call would change nothing
        even if it did: an interaction id of nobody is refused (27) after authentication."""
        sent = self.client.call("getInteraction", {"interaction_id": NOBODY_CONS_ID}, caller=session)
        self._authenticated(session, sent)

    # -- comparing the target with the model ------------------------------------------

    @staticmethod
    def _named(record: Record, by: str) -> dict[str, str]:
        """The record's identifier ``by``, or its cons_id when the model does not know that one."""
        value = getattr(record, "email" if by == "primary_email" else by)
        return {by: value} if value else {"cons_id": record.cons_id}

    def _authenticated(self, session: Caller, sent: Sent) -> bool:
        """Whether the session authenticated the call; a revoked one must not (L-A4)."""
        assert self.codes is not None
        token = session.token or ""
        state = self.sessions_model.state.get(token, SessionState.REVOKED)
        refused = self.codes.refused(self.codes.fault("L-A4", Stage.AUTHENTICATION, "a logged-out token"))
        authenticated = not (sent.answer.is_error and refused.accepts(sent.code))
        self.sessions_model.settle(token, authenticated)
        if state is SessionState.REVOKED:
            self.client.check(self.client.refusal_problems(sent, refused), sent)
            return False
        if state is SessionState.LIVE and not authenticated:
            self.client.check([f"a live session was refused with code {sent.code} [L-A3]"], sent)
        return authenticated

    def _logged(
        self, sent: Sent, record: Record, given: InteractionInput, created_by: str
    ) -> StoredInteraction:
        iid = sent.text("interaction_id") or ""
        problems = self.client.success_problems(sent, "updateConsResponse")
        if not problems and sent.text("cons_id") != record.cons_id:
            problems.append(f"logged for cons_id {sent.text('cons_id')!r}, not {record!r}")
        if not problems and not iid:
            problems.append("no interaction_id in the answer [L-L8]")
        self.client.check(problems, sent)
        self.client.created("interaction", iid, f"cons_id {record.cons_id}")
        return StoredInteraction.of(iid, record.cons_id, created_by, given)

    def _read_back(self, sent: Sent, interaction: StoredInteraction) -> None:
        problems = self.client.success_problems(sent, "getInteractionResponse")
        if not problems:
            problems = [f"read back: {d}" for d in interaction.differences(sent.answer.tree)]
        self.client.check(problems, sent)


@pytest.fixture(autouse=True)
def _machine_target(luminate: Target, codes: Codes, request: pytest.FixtureRequest) -> Iterator[None]:
    # hypothesis builds ApiModel() itself, without arguments: hand it the run's target.
    ApiModel.target, ApiModel.codes, ApiModel.label = luminate, codes, request.node.nodeid
    yield
    ApiModel.target = ApiModel.codes = None


TestApiModel = pytest.mark.clauses("L-A2", "L-A4", "L-A5", "L-C1", "L-C3", "L-C6", "L-C10", "L-K2", "L-L9")(
    ApiModel.TestCase
)
