"""Township workbooks (outputs.md "Township workbook"): one .xlsx per township with any finding.

The sheets follow the ledgers townships already keep (Shiquan 附件1 花名册, 附件2 帮扶措施台账):
预警名单, 逻辑错误, 已核实 (only with rows), 帮扶措施台账 (only with rows), 说明. Reads this run's
`warnings` and `logic_errors` once, partitions them by (county, township) in polars and writes
each workbook with xlsxwriter. Every value that comes from data is written with write_string
(never write(): a name such as "=HYPERLINK(...)" must stay text, not become a formula), so ID
numbers are text too.

Printable as it is (reports/layout.py): A4 landscape (A3 with `[workbook] paper = "A3"`), text
9 pt, printed at 100 % with column widths that fill the page,
every row as tall as its wrapped text, the header row repeated on every page, "第 X 页 共 Y 页",
a sign-off line after each table, an explicit print area (no blank pages).

Choices where outputs.md is silent:
- 预警名单 and 逻辑错误 are always present, so a returned workbook always has the same shape; an
  empty one keeps its header row and sign-off line.
- A row's mark (核实属实未纳入 on a warning, 整改未生效 on a logic error) opens its 预警原因 /
  错误说明 as "【核实属实未纳入】…", so 状态 holds only 新增 / 持续 / 已解除.
- 备注 carries the reason a row the township returned could not be recorded (feedback's
  `verification_refusals`), from the run that read it until a result for the row is recorded.
- 帮扶措施台账: one row per household (or out-of-roster person) and risk type whose warning's
  latest result is 属实-已纳入监测 or 属实-已落实帮扶 and which still fires; 完成时限 = the earliest
  such 核实日期 + the Ganzi 第十一条 limit of the rule (registry `complete_within`), "及时办结" for
  其他类. 已录入帮扶措施 lists the roster's measures of the household.
- ID columns (户编号, 户主证件号码, 证件号码) are text-formatted ("@") down the whole column, so
  an ID the township types into the sheet stays text too.
- The page header carries the title (county, township, sheet, as-of date); row 1 is the header,
  so the sheet stays a plain table that the feedback reader and an analyst's filter both take.
- 核实人 is prefilled from the verification the row's latest result came from.
- 来源部门 is the department of the tables the rule needs (their specs, checks.registry.department_of);
  a roster-only rule shows 监测系统. 说明's data sources are every roster or department
  spec (sources/specs/*.toml: department, title), with S09's newest-date rule.
- Warnings whose department record's township does not resolve (township NULL) cannot go to
  a township: they are written to unrouted/<county>_乡镇未识别_<as-of>.xlsx for the county,
  which is not in the returned list (ctx.notes["unrouted_workbooks"]).
- Workbooks are byte-identical on rerun: rows sorted by village, household, ID, rule; the
  file's creation date is the as-of date; no timestamps or run ids in cells. A rerun for the
  same date removes the workbook of a township that no longer has any finding.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl
import xlsxwriter

from checks.registry import Rule, department_of, family, rules
from checks.source_checks import volume_drops
from checks.workdays import from_config
from core.config import Config
from reports.layout import Column, Sheet, period_text

MAX_CELL = 32000

# (header, min width, grow weight, kind): widths in Excel character units at A4 landscape, the
# rest of the page shared by weight (reports/layout.py). kind "id" = text-formatted column.
WARNING_COLUMNS = [
    Column("序号", 3.3, 0, "num"), Column("乡镇", 3.4, 0.3), Column("村", 5, 0.2),
    Column("户编号", 6.6, 0.5, "id"), Column("户主姓名", 5, 0.2), Column("户主证件号码", 17.8, 0, "id"),
    Column("家庭人口", 3.3, 0, "num"), Column("脱贫年度", 3.4, 0.1), Column("户类型 / 监测对象类别", 6.2, 0.5),
    Column("预警规则", 6.2, 0.5), Column("风险类型", 3.4, 0.3), Column("预警原因", 13, 3),
    Column("来源部门", 3.4, 0.1), Column("状态", 3.4, 0), Column("首次预警日期", 5, 1, "date"),
    Column("核实期限", 5, 1, "date"), Column("帮扶责任人", 3.4, 0.3), Column("联系电话", 5.6, 0.5),
    Column("核实结果", 6.2, 0.3), Column("核实人", 3.4, 0.3), Column("核实日期", 8.6, 0), Column("备注", 6, 1),
]
ERROR_COLUMNS = [
    Column("序号", 3.3, 0, "num"), Column("村", 5, 0.2), Column("户编号", 6.6, 0.5, "id"),
    Column("户主姓名", 5, 0.1), Column("成员姓名", 5, 0.1), Column("证件号码", 17.8, 0, "id"),
    Column("错误规则", 8, 0.4), Column("错误说明", 14, 2.5), Column("整改建议", 14, 2),
    Column("核实结果", 6.2, 0.2), Column("核实人", 3.4, 0.3), Column("核实日期", 8.6, 0), Column("备注", 5, 1),
]
MEASURE_COLUMNS = [
    Column("序号", 3.3, 0, "num"), Column("乡镇", 3.4, 0.2), Column("村", 5, 0.2), Column("户主姓名", 5, 0.1),
    Column("户主证件号码", 17.8, 0, "id"), Column("家庭人口", 3.3, 0, "num"), Column("脱贫年度", 3.4, 0.1),
    Column("风险类型", 4.3, 0.3), Column("已录入帮扶措施", 14, 2), Column("完成时限", 8.6, 0.2),
    Column("帮扶责任人", 5, 0.2), Column("制定的帮扶措施", 20, 3),
]
# 说明: the rules table sets the columns; the data-sources table and the text reuse them.
NOTES_COLUMNS = [
    Column("规则", 4.4, 0), Column("名称", 9, 0.6), Column("含义（本县标准）", 40, 5), Column("风险类型", 6, 0.2),
    Column("核实时限", 6, 0.2), Column("来源部门", 10, 0), Column("本乡镇条数", 5, 0, "num"),
]
WARNING_RESULTS = ["属实-已纳入监测", "属实-已落实帮扶", "属实-暂不纳入", "不属实"]
ERROR_RESULTS = ["已整改", "不属实"]
CONFIRMED = ("属实-已纳入监测", "属实-已落实帮扶")
OUT_OF_ROSTER = "非建档立卡/监测户"
NEVER_POOR = "非贫困户"  # 脱贫年度 of a household that never was poor (Shiquan 花名册 note 1)
SIGN_OFF = ("填表人：" + "\u3000" * 7 + "核实人签字：" + "\u3000" * 7 + "乡镇（盖章）：" + "\u3000" * 7
            + "日期：" + "\u3000" * 3 + "年" + "\u3000" * 2 + "月" + "\u3000" * 2 + "日")
HANDWRITING_PT = {"预警名单": 28.0, "逻辑错误": 28.0, "已核实": 28.0, "帮扶措施台账": 54.0}
SHEET_TITLES = {"预警名单": "部门筛查预警核实名单", "逻辑错误": "监测数据逻辑错误核实表",
                "已核实": "已核实预警（暂停预警）", "帮扶措施台账": "返贫风险对象帮扶措施台账"}

# Who verified each (rule, row, result, date): the warnings and logic_errors rows carry the
# latest result and date (apply_feedback), the verifier's name is looked up here. A returned
# row that could not be recorded stays in 备注 until a result for the row is recorded in the
# same or a later run (verification_refusals, checks/feedback.py).
LOOKUP_CTES = """
WITH verifiers AS (
    SELECT rule_code, household_id, id_number, result, verified_on,
           arg_max(verifier, run_id) AS verifier
    FROM (SELECT * FROM hist.verifications UNION ALL BY NAME SELECT * FROM main.verifications)
    GROUP BY ALL
),
run_times AS (
    SELECT run_id, started_at FROM hist.runs WHERE status = 'completed'
    UNION ALL SELECT run_id, started_at FROM main.runs WHERE run_id = $run_id
),
recorded AS (
    SELECT v.rule_code, v.household_id, v.id_number, max(t.started_at) AS recorded_at
    FROM (SELECT * FROM hist.verifications UNION ALL BY NAME SELECT * FROM main.verifications) AS v
    JOIN run_times AS t USING (run_id)
    GROUP BY ALL
),
refused AS (
    SELECT f.rule_code, f.household_id, f.id_number, f.township, f.sent_by, f.reason, f.result_raw, f.date_raw
    FROM (SELECT * FROM hist.verification_refusals UNION ALL BY NAME SELECT * FROM main.verification_refusals) AS f
    JOIN run_times AS t USING (run_id)
    LEFT JOIN recorded AS v
      ON v.rule_code = f.rule_code AND v.household_id IS NOT DISTINCT FROM f.household_id
     AND v.id_number IS NOT DISTINCT FROM f.id_number
    WHERE v.recorded_at IS NULL OR v.recorded_at < t.started_at
    QUALIFY row_number() OVER (PARTITION BY f.rule_code, f.household_id, f.id_number
                               ORDER BY t.started_at DESC, f.source_file DESC, f.source_row DESC) = 1
),
one_household AS (
    SELECT * FROM households QUALIFY row_number() OVER (PARTITION BY household_id ORDER BY source_row) = 1
)
"""

WARNINGS_SQL = LOOKUP_CTES + """SELECT
    coalesce(w.county, $county) AS county,
    w.township,
    coalesce(w.village, '') AS village,
    w.household_id,
    w.id_number,
    w.name,
    w.in_roster,
    h.household_size,
    h.exit_year,
    h.monitoring_category,
    h.risk_eliminated,
    h.cadre_name,
    h.cadre_phone,
    w.rule_code,
    w.risk_type,
    w.evidence,
    w.status,
    w.flag,
    w.first_seen_date,
    w.deadline,
    w.verification,
    w.verified_on,
    coalesce(w.suppressed, false) AS suppressed,
    v.verifier,
    CASE WHEN f.sent_by IS NULL OR f.sent_by = w.township THEN f.reason END AS refused,
    f.result_raw AS refused_result, f.date_raw AS refused_date
