"""``conformance selftest``: the suite checked against deliberately broken references.

A conformance suite that passes a broken target is worse than none.  The reference
server carries named faults (:mod:`conformance.reference.fault`), each one mistake a
real implementation makes, breaking one clause.  The selftest runs the suite

* once against the clean reference, which must pass (no failed, no errored check), and
  once more with a strict profile over the clauses of strict-only faults, if any, and
* once per fault, which must fail: at least one failed check "kills" the fault.

The kill rate is killed / total; a surviving fault (or a clean run that does not pass)
makes the selftest exit 1.

Every run is its own pytest process (``python -m pytest --target PROFILE --events
FILE``) against its own embedded reference, so faults never leak into each other and
the judgement comes from the same event stream a user's run writes.  For speed a
fault's first run is restricted to its clause (``--clause``, over the case files that
name it); only if it survives that does the full suite run.  Both are reported, so a
fault caught only by some other clause's cases is visible as such.  Runs go ``-n`` at
a time in parallel subprocesses.

This module sits beside both halves: it reads the fault registry (plain data) and the
event stream (JSON lines); it starts the reference only through the pytest plugin.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.reference.fault import CONTROLS, FAULTS, Fault, lookup

#: A run that takes longer than this is stopped and counted as not having run: a
#: fault that hangs the reference is not "caught" by a timeout, it is a broken run.
RUN_TIMEOUT_S = 900.0
#: How many failed check ids the table shows per fault (the JSON file has them all).
SHOWN_CASES = 2


@dataclass(frozen=True)
class FailedCheck:
    id: str
    failed_clauses: tuple[str, ...]


@dataclass
class Run:
    """One pytest process and what its event stream says."""

    stage: str  # "clean", "clean-strict", "clause" or "full"
    seconds: float = 0.0
    exit_status: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    failed: list[FailedCheck] = field(default_factory=list)
    errored: list[str] = field(default_factory=list)
    #: Why the run tells us nothing (no events, a timeout, a crash), else None.
    problem: str | None = None

    @property
    def checks(self) -> int:
        return sum(self.counts.values())

    @property
    def passed(self) -> bool:
        """What a clean run must be: finished, something checked, nothing failed or errored."""
        finished = self.problem is None and self.exit_status == 0
        return finished and not (self.failed or self.errored) and self.checks > 0

    def as_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "seconds": round(self.seconds, 2),
            "exit_status": self.exit_status,
            "counts": self.counts,
            "failed": [{"id": f.id, "failed_clauses": list(f.failed_clauses)} for f in self.failed],
            "errored": self.errored,
            "problem": self.problem,
        }


@dataclass
class Outcome:
    """A fault and the runs that judged it."""

    fault: Fault
    runs: list[Run] = field(default_factory=list)

    @property
    def killed(self) -> bool:
        return any(run.failed for run in self.runs)

    @property
    def killed_at(self) -> str | None:
        return next((run.stage for run in self.runs if run.failed), None)

    @property
    def seconds(self) -> float:
        return sum(run.seconds for run in self.runs)

    def caught_clauses(self) -> list[str]:
        found = {c for run in self.runs for f in run.failed for c in f.failed_clauses}
        return sorted(found, key=_clause_order)

    def caught_by(self) -> list[str]:
        return [f.id for run in self.runs for f in run.failed]

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.fault.name,
            "clause": self.fault.clause,
            "mistake": self.fault.mistake,
            "killed": self.killed,
            "killed_at": self.killed_at,
            "caught_clauses": self.caught_clauses(),
            "caught_by": self.caught_by(),
            "seconds": round(self.seconds, 2),
            "runs": [run.as_json() for run in self.runs],
        }


@dataclass
class Report:
    #: The clean reference: the full suite, then (with strict faults) their clauses strictly.
    cleans: list[Run]
    outcomes: list[Outcome]
    seconds: float

    @property
    def clean_passed(self) -> bool:
        return all(run.passed for run in self.cleans)

    @property
    def killed(self) -> int:
        return sum(1 for o in self.outcomes if o.killed)

    @property
    def kill_rate(self) -> float:
        return self.killed / len(self.outcomes) if self.outcomes else 1.0

    @property
    def ok(self) -> bool:
        return self.clean_passed and self.killed == len(self.outcomes)

    def as_json(self) -> dict[str, Any]:
        return {
            "clean": {**self.cleans[0].as_json(), "passed": self.clean_passed},
            "clean_runs": [{**run.as_json(), "passed": run.passed} for run in self.cleans],
            "faults": [o.as_json() for o in self.outcomes],
            "killed": self.killed,
            "total": len(self.outcomes),
            "kill_rate": round(self.kill_rate, 4),
            "seconds": round(self.seconds, 2),
            "ok": self.ok,
        }


def _clause_order(clause: str) -> tuple[str, int]:
    match = re.fullmatch(r"([A-Z]-[A-Z]+)(\d+)", clause)
    return (match.group(1), int(match.group(2))) if match else (clause, 0)


# ---- selecting faults ----


def select(names: Sequence[str]) -> list[Fault]:
    """The named faults (controls included when named), or every fault but the controls.

    An unknown name raises :class:`~conformance.reference.fault.UnknownFaultError`.
    """
    if not names:
        return list(FAULTS)
    seen: dict[str, Fault] = {}
    for name in names:
        fault = lookup(name)
        seen.setdefault(fault.name, fault)
    return list(seen.values())


def registry_lines() -> list[str]:
    width = max(len(f.name) for f in FAULTS + CONTROLS)
    return [f"{f.name:{width}}  {f.clause or '-':6}  {f.mistake}" for f in FAULTS + CONTROLS]


# ---- one run ----


class Runner:
    """Starts pytest processes and remembers them, so an interrupt can stop them all."""

    def __init__(self, base_profile: Path, cases: Path, workdir: Path) -> None:
        import yaml

        self.cases = cases
        self.workdir = workdir
        self.base = yaml.safe_load(base_profile.read_text(encoding="utf-8"))
        self._lock = threading.Lock()
        self._running: dict[int, subprocess.Popen[bytes]] = {}
        self._stopping = False

    def profile_for(self, label: str, faults: Iterable[str], strict: bool) -> Path:
        import yaml

        data = dict(self.base)
        data["name"] = f"{data.get('name', 'reference')}.{label}"
        # The plugin starts this reference itself, seeded from this very file.
        data["embedded"] = True
        data["faults"] = list(faults)
        if strict:
            data["strict"] = True
        path = self.workdir / f"{label}.profile.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    def files_naming(self, clause: str) -> list[Path]:
        """The case files that name ``clause`` (only they can hold a check bearing on it).

        A textual match is enough and cheap: every clause a check bears on is written
        in its file, and a file that merely mentions the clause costs only collection.
        """
        pattern = re.compile(rf"(?<![\w-]){re.escape(clause)}(?!\d)")
        files = []
        for path in sorted(self.cases.rglob("*")):
            case_file = path.suffix in (".yaml", ".yml")
            property_file = path.suffix == ".py" and path.name.startswith("test")
            text = path.read_text(encoding="utf-8", errors="replace") if case_file or property_file else ""
            if pattern.search(text):
                files.append(path)
        return files

    def run(
        self, label: str, stage: str, faults: Sequence[str], clauses: Sequence[str] = (), strict: bool = False
    ) -> Run:
        """One pytest process: the full suite, or only checks bearing on ``clauses``."""
        profile = self.profile_for(label, faults, strict)
        events = self.workdir / f"{label}.{stage}.events.jsonl"
        events.unlink(missing_ok=True)
        targets = [str(self.cases)]
        if clauses:
            targets = sorted({str(p) for clause in clauses for p in self.files_naming(clause)})
        result = Run(stage)
        if not targets:
            result.problem = f"no case file names {', '.join(clauses)}"
            return result
        command = [
            sys.executable, "-m", "pytest",
            "--target", str(profile), "--events", str(events),
            "-q", "-p", "no:cacheprovider",
            # The project's own pytest settings (testpaths, addopts) are not this run's;
            # the cases' parent as rootdir keeps check ids "cases/<file>::<check>".
            "--rootdir", str(self.cases.parent), "-c", os.devnull,
            # Plugin auto-loading is off (below), so the suite's plugin is named here.
            "-p", "conformance.plugin",
            *targets,
        ]  # fmt: skip
        for clause in clauses:
            command += ["--clause", clause]
        env = dict(os.environ)
        # Third-party pytest plugins installed in the environment (benchmark, trio, ...)
        # cost about a second of start-up per process and play no part in a run of the
        # bundled cases; with a hundred-odd runs that second dominates.
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        started = time.monotonic()
        result.exit_status, result.problem = self._execute(command, env)
        result.seconds = time.monotonic() - started
        _read_events(events, result)
        return result

    def _execute(self, command: list[str], env: dict[str, str]) -> tuple[int | None, str | None]:
        with self._lock:
            if self._stopping:
                return None, "interrupted"
            process = subprocess.Popen(
                command, cwd=self.workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
            self._running[process.pid] = process
        try:
            output, _ = process.communicate(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            return None, f"timed out after {RUN_TIMEOUT_S:.0f} s"
        finally:
            with self._lock:
                self._running.pop(process.pid, None)
        if process.returncode not in (0, 1):
            # 0 passed, 1 checks failed; anything else (usage, internal error, nothing
            # collected) means the run itself is in doubt: keep its last words.
            tail = output.decode("utf-8", "replace").strip().splitlines()[-3:]
            return process.returncode, " | ".join(tail) or f"pytest exit status {process.returncode}"
        return process.returncode, None

    def stop(self) -> None:
        """Stop every pytest process this runner started (by its own handle)."""
        with self._lock:
            self._stopping = True
            running = list(self._running.values())
        for process in running:
            process.terminate()


def _read_events(path: Path, run: Run) -> None:
    if not path.exists():
        run.problem = run.problem or "no events were written"
        return
    counts = {"passed": 0, "failed": 0, "errored": 0, "skipped": 0}
    footer = False
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut off by a crash; the footer check below says so
        kind = event.get("event")
        if kind == "check":
            verdict = event.get("verdict", "errored")
            counts[verdict] = counts.get(verdict, 0) + 1
            if verdict == "failed":
                clauses = event.get("failed_clauses") or event.get("clauses") or []
                run.failed.append(FailedCheck(str(event.get("id", "?")), tuple(clauses)))
            elif verdict == "errored":
                run.errored.append(str(event.get("id", "?")))
        elif kind == "collect-error":
            counts["errored"] += 1
            run.errored.append(f"{event.get('file', '?')}: {event.get('message', '')}")
        elif kind == "footer":
            footer = True
    run.counts = counts
    if not footer and run.problem is None:
        run.problem = "the run did not finish (no footer event)"


# ---- the whole selftest ----


def judge(runner: Runner, fault: Fault) -> Outcome:
    """Run the fault's clause first; the full suite only if the fault survives that."""
    outcome = Outcome(fault)
    if fault.clause is not None:
        outcome.runs.append(runner.run(fault.name, "clause", [fault.name], [fault.clause], fault.strict))
    if not outcome.killed:
        outcome.runs.append(runner.run(fault.name, "full", [fault.name], strict=fault.strict))
    return outcome


