"""The pytest plugin: YAML cases as pytest items, run against a target.

Registered as a ``pytest11`` entry point, so it is imported in *every* pytest run:
importing it must stay cheap (no zeep, xmlschema, hypothesis, uvicorn here), and it
does nothing unless asked (``--target``, ``--conformance`` or ``--cases``).
Options are read once into a frozen :class:`Settings` in ``config.stash``; the target
(and the embedded reference, when no target is given) is a plugin object started on
first use, so collection alone never starts a server and each xdist worker starts
its own.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conformance.plan import Check
    from conformance.target import Target


@dataclass(frozen=True)
class Settings:
    target: str | None
    case_roots: tuple[Path, ...]
    clauses: tuple[str, ...]
    events: Path | None
    budget: str = "quick"
    #: The run's hypothesis seed (``--hypothesis-seed``, or one drawn at start-up).
    seed: int | str | None = None


#: Hypothesis budgets: ``quick`` for CI (a handful of examples per property), ``thorough``
#: for nightly runs.  Both: no deadline (a remote target's latency is not the property
#: under test), random data each run (the seed is recorded instead), no example
#: database (a run is determined by its seed alone), and the ``@reproduce_failure``
#: blob printed with every falsifying example (see ``_load_budget``).
BUDGETS: dict[str, dict[str, int]] = {
    "quick": {"max_examples": 10, "stateful_step_count": 10},
    "thorough": {"max_examples": 200, "stateful_step_count": 40},
}


#: Methods that get a pytest marker (``-m logInteraction``); cases also send unknown ones.
METHODS = (
    "logInteraction",
    "getInteraction",
    "createOrUpdate",
    "login",
    "logout",
    "getUser",
    "getUserInteractions",
    "getUserGroups",
    "RecordInteraction",
)

settings_key = pytest.StashKey[Settings]()
plugin_key = pytest.StashKey["Conformance"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "conformance suite")
    group.addoption(
        "--target",
        metavar="PROFILE",
        default=None,
        help="target profile (a YAML file, or 'reference'); default: the embedded reference",
    )
    group.addoption(
        "--conformance",
        action="store_true",
        default=False,
        help="run the bundled cases (implied by --target)",
    )
    group.addoption(
        "--cases",
        metavar="DIR",
        action="append",
        default=[],
        help="a directory or file of extra case files (repeatable)",
    )
    group.addoption(
        "--clause",
        metavar="ID",
        action="append",
        default=[],
        help="run only checks bearing on this clause (repeatable), e.g. --clause L-L2",
    )
    group.addoption(
        "--events", metavar="FILE", default=None, help="write the run's event stream (JSON lines) to FILE"
    )
    group.addoption(
        "--budget",
        choices=sorted(BUDGETS),
        default="quick",
        help="hypothesis budget of the properties: quick (CI, the default) or thorough (nightly)",
    )


@pytest.fixture(scope="session")
def conformance_target(pytestconfig: pytest.Config) -> Target:
    """The run's target (the embedded reference unless --target names one), for properties."""
    plugin = pytestconfig.stash.get(plugin_key, None)
    if plugin is None:
        pytest.skip("the conformance plugin is off: pass --conformance or --target PROFILE")
    return plugin.target()


