"""The nightly flow as operators rely on it: run records, summary.json, skip-unchanged folders,
retries, failed runs, reruns that give identical findings, a run killed halfway, `fangpin runs`."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import openpyxl
import pytest
from flow_inbox import id_number, make_inbox

from pipelines import flow, store

ROOT = Path(__file__).resolve().parent.parent
FANGPIN = Path(sys.executable).parent / "fangpin"
AS_OF = date(2026, 11, 24)


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    root = tmp_path_factory.mktemp("county")
    inbox = make_inbox(root)
    return inbox, root / "fangpin.toml"


def _run(inbox, config, out, as_of=AS_OF, **kw):
    return flow.run_once(inbox, config, as_of, out, **kw)


def _catalogue(out):
    return duckdb.connect(str(Path(out) / "warehouse.duckdb"), read_only=True)


def _copy_inbox(inbox, dest):
    shutil.copytree(inbox, dest)
    return dest


def test_run_records_timings_fingerprints_counts_and_summary(county, tmp_path):
    inbox, config = county
    ctx = _run(inbox, config, tmp_path / "out")
    con = _catalogue(tmp_path / "out")
    status, fps, counts, stages, skipped, summary = con.execute(
        "SELECT status, fingerprints, row_counts, stage_seconds, skipped, summary FROM runs"
    ).fetchone()
    assert status == "completed"
    fps = json.loads(fps)
    settlements = fps["health_insurance"][0]
    assert settlements["file"] == "health_insurance/住院结算.csv"
    assert settlements["size"] == (inbox / "health_insurance" / "住院结算.csv").stat().st_size
    assert len(settlements["sha256"]) == 64
    assert json.loads(counts)["health_settlements"]["rows"] == ctx.notes["summary"]["tables"]["health_settlements"]["rows"]
    assert json.loads(counts)["households"]["rows"] == 40
    stages = json.loads(stages)
    assert {"ingest", "screening", "logic", "reports"} <= set(stages)
    assert all(v >= 0 for v in stages.values())
    assert isinstance(json.loads(skipped), list)
    assert con.execute(
        "SELECT count(*) FROM input_files WHERE status = 'loaded' AND fingerprint IS NULL"
    ).fetchone()[0] == 0
    assert con.execute("SELECT seconds FROM run_stage_seconds WHERE stage = 'ingest'").fetchone()[0] == stages["ingest"]
    assert con.execute("SELECT count(*) FROM latest_input_files").fetchone()[0] == con.execute(
        "SELECT count(*) FROM input_files").fetchone()[0] > 0

    on_disk = json.loads((tmp_path / "out" / "reports" / "2026-11-24" / "summary.json").read_text("utf-8"))
    assert on_disk["run_id"] == ctx.run_id and on_disk["status"] == "completed"
    assert on_disk["as_of"] == "2026-11-24"
    assert on_disk["sources"]["households"]["rows_loaded"] == 40
    assert set(on_disk["stage_seconds"]) >= {"ingest", "publish"}
    timings = ("stage_seconds", "stage_cpu_seconds", "peak_rss_mb")  # summary.json's include publishing
    assert on_disk == {**json.loads(summary), **{k: on_disk[k] for k in timings}}
    assert set(on_disk["stage_cpu_seconds"]) >= {"ingest", "reports", "publish"}
    text = json.dumps(on_disk, ensure_ascii=False)
    assert id_number(0) not in text and "户主0" not in text
    # Data Docs come from the run's worker process (checks/ge_docs.py), rendered before publishing
    docs = tmp_path / "out" / "reports" / "2026-11-24" / "data_docs"
    assert (docs / "index.html").exists() and list((docs / "validations" / "health_settlements").rglob("*.html"))
    assert not [s for s in on_disk["skipped"] if s["kind"] == "report"]


def test_unchanged_folders_are_copied_not_reread(county, tmp_path):
    inbox = _copy_inbox(county[0], tmp_path / "inbox")
    config, out = county[1], tmp_path / "out"
    first = _run(inbox, config, out)
    second = _run(inbox, config, out, as_of=date(2026, 11, 25))
    sent = sorted(p.name for p in inbox.iterdir())
    assert second.notes["reused"] == {f: first.run_id for f in sent}
    def file_skips(ctx):
        return sorted((e["kind"], e["name"]) for e in ctx.skipped if e["kind"] in ("file", "sheet"))
    assert file_skips(first) == [("sheet", "civil_affairs/低保名册.xlsx[说明]")]
    assert file_skips(second) == file_skips(first)
    con = _catalogue(out)
    per_run = dict(con.execute(
        "SELECT run_id, list(struct_pack(t := source_table, r := rows_loaded) ORDER BY source_table, file)"
        " FROM input_files GROUP BY run_id").fetchall())
    assert per_run[first.run_id] == per_run[second.run_id]
    assert con.execute(
        "SELECT count(DISTINCT run_id), count(*) FILTER (WHERE run_id = ?) * 2 = count(*) FROM health_settlements",
        [second.run_id]).fetchone() == (2, True)
    con.close()

    with (inbox / "housing" / "房屋鉴定.csv").open("a", encoding="utf-8") as fh:
        fh.write(f"户主10,{id_number(10)},红山镇,红山村1,C级,2026-06-01,未改造,是\n")
    third = _run(inbox, config, out, as_of=date(2026, 11, 26))
    assert "housing" not in third.notes["reused"] and "roster" in third.notes["reused"]
    con = _catalogue(out)
    assert con.execute("SELECT count(*) FROM housing_assessments WHERE run_id = ?",
                       [third.run_id]).fetchone()[0] == 2
    con.close()

    fourth = _run(inbox, config, out, as_of=date(2026, 11, 26), reread=True)
    assert fourth.notes["reused"] == {}


def test_a_roster_change_rereads_only_the_roster_and_an_earlier_date_rereads_all(county, tmp_path):
    inbox = _copy_inbox(county[0], tmp_path / "inbox")
    out = tmp_path / "out"
    first = _run(inbox, county[1], out)
    members = inbox / "roster" / "家庭成员.csv"
    members.write_bytes(members.read_bytes() + "H00001,新生儿,".encode() + id_number(777, "20260101").encode()
                        + ",女,之孙女,非在校生,健康,无劳动力,是,否,否,正常\n".encode())
    second = _run(inbox, county[1], out)
    sent = sorted(p.name for p in inbox.iterdir())
    assert second.notes["reused"] == {f: first.run_id for f in sent if f != "roster"}
    con = _catalogue(out)
    assert con.execute("SELECT count(*) FROM members WHERE run_id = ?", [second.run_id]).fetchone()[0] == 81
    towns = con.execute("SELECT run_id, count(township) FROM health_settlements GROUP BY ALL").fetchall()
    assert len({n for _, n in towns}) == 1 and towns[0][1] > 0
    con.close()
    earlier = _run(inbox, county[1], out, as_of=date(2026, 11, 1))
    assert earlier.notes["reused"] == {}


def test_transient_file_error_is_retried_without_doubling_rows(county, tmp_path, monkeypatch):
    import sources.ingest

    real = sources.ingest.ingest_folder
    calls = {"housing": 0}

    def flaky(ctx, folder, *part):
        if folder == "housing":
            calls["housing"] += 1
            if calls["housing"] == 1:
                real(ctx, folder, *part)
                raise PermissionError("房屋鉴定.csv is being written by another program")
        return real(ctx, folder, *part)

    monkeypatch.setattr(sources.ingest, "ingest_folder", flaky)
    monkeypatch.setattr(flow.time, "sleep", lambda s: None)
    ctx = _run(county[0], county[1], tmp_path / "out")
    assert calls["housing"] == 2
    con = _catalogue(tmp_path / "out")
    assert con.execute("SELECT count(*) FROM housing_assessments WHERE run_id = ?", [ctx.run_id]).fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM input_files WHERE folder = 'housing'").fetchone()[0] == 1


def _broken_stage(ctx):
    raise KeyError("a bug in a stage")


def test_a_bug_is_not_retried_and_the_failed_run_is_recorded_but_never_latest(county, tmp_path, monkeypatch):
    import sources.ingest

    out = tmp_path / "out"
    good = _run(county[0], county[1], out)
    real, calls = sources.ingest.ingest_folder, []

    def buggy(ctx, folder, *part):
        if folder == "education":
            calls.append(folder)
            raise KeyError("学段")
        return real(ctx, folder, *part)

    monkeypatch.setattr(sources.ingest, "ingest_folder", buggy)
    with pytest.raises(KeyError):
        _run(county[0], county[1], out, as_of=date(2026, 11, 25), reread=True)
    assert calls == ["education"]
    monkeypatch.setattr(sources.ingest, "ingest_folder", real)
    monkeypatch.setitem(flow.STAGE_FUNCTIONS, "logic", _broken_stage)
    with pytest.raises(KeyError):
        _run(county[0], county[1], out, as_of=date(2026, 11, 26))

    con = _catalogue(out)
    rows = con.execute("SELECT status, as_of_date, finished_at IS NOT NULL FROM runs ORDER BY started_at").fetchall()
    assert rows == [("completed", AS_OF, True), ("failed", date(2026, 11, 25), True),
                    ("failed", date(2026, 11, 26), True)]
    assert con.execute("SELECT run_id FROM latest_run").fetchone()[0] == good.run_id
    assert con.execute("SELECT DISTINCT run_id FROM households").fetchall() == [(good.run_id,)]
    for day, stage in (("2026-11-25", "ingest"), ("2026-11-26", "logic")):
        summary = json.loads((out / "reports" / day / "summary.json").read_text("utf-8"))
        assert summary["status"] == "failed" and summary["error"] == flow.stage_error(stage, KeyError())
    assert not list((out / ".work").glob("*.running")) and not list((out / ".staging").iterdir())


def test_a_second_run_on_the_same_out_is_refused(county, tmp_path):
    out = tmp_path / "out"
    with store.run_lock(out), pytest.raises(store.RunInProgress):
        _run(county[0], county[1], out)
    assert not (out / "store").exists()


def _findings(out, run_id):
    con = _catalogue(out)
    result = {}
    for table in ("warnings", "logic_errors", "record_links", "source_checks"):
        cols = [c for (c,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND column_name <> 'run_id'"
            " ORDER BY column_index", [table]).fetchall()]
        rows = con.execute(
            f"SELECT {', '.join(cols)} FROM {table} WHERE run_id = ? ORDER BY ALL", [run_id]
        ).fetchall()
        result[table] = [tuple("<self>" if v == run_id else v for v in r) for r in rows]
    con.close()
    return result


def _workbook_cells(folder: Path, run_id: str) -> dict:
    """Every cell of every workbook under folder, the run's own id replaced by a placeholder."""
    cells = {}
    for path in sorted(folder.rglob("*.xlsx")):
        wb = openpyxl.load_workbook(path, read_only=True)
        cells[path.relative_to(folder).as_posix()] = {
            ws.title: [tuple(v.replace(run_id, "<run>") if isinstance(v, str) else v for v in row)
                       for row in ws.iter_rows(values_only=True)]
            for ws in wb.worksheets
        }
        wb.close()
    return cells


