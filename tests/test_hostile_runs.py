"""Whole runs on hostile inboxes (issue 11): missing data never reads as good news, and reports
publish with their run. Runs the flow as a plain function (no Prefect server)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import duckdb
import openpyxl
from flow_inbox import make_inbox

from pipelines import flow, store

AS_OF = date(2026, 11, 24)


def _latest(out: Path) -> str:
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute("SELECT run_id FROM latest_run").fetchone()[0]
    finally:
        con.close()


def _summary(out: Path, day: date) -> dict:
    return json.loads((out / "reports" / day.isoformat() / "summary.json").read_text("utf-8"))


def test_an_empty_inbox_or_a_missing_or_unreadable_roster_fails_and_the_previous_run_stays_latest(tmp_path):
    inbox = make_inbox(tmp_path)
    config, out = tmp_path / "fangpin.toml", tmp_path / "out"
    good = flow.run_once(inbox, config, AS_OF, out)
    assert good.notes["status"] == "completed"

    empty = tmp_path / "empty"
    empty.mkdir()
    no_roster = tmp_path / "no_roster"
    shutil.copytree(inbox, no_roster)
    shutil.rmtree(no_roster / "roster")
    broken = tmp_path / "broken"
    shutil.copytree(inbox, broken)
    for f in (broken / "roster").iterdir():
        f.write_bytes(b"\x00\x01\x02 not a roster")
    cases = [(empty, date(2026, 11, 25), "收件目录为空"), (no_roster, date(2026, 11, 26), "未提供花名册"),
             (broken, date(2026, 11, 27), "花名册无法读取")]
    for box, day, why in cases:
        ctx = flow.run_once(box, config, day, out)  # recorded as failed, said in words: nothing raised
        assert ctx.notes["status"] == "failed"
        summary = _summary(out, day)
        assert summary["status"] == "failed" and why in summary["error"] and "上一次完整运行" in summary["error"]
        assert sorted(p.name for p in (out / "reports" / day.isoformat()).iterdir()) == ["summary.json"]
        assert _latest(out) == good.run_id
    recent = store.recent_runs(out)
    assert [r["status"] for r in recent] == ["failed", "failed", "failed", "completed"]
    assert [why in r["error"] for r, (_b, _d, why) in zip(recent[:3], reversed(cases), strict=True)] == [True] * 3
    res = subprocess.run([str(Path(sys.executable).parent / "fangpin"), "runs", "--out", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "收件目录为空" in res.stdout and "Traceback" not in res.stdout + res.stderr


def _cells(path: Path):
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                yield ws.title, c


def test_a_department_that_vanished_is_flagged_and_fewer_findings_are_not_shown_as_better(tmp_path):
    inbox = make_inbox(tmp_path)
    config, out = tmp_path / "fangpin.toml", tmp_path / "out"
    flow.run_once(inbox, config, AS_OF, out)
    for f in (inbox / "health_insurance").iterdir():  # the share held nothing from 医保 this time
        f.unlink()
    day = date(2026, 12, 1)
    ctx = flow.run_once(inbox, config, day, out)
    assert ctx.notes["status"] == "completed"
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    s11 = dict(con.execute("SELECT source_table, failed FROM source_checks WHERE run_id = ? AND check_code = 'S11'",
                           [ctx.run_id]).fetchall())
    con.close()
    assert s11["health_settlements"] == 1 and s11["households"] == 0 and s11["civil_affairs_deaths"] == 0
    (drop,) = _summary(out, day)["volume_drops"]
    assert drop["table"] == "health_settlements" and "W01" in drop["rules"] and "本次未提供" in drop["detail"]
    reports = out / "reports" / day.isoformat()
    html = (reports / "scorecard.html").read_text("utf-8")
    assert "数据量骤降" in html and 'class="d better"' not in html
    assert openpyxl.load_workbook(reports / "scorecard.xlsx").sheetnames[0] == "数据量骤降警示"
    books = sorted((reports / "townships").glob("*.xlsx"))
    assert books
    for book in books:
        notes = openpyxl.load_workbook(book)["说明"]
        assert "数据量骤降" in str(notes["A3"].value) and "W01" in str(notes["A4"].value)
        assert not [(sheet, c.coordinate) for sheet, c in _cells(book) if c.data_type == "f"]


KILLER = textwrap.dedent("""
    import os, sys
    from datetime import date
    from pathlib import Path
    import reports.scorecard
    from pipelines import flow

    def die(ctx):  # the township workbooks are written; the process dies before the run publishes
        assert list((Path(ctx.reports_dir) / "townships").glob("*.xlsx"))
        os._exit(9)

    reports.scorecard.write_scorecard = die
    flow.run_once(Path(sys.argv[1]), Path(sys.argv[2]), date.fromisoformat(sys.argv[3]), Path(sys.argv[4]))
""")


def test_a_run_killed_after_writing_workbooks_leaves_no_report_folder_and_the_next_run_publishes_its_own(tmp_path):
    inbox = make_inbox(tmp_path)
    config, out = tmp_path / "fangpin.toml", tmp_path / "out"
    first = flow.run_once(inbox, config, AS_OF, out)
    before = sorted(p.name for p in (out / "reports" / AS_OF.isoformat() / "townships").iterdir())
    day = date(2026, 12, 2)
    proc = subprocess.run([sys.executable, "-c", KILLER, str(inbox), str(config), day.isoformat(), str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 9, proc.stdout + proc.stderr
    assert not (out / "reports" / day.isoformat()).exists()  # nothing of the dead run's own
    assert sorted(p.name for p in (out / "reports" / AS_OF.isoformat() / "townships").iterdir()) == before
    assert _latest(out) == first.run_id

    again = flow.run_once(inbox, config, day, out)  # recovers the dead run (recorded failed), publishes its own
    assert [r["status"] for r in store.recent_runs(out)] == ["completed", "failed", "completed"]
    assert sorted(p.name for p in (out / "reports" / day.isoformat()).iterdir()) == [
        "data_docs", "scorecard.html", "scorecard.xlsx", "summary.json", "townships"]
    assert _summary(out, day)["run_id"] == again.run_id
    assert not list((out / ".work").iterdir()) and not list((out / ".staging").iterdir())
    assert not list(store.store_dir(out).glob("*/reports"))
