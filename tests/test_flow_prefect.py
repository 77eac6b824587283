"""The Prefect flow itself (one task per folder, stage tasks): a transient file error is retried
by Prefect's task retries without doubling rows; a bug fails the flow and is recorded."""

from __future__ import annotations

import duckdb
import pytest
from flow_inbox import make_inbox

from pipelines import flow


def test_prefect_task_retries_a_transient_error_and_not_a_bug(prefect_harness, tmp_path, monkeypatch):
    import sources.ingest

    inbox = make_inbox(tmp_path, households=20, settlements=30)
    out = tmp_path / "out"
    real, calls = sources.ingest.ingest_folder, []

    def flaky(ctx, folder, *part):
        if folder == "housing":
            calls.append(folder)
            if len(calls) == 1:
                real(ctx, folder, *part)
                raise OSError("网络共享暂时不可用")
        return real(ctx, folder, *part)

    monkeypatch.setattr(sources.ingest, "ingest_folder", flaky)
    run_id = flow.nightly(inbox=str(inbox), config=str(tmp_path / "fangpin.toml"), as_of="2026-11-24", out=str(out))
    assert calls == ["housing", "housing"]
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    assert con.execute("SELECT run_id, status FROM runs").fetchall() == [(run_id, "completed")]
    assert con.execute("SELECT count(*) FROM housing_assessments").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM households").fetchone()[0] == 20
    con.close()

    calls.clear()

    def buggy(ctx, folder, *part):
        if folder == "housing":
            calls.append(folder)
            raise ValueError("a bug, not the file system")
        return real(ctx, folder, *part)

    monkeypatch.setattr(sources.ingest, "ingest_folder", buggy)
    with pytest.raises(ValueError):
        flow.nightly(inbox=str(inbox), config=str(tmp_path / "fangpin.toml"), as_of="2026-11-25",
                     out=str(out), reread=True)
    assert calls == ["housing"]
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    assert [s for (s,) in con.execute("SELECT status FROM runs ORDER BY started_at").fetchall()] == [
        "completed", "failed"]
    assert con.execute("SELECT run_id FROM latest_run").fetchone()[0] == run_id


def test_a_rerun_as_a_flow_run_takes_the_findings_as_a_task(prefect_harness, tmp_path):
    """The rerun's reuse of the earlier findings is a stage task of the flow run like the others."""
    inbox = make_inbox(tmp_path, households=20, settlements=30)
    args = {"inbox": str(inbox), "config": str(tmp_path / "fangpin.toml"), "as_of": "2026-11-24",
            "out": str(tmp_path / "out")}
    first = flow.nightly(**args)
    state = flow.nightly(**args, return_state=True)
    second = flow.last_context
    assert state.is_completed() and second.notes["results_from"] == first
    assert "reuse_results" in second.stage_seconds and "screening" not in second.stage_seconds
    con = duckdb.connect(str(tmp_path / "out" / "warehouse.duckdb"), read_only=True)
    counts = dict(con.execute("SELECT run_id, count(*) FROM warnings GROUP BY ALL").fetchall())
    con.close()
    assert counts[first] == counts[second.run_id] > 0
