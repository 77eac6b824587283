"""Returned verifications (核查反馈): read re-saved township workbooks, refuse what must be refused,
record history, and steer the next run (suppression, 核实属实未纳入, 整改未生效)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from gb11643 import with_check

from checks.feedback import apply_feedback, read_feedback
from core.config import Config
from core.context import RunContext
from pipelines import store

COUNTY = "示例县"
W_HEADERS = ["村", "户编号", "户主姓名", "户主证件号码", "家庭人口", "户类型 / 监测对象类别", "预警规则",
             "风险类型", "预警原因", "来源部门", "状态", "首次预警日期", "核实期限", "帮扶责任人",
             "核实结果", "核实人", "核实日期"]
L_HEADERS = ["村", "户编号", "户主姓名", "成员姓名", "证件号码", "错误规则", "错误说明", "整改建议",
             "核实结果", "核实人", "核实日期"]
OUT_ID = "620422199001011237"      # an out-of-roster person (W05)
MEMBER_ID = "62042219850505123X"   # a member with a person-level logic error (L11)

_runs = iter(range(1, 1000))


def new_ctx(out: Path, inbox: Path, as_of: date, config: Config | None = None) -> RunContext:
    run_id = f"2026{next(_runs):04d}T000000-test"
    con = store.open_work(out, run_id)
    ctx = RunContext(run_id=run_id, as_of=as_of, inbox=inbox, out=out, config=config or Config(), con=con)
    con.execute("INSERT INTO runs (run_id, as_of_date, started_at, status, county) VALUES (?, ?, ?, 'running', ?)",
                [run_id, as_of, datetime.now(), COUNTY])
    return ctx


def add_households(ctx, rows):
    """rows: (household_id, township, monitoring_category)."""
    for hh, township, category in rows:
        ctx.con.execute("INSERT INTO households (run_id, household_id, county, township, village, monitoring_category)"
                        " VALUES (?, ?, ?, ?, '一村', ?)", [ctx.run_id, hh, COUNTY, township, category])


def add_warning(ctx, rule, hh, township, key, status="新增", id_number=None, first=None):
    in_roster = hh is not None
    ctx.con.execute(
        "INSERT INTO warnings (run_id, rule_code, household_id, id_number, name, county, township, village,"
        " in_roster, risk_type, evidence, evidence_key, first_seen_run, first_seen_date, status, deadline)"
        " VALUES (?, ?, ?, ?, '某某', ?, ?, '一村', ?, '因病', '证据', ?, ?, ?, ?, ?)",
        [ctx.run_id, rule, hh, id_number or f"ID-{hh}", COUNTY, township, in_roster, key,
         ctx.run_id, first or ctx.as_of, status, date(2026, 12, 24)])


def add_error(ctx, rule, hh, township, id_number=None, name=None):
    ctx.con.execute(
        "INSERT INTO logic_errors (run_id, rule_code, household_id, id_number, name, county, township, village, detail)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, '一村', '说明')", [ctx.run_id, rule, hh, id_number, name, COUNTY, township])


def publish(ctx):
    ctx.con.execute("UPDATE runs SET status = 'completed', finished_at = ? WHERE run_id = ?",
                    [datetime.now(), ctx.run_id])
    store.publish(ctx.con, ctx.out, ctx.run_id)
    ctx.con.close()


def write_township_workbook(path: Path, warnings: list[dict], errors: list[dict]) -> None:
    """A township workbook with exactly outputs.md's headers, as the county sends it (title row, 说明)."""
    wb = xlsxwriter.Workbook(str(path))
    text = wb.add_format({"num_format": "@"})
    for name, headers, rows in (("预警名单", W_HEADERS, warnings), ("逻辑错误", L_HEADERS, errors)):
        ws = wb.add_worksheet(name)
        ws.write(0, 0, f"{COUNTY}红山镇{name}")
        ws.write_row(1, 0, headers)
        for i, row in enumerate(rows, start=2):
            for j, h in enumerate(headers):
                if row.get(h) is not None:
                    ws.write_string(i, j, str(row[h]), text)
    ws = wb.add_worksheet("说明")
    ws.write(0, 0, "规则说明")
    wb.close()