def selftest(
    faults: Sequence[Fault],
    *,
    workers: int = 2,
    base_profile: Path | None = None,
    cases: Path | None = None,
    workdir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Run the clean reference and every fault; ``progress`` hears one line per result."""
    from conformance.profile import bundled_profile_path
    from conformance.resources import cases_dir

    started = time.monotonic()
    say = progress or (lambda line: None)
    with tempfile.TemporaryDirectory(prefix="conformance-selftest-") as tmp:
        runner = Runner(base_profile or bundled_profile_path(), cases or cases_dir(), workdir or Path(tmp))
        pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="selftest")
        try:
            clean_futures = [pool.submit(runner.run, "clean", "clean", [])]
            # Strict-only clauses are skipped by the default profile: the clean reference
            # must pass them strictly too, or a strict fault's "kill" would prove nothing.
            strict_clauses = sorted({f.clause for f in faults if f.strict and f.clause})
            if strict_clauses:
                clean_futures.append(
                    pool.submit(runner.run, "clean-strict", "clean-strict", [], strict_clauses, True)
                )
            futures = [pool.submit(judge, runner, fault) for fault in faults]
            cleans = [future.result() for future in clean_futures]
            for clean in cleans:
                say(_clean_line(clean))
            say(HEADER)
            outcomes = []
            for future in futures:
                outcome = future.result()
                say(_row(outcome))
                outcomes.append(outcome)
        except BaseException:
            runner.stop()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
    return Report(cleans, outcomes, time.monotonic() - started)


# ---- what is printed ----

HEADER = f"{'fault':34} {'clause':6} {'result':17} {'time':>6}  caught by"


def _clean_line(run: Run) -> str:
    counts = ", ".join(f"{n} {v}" for v, n in run.counts.items() if n)
    what = "clean reference" if run.stage == "clean" else "clean reference, strict, strict-only clauses"
    if run.passed:
        return f"{what}: passed ({counts}) in {run.seconds:.1f} s"
    why = run.problem or f"{len(run.failed)} failed, {len(run.errored)} errored"
    shown = "; ".join(f.id for f in run.failed[:SHOWN_CASES]) or "; ".join(run.errored[:SHOWN_CASES])
    line = f"{what}: FAILED ({why}; {counts}) in {run.seconds:.1f} s"
    return f"{line}: {shown}" if shown else line


def _row(outcome: Outcome) -> str:
    fault = outcome.fault
    if outcome.killed:
        result = f"killed ({outcome.killed_at})"
        clauses = ", ".join(outcome.caught_clauses())
        cases = outcome.caught_by()
        shown = "; ".join(_short(c) for c in cases[:SHOWN_CASES])
        more = f" (+{len(cases) - SHOWN_CASES} more)" if len(cases) > SHOWN_CASES else ""
        caught = f"{clauses}: {shown}{more}"
    else:
        problems = list(dict.fromkeys(run.problem for run in outcome.runs if run.problem))
        result = "SURVIVED"
        checked = sum(run.checks for run in outcome.runs)
        caught = "; ".join(problems) if problems else f"no failed check in {checked} checks"
    return f"{fault.name:34} {fault.clause or '-':6} {result:17} {outcome.seconds:5.1f}s  {caught}"


def _short(check_id: str) -> str:
    """``cases/x.yaml::case / test [xml]`` as ``x.yaml: test [xml]``, clipped for a table."""
    file, _, name = check_id.partition("::")
    text = f"{Path(file).name}: {name.rsplit(' / ', 1)[-1]}" if name else check_id
    return text if len(text) <= 80 else text[:77] + "..."


def summary_lines(report: Report) -> list[str]:
    """What follows the streamed rows: the kill rate, survivors and the verdict."""
    lines = [""]
    by_stage = {"clause": 0, "full": 0}
    for outcome in report.outcomes:
        if outcome.killed_at in by_stage:
            by_stage[outcome.killed_at] += 1
    lines.append(
        f"kill rate: {report.killed}/{len(report.outcomes)} ({report.kill_rate:.1%}); "
        f"killed by their clause's cases: {by_stage['clause']}, only by the full suite: {by_stage['full']}"
    )
    lines += [_clean_line(run) for run in report.cleans if not run.passed]
    survivors = [o.fault.name for o in report.outcomes if not o.killed]
    if survivors:
        lines.append(f"surviving: {', '.join(survivors)}")
    lines.append(f"selftest: {'OK' if report.ok else 'FAILED'} in {report.seconds:.0f} s")
    return lines


def write_json(path: Path, report: Report) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