FROM warnings AS w
LEFT JOIN one_household AS h ON h.household_id = w.household_id
LEFT JOIN verifiers AS v
  ON v.rule_code = w.rule_code
 AND v.household_id IS NOT DISTINCT FROM w.household_id
 AND v.id_number IS NOT DISTINCT FROM (CASE WHEN w.in_roster THEN NULL ELSE w.id_number END)
 AND v.result = w.verification
 AND v.verified_on IS NOT DISTINCT FROM w.verified_on
LEFT JOIN refused AS f
  ON f.rule_code = w.rule_code
 AND f.household_id IS NOT DISTINCT FROM w.household_id
 AND f.id_number IS NOT DISTINCT FROM (CASE WHEN w.in_roster THEN NULL ELSE w.id_number END)
WHERE w.run_id = $run_id
ORDER BY county, township, village, w.household_id NULLS LAST, w.id_number, w.rule_code
"""

ERRORS_SQL = LOOKUP_CTES + """SELECT
    coalesce(h.county, e.county, $county) AS county,
    coalesce(h.township, e.township) AS township,
    coalesce(h.village, e.village, '') AS village,
    e.household_id,
    h.head_name,
    e.name,
    e.id_number,
    e.rule_code,
    e.detail,
    e.verification,
    e.verified_on,
    e.flag,
    coalesce(e.suppressed, false) AS suppressed,
    h.head_id_number,
    h.household_size,
    h.exit_year,
    h.monitoring_category,
    h.risk_eliminated,
    h.cadre_name,
    h.cadre_phone,
    v.verifier,
    CASE WHEN f.sent_by IS NULL OR f.sent_by = coalesce(h.township, e.township) THEN f.reason END AS refused,
    f.result_raw AS refused_result, f.date_raw AS refused_date