def fill_like_a_clerk(path: Path, sheet: str, fills: dict[tuple[str, str], tuple], target: Path,
                      edits: dict[tuple[str, str], dict] | None = None) -> None:
    """Open in 'Excel', fill 核实结果/核实人/核实日期 by (rule code, 户编号 or 证件号码), sort the rows,
    add a 备注 column, widen columns, leave blank rows, and save as another file."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    header_row = next(r[0].row for r in ws.iter_rows() if "核实结果" in [c.value for c in r])
    headers = [c.value for c in ws[header_row]]
    col = {h: i for i, h in enumerate(headers)}
    id_col = "户主证件号码" if "户主证件号码" in col else "证件号码"
    data = [[c.value for c in r] for r in ws.iter_rows(min_row=header_row + 1)]
    data = [r for r in data if any(v not in (None, "") for v in r)]
    for r in data:
        key = (str(r[col["预警规则" if "预警规则" in col else "错误规则"]])[:3],
               r[col["户编号"]] or r[col[id_col]])
        if key in fills:
            result, verifier, when = fills[key]
            r[col["核实结果"]], r[col["核实人"]], r[col["核实日期"]] = result, verifier, when
        for h, v in (edits or {}).get(key, {}).items():
            r[col[h]] = v
    data.sort(key=lambda r: str(r[col["村"]]) + str(r[col["户编号"]] or ""), reverse=True)
    ws.delete_rows(header_row + 1, ws.max_row)
    ws.cell(header_row, len(headers) + 1, "备注 ")
    ws.cell(header_row, col["核实结果"] + 1, "核实结果 ")
    out_row = header_row + 1
    for i, r in enumerate(data):
        if i == 1:
            out_row += 1  # a blank row left in the middle
        for j, v in enumerate(r):
            ws.cell(out_row, j + 1, v)
        ws.cell(out_row, len(headers) + 1, "已入户")
        out_row += 1
    ws.column_dimensions["B"].width = 40
    ws.auto_filter.ref = f"A{header_row}:R{out_row}"
    wb.save(target)


@pytest.fixture
def county(tmp_path):
    """One published run (as of 2026-11-24) with findings in 红山镇 and 白水乡."""
    out, inbox = tmp_path / "out", tmp_path / "inbox"
    (inbox / "feedback").mkdir(parents=True)
    ctx = new_ctx(out, inbox, date(2026, 11, 24))
    add_households(ctx, [("H001", "红山镇", None), ("H002", "红山镇", None), ("H003", "白水乡", None),
                         ("H004", "红山镇", "边缘易致贫户")])
    add_warning(ctx, "W01", "H001", "红山镇", "k1")
    add_warning(ctx, "W08", "H002", "红山镇", "k2")
    add_warning(ctx, "W05", None, "红山镇", "k3", id_number=OUT_ID)
    add_warning(ctx, "W09", "H004", "红山镇", "k5")
    add_warning(ctx, "W01", "H003", "白水乡", "k4")
    add_error(ctx, "L14", "H001", "红山镇")
    add_error(ctx, "L11", "H002", "红山镇", MEMBER_ID, "李小二")
    add_error(ctx, "L02", "H003", "白水乡")
    publish(ctx)
    sent = tmp_path / f"{COUNTY}_红山镇_2026-11-24.xlsx"
    write_township_workbook(
        sent,
        [{"村": "一村", "户编号": "H001", "户主证件号码": "ID-H001", "预警规则": "W01 高额医疗自付", "状态": "新增"},
         {"村": "一村", "户编号": "H002", "户主证件号码": "ID-H002", "预警规则": "W08 临时救助", "状态": "新增"},
         {"村": "二村", "户编号": None, "户主证件号码": OUT_ID, "户类型 / 监测对象类别": "非建档立卡/监测户",
          "预警规则": "W05 住房安全鉴定为C/D级", "状态": "新增"},
         {"村": "一村", "户编号": "H004", "户主证件号码": "ID-H004", "预警规则": "W09 收入低于监测标准", "状态": "新增"},
         {"村": "三村", "户编号": "H005", "户主证件号码": "ID-H005", "预警规则": "W01 高额医疗自付", "状态": "新增"}],
        [{"村": "一村", "户编号": "H001", "错误规则": "L14 家庭人口数不一致"},
         {"村": "一村", "户编号": "H002", "成员姓名": "李小二", "证件号码": MEMBER_ID, "错误规则": "L11 性别与证件号码不符"}],
    )
    return {"out": out, "inbox": inbox, "sent": sent}


def returned_workbook(county) -> Path:
    """The clerk's return: dates typed every way, one invalid value, one row moved to 白水乡's H003."""
    target = county["inbox"] / "feedback" / county["sent"].name
    tmp = target.with_suffix(".part.xlsx")
    fill_like_a_clerk(county["sent"], "预警名单", {
        ("W01", "H001"): ("不属实", "张三", "2026/12/1"),
        ("W08", "H002"): ("属实-已纳入监测", "李四", datetime(2026, 11, 25)),
        ("W05", OUT_ID): ("属实－暂不纳入 ", "王五", "2026年11月30日"),
        ("W09", "H004"): ("属实", "赵六", "2026-11-30"),
        ("W01", "H005"): ("不属实", "张三", "2026.11.30"),
    }, tmp, edits={("W01", "H005"): {"户编号": "H003"}})
    fill_like_a_clerk(tmp, "逻辑错误", {
        ("L14", "H001"): ("已整改", "张三", 46356),           # an Excel serial: 2026-11-30
        ("L11", "H002"): ("不属实", "张三", "20261130"),
    }, target)
    tmp.unlink()
    return target


def test_returned_workbook_is_recorded_and_refusals_reported(county):
    returned_workbook(county)
    ctx = new_ctx(county["out"], county["inbox"], date(2026, 12, 2))
    add_households(ctx, [("H001", "红山镇", None)])
    summary = read_feedback(ctx)
    got = ctx.con.execute(
        "SELECT rule_code, household_id, id_number, township, result, verifier, verified_on, source_sheet"
        " FROM verifications ORDER BY rule_code, household_id").fetchall()
    assert got == [
        ("L11", "H002", MEMBER_ID, "红山镇", "不属实", "张三", date(2026, 11, 30), "逻辑错误"),
        ("L14", "H001", None, "红山镇", "已整改", "张三", date(2026, 11, 30), "逻辑错误"),
        ("W01", "H001", None, "红山镇", "不属实", "张三", date(2026, 12, 1), "预警名单"),
        ("W05", None, OUT_ID, "红山镇", "属实-暂不纳入", "王五", date(2026, 11, 30), "预警名单"),
        ("W08", "H002", None, "红山镇", "属实-已纳入监测", "李四", date(2026, 11, 25), "预警名单"),
    ]
    rejects = ctx.con.execute(
        "SELECT source_table, file, sheet, row_number, reason, raw FROM rejects ORDER BY row_number").fetchall()
    assert len(rejects) == 2 and summary["rejected"] == 2 and summary["recorded"] == 5
    by_reason = {r[4].split(":")[0]: r for r in rejects}
    other = by_reason["其他乡镇的户"]
    assert "白水乡" in other[4] and other[0] == "verifications" and other[2] == "预警名单"
    assert json.loads(other[5])["户编号"] == "H003"
    unknown = by_reason["核实结果不是可选值"]
    assert json.loads(unknown[5])["户编号"] == "H004"
    # the row number is the one a person sees in Excel after sorting and the blank row
    ws = openpyxl.load_workbook(county["inbox"] / "feedback" / county["sent"].name)["预警名单"]
    assert ws.cell(unknown[3], 2).value == "H004" and ws.cell(other[3], 2).value == "H003"
    # the source row of a recorded verification points at its row too
    w01_row = ctx.con.execute("SELECT source_row FROM verifications WHERE rule_code = 'W01'").fetchone()[0]
    assert ws.cell(w01_row, 2).value == "H001"
    # listed with the run's input files: filled rows read, accepted, refused; 说明 skipped
    assert ctx.con.execute(
        "SELECT sheet, source_table, status, rows_read, rows_loaded, rows_rejected FROM input_files"
        " WHERE folder = 'feedback' ORDER BY sheet").fetchall() == [
        ("说明", None, "skipped", None, None, None),
        ("逻辑错误", "verifications", "loaded", 2, 2, 0),
        ("预警名单", "verifications", "loaded", 5, 3, 2)]


def test_same_file_next_night_adds_no_history(county):
    returned_workbook(county)
    ctx = new_ctx(county["out"], county["inbox"], date(2026, 12, 2))
    assert read_feedback(ctx)["recorded"] == 5
    publish(ctx)
    ctx2 = new_ctx(county["out"], county["inbox"], date(2026, 12, 3))
    summary = read_feedback(ctx2)
    assert summary["recorded"] == 0 and summary["duplicates"] == 5
    assert ctx2.con.execute("SELECT count(*) FROM verifications").fetchone()[0] == 0


def test_changed_result_is_history_and_latest_wins(county):
    returned_workbook(county)
    ctx = new_ctx(county["out"], county["inbox"], date(2026, 12, 2))
    read_feedback(ctx)
    publish(ctx)
    # a corrected return a week later: H001 is 属实-暂不纳入 after all
    fix = county["inbox"] / "feedback" / f"{COUNTY}_红山镇_2026-11-24_更正.xlsx"
    fill_like_a_clerk(county["sent"], "预警名单", {("W01", "H001"): ("属实-暂不纳入", "张三", "2026-12-08")}, fix)
    ctx2 = new_ctx(county["out"], county["inbox"], date(2026, 12, 9))
    add_warning(ctx2, "W01", "H001", "红山镇", "k1", status="持续")
    assert read_feedback(ctx2)["recorded"] == 1
    apply_feedback(ctx2)
    assert ctx2.con.execute("SELECT verification, verified_on, suppressed FROM warnings"
                            " WHERE household_id = 'H001'").fetchone() == ("属实-暂不纳入", date(2026, 12, 8), True)


def test_effects_on_the_next_run(county):
    returned_workbook(county)
    ctx = new_ctx(county["out"], county["inbox"], date(2026, 12, 2))
    add_households(ctx, [("H001", "红山镇", None), ("H002", "红山镇", None), ("H004", "红山镇", "边缘易致贫户")])
    read_feedback(ctx)
    # what screening and logic found this run
    add_warning(ctx, "W01", "H001", "红山镇", "k1", status="持续", first=date(2026, 11, 24))      # same evidence
    add_warning(ctx, "W05", None, "红山镇", "k3-new", status="持续", id_number=OUT_ID)           # new records
    add_warning(ctx, "W08", "H002", "红山镇", "k2", status="持续", first=date(2026, 11, 24))
    add_warning(ctx, "W01", "H003", "白水乡", "k4", status="持续")
    add_error(ctx, "L14", "H001", "红山镇")
    result = apply_feedback(ctx)
    w = {r[0] + (r[1] or r[2]): r[3:] for r in ctx.con.execute(
        "SELECT rule_code, household_id, id_number, verification, suppressed, flag FROM warnings").fetchall()}
    assert w["W01H001"] == ("不属实", True, None)
    assert w["W05" + OUT_ID] == ("属实-暂不纳入", False, None)       # evidence changed: listed again
    assert w["W08H002"] == ("属实-已纳入监测", False, None)          # grace period not over yet
    assert w["W01H003"] == (None, False, None)                      # 白水乡 untouched
    assert ctx.con.execute("SELECT verification, flag FROM logic_errors").fetchone() == ("已整改", "整改未生效")
    assert result["suppressed"] == 1 and result["整改未生效"] == 1
    publish(ctx)

    # 40 days after 属实-已纳入监测, H002 is still not monitored and W08 no longer fires;
    # 181 days after 不属实 the suppression of H001 has lapsed.
    ctx2 = new_ctx(county["out"], county["inbox"], date(2027, 6, 1))
    add_households(ctx2, [("H001", "红山镇", None), ("H002", "红山镇", None)])
    assert read_feedback(ctx2)["recorded"] == 0
    add_warning(ctx2, "W01", "H001", "红山镇", "k1", status="持续")
    result = apply_feedback(ctx2)
    rows = {r[0]: r[1:] for r in ctx2.con.execute(
        "SELECT rule_code, household_id, status, verification, suppressed, flag, first_seen_date FROM warnings"
        " WHERE household_id IS NOT NULL").fetchall()}
    assert rows["W01"] == ("H001", "持续", "不属实", False, None, date(2027, 6, 1))
    assert rows["W08"] == ("H002", "持续", "属实-已纳入监测", False, "核实属实未纳入", date(2026, 11, 24))
    assert result["relisted"] == 1 and result["核实属实未纳入"] == 1
    ctx2.con.close()

    # once the roster shows H002 monitored, it is not listed again
    ctx3 = new_ctx(county["out"], county["inbox"], date(2027, 6, 2))
    add_households(ctx3, [("H002", "红山镇", "突发严重困难户")])
    read_feedback(ctx3)
    apply_feedback(ctx3)
    assert ctx3.con.execute("SELECT count(*) FROM warnings").fetchone()[0] == 0


def test_file_named_for_one_township_cannot_touch_another(county):
    """白水乡's clerk returns a workbook holding a 红山镇 row: refused, and 红山镇's row is unchanged."""
    target = county["inbox"] / "feedback" / f"{COUNTY}_白水乡_2026-11-24.xlsx"
    fill_like_a_clerk(county["sent"], "预警名单", {("W01", "H001"): ("不属实", "钱七", "2026-12-01")}, target)
    ctx = new_ctx(county["out"], county["inbox"], date(2026, 12, 2))
    read_feedback(ctx)
    assert ctx.con.execute("SELECT count(*) FROM verifications").fetchone()[0] == 0
    reason = ctx.con.execute("SELECT reason FROM rejects").fetchone()[0]
    assert reason.startswith("其他乡镇的户") and "红山镇" in reason
    add_warning(ctx, "W01", "H001", "红山镇", "k1", status="持续")
    apply_feedback(ctx)
    assert ctx.con.execute("SELECT verification, suppressed FROM warnings").fetchone() == (None, False)


def test_unnamed_file_takes_the_township_of_its_rows(county):
    one = county["inbox"] / "feedback" / "反馈.xlsx"
    fill_like_a_clerk(county["sent"], "预警名单", {("W01", "H001"): ("不属实", "张三", "2026-12-01")}, one)
    mixed = county["inbox"] / "feedback" / "汇总.xlsx"
    fill_like_a_clerk(county["sent"], "预警名单", {("W08", "H002"): ("不属实", "张三", "2026-12-01"),
                                                  ("W01", "H005"): ("不属实", "张三", "2026-12-01")},
                      mixed, edits={("W01", "H005"): {"户编号": "H003"}})
    ctx = new_ctx(county["out"], county["inbox"], date(2026, 12, 2))
    read_feedback(ctx)
    assert ctx.con.execute("SELECT household_id, source_file FROM verifications").fetchall() == [
        ("H001", "feedback/反馈.xlsx")]
    reasons = ctx.con.execute("SELECT reason FROM rejects WHERE file = 'feedback/汇总.xlsx'").fetchall()
    assert len(reasons) == 2 and all(r[0].startswith("无法确定文件所属乡镇") for r in reasons)


def test_unmatched_future_and_missing_dates_are_refused(county):
    target = county["inbox"] / "feedback" / f"{COUNTY}_红山镇_2026-11-24.xlsx"
    fill_like_a_clerk(county["sent"], "预警名单", {
        ("W01", "H001"): ("不属实", "张三", "2027-01-01"),
        ("W08", "H002"): ("不属实", "张三", None),
        ("W09", "H004"): ("不属实", "张三", "明天"),
    }, target, edits={("W05", OUT_ID): {"户主证件号码": "620422199001011000", "核实结果": "不属实"}})
    ctx = new_ctx(county["out"], county["inbox"], date(2026, 12, 2))
    read_feedback(ctx)
    reasons = sorted(r[0].split(":")[0].split(" (")[0] for r in ctx.con.execute("SELECT reason FROM rejects").fetchall())
    assert reasons == sorted(["未匹配到已下发的预警", "核实日期无法识别", "核实日期晚于本次运行的基准日期", "核实日期为空"])
    assert ctx.con.execute("SELECT count(*) FROM verifications").fetchone()[0] == 0


def test_legacy_xls_return(county):
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("预警名单")
    ws.write(3, 0, "预警规则")
    ws.write(3, 1, "户编号")
    ws.write(3, 2, " 核实结果")
    ws.write(3, 3, "核实人")
    ws.write(3, 4, "核实日期")
    for j, v in enumerate(["W08 临时救助", "H002", "属实-已落实帮扶", "李四", "2026-11-28"]):
        ws.write(5, j, v)
    path = county["inbox"] / "feedback" / "红山镇反馈.xls"
    book.save(str(path))
    ctx = new_ctx(county["out"], county["inbox"], date(2026, 12, 2))
    read_feedback(ctx)
    assert ctx.con.execute("SELECT household_id, result, source_row FROM verifications").fetchall() == [
        ("H002", "属实-已落实帮扶", 6)]


# ---------------------------------------------------------------- end to end: the real flow twice

def _id(birth: str, seq: int) -> str:
    body = f"620422{birth}{seq:03d}"
    return with_check(body)


PEOPLE = {  # household -> (township, member ID, self-paid medical costs in the window)
    "H001": ("红山镇", _id("19700101", 11), 15000),
    "H002": ("红山镇", _id("19700101", 21), 12000),
    "H003": ("白水乡", _id("19700101", 31), 11000),
    "H005": ("红山镇", _id("19700101", 51), 10500),
    "H006": ("红山镇", _id("19700101", 61), 13000),
}
OUTSIDER = _id("19650303", 71)   # not on the roster, 红山镇


def _write_mini_inbox(inbox: Path, extra_settlement: bool = False) -> None:
    """A county of five households (one of 白水乡) with W01 firing for each, one out-of-roster W01,
    and H004 with 家庭人口 2 but one member (L14). GBK CSVs, as Excel on a Chinese Windows saves them."""
    roster, health = inbox / "roster", inbox / "health_insurance"
    roster.mkdir(parents=True, exist_ok=True)
    health.mkdir(parents=True, exist_ok=True)
    hh = ["户编号,乡镇,行政村,户主姓名,户主证件号码,家庭人口数,年人均纯收入"]
    mem = ["户编号,姓名,证件号码,性别,与户主关系,人员状态"]
    people = {**PEOPLE, "H004": ("红山镇", _id("19700101", 41), 0)}
    for i, (h, (town, pid, _)) in enumerate(sorted(people.items())):
        hh.append(f"{h},{town},一村,户主{i},{pid},{2 if h == 'H004' else 1},9000")
        mem.append(f"{h},户主{i},{pid},男,户主,正常")
    (roster / "户信息.csv").write_bytes("\n".join(hh).encode("gbk"))
    (roster / "家庭成员.csv").write_bytes("\n".join(mem).encode("gbk"))
    rows = ["姓名,身份证号,参保地乡镇,就诊类型,入院日期,出院日期,医疗总费用,个人自付"]
    for h, (town, pid, paid) in sorted(PEOPLE.items()):
        rows.append(f"某{h},{pid},{town},住院,2026-09-01,2026-09-10,{paid * 2},{paid}")
    rows.append(f"外来人,{OUTSIDER},红山镇,住院,2026-08-01,2026-08-20,50000,25000")
    if extra_settlement:  # new triggering records for the outsider after the verification
        rows.append(f"外来人,{OUTSIDER},红山镇,住院,2026-12-01,2026-12-05,8000,3000")
    (health / "医保结算.csv").write_bytes("\n".join(rows).encode("gbk"))


def _sheet_rows(path: Path, sheet: str) -> list[dict]:
    ws = openpyxl.load_workbook(path)[sheet]
    rows = list(ws.iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if "核实结果" in [str(v).strip() for v in r if v])
    headers = [str(v).strip() if v else "" for v in rows[head]]
    return [dict(zip(headers, r, strict=False)) for r in rows[head + 1:] if any(r)]


def test_two_runs_with_a_returned_workbook_in_between(tmp_path):
    from pipelines.flow import run_once

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    _write_mini_inbox(inbox)
    first = run_once(inbox, None, date(2026, 11, 24), out)
    sent = first.reports_dir / "townships" / f"{COUNTY}_红山镇_2026-11-24.xlsx"
    assert {r["户编号"] or r["户主证件号码"] for r in _sheet_rows(sent, "预警名单")} >= {
        "H001", "H002", "H005", "H006", OUTSIDER}

    # the clerk fills it in WPS, sorts, adds a remark column, retypes one 户编号, mistypes one result
    (inbox / "feedback").mkdir()
    returned = inbox / "feedback" / sent.name
    tmp = tmp_path / "half.xlsx"
    fill_like_a_clerk(sent, "预警名单", {
        ("W01", "H001"): ("不属实", "张三", "2026/11/28"),
        ("W01", "H002"): ("属实-已纳入监测", "李四", datetime(2026, 11, 27)),
        ("W01", OUTSIDER): ("属实-暂不纳入", "王五", "2026年11月30日"),
        ("W01", "H005"): ("不属实", "张三", "2026-11-28"),
        ("W01", "H006"): ("属实", "张三", "2026-11-28"),
    }, tmp, edits={("W01", "H005"): {"户编号": "H003"}})
    fill_like_a_clerk(tmp, "逻辑错误", {("L14", "H004"): ("已整改", "赵六", 46356)}, returned)
    _write_mini_inbox(inbox, extra_settlement=True)

    second = run_once(inbox, None, date(2026, 12, 10), out)
    con = warehouse(out)
    got = con.execute(
        "SELECT rule_code, coalesce(household_id, id_number), township, result FROM verifications"
        " WHERE run_id = ? ORDER BY ALL", [second.run_id]).fetchall()
    assert got == sorted([("L14", "H004", "红山镇", "已整改"), ("W01", "H001", "红山镇", "不属实"),
                          ("W01", "H002", "红山镇", "属实-已纳入监测"), ("W01", OUTSIDER, "红山镇", "属实-暂不纳入")])
    reasons = [r[0] for r in con.execute(
        "SELECT reason FROM rejects WHERE run_id = ? AND source_table = 'verifications' ORDER BY row_number",
        [second.run_id]).fetchall()]
    assert sorted(r.split(":")[0] for r in reasons) == ["其他乡镇的户", "核实结果不是可选值"]
    w = {(r[0] or r[1]): r[2:] for r in con.execute(
        "SELECT household_id, id_number, verification, suppressed, flag FROM warnings"
        " WHERE run_id = ? AND rule_code = 'W01'", [second.run_id]).fetchall()}
    assert w["H001"] == ("不属实", True, None)
    assert w[OUTSIDER] == ("属实-暂不纳入", False, None)   # new settlement: evidence changed
    assert w["H002"] == ("属实-已纳入监测", False, None)
    assert w["H003"] == (None, False, None)                # 白水乡's household untouched
    assert con.execute("SELECT flag FROM logic_errors WHERE run_id = ? AND rule_code = 'L14'",
                       [second.run_id]).fetchone() == ("整改未生效",)

    # what the township sees in the second workbook
    book = second.reports_dir / "townships" / f"{COUNTY}_红山镇_2026-12-10.xlsx"
    listed = {r["户编号"] or r["户主证件号码"]: r for r in _sheet_rows(book, "预警名单") if str(r["预警规则"]).startswith("W01")}
    done = {r["户编号"]: r for r in _sheet_rows(book, "已核实")}
    assert "H001" not in listed and done["H001"]["核实结果"] == "不属实" and done["H001"]["核实人"] == "张三"
    assert listed["H002"]["核实结果"] == "属实-已纳入监测" and listed["H002"]["核实人"] == "李四"
    assert listed[OUTSIDER]["核实结果"] == "属实-暂不纳入"
    # the mistyped "属实" was refused: the row comes back blank, with the reason in its 备注
    assert not listed["H006"]["核实结果"]
    assert listed["H006"]["备注"] == "上次报回未能登记：核实结果“属实”不是可选值，请从下拉列表中选择。"
    assert all(not r["备注"] for k, r in listed.items() if k != "H006")
    # the row retyped to 白水乡's H003 was refused as another township's: nothing in 白水乡's book
    other = _sheet_rows(second.reports_dir / "townships" / f"{COUNTY}_白水乡_2026-12-10.xlsx", "预警名单")
    assert all(not r["备注"] for r in other)
    errors = [r for r in _sheet_rows(book, "逻辑错误") if str(r["错误规则"]).startswith("L14")]
    assert errors[0]["核实结果"] == "已整改" and errors[0]["错误说明"].startswith("【整改未生效】")

    con.close()
    # the scorecard: 红山镇 has 5 current warnings, 3 verified, none overdue yet; W01 verified 3, 2 属实
    town = _scorecard_rows(second, "按乡镇排名")["红山镇"]
    assert (town["预警"], town["逾期"], town["核实率"]) == (5, 0, pytest.approx(0.6))
    w01 = _scorecard_rows(second, "预警规则核实", key="规则")["W01"]
    assert (w01["已核实"], w01["核实属实"], w01["属实率"]) == (3, 2, pytest.approx(2 / 3))

    # a month later, H002 is still not in the roster as monitored: listed again, marked;
    # the same returned file, still in the inbox, adds nothing to the history
    third = run_once(inbox, None, date(2027, 1, 15), out)
    con = warehouse(out)
    assert con.execute(
        "SELECT status, flag FROM warnings WHERE run_id = ? AND rule_code = 'W01' AND household_id = 'H002'",
        [third.run_id]).fetchone() == ("持续", "核实属实未纳入")
    assert con.execute("SELECT count(*) FROM verifications WHERE run_id = ?", [third.run_id]).fetchone() == (0,)
    con.close()
    book3 = third.reports_dir / "townships" / f"{COUNTY}_红山镇_2027-01-15.xlsx"
    h002 = [r for r in _sheet_rows(book3, "预警名单") if r["户编号"] == "H002"]
    assert h002[0]["状态"] == "持续" and h002[0]["预警原因"].startswith("【核实属实未纳入】")
    # deadlines (2026-11-24 + 30 days) have passed: H005 and H006 are overdue, unverified
    town = _scorecard_rows(third, "按乡镇排名")["红山镇"]
    assert (town["逾期"], town["核实率"]) == (2, pytest.approx(0.6))
    # the returned file is still in the inbox: the refusal is still shown ...
    h006 = [r for r in _sheet_rows(book3, "预警名单") if r["户编号"] == "H006"]
    assert h006[0]["备注"] == "上次报回未能登记：核实结果“属实”不是可选值，请从下拉列表中选择。"

    # ... until the clerk's corrected return is recorded; then the row shows its result, no 备注
    fill_like_a_clerk(book3, "预警名单", {("W01", "H006"): ("属实-已落实帮扶", "张三", "2027-01-16")},
                      inbox / "feedback" / book3.name)
    fourth = run_once(inbox, None, date(2027, 1, 20), out)
    book4 = fourth.reports_dir / "townships" / f"{COUNTY}_红山镇_2027-01-20.xlsx"
    h006 = [r for r in _sheet_rows(book4, "预警名单") if r["户编号"] == "H006"]
    assert h006[0]["核实结果"] == "属实-已落实帮扶" and not h006[0]["备注"]
    con = warehouse(out)
    assert con.execute("SELECT count(*) FROM verification_refusals WHERE run_id = ? AND household_id = 'H006'",
                       [fourth.run_id]).fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM verification_refusals WHERE run_id = ? AND household_id = 'H006'",
                       [third.run_id]).fetchone() == (1,)
    con.close()


def _scorecard_rows(ctx, sheet: str, key: str = "乡镇") -> dict[str, dict]:
    ws = openpyxl.load_workbook(ctx.reports_dir / "scorecard.xlsx")[sheet]
    rows = list(ws.iter_rows(values_only=True))
    return {r[rows[1].index(key)]: dict(zip(rows[1], r, strict=True)) for r in rows[2:]}


def warehouse(out: Path):
    """The analysts' catalogue (close it before the next run: DuckDB caches an open file per process)."""
    import duckdb

    return duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)


