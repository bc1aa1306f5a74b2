"""The ``conformance`` command: run, serve, check-cases, clauses.

Exit codes (documented in README): 0 conforms / success; 1 the target does not
conform (a failed check) or a case file is broken; 2 usage or profile error;
3 the run errored (checks could not be run: connection, hostile answer) without
any failure; other values are pytest's own (e.g. 4 usage, 5 nothing collected).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

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
        description="Conformance suite for the Luminate Online Constituent API and Kognitiv RecordInteraction.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the suite against a target (default: the embedded reference)")
    run.add_argument("--target", metavar="PROFILE", help="target profile YAML (default: the embedded reference)")
    run.add_argument("--clause", metavar="ID", action="append", default=[], help="only checks bearing on this clause")
    run.add_argument("--cases", metavar="DIR", action="append", default=[], help="extra case files or directories")
    run.add_argument("-n", dest="workers", metavar="N", help="parallel workers (pytest-xdist), e.g. 2 or auto")
    run.add_argument("--reports", metavar="DIR", default="reports", help="where to write results (default: reports)")
    run.add_argument("pytest_args", nargs=argparse.REMAINDER, help="after --: passed to pytest")
    run.set_defaults(func=_run)

    serve = sub.add_parser("serve", help="serve the embedded reference until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8750)
    serve.add_argument("--profile", metavar="FILE", help="profile to seed from (default: the bundled reference)")
    serve.add_argument("--certfile", help="TLS certificate (PEM), for clients that insist on https")
    serve.add_argument("--keyfile", help="TLS private key (PEM)")
    serve.add_argument("--env-file", default="reference.env",
                       help="where to write generated credentials (mode 0600; default: reference.env)")
    serve.set_defaults(func=_serve)

    check = sub.add_parser("check-cases", help="validate case files without running them")
    check.add_argument("paths", nargs="*", type=Path, help="files or directories (default: the bundled cases)")
    check.set_defaults(func=_check_cases)

    clauses = sub.add_parser("clauses", help="the clause catalogue with the number of cases per clause")
    clauses.add_argument("--cases", metavar="DIR", action="append", default=[], type=Path)
    clauses.set_defaults(func=_clauses)
    return parser


def _run(args: argparse.Namespace) -> int:
    import pytest

    from conformance.resources import cases_dir

    reports = Path(args.reports)
    reports.mkdir(parents=True, exist_ok=True)
    junit = reports / "junit.xml"
    pytest_args = [str(cases_dir()), *args.cases, "--conformance", f"--junitxml={junit}",
                   "-p", "no:cacheprovider", "-q", "--rootdir", str(Path.cwd()), "-c", os.devnull]
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
    print(f"conformance: JUnit XML written to {junit}")
    return code


def _serve(args: argparse.Namespace) -> int:
    from conformance.profile import bundled_profile_path, load_profile, resolve_secrets
    from conformance.reference.server import serve_forever
    from conformance.yamlfile import DataFileError

    try:
        profile = load_profile(args.profile or bundled_profile_path())
        secrets = resolve_secrets(profile, generate_missing=True)
    except DataFileError as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
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
    print(f"Credentials: written to {env_file} (mode 0600); `source {env_file}` before running")
    print(f"  conformance run --target {profile.path}")
    print("Press Ctrl-C to stop.", flush=True)
    serve_forever(profile, secrets, args.host, args.port, args.certfile, args.keyfile)
    print("Reference server stopped.")
    return EXIT_OK


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
    from conformance.casefile import discover, load_case_file
    from conformance.catalogue import load_catalogue
    from conformance.plan import expand
    from conformance.resources import cases_dir

    catalogue = load_catalogue()
    counts = {cid: 0 for cid in catalogue.ids()}
    checks = {cid: 0 for cid in catalogue.ids()}
    for path in discover([cases_dir(), *args.cases]):
        for case in load_case_file(path, catalogue.ids()):
            for test in case.tests:
                for cid in test.clauses:
                    counts[cid] += 1
            for check in expand(case):
                for cid in check.clauses:
                    checks[cid] += 1
    print(f"{'clause':8} {'level':8} {'tests':>5} {'checks':>6}  title")
    for clause in catalogue:
        print(f"{clause.id:8} {clause.level:8} {counts[clause.id]:5} {checks[clause.id]:6}  {clause.title}")
    uncovered = [cid for cid in catalogue.ids() if counts[cid] == 0]
    print(f"{len(catalogue)} clauses; {len(uncovered)} with no case or property"
          + (f": {', '.join(uncovered)}" if uncovered else ""))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
