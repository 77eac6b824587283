"""Ingest of real files (GBK/BOM/tab CSV, xlsx with title and footer rows, xls, parquet) into a working DB."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
import xlsxwriter
import xlwt
from gb11643 import with_check

from core.config import Config
from core.context import RunContext
from pipelines import store
from sources.ingest import ingest_folder, resolve_townships

AS_OF = date(2026, 11, 1)
mkid = with_check


A = mkid("62042219900101123")
B = mkid("62042219850202456")
C = mkid("62042220100303001")
X_ID = mkid("62042219700404003")  # may end in X
OLD15 = "620422800505123"  # legacy: 1980-05-05
OLD15_18 = mkid("62042219800505123")


def make_ctx(tmp_path: Path, config: Config | None = None, run_id: str = "r1") -> RunContext:
    inbox = tmp_path / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    out = tmp_path / "out"
    con = store.open_work(out, run_id)
    return RunContext(run_id=run_id, as_of=AS_OF, inbox=inbox, out=out, config=config or Config(), con=con)


def rows(ctx, sql, params=None):
    cur = ctx.con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def accounting_holds(ctx):
    for r in rows(ctx, "SELECT * FROM input_files WHERE status = 'loaded'"):
        assert r["rows_read"] == r["rows_loaded"] + r["rows_rejected"] + r["duplicates"], r


# ---------------------------------------------------------------- CSV, GBK

def test_gbk_csv_title_blank_footer_ids_dates_money_duplicates(tmp_path):
    ctx = make_ctx(tmp_path)
    text = (
        "XX县2026年10月农村低保对象名册\n"
        ",,,,,,,\n"
        "序号,姓名,身份证号,乡镇（街道）,救助类型,救助日期,金额（元）,状态\n"
        f"1,张  三,{A},红山乡,农村低保,2026/3/5,\"1,234.50\",在保\n"          # row 4
        "2,李四,6.20422E+17,红山,农村低保,2026年3月5日,500元,在保\n"            # row 5 sci → reject
        "\n"                                                                    # row 6 blank
        f"3,张 三,{A},红山乡,农村低保,2026-03-05,1234.5,在保\n"                 # row 7 dup of row 4
        f"4,王五,'{OLD15},黑水镇,特困供养,20260305,-,在保\n"                   # row 8 15→18
        f"5,赵六,{X_ID.lower()},红山镇人民政府,临时救助,2026.03.05,１２,已发放\n"  # row 9 lower x
        f"6,钱七,{A[:17]}{'0' if A[17] != '0' else '1'},红山,农村低保,坏日期,12,在保\n"  # row 10 bad check
        "7,孙八,620422199001011000,红山,农村低保,2026-1-2,1,在保\n"            # row 11 trailing 000
        f"8,周九,{B},红山,,2026-01-02,1,在保\n"                                  # row 12 type empty: kept
        f"9,吴十,{C},红山,城乡低保,46086,abc,在保\n"                            # row 13 unknown enum kept
        f"10,郑一,{B},红山,农村低保,2026-13-45,,在保\n"                         # row 14 bad date kept
        "合计,,,,,,2234.5,\n"
        "制表人：某某,,,制表日期：2026年10月31日,,,,\n"
    )
    write(ctx.inbox / "civil_affairs" / "低保.csv", text, "gbk")
    counts = ingest_folder(ctx, "civil_affairs")
    assert counts == {"civil_affairs_assistance": {"read": 10, "loaded": 6, "rejected": 3, "duplicates": 1}}

    got = {r["source_row"]: r for r in rows(ctx, "SELECT * FROM civil_affairs_assistance")}
    assert set(got) == {4, 8, 9, 12, 13, 14}
    assert got[12]["assistance_type"] is None and got[12]["id_number"] == B  # only the ID rejects (inputs.md)
    assert got[14]["start_date"] is None and got[14]["name"] == "郑一"
    assert got[4]["name"] == "张三" and got[4]["id_number"] == A
    assert got[4]["amount"] == Decimal("1234.50") and got[4]["start_date"] == date(2026, 3, 5)
    assert got[4]["township"] is None and got[4]["township_raw"] == "红山乡"
    assert got[4]["county"] == "示例县" and got[4]["source_file"] == "civil_affairs/低保.csv"
    assert got[8]["id_number"] == OLD15_18 and got[8]["amount"] is None
    assert got[8]["start_date"] == date(2026, 3, 5)
    assert got[9]["id_number"] == X_ID and got[9]["amount"] == Decimal("12.00")
    assert got[9]["start_date"] == date(2026, 3, 5)
    assert got[13]["assistance_type"] == "城乡低保"  # unknown value kept for S04
    assert got[13]["start_date"] == date(2026, 3, 5)  # Excel serial 46086
    assert got[13]["amount"] is None

    rej = {r["row_number"]: r for r in rows(ctx, "SELECT * FROM rejects")}
    assert set(rej) == {5, 10, 11}
    assert rej[5]["reason"] == "身份证号无法恢复：被Excel转为科学计数法（6.20422E+17）"
    assert "校验位错误" in rej[10]["reason"]
    assert rej[11]["reason"].startswith("身份证号无法恢复：被Excel按数字保存")
    raw = json.loads(rej[5]["raw"])
    assert raw["姓名"] == "李四" and raw["身份证号"] == "6.20422E+17" and raw["金额（元）"] == "500元"
    assert all(r["source_table"] == "civil_affairs_assistance" and r["file"] == "civil_affairs/低保.csv"
               for r in rej.values())

    (f,) = rows(ctx, "SELECT * FROM input_files")
    assert (f["status"], f["source_table"], f["header_row"]) == ("loaded", "civil_affairs_assistance", 3)
    assert (f["rows_read"], f["rows_loaded"], f["rows_rejected"], f["duplicates"]) == (10, 6, 3, 1)
    assert f["reason"] == "未能识别的值（按空值入库）：救助日期[start_date] 1，金额（元）[amount] 1"
    assert ctx.notes["ingest_unparsed"]["civil_affairs_assistance"] == {"start_date": 1, "amount": 1}
    accounting_holds(ctx)


def test_bom_utf8_tab_separated(tmp_path):
    ctx = make_ctx(tmp_path)
    text = "姓名\t证件号码\t乡镇\t参保年度\t参保状态\n" f"张三\t{A}\t红山\t2026\t已参保\n" f"李四\t {B} \t红山\t2026年\t中断\n"
    write(ctx.inbox / "health_insurance" / "sub" / "参保.csv", text, "utf-8-sig")
    counts = ingest_folder(ctx, "health_insurance")
    assert counts["health_enrolment"]["loaded"] == 2
    got = rows(ctx, "SELECT name, id_number, year, enrolment_status, source_row, source_file"
                    " FROM health_enrolment ORDER BY source_row")
    assert got[0] == {"name": "张三", "id_number": A, "year": 2026, "enrolment_status": "已参保",
                      "source_row": 2, "source_file": "health_insurance/sub/参保.csv"}
    assert got[1]["id_number"] == B and got[1]["year"] == 2026


def test_gb18030_fallback_when_not_utf8_and_unreadable_encoding(tmp_path):
    ctx = make_ctx(tmp_path)
    write(ctx.inbox / "education" / "学籍.csv",
          f"学生姓名,身份证号,学籍状态,学段\n阿依·木哈,{C},在读,小学\n", "gb18030")
    (ctx.inbox / "education" / "乱码.csv").write_bytes(b"\xff\xfe\xff" * 100)
    counts = ingest_folder(ctx, "education")
    assert counts["education_students"]["loaded"] == 1
    assert rows(ctx, "SELECT name FROM education_students") == [{"name": "阿依·木哈"}]
    bad = rows(ctx, "SELECT * FROM input_files WHERE file = 'education/乱码.csv'")[0]
    assert bad["status"] == "unreadable" and "编码" in bad["reason"]
    assert any(s["kind"] == "file" and s["name"] == "education/乱码.csv" for s in ctx.skipped)


# ---------------------------------------------------------------- workbooks

def _xlsx_with_title(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    datefmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws = wb.add_worksheet("结算")
    ws.merge_range("A1:H1", "XX县2026年医保结算明细")
    ws.write_row(2, 0, ["*姓名", "身份证号码", "参保地乡镇", "就诊类型", "入院日期", "出院日期", "医疗总费用(元)", "个人负担"])
    ws.write_row(3, 0, ["张三", A, "红山", "住院"])
    ws.write_datetime(3, 4, __import__("datetime").datetime(2026, 3, 5), datefmt)
    ws.write_datetime(3, 5, __import__("datetime").datetime(2026, 3, 9, 10, 30), datefmt)
    ws.write_number(3, 6, 12345.6)
    ws.write_string(3, 7, "1,000")
    ws.write_row(5, 0, ["李四"])  # row 5 blank above
    ws.write_number(5, 1, 620422199001011000)  # ID typed as number: Excel kept 15 digits
    ws.write_row(5, 2, ["红山", "门诊慢特病"])
    ws.write_number(5, 4, 46086)
    ws.write_number(5, 6, 10)
    ws.write_row(6, 0, ["王五", B, "黑水", "普通门诊", "2026年3月5日", "", "88"])
    ws.write_row(8, 0, ["合计", "", "", "", "", "", 12443.6])
    ws.write_row(9, 0, ["填报单位：XX县医保局"])
    wb.add_worksheet("说明").write(0, 0, "本表数据截至2026年10月31日")
    wb.close()


def test_xlsx_title_blank_footer_and_explanation_sheet(tmp_path):
    cfg = Config(headers={"health_settlements": {"id_number": ["身份证号码"]}})
    ctx = make_ctx(tmp_path, cfg)
    _xlsx_with_title(ctx.inbox / "health_insurance" / "结算.xlsx")
    (ctx.inbox / "health_insurance" / "~$结算.xlsx").write_bytes(b"lock")
    counts = ingest_folder(ctx, "health_insurance")
    assert counts == {"health_settlements": {"read": 3, "loaded": 2, "rejected": 1, "duplicates": 0}}
    got = {r["source_row"]: r for r in rows(ctx, "SELECT * FROM health_settlements")}
    assert set(got) == {4, 7}
    assert got[4]["admit_date"] == date(2026, 3, 5) and got[4]["discharge_date"] == date(2026, 3, 9)
    assert got[4]["total_cost"] == Decimal("12345.60") and got[4]["self_paid"] == Decimal("1000.00")
    assert got[4]["source_sheet"] == "结算" and got[7]["admit_date"] == date(2026, 3, 5)
    (rej,) = rows(ctx, "SELECT * FROM rejects")
    assert rej["row_number"] == 6 and rej["sheet"] == "结算" and "Excel按数字保存" in rej["reason"]
    files = {r["sheet"]: r for r in rows(ctx, "SELECT * FROM input_files")}
    assert files["结算"]["header_row"] == 3 and files["结算"]["status"] == "loaded"
    assert files["说明"]["status"] == "skipped" and "表头未能识别" in files["说明"]["reason"]
    assert "身份证号" in files["说明"]["reason"]  # the header names tried are named
    assert {"kind": "sheet", "name": "health_insurance/结算.xlsx[说明]"} in [
        {k: s[k] for k in ("kind", "name")} for s in ctx.skipped]
    assert len(files) == 3  # the ~$ lock file is not read, but listed with why
    assert files[None]["status"] == "skipped" and "锁定文件" in files[None]["reason"]


def test_legacy_xls_and_enum_map(tmp_path):
    ctx = make_ctx(tmp_path)
    path = ctx.inbox / "housing" / "鉴定.xls"
    path.parent.mkdir(parents=True)
    wb = xlwt.Workbook()
    ws = wb.add_sheet("鉴定")
    for j, h in enumerate(["户主姓名", "户主身份证号", "乡镇", "鉴定等级", "鉴定日期", "是否唯一住房"]):
        ws.write(0, j, h)
    for i, r in enumerate([["张三", A, "红山", "C", "2026/3/5", "Y"], ["李四", B, "红山", "Ｄ级", "", "否"],
                           ["王五", C, "红山", "危房", "2026-03-05", "是"]], start=1):
        for j, v in enumerate(r):
            ws.write(i, j, v)
    wb.save(str(path))
    ingest_folder(ctx, "housing")
    got = rows(ctx, "SELECT owner_id_number, grade, only_house, assessed_date FROM housing_assessments ORDER BY source_row")
    assert [r["grade"] for r in got] == ["C级", "D级", "危房"]
    assert [r["only_house"] for r in got] == ["是", "否", "是"]
    assert got[0]["assessed_date"] == date(2026, 3, 5) and got[1]["assessed_date"] is None


def test_parquet_and_county_column(tmp_path):
    ctx = make_ctx(tmp_path)
    path = ctx.inbox / "disability" / "残疾人.parquet"
    path.parent.mkdir(parents=True)
    pl.DataFrame({
        "所属县": ["另一县", None], "姓名": ["张三", "李四"], "身份证号": [A, B],
        "残疾证号": [A + "42", B + "11"], "乡镇": ["红山", "红山"], "残疾类别": ["肢体", "视力"],
        "残疾等级": ["二级", "一级"], "发证日期": [date(2020, 1, 2), None], "证件状态": ["有效", "注销"],
    }).write_parquet(path)
    ingest_folder(ctx, "disability")
    got = rows(ctx, "SELECT county, cert_number, issued_date, source_row FROM disability_certificates ORDER BY source_row")
    assert got == [
        {"county": "另一县", "cert_number": A + "42", "issued_date": date(2020, 1, 2), "source_row": 2},
        {"county": "示例县", "cert_number": B + "11", "issued_date": None, "source_row": 3},
    ]


# ---------------------------------------------------------------- failures that must not stop the run

def test_corrupt_xlsx_and_unmatched_csv_are_reported_others_load(tmp_path):
    ctx = make_ctx(tmp_path)
    folder = ctx.inbox / "civil_affairs"
    write(folder / "坏.xlsx", "PK\x03\x04 this is not really a workbook")
    write(folder / "其他.csv", "编号,名称,备注\n1,x,y\n", "gbk")
    write(folder / "死亡.csv", f"逝者姓名,逝者身份证号,户籍乡镇,死亡日期\n张三,{A},红山,2026-10-01\n", "gbk")
    write(folder / "notes.pdf", "%PDF")
    counts = ingest_folder(ctx, "civil_affairs")
    assert counts["civil_affairs_deaths"]["loaded"] == 1
    files = {r["file"]: r for r in rows(ctx, "SELECT * FROM input_files")}
    assert files["civil_affairs/坏.xlsx"]["status"] == "unreadable"
    assert "工作簿无法打开" in files["civil_affairs/坏.xlsx"]["reason"]
    unmatched = files["civil_affairs/其他.csv"]
    assert unmatched["status"] == "skipped"
    assert "救助对象[civil_affairs_assistance]缺少必需列" in unmatched["reason"]
    assert "身份证号（尝试过：身份证号、身份证号码、公民身份号码）" in unmatched["reason"]
    # a row that matched no header name may be data: its cells (names, IDs) are not quoted
    assert "文件中没有与任何表头相符的行" in unmatched["reason"]
    assert "名称" not in unmatched["reason"]
    assert files["civil_affairs/notes.pdf"]["status"] == "skipped"
    assert {s["name"] for s in ctx.skipped} >= {"civil_affairs/坏.xlsx", "civil_affairs/其他.csv"}


def test_missing_and_empty_folders_are_skipped_sources(tmp_path):
    ctx = make_ctx(tmp_path)
    (ctx.inbox / "education").mkdir()
    (ctx.inbox / "education" / ".DS_Store").write_bytes(b"x")
    assert ingest_folder(ctx, "education") == {}
    assert ingest_folder(ctx, "housing") == {}
    kinds = {(s["kind"], s["name"]) for s in ctx.skipped}
    assert kinds == {("source", "education"), ("source", "housing"), ("file", "education/.DS_Store")}
    (hidden,) = rows(ctx, "SELECT * FROM input_files")  # the hidden file is listed, not read
    assert hidden["status"] == "skipped" and "隐藏文件" in hidden["reason"]


# ---------------------------------------------------------------- townships

def test_township_resolution_suffixes_aliases_and_counties(tmp_path):
    cfg = Config(townships={"示例县": {"白石街道": ["白石办"]}, "另一县": {}})
    ctx = make_ctx(tmp_path, cfg)
    write(ctx.inbox / "roster" / "户.csv",
          "县,户编号,乡镇,户主姓名,户主证件号码\n"
          f"示例县,H1,红山镇,张三,{A}\n示例县,H2,黑水乡,李四,{B}\n另一县,H3,红山乡,王五,{C}\n")
    write(ctx.inbox / "civil_affairs" / "死亡.csv",
          "县,姓名,身份证号,乡镇,死亡日期\n"
          f"示例县,a,{A},红山,2026-01-01\n示例县,b,{A},红山乡,2026-01-02\n示例县,c,{A},红山镇人民政府,2026-01-03\n"
          f"示例县,d,{A},黑水镇,2026-01-04\n示例县,e,{A},白石办,2026-01-05\n示例县,f,{A},白石街道办事处,2026-01-06\n"
          f"示例县,g,{A},蓝天镇,2026-01-07\n另一县,h,{A},红山,2026-01-08\n,i,{A},黑 水,2026-01-09\n")
    ingest_folder(ctx, "roster")
    ingest_folder(ctx, "civil_affairs")
    out = resolve_townships(ctx)
    got = {r["name"]: r["township"] for r in rows(ctx, "SELECT name, township FROM civil_affairs_deaths")}
    assert got == {"a": "红山镇", "b": "红山镇", "c": "红山镇", "d": "黑水乡", "e": "白石街道",
                   "f": "白石街道", "g": None, "h": "红山乡", "i": "黑水乡"}
    assert out["civil_affairs_deaths"] == {"resolved": 8, "unresolved": 1}


# ---------------------------------------------------------------- roster

def test_roster_keeps_invalid_ids_and_rejects_rows_without_household(tmp_path):
    ctx = make_ctx(tmp_path)
    write(ctx.inbox / "roster" / "成员.csv",
          "户编号,姓名,证件号码,性别,与户主关系,在校生状况,人员状态\n"
          f"H1,张三,{A},1,户主,,\n"
          "H1,李四,6.20422E+17,2,配偶,非在校生,正常\n"
          f"H1,小张,{C},男,之子,三年级,\n"
          f",无户,{B},女,之女,,\n", "gbk")
    counts = ingest_folder(ctx, "roster")
    assert counts["members"] == {"read": 4, "loaded": 3, "rejected": 1, "duplicates": 0}
    got = rows(ctx, "SELECT name, id_number, id_number_raw, gender, school_status, status, county"
                    " FROM members ORDER BY source_row")
    assert got[0] == {"name": "张三", "id_number": A, "id_number_raw": A, "gender": "男",
                      "school_status": None, "status": "正常", "county": "示例县"}
    assert got[1]["id_number"] == "6.20422E+17" and got[1]["gender"] == "女"
    assert got[2]["school_status"] == "小学"
    (rej,) = rows(ctx, "SELECT * FROM rejects")
    assert rej["source_table"] == "members" and rej["row_number"] == 5 and "户编号" in rej["reason"]


NATIONAL_HEADERS = [
    "序号", "县(市、区、旗)", "乡（镇）", "行政村", "户编号", "姓名", "证件号码", "与户主关系", "性别",
    "在校生状况", "健康状况", "劳动技能", "务工状况", "务工时间（月）", "是否参加城乡居民基本医疗保险",
    "是否享受农村低保", "是否特困供养", "人员状态", "户主证件号码", "脱贫年度", "监测对象类别",
    "识别监测时间", "风险是否已消除", "风险消除时间", "家庭人口数", "人均纯收入（元）", "工资性收入",
    "生产经营性收入", "财产性收入", "转移性收入",
    "是否义务教育阶段适龄儿童少年失学辍学", "是否有家庭成员未参加城乡居民（职工）基本医疗保险",
    "是否危房户", "是否解决安全饮用水",
    "致贫/返贫风险1", "致贫/返贫风险2", "致贫/返贫风险3", "致贫/返贫风险4", "致贫/返贫风险5",
    "产业帮扶", "就业帮扶", "公益性岗位帮扶", "义务教育保障", "住房安全保障", "健康帮扶", "帮扶责任人", "系统备注",
]
D = mkid("62042219920606002")
E = mkid("62042219600707001")


def _national_rows():
    common1 = ["示例县", "红山镇", "红星村", "H1"]
    hh1 = [A, "2016", "脱贫不稳定户", "2025-03-01", "否", "", "3", "4,800", "10000", "2000", "0", "2400",
           "否", "否", "是", "是", "因病", "因学", "", "", "", "种植补贴", "", "", "", "危房改造已完成", "", "刘干部"]
    m = [
        ["1", *common1, "张三", A, "户主", "1", "", "长期慢性病", "普通劳动力", "县内务工", "6", "是", "否", "否", "", *hh1, ""],
        ["2", *common1, "李四", B, "配偶", "2", "", "健康", "普通劳动力", "未务工", "0", "是", "否", "否", "正常", *hh1, ""],
        ["3", *common1, "张小", C, "之子", "1", "三年级", "健康", "无劳动力", "未务工", "", "是", "否", "否", "",
         *hh1[:12], "是", "否", "是", "是", *hh1[16:], ""],
    ]
    # household 2: no 户主 row; household values from its first row; water problem column says 否
    common2 = ["示例县", "红山镇", "红旗村", "H2"]
    hh2 = [E, "", "边缘易致贫户", "2024/5/6", "是", "2026年1月2日", "2", "9000", "", "", "", "",
           "否", "否", "否", "否", "因残", "", "", "", "", "", "务工介绍", "", "", "", "", "王干部"]
    m.append(["4", *common2, "赵五", D, "之女", "2", "", "健康", "普通劳动力", "省外务工", "10", "是", "否", "否", "",
              *hh2, "x"])
    m.append(["5", *common2, "赵六", E, "之父", "1", "", "残疾", "丧失劳动力", "未务工", "0", "是", "否", "是", "死亡",
              *hh2, ""])
    return m


def _three_table_files(folder: Path):
    write(folder / "户信息.csv",
          "户编号,县,乡镇,行政村,户主证件号码,脱贫年度,监测对象类别,识别监测时间,风险是否消除,风险消除时间,家庭人口数,"
          "年人均纯收入,工资性收入,生产经营性收入,财产性收入,转移性收入,义务教育保障,基本医疗保障,住房安全保障,"
          "饮水安全保障,致贫返贫风险类型,帮扶责任人,户主姓名\n"
          f"H1,示例县,红山镇,红星村,{A},2016,脱贫不稳定户,2025-03-01,否,,3,4800,10000,2000,0,2400,否,是,否,是,因病、因学,刘干部,张三\n"
          f"H2,示例县,红山镇,红旗村,{E},,边缘易致贫户,2024-05-06,是,2026-01-02,2,9000,,,,,是,是,是,否,因残,王干部,\n",
          "gbk")
    write(folder / "成员.csv",
          "户编号,姓名,证件号码,与户主关系,性别,在校生状况,健康状况,劳动技能,务工状况,务工时间(月),"
          "是否参加城乡居民基本医疗保险,是否享受农村低保,是否特困供养,人员状态\n"
          f"H1,张三,{A},户主,男,非在校生,长期慢性病,普通劳动力,县内务工,6,是,否,否,正常\n"
          f"H1,李四,{B},配偶,女,非在校生,健康,普通劳动力,未务工,0,是,否,否,正常\n"
          f"H1,张小,{C},之子,男,小学,健康,无劳动力,未务工,,是,否,否,正常\n"
          f"H2,赵五,{D},之女,女,非在校生,健康,普通劳动力,省外务工,10,是,否,否,正常\n"
          f"H2,赵六,{E},之父,男,非在校生,残疾,丧失劳动力,未务工,0,是,否,是,死亡\n", "gbk")
    write(folder / "措施.csv",
          "户编号,帮扶措施类型,帮扶措施内容\nH1,产业帮扶,种植补贴\nH1,住房安全保障,危房改造已完成\nH2,就业帮扶,务工介绍\n",
          "gbk")


def _table(ctx, table, order):
    cols = [r[0] for r in ctx.con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND column_name NOT IN"
        " ('run_id', 'source_file', 'source_sheet', 'source_row')", [table]).fetchall()]
    return rows(ctx, f"SELECT {', '.join(cols)} FROM {table} ORDER BY {order}")


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_national_export_equals_three_table_form(tmp_path, fmt):
    nat = make_ctx(tmp_path / "n", run_id="n")
    folder = nat.inbox / "roster"
    folder.mkdir(parents=True)
    if fmt == "xlsx":
        wb = xlsxwriter.Workbook(str(folder / "监测对象信息.xlsx"))
        ws = wb.add_worksheet("监测对象信息")
        ws.merge_range(0, 0, 0, 10, "防止返贫监测对象信息")
        ws.write_row(1, 0, NATIONAL_HEADERS)
        for i, r in enumerate(_national_rows(), start=2):
            ws.write_row(i, 0, r)
        wb.close()
    else:
        import csv
        import io
        buf = io.StringIO()
        csv.writer(buf).writerows([NATIONAL_HEADERS, *_national_rows()])
        write(folder / "监测对象信息.csv", buf.getvalue(), "gbk")
    three = make_ctx(tmp_path / "t", run_id="t")
    _three_table_files(three.inbox / "roster")

    cn = ingest_folder(nat, "roster")
    ct = ingest_folder(three, "roster")
    assert cn["members"]["loaded"] == ct["members"]["loaded"] == 5
    assert cn["households"]["loaded"] == 2 and cn["measures"]["loaded"] == 3
    for table, order in (("households", "household_id"), ("members", "id_number"),
                         ("measures", "household_id, measure_type")):
        assert _table(nat, table, order) == _table(three, table, order), table
    hh = {r["household_id"]: r for r in rows(nat, "SELECT * FROM households")}
    assert hh["H1"]["edu_guaranteed"] == "否" and hh["H1"]["housing_guaranteed"] == "否"
    assert hh["H2"]["water_guaranteed"] == "否" and hh["H2"]["head_name"] is None
    assert hh["H1"]["risk_types"] == ["因病", "因学"] and hh["H1"]["head_name"] == "张三"
    assert hh["H1"]["per_capita_net_income"] == Decimal("4800.00")
    tables = {r["source_table"] for r in rows(nat, "SELECT source_table FROM input_files WHERE status = 'loaded'")}
    assert tables == {"households", "members", "measures"}
    assert nat.table_present("households") and nat.table_present("measures")


def test_duplicates_across_files_counted_on_later_file(tmp_path):
    ctx = make_ctx(tmp_path)
    body = f"姓名,身份证号,乡镇,死亡日期\n张三,{A},红山,2026-01-01\n"
    write(ctx.inbox / "civil_affairs" / "a.csv", body)
    write(ctx.inbox / "civil_affairs" / "b.csv", body.replace("2026-01-01", "2026/1/1") + f"李四,{B},红山,2026-02-02\n")
    counts = ingest_folder(ctx, "civil_affairs")
    assert counts["civil_affairs_deaths"] == {"read": 3, "loaded": 2, "rejected": 0, "duplicates": 1}
    files = {r["file"]: (r["rows_loaded"], r["duplicates"]) for r in rows(ctx, "SELECT * FROM input_files")}
    assert files == {"civil_affairs/a.csv": (1, 0), "civil_affairs/b.csv": (1, 1)}
    assert rows(ctx, "SELECT source_file FROM civil_affairs_deaths WHERE name = '张三'") == [
        {"source_file": "civil_affairs/a.csv"}]
    accounting_holds(ctx)


def test_large_csv_read_in_chunks_gives_same_rows(tmp_path, monkeypatch):
    import sources.read as rd

    lines = ["某县救助名册", "", "姓名,身份证号,乡镇,救助类型,救助日期,金额"]
    for i in range(1500):
        body = f"620422{1950 + i % 60:04d}0101{i % 1000:03d}"
        lines.append(f"人{i},{mkid(body) if i % 100 else '6.2E+17'},红山,农村低保,2026-0{1 + i % 9}-01,{i}")
    lines.insert(800, " 姓名 ,身份证号,乡镇,救助类型,救助日期,金额")  # header repeated mid-file: not a record
    lines.insert(900, "\u3000,人x,\u3000,,,")  # a record whose first cell is blank-looking: rejected
    lines += [lines[10], "", "合计,,,,,", "制表人：某"]
    text = "\n".join(lines) + "\n"

    def run(sub, stream):
        ctx = make_ctx(tmp_path / sub, run_id=sub)
        write(ctx.inbox / "civil_affairs" / "big.csv", text, "gbk")
        if stream:
            monkeypatch.setattr(rd, "STREAM_BYTES", 100)
            monkeypatch.setattr(rd, "CHUNK_ROWS", 250)
        counts = ingest_folder(ctx, "civil_affairs")
        monkeypatch.undo()
        data = rows(ctx, "SELECT * EXCLUDE (run_id) FROM civil_affairs_assistance ORDER BY source_row")
        rej = rows(ctx, "SELECT row_number, reason FROM rejects ORDER BY row_number")
        return counts, data, rej

    whole, streamed = run("w", False), run("s", True)
    assert whole == streamed
    counts, data, rej = streamed
    assert counts["civil_affairs_assistance"] == {"read": 1502, "loaded": 1485, "rejected": 16, "duplicates": 1}
    assert data[0]["source_row"] == 5 and data[-1]["source_row"] == 1505
    assert not any(r["name"] == "姓名" for r in data)
    assert rej[0]["row_number"] == 4 and "科学计数法" in rej[0]["reason"]


def test_csv_cut_inside_a_quote_loses_only_its_last_row_and_is_named_truncated(tmp_path):
    ctx = make_ctx(tmp_path)
    write(ctx.inbox / "civil_affairs" / "截断.csv",
          f"姓名,身份证号,乡镇,死亡日期\n张三,{A},红山,2026-01-01\n李四,\"{B}", "gbk")
    assert ingest_folder(ctx, "civil_affairs") == {
        "civil_affairs_deaths": {"read": 2, "loaded": 1, "rejected": 1, "duplicates": 0}}
    (f,) = rows(ctx, "SELECT * FROM input_files")
    assert f["status"] == "loaded" and "截断" in f["reason"]
    (r,) = rows(ctx, "SELECT row_number, reason FROM rejects")
    assert r["row_number"] == 3 and "截断" in r["reason"]


def test_members_and_measures_take_their_households_county(tmp_path):
    ctx = make_ctx(tmp_path)
    folder = ctx.inbox / "roster"
    write(folder / "户.csv", "户编号,县,乡镇,户主姓名,户主证件号码\n"
          f"H1,示例县,红山镇,张三,{A}\nH2,另一县,黑水乡,李四,{B}\n")
    write(folder / "人.csv", "户编号,姓名,证件号码,与户主关系\n"
          f"H1,张三,{A},户主\nH2,李四,{B},户主\nH9,王五,{C},户主\n")
    write(folder / "措施.csv", "户编号,帮扶措施类型\nH2,产业帮扶\n")
    ingest_folder(ctx, "roster")
    got = {r["name"]: r["county"] for r in rows(ctx, "SELECT name, county FROM members")}
    assert got == {"张三": "示例县", "李四": "另一县", "王五": "示例县"}
    assert rows(ctx, "SELECT county FROM measures") == [{"county": "另一县"}]


# ---------------------------------------------------------------- forms the sample generator never writes

def test_utf16_template_rows_footers_and_empty_cells_unknown_not_rejects(tmp_path):
    """Excel's "Unicode text" (UTF-16, tab); rows with every required cell empty (a template row holding
    only 序号 or a township, "填表人：…") are no records; only an unrecoverable ID rejects a row —
    an empty date, amount or type is unknown (inputs.md), even in a column required to recognise the table."""
    ctx = make_ctx(tmp_path, Config(headers={"civil_affairs_assistance": {"id_number": ["身份证"]}}))
    folder = ctx.inbox / "civil_affairs"
    write(folder / "救助.txt",
          "序号\t姓名\t身份证\t乡镇\t救助类型\t金额\r\n"
          f"1\t张三\t{A}\t红山镇\t农村低保\t100\r\n"
          f"2\t李四\t{B}\t红山\t\t\r\n"              # type and amount empty: loaded, unknown
          "3\t\t\t\t\t\r\n"                          # only 序号: a template row
          "4\t\t\t红山镇\t\t\r\n"                    # only a pre-filled township
          "5\t王五\t\t红山镇\t临时救助\t50\r\n"      # ID empty: rejected
          "6\t\t\t红山镇\t临时救助\t80\r\n"          # no name, no ID, but a record: rejected, not lost
          "填表人：某某\t\t\t\t\t联系电话：0931-1234567\r\n", "utf-16")
    wb = xlsxwriter.Workbook(str(folder / "火化.xlsx"))
    ws = wb.add_worksheet("火化")
    for i, r in enumerate([["姓名", "身份证号", "乡镇", "死亡日期"], ["张三", A, "红山镇", None],
                           ["白石镇2026年10月火化登记名册"], [None],  # the next block, pasted below
                           ["姓名", "身份证号", "乡镇", "死亡日期"], ["李四", B, "红山镇", "2026-01-01"],
                           ["填表人：某某", None, None, "填表日期：2026-10-01"], ["以下空白"],
                           ["单位（盖章）："]]):
        ws.write_row(i, 0, r)
    wb.close()
    counts = ingest_folder(ctx, "civil_affairs")
    assert counts["civil_affairs_assistance"] == {"read": 4, "loaded": 2, "rejected": 2, "duplicates": 0}
    assert counts["civil_affairs_deaths"] == {"read": 2, "loaded": 2, "rejected": 0, "duplicates": 0}
    got = rows(ctx, "SELECT name, id_number, assistance_type, amount, source_row FROM civil_affairs_assistance"
                    " ORDER BY source_row")
    assert got == [{"name": "张三", "id_number": A, "assistance_type": "农村低保", "amount": Decimal("100.00"),
                    "source_row": 2},
                   {"name": "李四", "id_number": B, "assistance_type": None, "amount": None, "source_row": 3}]
    assert rows(ctx, "SELECT name, death_date FROM civil_affairs_deaths ORDER BY source_row") == [
        {"name": "张三", "death_date": None}, {"name": "李四", "death_date": date(2026, 1, 1)}]
    assert [(r["row_number"], r["reason"]) for r in rows(ctx, "SELECT * FROM rejects ORDER BY row_number")] == [
        (6, "身份证为空"), (7, "身份证为空")]
    accounting_holds(ctx)


def test_roster_keys_and_codes_normalised_alike_across_files(tmp_path):
    """户编号 with an apostrophe, full-width digits or spaces joins; 男性 / 6个月 / 政府 / 街道办 forms."""
    ctx = make_ctx(tmp_path)
    write(ctx.inbox / "roster" / "户.csv",
          "户编号,县,乡镇,户主姓名,户主证件号码,帮扶责任人联系电话\n"
          f"'0001,另一县,红山镇,张三,{A},'13800000000\n"
          f"0002 ,示例县,白石街道,李四,{B},\n")
    write(ctx.inbox / "roster" / "成员.csv",
          "户编号,姓名,证件号码,与户主关系,性别,务工时间(月)\n"
          f"０００１,阿依•木哈,{A},户主,男性,6个月\n"
          f"0002,李四,{B},户主,女性,3\n")
    write(ctx.inbox / "civil_affairs" / "死亡.csv",
          "姓名,身份证号,乡镇,死亡日期\n"
          f"a,{B},白石街道办,2026-01-01\nb,{B},白石镇政府,2026-01-02\n")
    ingest_folder(ctx, "roster")
    ingest_folder(ctx, "civil_affairs")
    resolve_townships(ctx)
    assert rows(ctx, "SELECT household_id, cadre_phone FROM households ORDER BY 1") == [
        {"household_id": "0001", "cadre_phone": "13800000000"}, {"household_id": "0002", "cadre_phone": None}]
    assert rows(ctx, "SELECT household_id, county, name, gender, work_months FROM members ORDER BY 1") == [
        {"household_id": "0001", "county": "另一县", "name": "阿依·木哈", "gender": "男", "work_months": 6},
        {"household_id": "0002", "county": "示例县", "name": "李四", "gender": "女", "work_months": 3}]
    assert rows(ctx, "SELECT township FROM civil_affairs_deaths ORDER BY source_row") == [
        {"township": "白石街道"}, {"township": "白石街道"}]


def test_xls_number_cells_and_disability_value_forms(tmp_path):
    """Date serials and numbers typed as numbers in a legacy .xls; 肢体残疾 / 2级 as the category and grade."""
    ctx = make_ctx(tmp_path)
    wb = xlwt.Workbook()
    ws = wb.add_sheet("残疾人")
    for j, v in enumerate(["姓名", "身份证号", "残疾证号", "乡镇", "残疾类别", "残疾等级", "发证日期", "证件状态"]):
        ws.write(0, j, v)
    for j, v in enumerate(["张三", A, A + "42", "红山镇", "肢体残疾", "2级", 43831.0, "有效"]):
        ws.write(1, j, v)
    for j, v in enumerate(["李四", B.lower(), B.lower() + "11", "红山镇", "视力", 1, 43831, "有效"]):
        ws.write(2, j, v)
    path = ctx.inbox / "disability" / "残疾.xls"
    path.parent.mkdir(parents=True)
    wb.save(str(path))
    assert ingest_folder(ctx, "disability")["disability_certificates"]["loaded"] == 2
    assert rows(ctx, "SELECT id_number, cert_number, category, grade, issued_date FROM disability_certificates"
                     " ORDER BY source_row") == [
        {"id_number": A, "cert_number": A + "42", "category": "肢体", "grade": "二级", "issued_date": date(2020, 1, 1)},
        {"id_number": B, "cert_number": B + "11", "category": "视力", "grade": "一级", "issued_date": date(2020, 1, 1)}]


def test_departments_without_county_take_the_single_roster_county_when_config_names_another(tmp_path):
    """A county run without --config (county defaults to 示例县) whose roster says 甲县: department rows
    without a 县 column belong to 甲县 and resolve; a flat [townships] alias follows them."""
    ctx = make_ctx(tmp_path, Config(townships={"白石镇": ["白石办"]}))
    write(ctx.inbox / "roster" / "户.csv",
          f"县(市、区),户编号,乡(镇),户主姓名,户主证件号码\n甲县,H1,红山镇,张三,{A}\n甲县,H2,白石镇,李四,{B}\n")
    write(ctx.inbox / "civil_affairs" / "死亡.csv",
          f"姓名,身份证号,乡镇,死亡日期\na,{A},红山,2026-01-01\nb,{B},白石办,2026-01-02\n")
    ingest_folder(ctx, "roster")
    ingest_folder(ctx, "civil_affairs")
    assert resolve_townships(ctx)["civil_affairs_deaths"] == {"resolved": 2, "unresolved": 0}
    assert rows(ctx, "SELECT county, township FROM civil_affairs_deaths ORDER BY source_row") == [
        {"county": "甲县", "township": "红山镇"}, {"county": "甲县", "township": "白石镇"}]


def test_a_household_number_on_two_different_rows_keeps_the_first_and_rejects_the_other(tmp_path):
    ctx = make_ctx(tmp_path)
    _three_table_files(ctx.inbox / "roster")
    write(ctx.inbox / "roster" / "户信息_补报.csv",
          "户编号,县,乡镇,行政村,户主姓名,户主证件号码,监测对象类别,家庭人口数,年人均纯收入\n"
          f"H1,示例县,红山镇,红星村,张三,{A},脱贫不稳定户,3,5200\n"        # H1 again, another income
          f"H2,示例县,红山镇,红旗村,赵六,{E},边缘易致贫户,2,9000\n", "gbk")  # H2 again, fewer columns
    counts = ingest_folder(ctx, "roster")
    assert counts["households"] == {"read": 4, "loaded": 2, "rejected": 2, "duplicates": 0}
    accounting_holds(ctx)
    got = rows(ctx, "SELECT household_id, per_capita_net_income, source_file FROM households ORDER BY 1")
    assert [(r["household_id"], r["per_capita_net_income"], r["source_file"]) for r in got] == [
        ("H1", Decimal("4800"), "roster/户信息.csv"), ("H2", Decimal("9000"), "roster/户信息.csv")]
    rej = rows(ctx, "SELECT * FROM rejects WHERE source_table = 'households' ORDER BY row_number")
    assert [(r["file"], r["row_number"]) for r in rej] == [("roster/户信息_补报.csv", 2), ("roster/户信息_补报.csv", 3)]
    assert rej[0]["reason"].startswith("户编号重复：与roster/户信息.csv 第2行")
    assert json.loads(rej[0]["raw"])["per_capita_net_income"] == 5200


def test_xlsx_with_household_cells_merged_down_over_members(tmp_path):
    """A township's roster: title merged across, 户编号 and 户主姓名 merged down over each household's
    members, the table starting in column B. Every member gets the household's number."""
    ctx = make_ctx(tmp_path)
    path = ctx.inbox / "roster" / "成员.xlsx"
    path.parent.mkdir(parents=True)
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("红山镇")
    ws.merge_range("B1:F1", "红山镇监测对象家庭成员名册")
    ws.write_row("B3", ["户编号", "户主姓名", "姓名", "证件号码", "与户主关系"])
    members = [("H1", "张三", [("张三", A, "户主"), ("李四", B, "配偶"), ("张小", C, "之子")]),
               ("H2", "赵六", [("赵六", E, "户主"), ("赵五", D, "之女")])]
    row = 3
    for hh, head, people in members:
        for col, value in ((1, hh), (2, head)):
            ws.merge_range(row, col, row + len(people) - 1, col, value)
        for i, (name, idn, rel) in enumerate(people):
            ws.write_row(row + i, 3, [name, idn, rel])
        row += len(people)
    ws.merge_range(row, 1, row + 1, 1, "填表人：王五")  # a footer two rows high
    wb.close()
    counts = ingest_folder(ctx, "roster")
    assert counts["members"] == {"read": 5, "loaded": 5, "rejected": 0, "duplicates": 0}
    got = rows(ctx, "SELECT household_id, name, source_row FROM members ORDER BY source_row")
    assert [(r["household_id"], r["name"], r["source_row"]) for r in got] == [
        ("H1", "张三", 4), ("H1", "李四", 5), ("H1", "张小", 6), ("H2", "赵六", 7), ("H2", "赵五", 8)]
    accounting_holds(ctx)


