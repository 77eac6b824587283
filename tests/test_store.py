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
        "SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'main' AND comment IS NULL"
        " AND table_name IN (SELECT view_name FROM duckdb_views() WHERE NOT internal)"
        " AND table_name NOT LIKE 'latest_%'"
    ).fetchone()[0]
    assert undocumented == 0


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
