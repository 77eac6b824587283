"""Value normalisation (polars expressions) and header recognition, on hand-made columns."""

from __future__ import annotations

from datetime import date

import polars as pl
from gb11643 import with_check

from sources import normalise as nz
from sources.ingest import recognise
from sources.spec import header_key, load_specs, specs_for_folder

mkid = with_check


def col(values, expr):
    return pl.DataFrame({"v": values}, schema={"v": pl.String}).select(expr(pl.col("v"))).to_series().to_list()


def ids(values, as_of=date(2026, 11, 1)):
    df = nz.with_ids(pl.DataFrame({"v": values}, schema={"v": pl.String}), {"x": pl.col("v")})
    df = df.with_columns(nz.id_problem(pl.col("__id_x"), pl.col("__chk_x"), pl.col("v"), as_of, "身份证号").alias("p"))
    return list(zip(df["__id_x"].to_list(), df["p"].to_list(), strict=True))


def test_ids_normalised_and_problems_named():
    good = mkid("11010519491231002")
    x_end = next(mkid(f"1101051949123{n:03d}1") for n in range(1000) if mkid(f"1101051949123{n:03d}1").endswith("X"))
    got = ids([good, f" {good[:6]} {good[6:]}'", "'" + good, x_end.lower(),
               "".join(chr(0xFF10 + int(c)) if c.isdigit() else "ｘ" for c in x_end),
               "110105491231002", "6.20422E+17", "6.20422e+17", "620422199001011000", "620422199001010944",
               good[:17] + ("1" if good[17] != "1" else "2"), mkid("11010519490230002"),
               mkid("11010520301231002"), "1101051949", None, "  "])
    assert [g[0] for g in got[:6]] == [good, good, good, x_end, x_end, mkid("11010519491231002")]
    assert all(p is None for _, p in got[:6])
    assert got[6][1] == "身份证号无法恢复：被Excel转为科学计数法（6.20422E+17）"
    assert got[7][1] == "身份证号无法恢复：被Excel转为科学计数法（6.20422e+17）"
    assert got[8][1].startswith("身份证号无法恢复：被Excel按数字保存")
    assert got[9][1].startswith("身份证号无法恢复：被Excel按数字保存")
    assert got[10][1] == "身份证号无效：校验位错误"
    assert got[11][1] == "身份证号无效：出生日期不存在"
    assert got[12][1] == "身份证号无效：出生日期不存在"  # born after the as-of date
    assert got[13][1].startswith("身份证号无效：不是18位")
    assert got[14] == (None, "身份证号为空") and got[15] == (None, "身份证号为空")


def test_trailing_000_with_a_fitting_check_character_is_a_real_id():
    # Sequence x00 with check 0 exists (one ID in 25 where sequences are numbered from 000 per
    # birthday): rejecting every "…000" would drop real people; a mangled one fails its check 10 times in 11.
    fits = next(i for n in range(280) if (i := mkid(f"620422199001{n % 28 + 1:02d}{n // 28}00")).endswith("000"))
    got = ids([fits, "'" + fits, "620422800505100", "620421199001011000"])
    assert got[0] == (fits, None) and got[1] == (fits, None) and got[2][1] is None
    assert got[3][1] == "身份证号无法恢复：被Excel按数字保存，只剩15位有效数字（校验位不符）"


def test_dates_every_form_of_inputs_md():
    values = ["2026-03-05", "2026/3/5", "20260305", "2026年3月5日", "2026.03.05", "46086", "46086.75",
              "2026-03-05 13:45:00", "2026/3/5 8:00", "２０２６-０３-０５", "2026.3.5", "20260305.0",
              "2026-03-05T08:00:00", "2026-02-30", "昨天", "", None]
    got = col(values, nz.date_value)
    assert got[:13] == [date(2026, 3, 5)] * 13
    assert got[13:] == [None] * 4


def test_money_integers_names_and_lists():
    assert col(["1234.5", "1,234.50", "1234.50元", "-", "", "￥88", "１２．５", "abc", "-300"], nz.money) == [
        1234.5, 1234.5, 1234.5, None, None, 88.0, 12.5, None, -300.0]
    assert col(["3", "3.0", " 4 ", "5人", "x", "6个月", "2026年", "2016年度", "1.0E1"], nz.integer) == [
        3, 3, 4, 5, None, 6, 2026, 2016, None]
    assert col(["张  三", "\u3000李四 ", "阿依·木 哈"], nz.name) == ["张三", "李四", "阿依·木哈"]
    assert col(["张  三", "\u3000李四\u2003", "阿依·木 哈", "阿依•木哈", "阿依・木哈", "阿依.木哈", "阿依．木哈", " "],
               nz.person_name) == ["张三", "李四"] + ["阿依·木哈"] * 5 + [None]
    assert col(["'620121001", " ６２０１２１ ００１ ", "‘H001’", "H-1", "　", None], nz.code) == [
        "620121001", "620121001", "H001", "H-1", None, None]
    assert col(["1.0E4", "1.5e4", "10000.0", "−300", "−"], nz.money) == [10000.0, 15000.0, 10000.0, -300.0, None]
    assert col(["因病、因残，因学;因灾；其他", "因病,,", "", None], nz.split_list) == [
        ["因病", "因残", "因学", "因灾", "其他"], ["因病"], None, None]
    assert col(["是", "Y", "1", "否", "n", "0", "不详"], nz.yesno) == ["是", "是", "是", "否", "否", "否", "不详"]