def test_sample_twice_with_a_filled_workbook(tmp_path):
    """The README's demo: generate the sample, run, fill one township's workbook, run again."""
    from pipelines.flow import run_once
    from samplegen.generate import generate

    generate(out=tmp_path / "sample", households=300, seed=7, as_of="2026-11-24")
    inbox, config, out = tmp_path / "sample" / "inbox", tmp_path / "sample" / "fangpin.toml", tmp_path / "out"
    first = run_once(inbox, config, date(2026, 11, 24), out)
    con = warehouse(out)
    sent = con.execute(
        "SELECT township, rule_code, household_id, evidence_key FROM latest_warnings"
        " WHERE household_id IS NOT NULL ORDER BY township, rule_code, household_id").fetchall()
    errors = con.execute("SELECT township, rule_code, household_id, id_number FROM latest_logic_errors"
                         " ORDER BY ALL").fetchall()
    con.close()
    # a township with three roster warnings, one of whose rules also fired in another township
    by_town: dict[str, list] = {}
    for row in sent:
        by_town.setdefault(row[0], []).append(row)
    town, rows, foreign = next(
        (t, rs, f) for t, rs in sorted(by_town.items(), key=lambda kv: -len(kv[1])) if len(rs) >= 3
        for f in [next((o for o in sent if o[0] != t and o[1] == rs[2][1]), None)] if f)
    a, b, c = rows[0], rows[1], rows[2]
    err = next(e for e in errors if e[0] == town and e[3] is None)
    book = first.reports_dir / "townships" / f"示例县_{town}_2026-11-24.xlsx"
    (inbox / "feedback").mkdir()
    half, returned = tmp_path / "half.xlsx", inbox / "feedback" / book.name
    fill_like_a_clerk(book, "预警名单", {
        (a[1], a[2]): ("不属实", "张三", "2026/11/27"),
        (b[1], b[2]): ("属实-已落实帮扶", "李四", "2026年11月27日"),
        (c[1], c[2]): ("属实", "王五", "2026-11-27"),
    }, half)
    # one more copy of c's row, retyped to another township's household
    wb = openpyxl.load_workbook(half)
    ws = wb["预警名单"]
    head = [str(v.value).strip() if v.value else "" for v in ws[1]]
    src = next(r for r in ws.iter_rows(min_row=2) if r[head.index("户编号")].value == c[2])
    new = ws.max_row + 1
    for j, cell in enumerate(src):
        ws.cell(new, j + 1, cell.value)
    ws.cell(new, head.index("户编号") + 1, foreign[2])
    ws.cell(new, head.index("核实结果") + 1, "不属实")
    wb.save(half)
    fill_like_a_clerk(half, "逻辑错误", {(err[1], err[2]): ("已整改", "赵六", "2026-11-27")}, returned)

    second = run_once(inbox, config, date(2026, 12, 8), out)
    con = warehouse(out)
    assert sorted(con.execute(
        "SELECT rule_code, household_id, township, result FROM verifications WHERE run_id = ?",
        [second.run_id]).fetchall()) == sorted([
            (a[1], a[2], town, "不属实"), (b[1], b[2], town, "属实-已落实帮扶"), (err[1], err[2], town, "已整改")])
    reasons = sorted(r[0].split(":")[0] for r in con.execute(
        "SELECT reason FROM rejects WHERE run_id = ? AND source_table = 'verifications'", [second.run_id]).fetchall())
    assert reasons == ["其他乡镇的户", "核实结果不是可选值"]
    fb = second.notes["summary"]["feedback"]   # the run summary reports the refused rows and why
    assert (fb["recorded"], fb["rejected"]) == (3, 2)
    assert sorted(fb["reasons"]) == ["其他乡镇的户", "核实结果不是可选值"]
    assert fb["applied"]["整改未生效"] == 1
    now = {(r[0], r[1]): r[2:] for r in con.execute(
        "SELECT rule_code, household_id, evidence_key, status, verification, suppressed FROM warnings"
        " WHERE run_id = ?", [second.run_id]).fetchall()}
    ek, status, verification, suppressed = now[(a[1], a[2])]
    # same inbox, same evidence: held back
    assert (verification, ek, status, suppressed) == ("不属实", a[3], "持续", True)
    assert now[(foreign[1], foreign[2])][2] is None
    assert con.execute("SELECT flag FROM logic_errors WHERE run_id = ? AND rule_code = ? AND household_id = ?",
                       [second.run_id, err[1], err[2]]).fetchone() == ("整改未生效",)
    con.close()
    book2 = second.reports_dir / "townships" / f"示例县_{town}_2026-12-08.xlsx"
    listed = {(str(r["预警规则"])[:3], r["户编号"]): r for r in _sheet_rows(book2, "预警名单")}
    held = {(str(r["预警规则"])[:3], r["户编号"]): r for r in _sheet_rows(book2, "已核实")}
    assert ((a[1], a[2]) in held) == suppressed and ((a[1], a[2]) in listed) != suppressed
    assert listed[(b[1], b[2])]["核实结果"] == "属实-已落实帮扶" and listed[(b[1], b[2])]["核实人"] == "李四"
    assert not listed[(c[1], c[2])]["核实结果"]


