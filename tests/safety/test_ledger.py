"""The run ledger: every record a run creates carries the run id and is listed.

The bundled YAML cases run against the embedded reference in one process (one
database, so ids are unambiguous); the probe then lists what the reference holds
beyond its seed, and each record must be accounted for by the run's events.  The
hypothesis properties are a separate test, because they create records through their
own client.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conformance.resources import cases_dir
from tests.safety.run import SuiteRun, run_suite, write_profile


def _created_on_server(run: SuiteRun) -> dict[str, list[dict[str, Any]]]:
    assert len(run.probes) == 1, run.output[-3000:]  # one process, one reference
    created: dict[str, list[dict[str, Any]]] = run.probes[0]["created"]
    return created


def _ledger(run: SuiteRun) -> list[dict[str, str]]:
    ledger: list[dict[str, str]] = run.footer["created"]
    return ledger


def _unaccounted(run: SuiteRun) -> list[str]:
    """Records on the server that the run's ledger does not account for."""
    run_id = run.header["run_id"]
    ledger = _ledger(run)
    listed = {(c["kind"], c["id"]) for c in ledger}
    # Deleting a constituent the run made or changed finds the interactions on it:
    # the automatic one createOrUpdate logs (L-C11) has no id the suite could list.
    owners = {int(c["id"]) for c in ledger if c["kind"] in ("constituent", "constituent-changed")}
    created = _created_on_server(run)
    problems = []
    for row in created["constituent"]:
        if ("constituent", str(row["cons_id"])) not in listed:
            problems.append(f"constituent {row['cons_id']} ({row['primary_email']}) is not in the ledger")
        local = (row["primary_email"] or "").split("@")[0].lower()
        if run_id not in local:
            problems.append(f"constituent {row['cons_id']}: email {row['primary_email']!r} lacks the run id")
        if row["source"] is not None and run_id not in row["source"]:
            problems.append(f"constituent {row['cons_id']}: source {row['source']!r} lacks the run id")
    for row in created["interaction"]:
        if ("interaction", str(row["interaction_id"])) not in listed and row["cons_id"] not in owners:
            problems.append(f"interaction {row['interaction_id']} on {row['cons_id']} is not in the ledger")
    for row in created["kognitiv"]:
        if ("kognitiv-interaction", str(row["interaction_id"])) not in listed:
            problems.append(f"Kognitiv interaction {row['interaction_id']} is not in the ledger")
    return problems


def test_every_record_the_cases_create_carries_the_run_id_and_is_listed(tmp_path: Path) -> None:
    """One run of every bundled case file (one test, so one xdist worker runs it)."""
    profile = write_profile(tmp_path, "ledger")
    cases = sorted(str(p) for p in cases_dir().glob("*.yaml"))
    run = run_suite(tmp_path, profile, *cases, "-p", "no:xdist", probe=True)
    created = _created_on_server(run)
    ledger = _ledger(run)
    print(
        f"ledger: {len(run.checks)} checks; on the server: {len(created['constituent'])} constituents, "
        f"{len(created['interaction'])} interactions, {len(created['kognitiv'])} Kognitiv interactions; "
        f"ledger entries: {len(ledger)}"
    )
    # The control: the cases did write, and the probe saw it.
    assert created["constituent"] and created["interaction"] and created["kognitiv"], run.output[-3000:]
    assert run.received()["logInteraction"] and run.received()["RecordInteraction"]
    assert _unaccounted(run) == []
    # Nothing listed that is not there (a change is listed by the record it changed).
    exist = {("constituent", str(r["cons_id"])) for r in created["constituent"]}
    exist |= {("interaction", str(r["interaction_id"])) for r in created["interaction"]}
    exist |= {("kognitiv-interaction", str(r["interaction_id"])) for r in created["kognitiv"]}
    assert [
        c for c in ledger if c["kind"] != "constituent-changed" and (c["kind"], c["id"]) not in exist
    ] == []
    # The footer's ledger is the check events' ledgers, in order.
    assert [c for e in run.checks for c in e.get("created", [])] == ledger
    # The terminal ends with it.
    run_id = run.header["run_id"]
    assert f"run ledger: run {run_id} created or changed {len(ledger)} records" in run.stdout
    assert f"search the target for run id {run_id}" in run.stdout
    assert f"{ledger[0]['kind']} {ledger[0]['id']}" in run.stdout


def test_every_record_the_properties_create_is_listed(tmp_path: Path) -> None:
    properties = cases_dir() / "properties"
    profile = write_profile(tmp_path, "properties-ledger")
    run = run_suite(tmp_path, profile, str(properties), "-p", "no:xdist", probe=True)
    created = _created_on_server(run)
    print(f"properties: {len(run.checks)} checks; constituents on the server: {len(created['constituent'])}")
    assert created["constituent"], run.output[-3000:]
    assert _unaccounted(run) == []