# ---------------------------------------------------------------- the new departments, as inputs.md writes them

def test_negative_list_workbook_of_four_registers_and_new_department_csvs(tmp_path):
    """One 负面清单 workbook holding the four registers as sheets (plus a 说明 sheet), each recognised by
    its headers (aliases included); 人社 as a GBK CSV with a title and footer; 水利 as tab-separated."""
    ctx = make_ctx(tmp_path)
    path = ctx.inbox / "negative_list" / "负面清单比对数据.xlsx"
    path.parent.mkdir(parents=True)
    wb = xlsxwriter.Workbook(str(path))
    sheets = {
        "车辆": (["机动车所有人", "身份证明号码", "号牌号码", "车辆类型", "初次登记日期", "机动车状态"],
                 [["张三", A, "甘A·12345", "小型轿车", "2023-05-02", "正常"],
                  ["李四", "6.20422E+17", "甘A·54321", "三轮汽车", "2023-05-02", "正常"]]),
        "不动产": (["权利人姓名", "证件号码", "坐落", "房屋性质", "登记日期", "权属状态"],
                   [["张三", A, "某小区1-101", "商品房", "2022/1/1", "现势"]]),
        "市场主体": (["法定代表人（负责人、经营者）", "身份证号", "企业名称", "企业类型", "注册资本（万元）", "成立日期",
                      "经营状态"],
                     [["王五", B, "某某商贸有限公司", "有限责任公司", "50", "2020年1月1日", "存续"]]),
        "财政供养": (["姓名", "公民身份号码", "工作单位", "编制类型", "在职状态"],
                     [["赵六", C, "某局", "公务员", "在职"]]),
        "说明": (["本表为比对数据"], []),
    }
    for name, (headers, data) in sheets.items():
        ws = wb.add_worksheet(name)
        ws.write(0, 0, f"XX县{name}信息")
        ws.write_row(2, 0, headers)
        for i, r in enumerate(data, start=3):
            ws.write_row(i, 0, r)
        ws.write(3 + len(data), 0, "制表人：某某")
    wb.close()
    write(ctx.inbox / "human_resources" / "失业登记.csv",
          "XX县失业登记名册\n"
          "姓名,身份证号码,乡镇(街道),村(社区),失业登记日期,再就业日期,失业原因,登记状态\n"
          f"张三,{A},红山乡,一村,2026/3/5,,企业裁员,有效\n"
          "合计,1人,,,,,,\n", encoding="gbk")
    write(ctx.inbox / "water" / "饮水评价.csv",
          "户主姓名\t户主身份证号\t乡镇\t村\t水量达标\t水质达标\t取水方便\t供水保证率达标\t核查日期\n"
          f"张三\t{A}\t红山镇\t一村\t是\t否\t是\t是\t2026-05-01\n")
    for folder in ("negative_list", "human_resources", "water"):
        ingest_folder(ctx, folder)
    accounting_holds(ctx)
    count = {t: rows(ctx, f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in
             ("vehicles", "property_titles", "market_entities", "public_payroll", "hr_unemployment",
              "water_assessments")}
    assert count == {"vehicles": 1, "property_titles": 1, "market_entities": 1, "public_payroll": 1,
                     "hr_unemployment": 1, "water_assessments": 1}
    assert rows(ctx, "SELECT source_table, row_number FROM rejects") == [
        {"source_table": "vehicles", "row_number": 5}]
    ent = rows(ctx, "SELECT name, capital, founded_date, entity_status FROM market_entities")[0]
    assert ent == {"name": "王五", "capital": Decimal("50.00"), "founded_date": date(2020, 1, 1),
                   "entity_status": "存续"}
    assert rows(ctx, "SELECT registered_date, reemployed_date FROM hr_unemployment") == [
        {"registered_date": date(2026, 3, 5), "reemployed_date": None}]
    assert rows(ctx, "SELECT quality_ok, assessed_date FROM water_assessments") == [
        {"quality_ok": "否", "assessed_date": date(2026, 5, 1)}]
    skipped = rows(ctx, "SELECT sheet, status FROM input_files WHERE folder = 'negative_list' AND status <> 'loaded'")
    assert skipped == [{"sheet": "说明", "status": "skipped"}]


@pytest.mark.parametrize(("at", "stray"), [(40, True), (150_000, True), (40, False)])
def test_encoding_is_told_by_the_whole_head_when_the_first_bytes_say_little(at, stray):
    """A stray byte in UTF-8 text stays UTF-8 wherever it falls in the head; GBK text is GBK even
    when its first 64 KB are ASCII and the Chinese comes later."""
    from sources.read import detect_encoding

    row = "户主,620422199001011234,红山镇\n"
    if stray:
        text = ("姓名,身份证号,乡镇\n" + row * 12000).encode("utf-8")
        head = text[:at] + b"\xff" + text[at:]
        assert detect_encoding(head[: 1024 * 1024]) == "utf-8"
    else:
        head = (b"name,id,town\n" + b"a,620422199001011234,x\n" * 3000 + (row * 12000).encode("gbk"))
        assert detect_encoding(head[: 1024 * 1024]) == "gb18030"


def test_an_amount_or_count_beyond_its_column_is_a_value_not_understood_not_a_lost_file(tmp_path):
    """DECIMAL(18,2) and INTEGER hold no more: such a cell loads as empty and is reported unparsed."""
    ctx = make_ctx(tmp_path)
    write(ctx.inbox / "civil_affairs" / "低保.csv",
          "姓名,身份证号,乡镇,救助类型,救助日期,金额（元）,状态\n"
          f"张三,{A},红山乡,农村低保,2026-03-05,99999999999999999999999,在保\n"
          f"李四,{B},红山乡,农村低保,2026-03-05,12.5,在保\n")
    counts = ingest_folder(ctx, "civil_affairs")
    assert counts["civil_affairs_assistance"] == {"read": 2, "loaded": 2, "rejected": 0, "duplicates": 0}
    got = {r["name"]: r["amount"] for r in rows(ctx, "SELECT name, amount FROM civil_affairs_assistance")}
    assert got == {"张三": None, "李四": Decimal("12.50")}
    (f,) = rows(ctx, "SELECT status, reason FROM input_files")
    assert f["status"] == "loaded" and "未能识别的值" in f["reason"] and "amount" in f["reason"]


def test_rows_duckdb_refuses_cost_their_file_only(tmp_path, monkeypatch):
    """The Appender inserts a folder's files in batches; one file's refused rows must not take the
    batch's other files with them: that file is reported unreadable, the rest load."""
    from sources import ingest

    ctx = make_ctx(tmp_path)
    head = "姓名,身份证号,乡镇,救助类型,救助日期,金额（元）,状态\n"
    write(ctx.inbox / "civil_affairs" / "a.csv", head + f"张三,{A},红山乡,农村低保,2026-03-05,1,在保\n")
    write(ctx.inbox / "civil_affairs" / "b.csv", head + f"李四,{B},红山乡,农村低保,2026-03-05,2,在保\n"
          + f"王五,{A[:17]}{'0' if A[17] != '0' else '1'},红山乡,农村低保,2026-03-05,2,在保\n")
    write(ctx.inbox / "civil_affairs" / "c.csv", head + f"赵六,{C},红山乡,农村低保,2026-03-05,3,在保\n")
    real = ingest.insert_frame

    def refuse_b(con, table, df):
        if "source_file" in df.columns and "civil_affairs/b.csv" in df["source_file"].to_list():
            raise duckdb.ConversionException("refused for the test")
        real(con, table, df)

    monkeypatch.setattr(ingest, "insert_frame", refuse_b)
    counts = ingest_folder(ctx, "civil_affairs")
    assert sorted(r["name"] for r in rows(ctx, "SELECT name FROM civil_affairs_assistance")) == ["张三", "赵六"]
    files = {r["file"]: r for r in rows(ctx, "SELECT * FROM input_files")}
    assert files["civil_affairs/b.csv"]["status"] == "unreadable"
    assert "refused for the test" in files["civil_affairs/b.csv"]["reason"]
    assert counts["civil_affairs_assistance"]["loaded"] == 2
    assert not rows(ctx, "SELECT * FROM rejects WHERE file = 'civil_affairs/b.csv'")
    accounting_holds(ctx)
