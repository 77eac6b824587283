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


# outputs.md "Township workbook", in order
SPEC_WARNING_HEADERS = [
    "序号", "乡镇", "村", "户编号", "户主姓名", "户主证件号码", "家庭人口", "脱贫年度", "户类型 / 监测对象类别",
    "预警规则", "风险类型", "预警原因", "来源部门", "状态", "首次预警日期", "核实期限", "帮扶责任人", "联系电话",
    "核实结果", "核实人", "核实日期", "备注"]
SPEC_ERROR_HEADERS = ["序号", "村", "户编号", "户主姓名", "成员姓名", "证件号码", "错误规则", "错误说明", "整改建议",
                      "核实结果", "核实人", "核实日期", "备注"]
SPEC_MEASURE_HEADERS = ["序号", "乡镇", "村", "户主姓名", "户主证件号码", "家庭人口", "脱贫年度", "风险类型",
                        "已录入帮扶措施", "完成时限", "帮扶责任人", "制定的帮扶措施"]


def _rows(ws) -> list[dict]:
    """The table's rows by header, up to the sign-off line."""
    headers = [c.value for c in ws[1]]
    out = []
    for r in ws.iter_rows(min_row=2, values_only=True):
        if r[0] is not None and str(r[0]).startswith("填表人"):
            break
        if any(v is not None for v in r):
            out.append(dict(zip(headers, r, strict=True)))
    return out


def test_sheets_layout_text_cells_and_highlight(ctx):
    red, black = _populate(ctx)
    paths = {p.name: p for p in write_township_workbooks(ctx)}
    wb = openpyxl.load_workbook(paths["示例县_红山镇_2026-11-24.xlsx"])
    assert wb.sheetnames == ["预警名单", "逻辑错误", "已核实", "说明"]   # no 帮扶措施台账: nothing verified 属实
    ws = wb["预警名单"]
    assert [c.value for c in ws[1]] == SPEC_WARNING_HEADERS == [c.header for c in WARNING_COLUMNS]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    (row,) = _rows(ws)                                              # H1 W09; H2 suppressed
    head = {h: c for h, c in zip(SPEC_WARNING_HEADERS, ws[2], strict=True)}
    assert head["户主姓名"].value == HYPERLINK and head["户主姓名"].data_type == "s"
    assert head["户主证件号码"].data_type == "s" and head["户主证件号码"].value == red["H1"]
    assert row["序号"] == 1 and row["乡镇"] == "红山镇" and row["村"] == "一村" and row["家庭人口"] == 3
    assert row["户编号"] == "H1" and row["预警规则"] == "W09 收入低于监测标准" and row["来源部门"] == "监测系统"
    assert row["脱贫年度"] == "非贫困户" and row["户类型 / 监测对象类别"] == "一般农户"
    assert row["状态"] == "新增"
    # a date too wide for its column is split after the year (A4), not inside a number
    assert row["核实期限"] == "2026-\n12-24" and row["首次预警日期"] == "2026-\n11-24"
    assert row["帮扶责任人"] == "王干部" and row["联系电话"] == "13800000000"
    assert row["核实结果"] is None and row["核实人"] is None and row["备注"] is None
    assert head["户主证件号码"].fill.fgColor.rgb.endswith("FFF2CC")
    assert head["户主证件号码"].number_format == "@" and head["户编号"].number_format == "@"
    assert ws.column_dimensions["F"].number_format == "@"         # an ID typed in later stays text
    (done,) = _rows(wb["已核实"])
    assert done["户编号"] == "H2" and done["核实结果"] == "不属实" and done["脱贫年度"] == "2018"
    errors = wb["逻辑错误"]
    assert [c.value for c in errors[1]] == SPEC_ERROR_HEADERS == [c.header for c in ERROR_COLUMNS]
    (err,) = _rows(errors)
    assert err["序号"] == 1 and err["错误规则"].startswith("L14") and err["核实结果"] == "已整改"
    assert err["错误说明"].startswith("【整改未生效】家庭人口数")     # marked in 错误说明; no extra column
    notes = " ".join(str(c.value) for r in wb["说明"].iter_rows() for c in r if c.value is not None)
    assert "2026-11-24" in notes and "W01" in notes and "医保结算" in notes and "未收到" in notes