def test_member_row_with_mangled_id_matches_by_name(county):
    """Excel turned the member's ID into 6.20422E+17: the row still matches its L11 error by 成员姓名."""
    target = county["inbox"] / "feedback" / f"{COUNTY}_红山镇_2026-11-24.xlsx"
    fill_like_a_clerk(county["sent"], "逻辑错误", {("L11", "H002"): ("已整改", "张三", "2026-11-30")}, target,
                      edits={("L11", "H002"): {"证件号码": "6.20422E+17"}})
    ctx = new_ctx(county["out"], county["inbox"], date(2026, 12, 2))
    read_feedback(ctx)
    assert ctx.con.execute("SELECT rule_code, household_id, id_number, result FROM verifications").fetchall() == [
        ("L11", "H002", MEMBER_ID, "已整改")]
    add_error(ctx, "L11", "H002", "红山镇", MEMBER_ID, "李小二")
    add_error(ctx, "L11", "H002", "红山镇", "620422198505051236", "李小三")
    apply_feedback(ctx)
    assert ctx.con.execute("SELECT name, verification, flag FROM logic_errors ORDER BY name").fetchall() == [
        ("李小三", None, None), ("李小二", "已整改", "整改未生效")]


def test_l26_verified_not_true_is_suppressed_until_a_new_holding(tmp_path):
    """Ganzi 第五条: a township's 不属实 on L26 records the household's special hardship as verified;
    the next nights hold the finding back (已核实) until the registers show a new holding."""
    out, inbox = tmp_path / "out", tmp_path / "inbox"
    (inbox / "feedback").mkdir(parents=True)

    def l26(ctx, hh, key):
        ctx.con.execute(
            "INSERT INTO logic_errors (run_id, rule_code, household_id, county, township, village, detail,"
            " evidence_key) VALUES (?, 'L26', ?, ?, '红山镇', '一村', '负面清单', ?)",
            [ctx.run_id, hh, COUNTY, key])

    ctx = new_ctx(out, inbox, date(2026, 11, 24))
    add_households(ctx, [("H001", "红山镇", "边缘易致贫户"), ("H002", "红山镇", "边缘易致贫户")])
    l26(ctx, "H001", "car")
    l26(ctx, "H002", "house")
    publish(ctx)
    sent = tmp_path / f"{COUNTY}_红山镇_2026-11-24.xlsx"
    write_township_workbook(sent, [], [
        {"村": "一村", "户编号": "H001", "错误规则": "L26 负面清单情形（富人戴穷帽）"},
        {"村": "一村", "户编号": "H002", "错误规则": "L26 负面清单情形（富人戴穷帽）"}])
    fill_like_a_clerk(sent, "逻辑错误", {("L26", "H001"): ("不属实", "张三", "2026-12-01"),
                                        ("L26", "H002"): ("不属实", "张三", "2026-12-01")},
                      inbox / "feedback" / sent.name)

    ctx2 = new_ctx(out, inbox, date(2026, 12, 2))
    add_households(ctx2, [("H001", "红山镇", "边缘易致贫户"), ("H002", "红山镇", "边缘易致贫户")])
    assert read_feedback(ctx2)["recorded"] == 2
    l26(ctx2, "H001", "car")              # the same holding as the verified workbook showed
    l26(ctx2, "H002", "house+car")        # a new holding since
    result = apply_feedback(ctx2)
    got = dict(ctx2.con.execute("SELECT household_id, suppressed FROM logic_errors ORDER BY 1").fetchall())
    assert got == {"H001": True, "H002": False} and result["logic_errors_suppressed"] == 1
    ctx2.con.close()


