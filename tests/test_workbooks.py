"""Township workbooks: only the township's rows, text IDs, no formulas from data, sheet layout, stability."""

from __future__ import annotations

from datetime import date, datetime

import openpyxl
import pytest
from gb11643 import with_check

from checks.screening import run_screening
from core.config import Config
from core.context import RunContext
from pipelines import store
from reports.workbooks import ERROR_COLUMNS, WARNING_COLUMNS, write_township_workbooks

AS_OF = date(2026, 11, 24)
HYPERLINK = '=HYPERLINK("http://example.invalid","点我")'


def pid(birth: str, seq: int) -> str:
    body = f"620422{birth}{seq:03d}"
    return with_check(body)


def _insert(con, run_id, table, **cols):
    names = ["run_id", *cols]
    con.execute(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
                [run_id, *cols.values()])


@pytest.fixture
def ctx(tmp_path):
    con = store.open_work(tmp_path, "r1")
    con.execute("INSERT INTO runs (run_id, as_of_date, started_at, status) VALUES ('r1', ?, ?, 'running')",
                [AS_OF, datetime(2026, 1, 1)])
    for t in ("households", "members", "civil_affairs_assistance", "health_settlements"):
        _insert(con, "r1", "input_files", folder="x", file=f"{t}.csv", source_table=t, status="loaded")
    c = RunContext(run_id="r1", as_of=AS_OF, inbox=tmp_path / "inbox", out=tmp_path,
                   config=Config(monitoring_line={2026: 7800.0}), con=con)
    yield c
    con.close()


def _household(ctx, hid, township, head_name, head_id, **cols):
    _insert(ctx.con, "r1", "households", household_id=hid, county="示例县", township=township, village="一村",
            head_name=head_name, head_id_number=head_id, household_size=3, cadre_name="王干部",
            cadre_phone="13800000000", **cols)
    _insert(ctx.con, "r1", "members", household_id=hid, name=head_name, id_number=head_id, relation="户主")


def _populate(ctx):
    red = {"H1": pid("19700101", 1), "H2": pid("19700101", 2)}
    black = {"H3": pid("19700101", 3)}
    _household(ctx, "H1", "红山镇", HYPERLINK, red["H1"], per_capita_net_income=5000)
    _household(ctx, "H2", "红山镇", "李四", red["H2"], per_capita_net_income=6000, exit_year=2018)
    _household(ctx, "H3", "黑水乡", "王五", black["H3"], per_capita_net_income=5000)
    outsider = pid("19800101", 9)
    _insert(ctx.con, "r1", "civil_affairs_assistance", name="+赵六", id_number=outsider, township="黑水乡",
            village="二村", assistance_type="临时救助", start_date=date(2026, 10, 1), amount=800)
    black["out"] = outsider
    _insert(ctx.con, "r1", "logic_errors", rule_code="L99", household_id="H3", id_number=black["H3"],
            name="王五", county="示例县", township="黑水乡", village="一村", detail="-测试说明")
    _insert(ctx.con, "r1", "logic_errors", rule_code="L14", household_id="H2", county="示例县",
            township="红山镇", village="一村", detail="家庭人口数 3 与正常成员数 1 不一致",
            verification="已整改", verified_on=date(2026, 11, 1), flag="整改未生效")
    run_screening(ctx)
    ctx.con.execute("UPDATE warnings SET suppressed = true, verification = '不属实', verified_on = DATE '2026-11-20'"
                    " WHERE household_id = 'H2'")
    return red, black