def test_rerun_of_the_same_inbox_and_date_gives_identical_findings_and_workbooks(county, tmp_path):
    inbox, config = county
    out = tmp_path / "out"
    earlier = _run(inbox, config, out, as_of=date(2026, 10, 24))
    first = _run(inbox, config, out)
    reports = out / "reports" / "2026-11-24"
    kept = tmp_path / "first-reports"
    shutil.copytree(reports, kept)
    second = _run(inbox, config, out, reread=True)
    a, b = _findings(out, first.run_id), _findings(out, second.run_id)
    assert a["warnings"], "the test county should raise warnings"
    assert a == b
    first_seen = {r for r in a["warnings"]}
    assert any(earlier.run_id in r for r in first_seen), "持续 warnings carry the earlier run as first seen"
    workbooks = _workbook_cells(reports, second.run_id)
    assert workbooks == _workbook_cells(kept, first.run_id)
    assert any(name.startswith("townships/") for name in workbooks), "township workbooks were written"
    assert second.notes["results_from"] is None  # --reread computes everything

    # Nothing changed since: the findings are taken from the last run, not computed, and are the same
    third = _run(inbox, config, out)
    assert third.notes["results_from"] == second.run_id
    assert not {"source_checks", "linkage", "screening"} & set(third.stage_seconds)
    assert "reuse_results" in third.stage_seconds
    assert _findings(out, third.run_id) == a
    assert sorted(map(str, third.skipped)) == sorted(map(str, second.skipped))
    assert _workbook_cells(reports, third.run_id) == workbooks
    docs = list((reports / "data_docs" / "validations").rglob("*.html"))
    assert docs and any(third.run_id in p.read_text("utf-8") for p in docs)  # rendered again, this run's

    # A workbook changed in the published folder after the run: the findings are computed afresh
    book = next(reports.glob("townships/*.xlsx"))
    os.utime(book, (time.time() + 5, time.time() + 5))
    assert _run(inbox, config, out).notes["results_from"] is None
    # Another version of the rules or the workbook's layout: computed afresh as well
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(flow, "rules_digest", lambda: "another version")
        assert _run(inbox, config, out).notes["results_from"] is None

    # Another as-of date, or a returned workbook in the inbox, computes them again
    assert _run(inbox, config, out, as_of=date(2026, 11, 25)).notes["results_from"] is None
    again = _copy_inbox(inbox, tmp_path / "with-feedback")
    (again / "feedback").mkdir()
    shutil.copy(next(reports.glob("townships/*.xlsx")), again / "feedback")
    assert _run(again, config, out, as_of=date(2026, 11, 25)).notes["reused"]
    assert _run(again, config, out, as_of=date(2026, 11, 25)).notes["results_from"] is None


