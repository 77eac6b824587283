"""County fan-out (issue 14): the run on a 2-worker local Dask cluster gives what the single-process
run gives — warnings, logic errors, rejects and source checks, row for row (run ids aside) — both
as a plain run (distributed.Client) and as a Prefect flow run (prefect_dask.DaskTaskRunner, every
folder and county a Prefect task run, one county job failing once and retried by Prefect), on a
3-county province inbox with the generator's cross-county plants (samplegen/crosscounty.py, recorded in
the manifest's `cross_county`), each found in every mode:

- a roster member's hospital settlement filed by a neighbouring county (W01/W02 for the member's
  household, not an out-of-roster person where it was filed);
- a roster member's death registered in another county (L19 for the member's household);
- one ID on two counties' rosters (L12 on both households).

And on a smaller 2-county inbox with a department folder missing and one county's roster
missing (its department records then belong to no roster household), the two modes still agree
and no finding is lost or written twice.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines import fanout, flow
from samplegen.generate import generate

AS_OF = date(2026, 11, 24)
IGNORED = {"run_id", "first_seen_run"}


def _table(out: Path, run_id: str, table: str) -> list[tuple]:
    path = out / "store" / run_id / f"{table}.parquet"
    con = duckdb.connect()
    cols = [c for (c,) in con.execute("SELECT name FROM parquet_schema(?) WHERE name <> 'schema'"
                                      " AND num_children IS NULL", [str(path)]).fetchall()
            if c not in IGNORED]
    rows = con.execute(f"SELECT {', '.join(cols)} FROM read_parquet(?) ORDER BY ALL", [str(path)]).fetchall()
    con.close()
    return rows


def county_job_failing_once(job: dict) -> dict:
    """fanout.county_job, but the first attempt of each county raises (a worker's lost share, say)."""
    marker = Path(job["dest"]).parent / f"failed-once-{job['bucket']}"
    if not marker.exists():
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        raise OSError("网络共享暂时不可用")
    return fanout.county_job(job)


def _prefect_task_runs(flow_run_id) -> list:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import TaskRunSort

    with get_client(sync_client=True) as client:
        return client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
                                     sort=TaskRunSort.EXPECTED_START_TIME_ASC, limit=200)


@pytest.fixture(scope="module")
def both_runs(tmp_path_factory, prefect_harness):
    root = tmp_path_factory.mktemp("province")
    planted = generate(root, households=600, counties=3, workers=1)["cross_county"]  # samplegen.crosscounty
    cfg = root / "fangpin.toml"
    single = flow.run_once(root / "inbox", cfg, AS_OF, root / "single")
    assert not fanout.prefect_is_tracking()
    # parts of 64 KB: the roster and settlements folders are read as several jobs each, and their
    # parts put together in path order must give the single run's duplicates and rejects
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fanout, "PART_BYTES", 64 * 1024)
        with fanout.executor(cfg, 2, None, flow._ingest_plain, flow._stage_plain) as fo:
            assert fo is not None and fo.runner is None  # run_once alone: plain Dask futures
            fanned = flow.run_once(root / "inbox", cfg, AS_OF, root / "dask", ingest=fo.ingest, stage=fo.stage)
        # the Prefect flow run: the same jobs as Prefect tasks on prefect_dask's task runner
        flaky = fanout.prefect_tasks()["county_job"].with_options()
        flaky.fn = county_job_failing_once
        real = fanout.prefect_tasks()["county_job"]
        fanout.prefect_tasks()["county_job"] = flaky
        try:
            state = flow.nightly(inbox=str(root / "inbox"), config=str(cfg), as_of=AS_OF.isoformat(),
                                 out=str(root / "prefect"), workers=2, return_state=True)
        finally:
            fanout.prefect_tasks()["county_job"] = real
    tracked = flow.last_context
    assert state.is_completed() and state.result() == tracked.run_id
    task_runs = _prefect_task_runs(state.state_details.flow_run_id)
    runs = {"single": single, "dask": fanned, "prefect": tracked}
    return root, planted, runs, task_runs


@pytest.mark.parametrize("table", ["warnings", "logic_errors", "rejects", "source_checks", "input_files",
                                   "record_links"])
def test_fanned_out_run_gives_the_same_rows(both_runs, table):
    root, _, runs, _ = both_runs
    assert {ctx.notes["status"] for ctx in runs.values()} == {"completed"}
    a = _table(root / "single", runs["single"].run_id, table)
    assert a, f"{table}: the single run wrote nothing to compare"
    for mode in ("dask", "prefect"):
        b = _table(root / mode, runs[mode].run_id, table)
        assert len(a) == len(b), mode
        assert a == b, mode


def test_fanned_out_workbooks_are_the_single_runs_byte_for_byte(both_runs):
    """Each county's township workbooks are written on a worker (workbooks-<county> jobs), and
    come out as the single run writes them: no run id or timestamp is in a workbook."""
    root, _, runs, task_runs = both_runs
    day = AS_OF.isoformat()
    single = sorted((root / "single" / "reports" / day).glob("*/*.xlsx"))
    assert len(single) >= 10
    for mode in ("dask", "prefect"):
        other = sorted((root / mode / "reports" / day).glob("*/*.xlsx"))
        assert [p.relative_to(root / mode) for p in other] == [p.relative_to(root / "single") for p in single]
        assert all(a.read_bytes() == b.read_bytes() for a, b in zip(single, other, strict=True)), mode
        assert any(k.startswith("workbooks:") for k in runs[mode].notes["fanout_peak_rss_mb"])
    assert {t.state_name for t in task_runs if t.name.startswith("workbooks-")} == {"Completed"}