def test_school_status_grades_of_the_national_export():
    values = ["学龄前儿童", "一年级", "六年级", "小学三年级", "七年级", "九年级", "高中二年级", "中职一年级",
              "高职高专三年级", "本科二年级", "硕士生及以上", "非在校生", "大专", "其他"]
    assert col(values, nz.school_status) == [
        "学前教育", "小学", "小学", "小学", "初中", "初中", "高中", "中职", "高职", "本科及以上", "本科及以上",
        "非在校生", "大专", "其他"]


def test_header_key_ignores_spaces_fullwidth_and_suffixes():
    assert header_key(" 金 额（元） ") == "金额"
    assert header_key("*姓名") == header_key("姓名*") == "姓名"
    assert header_key("乡（镇）") == "乡(镇)"
    assert header_key("ＩＣＤ") == "ICD"


def test_every_spec_loads_and_folders_are_known():
    folders = {s.folder for s in load_specs()}
    # inputs.md's folder tree, every department folder but feedback/ (read by checks/feedback.py)
    assert folders == {"roster", "civil_affairs", "health_insurance", "education", "housing", "disability",
                       "human_resources", "emergency", "water", "finance", "negative_list"}
    assert {s.table for s in specs_for_folder("roster")} == {"households", "members", "measures", "national_roster"}


def test_recognise_members_file_vs_national_export_and_config_alias():
    roster = specs_for_folder("roster")
    members = [["户编号", "姓名", "证件号码", "与户主关系", "性别"]]
    assert recognise(members, roster, {}).spec.table == "members"
    national = [["县(市、区、旗)", "乡(镇)", "户编号", "监测对象类别", "姓名", "证件号码", "与户主关系", "致贫/返贫风险1"]]
    assert recognise(national, roster, {}).spec.table == "national_roster"
    title = [["某县监测户名单"], [None], ["户码", "乡镇", "户主姓名", "户主身份证号", "家庭人口"]]
    m = recognise(title, roster, {})
    assert m.spec.table == "households" and m.header_idx == 2
    civil = specs_for_folder("civil_affairs")
    aliased = [["姓名", "身份证", "救助类型"]]
    assert isinstance(recognise(aliased, civil, {}), str)
    m = recognise(aliased, civil, {"civil_affairs_assistance": {"id_number": ["身份证"]}})
    assert m.spec.table == "civil_affairs_assistance" and m.colmap["id_number"] == 1


def test_the_usual_header_wins_over_an_alias_whatever_the_column_order():
    health = specs_for_folder("health_insurance")
    m = recognise([["姓名", "证件号码", "结算日期", "出院日期", "就诊日期", "入院日期", "总费用", "医疗总费用"]], health, {})
    assert m.spec.table == "health_settlements"
    assert (m.colmap["discharge_date"], m.colmap["admit_date"], m.colmap["total_cost"]) == (3, 5, 7)
    roster = specs_for_folder("roster")
    m = recognise([["户编号", "乡镇", "户主姓名", "户主证件号码", "联系电话", "帮扶责任人", "帮扶责任人联系电话"]], roster, {})
    assert m.spec.table == "households" and m.colmap["cadre_phone"] == 6
    m = recognise([["区县", "户编号", "乡镇", "户主姓名", "户主证件号码"]], roster, {})
    assert m.colmap["county"] == 0


def test_recognise_two_row_header_with_cells_merged_down():
    roster = specs_for_folder("roster")
    rows = [
        ["监测对象信息"],
        ["户编号", "县(市、区、旗)", "乡(镇)", "家庭成员", None, None, "户情况", None],
        [None, None, None, "姓名", "证件号码", "与户主关系", "监测对象类别", "人均纯收入(元)"],
        ["H1", "示例县", "红山镇", "张三", "x", "户主", "边缘易致贫户", "100"],
    ]
    m = recognise(rows, roster, {})
    assert m.spec.table == "national_roster" and m.header_idx == 2
    assert m.colmap["household_id"] == 0 and m.colmap["name"] == 3 and m.colmap["per_capita_net_income"] == 7
    assert m.headers[:4] == ["户编号", "县(市、区、旗)", "乡(镇)", "姓名"]