def _wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _snapshot(out):
    con = _catalogue(out)
    snap = (con.execute("SELECT run_id, status FROM runs ORDER BY ALL").fetchall(),
            con.execute("SELECT run_id FROM latest_run").fetchall(),
            con.execute("SELECT count(*) FROM health_settlements").fetchone()[0])
    con.close()
    return snap


def _children(pid: int, needle: str) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if ppid == pid and needle in (stat.parent / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(stat.parent.name))
    return found


def test_a_run_killed_mid_ingest_leaves_the_warehouse_as_it_was(tmp_path):
    inbox = make_inbox(tmp_path, households=40, settlements=600_000)
    config, out = tmp_path / "fangpin.toml", tmp_path / "out"
    flow.run_once(inbox, config, AS_OF, out, reread=True)
    before = _snapshot(out)
    catalogue_bytes = (out / "warehouse.duckdb").read_bytes()

    env = {**os.environ, "PREFECT_API_URL": ""}
    proc = subprocess.Popen(
        [str(FANGPIN), "run", "--inbox", str(inbox), "--config", str(config), "--as-of", "2026-11-25",
         "--out", str(out), "--reread"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    try:
        seen = []
        for line in proc.stdout:
            seen.append(line)
            if "✓ 读取" in line:
                break
        assert any("✓ 读取" in line for line in seen), "".join(seen)
        assert not any("health_insurance" in line for line in seen), "settlements already read: kill came late"
        assert list((out / ".work").glob("*.running")), "the run is building in .work/"
        assert not _children(proc.pid, "prefect.server"), "no Prefect server without PREFECT_API_URL"
        (worker,) = _children(proc.pid, "checks.ge_docs")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 30
        while Path(f"/proc/{worker}").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not Path(f"/proc/{worker}").exists(), "the Data Docs worker outlived the killed run"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # only if the test failed before the kill
    assert proc.returncode == -signal.SIGKILL
    assert _snapshot(out) == before
    assert (out / "warehouse.duckdb").read_bytes() == catalogue_bytes

    after = flow.run_once(inbox, config, date(2026, 11, 25), out)
    runs, latest, _ = _snapshot(out)
    assert latest == [(after.run_id,)]
    assert [s for _, s in runs] == ["completed", "failed", "completed"]
    assert not list((out / ".work").glob("*.running")) and not any((out / ".staging").iterdir())
    assert after.notes["recovered"] and after.notes["recovered"][0] not in {before[1][0][0], after.run_id}


def test_fangpin_run_prints_a_summary_and_fangpin_runs_lists_it(county, tmp_path):
    inbox, config = county
    out = tmp_path / "out"
    env = {**os.environ, "PREFECT_API_URL": ""}
    res = subprocess.run(
        [str(FANGPIN), "run", "--inbox", str(inbox), "--config", str(config), "--as-of", "2026-11-24",
         "--out", str(out)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "运行完成" in res.stdout
    assert "医保结算（health_settlements）" in res.stdout and "报表目录：" in res.stdout
    assert str((out / "reports" / "2026-11-24").resolve()) in res.stdout
    assert id_number(0) not in res.stdout
    # plain Chinese for the county officer: no English sentence, no configuration key
    assert not re.search(r"[A-Za-z]{2,} [A-Za-z]{2,} [A-Za-z]{2,}", res.stdout), res.stdout
    from core.config import DEFAULT_THRESHOLDS, TOP_LEVEL_KEYS

    assert not [k for k in (*DEFAULT_THRESHOLDS, *TOP_LEVEL_KEYS) if "_" in k and k in res.stdout]

    listed = subprocess.run([str(FANGPIN), "runs", "--out", str(out), "--json"],
                            capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(rows) == 1 and rows[0]["status"] == "completed" and rows[0]["as_of"] == "2026-11-24"
    assert rows[0]["rows_loaded"] > 0 and rows[0]["warnings"] > 0
    table = subprocess.run([str(FANGPIN), "runs", "--out", str(out)], capture_output=True, text=True, timeout=60)
    assert rows[0]["run_id"] in table.stdout and "完成" in table.stdout and "开始时间（北京时间）" in table.stdout

    bad = subprocess.run([str(FANGPIN), "run", "--inbox", str(tmp_path / "nope"), "--out", str(out)],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2


def test_catalogue_rebuilt_after_moving_out(county, tmp_path):
    out = tmp_path / "out"
    ctx = _run(county[0], county[1], out)
    moved = tmp_path / "elsewhere"
    out.rename(moved)
    res = subprocess.run([str(FANGPIN), "catalog", "--out", str(moved)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    con = _catalogue(moved)
    assert con.execute("SELECT run_id FROM latest_run").fetchone()[0] == ctx.run_id
    assert con.execute("SELECT count(*) FROM households").fetchone()[0] == 40


def test_summary_masks_id_numbers_quoted_from_an_unrecognised_file(county, tmp_path):
    inbox = _copy_inbox(county[0], tmp_path / "inbox")
    (inbox / "education" / "无表头.csv").write_text(f"孩子1,{id_number(501, '20150601')},红山镇,小学\n", "utf-8")
    ctx = _run(inbox, county[1], tmp_path / "out", reread=True)
    assert any(f["file"] == "education/无表头.csv" for f in ctx.notes["summary"]["files_skipped"])
    text = (tmp_path / "out" / "reports" / "2026-11-24" / "summary.json").read_text("utf-8")
    assert id_number(501, "20150601") not in text


def test_a_file_the_share_failed_to_deliver_is_read_again_and_a_bad_one_is_reported(county, tmp_path, monkeypatch):
    import sources.ingest

    real, calls = sources.ingest.read_grids, []

    def share(path, *args, **kwargs):
        if path.name == "房屋鉴定.csv":
            calls.append(path.name)
            if len(calls) == 1 or broken:
                raise PermissionError(13, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(sources.ingest, "read_grids", share)
    monkeypatch.setattr(flow, "RETRY_DELAY_SECONDS", 0)
    broken = False
    ctx = _run(county[0], county[1], tmp_path / "out", reread=True)
    assert calls == ["房屋鉴定.csv", "房屋鉴定.csv"]
    con = _catalogue(tmp_path / "out")
    assert con.execute("SELECT status FROM input_files WHERE folder = 'housing'").fetchall() == [("loaded",)]
    assert con.execute("SELECT count(*) FROM housing_assessments").fetchone()[0] == 1
    con.close()
    assert not [e for e in ctx.skipped if e["name"].startswith("housing/")]

    calls.clear()
    broken = True
    ctx = _run(county[0], county[1], tmp_path / "out", as_of=date(2026, 11, 25), reread=True)
    assert len(calls) == flow.INGEST_RETRIES + 1
    assert ctx.notes["summary"]["status"] == "completed"
    con = _catalogue(tmp_path / "out")
    assert con.execute("SELECT status FROM input_files WHERE folder = 'housing' AND run_id = ?",
                       [ctx.run_id]).fetchall() == [("unreadable",)]
    con.close()
    assert [e["name"] for e in ctx.skipped if e["name"].startswith("housing/")] == ["housing/房屋鉴定.csv"]


def test_fangpin_run_exits_2_when_another_run_holds_out(county, tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "PREFECT_API_URL": ""}
    with store.run_lock(out):
        res = subprocess.run(
            [str(FANGPIN), "run", "--inbox", str(county[0]), "--config", str(county[1]), "--out", str(out)],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "另一次 fangpin 运行正在使用输出目录" in res.stdout
    assert "临时 Prefect 服务" not in res.stdout and "Traceback" not in res.stderr
    assert not (out / "store").exists()


def test_a_department_whose_every_row_is_rejected_still_completes_the_run(tmp_path):
    """GE reports unexpected_count None on an empty table; the run must not fail on it."""
    inbox = make_inbox(tmp_path, households=10, settlements=20)
    path = inbox / "disability" / "残疾人证.csv"
    path.unlink()
    path.with_name("残疾人证.csv").write_bytes(
        "姓名,身份证号,残疾证号,乡镇,残疾类别,残疾等级,发证日期,证件状态\n"
        "甲,6.20422E+17,6.20422E+19,红山镇,肢体,二级,2026-02-01,有效\n"
        "乙,,,青石乡,智力,三级,2026-03-01,有效\n".encode("gbk"))
    ctx = flow.run_once(inbox, tmp_path / "fangpin.toml", AS_OF, tmp_path / "out")
    con = duckdb.connect(str(tmp_path / "out" / "warehouse.duckdb"), read_only=True)
    assert con.execute("SELECT status FROM runs WHERE run_id = ?", [ctx.run_id]).fetchone() == ("completed",)
    assert con.execute("SELECT count(*) FROM disability_certificates").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM rejects WHERE source_table = 'disability_certificates'"
                       ).fetchone() == (2,)
    assert con.execute("SELECT checked, failed FROM source_checks WHERE source_table = 'disability_certificates'"
                       " AND check_code = 'S07' AND township IS NULL").fetchone() == (0, 0)
    con.close()


def test_data_docs_that_fail_to_render_are_reported_skipped_and_the_run_goes_on(tmp_path):
    """The S figures are in source_checks either way; a Data Docs worker that died is named, not fatal."""
    from types import SimpleNamespace

    from core.config import Config
    from core.context import RunContext

    class Broken:
        _sent = True

        def result(self):
            raise RuntimeError("Data Docs worker failed: MemoryError")

    ctx = RunContext(run_id="r", as_of=AS_OF, inbox=tmp_path, out=tmp_path, config=Config(), con=SimpleNamespace())
    ctx.notes["docs_worker"] = Broken()
    assert flow.await_data_docs(ctx) is None
    assert [s["kind"] for s in ctx.skipped] == ["report"] and "MemoryError" in ctx.skipped[0]["reason"]
