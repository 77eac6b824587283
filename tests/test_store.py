"""The store: a published run is visible through the catalogue; history is readable from a new run."""

import duckdb

from pipelines import store


def _record(con, run_id, status="completed"):
    con.execute(
        "INSERT INTO runs (run_id, as_of_date, started_at, finished_at, status)"
        " VALUES (?, DATE '2026-11-24', now(), now(), ?)",
        [run_id, status],
    )


def test_publish_makes_run_latest_and_keeps_comments(tmp_path):
    con = store.open_work(tmp_path, "r1")
    _record(con, "r1")
    con.execute("INSERT INTO warnings (run_id, rule_code, in_roster, status) VALUES ('r1', 'W01', true, '新增')")
    store.publish(con, tmp_path, "r1")
    con.close()
    cat = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    assert cat.execute("SELECT run_id, rule_code FROM latest_warnings").fetchall() == [("r1", "W01")]
    undocumented = cat.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'main' AND comment IS NULL"
        " AND table_name IN (SELECT view_name FROM duckdb_views() WHERE NOT internal)"
    ).fetchall()
    assert undocumented == []  # outputs.md: COMMENT ON every table and column, latest_* views included
    uncommented_views = cat.execute(
        "SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main' AND comment IS NULL"
    ).fetchall()
    assert uncommented_views == []
    assert cat.execute(
        "SELECT comment FROM duckdb_columns() WHERE table_name = 'latest_warnings' AND column_name = 'status'"
    ).fetchone()[0].startswith("状态")


def test_failed_run_is_recorded_but_never_latest(tmp_path):
    con = store.open_work(tmp_path, "r1")
    _record(con, "r1")
    store.publish(con, tmp_path, "r1")
    con.close()
    con = store.open_work(tmp_path, "r2")
    assert con.execute("SELECT run_id FROM hist.runs").fetchall() == [("r1",)]
    _record(con, "r2", status="failed")
    con.execute("INSERT INTO warnings (run_id, rule_code, in_roster, status) VALUES ('r2', 'W02', true, '新增')")
    store.publish(con, tmp_path, "r2", complete=False)
    con.close()
    cat = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    assert sorted(cat.execute("SELECT run_id, status FROM runs").fetchall()) == [
        ("r1", "completed"), ("r2", "failed")]
    assert cat.execute("SELECT count(*) FROM warnings").fetchone()[0] == 0
    assert cat.execute("SELECT run_id FROM latest_run").fetchall() == [("r1",)]


def test_an_open_connection_keeps_its_snapshot_until_it_reconnects(tmp_path):
    con = store.open_work(tmp_path, "r1")
    _record(con, "r1")
    store.publish(con, tmp_path, "r1")
    con.close()
    held = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    con = store.open_work(tmp_path, "r2")
    _record(con, "r2")
    con.execute("UPDATE runs SET as_of_date = DATE '2026-11-25'")
    store.publish(con, tmp_path, "r2")
    con.close()
    assert held.execute("SELECT run_id FROM latest_run").fetchall() == [("r1",)]
    assert held.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
    held.close()  # DuckDB shares one instance per path within a process: reconnecting means closing
    fresh = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    assert fresh.execute("SELECT run_id FROM latest_run").fetchall() == [("r2",)]


def test_leftovers_of_a_killed_run_are_removed_and_it_is_recorded_as_failed(tmp_path):
    con = store.open_work(tmp_path, "r1")
    _record(con, "r1")
    store.publish(con, tmp_path, "r1")
    con.close()
    before = (tmp_path / "warehouse.duckdb").read_bytes()
    con = store.open_work(tmp_path, "r2")
    con.execute("INSERT INTO runs (run_id, as_of_date, started_at, status) VALUES ('r2', DATE '2026-11-25', now(), 'running')")
    store.note_running(con, tmp_path, "r2")  # as the flow does once the run is recorded
    con.execute("INSERT INTO warnings (run_id, rule_code, in_roster, status) VALUES ('r2', 'W01', true, '新增')")
    con.close()  # the process "dies" here: nothing published
    (tmp_path / ".staging" / "r2").mkdir(parents=True)
    (tmp_path / ".staging" / "r2" / "warnings.parquet").write_bytes(b"half a file")
    assert (tmp_path / "warehouse.duckdb").read_bytes() == before
    with store.run_lock(tmp_path):
        assert store.recover_leftovers(tmp_path) == ["r2"]
    assert not list((tmp_path / ".work").iterdir()) and not list((tmp_path / ".staging").iterdir())
    cat = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    assert sorted(cat.execute("SELECT run_id, status, finished_at FROM runs").fetchall()) == [
        ("r1", "completed", cat.execute("SELECT finished_at FROM runs WHERE run_id = 'r1'").fetchone()[0]),
        ("r2", "failed", None)]
    assert cat.execute("SELECT count(*) FROM warnings").fetchone()[0] == 0
    assert cat.execute("SELECT run_id FROM latest_run").fetchall() == [("r1",)]
    (killed,) = [r for r in store.recent_runs(tmp_path) if r["run_id"] == "r2"]  # what `fangpin runs` shows
    assert killed["status"] == "failed" and killed["skipped"] == 0
    assert killed["error"].startswith("运行中断：进程在发布结果之前被终止")


def test_a_run_published_but_not_catalogued_is_catalogued_at_the_next_start(tmp_path):
    con = store.open_work(tmp_path, "r1")
    _record(con, "r1")
    store.publish(con, tmp_path, "r1")
    con.close()
    import os
    import time

    time.sleep(0.05)
    con = store.open_work(tmp_path, "r2")
    _record(con, "r2")
    con.execute("UPDATE runs SET as_of_date = DATE '2026-11-25'")
    staging = tmp_path / ".staging" / "r2"
    staging.mkdir(parents=True)
    con.execute(f"COPY runs TO '{staging / 'runs.parquet'}' (FORMAT parquet)")
    con.close()
    os.rename(staging, tmp_path / "store" / "r2")  # killed before the catalogue swap
    store.discard_work(tmp_path, "r2")
    assert store.catalogue_is_stale(tmp_path)
    with store.run_lock(tmp_path):
        store.recover_leftovers(tmp_path)
    cat = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    assert cat.execute("SELECT run_id FROM latest_run").fetchall() == [("r2",)]


def test_one_run_at_a_time_and_memory_settings(tmp_path):
    with store.run_lock(tmp_path):
        try:
            with store.run_lock(tmp_path):
                raise AssertionError("a second lock on the same OUT was granted")
        except store.RunInProgress:
            pass
    with store.run_lock(tmp_path):
        pass
    con = store.open_work(tmp_path, "r1", memory_limit="1GB", threads=1)
    assert con.execute("SELECT current_setting('threads')").fetchone()[0] == 1
    assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] in ("1.0 GiB", "953.6 MiB", "1.0 GB")
    con.close()
    store.discard_work(tmp_path, "r1")
    assert not list((tmp_path / ".work").iterdir())
