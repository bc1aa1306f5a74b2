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

from collections.abc import Iterator
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


settings_key = pytest.StashKey[Settings]()
plugin_key = pytest.StashKey["Conformance"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "conformance suite")
    group.addoption("--target", metavar="PROFILE", default=None,
                    help="target profile (a YAML file, or 'reference'); default: the embedded reference")
    group.addoption("--conformance", action="store_true", default=False,
                    help="run the bundled cases (implied by --target)")
    group.addoption("--cases", metavar="DIR", action="append", default=[],
                    help="a directory or file of extra case files (repeatable)")
    group.addoption("--clause", metavar="ID", action="append", default=[],
                    help="run only checks bearing on this clause (repeatable), e.g. --clause L-L2")


def pytest_configure(config: pytest.Config) -> None:
    target = config.getoption("--target")
    extra = tuple(Path(p).resolve() for p in config.getoption("--cases"))
    enabled = bool(target or config.getoption("--conformance") or extra)
    if not enabled:
        return
    from conformance.resources import cases_dir

    explicit = [Path(a.split("::")[0]).resolve() for a in config.args] if (
        config.args_source == pytest.Config.ArgsSource.ARGS) else []
    roots = (cases_dir().resolve(), *extra, *[p for p in explicit if p.is_dir() or p.suffix in (".yaml", ".yml")])
    settings = Settings(target, roots, tuple(config.getoption("--clause")))
    config.stash[settings_key] = settings
    from conformance.catalogue import load_catalogue

    catalogue = load_catalogue()
    for clause in catalogue:
        config.addinivalue_line("markers", f"{marker_name(clause.id)}: {clause.id} {clause.title}")
    for unknown in settings.clauses:
        catalogue.get(unknown)  # raises with a did-you-mean hint
    for method in ("logInteraction", "getInteraction", "createOrUpdate", "login", "logout",
                   "getUser", "getUserInteractions", "getUserGroups", "RecordInteraction"):
        config.addinivalue_line("markers", f"{method}: checks of the {method} method")
    plugin = Conformance(settings, frozenset(catalogue.ids()))
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


class Conformance:
    """Holds the target for the whole session; starts the embedded reference lazily."""

    def __init__(self, settings: Settings, clause_ids: frozenset[str]) -> None:
        self.settings = settings
        self.clause_ids = clause_ids
        self._target: Target | None = None
        self._server: Any = None
        self.profile = self._load_profile()

    def _load_profile(self) -> Any:
        from conformance.profile import bundled_profile_path, load_profile, resolve_secrets
        from conformance.yamlfile import DataFileError

        name = self.settings.target
        path = bundled_profile_path() if name in (None, "reference") else Path(name)
        if name not in (None, "reference") and not path.exists() and bundled_profile_path(str(name)).exists():
            path = bundled_profile_path(str(name))
        try:
            profile = load_profile(path)
            # Unset variables are an error before any request, except for the embedded
            # reference, which invents its own secrets.
            self.secrets = resolve_secrets(profile, generate_missing=self.embedded)
        except DataFileError as exc:
            raise pytest.UsageError(str(exc)) from None
        return profile

    @property
    def embedded(self) -> bool:
        return self.settings.target in (None, "reference")

    def target(self) -> Target:
        if self._target is None:
            from conformance.target import Target

            profile = self.profile
            if self.embedded:
                from conformance.reference.server import ReferenceServer

                self._server = ReferenceServer(profile, self.secrets).start()
                profile = self._server.profile
            self._target = Target(profile, self.secrets)
        return self._target

    def redact(self, text: str) -> str:
        if self._target is not None:
            return self._target.redactor.redact(text)
        from conformance.redaction import Redactor

        return Redactor(self.secrets.values()).redact(text)

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
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

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
        outcome = yield
        report = outcome.get_result()
        if not isinstance(item, CaseItem) or call.when != "call":
            return
        verdict = item.verdict or ("failed" if report.failed else "passed")
        report.user_properties.extend([
            ("verdict", verdict),
            ("clauses", " ".join(item.check.clauses)),
            ("method", item.check.method),
        ])
        if item.failed_clauses:
            report.user_properties.append(("failed_clauses", " ".join(item.failed_clauses)))

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
                item.add_marker(check.method)
                yield item


class CaseItem(pytest.Item):
    def __init__(self, *, check: Check, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check
        self.verdict: str | None = None
        self.failed_clauses: tuple[str, ...] = ()
        self.exchanges: list[Any] = []

    def runtest(self) -> None:
        from conformance.outcome import CheckErrored, CheckFailed, CheckSkipped
        from conformance.runner import run_check

        plugin = self.config.stash[plugin_key]
        try:
            self.exchanges = run_check(self.check, plugin.target())
        except CheckSkipped as exc:
            self.verdict = "skipped"
            self.exchanges = getattr(exc, "exchanges", [])
            pytest.skip(exc.reason)
        except CheckFailed as exc:
            self.verdict = "failed"
            self.exchanges = getattr(exc, "exchanges", [])
            named = {f.clause for f in exc.failures if f.clause}
            if any(not f.clause for f in exc.failures):
                named |= set(self.check.clauses)
            self.failed_clauses = tuple(sorted(named))
            raise
        except CheckErrored as exc:
            self.verdict = "errored"
            self.exchanges = getattr(exc, "exchanges", [])
            raise
        self.verdict = "passed"

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        from conformance.outcome import CheckErrored, CheckFailed

        plugin = self.config.stash[plugin_key]
        exc = excinfo.value
        if isinstance(exc, CheckFailed):
            lines = [exc.headline]
            lines += ["  " + f.line() for f in exc.failures[1:]]
        elif isinstance(exc, CheckErrored):
            lines = [f"{self.check.label}: errored: {exc.reason}"]
        else:
            return str(super().repr_failure(excinfo, style))  # a bug in the suite: full traceback
        for exchange in self.exchanges[-2:]:
            lines.append(f"--- {exchange.label()}")
            lines.append(f"> {exchange.request_body[:2000]}")
            if exchange.status is not None:
                lines.append(f"< HTTP {exchange.status} {exchange.response_headers.get('content-type', '')}")
                lines.append(f"< {exchange.response_body[:2000]}")
        return plugin.redact("\n".join(lines))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.check.test.line - 1, f"{self.check.label}: {self.check.test.description}"