def test_print_setup_sign_off_and_row_heights(ctx):
    from reports.layout import col_points, text_lines

    _populate(ctx)
    long = "；".join(f"2026-0{m}-01 某某医院住院，个人自付 {m * 1000} 元" for m in range(1, 9))
    ctx.con.execute("UPDATE warnings SET evidence = ? WHERE household_id = 'H1'", [long])
    ctx.config.workbook["paper"] = "A3"
    paths = {p.name: p for p in write_township_workbooks(ctx)}
    wb = openpyxl.load_workbook(paths["示例县_红山镇_2026-11-24.xlsx"])
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 8   # A3 from the config
        # printed at 100 %: never shrunk below 9 pt (the widths fill the page instead)
        fit = ws.sheet_properties.pageSetUpPr
        assert ws.page_setup.scale in (None, 100) and (fit is None or not fit.fitToPage)
        assert ws.oddFooter.center.text == "第 &P 页 共 &N 页"
        assert "红山镇" in ws.oddHeader.center.text and "2026-11-24" in ws.oddHeader.center.text
        assert ws.print_area
        if ws.title != "说明":
            assert ws.print_title_rows == "$1:$1"
            sign = [c for r in ws.iter_rows() for c in r if isinstance(c.value, str) and c.value.startswith("填表人")]
            assert len(sign) == 1 and all(k in sign[0].value for k in ("核实人签字", "乡镇（盖章）", "日期"))
            assert sign[0].row == ws.max_row and sign[0].column == 1
            assert ws.print_area.endswith(f"${sign[0].row}")
    ws = wb["预警名单"]
    col = SPEC_WARNING_HEADERS.index("预警原因")
    width = col_points(ws.column_dimensions[openpyxl.utils.get_column_letter(col + 1)].width - 0.71)
    lines = text_lines(ws.cell(2, col + 1).value, width)
    assert lines > 2 and ws.row_dimensions[2].height >= lines * 9 * 1.45     # every wrapped line shows
    assert ws.row_dimensions[1].height >= 2 * 9 * 1.45                        # wrapped headers too
    a4 = {p.name: p for p in write_township_workbooks(ctx)}                   # same rows, A3 wider: fewer lines
    ctx.config.workbook["paper"] = "A4"
    a4 = openpyxl.load_workbook(write_township_workbooks(ctx)[0])["预警名单"]
    assert a4.page_setup.paperSize == 9 and a4.row_dimensions[2].height > ws.row_dimensions[2].height


def test_verified_sheets_only_when_they_have_rows_and_the_measures_ledger(ctx):
    _, black = _populate(ctx)
    ctx.con.execute("UPDATE warnings SET suppressed = false, verification = NULL, verified_on = NULL")
    ctx.con.execute("UPDATE warnings SET verification = '属实-已落实帮扶', verified_on = DATE '2026-11-20'"
                    " WHERE household_id IS NULL")                       # the out-of-roster W08, 黑水乡
    ctx.con.execute("UPDATE warnings SET verification = '属实-已纳入监测', verified_on = DATE '2026-11-20'"
                    " WHERE household_id = 'H3'")                         # W09, 其他类
    _insert(ctx.con, "r1", "measures", household_id="H3", measure_type="产业帮扶", description="养殖补贴",
            start_date=date(2026, 3, 1))
    paths = {p.name: p for p in write_township_workbooks(ctx)}
    red = openpyxl.load_workbook(paths["示例县_红山镇_2026-11-24.xlsx"])
    assert red.sheetnames == ["预警名单", "逻辑错误", "说明"]
    black_wb = openpyxl.load_workbook(paths["示例县_黑水乡_2026-11-24.xlsx"])
    assert black_wb.sheetnames == ["预警名单", "逻辑错误", "帮扶措施台账", "说明"]
    ws = black_wb["帮扶措施台账"]
    assert [c.value for c in ws[1]] == SPEC_MEASURE_HEADERS
    rows = {r["户主证件号码"]: r for r in _rows(ws)}
    out = rows[black["out"]]
    assert out["风险类型"] == "突发严重困难" and out["完成时限"] == "2026-12-20"   # 重大变故类: 1 month
    assert out["家庭人口"] is None and out["制定的帮扶措施"] is None
    h3 = rows[black["H3"]]
    assert h3["完成时限"] == "及时办结、长期坚持" and h3["已录入帮扶措施"] == "产业帮扶：养殖补贴（2026-03-01起）"
    assert h3["脱贫年度"] == "非贫困户" and h3["帮扶责任人"] == "王干部" and h3["家庭人口"] == 3


def test_notes_are_plain_chinese_without_configuration_keys(ctx):
    import re

    _populate(ctx)
    ctx.skip("rule", "W03", "配置中没有2026年的监测标准（monitoring_line），本规则未运行")
    paths = {p.name: p for p in write_township_workbooks(ctx)}
    wb = openpyxl.load_workbook(paths["示例县_黑水乡_2026-11-24.xlsx"])
    notes = " ".join(str(c.value) for r in wb["说明"].iter_rows() for c in r if c.value is not None)
    assert not re.search(r"[a-z]+_[a-z_]+", notes), re.findall(r"[a-z]+_[a-z_]+", notes)
    assert not re.search(r"[A-Za-z]{4,}", notes), re.findall(r"[A-Za-z]{4,}", notes)
    for value in ("180 天", "30 天", "45 天", "属实-已纳入监测", "已整改", "第 &P" if False else "报回", "国务院"):
        assert value in notes, value
    assert "W03：配置中没有2026年的监测标准，本规则未运行" in notes