# tryfirst: the seed must be in hypothesis's own option before its plugin reads it.
@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    target = config.getoption("--target")
    extra = tuple(Path(p).resolve() for p in config.getoption("--cases"))
    enabled = bool(target or config.getoption("--conformance") or extra)
    if not enabled:
        return
    from conformance.resources import cases_dir

    explicit = (
        [Path(a.split("::")[0]).resolve() for a in config.args]
        if (config.args_source == pytest.Config.ArgsSource.ARGS)
        else []
    )
    roots = (
        cases_dir().resolve(),
        *extra,
        *[p for p in explicit if p.is_dir() or p.suffix in (".yaml", ".yml")],
    )
    events = config.getoption("--events")
    budget = config.getoption("--budget")
    settings = Settings(
        target,
        roots,
        tuple(config.getoption("--clause")),
        Path(events) if events else None,
        budget,
        _hypothesis_seed(config),
    )
    config.stash[settings_key] = settings
    from conformance.catalogue import load_catalogue

    catalogue = load_catalogue()
    for clause in catalogue:
        config.addinivalue_line("markers", f"{marker_name(clause.id)}: {clause.id} {clause.title}")
    config.addinivalue_line("markers", "clauses(*ids): the contract clauses a property or test bears on")
    for wanted in settings.clauses:
        try:
            catalogue.get(wanted)
        except LookupError as exc:  # one line with a did-you-mean hint, not a traceback
            raise pytest.UsageError(str(exc).strip("'\"")) from None
    for method in METHODS:
        config.addinivalue_line("markers", f"{method}: checks of the {method} method")
    workerinput = getattr(config, "workerinput", None)
    plugin = Conformance(settings, frozenset(catalogue.ids()), workerinput)
    config.stash[plugin_key] = plugin
    config.pluginmanager.register(plugin, "conformance-target")
    # With no paths of their own (``pytest --target staging.yaml``) the user gets the
    # case roots; paths they name are kept, and YAML files among them count as cases.
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args[:] = [str(r) for r in roots]
    else:
        config.args.extend(str(r) for r in extra if str(r) not in config.args)


def marker_name(clause_id: str) -> str:
    return clause_id.replace("-", "_")


def _hypothesis_seed(config: pytest.Config) -> int | str | None:
    """The run's seed: ``--hypothesis-seed`` when given, else a new one put into that option.

    Going through hypothesis's own option means hypothesis applies it to every test, and
    pytest-xdist hands it to every worker with the other options, so one seed replays
    the whole run.  None when hypothesis's pytest plugin is disabled.
    """
    try:
        given = config.getoption("hypothesis_seed")
    except ValueError:
        return None
    if given is not None:
        try:
            return int(given)
        except ValueError:
            return str(given)  # hypothesis accepts any text as a seed, too
    import random

    seed = random.SystemRandom().randrange(2**31)
    config.option.hypothesis_seed = str(seed)
    return seed


def _load_budget(config: pytest.Config, budget: str) -> None:
    """Register both budgets as hypothesis profiles; load ours unless the user chose one."""
    from hypothesis import HealthCheck, Phase
    from hypothesis import settings as hypothesis_settings

    for name, sizes in BUDGETS.items():
        hypothesis_settings.register_profile(
            f"conformance-{name}",
            deadline=None,
            derandomize=False,
            database=None,
            print_blob=True,
            suppress_health_check=[HealthCheck.too_slow],
            # Without the explain phase: it re-runs a failing property many times over to
            # name code lines, which for properties means more requests, and its report
            # is about the suite's lines, not the target's.
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
            max_examples=sizes["max_examples"],
            stateful_step_count=sizes["stateful_step_count"],
        )
    try:
        chosen = config.getoption("hypothesis_profile")
    except ValueError:
        chosen = None
    if not chosen:
        hypothesis_settings.load_profile(f"conformance-{budget}")


def replay_command(config: pytest.Config, nodeid: str | None = None) -> str:
    """The one command that replays the run, or one property of it, with the run's seed."""
    import shlex

    settings = config.stash[settings_key]
    seed = f"--hypothesis-seed={settings.seed}"

    def without_seed(args: list[str]) -> list[str]:
        # A seed given before goes, in either form (``--hypothesis-seed=N`` or ``... N``).
        return [
            a
            for a, before in zip(args, [None, *args], strict=False)
            if not a.startswith("--hypothesis-seed") and before != "--hypothesis-seed"
        ]

    if nodeid is None:
        import sys

        program = Path(sys.argv[0])
        if program.name == "conformance" or program.parts[-2:] == ("conformance", "__main__.py"):
            # Started by ``conformance run``: replay with the same command, seed after ``--``.
            args = without_seed(sys.argv[1:])
            command = ["conformance"] if program.name == "conformance" else ["python", "-m", "conformance"]
            return shlex.join([*command, *args, *([] if "--" in args else ["--"]), seed])
        args = without_seed(list(config.invocation_params.args))
        return shlex.join(["python", "-m", "pytest", *args, seed])
    path, _, rest = nodeid.partition("::")
    test = str((config.rootpath / path).resolve()) + (f"::{rest}" if rest else "")
    target = settings.target
    if target is not None and Path(target).exists():
        target = str(Path(target).resolve())
    where = ["--target", target] if target else ["--conformance"]
    return shlex.join(["python", "-m", "pytest", test, *where, f"--budget={settings.budget}", seed])


