"""The scorecard: its figures equal counts queried from the warehouse, it holds no personal data,
it is deterministic, and it renders in headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest

from core.config import Config
from core.context import RunContext
from pipelines import store
from reports.scorecard import write_scorecard

PREV, CUR = date(2026, 10, 24), date(2026, 11, 24)
TOWNS = [("示例县", "红山镇", 6), ("示例县", "青石乡", 4), ("东川县", "白水镇", 5)]
NAMES = ["张三丰", "李四娃", "王小二", "赵六斤", "钱七妹"]


def _pid(n: int) -> str:
    """A made-up 18-character ID number (personal data that must never reach the scorecard)."""
    return f"62042219800101{n:04d}"


def _populate(con, run_id: str, as_of: date, shift: int) -> None:
    con.execute(
        "INSERT INTO runs (run_id, as_of_date, started_at, finished_at, status, county)"
        " VALUES (?, ?, now(), now(), 'running', '示例县')", [run_id, as_of])
    n = 0
    for county, town, households in TOWNS:
        for h in range(households):
            hid = f"{town}-{h:03d}"
            n += 1
            con.execute(
                "INSERT INTO households (run_id, household_id, county, township, village, head_name, head_id_number)"
                " VALUES (?, ?, ?, ?, '一村', ?, ?)", [run_id, hid, county, town, NAMES[n % 5], _pid(n)])
            for k in range(3):
                status = "死亡" if k == 2 and h % 2 else "正常"
                con.execute(
                    "INSERT INTO members (run_id, household_id, name, id_number, status) VALUES (?, ?, ?, ?, ?)",
                    [run_id, hid, NAMES[(n + k) % 5], _pid(1000 + n * 3 + k), status])
            # logic errors: household h of each township gets (h + shift) % 3 errors
            for e in range((h + shift) % 3):
                con.execute(
                    "INSERT INTO logic_errors (run_id, rule_code, household_id, id_number, name, county, township,"
                    " village, detail) VALUES (?, ?, ?, ?, ?, ?, ?, '一村', '说明')",
                    [run_id, f"L{(h + e) % 24 + 1:02d}", hid, _pid(n), NAMES[n % 5], county, town])
            if h % 2 == 0:
                verification = {0: None, 1: "属实-已纳入监测", 2: "不属实"}[(h // 2) % 3]
                deadline = date(2026, 11, 1) if h % 4 == 0 else date(2026, 12, 20)
                con.execute(
                    "INSERT INTO warnings (run_id, rule_code, household_id, id_number, name, county, township,"
                    " in_roster, status, deadline, verification) VALUES (?, ?, ?, ?, ?, ?, ?, true, ?, ?, ?)",
                    [run_id, f"W{h % 10 + 1:02d}", hid, _pid(n), NAMES[n % 5], county, town,
                     "持续" if shift else "新增", deadline, verification])
    # an out-of-roster warning and a resolved one (not counted)
    con.execute(
        "INSERT INTO warnings (run_id, rule_code, id_number, name, county, township, in_roster, status, deadline)"
        " VALUES (?, 'W05', ?, '孙八两', '示例县', '红山镇', false, '新增', DATE '2027-02-01'),"
        "        (?, 'W01', ?, '周九九', '示例县', '红山镇', true, '已解除', NULL)",
        [run_id, _pid(9001), run_id, _pid(9002)])
    con.execute(
        "INSERT INTO input_files (run_id, folder, file, source_table, rows_read, rows_loaded, rows_rejected,"
        " duplicates, status) VALUES (?, 'health_insurance', 'js.csv', 'health_settlements', 120, 110, 8, 2,"
        " 'loaded')", [run_id])
    con.execute(
        "INSERT INTO rejects SELECT ?, 'health_settlements', 'js.csv', NULL, 10 + i, '身份证号无效：校验位错误',"
        " '{}' FROM range(?) t(i)", [run_id, 8 - shift])
    rows = [("health_settlements", "S01", None, 3, 0, "1 个文件"), ("health_settlements", "S02", None, 118, 8 - shift, ""),
            ("health_settlements", "S02", "红山镇", 60, 5, None), ("health_settlements", "S02", "青石乡", 58, 3 - shift, None),
            ("health_settlements", "S05", None, 550, 2, ""), ("health_settlements", "S09", None, 1, 0,
                                                               "最新日期 2026-11-20，距基准日 4 天（阈值 45 天）"),
            ("health_settlements", "S10", None, 120, 2, ""), ("education_students", "S01", None, 0, 0, "未提供")]
    con.executemany(
        "INSERT INTO source_checks (run_id, source_table, check_code, township, checked, failed, detail)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)", [(run_id, *r) for r in rows])


@pytest.fixture(scope="module")
def scorecard(tmp_path_factory):
    out = tmp_path_factory.mktemp("sc")
    con = store.open_work(out, "r-prev")
    _populate(con, "r-prev", PREV, 0)
    con.execute("UPDATE runs SET status = 'completed'")
    store.publish(con, out, "r-prev")
    con.close()
    con = store.open_work(out, "r-cur")
    _populate(con, "r-cur", CUR, 1)
    ctx = RunContext(run_id="r-cur", as_of=CUR, inbox=out, out=out, config=Config(), con=con)
    paths = write_scorecard(ctx)
    yield ctx, paths
    con.close()


class _Cells(HTMLParser):
    """data-col cells of each data-key row of each table id."""

    def __init__(self):
        super().__init__()
        self.table = self.key = self.col = None
        self.cells: dict[tuple[str, str, str], str] = {}
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and "id" in a:
            self.table = a["id"]
        elif tag == "tr":
            self.key = a.get("data-key")
        elif "data-col" in a and self.col is None:
            self.col, self.depth, self.buf = a["data-col"], 0, ""
        elif self.col is not None:
            self.depth += 1

    def handle_endtag(self, tag):
        if self.col is None:
            return
        if self.depth == 0:
            self.cells[(self.table, self.key, self.col)] = self.buf.strip()
            self.col = None
        else:
            self.depth -= 1

    def handle_data(self, data):
        if self.col is not None and self.depth == 0:
            self.buf += data


def _html_cells(path: Path) -> dict:
    p = _Cells()
    p.feed(path.read_text(encoding="utf-8"))
    return p.cells


def _num(text: str) -> int:
    return int(text.replace(",", ""))


def test_logic_errors_per_township_and_rule_equal_the_warehouse(scorecard):
    ctx, (html, xlsx) = scorecard
    cells = _html_cells(html)
    con = ctx.cursor()
    expected = con.execute(
        "SELECT county || '/' || township, rule_code, count(*) FROM logic_errors GROUP BY ALL").fetchall()
    assert expected
    for key, code, n in expected:
        assert _num(cells[("logic_by_rule", key, code)]) == n
    ws = openpyxl.load_workbook(xlsx)["逻辑错误按规则"]
    header = [c.value for c in ws[2]]
    ranks = [c.value for c in ws["A"][2:]]
    assert header[:3] == ["排名", "县", "乡镇"] and ranks == sorted(ranks)   # the ranking's order
    for row in ws.iter_rows(min_row=3, values_only=True):
        key = f"{row[1]}/{row[2]}"
        for code in (h for h in header if h and h.startswith("L")):
            want = next((n for k, c, n in expected if k == key and c == code), 0)
            assert row[header.index(code)] == want


def test_township_figures_equal_the_warehouse(scorecard):
    ctx, (html, xlsx) = scorecard
    cells = _html_cells(html)
    con = ctx.cursor()
    for county, town, hh, members, err_hh, warns, overdue in con.execute("""
        SELECT h.county, h.township, count(DISTINCT h.household_id),
               (SELECT count(*) FROM members m JOIN households x USING (household_id)
                 WHERE x.township = h.township AND m.status = '正常'),
               (SELECT count(DISTINCT household_id) FROM logic_errors e WHERE e.township = h.township),
               (SELECT count(*) FROM warnings w WHERE w.township = h.township AND status <> '已解除'),
               (SELECT count(*) FROM warnings w WHERE w.township = h.township AND status <> '已解除'
                  AND deadline < DATE '2026-11-24' AND verification IS NULL)
        FROM households h GROUP BY ALL""").fetchall():
        key = f"{county}/{town}"
        assert _num(cells[("townships", key, "households")]) == hh
        assert _num(cells[("townships", key, "members")]) == members
        assert _num(cells[("townships", key, "error_households")]) == err_hh
        assert cells[("townships", key, "error_share")] == f"{err_hh / hh * 100:.1f}%"
        assert _num(cells[("townships", key, "warnings")].split("▲")[0].split("▼")[0].split("＝")[0]) == warns
        assert _num(cells[("townships", key, "overdue")]) == overdue
    ws = openpyxl.load_workbook(xlsx)["按乡镇排名"]
    header = [c.value for c in ws[2]]
    rows = {(r[1], r[2]): r for r in ws.iter_rows(min_row=3, values_only=True)}
    assert rows[("示例县", "红山镇")][header.index("户数")] == 6
    shares = [r[header.index("有错户占比")] for r in ws.iter_rows(min_row=3, values_only=True)]
    assert shares == sorted(shares, reverse=True)                      # ranked


def test_change_since_previous_run_and_trend(scorecard):
    ctx, (html, xlsx) = scorecard
    wb = openpyxl.load_workbook(xlsx)
    trend = list(wb["趋势"].iter_rows(min_row=3, values_only=True))
    assert [r[0] for r in trend] == ["2026-10-24", "2026-11-24"]
    con = ctx.cursor()
    prev_errors = con.execute("SELECT count(*) FROM hist.logic_errors WHERE run_id = 'r-prev'").fetchone()[0]
    cur_errors = con.execute("SELECT count(*) FROM logic_errors").fetchone()[0]
    assert (trend[0][4], trend[1][4]) == (prev_errors, cur_errors)
    ws = wb["按县排名"]
    header = [c.value for c in ws[2]]
    for row in ws.iter_rows(min_row=3, values_only=True):
        county = row[1]
        prev = con.execute("SELECT count(*) FROM hist.logic_errors WHERE run_id = 'r-prev' AND county = ?",
                           [county]).fetchone()[0]
        cur = con.execute("SELECT count(*) FROM logic_errors WHERE county = ?", [county]).fetchone()[0]
        assert row[header.index("逻辑错误变化")] == cur - prev
    rules = {r[0]: r for r in wb["预警规则核实"].iter_rows(min_row=3, values_only=True)}
    for code, verified, true in con.execute(
        "SELECT rule_code, count(verification), count(*) FILTER (WHERE verification LIKE '属实%')"
        " FROM warnings WHERE status <> '已解除' GROUP BY ALL").fetchall():
        assert rules[code][4:6] == (verified, true)


def test_source_checks_per_department(scorecard):
    ctx, (html, xlsx) = scorecard
    cells = _html_cells(html)
    assert _num(cells[("departments", "health_settlements", "rejects")].split("▲")[0].split("▼")[0]) == 7
    assert _num(cells[("departments", "health_settlements", "rows")]) == 110
    assert cells[("departments", "health_settlements", "id_rate")].startswith(f"{(118 - 7) / 118 * 100:.2f}%")
    assert _num(cells[("departments", "health_settlements", "S05")]) == 2
    assert "未提供" in html.read_text(encoding="utf-8")
    rows = {r[1]: r for r in openpyxl.load_workbook(xlsx)["数据源质量"].iter_rows(min_row=3, values_only=True)}
    assert rows["医保结算"][3] == 7 and rows["医保结算"][4] == -1


def test_no_personal_data_anywhere(scorecard):
    ctx, (html, xlsx) = scorecard
    texts = [html.read_text(encoding="utf-8")]
    wb = openpyxl.load_workbook(xlsx)
    texts += [str(v) for ws in wb for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    blob = "\n".join(texts)
    assert not re.search(r"\d{17}[\dX]", blob)
    for name in NAMES + ["孙八两", "周九九"]:
        assert name not in blob
    assert "红山镇-000" not in blob                                        # no household IDs


def test_deterministic_and_self_contained(scorecard):
    ctx, (html, xlsx) = scorecard
    first_html, first_xlsx = html.read_bytes(), xlsx.read_bytes()
    write_scorecard(ctx)
    assert html.read_bytes() == first_html and xlsx.read_bytes() == first_xlsx
    text = first_html.decode("utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "<script" not in text and "<svg" in text


def _chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "update"], capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "chromium", "fonts-noto-cjk"],
                       capture_output=True, timeout=1200)
    return shutil.which("chromium")


def test_renders_in_headless_chromium(scorecard, tmp_path):
    _ctx, (html, _xlsx) = scorecard
    browser = _chromium()
    if not browser:
        pytest.skip("chromium is not installed and could not be installed with apt-get (no root or no network)")
    shot = html.parent / "scorecard.png"
    args = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path}",
            "--hide-scrollbars", "--window-size=1440,2400", f"--screenshot={shot}", html.resolve().as_uri()]
    subprocess.run(args, capture_output=True, timeout=180, check=False)
    assert shot.exists() and shot.stat().st_size > 20_000
    dom = subprocess.run(args[:-2] + ["--dump-dom", html.resolve().as_uri()], capture_output=True, timeout=180,
                         text=True, check=False).stdout
    assert "数据质量评分表" in dom and 'id="townships"' in dom


def test_empty_run_and_unplaced_warnings_still_render(tmp_path):
    con = store.open_work(tmp_path, "e1")
    ctx = RunContext(run_id="e1", as_of=CUR, inbox=tmp_path, out=tmp_path, config=Config(), con=con)
    con.execute(
        "INSERT INTO warnings (run_id, rule_code, id_number, county, township, in_roster, status, deadline)"
        " VALUES ('e1', 'W05', ?, '示例县', NULL, false, '新增', DATE '2026-01-01')", [_pid(1)])
    html, xlsx = write_scorecard(ctx)
    cells = _html_cells(html)
    assert cells[("townships", "示例县/（乡镇未识别）", "overdue")] == "1"
    assert "未提供" in html.read_text(encoding="utf-8")
    assert openpyxl.load_workbook(xlsx).sheetnames[0] == "按县排名"
    con.close()


def test_logic_errors_and_warnings_by_rule_per_county_equal_the_warehouse(scorecard):
    """outputs.md: by county and township — logic errors by rule, warnings by rule, overdue."""
    ctx, (html, xlsx) = scorecard
    cells = _html_cells(html)
    con = ctx.cursor()
    errors = con.execute("SELECT county, rule_code, count(*) FROM logic_errors GROUP BY ALL").fetchall()
    assert {c for c, _, _ in errors} == {"示例县", "东川县"}
    for county, code, n in errors:
        assert _num(cells[("logic_by_rule_county", county, code)]) == n
    for county, code, n in con.execute(
            "SELECT county, rule_code, count(*) FROM warnings WHERE status <> '已解除' GROUP BY ALL").fetchall():
        assert _num(cells[("warnings_by_rule_county", county, code)]) == n
    for county, overdue in con.execute(
            "SELECT county, count(*) FILTER (WHERE deadline < DATE '2026-11-24' AND verification IS NULL)"
            " FROM warnings WHERE status <> '已解除' GROUP BY ALL").fetchall():
        assert _num(cells[("warnings_by_rule_county", county, "overdue")]) == overdue
    wb = openpyxl.load_workbook(xlsx)
    ws = wb["各县逻辑错误按规则"]
    header = [c.value for c in ws[2]]
    rows = {r[1]: r for r in ws.iter_rows(min_row=3, values_only=True)}
    ranked = [r[1] for r in wb["按县排名"].iter_rows(min_row=3, values_only=True)]
    assert header[:2] == ["排名", "县"] and [r[1] for r in ws.iter_rows(min_row=3, values_only=True)] == ranked
    for county, code, n in errors:
        assert rows[county][header.index(code)] == n
    assert "各县预警按规则" in wb.sheetnames and "数据源质量按县" in wb.sheetnames


def test_source_checks_by_department_per_county(tmp_path):
    """Rows, rejects, ID validity and freshness of each department extract, per county."""
    con = store.open_work(tmp_path, "c1")
    con.execute("INSERT INTO runs (run_id, as_of_date, started_at, status) VALUES ('c1', ?, now(), 'running')", [CUR])
    for county, town, n, day in (("示例县", "红山镇", 3, date(2026, 11, 20)), ("东川县", "白水镇", 2, date(2026, 8, 1))):
        con.execute("INSERT INTO households (run_id, household_id, county, township) VALUES ('c1', ?, ?, ?)",
                    [f"{town}-1", county, town])
        for i in range(n):
            con.execute("INSERT INTO health_settlements (run_id, id_number, county, township, admit_date)"
                        " VALUES ('c1', ?, ?, ?, ?)", [_pid(i), county, town, day])
    con.execute("INSERT INTO rejects VALUES ('c1', 'health_settlements', 'a.csv', NULL, 5, '身份证号无效', ?),"
                " ('c1', 'health_settlements', 'a.csv', NULL, 6, '身份证号无效', '{}')",
                ['{"县": "东川县", "身份证号": "1"}'])
    con.executemany("INSERT INTO source_checks VALUES ('c1', 'health_settlements', ?, ?, ?, ?, ?)", [
        ("S01", None, 3, 0, "1 个文件"), ("S02", None, 7, 2, ""),
        ("S02", "示例县/红山镇", 4, 1, None), ("S02", "东川县/白水镇", 3, 1, None)])
    ctx = RunContext(run_id="c1", as_of=CUR, inbox=tmp_path, out=tmp_path, config=Config(), con=con)
    html, xlsx = write_scorecard(ctx)
    cells = _html_cells(html)
    assert _num(cells[("source_counties", "示例县/health_settlements", "rows")]) == 3
    assert _num(cells[("source_counties", "东川县/health_settlements", "rows")]) == 2
    assert _num(cells[("source_counties", "示例县/health_settlements", "rejects")]) == 1  # no county in the raw row
    assert _num(cells[("source_counties", "东川县/health_settlements", "rejects")]) == 1
    assert cells[("source_counties", "东川县/health_settlements", "id_rate")] == "66.67%"
    assert "新鲜" in cells[("source_counties", "示例县/health_settlements", "fresh")]
    assert "过期" in cells[("source_counties", "东川县/health_settlements", "fresh")]
    rows = {r[0]: r for r in openpyxl.load_workbook(xlsx)["数据源质量按县"].iter_rows(min_row=3, values_only=True)}
    assert rows["东川县"][3:7] == (2, 1, pytest.approx(2 / 3), "过期")
    con.close()


def test_freshness_unknown_first_run_rates_grid_and_print_setup(tmp_path):
    """A department without dates is "freshness unknown" everywhere; a first run shows "—" for the
    verification rate it cannot know; per-township source quality is a township × department grid;
    the xlsx is set up for printing and ranked like the page."""
    con = store.open_work(tmp_path, "f1")
    con.execute("INSERT INTO runs (run_id, as_of_date, started_at, status) VALUES ('f1', ?, now(), 'running')", [CUR])
    for town, n in (("红山镇", 3), ("青石乡", 2)):
        for i in range(n):
            con.execute("INSERT INTO households (run_id, household_id, county, township) VALUES ('f1', ?, '示例县', ?)",
                        [f"{town}-{i}", town])
        con.execute("INSERT INTO warnings (run_id, rule_code, household_id, county, township, in_roster, status,"
                    " deadline) VALUES ('f1', 'W09', ?, '示例县', ?, true, '新增', DATE '2026-12-24')",
                    [f"{town}-0", town])
    con.executemany("INSERT INTO source_checks VALUES ('f1', ?, ?, ?, ?, ?, ?)", [
        ("education_students", "S01", None, 3, 0, "1 个文件"),
        ("education_students", "S09", None, 0, 0, "无日期列，无法判断新鲜度"),
        ("education_students", "S02", "红山镇", 10, 1, None), ("education_students", "S02", "青石乡", 4, 0, None),
        ("health_settlements", "S01", None, 3, 0, "1 个文件"),
        ("health_settlements", "S09", None, 1, 0, "最新日期 2026-11-20"),
        ("health_settlements", "S03", "红山镇", 20, 0, None)])
    con.execute("INSERT INTO education_students (run_id, id_number, township) VALUES ('f1', '1', '红山镇')")
    con.execute("INSERT INTO input_files (run_id, folder, file, source_table, status, rows_loaded)"
                " VALUES ('f1', 'education', 'a.xls', 'education_students', 'loaded', 1)")
    ctx = RunContext(run_id="f1", as_of=CUR, inbox=tmp_path, out=tmp_path, config=Config(), con=con)
    html, xlsx = write_scorecard(ctx)
    cells = _html_cells(html)
    page = html.read_text(encoding="utf-8")
    # freshness unknown: no green tag beside 无法判断, in the page and in the xlsx
    edu = page[page.index('data-key="education_students"'):]
    edu = edu[:edu.index("</tr>")]
    assert "未知" in edu and "tag ok" not in edu and "新鲜</span>" not in edu
    assert cells[("source_counties", "示例县/education_students", "fresh")] == "未知"
    wb = openpyxl.load_workbook(xlsx)
    dept = {r[1]: r for r in wb["数据源质量"].iter_rows(min_row=3, values_only=True)}
    header = [c.value for c in wb["数据源质量"][2]]
    assert dept["学籍"][header.index("新鲜度")] == "未知" and dept["学籍"][header.index("S09")] is None
    # a first run: the verification rate is "—", not 0.0 %
    assert cells[("townships", "示例县/红山镇", "verify_rate")] == "—"
    town = {r[2]: r for r in wb["按乡镇排名"].iter_rows(min_row=3, values_only=True)}
    assert town["红山镇"][[c.value for c in wb["按乡镇排名"][2]].index("核实率")] == "—"
    assert "0.0%" not in "".join(v for k, v in cells.items() if k[2] == "verify_rate")
    # township × department grid
    assert cells[("source_grid", "示例县/红山镇", "education_students")] == "90.00%（1）"
    assert cells[("source_grid", "示例县/青石乡", "education_students")] == "100.00%"
    assert cells[("source_grid", "示例县/青石乡", "health_settlements")] == "—"
    grid = wb["数据源质量按乡镇"]
    head = [c.value for c in grid[2]]
    assert head[:2] == ["县", "乡镇"] and sorted(head[2:]) == sorted(["教育·学籍", "医保·医保结算"])
    rows = [r for r in grid.iter_rows(min_row=3, values_only=True)]
    assert rows[0][:2] == ("示例县", "红山镇") and rows[0][head.index("教育·学籍")] == pytest.approx(0.9)
    assert rows[1][head.index("医保·医保结算")] == "—"                      # worst township first
    # print setup on every sheet
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$1:$2"
        fit = ws.sheet_properties.pageSetUpPr
        assert (fit is None or not fit.fitToPage) or ws.page_setup.fitToWidth in (None, 1)   # 100 % or 1 wide
        assert ws.oddFooter.center.text == "第 &P 页 共 &N 页"
    con.close()
