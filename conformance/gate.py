"""The CI gate: one exit code and a short summary from a run's events and waivers.

Exit codes (the same as ``conformance run``'s):

* 0: the target conforms: every failed check is covered by an unexpired waiver, no
  check errored, the run finished and something was checked;
* 1: it does not conform (a failure not waived, including one whose waiver expired),
  or a case file could not be loaded;
* 3: nothing failed, but the run is incomplete: checks errored, the run did not
  finish, or nothing was checked.

(2, usage and profile errors, is the command's own; the gate never returns it.)
A waiver that names no failure of this run is *stale*: a warning only, expired or
not, because a fixed failure should not break the build it was waived for.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.summary import RunSummary

EXIT_CONFORMS, EXIT_FAILED, EXIT_ERRORED = 0, 1, 3

_SHOWN = 10  # failures listed by name; the report has the rest


@dataclass(frozen=True)
class Decision:
    code: int
    lines: tuple[str, ...]

    def text(self) -> str:
        return "\n".join(self.lines)


def decide(summary: RunSummary) -> Decision:
    conclusion = summary.conclusion
    if conclusion.state == "does not conform" or conclusion.broken_cases:
        code = EXIT_FAILED
    elif conclusion.state == "incomplete":
        code = EXIT_ERRORED
    else:
        code = EXIT_CONFORMS
    counts = summary.counts
    waived = f" ({counts['waived']} waived)" if counts["waived"] else ""
    lines = [
        f"conformance gate: {conclusion.headline}: {counts['passed']} passed, "
        f"{counts['failed']} failed{waived}, {counts['errored']} errored, {counts['skipped']} skipped",
    ]
    lines += [f"  {reason}" for reason in conclusion.reasons]
    failing = [c for c in summary.checks if c.verdict == "failed" and not summary.is_waived(c)]
    for check in failing[:_SHOWN]:
        clauses = ", ".join(check.failed_clauses) or "no clause"
        lines.append(f"  failed [{clauses}] {check.id}")
    if len(failing) > _SHOWN:
        lines.append(f"  ... and {len(failing) - _SHOWN} more failures (see the report)")
    for check in [c for c in summary.checks if c.verdict == "errored"][:_SHOWN]:
        lines.append(f"  errored {check.id}: {check.reason}")
    for error in summary.collect_errors[:_SHOWN]:
        lines.append(f"  broken case file {error['file']}: {error['message']}")
    for use in summary.waiver_uses:
        waiver = use.waiver
        if use.expired and use.matches:
            lines.append(f"  {waiver.where}: waiver of {waiver.subject} expired on "
                         f"{waiver.expires.isoformat()} (owner {waiver.owner}); "
                         f"{len(use.matches)} failure(s) no longer waived")
        elif use.stale:
            state = f"expired on {waiver.expires.isoformat()}, " if use.expired else ""
            lines.append(f"  warning: {waiver.where}: stale waiver of {waiver.subject} "
                         f"({state}matches no failure; remove it)")
    lines.append(f"exit {code}")
    return Decision(code, tuple(lines))
