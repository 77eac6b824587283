"""S01–S10 on small hand-made department tables in a real working DB, validated by GE in DuckDB."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from checks.expectations import build_suite, id_valid_sql
from checks.source_checks import run_source_checks
from core.config import Config
from core.context import RunContext
from pipelines import store
from sources.spec import spec_for_table

AS_OF = date(2026, 11, 24)
GOOD = "11010519491231002X"  # valid check character
GOOD2 = "110101199003074477"
BAD_CHECK = "110105194912310021"  # wrong check character


def _ctx(tmp_path: Path) -> RunContext:
    con = store.open_work(tmp_path, "r1")
    return RunContext(run_id="r1", as_of=AS_OF, inbox=tmp_path / "inbox", out=tmp_path, config=Config(), con=con)


def _file(con, table, folder, file, status="loaded", read=0, dups=0, reason=None, sheet=None):
    con.execute(
        "INSERT INTO input_files (run_id, folder, file, sheet, source_table, rows_read, rows_loaded,"
        " rows_rejected, duplicates, status, reason) VALUES ('r1', ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)",
        [folder, file, sheet, table if status == "loaded" or table else None, read, read - dups, dups, status, reason])


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("sc")
    ctx = _ctx(tmp_path)
    con = ctx.con
    _file(con, "health_settlements", "health_insurance", "hs.csv", read=5, dups=1)
    con.execute(f"""
        INSERT INTO health_settlements (run_id, id_number, township, township_raw, visit_type, admit_date,
            discharge_date, total_cost, basic_paid, critical_paid, assistance_paid, self_paid, source_row) VALUES
        ('r1', '{GOOD}', '红山镇', '红山乡', '住院', DATE '2026-11-01', DATE '2026-10-30', 100, 50, 10, 10, 30, 2),
        ('r1', '{BAD_CHECK}', '红山镇', '红山镇', '看病', DATE '2026-11-02', DATE '2026-12-05', 100, 50, 10, 10, 20.5, 3),
        ('r1', '{GOOD2}', NULL, '某某乡', '住院', DATE '2026-10-01', DATE '2026-10-03', 100, -5, NULL, 0, 105, 4),
        ('r1', '{GOOD2}', '青石乡', '青石', '门诊慢特病', NULL, DATE '2026-09-01', 80, 30, 0, 0, 50, 5)
    """)
    con.execute("""INSERT INTO rejects VALUES
        ('r1', 'health_settlements', 'hs.csv', NULL, 6, '身份证号被Excel转为科学计数法，无法恢复',
         '{"参保地乡镇": "红山乡", "身份证号": "6.20422E+17"}'),
        ('r1', 'health_settlements', 'hs.csv', NULL, 7, '身份证号长度错误', '{"参保地乡镇": "外县乡"}')""")
    # The ingest's note of unparsed cells, as kept in input_files when a folder is copied from the last run.
    _file(con, "disability_certificates", "disability", "dc.xlsx", read=3, sheet="Sheet1",
          reason="未能识别的值（按空值入库）：发证日期 2")
    con.execute(f"""
        INSERT INTO disability_certificates (run_id, id_number, cert_number, township, township_raw, category,
            grade, issued_date, cert_status, source_row) VALUES
        ('r1', '{GOOD}', '{GOOD}41', '红山镇', '红山镇', '肢体', '一级', DATE '2026-01-05', '有效', 2),
        ('r1', '{GOOD2}', '{GOOD2}52', '红山镇', '红山镇', '智力', '三级', DATE '2026-01-06', '有效', 3),
        ('r1', '{GOOD2}', '{GOOD2}6', '青石乡', '青石乡', '精神', '二级', DATE '2026-01-07', '作废', 4)
    """)
    # A housing file whose headers matched nothing: the whole department is unreadable.
    _file(con, None, "housing", "fw.xlsx", status="skipped", sheet="Sheet1",
          reason="表头未能识别：农村房屋安全鉴定[housing_assessments]缺少必需列 户主身份证号（尝试过：户主身份证号、"
                 "房主身份证号）；鉴定等级（尝试过：鉴定等级、安全等级）。文件中的表头：户主姓名、乡镇、村")
    # A civil-affairs file that looks most like the death registrations but lacks 死亡日期.
    _file(con, None, "civil_affairs", "sw.csv", status="skipped",
          reason="表头未能识别：火化/死亡登记[civil_affairs_deaths]缺少必需列 死亡日期（尝试过：死亡日期）；"
                 "救助对象[civil_affairs_assistance]缺少必需列 救助类型（尝试过：救助类型、保障类型）。"
                 "文件中的表头：姓名、身份证号、乡镇")
    # Cells the ingest could not parse, loaded as null and counted per column.
    ctx.notes["ingest_unparsed"] = {"health_settlements": {"admit_date": 2, "self_paid": 1}}
    result = run_source_checks(ctx)
    rows = con.execute(
        "SELECT source_table, check_code, township, checked, failed, detail FROM source_checks").fetchall()
    yield ctx, result, {(r[0], r[1], r[2]): r[3:] for r in rows}
    con.close()


def _cf(figures, table, code, township=None):
    checked, failed, _detail = figures[(table, code, township)]
    return checked, failed


def test_each_s_code_counts_checked_and_failed(checked):
    _ctx, _result, f = checked
    t = "health_settlements"
    assert _cf(f, t, "S01") == (3, 0)                 # 3 required columns, all found
    assert _cf(f, t, "S02") == (6, 3)                 # 4 loaded + 2 ID rejects; 1 bad check char + 2 rejects
    assert _cf(f, t, "S03") == (9, 3)                 # 7 dates, one after as-of; 2 unparsed
    assert "入院日期 无法识别 2" in f[(t, "S03", None)][2]
    assert _cf(f, t, "S04") == (4, 1)                 # 看病 not a known visit type
    assert _cf(f, t, "S05") == (20, 2)                # basic_paid -5; 1 unparsed self_paid
    assert _cf(f, t, "S06") == (6, 2)                 # balance: 3 complete rows, 1 off (20.5); dates: 1 of 3
    assert _cf(f, t, "S08") == (4, 1)                 # 某某乡 does not resolve
    assert _cf(f, t, "S09") == (1, 0)
    assert "2026-11-02" in f[(t, "S09", None)][2] and "22 天" in f[(t, "S09", None)][2]
    assert _cf(f, t, "S10") == (5, 1)
    d = "disability_certificates"
    assert _cf(f, d, "S07") == (3, 2)                 # 智力三级 should end 53; a 19-character number
    assert _cf(f, d, "S04") == (9, 1)                 # 作废 is not a certificate status
    assert _cf(f, d, "S09") == (1, 1)                 # newest 2026-01-07: stale
    assert _cf(f, d, "S03") == (5, 2)                 # 3 dates fine, 2 unparsed (from input_files.reason)


def test_per_township_figures_add_up_and_place_rejects(checked):
    _ctx, _result, f = checked
    t = "health_settlements"
    assert _cf(f, t, "S02", "红山镇") == (3, 2)       # 2 loaded (1 invalid) + the reject written 红山乡
    assert _cf(f, t, "S02", "青石乡") == (1, 0)
    assert ("health_settlements", "S02", "外县乡") not in f   # unresolvable reject: overall only
    assert _cf(f, t, "S06", "红山镇") == (4, 2)
    assert _cf(f, t, "S03", "红山镇") == (4, 1)
    assert not any(k[2] for k in f if k[1] in ("S01", "S08", "S09", "S10"))


def test_duckdb_counts_agree_with_ge_own_validator_and_docs_rendered(checked):
    """The run computes every expectation in DuckDB; GE's own SQL validator, run on the same
    tables, must find exactly the same unexpected counts."""
    from checks.ge_duckdb import GeDuckDB

    ctx, result, _f = checked
    ge = GeDuckDB(ctx.con)
    for table in result["expectations"]:
        ge.add(table, build_suite(table, AS_OF).gx_suite())
    by_ge = {}
    for table, results in ge.run().items():
        for r in results:
            assert not (r.exception_info or {}).get("raised_exception"), r.exception_info
            res = r.result or {}
            n = res["unexpected_count"] if "unexpected_count" in res else res["observed_value"]
            by_ge[(table, r.expectation_config.meta["key"])] = int(n or 0)
    ours = {(t, k): v[2] for t, counts in result["expectations"].items() for k, v in counts.items()}
    assert ours == by_ge and any(ours.values())
    docs = ctx.reports_dir / "data_docs" / "index.html"
    assert docs.exists() and result["data_docs"] == str(docs)
    html = "".join(p.read_text(encoding="utf-8", errors="ignore") for p in docs.parent.rglob("*.html"))
    assert "health_settlements" in html
    assert GOOD not in html and BAD_CHECK not in html   # no ID numbers in the Data Docs


def test_absent_and_unreadable_departments(checked):
    ctx, _result, f = checked
    assert f[("education_students", "S01", None)] == (0, 0, "未提供")
    checked_, failed, detail = f[("housing_assessments", "S01", None)]
    assert (checked_, failed) == (3, 2) and "fw.xlsx" in detail
    assert f[("civil_affairs_deaths", "S01", None)][:2] == (3, 1)
    assert f[("civil_affairs_assistance", "S01", None)] == (0, 0, "未提供")
    skipped = {s["name"] for s in ctx.skipped if s["kind"] == "source"}
    assert {"education_students", "housing_assessments", "civil_affairs_assistance"} <= skipped
    assert "health_settlements" not in skipped


def test_id_validity_sql_matches_gb11643(tmp_path):
    import duckdb

    from checks.sql import create_macros

    con = duckdb.connect()
    create_macros(con)
    sql = id_valid_sql("x")
    got = {v: con.execute(f"SELECT {sql} FROM (SELECT ?::VARCHAR AS x)", [v]).fetchone()[0]
           for v in (GOOD, GOOD2, BAD_CHECK, "11010519491331002X", "1101051949123100")}
    assert got == {GOOD: True, GOOD2: True, BAD_CHECK: False, "11010519491331002X": False,
                   "1101051949123100": False}


def test_suite_is_built_from_the_source_spec():
    suite = build_suite("civil_affairs_assistance", AS_OF)
    keys = {c.key for c in suite.checks}
    assert "known_values:assistance_type" in keys and "money_not_negative:amount" in keys
    assert "date_not_after_as_of:start_date" in keys
    assert "date_not_after_as_of:end_date" not in keys      # planned end dates may lie ahead
    assert len(suite.gx_suite().expectations) == len(suite.checks)


SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"


@pytest.mark.skipif(not (SAMPLE / "manifest.json").exists(), reason="data/sample not generated")
def test_sample_inbox_matches_its_manifest(tmp_path):
    """Real files (GBK CSV, xlsx with title rows, xls, Parquet) through the real ingest, then S01–S10:
    the rejects, duplicates, unresolvable townships and certificate mismatches the generator planted."""
    import json

    from core.config import load_config
    from sources.ingest import ingest_folder, resolve_townships

    manifest = json.loads((SAMPLE / "manifest.json").read_text(encoding="utf-8"))
    con = store.open_work(tmp_path, "s1")
    ctx = RunContext(run_id="s1", as_of=date.fromisoformat(manifest["as_of"]), inbox=SAMPLE / "inbox",
                     out=tmp_path, config=load_config(SAMPLE / "fangpin.toml"), con=con)
    from sources.spec import inbox_folders

    for folder in inbox_folders():
        ingest_folder(ctx, folder)
    resolve_townships(ctx)
    run_source_checks(ctx)
    got = {(t, c): (k, f) for t, c, k, f in con.execute(
        "SELECT source_table, check_code, checked, failed FROM source_checks WHERE township IS NULL").fetchall()}
    for table, rows in manifest["tables"].items():
        if table in ("households", "members", "measures"):
            continue
        assert got[(table, "S01")][1] == 0, table
        assert got[(table, "S02")] == (rows + manifest["rejects"][table]["count"],
                                       manifest["rejects"][table]["count"]), table
        assert got[(table, "S10")][1] == manifest["duplicates"][table], table
        if table in manifest["unresolved_townships"]:
            assert got[(table, "S08")] == (rows, manifest["unresolved_townships"][table]), table
        else:  # a register without townships (the 负面清单)
            assert (table, "S08") not in got or got[(table, "S08")][1] == 0, table
        # S09 checks one extract, or nothing when the extract has no date to judge by (学籍, 财政供养)
        assert got[(table, "S09")][0] == (1 if spec_for_table(table).dated else 0), table
    assert got[("disability_certificates", "S07")][1] == manifest["s07_mismatches"]
    per_town = con.execute(
        "SELECT source_table, check_code, sum(checked), sum(failed) FROM source_checks"
        " WHERE township IS NOT NULL AND check_code = 'S04' GROUP BY ALL").fetchall()
    for table, code, checked, failed in per_town:
        overall_checked, overall_failed = got[(table, code)]
        assert checked <= overall_checked and failed <= overall_failed
    con.close()


def test_province_extract_keeps_same_named_townships_of_two_counties_apart(tmp_path):
    ctx = _ctx(tmp_path)
    con = ctx.con
    _file(con, "civil_affairs_deaths", "civil_affairs", "sw.csv", read=3)
    con.execute(f"""
        INSERT INTO civil_affairs_deaths (run_id, county, id_number, township, township_raw, death_date, source_row)
        VALUES ('r1', '甲县', '{GOOD}', '城关镇', '城关镇', DATE '2026-11-01', 2),
               ('r1', '乙县', '{BAD_CHECK}', '城关镇', '城关', DATE '2026-11-02', 3),
               ('r1', '乙县', '{GOOD2}', '城关镇', '城关', DATE '2026-11-03', 4)""")
    con.execute("""INSERT INTO rejects VALUES ('r1', 'civil_affairs_deaths', 'sw.csv', NULL, 5,
        '身份证号无法恢复：被Excel转为科学计数法（6.2E+17）', '{"县": "乙县", "乡镇": "城关", "身份证号": "6.2E+17"}')""")
    run_source_checks(ctx)
    got = dict(((t, c), (k, f)) for t, c, k, f in con.execute(
        "SELECT township, check_code, checked, failed FROM source_checks"
        " WHERE source_table = 'civil_affairs_deaths' AND township IS NOT NULL").fetchall())
    assert got[("甲县/城关镇", "S02")] == (1, 0)
    assert got[("乙县/城关镇", "S02")] == (3, 2)          # 2 loaded (1 bad check char) + the reject
    assert ("城关镇", "S02") not in got
    con.close()