FROM logic_errors AS e
LEFT JOIN one_household AS h ON h.household_id = e.household_id
LEFT JOIN verifiers AS v
  ON v.rule_code = e.rule_code
 AND v.household_id IS NOT DISTINCT FROM e.household_id
 AND v.id_number IS NOT DISTINCT FROM e.id_number
 AND v.result = e.verification
 AND v.verified_on IS NOT DISTINCT FROM e.verified_on
LEFT JOIN refused AS f
  ON f.rule_code = e.rule_code
 AND f.household_id IS NOT DISTINCT FROM e.household_id
 AND f.id_number IS NOT DISTINCT FROM e.id_number
WHERE e.run_id = $run_id
ORDER BY county, township, village, e.household_id NULLS LAST, e.rule_code, e.id_number, e.name
"""

MEASURES_SQL = """SELECT household_id,
    string_agg(concat_ws('', measure_type, CASE WHEN description IS NOT NULL AND description <> coalesce(measure_type, '')
                                               THEN '：' || description END,
                         CASE WHEN start_date IS NOT NULL THEN '（' || strftime(start_date, '%Y-%m-%d') || '起）' END),
               '；' ORDER BY start_date NULLS LAST, measure_type, description) AS measures
FROM measures WHERE run_id = $run_id AND household_id IN (SELECT unnest($households::VARCHAR[]))
GROUP BY household_id
"""


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    s = str(value)
    return s if len(s) <= MAX_CELL else s[: MAX_CELL - 1] + "…"


def _safe_name(text: str) -> str:
    return re.sub(r'[\\/:*?"<>|\s]+', "_", text).strip("_") or "未知"


def _household_type(row: dict) -> str:
    if not row["in_roster"]:
        return OUT_OF_ROSTER
    parts = ["脱贫户" if row["exit_year"] is not None else ""]
    if row["monitoring_category"]:
        parts.append(row["monitoring_category"] + ("（风险已消除）" if row["risk_eliminated"] == "是" else ""))
    label = " / ".join(p for p in parts if p)
    return label or "一般农户"


def _exit_year(row: dict) -> str:
    return _text(row["exit_year"]) if row.get("in_roster") and row["exit_year"] is not None else NEVER_POOR


def _department(rule: Rule | None) -> str:
    return department_of(rule) if rule else ""


def _rule_label(code: str, registry: dict[str, Rule]) -> str:
    rule = registry.get(code)
    return f"{code} {rule.name}" if rule else code


def _remark(row: dict) -> str:
    """备注: why the row the township returned last time could not be recorded, short enough for
    the column (the allowed results are in the drop-down and on 说明, not repeated here)."""
    reason = row.get("refused")
    if not reason:
        return ""
    typed, day = row.get("refused_result") or "", row.get("refused_date") or ""
    if reason.startswith("核实结果不是可选值"):
        why = f"核实结果“{typed}”不是可选值，请从下拉列表中选择"
    elif reason.startswith("核实结果为空"):
        why = "填了核实人或核实日期，但核实结果为空"
    elif reason.startswith("核实日期为空"):
        why = "核实日期为空，请填写实际核实日期"
    elif reason.startswith("核实日期无法识别"):
        why = f"核实日期“{day}”无法识别，请写成 2026-11-28 这样的日期"
    elif reason.startswith("核实日期晚于"):
        why = f"核实日期“{day}”晚于报回时的日期，请填写实际核实日期"
    elif reason.startswith("匹配到多条记录"):
        why = "无法确定是哪一条记录，请勿改动户编号和证件号码"
    else:
        why = reason.replace(": ", "：").replace(" (", "（").replace("(", "（").replace(")", "）")
    return f"上次报回未能登记：{why}。"


def _warning_cells(i: int, row: dict, registry: dict[str, Rule]) -> list:
    rule = registry.get(row["rule_code"])
    in_roster = row["in_roster"]
    return [
        i, row["township"] or "", row["village"], row["household_id"], row["name"], row["id_number"],
        row["household_size"] if in_roster else None, _exit_year(row), _household_type(row),
        _rule_label(row["rule_code"], registry), row["risk_type"], _marked(row["flag"], row["evidence"]),
        _department(rule), row["status"], row["first_seen_date"], row["deadline"],
        row["cadre_name"] if in_roster else "", row["cadre_phone"] if in_roster else "",
        row["verification"], row["verifier"], row["verified_on"], _remark(row),
    ]


def _error_as_verified(row: dict) -> dict:
    """A logic error held back by its verification (L26 不属实: the household's special hardship
    verified) as a row of 已核实, which lists warnings: the household in the 户主 columns, the
    error's detail as the reason."""
    return row | {"in_roster": True, "name": row["head_name"], "id_number": row["head_id_number"],
                  "risk_type": "—", "evidence": row["detail"], "status": "持续",
                  "first_seen_date": None, "deadline": None}


