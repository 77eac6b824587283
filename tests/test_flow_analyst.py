"""An analyst holding warehouse.duckdb open (read-only, or read-write running queries) in another
process neither blocks the nightly run nor sees half of it: the held connection keeps the
previous complete run until it reconnects."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import duckdb
import pytest
from flow_inbox import make_inbox

from pipelines import flow

HOLDER = textwrap.dedent("""
    import duckdb, json, sys, threading
    path, read_only = sys.argv[1], sys.argv[2] == "ro"
    con = duckdb.connect(path, read_only=read_only)
    def look():
        return con.execute(
            "SELECT (SELECT run_id FROM latest_run), (SELECT count(*) FROM runs),"
            " (SELECT count(*) FROM health_settlements)").fetchone()
    print(json.dumps(look()), flush=True)
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
    queries = 0
    while not stop.is_set():
        con.execute("SELECT count(*), sum(length(s.name)) FROM health_settlements AS s, range(30)").fetchone()
        queries += 1
    held = look()
    con.close()
    con = duckdb.connect(path, read_only=read_only)
    print(json.dumps({"held": held, "queries": queries, "reconnected": look()}), flush=True)
""")


@pytest.mark.parametrize("mode", ["ro", "rw"])
def test_analyst_holding_the_catalogue_does_not_block_the_run(tmp_path, mode):
    inbox = make_inbox(tmp_path, households=40, settlements=20_000)
    config, out = tmp_path / "fangpin.toml", tmp_path / "out"
    first = flow.run_once(inbox, config, date(2026, 11, 23), out)
    catalogue = out / "warehouse.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(catalogue), mode],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        before = json.loads(holder.stdout.readline() or "null")
        assert before is not None, holder.stderr.read()
        assert before[:2] == [first.run_id, 1]

        second = flow.run_once(inbox, config, date(2026, 11, 24), out, reread=True)

        con = duckdb.connect(str(catalogue), read_only=True)
        assert con.execute("SELECT run_id FROM latest_run").fetchone()[0] == second.run_id
        con.close()
        holder.stdin.write("stop\n")
        holder.stdin.flush()
        after = json.loads(holder.stdout.readline() or "null")
        assert after is not None, holder.stderr.read()
    finally:
        try:
            holder.wait(timeout=60)
        except subprocess.TimeoutExpired:
            holder.kill()
            holder.wait()
    assert holder.returncode == 0
    assert after["queries"] > 0
    assert after["held"] == before
    assert after["reconnected"][:2] == [second.run_id, 2]
    assert after["reconnected"][2] == 2 * before[2]


def test_catalogue_views_name_their_files_by_absolute_path(tmp_path):
    inbox = make_inbox(tmp_path, households=10, settlements=10)
    out = tmp_path / "out"
    flow.run_once(inbox, tmp_path / "fangpin.toml", date(2026, 11, 24), out)
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    sql = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'households'").fetchone()[0]
    assert str((out / "store").resolve()) in sql and "*" not in sql.split("read_parquet", 1)[1]
    Path(tmp_path / "elsewhere").mkdir()
    cwd_independent = subprocess.run(
        [sys.executable, "-c", f"import duckdb; print(duckdb.connect({str(out / 'warehouse.duckdb')!r},"
         " read_only=True).execute('SELECT count(*) FROM households').fetchone()[0])"],
        cwd=tmp_path / "elsewhere", capture_output=True, text=True, timeout=60)
    assert cwd_independent.stdout.strip() == "10", cwd_independent.stderr