def test_prefect_flow_run_shows_every_folder_and_county_and_retries_them(both_runs):
    _, _, runs, task_runs = both_runs
    by_name = {t.name: t for t in task_runs}
    counties = [k.removeprefix("county:") for k in runs["prefect"].notes["fanout_peak_rss_mb"] if k.startswith("county:")]
    assert {"安宁县", "临川县"} <= set(counties)
    for county in counties:
        t = by_name[f"county-{'无县名' if county == '-' else county}"]
        assert t.state_name == "Completed" and t.run_count == 2  # failed once, retried by Prefect
    ingest = [t for name, t in by_name.items() if name.startswith("ingest-")]
    assert {"ingest-roster-0", "ingest-roster-1", "ingest-health_insurance-0"} <= {t.name for t in ingest}
    assert all(t.state_name == "Completed" and t.run_count == 1 for t in ingest)


def test_cross_county_cases_found_in_every_mode(both_runs):
    root, planted, runs, _ = both_runs
    con = duckdb.connect()

    def w(sql, *params):
        return con.execute(sql, list(params)).fetchall()

    for mode, ctx in runs.items():
        out = root / mode
        wpath = str(out / "store" / ctx.run_id / "warnings.parquet")
        lpath = str(out / "store" / ctx.run_id / "logic_errors.parquet")
        cc = planted
        patient = cc["patient"]
        got = w("SELECT DISTINCT rule_code, county FROM read_parquet(?) WHERE household_id = ?"
                " AND rule_code IN ('W01', 'W02')", wpath, patient["household_id"])
        assert ("W01", patient["county"]) in got and ("W02", patient["county"]) in got
        assert not w("SELECT 1 FROM read_parquet(?) WHERE household_id IS NULL AND id_number = ?",
                     wpath, patient["id_number"])
        dead = cc["dead"]
        assert w("SELECT county FROM read_parquet(?) WHERE rule_code = 'L19' AND household_id = ?",
                 lpath, dead["household_id"]) == [(dead["county"],)]
        twice, host = cc["twice"], cc["host"]
        got = w("SELECT household_id, county FROM read_parquet(?) WHERE rule_code = 'L12' AND id_number = ?"
                " ORDER BY 1", lpath, twice["id_number"])
        assert sorted(got) == sorted([(twice["household_id"], twice["county"]), (host["household_id"], host["county"])])
    con.close()
    for mode in ("dask", "prefect"):
        peaks = runs[mode].notes["fanout_peak_rss_mb"]
        assert any(k.startswith("county:") for k in peaks) and any(k.startswith("ingest:") for k in peaks)


def test_missing_folders_lose_or_double_nothing(tmp_path):
    """No housing folder at all, and the second county's roster never arrived: both modes agree, nothing twice."""
    import shutil

    manifest = generate(tmp_path, households=300, counties=2, workers=1)
    county = manifest["counties"][1]["county"]
    inbox, cfg = tmp_path / "inbox", tmp_path / "fangpin.toml"
    shutil.rmtree(inbox / "housing")
    gone = list((inbox / "roster").glob(f"{county}_*"))
    assert gone
    for f in gone:
        f.unlink()
    single = flow.run_once(inbox, cfg, AS_OF, tmp_path / "single")
    with fanout.executor(cfg, 2, None, flow._ingest_plain, flow._stage_plain) as fo:
        fanned = flow.run_once(inbox, cfg, AS_OF, tmp_path / "dask", ingest=fo.ingest, stage=fo.stage)
    assert single.notes["status"] == fanned.notes["status"] == "completed"
    for table in ("warnings", "logic_errors", "rejects", "source_checks", "input_files", "record_links"):
        a = _table(tmp_path / "single", single.run_id, table)
        assert a == _table(tmp_path / "dask", fanned.run_id, table), table
    con = duckdb.connect()
    wpath = str(tmp_path / "dask" / "store" / fanned.run_id / "warnings.parquet")
    # that county's department records now belong to no roster: out-of-roster findings there, once each
    (lost,) = con.execute("SELECT count(*) FROM read_parquet(?) WHERE county = ? AND household_id IS NULL",
                          [wpath, county]).fetchone()
    assert lost > 0
    assert not con.execute("SELECT 1 FROM read_parquet(?) WHERE county = ? AND household_id IS NOT NULL",
                           [wpath, county]).fetchall()
    assert not con.execute("SELECT rule_code, id_number, household_id, evidence_key, count(*) FROM read_parquet(?)"
                           " GROUP BY ALL HAVING count(*) > 1", [wpath]).fetchall()
    con.close()
    skipped = [sorted(map(repr, ctx.skipped)) for ctx in (single, fanned)]
    assert skipped[0] == skipped[1] and any("housing" in s for s in skipped[0])


def test_cluster_config_is_validated(tmp_path):
    from core.config import ConfigError, load_config

    def cfg(text):
        p = tmp_path / "c.toml"
        p.write_text(text, encoding="utf-8")
        return load_config(p)

    assert cfg("[cluster]\nworkers = 4\n").cluster == {"workers": 4}
    assert cfg('[cluster]\nscheduler = "tcp://10.0.0.5:8786"\n').cluster == {"scheduler": "tcp://10.0.0.5:8786"}
    assert cfg("[cluster]\nworkers = 4\n").digest == cfg("").digest  # where it runs is not what it computes
    for bad in ("workers = 0", "workers = \"2\"", "scheduler = \"10.0.0.5\"",
                "workers = 2\nscheduler = \"tcp://h:8786\""):
        with pytest.raises(ConfigError, match=r"\[cluster\]"):
            cfg(f"[cluster]\n{bad}\n")
