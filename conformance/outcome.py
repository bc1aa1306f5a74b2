"""Verdicts and the structured results a check produces.

Four verdicts, kept apart all the way to the summary (as Bowtie does): *passed*;
*failed*, the target broke a clause; *errored*, the suite, the case or the connection
broke, so nothing is known about the clause; *skipped*, not run, with a reason
(including "not observable" when the profile lacks the observation a clause needs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERRORED = "errored"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Failure:
    """One broken expectation: which clause, where in the answer, and what."""

    clause: str
    where: str
    message: str
    #: The answer could not be read at all (not well-formed, not UTF-8, not JSON), as
    #: opposed to read and found wrong; L-T6 asserts only that this does not happen.
    malformed: bool = False

    def line(self, own: tuple[str, ...] = ()) -> str:
        """``[clause] where: message``; a failure with no clause of its own names ``own``."""
        clause = self.clause or ", ".join(own)
        return f"[{clause}] {self.where}: {self.message}" if self.where else f"[{clause}] {self.message}"


@dataclass
class Exchange:
    """One request and its answer as sent and received (secrets redacted on output)."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""
    elapsed_ms: float = 0.0

    def label(self) -> str:
        return f"{self.method} {self.url}"


class CheckEnd(Exception):
    """How a check ends other than passing; ``run`` carries what it did so far."""

    run: Any = None


class CheckFailed(CheckEnd):
    """The target broke one or more clauses."""

    def __init__(self, headline: str, failures: list[Failure]) -> None:
        self.headline = headline
        self.failures = failures
        super().__init__(headline)


class CheckErrored(CheckEnd):
    """The suite or the connection broke: nothing is known about the clause."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class CheckSkipped(CheckEnd):
    """The check cannot run against this target; ``reason`` says why."""

    def __init__(self, reason: str, *, policy: bool = False, unobservable: bool = False) -> None:
        self.reason = reason
        self.policy = policy
        self.unobservable = unobservable
        super().__init__(reason)