def test_out_of_roster_row_and_unknown_rule_code(ctx):
    _, black = _populate(ctx)
    paths = {p.name: p for p in write_township_workbooks(ctx)}
    wb = openpyxl.load_workbook(paths["示例县_黑水乡_2026-11-24.xlsx"])
    rows = {r["户主证件号码"]: r for r in _rows(wb["预警名单"])}
    out = rows[black["out"]]
    assert out["户编号"] is None and out["户主姓名"] == "+赵六" and out["户类型 / 监测对象类别"] == "非建档立卡/监测户"
    assert out["预警规则"] == "W08 临时救助" and out["家庭人口"] is None and out["来源部门"] == "民政"
    assert out["村"] == "二村" and out["帮扶责任人"] is None and out["联系电话"] is None
    name_col = SPEC_WARNING_HEADERS.index("户主姓名") + 1
    assert any(wb["预警名单"].cell(row=r, column=name_col).data_type == "s" and
               wb["预警名单"].cell(row=r, column=name_col).value == "+赵六" for r in range(2, 5))
    (err,) = _rows(wb["逻辑错误"])
    assert err["错误规则"] == "L99" and err["错误说明"] == "-测试说明" and err["整改建议"] is None


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
    assert _rows(wb["逻辑错误"]) == [] and wb["逻辑错误"].freeze_panes == "A2"
    assert str(wb["逻辑错误"]["A3"].value).startswith("填表人")            # header, a blank row, the sign-off


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
    (row,) = _rows(wb["预警名单"])
    assert row["状态"] == "新增"                                     # 状态 holds only 新增 / 持续 / 已解除
    assert row["预警原因"].startswith("【核实属实未纳入】")
    assert (row["核实结果"], row["核实人"], row["核实日期"]) == ("属实-已落实帮扶", "张核实", "2026-11-20")


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
    assert ws.cell(row=2, column=SPEC_WARNING_HEADERS.index("户编号") + 1).value == "H1"
    for header, value in (("核实结果", "不属实"), ("核实人", "张核实"), ("核实日期", "2026-11-28")):
        ws.cell(row=2, column=SPEC_WARNING_HEADERS.index(header) + 1, value=value)
    (tmp_path / "inbox" / "feedback").mkdir(parents=True)
    wb.save(tmp_path / "inbox" / "feedback" / sent.name)
    nxt = openpyxl.load_workbook(run("r2", date(2026, 12, 1))["示例县_红山镇_2026-12-01.xlsx"])
    assert _rows(nxt["预警名单"]) == []
    (row,) = _rows(nxt["已核实"])
    assert row["户编号"] == "H1" and row["状态"] == "持续"
    assert (row["核实结果"], row["核实人"], row["核实日期"]) == ("不属实", "张核实", "2026-11-28")


def test_refused_return_reasons_in_remarks(ctx):
    """A returned row that could not be recorded comes back with the reason in 备注 — in the
    township that sent it, until a result for the row is recorded."""
    red, black = _populate(ctx)

    def refuse(rule, hid, township, sent_by, reason, id_number=None, result=None, day=None):
        _insert(ctx.con, "r1", "verification_refusals", rule_code=rule, household_id=hid, id_number=id_number,
                township=township, sent_by=sent_by, result_raw=result, date_raw=day, reason=reason,
                source_file="feedback/x.xlsx", source_sheet="预警名单", source_row=3)

    refuse("W09", "H1", "红山镇", "红山镇", "核实日期无法识别: 12/7", result="不属实", day="12/7")
    refuse("L14", "H2", "红山镇", None, "核实结果不是可选值: 属实 (可选: 已整改 / 不属实)", result="属实")
    refuse("W09", "H3", "黑水乡", "红山镇", "其他乡镇的户: 该户属于黑水乡, 不能由红山镇的反馈核实")
    refuse("W08", None, "黑水乡", "黑水乡", "核实日期晚于本次运行的基准日期: 2026-12-30", id_number=black["out"],
           result="不属实", day="2026-12-30")
    _insert(ctx.con, "r1", "verifications", rule_code="W08", household_id=None, id_number=black["out"],
            township="黑水乡", result="不属实", verifier="赵", verified_on=date(2026, 11, 20))  # corrected since
    paths = {p.name: p for p in write_township_workbooks(ctx)}
    red_wb = openpyxl.load_workbook(paths["示例县_红山镇_2026-11-24.xlsx"])
    (w,) = _rows(red_wb["预警名单"])
    assert w["备注"] == "上次报回未能登记：核实日期“12/7”无法识别，请写成 2026-11-28 这样的日期。"
    (e,) = _rows(red_wb["逻辑错误"])
    assert e["备注"] == "上次报回未能登记：核实结果“属实”不是可选值，请从下拉列表中选择。"
    black_rows = _rows(openpyxl.load_workbook(paths["示例县_黑水乡_2026-11-24.xlsx"])["预警名单"])
    assert all(r["备注"] is None for r in black_rows)   # another township's return; a corrected one