def test_l26_in_the_township_workbook_and_verified_away_the_next_night(tmp_path):
    """Issue 10: each township's workbook lists its own households' L26 findings only; a returned
    不属实 (special hardship verified, Ganzi 第五条) moves that household's L26 to 已核实 the next night."""
    from pipelines.flow import run_once
    from samplegen.generate import generate

    generate(out=tmp_path / "sample", households=300, seed=7, as_of="2026-11-24")
    inbox, config, out = tmp_path / "sample" / "inbox", tmp_path / "sample" / "fangpin.toml", tmp_path / "out"
    first = run_once(inbox, config, date(2026, 11, 24), out)
    con = warehouse(out)
    l26 = con.execute("SELECT township, household_id FROM latest_logic_errors WHERE rule_code = 'L26'"
                      " ORDER BY ALL").fetchall()
    con.close()
    assert len({h for _, h in l26}) >= 4
    by_town: dict[str, set] = {}
    for town, hh in l26:
        by_town.setdefault(town, set()).add(hh)
    for town, households in by_town.items():
        book = first.reports_dir / "townships" / f"示例县_{town}_2026-11-24.xlsx"
        shown = {r["户编号"] for r in _sheet_rows(book, "逻辑错误") if str(r["错误规则"]).startswith("L26")}
        assert shown == households, town
    town, households = max(by_town.items(), key=lambda kv: len(kv[1]))
    verified = sorted(households)[0]
    book = first.reports_dir / "townships" / f"示例县_{town}_2026-11-24.xlsx"
    (inbox / "feedback").mkdir()
    fill_like_a_clerk(book, "逻辑错误", {("L26", verified): ("不属实", "张三", "2026-11-30")},
                      inbox / "feedback" / book.name)

    second = run_once(inbox, config, date(2026, 12, 8), out)
    book2 = second.reports_dir / "townships" / f"示例县_{town}_2026-12-08.xlsx"
    listed = {r["户编号"] for r in _sheet_rows(book2, "逻辑错误") if str(r["错误规则"]).startswith("L26")}
    held = {r["户编号"]: r for r in _sheet_rows(book2, "已核实") if str(r["预警规则"]).startswith("L26")}
    assert verified not in listed and listed == households - {verified}
    assert set(held) == {verified} and held[verified]["核实结果"] == "不属实"
    con = warehouse(out)
    assert con.execute("SELECT suppressed, verification FROM latest_logic_errors WHERE rule_code = 'L26'"
                       " AND household_id = ?", [verified]).fetchone() == (True, "不属实")
    con.close()
