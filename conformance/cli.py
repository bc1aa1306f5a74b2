"""The ``conformance`` command: run, report, gate, serve, check-cases, clauses.

Exit codes of ``conformance run`` and ``conformance gate`` (the gate decides both):

* 0: the target conforms: every check passed or was skipped with a reason, and every
  failed check is covered by an unexpired waiver (``--waivers FILE``);
* 1: the target does not conform (a failed check not waived, or waived by an expired
  waiver), or a case file is broken;
* 2: usage or profile error (bad option, unreadable profile or waiver file, unset
  credential variable; for ``gate``, an event file that cannot be read);
* 3: incomplete: nothing failed, but checks errored (connection, hostile answer, a
  broken setup step), the run did not finish, or nothing was checked.

``conformance report`` exits 0 once the report is written, 2 on a usage error (an
event or waiver file that cannot be read).
A waiver that matches no failure is reported as stale, a warning only.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.waiver import Waiver

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_ERRORED = 0, 1, 2, 3


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conformance",
        description="Conformance suite for the Luminate Online Constituent API"
                    " and Kognitiv RecordInteraction.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the suite against a target (default: the embedded reference)")
    run.add_argument("--target", metavar="PROFILE",
                     help="target profile YAML (default: the embedded reference)")
    run.add_argument("--clause", metavar="ID", action="append", default=[],
                     help="only checks bearing on this clause")
    run.add_argument("--cases", metavar="DIR", action="append", default=[],
                     help="extra case files or directories")
    run.add_argument("-n", dest="workers", metavar="N",
                     help="parallel workers (pytest-xdist), e.g. 2 or auto")
    run.add_argument("--reports", metavar="DIR", default="reports",
                     help="where to write events.jsonl, junit.xml and report.html (default: reports)")
    run.add_argument("--waivers", metavar="FILE", type=Path, help="waivers for known failures (YAML)")
    run.add_argument("pytest_args", nargs=argparse.REMAINDER, help="after --: passed to pytest")
    run.set_defaults(func=_run)

    report = sub.add_parser("report", help="build the HTML report from a run's events")
    report.add_argument("events", metavar="RUN.jsonl", type=Path, help="the run's event file")
    report.add_argument("--compare", metavar="OLD.jsonl", type=Path, help="an earlier run to compare with")
    report.add_argument("--waivers", metavar="FILE", type=Path, help="waivers for known failures (YAML)")
    report.add_argument("-o", "--output", metavar="FILE", type=Path,
                        help="where to write the report (default: report.html beside RUN.jsonl)")
    report.set_defaults(func=_report)

    gate = sub.add_parser("gate", help="decide a CI build from a run's events: exit 0, 1 or 3")
    gate.add_argument("events", metavar="RUN.jsonl", type=Path, help="the run's event file")
    gate.add_argument("--waivers", metavar="FILE", type=Path, help="waivers for known failures (YAML)")
    gate.set_defaults(func=_gate)

    serve = sub.add_parser("serve", help="serve the embedded reference until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8750)
    serve.add_argument("--profile", metavar="FILE",
                       help="profile to seed from (default: the bundled reference)")
    serve.add_argument("--certfile", help="TLS certificate (PEM), for clients that insist on https")
    serve.add_argument("--keyfile", help="TLS private key (PEM)")
    serve.add_argument("--env-file", default="reference.env",
                       help="where to write generated credentials (mode 0600; default: reference.env)")
    serve.add_argument("--fault", metavar="NAME", action="append", default=[],
                       help="switch on a deliberate mistake (repeatable; see `conformance selftest --list`)")
    serve.set_defaults(func=_serve)

    selftest = sub.add_parser("selftest", help="run the suite against fault-injected references: kill rate")
    selftest.add_argument("--fault", metavar="NAME", action="append", default=[],
                          help="only this fault (repeatable; default: every fault of the registry)")
    selftest.add_argument("-n", dest="workers", metavar="N", type=int, default=2,
                          help="runs in parallel (default: 2)")
    selftest.add_argument("--json", metavar="FILE", type=Path, help="also write the results as JSON to FILE")
    selftest.add_argument("--profile", metavar="FILE", type=Path,
                          help="the profile the references are seeded from (default: the bundled reference)")
    selftest.add_argument("--cases", metavar="DIR", type=Path,
                          help="the case directory to judge (default: the bundled cases)")
    selftest.add_argument("--list", action="store_true", help="list the faults and exit")
    selftest.set_defaults(func=_selftest)

    check = sub.add_parser("check-cases", help="validate case files without running them")
    check.add_argument("paths", nargs="*", type=Path,
                       help="files or directories (default: the bundled cases)")
    check.set_defaults(func=_check_cases)

    clauses = sub.add_parser("clauses", help="the clause catalogue with the number of cases per clause")
    clauses.add_argument("--cases", metavar="DIR", action="append", default=[], type=Path,
                         help="count these case files too, besides the bundled ones")
    clauses.set_defaults(func=_clauses)
    return parser


def _run(args: argparse.Namespace) -> int:
    import pytest

    from conformance.gate import decide
    from conformance.report import load_summary, render_report, write_report
    from conformance.resources import cases_dir
    from conformance.yamlfile import DataFileError

    try:
        # A broken waiver file is a usage error found before any request is sent.
        waivers = _waivers(args.waivers)
    except DataFileError as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    reports = Path(args.reports)
    reports.mkdir(parents=True, exist_ok=True)
    junit, events, html = reports / "junit.xml", reports / "events.jsonl", reports / "report.html"
    events.unlink(missing_ok=True)  # a stale stream must never be read as this run's
    pytest_args = [str(cases_dir()), *args.cases, "--conformance", f"--junitxml={junit}",
                   f"--events={events}", "-p", "no:cacheprovider", "-q",
                   # Node ids read "cases/auth.yaml::..." wherever the package is installed.
                   "--rootdir", str(cases_dir().parent), "-c", os.devnull,
                   # conformance is imported before pytest starts (this very command), so
                   # pytest cannot rewrite its asserts; it uses none, so the warning is noise.
                   "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    if args.target:
        pytest_args += ["--target", args.target]
    for clause in args.clause:
        pytest_args += ["--clause", clause]
    for extra in args.cases:
        pytest_args += ["--cases", extra]
    if args.workers:
        pytest_args += ["-n", str(args.workers)]
    extra_args = [a for a in args.pytest_args if a != "--"]
    code = int(pytest.main(pytest_args + extra_args))
    if not events.exists() or events.stat().st_size == 0:
        # pytest stopped before the session began: a bad option or profile (it said why).
        print(f"conformance: no events were written (pytest exit status {code})", file=sys.stderr)
        return EXIT_USAGE
    try:
        summary = load_summary(events, waivers)
    except DataFileError as exc:
        # A stream cut off mid-line (the run crashed): nothing can be concluded.
        print(f"conformance: {exc}", file=sys.stderr)
        return EXIT_ERRORED
    write_report(html, render_report(summary, source=events.name))
    decision = decide(summary)
    print(f"conformance: events written to {events}")
    print(f"conformance: JUnit XML written to {junit}")
    print(f"conformance: HTML report written to {html}")
    print(decision.text())
    return decision.code


def _waivers(path: Path | None) -> tuple[Waiver, ...]:
    if path is None:
        return ()
    from conformance.catalogue import load_catalogue
    from conformance.waiver import load_waivers

    return load_waivers(path, load_catalogue().ids())


def _report(args: argparse.Namespace) -> int:
    from conformance.report import build_report, write_report
    from conformance.yamlfile import DataFileError

    output = args.output or args.events.with_name("report.html")
    try:
        html = build_report(args.events, args.compare, _waivers(args.waivers))
    except (DataFileError, OSError) as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    write_report(output, html)
    print(f"conformance: HTML report written to {output} ({len(html.encode('utf-8')) // 1024} KiB)")
    return EXIT_OK


def _gate(args: argparse.Namespace) -> int:
    from conformance.gate import decide
    from conformance.report import load_summary
    from conformance.yamlfile import DataFileError

    try:
        decision = decide(load_summary(args.events, _waivers(args.waivers)))
    except (DataFileError, OSError) as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(decision.text())
    return decision.code


def _serve(args: argparse.Namespace) -> int:
    from conformance.profile import bundled_profile_path, load_profile, resolve_secrets
    from conformance.reference.fault import UnknownFaultError, lookup
    from conformance.reference.server import serve_forever
    from conformance.yamlfile import DataFileError

    try:
        profile = load_profile(args.profile or bundled_profile_path())
        secrets = resolve_secrets(profile, generate_missing=True)
        faults = [lookup(name).name for name in (*profile.faults, *args.fault)]
    except (DataFileError, UnknownFaultError) as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    profile = replace(profile, faults=tuple(dict.fromkeys(faults)))
    scheme = "https" if args.certfile else "http"
    shown = f"[{args.host}]" if ":" in args.host else args.host
    base = f"{scheme}://{shown}:{args.port}"
    live = profile.rebased(base)
    env_file = Path(args.env_file)
    # Secrets go to a file only the user can read, never to the terminal or a log.
    fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        for name, value in sorted(secrets.environ().items()):
            handle.write(f"export {name}={value}\n")
    print(f"Reference server for profile '{profile.name}' on {base}")
    if live.luminate:
        print(f"  Client API  {live.luminate.servlet_url('CRConsAPI')}")
        print(f"  Server API  {live.luminate.servlet_url('SRConsAPI')}")
    if live.kognitiv:
        print(f"  SOAP        {live.kognitiv.service}  (WSDL: {live.kognitiv.service}?WSDL)")
    if profile.faults:
        print(f"Deliberate faults ON (this is not a conforming target): {', '.join(profile.faults)}")
    print(f"Credentials: written to {env_file} (mode 0600); `source {env_file}` before running")
    print(f"  conformance run --target {profile.path}")
    print("Press Ctrl-C to stop.", flush=True)
    serve_forever(profile, secrets, args.host, args.port, args.certfile, args.keyfile)
    print("Reference server stopped.")
    return EXIT_OK


def _selftest(args: argparse.Namespace) -> int:
    """Exit 0: the clean reference passes and every fault is killed; 1 otherwise; 2 usage."""
    from conformance import selftest
    from conformance.reference.fault import UnknownFaultError

    if args.list:
        print("\n".join(selftest.registry_lines()))
        return EXIT_OK
    try:
        faults = selftest.select(args.fault)
    except UnknownFaultError as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.workers < 1:
        print("conformance: -n must be 1 or more", file=sys.stderr)
        return EXIT_USAGE
    for given, kind in ((args.cases, "directory"), (args.profile, "file")):
        if given is not None and not (given.is_dir() if kind == "directory" else given.is_file()):
            print(f"conformance: {given}: no such {kind}", file=sys.stderr)
            return EXIT_USAGE
    print(f"selftest: the clean reference and {len(faults)} faults, {args.workers} at a time", flush=True)
    report = selftest.selftest(
        faults,
        workers=args.workers,
        base_profile=args.profile,
        cases=args.cases.resolve() if args.cases else None,
        progress=lambda line: print(line, flush=True),
    )
    print("\n".join(selftest.summary_lines(report)))
    if args.json:
        selftest.write_json(args.json, report)
        print(f"selftest: results written to {args.json}")
    return EXIT_OK if report.ok else EXIT_FAILED


def _check_cases(args: argparse.Namespace) -> int:
    from conformance.casefile import discover, load_case_file
    from conformance.catalogue import load_catalogue
    from conformance.resources import cases_dir
    from conformance.yamlfile import DataFileError

    ids = load_catalogue().ids()
    files = discover(args.paths or [cases_dir()])
    if not files:
        print("conformance: no case files found", file=sys.stderr)
        return EXIT_USAGE
    broken = 0
    count = 0
    for path in files:
        try:
            count += sum(len(c.tests) for c in load_case_file(path, ids))
        except DataFileError as exc:
            broken += 1
            print(exc, file=sys.stderr)
    print(f"{len(files)} case files, {count} tests, {broken} broken")
    return EXIT_FAILED if broken else EXIT_OK


def _clauses(args: argparse.Namespace) -> int:
    from conformance.catalogue import load_catalogue
    from conformance.coverage import measure

    catalogue = load_catalogue()
    coverage = measure(args.cases, catalogue)
    print(f"{'clause':8} {'level':8} {'tests':>5} {'checks':>6} {'props':>5}  title")
    for clause in catalogue:
        cid = clause.id
        print(f"{cid:8} {clause.level:8} {coverage.tests[cid]:5} {coverage.checks[cid]:6} "
              f"{coverage.properties.get(cid, 0):5}  {clause.title}")
    uncovered = [cid for cid in catalogue.ids() if coverage.total(cid) == 0]
    print(f"{len(catalogue)} clauses; {len(uncovered)} with no case or property"
          + (f": {', '.join(uncovered)}" if uncovered else ""))
    return EXIT_FAILED if uncovered else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