def _error_cells(i: int, row: dict, registry: dict[str, Rule]) -> list:
    rule = registry.get(row["rule_code"])
    return [
        i, row["village"], row["household_id"], row["head_name"], row["name"], row["id_number"],
        _rule_label(row["rule_code"], registry), _marked(row["flag"], row["detail"]),
        rule.suggestion if rule else "", row["verification"], row["verifier"], row["verified_on"], _remark(row),
    ]


def _marked(flag, text) -> str:
    """The reason, opened by the row's mark (核实属实未纳入 / 整改未生效) when it has one."""
    return f"【{flag}】{text or ''}" if flag else (text or "")


def _measure_rows(rows: list[dict], registry: dict[str, Rule], lookup: dict[str, str], calendar) -> list[list]:
    """帮扶措施台账: households (or out-of-roster people) verified 属实-已纳入监测 / 属实-已落实帮扶,
    one row per risk type, with the Ganzi 第十一条 completion limit from the verification date;
    `lookup`: household -> its roster measures (MEASURES_SQL)."""
    groups: dict[tuple, dict] = {}
    for r in rows:
        if r["verification"] not in CONFIRMED or r["status"] == "已解除" or r["suppressed"]:
            continue
        key = (r["household_id"], None if r["in_roster"] else r["id_number"], r["risk_type"] or "")
        rule = registry.get(r["rule_code"])
        period = rule.complete_within if rule else ""
        limit = _limit(r["verified_on"], period, calendar)
        g = groups.setdefault(key, {**r, "limit": limit})
        if limit is not None and (g["limit"] is None or limit < g["limit"]):
            g["limit"] = limit
    out = []
    for i, (key, r) in enumerate(groups.items(), start=1):
        in_roster = r["in_roster"]
        out.append([
            i, r["township"] or "", r["village"], r["name"], r["id_number"],
            r["household_size"] if in_roster else None, _exit_year(r), r["risk_type"],
            lookup.get(key[0]) or ("无" if in_roster else "（非建档立卡/监测户，监测系统中无记录）"),
            r["limit"] if r["limit"] is not None else "及时办结、长期坚持",
            r["cadre_name"] if in_roster else "", "",
        ])
    return out


def _limit(verified_on, period: str, calendar):
    from checks.screening import add_period

    if verified_on is None or not period:
        return None
    return add_period(verified_on, period, calendar)