def _all_text(path) -> list[str]:
    wb = openpyxl.load_workbook(path)
    return [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def test_one_workbook_per_township_with_only_its_rows(ctx):
    red, black = _populate(ctx)
    paths = write_township_workbooks(ctx)
    names = sorted(p.name for p in paths)
    assert names == ["示例县_红山镇_2026-11-24.xlsx", "示例县_黑水乡_2026-11-24.xlsx"]
    assert all(p.parent == ctx.reports_dir / "townships" for p in paths)
    by_name = {p.name: p for p in paths}
    red_text = " ".join(_all_text(by_name["示例县_红山镇_2026-11-24.xlsx"]))
    black_text = " ".join(_all_text(by_name["示例县_黑水乡_2026-11-24.xlsx"]))
    assert all(i in red_text for i in red.values()) and not any(i in red_text for i in black.values())
    assert all(i in black_text for i in black.values()) and not any(i in black_text for i in red.values())


def test_sheets_layout_text_cells_and_highlight(ctx):
    red, black = _populate(ctx)
    paths = {p.name: p for p in write_township_workbooks(ctx)}
    wb = openpyxl.load_workbook(paths["示例县_红山镇_2026-11-24.xlsx"])
    assert wb.sheetnames == ["预警名单", "逻辑错误", "已核实", "说明"]
    ws = wb["预警名单"]
    assert [c.value for c in ws[1]] == [h for h, _ in WARNING_COLUMNS]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$1:$1"
    rows = [[c for c in r] for r in ws.iter_rows(min_row=2)]
    assert len(rows) == 1                                           # H1 W09; H2 suppressed
    row = rows[0]
    head = {h: c for (h, _), c in zip(WARNING_COLUMNS, row, strict=True)}
    assert head["户主姓名"].value == HYPERLINK and head["户主姓名"].data_type == "s"
    assert head["户主证件号码"].data_type == "s" and head["户主证件号码"].value == red["H1"]
    assert head["户编号"].value == "H1" and head["预警规则"].value == "W09 收入低于监测标准"
    assert head["状态"].value == "新增" and head["核实期限"].value == "2026-12-24"
    assert head["核实结果"].value is None and head["核实人"].value is None
    assert head["户主证件号码"].fill.fgColor.rgb.endswith("FFF2CC")
    assert head["户主证件号码"].number_format == "@" and head["户编号"].number_format == "@"
    assert ws.column_dimensions["D"].number_format == "@"         # an ID typed in later stays text
    suppressed = list(wb["已核实"].iter_rows(min_row=2, values_only=True))
    assert len(suppressed) == 1 and suppressed[0][1] == "H2" and suppressed[0][14] == "不属实"
    errors = wb["逻辑错误"]
    assert [c.value for c in errors[1]] == [h for h, _ in ERROR_COLUMNS]
    (err,) = list(errors.iter_rows(min_row=2, values_only=True))
    assert err[5].startswith("L14") and err[8] == "已整改" and len(err) == 11
    assert err[6].startswith("【整改未生效】家庭人口数")          # marked in 错误说明; no extra column
    notes = " ".join(str(c.value) for r in wb["说明"].iter_rows() for c in r if c.value is not None)
    assert "2026-11-24" in notes and "W01" in notes and "医保结算" in notes and "未收到" in notes


def test_out_of_roster_row_and_unknown_rule_code(ctx):
    _, black = _populate(ctx)
    paths = {p.name: p for p in write_township_workbooks(ctx)}
    wb = openpyxl.load_workbook(paths["示例县_黑水乡_2026-11-24.xlsx"])
    rows = {r[3]: r for r in wb["预警名单"].iter_rows(min_row=2, values_only=True)}
    out = rows[black["out"]]
    assert out[1] is None and out[2] == "+赵六" and out[5] == "非建档立卡/监测户" and out[6] == "W08 临时救助"
    assert wb["预警名单"].cell(row=2, column=3).data_type == "s"
    (err,) = list(wb["逻辑错误"].iter_rows(min_row=2, values_only=True))
    assert err[5] == "L99" and err[6] == "-测试说明" and err[7] is None


def test_rerun_is_byte_identical(ctx):
    _populate(ctx)
    first = {p: p.read_bytes() for p in write_township_workbooks(ctx)}
    second = {p: p.read_bytes() for p in write_township_workbooks(ctx)}
    assert first == second


def test_unrouted_warnings_go_to_county_file(ctx):
    _populate(ctx)
    ctx.con.execute("UPDATE warnings SET township = NULL WHERE household_id IS NULL")
    paths = write_township_workbooks(ctx)
    assert [p.name for p in paths] == ["示例县_红山镇_2026-11-24.xlsx", "示例县_黑水乡_2026-11-24.xlsx"]
    (unrouted,) = ctx.notes["unrouted_workbooks"]
    assert "乡镇未识别" in unrouted and "+赵六" in " ".join(_all_text(unrouted))


def test_no_logic_errors_and_stale_workbook_removed(ctx):
    _populate(ctx)
    write_township_workbooks(ctx)
    ctx.con.execute("DELETE FROM logic_errors")
    ctx.con.execute("DELETE FROM warnings WHERE township = '黑水乡'")
    paths = write_township_workbooks(ctx)
    assert [p.name for p in paths] == ["示例县_红山镇_2026-11-24.xlsx"]
    assert sorted(p.name for p in (ctx.reports_dir / "townships").iterdir()) == ["示例县_红山镇_2026-11-24.xlsx"]
    wb = openpyxl.load_workbook(paths[0])
    assert wb["逻辑错误"].max_row == 1 and wb["逻辑错误"].freeze_panes == "A2"


def test_notes_describe_rules_with_configured_thresholds(ctx):
    ctx.config.thresholds["temp_assistance_days"] = 90
    _populate(ctx)
    paths = {p.name: p for p in write_township_workbooks(ctx)}
    notes = " ".join(_all_text(paths["示例县_黑水乡_2026-11-24.xlsx"]))
    assert "近90天内领取过临时救助" in notes and "7,800.00 元" in notes and "{" not in notes


def test_latest_verification_prefilled_with_its_verifier(ctx):
    _populate(ctx)
    ctx.con.execute("UPDATE warnings SET verification = '属实-已落实帮扶', verified_on = DATE '2026-11-20',"
                    " flag = '核实属实未纳入' WHERE household_id = 'H1'")
    _insert(ctx.con, "r1", "verifications", rule_code="W09", household_id="H1", township="红山镇",
            result="属实-已落实帮扶", verifier="张核实", verified_on=date(2026, 11, 20))
    paths = {p.name: p for p in write_township_workbooks(ctx)}
    wb = openpyxl.load_workbook(paths["示例县_红山镇_2026-11-24.xlsx"])
    (row,) = list(wb["预警名单"].iter_rows(min_row=2, values_only=True))
    assert row[10] == "新增"                                        # 状态 holds only 新增 / 持续 / 已解除
    assert row[8].startswith("【核实属实未纳入】")
    assert row[14:17] == ("属实-已落实帮扶", "张核实", "2026-11-20")


def test_returned_workbook_round_trip(tmp_path):
    """The township fills our workbook; the next run records it and moves the row to 已核实."""
    from checks.feedback import apply_feedback, read_feedback

    def run(run_id, as_of):
        con = store.open_work(tmp_path, run_id)
        con.execute("INSERT INTO runs (run_id, as_of_date, started_at, status) VALUES (?, ?, ?, 'running')",
                    [run_id, as_of, datetime(2026, 1, 1)])
        for t in ("households", "members", "civil_affairs_assistance"):
            _insert(con, run_id, "input_files", folder="x", file=f"{t}.csv", source_table=t, status="loaded")
        c = RunContext(run_id=run_id, as_of=as_of, inbox=tmp_path / "inbox", out=tmp_path,
                       config=Config(monitoring_line={2026: 7800.0}), con=con)
        for hid, town, head in (("H1", "红山镇", "张一"), ("H3", "黑水乡", "王五")):
            _insert(con, run_id, "households", household_id=hid, county="示例县", township=town, village="一村",
                    head_name=head, head_id_number=pid("19700101", int(hid[1])), household_size=1,
                    per_capita_net_income=5000)
            _insert(con, run_id, "members", household_id=hid, name=head, id_number=pid("19700101", int(hid[1])))
        read_feedback(c)
        run_screening(c)
        apply_feedback(c)
        paths = {p.name: p for p in write_township_workbooks(c)}
        con.execute("UPDATE runs SET status = 'completed', finished_at = ? WHERE run_id = ?",
                    [datetime(2026, 1, 1), run_id])
        store.publish(con, tmp_path, run_id)
        con.close()
        return paths

    sent = run("r1", AS_OF)["示例县_红山镇_2026-11-24.xlsx"]
    wb = openpyxl.load_workbook(sent)
    ws = wb["预警名单"]
    assert ws.cell(row=2, column=2).value == "H1"
    for col, value in ((15, "不属实"), (16, "张核实"), (17, "2026-11-28")):
        ws.cell(row=2, column=col, value=value)
    (tmp_path / "inbox" / "feedback").mkdir(parents=True)
    wb.save(tmp_path / "inbox" / "feedback" / sent.name)
    nxt = openpyxl.load_workbook(run("r2", date(2026, 12, 1))["示例县_红山镇_2026-12-01.xlsx"])
    assert nxt["预警名单"].max_row == 1
    (row,) = list(nxt["已核实"].iter_rows(min_row=2, values_only=True))
    assert row[1] == "H1" and row[10] == "持续" and row[14:17] == ("不属实", "张核实", "2026-11-28")