class Conformance:
    """Holds the target for the whole session; starts the embedded reference lazily."""

    def __init__(
        self, settings: Settings, clause_ids: frozenset[str], workerinput: dict[str, Any] | None = None
    ) -> None:
        import uuid

        self.settings = settings
        self.clause_ids = clause_ids
        self.worker = workerinput is not None
        self._target: Target | None = None
        self._server: Any = None
        self._writer: Any = None
        self._errored: list[str] = []
        self._budget_loaded = False
        self._ledger_seen = 0
        # One run id for the whole run: xdist workers get the controller's.
        self.run_id: str = workerinput["conformance_run_id"] if workerinput else uuid.uuid4().hex[:10]
        # Workers split the profile's run-wide request budget and rate (see Target).
        self.worker_index = int(str(workerinput["workerid"]).removeprefix("gw")) if workerinput else 0
        self.workers = int(workerinput.get("workercount", 1)) if workerinput else 1
        self.profile = self._load_profile()

    def _load_profile(self) -> Any:
        from conformance.profile import bundled_profile_path, load_profile, resolve_secrets
        from conformance.yamlfile import DataFileError

        name = self.settings.target
        path = bundled_profile_path() if name is None else Path(name)
        if name is not None and not path.exists() and bundled_profile_path(name).exists():
            path = bundled_profile_path(name)  # a bundled profile by name, e.g. reference-strict
        try:
            profile = load_profile(path)
            # Unset variables are an error before any request, except for the embedded
            # reference, which invents its own secrets.
            self.embedded = profile.embedded
            self.secrets = resolve_secrets(profile, generate_missing=profile.embedded)
        except DataFileError as exc:
            raise pytest.UsageError(str(exc)) from None
        if profile.embedded and profile.faults:
            # Refuse a misspelt fault once, before anything runs (the reference would
            # otherwise fail to start at the first check, once per check).
            from conformance.reference.fault import UnknownFaultError, lookup

            for name in profile.faults:
                try:
                    lookup(name)
                except UnknownFaultError as exc:
                    raise pytest.UsageError(f"{path}: faults: {exc}") from None
        return profile

    def target(self) -> Target:
        if self._target is None:
            from conformance.target import Target

            profile = self.profile
            if self.embedded:
                from conformance.reference.server import ReferenceServer

                self._server = ReferenceServer(profile, self.secrets).start()
                profile = self._server.profile
            self._target = Target(
                profile, self.secrets, self.run_id, worker=self.worker_index, workers=self.workers
            )
        return self._target

    # -- the event stream (written by the controlling process only) ---------------

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self._redact_logs(session.config)
        if self.worker or self.settings.events is None:
            return
        from conformance import __version__
        from conformance.casefile import discover
        from conformance.events import EventWriter, file_hashes, now_iso
        from conformance.redaction import Redactor
        from conformance.resources import schema_dir

        self._writer = EventWriter(self.settings.events, Redactor(self.secrets.values()))
        profile = self.profile
        endpoints = {}
        if profile.luminate:
            endpoints["luminate"] = "(embedded)" if self.embedded else profile.luminate.site
        if profile.kognitiv:
            endpoints["kognitiv"] = "(embedded)" if self.embedded else profile.kognitiv.service
        cat = file_hashes([schema_dir() / "clauses.yaml"])
        self._writer.write(
            {
                "event": "header",
                "schema": 1,
                "suite_version": __version__,
                "run_id": self.run_id,
                "started": now_iso(),
                "profile": {
                    "name": profile.name,
                    "fingerprint": profile.fingerprint(),
                    "path": str(profile.path),
                    "strict": profile.strict,
                    "writes": profile.writes,
                    "embedded": self.embedded,
                    "endpoints": endpoints,
                },
                "case_files": file_hashes(discover(self.settings.case_roots)),
                "catalogue": next(iter(cat.values())),
                "seed": self.settings.seed,
                "budget": self.settings.budget,
                "argv": list(session.config.invocation_params.args),
            }
        )

    def _redact_logs(self, config: pytest.Config) -> None:
        """Every log record pytest shows or stores (live, per test, JUnit, file) is redacted.

        Done on pytest's own handlers, in every process (a worker's captured logs travel
        in its reports), so no logger anywhere needs to know about secrets.
        """
        from conformance.redaction import RedactingFilter

        logging_plugin = config.pluginmanager.get_plugin("logging-plugin")
        redacting = RedactingFilter(self.redact)
        for name in ("caplog_handler", "report_handler", "log_cli_handler", "log_file_handler"):
            handler = getattr(logging_plugin, name, None)
            if handler is not None:
                handler.addFilter(redacting)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """xdist: every worker stamps records with the controller's run id."""
        node.workerinput["conformance_run_id"] = self.run_id

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if ("verdict", "errored") in report.user_properties:
            self._errored.append(report.nodeid)
        if self._writer is None:
            return
        for name, value in report.user_properties:
            if name == "conformance_event":
                self._writer.write(json.loads(str(value)))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if self._writer is not None and report.failed:
            self._writer.write(
                {
                    "event": "collect-error",
                    "file": report.nodeid,
                    "message": str(report.longrepr).strip().splitlines()[-1],
                }
            )

    @pytest.hookimpl(trylast=True)  # after pytest's junitxml has written its file
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        xmlpath = getattr(session.config.option, "xmlpath", None)
        if xmlpath and self._errored and not self.worker:
            from conformance.junit import mark_errored

            mark_errored(Path(xmlpath), self._errored)
        if self._writer is None:
            return
        self._writer.close(int(exitstatus))
        self._writer = None

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        if self.worker:
            return
        self._summarise_errored(terminalreporter)
        self._summarise_seed(terminalreporter, config)
        self._summarise_ledger(terminalreporter, config)

    def _summarise_errored(self, terminalreporter: Any) -> None:
        """Errored checks with their reasons: pytest's own summary lists failures only."""
        errored = terminalreporter.stats.get("errored", [])
        if not errored:
            return
        terminalreporter.section(f"errored checks ({len(errored)}): nothing is known about their clauses")
        for report in errored[:50]:
            event: dict[str, Any] = next(
                (json.loads(str(v)) for k, v in report.user_properties if k == "conformance_event"), {}
            )
            reason = event.get("reason") or event.get("message") or "see the event file"
            terminalreporter.write_line(f"ERRORED {report.nodeid} - {reason}")
        if len(errored) > 50:
            terminalreporter.write_line(f"... and {len(errored) - 50} more (see the event file)")

    def _summarise_ledger(self, terminalreporter: Any, config: pytest.Config) -> None:
        """The run ledger: every record the run created or changed on the target.

        Read from the check events (xdist workers send them with their reports), so it
        is the same list as the event file's footer.  The run id is on every record the
        suite creates (email local part, member_id, source), which is how to find them.
        """
        ledger: list[dict[str, str]] = []
        checks = 0
        for kind in terminalreporter.stats.values():
            for report in kind:
                for name, value in getattr(report, "user_properties", ()):
                    if name == "conformance_event":
                        checks += 1
                        check = json.loads(str(value))
                        ledger += [{**c, "check": check["id"]} for c in check.get("created", [])]
        if not checks:
            return  # nothing ran (collection only, or no case at all)
        counts: dict[str, int] = {}
        for item in ledger:
            counts[item["kind"]] = counts.get(item["kind"], 0) + 1
        tally = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing"
        write = terminalreporter.write_line
        terminalreporter.section(f"run ledger: run {self.run_id} created or changed {len(ledger)} records")
        write(f"{tally} on {self.profile.name}; search the target for run id {self.run_id}")
        shown = ledger if config.option.verbose > 0 else ledger[:20]
        for item in shown:
            detail = f"  {item['detail']}" if item.get("detail") else ""
            write(f"  {item['kind']} {item['id']}{detail}  ({item['check']})")
        if len(shown) < len(ledger):
            more = len(ledger) - len(shown)
            write(f"  ... and {more} more: -v lists all; so does the event file's footer")

    def _summarise_seed(self, terminalreporter: Any, config: pytest.Config) -> None:
        """The seed and the command that replays the run, when any property ran."""
        if self.settings.seed is None:
            return
        reports = [
            r
            for kind in terminalreporter.stats.values()
            for r in kind
            if isinstance(r, pytest.TestReport) and r.nodeid.split("::")[0].endswith(".py")
        ]
        if not reports:
            return
        write = terminalreporter.write_line
        seed, budget = self.settings.seed, self.settings.budget
        write(f"conformance: hypothesis seed {seed} (budget {budget}); replay the run:")
        write(f"  {replay_command(config)}")
        failed = sorted({r.nodeid for r in reports if r.failed})
        for nodeid in failed:
            write(f"conformance: replay {nodeid.split('::', 1)[-1]} alone:")
            write(f"  {replay_command(config, nodeid)}")

    def redact(self, text: str) -> str:
        if self._target is not None:
            return self._target.redactor.redact(text)
        from conformance.redaction import Redactor

        return Redactor(self.secrets.values()).redact(text)

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        """``--clause`` selects properties (``@pytest.mark.clauses``) as it selects YAML checks."""
        wanted = set(self.settings.clauses)
        if not wanted:
            return
        keep: list[pytest.Item] = []
        drop: list[pytest.Item] = []
        for item in items:
            marker = None if isinstance(item, CaseItem) else item.get_closest_marker("clauses")
            unwanted = marker is not None and not wanted & set(marker.args)
            (drop if unwanted else keep).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
        if file_path.suffix == ".py" and not self._budget_loaded:
            # Hypothesis costs about a second to import: load the budget only when a
            # property module is about to be imported (its @settings copy the default).
            _load_budget(parent.config, self.settings.budget)
            self._budget_loaded = True
        if file_path.suffix not in (".yaml", ".yml"):
            return None
        resolved = file_path.resolve()
        if not any(resolved == r or r in resolved.parents for r in self.settings.case_roots):
            return None
        return CaseFile.from_parent(parent, path=file_path)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        self._annotate(item, call, report)
        return report

    def _annotate(self, item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
        if call.when != "call" and not (call.when == "setup" and report.skipped):
            return
        if isinstance(item, CaseItem):
            event = item.event(report, self.target_redactor().with_values(item.run_secrets))
        else:
            marker = item.get_closest_marker("clauses")
            if marker is None:
                return
            from conformance.events import property_event
            from conformance.outcome import CheckErrored

            # A property ending in CheckErrored (connection, budget, a setup call) is
            # errored, not failed, as a YAML check would be.
            excinfo = call.excinfo
            if call.when == "call" and excinfo is not None and excinfo.errisinstance(CheckErrored):
                report.conformance_errored = True  # type: ignore[attr-defined]
            event = property_event(item, report, marker.args, self.target_redactor())
            created = self._property_records()
            if created:
                event["created"] = created
        report.user_properties.extend(
            [
                ("verdict", event["verdict"]),
                ("clauses", " ".join(event["clauses"])),
                ("conformance_event", json.dumps(event, ensure_ascii=False)),
            ]
        )

    def _property_records(self) -> list[dict[str, str]]:
        """Records created outside YAML cases since the last property event (the ledger)."""
        if self._target is None:
            return []
        items = self._target.ledger.items
        new, self._ledger_seen = items[self._ledger_seen :], len(items)
        return [{"kind": c.kind, "id": c.id, "detail": c.detail} for c in new if not c.by_case]

    def target_redactor(self) -> Any:
        from conformance.redaction import Redactor

        return self._target.redactor if self._target is not None else Redactor(self.secrets.values())

    def pytest_report_teststatus(self, report: pytest.TestReport) -> tuple[str, str, str] | None:
        if report.when == "call" and ("verdict", "errored") in report.user_properties:
            return "errored", "E", "ERRORED"
        return None


class CaseFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        from conformance.casefile import load_case_file
        from conformance.plan import expand
        from conformance.yamlfile import DataFileError

        plugin = self.config.stash[plugin_key]
        try:
            cases = load_case_file(self.path, plugin.clause_ids)
        except DataFileError as exc:
            raise self.CollectError(str(exc)) from None
        wanted = set(plugin.settings.clauses)
        for case in cases:
            for check in expand(case):
                if wanted and not wanted & set(check.clauses):
                    continue
                item = CaseItem.from_parent(self, name=f"{case.description} / {check.name}", check=check)
                for clause in check.clauses:
                    item.add_marker(marker_name(clause))
                if check.method in METHODS:  # a case may send a deliberately unknown method
                    item.add_marker(check.method)
                yield item


class CaseItem(pytest.Item):
    def __init__(self, *, check: Check, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check
        self.run_secrets: list[str] = []  # tokens this check learnt (redacted in its output)
        self.verdict: str | None = None
        self.failed_clauses: tuple[str, ...] = ()
        self.exchanges: list[Any] = []
        self.skip: Any = None
        self.created: list[dict[str, str]] = []
        self.failure: Any = None

    def runtest(self) -> None:
        from conformance.outcome import CheckErrored, CheckFailed, CheckSkipped
        from conformance.runner import run_check

        plugin = self.config.stash[plugin_key]
        try:
            run = run_check(self.check, plugin.target())
        except (CheckSkipped, CheckFailed, CheckErrored) as exc:
            if exc.run is not None:
                self.exchanges, self.created = exc.run.exchanges, exc.run.created
                self.run_secrets = exc.run.secrets
            if isinstance(exc, CheckSkipped):
                self.verdict, self.skip = "skipped", exc
                pytest.skip(exc.reason)
            self.verdict, self.failure = ("failed" if isinstance(exc, CheckFailed) else "errored"), exc
            if isinstance(exc, CheckFailed):
                named = {f.clause for f in exc.failures if f.clause}
                if any(not f.clause for f in exc.failures):
                    named |= set(self.check.clauses)
                self.failed_clauses = tuple(sorted(named))
            raise
        self.exchanges, self.created = run.exchanges, run.created
        self.run_secrets = run.secrets
        self.verdict = "passed"

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        from conformance.outcome import CheckErrored, CheckFailed

        plugin = self.config.stash[plugin_key]
        exc = excinfo.value
        if isinstance(exc, CheckFailed):
            lines = [exc.headline]
            lines += ["  " + f.line(self.check.clauses) for f in exc.failures[1:]]
        elif isinstance(exc, CheckErrored):
            lines = [f"{self.check.label}: errored: {exc.reason}"]
        else:
            return str(super().repr_failure(excinfo, style))  # a bug in the suite: full traceback
        redact = plugin.target_redactor().with_values(self.run_secrets).redact
        for exchange in self.exchanges[-2:]:
            # Redact, then cut: a secret cut in two would no longer be recognised.
            lines.append(f"--- {redact(exchange.label())}")
            lines.append(f"> {redact(exchange.request_body)[:2000]}")
            if exchange.status is not None:
                lines.append(f"< HTTP {exchange.status} {exchange.response_headers.get('content-type', '')}")
                lines.append(f"< {redact(exchange.response_body)[:2000]}")
        return str(redact("\n".join(lines)))

    def event(self, report: pytest.TestReport, redactor: Any) -> dict[str, Any]:
        from conformance.events import check_event

        return check_event(self, report, redactor)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.check.test.line - 1, f"{self.check.label}: {self.check.test.description}"