class _Writer:
    """One workbook: formats shared by its sheets, the county's paper."""

    def __init__(self, path: Path, as_of: date, title: str, paper: str):
        self.book = xlsxwriter.Workbook(str(path), {"in_memory": True, "strings_to_numbers": False,
                                                    "strings_to_formulas": False, "strings_to_urls": False})
        created = datetime(as_of.year, as_of.month, as_of.day)
        self.book.set_properties({"title": title, "author": "fangpin", "created": created})
        self.title = title
        self.as_of = as_of
        self.paper = paper

    def sheet(self, name: str, heading: str | None = None) -> Sheet:
        title = f"{self.title}　{heading or name}（基准日期 {self.as_of.isoformat()}）"
        return Sheet(self.book, name, self.paper, title)

    def table(self, name: str, columns: list[Column], rows: list[list], styles: list[str],
              results: list[str] | None = None) -> None:
        sh = self.sheet(name, SHEET_TITLES.get(name))
        # room to write by hand: two lines for a result, four for the measures a township decides
        sh.table(columns, rows, styles, min_row_pt=HANDWRITING_PT.get(name, 0))
        if results:
            sh.validate_results(columns, results, len(rows))
            sh.validate_dates(columns, len(rows))
        sh.sign_off(SIGN_OFF)
        sh.finish()

    def close(self) -> None:
        self.book.close()


def _newest_expr(table: str, as_of: date) -> tuple[str | None, bool]:
    """(SQL aggregate of the extract's newest date or year, whether it is a year): S09's rule for a
    department table, the latest of its date columns (not after the as-of date) otherwise."""
    from checks.expectations import build_suite
    from checks.source_checks import newest_date_sql, newest_sql
    from sources.spec import department_tables, spec_for_table

    if table in department_tables():
        suite = build_suite(table, as_of)
        return newest_sql(suite, as_of), bool(suite.freshness_year)
    return newest_date_sql([c.name for c in spec_for_table(table).columns if c.type == "date"], as_of), False


def _freshness(ctx) -> dict[str, list[tuple]]:
    """county -> [(部门, 数据, 本次, 记录数, 最新日期, 新鲜程度)], one GROUP BY per table.

    Every roster and department table of sources/specs (its department and title); newest date
    by S09's rule; stale after the county's stale_days.
    """
    from pipelines.store import warehouse_tables
    from sources.spec import load_specs

    con = ctx.cursor()
    stale = int(ctx.config.thresholds.get("stale_days", 45))
    out: dict[str, list[tuple]] = {}
    counties = [r[0] for r in con.execute(
        "SELECT DISTINCT coalesce(county, ?) FROM ("
        " SELECT county FROM warnings WHERE run_id = ? UNION ALL"
        " SELECT county FROM logic_errors WHERE run_id = ?)",
        [ctx.config.county, ctx.run_id, ctx.run_id]).fetchall()]
    tables = set(warehouse_tables())
    specs = sorted((s for s in load_specs() if s.table in tables and s.level in ("roster", "department")),
                   key=lambda s: (s.level != "roster", s.folder, s.table))
    for spec in specs:
        present = ctx.table_present(spec.table)
        expr, yearly = _newest_expr(spec.table, ctx.as_of)
        figures = {}
        if present:
            for county, n, latest in con.execute(
                f"SELECT coalesce(county, ?), count(*), {expr or 'NULL'} FROM {spec.table} GROUP BY 1",
                [ctx.config.county],
            ).fetchall():
                figures[county] = (n, latest)
        for county in counties:
            n, latest = figures.get(county, (0, None))
            if not present:
                shown, fresh = "", "本次未收到"
            elif expr is None:
                shown, fresh = "—", "无法判断（数据中没有日期）"
            elif latest is None:
                shown, fresh = "—", "无法判断（日期均为空）"
            elif yearly:
                shown = f"{latest}年度"
                fresh = "新鲜" if latest >= ctx.as_of.year else "过期（未覆盖本年度）"
            else:
                age = (ctx.as_of - latest).days
                shown = latest.isoformat()
                fresh = f"新鲜（{age}天前）" if age <= stale else f"过期（{age}天前，超过{stale}天）"
            out.setdefault(county, []).append(
                (spec.department, spec.title, "已收到" if present else "未收到", n, shown, fresh))
    return out


