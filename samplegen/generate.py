"""The sample county (or province) generator behind `fangpin generate`.

Writes OUT/inbox/ (the folders of inputs.md, from the specs), OUT/fangpin.toml and
OUT/manifest.json. Deterministic by seed: the same arguments give byte-identical files
(no timestamps anywhere; xlsx core properties are pinned). The first county is written with
every quirk inputs.md promises (GBK / UTF-8-BOM / tab CSV, xlsx with title and footer rows,
a workbook with one sheet per township and a 说明 sheet, a legacy .xls, Parquet, the national
person-level export, header aliases, messy and mangled IDs, all date and money forms, spaced
names, township spellings, duplicate and blank rows); further counties (province scale) are
written county by county as CSV plus xlsx housing files, so memory stays at one county.

The manifest says what a reader must find: per table the normalised row count, the rejects
(unrecoverable Excel-mangled IDs, added as extra rows so that no rule outcome depends on
them), exact duplicate rows, sheets to skip, unresolvable township spellings, S07
certificate mismatches and the other source flaws (S03-S06), and for every rule the planted
keys and the near misses. Each county holds about 210 planted households; the background
fills the rest of its share of `households` (at least 30), so very small requests give a
little more than asked.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from checks.registry import family
from samplegen.base import County, area_code, build_background, county_geography, county_name
from samplegen.crosscounty import plant_cross_county
from samplegen.plants import PERSON_LEVEL, plant, plant_frames
from sources.spec import department_tables, inbox_folders, spec_for_table

# Folders, department tables and rules come from the specs and the registry: a new department
# needs its spec file, its HEADERS / FILES entries below, its background and its plants.
FOLDERS = inbox_folders()
DEPARTMENT_TABLES = department_tables()
RULES = [r.code for r in family("W") + family("L")]
UNRESOLVED = "开发区管委会"

# canonical column -> header written, per table (aliases from inputs.md on purpose in places)
HEADERS = {
    "households": {
        "household_id": "户编号*",
        "county": "县",
        "township": "乡镇",
        "village": "行政村",
        "head_name": "户主姓名",
        "head_id_number": "户主证件号码",
        "exit_year": "脱贫年份",
        "monitoring_category": "监测对象类别",
        "monitoring_start_date": "识别监测时间",
        "risk_eliminated": "风险是否消除",
        "risk_eliminated_date": "风险消除时间",
        "risk_types": "致贫返贫风险类型",
        "household_size": "家庭人口数",
        "per_capita_net_income": "年人均纯收入",
        "prev_per_capita_net_income": "上年人均纯收入",
        "wage_income": "工资性收入",
        "business_income": "生产经营性收入",
        "property_income": "财产性收入",
        "transfer_income": "转移性收入",
        "edu_guaranteed": "义务教育保障",
        "med_guaranteed": "基本医疗保障",
        "housing_guaranteed": "住房安全保障",
        "water_guaranteed": "饮水安全保障",
        "cadre_name": "帮扶责任人",
        "cadre_phone": "联系电话",
    },
    "members": {
        "household_id": "户编号",
        "name": "姓名",
        "id_number": "证件号码",
        "gender": "性别",
        "relation": "与户主关系",
        "school_status": "在校生状况",
        "health": "健康状况",
        "labor": "劳动能力",
        "work_status": "务工状况",
        "work_months": "务工时间（月）",
        "insured": "是否参加城乡居民基本医疗保险",
        "dibao": "是否享受农村低保",
        "tekun": "是否特困供养",
        "status": "人员状态",
    },
    "measures": {
        "household_id": "户码",
        "measure_type": "措施类型",
        "description": "帮扶措施内容",
        "start_date": "开始时间",
        "end_date": "结束时间",
        "amount": "资金(元)",
    },
    "civil_affairs_assistance": {
        "county": "县(市、区)",
        "name": "姓名",
        "id_number": "身份证号码",
        "township": "乡镇(街道)",
        "village": "村(社区)",
        "assistance_type": "救助类型",
        "start_date": "审批日期",
        "end_date": "停保日期",
        "status": "保障状态",
        "amount": "月保障金",
    },
    "civil_affairs_deaths": {
        "county": "县",
        "name": "逝者姓名",
        "id_number": "逝者身份证号",
        "township": "户籍乡镇",
        "death_date": "死亡日期",
    },
    "health_settlements": {
        "county": "区县",
        "name": "患者姓名",
        "id_number": "身份证号",
        "township": "参保地乡镇",
        "village": "参保地村",
        "visit_type": "就诊类型",
        "admit_date": "入院日期",
        "discharge_date": "出院日期",
        "icd10": "疾病诊断编码",
        "diagnosis": "疾病诊断名称",
        "total_cost": "医疗总费用（元）",
        "basic_paid": "基本医保支付",
        "critical_paid": "大病保险支付",
        "assistance_paid": "医疗救助支付",
        "self_paid": "个人自付",
    },
    "health_enrolment": {
        "county": "所属县",
        "name": "姓名",
        "id_number": "证件号码",
        "township": "乡镇",
        "year": "参保年度",
        "enrolment_status": "参保状态",
    },
    "education_students": {
        "county": "县",
        "name": "姓名",
        "id_number": "身份证件号",
        "township": "乡镇",
        "village": "村",
        "school": "就读学校",
        "stage": "学段",
        "grade": "年级",
        "enrolment_status": "学籍状态",
        "aid": "资助项目",
        "aid_amount": "资助金额",
    },
    "housing_assessments": {
        "county": "县(市、区、旗)",
        "owner_name": "房主姓名",
        "owner_id_number": "房主身份证号",
        "township": "乡镇",
        "village": "行政村",
        "grade": "安全等级",
        "assessed_date": "鉴定日期",
        "renovation": "改造状态",
        "completed_date": "改造完成日期",
        "only_house": "是否唯一住房",
    },
    "disability_certificates": {
        "county": "县",
        "name": "姓名",
        "id_number": "公民身份号码",
        "cert_number": "残疾证号",
        "township": "乡镇",
        "village": "村",
        "category": "残疾类别",
        "grade": "残疾等级",
        "issued_date": "发证日期",
        "cert_status": "证件状态",
    },
    "hr_unemployment": {
        "county": "县(市、区)",
        "name": "姓名",
        "id_number": "公民身份号码",
        "township": "乡镇(街道)",
        "village": "村(社区)",
        "registered_date": "登记日期",
        "reemployed_date": "再就业日期",
        "reason": "失业原因",
        "registration_status": "登记状态",
    },
    "emergency_disasters": {
        "county": "县",
        "name": "户主姓名",
        "id_number": "户主身份证号",
        "township": "乡镇",
        "village": "行政村",
        "disaster_type": "灾种",
        "disaster_date": "灾害发生日期",
        "house_damage": "房屋损毁情况",
        "direct_loss": "直接经济损失（元）",
        "relief_paid": "救灾救助金额",
    },
    "water_assessments": {
        "county": "所属县",
        "name": "户主姓名",
        "id_number": "户主身份证号",
        "township": "乡镇",
        "village": "行政村",
        "quantity_ok": "水量是否达标",
        "quality_ok": "水质达标",
        "access_ok": "取水方便",
        "reliability_ok": "供水保证率是否达标",
        "assessed_date": "核查日期",
    },
    "finance_microloans": {
        "county": "区县",
        "name": "借款人",
        "id_number": "借款人身份证号",
        "township": "乡镇",
        "village": "村",
        "lender": "贷款银行",
        "amount": "放款金额",
        "issued_date": "放款日期",
        "due_date": "到期日期",
        "balance": "贷款余额(元)",
        "overdue_days": "逾期天数",
        "loan_status": "贷款状态",
    },
    "vehicles": {
        "county": "县",
        "name": "车主姓名",
        "id_number": "身份证明号码",
        "plate": "号牌号码",
        "vehicle_type": "车辆类型",
        "registered_date": "初次登记日期",
        "vehicle_status": "机动车状态",
    },
    "property_titles": {
        "county": "县",
        "name": "权利人姓名",
        "id_number": "证件号码",
        "location": "坐落",
        "property_kind": "房屋性质",
        "registered_date": "登记日期",
        "title_status": "权属状态",
    },
    "market_entities": {
        "county": "县",
        "name": "法定代表人（负责人、经营者）",
        "id_number": "证件号码",
        "entity_name": "企业名称",
        "entity_type": "主体类型",
        "capital": "注册资本(万元)",
        "founded_date": "成立日期",
        "entity_status": "经营状态",
    },
    "public_payroll": {
        "county": "县",
        "name": "姓名",
        "id_number": "公民身份号码",
        "employer": "工作单位",
        "staff_type": "编制类型",
        "payroll_status": "人员状态",
    },
}
# file stem, CSV encoding and separator of each department table (its folder is the spec's);
# FORMS: how the first (rich) county writes a table instead of CSV — "xlsx" a workbook with
# title and footer rows, "sheet" one sheet of its folder's shared workbook (SHARED), "own" the
# department's usual special form (the township workbook, the .xls, the Parquet file)
FILES = {
    "civil_affairs_assistance": ("救助对象名册", "gbk", ","),
    "civil_affairs_deaths": ("火化死亡登记", "gbk", "\t"),
    "health_settlements": ("医保结算明细", "gbk", ","),
    "health_enrolment": ("城乡居民医保参保登记", "utf-8", ","),
    "education_students": ("学籍信息", "utf-8-sig", ","),
    "housing_assessments": ("农村房屋安全鉴定", "gbk", ","),
    "disability_certificates": ("残疾人证信息", "utf-8", ","),
    "hr_unemployment": ("失业登记人员", "gbk", ","),
    "emergency_disasters": ("受灾户台账", "utf-8-sig", ","),
    "water_assessments": ("农村饮水安全评价", "utf-8-sig", ","),
    "finance_microloans": ("脱贫人口小额信贷", "gbk", "\t"),
    "vehicles": ("机动车登记", "utf-8-sig", ","),
    "property_titles": ("不动产登记", "gbk", ","),
    "market_entities": ("市场主体登记", "utf-8-sig", ","),
    "public_payroll": ("财政供养人员", "gbk", ","),
}
FORMS = {
    "civil_affairs_assistance": "own",
    "education_students": "own",
    "disability_certificates": "own",
    "housing_assessments": "xlsx",
    "emergency_disasters": "xlsx",
    "finance_microloans": "xlsx",
    "vehicles": "sheet",
    "property_titles": "sheet",
    "market_entities": "sheet",
}
SHARED = {"negative_list": "负面清单比对数据"}
ID_COLS = {"id_number", "head_id_number", "owner_id_number"}
DATE_COLS = {
    "monitoring_start_date",
    "risk_eliminated_date",
    "start_date",
    "end_date",
    "death_date",
    "admit_date",
    "discharge_date",
    "assessed_date",
    "completed_date",
    "issued_date",
    "registered_date",
    "reemployed_date",
    "disaster_date",
    "due_date",
    "founded_date",
}
MONEY_COLS = {
    "per_capita_net_income",
    "prev_per_capita_net_income",
    "wage_income",
    "business_income",
    "property_income",
    "transfer_income",
    "amount",
    "total_cost",
    "basic_paid",
    "critical_paid",
    "assistance_paid",
    "self_paid",
    "aid_amount",
    "direct_loss",
    "relief_paid",
    "balance",
    "capital",
}
TITLES = {
    "members": "{county}{year}年防返贫监测家庭成员信息表",
    "civil_affairs_assistance": "{county}{year}年{month}月城乡低保特困及临时救助对象名册",
    "housing_assessments": "{county}农村房屋安全性鉴定结果汇总表（{year}年）",
    "emergency_disasters": "{county}{year}年自然灾害受灾户台账",
    "finance_microloans": "{county}脱贫人口小额信贷明细（截至{year}年{month}月）",
    "vehicles": "{county}建档立卡及监测对象机动车登记比对结果",
    "property_titles": "{county}不动产登记比对结果",
    "market_entities": "{county}市场主体登记比对结果",
}
FULL = str.maketrans("0123456789", "０１２３４５６７８９")
EXPORT_MEASURES = [
    "产业帮扶",
    "就业帮扶",
    "公益岗位帮扶",
    "金融帮扶",
    "教育帮扶",
    "健康帮扶",
    "社会帮扶",
    "综合保障",
    "义务教育保障",
    "住房安全保障",
    "饮水安全保障",
    "搬迁",
    "生产生活条件改善",
    "基础设施建设",
]


# ---- orchestration ----------------------------------------------------------------------------
def generate(
    out: Path,
    households: int = 2000,
    counties: int = 1,
    seed: int = 7,
    as_of: str = "2026-11-24",
    workers: int | None = None,
) -> dict:
    """Write OUT/inbox, OUT/fangpin.toml and OUT/manifest.json; return the manifest.

    Counties are independent (each has its own random stream, seeded by (seed, county), and
    its own files), so they are built in parallel processes, one county in memory per worker;
    the manifest is merged in county order, so the output does not depend on the workers.
    """
    out = Path(out)
    inbox = out / "inbox"
    if inbox.exists():
        shutil.rmtree(inbox)
    for f in FOLDERS:
        (inbox / f).mkdir(parents=True)
    per = [
        households // counties + (1 if i < households % counties else 0) for i in range(counties)
    ]
    jobs = [(str(inbox), ci, n, seed, as_of, counties > 1) for ci, n in enumerate(per)]
    workers = workers or min(os.cpu_count() or 1, 4)
    if counties == 1 or workers == 1:
        parts = [write_county(*job) for job in jobs]
    else:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            parts = list(pool.map(write_county, *zip(*jobs, strict=True), chunksize=1))
    manifest = merge_manifest(parts, as_of, seed)
    plant_cross_county(inbox, manifest)  # 3+ counties: what only the province-wide ID index finds
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    aliases = {
        c["county"]: {c["townships"][0]: [c["townships"][0][:-1] + "片区"]}
        for c in manifest["counties"]
    }
    (out / "fangpin.toml").write_text(
        config_toml(manifest, aliases, date.fromisoformat(as_of), counties > 1), encoding="utf-8"
    )
    return manifest


def empty_manifest() -> dict:
    return {
        "counties": [],
        "tables": {},
        "rejects": {},
        "duplicates": {},
        "skipped_sheets": [],
        "unresolved_townships": {},
        "s07_mismatches": 0,
        "source_flaws": {},
        "files": [],
        "planted": {r: [] for r in RULES},
        "near_misses": {r: [] for r in RULES},
    }


def write_county(inbox: str, ci: int, n: int, seed: int, as_of: str, multi: bool) -> dict:
    """Build and write one county; return its part of the manifest."""
    a = date.fromisoformat(as_of)
    part = empty_manifest()
    rng = np.random.default_rng([seed, ci])
    c = build_county(rng, ci, n, a)
    Writer(Path(inbox), c, a, rng, rich=(ci == 0), multi=multi, manifest=part).write_all()
    part["counties"].append(
        {
            "county": c.name,
            "code": c.code,
            "townships": c.townships,
            "export_townships": c.export_townships,
            "households": c.tables["households"].height,
        }
    )
    for r in RULES:
        part["planted"][r] += c.planted.get(r, [])
        part["near_misses"][r] += c.near_misses.get(r, [])
    return part


def merge_manifest(parts: list[dict], as_of: str, seed: int) -> dict:
    m = empty_manifest()
    m.update(as_of=as_of, seed=seed, person_level=sorted(PERSON_LEVEL))
    for p in parts:
        for key in ("counties", "skipped_sheets", "files"):
            m[key] += p[key]
        for key in ("tables", "duplicates", "unresolved_townships"):
            for t, n in p[key].items():
                m[key][t] = m[key].get(t, 0) + n
        for t, r in p["rejects"].items():
            e = m["rejects"].setdefault(t, {"count": 0, "reasons": []})
            e["count"] += r["count"]
            e["reasons"] = sorted(set(e["reasons"]) | set(r["reasons"]))
        m["s07_mismatches"] += p["s07_mismatches"]
        for code, per in p.get("source_flaws", {}).items():
            for t, n in per.items():
                m["source_flaws"].setdefault(code, {})[t] = (
                    m["source_flaws"].get(code, {}).get(t, 0) + n
                )
        for r in RULES:
            m["planted"][r] += p["planted"][r]
            m["near_misses"][r] += p["near_misses"][r]
    m["files"].sort()
    m["skipped_sheets"].sort()
    return m


def config_toml(manifest: dict, aliases: dict, a: date, multi: bool) -> str:
    """The county configuration: lines for the as-of year and the one before, default thresholds."""
    first = manifest["counties"][0]["county"]
    lines = [
        "# Sample configuration written by `fangpin generate`.",
        f'county = "{first}"',
        "",
        "[monitoring_line]",
        f"{a.year - 1} = 7600",
        f"{a.year} = 7800",
        "",
        "[thresholds]",
        "window_days = 365",
        "med_self_paid_roster = 10000",
        "med_self_paid_others = 20000",
        "med_income_ratio = 0.5",
        "temp_assistance_days = 180",
        "income_drop_ratio = 0.3",
        "compulsory_age = [7, 15]",
        "labor_age = [16, 64]",
        "min_monitoring_days = 180",
        "min_effect_days = 90",
        "no_measure_grace_days = 30",
        "stale_days = 45",
        "",
        "[townships]",
    ]
    if multi:
        for county, towns in aliases.items():
            for t, al in towns.items():
                lines.append(f'"{county}"."{t}" = {json.dumps(al, ensure_ascii=False)}')
    else:
        for t, al in aliases[first].items():
            lines.append(f'"{t}" = {json.dumps(al, ensure_ascii=False)}')
    return "\n".join(lines) + "\n"


def build_county(rng: np.random.Generator, ci: int, n: int, a: date) -> County:
    towns, villages = county_geography(rng, ci)
    c = County(ci, county_name(ci), area_code(ci), towns, villages, towns[-2:])
    plain = [t for t in towns if t not in c.export_townships]
    p = plant(c, a, rng, plain, start_no=10_000_000)
    n_plant = len(p.rows["households"])
    build_background(rng, c, max(n - n_plant, 30), a, plain)
    for table, df in plant_frames(p).items():
        base = c.tables[table]
        c.background[table] = base.height
        if table in DEPARTMENT_TABLES:
            df = df.with_columns(county=pl.lit(c.name))
        c.tables[table] = pl.concat([base, df], how="diagonal_relaxed")
    c.planted, c.near_misses = dict(p.planted), dict(p.near)
    return c


# ---- value forms ------------------------------------------------------------------------------
def pick_form(rng, n: int, p: list[float]) -> pl.Series:
    return pl.Series(rng.choice(len(p), size=n, p=p).astype(np.int8))


def date_text(col: str, form: pl.Series) -> pl.Expr:
    """Dates in the six written forms of inputs.md, chosen row by row."""
    d = pl.col(col)
    return (
        pl.when(d.is_null())
        .then(pl.lit(""))
        .when(pl.lit(form) == 0)
        .then(d.dt.strftime("%Y-%m-%d"))
        .when(pl.lit(form) == 1)
        .then(d.dt.strftime("%Y/%-m/%-d"))
        .when(pl.lit(form) == 2)
        .then(d.dt.strftime("%Y%m%d"))
        .when(pl.lit(form) == 3)
        .then(d.dt.strftime("%Y年%-m月%-d日"))
        .when(pl.lit(form) == 4)
        .then(d.dt.strftime("%Y.%m.%d"))
        .when(pl.lit(form) == 5)
        .then(pl.concat_str([d.dt.strftime("%Y-%m-%d"), pl.lit(" 09:30:00")]))
        .when(pl.lit(form) == 6)
        .then(pl.concat_str([pl.lit("\x00D"), d.dt.strftime("%Y-%m-%d")]))
        .otherwise(
            pl.concat_str(
                [pl.lit("\x00N"), (d - pl.lit(date(1899, 12, 30))).dt.total_days().cast(pl.String)]
            )
        )
    )


def money_text(col: str, form: pl.Series) -> pl.Expr:
    """Money as 1234.5, "1,234.50", "1234.50元"; unknown as empty or "-"."""
    v = pl.col(col)
    two = v.round(2).cast(pl.String)
    fixed = pl.format(
        "{}.{}",
        v.floor().cast(pl.Int64),
        ((v - v.floor()) * 100).round(0).cast(pl.Int64).cast(pl.String).str.zfill(2),
    )
    ip = v.floor().cast(pl.Int64)
    thousands = (
        pl.when(ip >= 1000)
        .then(
            pl.format(
                "{},{}.{}",
                ip // 1000,
                (ip % 1000).cast(pl.String).str.zfill(3),
                ((v - v.floor()) * 100).round(0).cast(pl.Int64).cast(pl.String).str.zfill(2),
            )
        )
        .otherwise(fixed)
    )
    return (
        pl.when(v.is_null())
        .then(pl.when(pl.lit(form) == 3).then(pl.lit("-")).otherwise(pl.lit("")))
        .when(pl.lit(form) == 1)
        .then(thousands)
        .when(pl.lit(form) == 2)
        .then(pl.concat_str([fixed, pl.lit("元")]))
        .otherwise(two.str.replace(r"\.0$", ""))
    )


# ---- writing ------------------------------------------------------------------------------
class Writer:
    """Turns one county's canonical tables into inbox files with their quirks, and counts them."""

    def __init__(
        self, inbox: Path, c: County, a: date, rng, rich: bool, multi: bool, manifest: dict
    ):
        self.inbox, self.c, self.a, self.rng, self.rich, self.multi, self.m = (
            inbox,
            c,
            a,
            rng,
            rich,
            multi,
            manifest,
        )
        self.prefix = "" if not multi else f"{c.name}_"
        self.shared: dict[str, list] = {}  # folder -> sheets of its shared workbook

    def count(self, key: str, table: str, n: int) -> None:
        self.m[key][table] = self.m[key].get(table, 0) + n

    def write_all(self) -> None:
        self.roster()
        for table in DEPARTMENT_TABLES:
            if table in HEADERS and table in self.c.tables:  # a table the generator knows
                self.department(table)
        self.shared_workbooks()

    # -- text forms, quirks --------------------------------------------------------------------
    def texts(self, df: pl.DataFrame, table: str, excel: bool, dept: bool) -> pl.DataFrame:
        """Every column as the text a department's file holds (before duplicates and rejects)."""
        n = df.height
        rng = self.rng
        date_p = (
            [0.4, 0.15, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05]
            if excel
            else [0.45, 0.15, 0.15, 0.1, 0.1, 0.05, 0, 0]
        )
        if not self.rich:
            date_p = (
                [0.7, 0.1, 0.1, 0.05, 0.05, 0, 0, 0]
                if not excel
                else [0.6, 0.1, 0.1, 0, 0, 0, 0.2, 0]
            )
        money_p = [0.6, 0.2, 0.1, 0.1] if self.rich and table != "households" else [0.9, 0.1, 0, 0]
        exprs = []
        for col in HEADERS[table]:
            if col not in df.columns:
                exprs.append(pl.lit("").alias(col))
            elif col in DATE_COLS:
                exprs.append(date_text(col, pick_form(rng, n, date_p)).alias(col))
            elif col in MONEY_COLS:
                exprs.append(money_text(col, pick_form(rng, n, money_p)).alias(col))
            else:
                exprs.append(pl.col(col).cast(pl.String).fill_null("").alias(col))
        out = df.with_columns(exprs)
        if dept:
            out = self.id_forms(out, next(c for c in HEADERS[table] if c in ID_COLS))
            name_col = "owner_name" if table == "housing_assessments" else "name"
            spaced = pl.Series(rng.random(n) < (0.04 if self.rich else 0.01))
            nm = pl.col(name_col)
            out = out.with_columns(
                pl.when(spaced & (nm.str.len_chars() == 2) & ~nm.str.contains("·"))
                .then(pl.concat_str([nm.str.slice(0, 1), pl.lit("  "), nm.str.slice(1)]))
                .when(spaced & (nm.str.len_chars() == 3) & ~nm.str.contains("·"))
                .then(pl.concat_str([pl.lit(" "), nm, pl.lit("　")]))
                .otherwise(nm)
                .alias(name_col)
            )
            if "township" in HEADERS[table]:
                out = self.township_forms(out, table)
        return out

    def id_forms(self, df: pl.DataFrame, col: str) -> pl.DataFrame:
        """Recoverable messy IDs: spaces, leading apostrophe, full-width digits, lower-case x, 15 digits."""
        n = df.height
        r = pl.Series(self.rng.random(n))
        s = pl.col(col)
        k = 2.0 if self.rich else 0.5
        legacy = s.str.slice(6, 2) == "19"
        return df.with_columns(
            pl.when(r < 0.02 * k)
            .then(
                pl.concat_str(
                    [
                        s.str.slice(0, 6),
                        pl.lit(" "),
                        s.str.slice(6, 8),
                        pl.lit(" "),
                        s.str.slice(14),
                    ]
                )
            )
            .when(r < 0.04 * k)
            .then(pl.concat_str([pl.lit("'"), s]))
            .when(r < 0.05 * k)
            .then(s.str.replace_many(list("0123456789"), list("０１２３４５６７８９")))
            .when((r < 0.07 * k) & legacy)
            .then(pl.concat_str([s.str.slice(0, 6), s.str.slice(8, 9)]))
            .when((r < 0.5) & s.str.ends_with("X"))
            .then(s.str.to_lowercase())
            .otherwise(s)
            .alias(col)
        )

    def township_forms(self, df: pl.DataFrame, table: str) -> pl.DataFrame:
        """Departments' spellings: 红山镇 → 红山乡 / 红山 / 红山镇人民政府 / the configured alias, a few unresolvable.

        Only roster people's rows get an unresolvable spelling, so that no out-of-roster warning
        loses its township; the rich county has at least two per table.
        """
        n = df.height
        rv = self.rng.random(n)
        roster = df["_roster_person"].to_numpy()
        cand = np.flatnonzero(roster & (df["township"] != "").to_numpy())
        k = min(len(cand), max(2 if self.rich else 0, int(len(cand) * 0.003)))
        bad = np.zeros(n, dtype=bool)
        if k:
            bad[self.rng.choice(cand, size=k, replace=False)] = True
        r = pl.Series(rv)
        t = pl.col("township")
        base = t.str.slice(0, t.str.len_chars() - 1)
        swapped = (
            pl.when(t.str.ends_with("镇"))
            .then(pl.concat_str([base, pl.lit("乡")]))
            .otherwise(pl.concat_str([base, pl.lit("镇")]))
        )
        first = self.c.townships[0]
        out = df.with_columns(
            pl.when(t == "")
            .then(t)
            .when(pl.lit(pl.Series(bad)))
            .then(pl.lit(UNRESOLVED))
            .when(r < 0.05)
            .then(swapped)
            .when(r < 0.10)
            .then(base)
            .when(r < 0.13)
            .then(pl.concat_str([t, pl.lit("人民政府")]))
            .when((r < 0.15) & (t == first))
            .then(pl.lit(first[:-1] + "片区"))
            .when(r < 0.17)
            .then(pl.concat_str([pl.lit(" "), t, pl.lit("　")]))
            .otherwise(t)
            .alias("township")
        )
        self.count("unresolved_townships", table, int(bad.sum()))
        return out

    def finish(
        self, df: pl.DataFrame, table: str, cols: list[str], dups: int, rejects: int
    ) -> pl.DataFrame:
        """Add exact duplicate rows and Excel-mangled reject rows beside their originals."""
        n = df.height
        rng = self.rng
        df = df.select(cols).with_columns(_ord=pl.Series(np.arange(n, dtype=np.float64)))
        idc = next(c for c in cols if c in ID_COLS)
        dups = min(dups, n // 10)
        extra = []
        if dups:
            extra.append(
                df[np.sort(rng.choice(n, size=dups, replace=False))].with_columns(
                    pl.col("_ord") + 0.5
                )
            )
        if rejects:
            clean = df.filter(pl.col(idc).str.contains(r"^\d{18}$"))
            idx = np.sort(
                rng.choice(clean.height, size=min(rejects * 3, clean.height), replace=False)
            )
            cand = clean[idx].with_columns(pl.col("_ord") + 0.25)
            ids = cand[idc].to_list()
            sci = [f"{float(i):.5E}" for i in ids]
            z = [i[:15] + "000" for i in ids]
            ok_z = [zz != i and not valid18(zz) for zz, i in zip(z, ids, strict=True)]
            mangled = [z[j] if (j % 2 and ok_z[j]) else sci[j] for j in range(len(ids))]
            cand = cand.with_columns(pl.Series(idc, mangled))[:rejects]
            extra.append(cand)
            reasons = sorted(
                {"excel_scientific" if "E+" in v else "excel_trailing_zeros" for v in cand[idc]}
            )
            entry = self.m["rejects"].setdefault(table, {"count": 0, "reasons": []})
            entry["count"] += cand.height
            entry["reasons"] = sorted(set(entry["reasons"]) | set(reasons))
        self.count("duplicates", table, dups)
        if extra:
            df = pl.concat([df] + extra).sort("_ord", maintain_order=True)
        return df.drop("_ord")

    # -- file writers --------------------------------------------------------------------------
    def path(self, folder: str, name: str) -> Path:
        p = self.inbox / folder / (self.prefix + name)
        self.m["files"].append(str(p.relative_to(self.inbox)))
        return p

    def csv(
        self,
        df: pl.DataFrame,
        path: Path,
        headers: list[str],
        encoding: str,
        sep: str = ",",
        blank_rows: int = 0,
    ) -> None:
        df = df.with_columns(
            pl.all().cast(pl.String).str.replace(r"^\x00[DN]", "").replace("", None)
        )
        if blank_rows and df.height > 10:
            blanks = pl.DataFrame({c: [None] * blank_rows for c in df.columns}, schema=df.schema)
            at = sorted(self.rng.choice(df.height, size=blank_rows, replace=False).tolist())
            parts, last = [], 0
            for i, k in enumerate(at):
                parts += [df[last:k], blanks[i : i + 1]]
                last = k
            df = pl.concat(parts + [df[last:]])
        df.columns = headers
        text = df.write_csv(
            separator=sep,
            quote_style="necessary",
            line_terminator="\r\n" if encoding == "gbk" else "\n",
        )
        if encoding == "utf-8-sig":
            data = b"\xef\xbb\xbf" + text.encode("utf-8")
        else:
            data = text.encode(encoding)
        path.write_bytes(data)

    def xlsx_sheets(
        self,
        path: Path,
        sheets: list[tuple[str, list[str], pl.DataFrame, str | None, bool]],
        notes: list[str] | None = None,
    ) -> None:
        """sheets: (name, headers, rows, title or None, footer?). A 说明 sheet first when notes are given."""
        import xlsxwriter

        wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
        wb.set_properties({"created": dt.datetime(2026, 1, 1), "author": "fangpin"})
        datef = wb.add_format({"num_format": "yyyy-mm-dd"})
        bold = wb.add_format({"bold": True, "align": "center"})
        if notes:
            ws = wb.add_worksheet("说明")
            for i, line in enumerate(notes):
                ws.write_string(i, 0, line)
            self.m["skipped_sheets"].append([str(path.relative_to(self.inbox)), "说明"])
        for name, headers, df, title, footer in sheets:
            ws = wb.add_worksheet(name)
            r = 0
            if title:
                ws.merge_range(0, 0, 0, len(headers) - 1, title, bold)
                r = 2
            for j, h in enumerate(headers):
                ws.write_string(r, j, h)
            r += 1
            blank_every = 97 if self.rich else 0
            for row in df.iter_rows():
                for j, v in enumerate(row):
                    if v is None or v == "":
                        continue
                    if v.startswith("\x00D"):
                        ws.write_datetime(r, j, dt.datetime.fromisoformat(v[2:]), datef)
                    elif v.startswith("\x00N"):
                        ws.write_number(r, j, int(v[2:]))
                    else:
                        ws.write_string(r, j, v)
                r += 1
                if blank_every and r % blank_every == 0:
                    r += 1
            if footer:
                r += 1
                ws.write_string(r, 0, "合计")
                ws.write_string(r, 1, f"{df.height}条")
                ws.write_string(r + 1, 0, "制表人：张  明")
                ws.write_string(r + 2, 0, f"制表日期：{self.a:%Y年%m月%d日}")
        wb.close()

    def xls(self, path: Path, headers: list[str], df: pl.DataFrame) -> None:
        import xlwt

        wb = xlwt.Workbook(encoding="utf-8")
        datef = xlwt.easyxf(num_format_str="YYYY-MM-DD")
        per_sheet = 60000  # a legacy sheet holds 65,536 rows
        for k in range(max(1, -(-df.height // per_sheet))):
            ws = wb.add_sheet("学籍" if k == 0 else f"学籍{k + 1}")
            self.xls_rows(ws, headers, df[k * per_sheet : (k + 1) * per_sheet], datef)
        wb.save(str(path))

    @staticmethod
    def xls_rows(ws, headers: list[str], df: pl.DataFrame, datef) -> None:
        for j, h in enumerate(headers):
            ws.write(0, j, h)
        for i, row in enumerate(df.iter_rows(), start=1):
            for j, v in enumerate(row):
                if v.startswith("\x00D"):
                    ws.write(i, j, dt.datetime.fromisoformat(v[2:]), datef)
                elif v.startswith("\x00N"):
                    ws.write(i, j, int(v[2:]))
                elif v:
                    ws.write(i, j, v)

    # -- the roster ----------------------------------------------------------------------------
    def roster(self) -> None:
        c = self.c
        hh = c.tables["households"]
        mem = c.tables["_members"].with_columns(
            pl.coalesce(
                pl.col("_raw_id")
                if "_raw_id" in c.tables["_members"].columns
                else pl.lit(None, pl.String),
                pl.col("id_number"),
            ).alias("id_number"),
            pl.coalesce(
                pl.col("_raw_gender")
                if "_raw_gender" in c.tables["_members"].columns
                else pl.lit(None, pl.String),
                pl.col("gender"),
            ).alias("gender"),
        )
        meas = c.tables["measures"]
        exp = pl.col("township").is_in(c.export_townships)
        exp_ids = hh.filter(exp)["household_id"]
        self.count("tables", "households", hh.height)
        self.count("tables", "members", mem.height)
        self.count("tables", "measures", meas.height)
        hh3 = hh.filter(~exp)
        mem3 = mem.filter(~pl.col("household_id").is_in(exp_ids.implode()))
        meas3 = meas.filter(~pl.col("household_id").is_in(exp_ids.implode()))

        hcols = [k for k in HEADERS["households"]]
        ht = self.texts(hh3, "households", excel=False, dept=False)
        if self.rich:
            ht = ht.with_columns(
                pl.when(pl.col("per_capita_net_income") == "")
                .then(pl.lit("-"))
                .otherwise(pl.col("per_capita_net_income"))
                .alias("per_capita_net_income")
            )
            ht = ht.with_columns(
                apostrophe(pl.col("head_id_number"), self.rng, ht.height, 0.03).alias(
                    "head_id_number"
                )
            )
        hheaders = [HEADERS["households"][k] for k in hcols]
        self.csv(
            ht.select(hcols),
            self.path("roster", "户信息.csv"),
            hheaders,
            "utf-8-sig" if self.rich else "gbk",
        )

        mcols = list(HEADERS["members"])
        mt = self.texts(mem3, "members", excel=self.rich, dept=False)
        mheaders = [HEADERS["members"][k] for k in mcols]
        if self.rich:
            mt = mt.with_columns(
                apostrophe(pl.col("id_number"), self.rng, mt.height, 0.03).alias("id_number"),
                pl.when(
                    pl.Series(self.rng.random(mt.height) < 0.1)
                    & pl.col("gender").is_in(["男", "女"])
                )
                .then(pl.col("gender").replace({"男": "1", "女": "2"}))
                .otherwise(pl.col("gender"))
                .alias("gender"),
                pl.when(pl.Series(self.rng.random(mt.height) < 0.1) & (pl.col("status") == "正常"))
                .then(pl.lit(""))
                .otherwise(pl.col("status"))
                .alias("status"),
            )
            title = TITLES["members"].format(county=c.name, year=self.a.year)
            self.xlsx_sheets(
                self.path("roster", "家庭成员信息.xlsx"),
                [("家庭成员", mheaders, mt.select(mcols), title, True)],
            )
        else:
            self.csv(mt.select(mcols), self.path("roster", "家庭成员信息.csv"), mheaders, "utf-8")

        ecols = list(HEADERS["measures"])
        et = self.texts(meas3, "measures", excel=False, dept=False)
        self.csv(
            et.select(ecols),
            self.path("roster", "帮扶措施.csv"),
            [HEADERS["measures"][k] for k in ecols],
            "gbk",
        )
        if exp_ids.len():
            self.export(
                hh.filter(exp),
                mem.filter(pl.col("household_id").is_in(exp_ids.implode())),
                meas.filter(pl.col("household_id").is_in(exp_ids.implode())),
            )

    def export(self, hh: pl.DataFrame, mem: pl.DataFrame, meas: pl.DataFrame) -> None:
        """The national system's person-level export (监测对象信息) for the export townships."""
        hcols = {
            "county": "县(市、区、旗)",
            "township": "乡(镇)",
            "village": "行政村",
            "household_id": "户编号",
            "head_name": "户主姓名",
            "head_id_number": "户主证件号码",
            "exit_year": "脱贫年度",
            "monitoring_category": "监测对象类别",
            "monitoring_start_date": "识别监测时间",
            "risk_eliminated": "风险是否已消除",
            "risk_eliminated_date": "风险消除时间",
            "household_size": "家庭人口数",
            "per_capita_net_income": "人均纯收入（元）",
            "prev_per_capita_net_income": "上年度人均纯收入（元）",
            "wage_income": "工资性收入（元）",
            "business_income": "生产经营性收入（元）",
            "property_income": "财产性收入（元）",
            "transfer_income": "转移性收入（元）",
            "cadre_name": "帮扶责任人",
            "cadre_phone": "帮扶责任人联系电话",
        }
        mcols = {
            "name": "姓名",
            "id_number": "证件号码",
            "gender": "性别",
            "relation": "与户主关系",
            "school_status": "在校生状况",
            "health": "健康状况",
            "labor": "劳动技能",
            "work_status": "务工状况",
            "work_months": "务工时间(月)",
            "insured": "是否参加城乡居民基本医疗保险",
            "dibao": "是否享受农村低保",
            "tekun": "是否特困供养",
            "status": "人员状态",
        }
        problems = {
            "是否义务教育阶段适龄儿童少年失学辍学": "否",
            "是否有家庭成员未参加城乡居民（职工）基本医疗保险": "否",
            "是否危房户": "否",
            "是否解决安全饮用水": "是",
        }
        ht = self.texts(hh, "households", excel=False, dept=False)
        risks = (
            ht.select("household_id", pl.col("risk_types").str.split("、").alias("r"))
            .with_columns(
                [
                    pl.col("r")
                    .list.get(i, null_on_oob=True)
                    .fill_null("")
                    .alias(f"致贫/返贫风险{i + 1}")
                    for i in range(5)
                ]
            )
            .drop("r")
        )
        ms = meas.group_by("household_id", maintain_order=True).agg(
            pl.col("measure_type"), pl.col("description")
        )
        rows = []
        for hid_, types, descs in ms.iter_rows():
            rows.append(
                {
                    "household_id": hid_,
                    **{k: "" for k in EXPORT_MEASURES},
                    **dict(zip(types, descs, strict=True)),
                }
            )
        mcell = (
            pl.DataFrame(
                rows, schema={"household_id": pl.String, **{k: pl.String for k in EXPORT_MEASURES}}
            )
            if rows
            else pl.DataFrame(
                schema={"household_id": pl.String, **{k: pl.String for k in EXPORT_MEASURES}}
            )
        )
        grade = school_grade()
        mt = mem.with_columns(
            pl.col("work_months").cast(pl.String),
            grade.alias("school_status"),
            pl.col("status").fill_null(""),
        ).select(
            "household_id",
            *[
                pl.col(k).cast(pl.String).fill_null("")
                for k in mcols
                if k not in ("work_months", "school_status")
            ],
            "work_months",
            "school_status",
        )
        full = (
            mt.join(ht.select(list(hcols)), on="household_id", how="left")
            .join(risks, on="household_id", how="left")
            .join(mcell, on="household_id", how="left")
            .with_columns(
                [pl.lit(v).alias(k) for k, v in problems.items()]
                + [pl.lit("一组").alias("组")]
                + [pl.col(k).fill_null("") for k in EXPORT_MEASURES]
            )
        )
        cols = (
            list(hcols)
            + [f"致贫/返贫风险{i}" for i in range(1, 6)]
            + ["组"]
            + list(mcols)
            + list(problems)
            + EXPORT_MEASURES
        )
        headers = (
            list(hcols.values())
            + [f"致贫/返贫风险{i}" for i in range(1, 6)]
            + ["组"]
            + list(mcols.values())
            + list(problems)
            + EXPORT_MEASURES
        )
        full = full.select(cols)
        if self.rich:
            self.xlsx_sheets(
                self.path("roster", "监测对象信息_全国系统导出.xlsx"),
                [("监测对象信息", headers, full, None, False)],
            )
        else:
            self.csv(
                full, self.path("roster", "监测对象信息_全国系统导出.csv"), headers, "utf-8-sig"
            )

    # -- departments ---------------------------------------------------------------------------
    def department(self, table: str) -> None:
        c, rng = self.c, self.rng
        df = c.tables[table]
        idc = next(k for k in HEADERS[table] if k in ID_COLS)
        roster_ids = c.tables["_members"]["id_number"]
        df = df.with_columns(_roster_person=pl.col(idc).is_in(roster_ids.implode()))
        if table == "health_settlements":
            dropped = (
                pl.Series(rng.random(df.height) < 0.03)
                & pl.col("self_paid").is_not_null()
                & pl.col("total_cost").is_not_null()
            )
            df = df.with_columns(
                pl.when(dropped).then(None).otherwise(pl.col("self_paid")).alias("self_paid")
            )
        if table == "housing_assessments":
            df = df.with_columns(
                pl.when(pl.Series(rng.random(df.height) < 0.3))
                .then(pl.col("grade").str.replace("级", ""))
                .otherwise(pl.col("grade"))
                .alias("grade")
            )
        df = self.source_flaws(df, table)
        if table == "disability_certificates":
            bad = pl.Series(rng.random(df.height) < 0.02) & pl.col("cert_status").eq("有效")
            df = df.with_columns(
                pl.when(bad)
                .then(pl.concat_str([pl.col("id_number"), pl.lit("99")]))
                .otherwise(pl.col("cert_number"))
                .alias("cert_number")
            )
            self.m["s07_mismatches"] += int(df.select(bad.sum()).item())
        self.count("tables", table, df.height)
        form = FORMS.get(table, "csv") if self.rich else "csv"
        if table == "housing_assessments" and self.c.index % 10 == 0:
            form = "xlsx"  # some counties of a province send housing as a workbook
        excel = form in ("xlsx", "sheet") or form == "own" and table != "disability_certificates"
        t = self.texts(df, table, excel=excel, dept=True)
        cols = [k for k in HEADERS[table] if k != "county" or self.multi]
        headers = [HEADERS[table][k] for k in cols]
        k = 1.0 if self.rich else 0.2
        dups = max(1, int(df.height * 0.004 * k)) if self.rich else int(df.height * 0.001)
        rejects = max(2, int(df.height * 0.003 * k)) if self.rich else int(df.height * 0.0005)
        out = self.finish(t, table, cols, dups, rejects)
        folder = spec_for_table(table).folder
        stem, enc, sep = FILES[table]
        title = TITLES.get(table, "").format(county=c.name, year=self.a.year, month=self.a.month)
        if form == "own" and table == "civil_affairs_assistance":
            self.assistance_workbook(out, cols, headers)
        elif form == "own" and table == "education_students":
            self.xls(self.path(folder, stem + ".xls"), headers, out)
        elif form == "own" and table == "disability_certificates":
            out = out.with_columns(pl.all().str.replace(r"^\x00[DN]", ""))
            out.columns = headers
            out.write_parquet(
                self.path(folder, stem + ".parquet"), statistics=False, compression="zstd"
            )
        elif form == "xlsx":
            sheet = {"housing_assessments": "鉴定结果"}.get(table, spec_for_table(table).title)
            self.xlsx_sheets(
                self.path(folder, stem + ".xlsx"), [(sheet, headers, out, title or None, True)]
            )
        elif form == "sheet":
            sheet = (spec_for_table(table).title, headers, out, title or None, True)
            self.shared.setdefault(folder, []).append(sheet)
        else:
            self.csv(
                out,
                self.path(folder, stem + ".csv"),
                headers,
                enc,
                sep,
                blank_rows=3 if self.rich else 0,
            )

    def shared_workbooks(self) -> None:
        """The registers a folder's department sends together: one workbook, a sheet each."""
        for folder, sheets in self.shared.items():
            self.xlsx_sheets(self.path(folder, SHARED[folder] + ".xlsx"), sheets)
        self.shared = {}

    def source_flaws(self, df: pl.DataFrame, table: str) -> pl.DataFrame:
        """A few background rows that the source checks must flag and no rule reads differently:
        S03 a completion date after the as-of date (house already 已改造), S04 an unknown visit type,
        S05 a negative one-off 临时救助 amount dated long ago, S06 a self-paid share that does not add
        up and a discharge before admission (small amounts, so W01 is unaffected)."""
        n_bg = self.c.background.get(table, df.height)
        idx = pl.Series(np.arange(df.height) < n_bg) if n_bg < df.height else pl.lit(True)
        k = 2 if self.rich else 1

        def mark(cond: pl.Expr, code: str) -> pl.Series:
            hits = np.flatnonzero(df.select(cond & idx).to_series().to_numpy())
            chosen = np.zeros(df.height, dtype=bool)
            if len(hits):
                chosen[self.rng.choice(hits, size=min(k, len(hits)), replace=False)] = True
            self.m.setdefault("source_flaws", {}).setdefault(code, {})
            self.m["source_flaws"][code][table] = self.m["source_flaws"][code].get(table, 0) + int(
                chosen.sum()
            )
            return pl.Series(chosen)

        if table == "health_settlements":
            off = mark(
                pl.col("self_paid").is_not_null()
                & (pl.col("discharge_date") > pl.col("admit_date")),
                "S06",
            )
            swap = mark(
                pl.col("self_paid").is_not_null()
                & (pl.col("discharge_date") > pl.col("admit_date"))
                & ~off,
                "S06",
            )
            odd = mark(pl.col("visit_type") == "普通门诊", "S04")
            df = df.with_columns(
                pl.when(off)
                .then(pl.col("self_paid") + 100)
                .otherwise(pl.col("self_paid"))
                .alias("self_paid"),
                pl.when(swap)
                .then(pl.col("discharge_date"))
                .otherwise(pl.col("admit_date"))
                .alias("admit_date"),
                pl.when(swap)
                .then(pl.col("admit_date"))
                .otherwise(pl.col("discharge_date"))
                .alias("discharge_date"),
                pl.when(odd)
                .then(pl.lit("急诊"))
                .otherwise(pl.col("visit_type"))
                .alias("visit_type"),
            )
        elif table == "civil_affairs_assistance":
            neg = mark(pl.col("assistance_type") == "临时救助", "S05")
            df = df.with_columns(
                pl.when(neg).then(-pl.col("amount")).otherwise(pl.col("amount")).alias("amount")
            )
        elif table == "housing_assessments":
            late = mark(pl.col("renovation") == "已改造", "S03")
            df = df.with_columns(
                pl.when(late)
                .then(pl.lit(self.a + timedelta(days=30)))
                .otherwise(pl.col("completed_date"))
                .alias("completed_date")
            )
        return df

    def assistance_workbook(self, out: pl.DataFrame, cols: list[str], headers: list[str]) -> None:
        """One sheet per township (by the canonical name the rows were made for) and a 说明 sheet."""
        resolved = out.with_columns(_sheet=resolve_expr(self.c.townships))
        sheets = []
        title = TITLES["civil_affairs_assistance"].format(
            county=self.c.name, year=self.a.year, month=self.a.month
        )
        for t in self.c.townships:
            part = resolved.filter(pl.col("_sheet") == t).drop("_sheet")
            if part.height:
                sheets.append((t, headers, part, title, True))
        rest = resolved.filter(pl.col("_sheet").is_null()).drop("_sheet")
        if rest.height:
            sheets.append(("其他", headers, rest, title, True))
        notes = [
            "填表说明",
            "1. 本表按乡镇分工作表填报。",
            "2. 身份证号请以文本格式录入。",
            f"3. 数据截至{self.a:%Y年%m月%d日}。",
        ]
        self.xlsx_sheets(self.path("civil_affairs", "救助对象名册.xlsx"), sheets, notes)


def resolve_expr(townships: list[str]) -> pl.Expr:
    """The canonical township a spelling resolves to (suffix rules and the 片区 alias), else null."""
    t = (
        pl.col("township")
        .str.strip_chars(" 　")
        .str.replace(r"(人民政府|办事处)$", "")
        .str.replace(r"(镇|乡|街道|片区)$", "")
    )
    e = pl.lit(None, pl.String)
    for name in townships:
        e = pl.when(t == name[:-1]).then(pl.lit(name)).otherwise(e)
    return e


def apostrophe(s: pl.Expr, rng, n: int, p: float) -> pl.Expr:
    return (
        pl.when(pl.Series(rng.random(n) < p) & (s != ""))
        .then(pl.concat_str([pl.lit("'"), s]))
        .otherwise(s)
    )


def school_grade() -> pl.Expr:
    """在校生状况 as the national export writes it: grade values, empty for 非在校生."""
    s, age = pl.col("school_status"), pl.col("age")
    cn = pl.lit(pl.Series(list("一二三四五六七八九")))
    return (
        pl.when(s == "学前教育")
        .then(pl.lit("学龄前儿童"))
        .when(s == "小学")
        .then(pl.concat_str([cn.gather((age - 6).clip(0, 5)), pl.lit("年级")]))
        .when(s == "初中")
        .then(pl.concat_str([cn.gather((age - 6).clip(6, 8)), pl.lit("年级")]))
        .when(s == "高中")
        .then(pl.concat_str([pl.lit("高中"), cn.gather((age - 15).clip(0, 2)), pl.lit("年级")]))
        .when(s == "中职")
        .then(pl.concat_str([pl.lit("中职"), cn.gather((age - 15).clip(0, 2)), pl.lit("年级")]))
        .when(s == "本科及以上")
        .then(pl.concat_str([pl.lit("本科"), cn.gather((age - 18).clip(0, 3)), pl.lit("年级")]))
        .otherwise(pl.lit(""))
    )


def valid18(s: str) -> bool:
    from samplegen.base import check_char

    if len(s) != 18 or not s[:17].isdigit():
        return False
    try:
        date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    return check_char(s[:17]) == s[17].upper()
