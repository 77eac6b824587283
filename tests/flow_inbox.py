"""A small fictional county inbox for the flow tests, written the way departments deliver it.

GBK CSV with a title row for the roster, UTF-8-BOM CSV for members, an xlsx with a
title block for civil affairs, a CSV of health settlements that can be made large
(so a run can be killed mid-ingest). A few roster members have large medical bills,
a dibao record, a death record: enough for screening and logic rules to find things.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from gb11643 import with_check

TOWNSHIPS = ["红山镇", "青石乡"]

CONFIG = """county = "示例县"

[monitoring_line]
2025 = 7600
2026 = 7800

[townships]
"红山镇" = ["红山乡", "红山镇人民政府"]
"""


def id_number(n: int, birth: str = "19600101") -> str:
    """A valid 18-character resident ID (checksum included) for person n."""
    body = f"110101{birth}{n % 1000:03d}"
    return with_check(body)


def make_inbox(root: Path, households: int = 40, settlements: int = 200) -> Path:
    """Write inbox/ and fangpin.toml under root; returns the inbox path."""
    inbox = Path(root) / "inbox"
    for folder in ("roster", "civil_affairs", "health_insurance", "education", "housing", "disability"):
        (inbox / folder).mkdir(parents=True, exist_ok=True)
    (Path(root) / "fangpin.toml").write_text(CONFIG, encoding="utf-8")

    hh = [f"H{i:05d}" for i in range(households)]
    heads = [id_number(i) for i in range(households)]
    kids = [id_number(500 + i, "20150601") for i in range(households)]
    town = [TOWNSHIPS[i % 2] for i in range(households)]
    households_df = pl.DataFrame({
        "户编号": hh, "县": ["示例县"] * households, "乡镇": town,
        "行政村": [f"{t[:2]}村{i % 3}" for i, t in enumerate(town)],
        "户主姓名": [f"户主{i}" for i in range(households)], "户主证件号码": heads,
        "脱贫年度": ["2019"] * households,
        "监测对象类别": ["脱贫不稳定户" if i % 4 == 0 else "" for i in range(households)],
        "识别监测时间": ["2025-03-01" if i % 4 == 0 else "" for i in range(households)],
        "风险是否消除": ["否" if i % 4 == 0 else "" for i in range(households)],
        "致贫返贫风险类型": ["因病" if i % 4 == 0 else "" for i in range(households)],
        "家庭人口数": ["2"] * households,
        "年人均纯收入": [f"{9000 + 37 * i}" for i in range(households)],
        "上年人均纯收入": [f"{9500 + 37 * i}" for i in range(households)],
        "义务教育保障": ["是"] * households, "基本医疗保障": ["是"] * households,
        "住房安全保障": ["是"] * households, "饮水安全保障": ["是"] * households,
        "帮扶责任人": ["王干部"] * households,
    })
    title = "示例县2026年防返贫监测户信息\n\n"
    with (inbox / "roster" / "户信息.csv").open("w", encoding="gbk", newline="") as fh:
        fh.write(title)
        fh.write(households_df.write_csv())

    members_df = pl.DataFrame({
        "户编号": hh + hh,
        "姓名": [f"户主{i}" for i in range(households)] + [f"孩子{i}" for i in range(households)],
        "证件号码": heads + kids,
        "性别": ["男"] * households + ["女"] * households,
        "与户主关系": ["户主"] * households + ["之女"] * households,
        "在校生状况": ["非在校生"] * households + ["小学"] * households,
        "健康状况": ["健康"] * (2 * households),
        "劳动技能": ["普通劳动力"] * households + ["无劳动力"] * households,
        "是否参加城乡居民基本医疗保险": ["是"] * (2 * households),
        "是否享受农村低保": ["否"] * (2 * households),
        "是否特困供养": ["否"] * (2 * households),
        "人员状态": ["正常"] * (2 * households),
    })
    (inbox / "roster" / "家庭成员.csv").write_bytes(b"\xef\xbb\xbf" + members_df.write_csv().encode())

    # Health settlements: one large bill for every fifth head, filler rows for people off the roster.
    n_big = households // 5
    big = pl.DataFrame({
        "姓名": [f"户主{5 * i}" for i in range(n_big)],
        "身份证号": [heads[5 * i] for i in range(n_big)],
        "参保地乡镇": [town[5 * i] for i in range(n_big)],
        "就诊类型": ["住院"] * n_big,
        "入院日期": ["2026-06-01"] * n_big, "出院日期": ["2026-06-20"] * n_big,
        "疾病诊断编码": ["C34.9"] * n_big, "疾病诊断名称": ["肺恶性肿瘤"] * n_big,
        "医疗总费用": ["180,000.00"] * n_big, "基本医保支付": ["90000"] * n_big,
        "大病保险支付": ["30000"] * n_big, "医疗救助支付": ["10000"] * n_big,
        "个人自付": ["50000元"] * n_big,
    })
    k = pl.int_range(0, settlements, eager=True)
    filler = pl.DataFrame({"k": k}).select(
        pl.format("病人{}", pl.col("k")).alias("姓名"),
        pl.lit(id_number(999, "19800101")).alias("身份证号"),
        pl.lit("红山乡").alias("参保地乡镇"),
        pl.lit("普通门诊").alias("就诊类型"),
        pl.lit("2026/3/5").alias("入院日期"), pl.lit("2026/3/5").alias("出院日期"),
        pl.lit("J06.9").alias("疾病诊断编码"), pl.lit("上呼吸道感染").alias("疾病诊断名称"),
        (pl.col("k") % 500 + 20).cast(pl.String).alias("医疗总费用"),
        pl.lit("10").alias("基本医保支付"), pl.lit("0").alias("大病保险支付"),
        pl.lit("0").alias("医疗救助支付"), (pl.col("k") % 7 + 1).cast(pl.String).alias("个人自付"),
    )
    pl.concat([big.cast(pl.String), filler]).write_csv(inbox / "health_insurance" / "住院结算.csv")

    dibao = pl.DataFrame({
        "姓名": [f"户主{i}" for i in range(1, households, 7)],
        "身份证号": [heads[i] for i in range(1, households, 7)],
        "乡镇(街道)": [town[i] for i in range(1, households, 7)],
        "救助类型": ["农村低保"] * len(range(1, households, 7)),
        "开始日期": ["2026-01-01"] * len(range(1, households, 7)),
        "状态": ["在保"] * len(range(1, households, 7)),
        "月保障金": ["600"] * len(range(1, households, 7)),
    })
    _xlsx_with_title(inbox / "civil_affairs" / "低保名册.xlsx", "示例县2026年10月农村低保对象名册", dibao)
    pl.DataFrame({
        "姓名": ["户主3"], "身份证号": [heads[3]], "乡镇": [town[3]], "死亡日期": ["2026-08-01"],
    }).write_csv(inbox / "civil_affairs" / "火化登记.csv")
    pl.DataFrame({
        "学生姓名": [f"孩子{i}" for i in range(households)], "身份证号": kids,
        "户籍乡镇": town, "学校名称": ["红山小学"] * households, "学段": ["小学"] * households,
        "年级": ["五年级"] * households,
        "学籍状态": ["辍学" if i == 2 else "在读" for i in range(households)],
    }).write_csv(inbox / "education" / "学籍.csv")
    pl.DataFrame({
        "户主姓名": ["户主6"], "户主身份证号": [heads[6]], "乡镇": [town[6]], "村": ["红山村0"],
        "鉴定等级": ["D级"], "鉴定日期": ["2026-05-01"], "改造状态": ["未改造"], "是否唯一住房": ["是"],
    }).write_csv(inbox / "housing" / "房屋鉴定.csv")
    pl.DataFrame({
        "姓名": ["户主8"], "身份证号": [heads[8]], "残疾证号": [heads[8] + "42"], "乡镇": [town[8]],
        "残疾类别": ["肢体"], "残疾等级": ["二级"], "发证日期": ["2026-02-01"], "证件状态": ["有效"],
    }).write_csv(inbox / "disability" / "残疾人证.csv")
    return inbox


def _xlsx_with_title(path: Path, title: str, df: pl.DataFrame) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("名册")
    ws.merge_range(0, 0, 0, len(df.columns) - 1, title)
    ws.write_row(2, 0, df.columns)
    for r, row in enumerate(df.iter_rows(), start=3):
        ws.write_row(r, 0, row)
    ws2 = wb.add_worksheet("说明")
    ws2.write(0, 0, "本表由民政局提供")
    wb.close()