class _Keep(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def describe(rule: Rule, config, as_of: date) -> str:
    """The rule's description with the county's configured thresholds filled in."""
    values: dict[str, str] = {}
    for name, value in config.thresholds.items():
        if isinstance(value, list | tuple):
            values[name] = "、".join(map(str, value))
            if len(value) == 2:
                values[f"{name}_min"], values[f"{name}_max"] = (str(v) for v in value)
        elif isinstance(value, float) and value < 1:
            values[name] = f"{value:g}"
            values[f"{name}_pct"] = f"{value * 100:g}"
        elif isinstance(value, int | float):
            values[name] = f"{value:,g}"
        else:
            values[name] = str(value)
    line = config.line_for(as_of.year)
    values["line"] = f"{as_of.year}年 {line:,.2f} 元" if line is not None else f"{as_of.year}年未配置"
    try:
        return rule.description.format_map(_Keep(values))
    except (ValueError, IndexError):
        return rule.description


_KEYS_IN_BRACKETS = re.compile(r"\s*[（(][A-Za-z0-9_./\s,:;=-]*[)）]")


def plain(text: str) -> str:
    """A reason as a clerk reads it: no bracketed table, file or configuration names."""
    return _KEYS_IN_BRACKETS.sub("", text or "").strip()


def _write_notes(w: _Writer, book: Book, county: str, township: str | None, listed: list[dict],
                 verified: list[dict], erows: list[dict], measures: list[list],
                 freshness: list[tuple]) -> None:
    t = book.config.thresholds
    line = book.config.line_for(book.as_of.year)
    refused = sum(1 for r in listed + verified + erows if r.get("refused"))
    sh = w.sheet("说明", "填表说明")
    sh.set_columns(NOTES_COLUMNS)
    sh.heading(f"{w.title}　填表说明")
    drops = book.drops
    if drops:  # S11: a clerk must not read fewer warnings or errors as better
        sh.paragraphs(["⚠ 数据量骤降：本次部分数据缺失，结果不完整"] + [
            f"{d['title']}：{d['detail']}。依赖该数据的规则（{'、'.join(d['rules']) or '无'}）本次结果不完整，"
            "预警或错误减少不代表情况好转。" for d in drops], style="alert")
        sh.row += 1
    sh.pairs([
        ("县", county),
        ("乡镇", township or "乡镇未识别（部门记录中的乡镇无法对应本县乡镇，由县里分发）"),
        ("基准日期", f"{book.as_of.isoformat()}（数据截至这一天；年龄、期限都按这一天计算）"),
        ("预警名单", f"{len(listed)} 条，其中新增 {sum(r['status'] == '新增' for r in listed)} 条（黄色底）；"
                     f"灰色字为本次已不再触发（已解除）的预警"),
        ("逻辑错误", f"{len(erows)} 条"),
        ("已核实", f"{len(verified)} 条（核实为“不属实”或“属实-暂不纳入”，暂停预警）"
                   if verified else "无（本表不含“已核实”工作表）"),
        ("帮扶措施台账", f"{len(measures)} 条（核实属实的户，请填写“制定的帮扶措施”）"
                       if measures else "无（本表不含“帮扶措施台账”工作表）"),
        ("上次报回未能登记", f"{refused} 行，原因写在该行“备注”中，请改正后重新报回" if refused else "无"),
        ("监测标准", f"{line:,.2f} 元/人·年（{book.as_of.year}年）" if line is not None
         else f"本县尚未设定{book.as_of.year}年监测标准，W09、L03 本次未运行"),
    ])
    sh.section("如何填写和报回")
    sh.paragraphs([
        "1. 在“预警名单”“逻辑错误”两张表的“核实结果”“核实人”“核实日期”三列填写核实情况；需要说明的写在“备注”。",
        "2. “核实结果”只能从下拉列表中选择。预警名单可选：" + "、".join(WARNING_RESULTS)
        + "；逻辑错误可选：" + "、".join(ERROR_RESULTS) + "。写成其他文字（如“属实”“已核实”）的行不能登记。",
        "3. “核实日期”填实际入户核实的日期，写成 2026-11-28 这样的格式；不能晚于报回当天。",
        "4. 请不要改动表头、户编号、预警规则、错误规则和证件号码；可以排序、筛选、加列写备注。",
        "5. 填好后保存，文件名保留县名和乡镇名，报回县乡村振兴部门；下次下发的表会带上已登记的核实结果。",
        "6. 上次报回但未能登记的行，原因写在该行“备注”中，请改正后重新报回。",
        f"7. 核实为“不属实”或“属实-暂不纳入”的预警，核实日期起 {t['suppress_days']} 天内不再列入预警名单"
        "（移到“已核实”表），除非部门数据出现新的情况。",
        f"8. 核实为“属实-已纳入监测”的户，核实日期起 {t['inclusion_grace_days']} 天后监测系统中仍未纳入监测的，"
        "会重新列出并标注【核实属实未纳入】；逻辑错误核实为“已整改”但仍然存在的，标注【整改未生效】。",
        "9. 核实期限 = 首次预警日期 + 规则的核实时限。“工作日”按国务院办公厅节假日安排计算：跳过周六、周日和法定节假日，"
        "调休上班的周六、周日计入。",
        "10. 帮扶措施台账列出核实为“属实-已纳入监测”“属实-已落实帮扶”的户，请填写“制定的帮扶措施”；完成时限按甘孜州"
        "限时办结制度（第十一条）从核实日期起算：住房类3个月，医疗类1个月，教育类10个工作日，安全饮水类、重大变故类1个月，"
        "其他类及时办结、长期坚持。",
        "11. 打印：各表已设为横向、每页重复表头、页脚有页码，表末有填表人、核实人签字、乡镇盖章和日期栏。",
    ])
    skipped = [s for s in book.skipped if s.get("kind") == "rule"]
    if skipped:
        sh.section("本次未运行的规则")
        sh.paragraphs([f"{s['name']}：{plain(_text(s['reason']))}" for s in sorted(skipped, key=lambda s: s["name"])])
    calendar_notes = [s for s in book.skipped if s.get("kind") == "calendar"]
    if calendar_notes:
        sh.section("节假日安排")
        sh.paragraphs([f"{s['name']}：{s['reason'].split('请升级')[0]}" for s in calendar_notes])
    sh.section("规则说明")
    counts = Counter(r["rule_code"] for r in listed + verified) + Counter(r["rule_code"] for r in erows)
    rule_rows = []
    for rule in family("W") + family("L"):
        rule_rows.append([rule.code, rule.name, describe(rule, book.config, book.as_of), rule.risk_type or "—",
                          period_text(rule.verify_within) if rule.verify_within else "—", _department(rule),
                          counts.get(rule.code, 0)])
    sh.grid([c.header for c in NOTES_COLUMNS], rule_rows)
    sh.section("本次使用的数据")
    sh.grid(["部门", "数据", "新鲜程度", "本次", "记录数", "最新日期"],
            [[dept, title, fresh, present, n, shown] for dept, title, present, n, shown, fresh in freshness])
    sh.paragraphs([f"最新日期距基准日期超过 {t['stale_days']} 天的数据为“过期”；数据中没有日期的，无法判断新鲜程度。"])
    sh.finish()


def _split(wrows: list[dict], erows: list[dict]) -> tuple[list[dict], list[dict], list[dict]]:
    """(预警名单, 已核实, 逻辑错误) rows of a township: a suppressed row moves to 已核实."""
    listed = [r for r in wrows if not r["suppressed"]]
    verified = [r for r in wrows if r["suppressed"]] + [_error_as_verified(r) for r in erows if r["suppressed"]]
    return listed, verified, [r for r in erows if not r["suppressed"]]


def _write_one(path: Path, book: Book, county: str, township: str | None, wrows: list[dict],
               erows: list[dict], measures: list[list], freshness: list[tuple], registry: dict[str, Rule]) -> None:
    title = f"{county}{township or '（乡镇未识别）'}"
    w = _Writer(path, book.as_of, title, book.config.workbook.get("paper", "A4"))
    listed, verified, erows = _split(wrows, erows)

    def style(r):
        return "new" if r["status"] == "新增" else "gone" if r["status"] == "已解除" else "cell"

    w.table("预警名单", WARNING_COLUMNS, [_warning_cells(i, r, registry) for i, r in enumerate(listed, 1)],
            [style(r) for r in listed], WARNING_RESULTS)
    w.table("逻辑错误", ERROR_COLUMNS, [_error_cells(i, r, registry) for i, r in enumerate(erows, 1)],
            ["cell"] * len(erows), ERROR_RESULTS)
    if verified:
        w.table("已核实", WARNING_COLUMNS, [_warning_cells(i, r, registry) for i, r in enumerate(verified, 1)],
                [style(r) for r in verified], WARNING_RESULTS)
    if measures:
        w.table("帮扶措施台账", MEASURE_COLUMNS, measures, ["cell"] * len(measures))
    _write_notes(w, book, county, township, listed, verified, erows, measures, freshness)
    w.close()


def _partition(frame: pl.DataFrame) -> dict[tuple, list[dict]]:
    """(county, township) -> that township's rows as dicts, in the frame's (sorted) order."""
    if not len(frame):
        return {}
    return {k: part.to_dicts()
            for k, part in frame.partition_by(["county", "township"], as_dict=True, maintain_order=True).items()}


@dataclass
class Book:
    """What every township workbook of a run shares besides its own rows: plain values, so a
    county's workbooks can be written on a Dask worker (pipelines/fanout.py) as in the run."""

    config: Config
    as_of: date
    skipped: list[dict]  # the run's skipped rules and calendar notes, for 说明
    drops: list[dict]  # S11 volume drops, for 说明's banner


@dataclass
class CountyBooks:
    """One county's workbooks to write: its warnings and logic errors (this run's, sorted as the
    sheets list them), the 帮扶措施台账 rows per township and 说明's data sources."""

    county: str
    warnings: pl.DataFrame
    errors: pl.DataFrame
    measures: dict[str | None, list[list]]
    freshness: list[tuple]


def plan_workbooks(ctx) -> tuple[Book, list[CountyBooks]]:
    """This run's findings by county, read once; every 帮扶措施台账 row computed here, so the
    calendar notes its completion limits need are known before any 说明 sheet is written."""
    con = ctx.cursor()
    params = {"run_id": ctx.run_id, "county": ctx.config.county}
    warnings = con.execute(WARNINGS_SQL, params).pl()
    errors = con.execute(ERRORS_SQL, params).pl()
    registry = rules()
    calendar = from_config(ctx.config)
    confirmed = sorted(set(warnings.filter(pl.col("verification").is_in(list(CONFIRMED)))
                           .get_column("household_id").drop_nulls().to_list()))
    lookup = dict(con.execute(MEASURES_SQL, {"run_id": ctx.run_id, "households": confirmed}).fetchall()) \
        if confirmed else {}
    freshness = _freshness(ctx)
    w_parts, e_parts = _partition(warnings), _partition(errors)
    counties = sorted({c for c, _ in w_parts} | {c for c, _ in e_parts})
    plans = []
    for county in counties:
        measures = {}
        for (c, township), part in w_parts.items():
            if c == county:  # township None: the county's unrouted workbook
                measures[township] = _measure_rows(_split(part, [])[0], registry, lookup, calendar)
        plans.append(CountyBooks(county, warnings.filter(pl.col("county") == county),
                                 errors.filter(pl.col("county") == county), measures, freshness.get(county, [])))
    from checks.screening import note_unknown_years

    note_unknown_years(ctx, calendar.unknown_years)
    skipped = [s for s in ctx.skipped if s.get("kind") in ("rule", "calendar")]
    return Book(ctx.config, ctx.as_of, skipped, volume_drops(con, ctx.run_id)), plans


def write_county_workbooks(book: Book, plan: CountyBooks, reports_dir: Path) -> tuple[list[Path], list[Path]]:
    """(township workbooks, the unrouted workbook if any) of one county, written under reports_dir."""
    registry = rules()
    w_parts, e_parts = _partition(plan.warnings), _partition(plan.errors)
    folder = reports_dir / "townships"
    folder.mkdir(parents=True, exist_ok=True)
    keys = sorted({t for _, t in w_parts if t is not None} | {t for _, t in e_parts if t is not None})
    written: list[Path] = []
    for township in keys:
        path = folder / f"{_safe_name(plan.county)}_{_safe_name(township)}_{book.as_of.isoformat()}.xlsx"
        _write_one(path, book, plan.county, township, w_parts.get((plan.county, township), []),
                   e_parts.get((plan.county, township), []), plan.measures.get(township, []), plan.freshness,
                   registry)
        written.append(path)
    unrouted = []
    part = w_parts.get((plan.county, None))
    if part:
        path = reports_dir / "unrouted" / f"{_safe_name(plan.county)}_乡镇未识别_{book.as_of.isoformat()}.xlsx"
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_one(path, book, plan.county, None, part, [], plan.measures.get(None, []), plan.freshness, registry)
        unrouted.append(path)
    return written, unrouted


def finish_workbooks(ctx, written: list[Path], unrouted: list[Path]) -> list[Path]:
    """Note the unrouted workbooks; a rerun for the same date leaves none of a township without findings."""
    ctx.notes["unrouted_workbooks"] = [str(p) for p in sorted(unrouted)]
    _remove_stale(ctx.reports_dir / "townships", written)
    _remove_stale(ctx.reports_dir / "unrouted", unrouted)
    return sorted(written)


def write_township_workbooks(ctx) -> list[Path]:
    """One workbook per (county, township) with any warning or logic error of this run."""
    book, plans = plan_workbooks(ctx)
    written, unrouted = [], []
    for plan in plans:
        w, u = write_county_workbooks(book, plan, ctx.reports_dir)
        written += w
        unrouted += u
    return finish_workbooks(ctx, written, unrouted)


def copy_township_workbooks(ctx, published: Path) -> list[Path]:
    """A rerun on unchanged inputs (pipelines/flow.py plan_results): the earlier run's township and
    unrouted workbooks, copied from its published reports — written from the same findings, they
    are these, byte for byte (no run id or time is in a workbook)."""
    written, unrouted = [], []
    for sub, into in (("townships", written), ("unrouted", unrouted)):
        (ctx.reports_dir / sub).mkdir(parents=True, exist_ok=True)
        for src in sorted((published / sub).glob("*.xlsx")):
            into.append(Path(shutil.copy2(src, ctx.reports_dir / sub / src.name)))
    return finish_workbooks(ctx, written, unrouted)


def _remove_stale(folder: Path, keep: list[Path]) -> None:
    """A rerun for the same date leaves no workbook of a township that no longer has findings."""
    if not folder.is_dir():
        return
    kept = {p.name for p in keep}
    for old in folder.glob("*.xlsx"):
        if old.name not in kept:
            old.unlink()
