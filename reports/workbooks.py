"""Township workbooks (outputs.md "Township workbook"): one .xlsx per township with any finding.

Reads this run's `warnings` and `logic_errors` once, partitions them by (county, township) in
polars and writes each workbook with xlsxwriter. Every value that comes from data is written
with write_string (never write(): a name such as "=HYPERLINK(...)" must stay text, not become
a formula), so ID numbers are text too.

Choices where outputs.md is silent:
- Sheets 预警名单, 逻辑错误, 已核实 (suppressed warnings) and 说明 are always present, so a
  returned workbook always has the same shape; an empty sheet keeps its header row.
- A row's mark (核实属实未纳入 on a warning, 整改未生效 on a logic error) opens its 预警原因 /
  错误说明 as "【核实属实未纳入】…", so 状态 holds only 新增 / 持续 / 已解除 and both sheets keep
  exactly the columns of outputs.md (逻辑错误 adding only 核实结果 / 核实人 / 核实日期, which the
  township fills in as on 预警名单).
- ID columns (户编号, 户主证件号码, 证件号码) are text-formatted ("@") down the whole column, so
  an ID the township types into the sheet stays text too.
- Print titles go in the page header (county, township, sheet, as-of date) and the header
  row repeats on every page; row 1 is the header, so the sheet stays a plain table.
- 核实人 is prefilled from the verification the row's latest result came from.
- Warnings whose department record's township does not resolve (township NULL) cannot go to
  a township: they are written to unrouted/<county>_乡镇未识别_<as-of>.xlsx for the county,
  which is not in the returned list (ctx.notes["unrouted_workbooks"]).
- Workbooks are byte-identical on rerun: rows sorted by village, household, ID, rule; the
  file's creation date is the as-of date; no timestamps or run ids in cells. A rerun for the
  same date removes the workbook of a township that no longer has any finding.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import polars as pl
import xlsxwriter

from checks.registry import Rule, department_of, family, rules
from checks.source_checks import volume_drops

MAX_CELL = 32000

WARNING_COLUMNS = [
    ("村", 12), ("户编号", 22), ("户主姓名", 10), ("户主证件号码", 21), ("家庭人口", 8),
    ("户类型 / 监测对象类别", 22), ("预警规则", 22), ("风险类型", 12), ("预警原因", 60),
    ("来源部门", 10), ("状态", 12), ("首次预警日期", 12), ("核实期限", 12), ("帮扶责任人", 18),
    ("核实结果", 16), ("核实人", 10), ("核实日期", 12),
]
ERROR_COLUMNS = [
    ("村", 12), ("户编号", 22), ("户主姓名", 10), ("成员姓名", 10), ("证件号码", 21),
    ("错误规则", 28), ("错误说明", 50), ("整改建议", 50), ("核实结果", 12), ("核实人", 10),
    ("核实日期", 12),
]
ID_HEADERS = {"户编号", "户主证件号码", "证件号码"}
WARNING_RESULTS = ["属实-已纳入监测", "属实-已落实帮扶", "属实-暂不纳入", "不属实"]
ERROR_RESULTS = ["已整改", "不属实"]
OUT_OF_ROSTER = "非建档立卡/监测户"

# The roster's own tables and the column whose newest value says how fresh they are; the
# department tables follow from their specs (S09's own rule, checks/source_checks.newest_sql).
ROSTER_FRESHNESS = {
    "households": "greatest(max(monitoring_start_date), max(risk_eliminated_date))",
    "members": None,
    "measures": "max(start_date)",
}


def freshness_sources(as_of: date) -> list[tuple[str, str, str, str | None]]:
    """(部门, 数据表, table, newest-date SQL) of every roster and department table."""
    from checks.expectations import build_suite
    from checks.source_checks import newest_sql
    from sources.spec import department_specs, spec_for_table

    out = [("监测系统", spec_for_table(t).title, t, sql) for t, sql in ROSTER_FRESHNESS.items()]
    for s in department_specs():
        out.append((s.department, s.title, s.table, newest_sql(build_suite(s.table, as_of), as_of)))
    return out


# Who verified each (rule, row, result, date): the warnings and logic_errors rows carry the
# latest result and date (apply_feedback), the verifier's name is looked up here.
LOOKUP_CTES = """
WITH verifiers AS (
    SELECT rule_code, household_id, id_number, result, verified_on,
           arg_max(verifier, run_id) AS verifier
    FROM (SELECT * FROM hist.verifications UNION ALL BY NAME SELECT * FROM main.verifications)
    GROUP BY ALL
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
    v.verifier
FROM warnings AS w
LEFT JOIN one_household AS h ON h.household_id = w.household_id
LEFT JOIN verifiers AS v
  ON v.rule_code = w.rule_code
 AND v.household_id IS NOT DISTINCT FROM w.household_id
 AND v.id_number IS NOT DISTINCT FROM (CASE WHEN w.in_roster THEN NULL ELSE w.id_number END)
 AND v.result = w.verification
 AND v.verified_on IS NOT DISTINCT FROM w.verified_on
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
    v.verifier
FROM logic_errors AS e
LEFT JOIN one_household AS h ON h.household_id = e.household_id
LEFT JOIN verifiers AS v
  ON v.rule_code = e.rule_code
 AND v.household_id IS NOT DISTINCT FROM e.household_id
 AND v.id_number IS NOT DISTINCT FROM e.id_number
 AND v.result = e.verification
 AND v.verified_on IS NOT DISTINCT FROM e.verified_on
WHERE e.run_id = $run_id
ORDER BY county, township, village, e.household_id NULLS LAST, e.rule_code, e.id_number, e.name
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


def _cadre(row: dict) -> str:
    name, phone = row["cadre_name"] or "", row["cadre_phone"] or ""
    return f"{name}（{phone}）" if name and phone else name or phone


def _rule_label(code: str, registry: dict[str, Rule]) -> str:
    rule = registry.get(code)
    return f"{code} {rule.name}" if rule else code


def _warning_cells(row: dict, registry: dict[str, Rule]) -> list:
    rule = registry.get(row["rule_code"])
    return [
        row["village"], row["household_id"], row["name"], row["id_number"], row["household_size"],
        _household_type(row), _rule_label(row["rule_code"], registry), row["risk_type"],
        _marked(row["flag"], row["evidence"]),
        department_of(rule) if rule else "", row["status"], row["first_seen_date"],
        row["deadline"], _cadre(row) if row["in_roster"] else "",
        row["verification"], row["verifier"], row["verified_on"],
    ]


def _error_cells(row: dict, registry: dict[str, Rule]) -> list:
    rule = registry.get(row["rule_code"])
    return [
        row["village"], row["household_id"], row["head_name"], row["name"], row["id_number"],
        _rule_label(row["rule_code"], registry), _marked(row["flag"], row["detail"]),
        rule.suggestion if rule else "", row["verification"], row["verifier"], row["verified_on"],
    ]


def _marked(flag, text) -> str:
    """The reason, opened by the row's mark (核实属实未纳入 / 整改未生效) when it has one."""
    return f"【{flag}】{text or ''}" if flag else (text or "")


class _Writer:
    """One workbook: formats shared by its sheets."""

    def __init__(self, path: Path, as_of: date, title: str):
        self.book = xlsxwriter.Workbook(str(path), {"in_memory": True, "strings_to_numbers": False,
                                                    "strings_to_formulas": False, "strings_to_urls": False})
        created = datetime(as_of.year, as_of.month, as_of.day)
        self.book.set_properties({"title": title, "author": "fangpin", "created": created})
        self.title = title
        self.as_of = as_of
        self.head = self.book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1,
                                          "text_wrap": True, "valign": "vcenter", "align": "center"})
        cell = {"border": 1, "valign": "top", "text_wrap": True}
        styles = {"cell": cell, "new": {**cell, "bg_color": "#FFF2CC"}, "gone": {**cell, "font_color": "#808080"}}
        self.cell, self.new, self.gone = (self.book.add_format(styles[k]) for k in ("cell", "new", "gone"))
        # the same looks for ID cells, text-formatted ("@")
        self.as_text = {id(getattr(self, k)): self.book.add_format({**v, "num_format": "@"}) for k, v in styles.items()}
        self.text_column = self.book.add_format({"num_format": "@"})
        self.plain = self.book.add_format({"valign": "top", "text_wrap": True})
        self.bold = self.book.add_format({"bold": True})

    def table(self, name: str, columns: list[tuple[str, int]], rows: list[list], styles: list,
              results: list[str] | None = None):
        ws = self.book.add_worksheet(name)
        text_cols = {c for c, (header, _) in enumerate(columns) if header in ID_HEADERS}
        for c, (header, width) in enumerate(columns):
            ws.write_string(0, c, header, self.head)
            ws.set_column(c, c, width, self.text_column if c in text_cols else None)
        for r, (cells, row_style) in enumerate(zip(rows, styles, strict=True), start=1):
            for c, value in enumerate(cells):
                style = self.as_text.get(id(row_style), row_style) if c in text_cols else row_style
                if isinstance(value, int) and not isinstance(value, bool):
                    ws.write_number(r, c, value, style)
                elif value is None or value == "":
                    ws.write_blank(r, c, None, style)
                else:
                    ws.write_string(r, c, _text(value), style)
        last = max(len(rows), 1)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, len(rows), len(columns) - 1)
        if results:
            col = [h for h, _ in columns].index("核实结果")
            ws.data_validation(1, col, max(last, 200), col, {
                "validate": "list", "source": results, "error_type": "warning",
                "input_title": "核实结果", "input_message": "请选择：" + "、".join(results)})
        self._print(ws, name)
        return ws

    def _print(self, ws, name: str) -> None:
        ws.set_landscape()
        ws.set_paper(9)
        ws.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.6)
        ws.repeat_rows(0)
        ws.fit_to_pages(1, 0)
        safe = self.title.replace("&", "&&")
        ws.set_header(f"&C&12{safe} {name}（基准日期 {self.as_of.isoformat()}）")
        ws.set_footer("&C第 &P 页，共 &N 页")

    def close(self) -> None:
        self.book.close()


def _freshness(ctx) -> dict[str, list[tuple]]:
    """county -> [(部门, 数据表, 是否收到, 记录数, 最新日期)], one GROUP BY per table."""
    con = ctx.cursor()
    out: dict[str, list[tuple]] = {}
    counties = [r[0] for r in con.execute(
        "SELECT DISTINCT coalesce(county, ?) FROM ("
        " SELECT county FROM warnings WHERE run_id = ? UNION ALL"
        " SELECT county FROM logic_errors WHERE run_id = ?)",
        [ctx.config.county, ctx.run_id, ctx.run_id]).fetchall()]
    for dept, title, table, newest in freshness_sources(ctx.as_of):
        present = ctx.table_present(table)
        figures = dict()
        if present:
            expr = newest or "NULL"
            for county, n, latest in con.execute(
                f"SELECT coalesce(county, ?), count(*), {expr} FROM {table} GROUP BY 1", [ctx.config.county]
            ).fetchall():
                figures[county] = (n, latest)
        for county in counties:
            n, latest = figures.get(county, (0, None))
            if isinstance(latest, int):
                latest = f"{latest}年度"
            out.setdefault(county, []).append((
                dept, title, "已收到" if present else "未收到",
                n, _text(latest) if latest is not None else ("—" if present else ""),
            ))
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


def _write_notes(w: _Writer, ctx, county: str, township: str | None, listed: list[dict],
                 verified: list[dict], erows: list[dict], freshness: list[tuple]) -> None:
    ws = w.book.add_worksheet("说明")
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 30)
    ws.set_column(2, 2, 70)
    ws.set_column(3, 6, 14)
    r = 0
    ws.write_string(r, 0, w.title, w.bold)
    r += 2
    r = _volume_banner(w, ws, r, volume_drops(ctx.cursor(), ctx.run_id))
    line = ctx.config.line_for(ctx.as_of.year)
    facts = [
        ("县", county), ("乡镇", township or "乡镇未识别（部门记录乡镇无法对应本县乡镇）"),
        ("基准日期", ctx.as_of.isoformat()),
        ("预警名单", f"{len(listed)} 条（新增 {sum(r['status'] == '新增' for r in listed)} 条，已标黄）"),
        ("逻辑错误", f"{len(erows)} 条"),
        ("已核实", f"{len(verified)} 条（核实为不属实或属实-暂不纳入，暂停预警）"),
        ("监测标准", f"{line:,.2f} 元/人·年（{ctx.as_of.year}年）" if line is not None
         else f"未配置{ctx.as_of.year}年监测标准，W09、L03 本次未运行"),
        ("填写说明", "请在“核实结果”“核实人”“核实日期”三列填写核实情况后报回县乡村振兴局。预警核实结果可填："
                     + "、".join(WARNING_RESULTS) + "；逻辑错误可填：" + "、".join(ERROR_RESULTS)
                     + "。核实期限为首次预警日期加规则规定的核实时限（工作日不含周六、周日）。"),
    ]
    for k, v in facts:
        ws.write_string(r, 0, k, w.bold)
        ws.write_string(r, 1, v)
        r += 1
    skipped = [s for s in ctx.skipped if s.get("kind") == "rule"]
    if skipped:
        r += 1
        ws.write_string(r, 0, "本次未运行的规则", w.bold)
        r += 1
        for s in sorted(skipped, key=lambda s: s["name"]):
            ws.write_string(r, 0, _text(s["name"]))
            ws.write_string(r, 1, _text(s["reason"]).split(" (")[0])
            r += 1
    r += 1
    ws.write_string(r, 0, "规则说明", w.bold)
    r += 1
    for c, h in enumerate(["规则", "名称", "含义", "风险类型", "核实时限", "来源部门", "本乡镇条数"]):
        ws.write_string(r, c, h, w.head)
    r += 1
    counts = Counter(r["rule_code"] for r in listed) + Counter(r["rule_code"] for r in erows)
    for rule in family("W") + family("L"):
        period = (rule.verify_within.replace("working days", "个工作日").replace("days", "天")
                  .replace("months", "个月").replace(" ", "")) if rule.verify_within else "—"
        cells = [rule.code, rule.name, describe(rule, ctx.config, ctx.as_of), rule.risk_type or "—", period,
                 department_of(rule)]
        for c, v in enumerate(cells):
            ws.write_string(r, c, _text(v), w.cell)
        ws.write_number(r, 6, counts.get(rule.code, 0), w.cell)
        r += 1
    params = ctx.config.thresholds
    r += 1
    ws.write_string(r, 0, "参数", w.bold)
    ws.write_string(r, 1, "；".join(
        f"{k} = {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in sorted(params.items())),
        w.plain)
    r += 2
    ws.write_string(r, 0, "数据来源", w.bold)
    r += 1
    for c, h in enumerate(["部门", "数据表", "本次", "记录数", "最新日期"]):
        ws.write_string(r, c, h, w.head)
    r += 1
    for dept, table, present, n, latest in freshness:
        ws.write_string(r, 0, dept, w.cell)
        ws.write_string(r, 1, table, w.cell)
        ws.write_string(r, 2, present, w.cell)
        ws.write_number(r, 3, n, w.cell)
        ws.write_string(r, 4, latest or "", w.cell)
        r += 1
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)


def _volume_banner(w: _Writer, ws, r: int, drops: list[dict]) -> int:
    """Red rows at the top of 说明 for each source that delivered far fewer rows than last time (S11):
    a clerk must not read fewer warnings or errors as better. Returns the next free row."""
    if not drops:
        return r
    red = w.book.add_format({"bold": True, "font_color": "#9C0006", "bg_color": "#FFC7CE", "border": 1,
                             "text_wrap": True, "valign": "top"})
    ws.merge_range(r, 0, r, 2, "⚠ 数据量骤降：本次部分数据缺失，结果不完整", red)
    r += 1
    for d in drops:
        ws.merge_range(r, 0, r, 2, f"{d['title']}：{d['detail']}。依赖该数据的规则（{'、'.join(d['rules']) or '无'}）"
                       "本次结果不完整，预警或错误减少不代表情况好转。", red)
        ws.set_row(r, 45)
        r += 1
    return r + 1


def _write_one(path: Path, ctx, county: str, township: str | None, wrows: list[dict],
               erows: list[dict], freshness: list[tuple], registry: dict[str, Rule]) -> None:
    title = f"{county}{township or '（乡镇未识别）'} 防返贫部门筛查预警与逻辑错误核实表"
    w = _Writer(path, ctx.as_of, title)
    listed = [r for r in wrows if not r["suppressed"]]
    verified = [r for r in wrows if r["suppressed"]]
    for name, rows in (("预警名单", listed), ("已核实", verified)):
        styles = [w.new if r["status"] == "新增" else w.gone if r["status"] == "已解除" else w.cell for r in rows]
        w.table(name, WARNING_COLUMNS, [_warning_cells(r, registry) for r in rows], styles, WARNING_RESULTS)
        if name == "预警名单":
            w.table("逻辑错误", ERROR_COLUMNS, [_error_cells(r, registry) for r in erows],
                    [w.cell] * len(erows), ERROR_RESULTS)
    _write_notes(w, ctx, county, township, listed, verified, erows, freshness)
    w.close()


def _partition(frame: pl.DataFrame) -> dict[tuple, list[dict]]:
    """(county, township) -> that township's rows as dicts, in the frame's (sorted) order."""
    if not len(frame):
        return {}
    return {k: part.to_dicts()
            for k, part in frame.partition_by(["county", "township"], as_dict=True, maintain_order=True).items()}


def write_township_workbooks(ctx) -> list[Path]:
    """One workbook per (county, township) with any warning or logic error of this run."""
    con = ctx.cursor()
    params = {"run_id": ctx.run_id, "county": ctx.config.county}
    warnings = con.execute(WARNINGS_SQL, params).pl()
    errors = con.execute(ERRORS_SQL, params).pl()
    registry = rules()
    freshness = _freshness(ctx)
    folder = ctx.reports_dir / "townships"
    folder.mkdir(parents=True, exist_ok=True)
    keys = sorted(
        {(c, t) for c, t in warnings.select("county", "township").unique().iter_rows() if t is not None}
        | {(c, t) for c, t in errors.select("county", "township").unique().iter_rows() if t is not None}
    )
    w_parts = _partition(warnings)
    e_parts = _partition(errors)
    written: list[Path] = []
    for county, township in keys:
        path = folder / f"{_safe_name(county)}_{_safe_name(township)}_{ctx.as_of.isoformat()}.xlsx"
        _write_one(path, ctx, county, township, w_parts.get((county, township), []),
                   e_parts.get((county, township), []), freshness.get(county, []), registry)
        written.append(path)
    unrouted = []
    for (county, township), part in w_parts.items():
        if township is None:
            path = ctx.reports_dir / "unrouted" / f"{_safe_name(county)}_乡镇未识别_{ctx.as_of.isoformat()}.xlsx"
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_one(path, ctx, county, None, part, [], freshness.get(county, []), registry)
            unrouted.append(path)
    ctx.notes["unrouted_workbooks"] = [str(p) for p in sorted(unrouted)]
    _remove_stale(folder, written)
    _remove_stale(ctx.reports_dir / "unrouted", unrouted)
    return written


def _remove_stale(folder: Path, keep: list[Path]) -> None:
    """A rerun for the same date leaves no workbook of a township that no longer has findings."""
    if not folder.is_dir():
        return
    kept = {p.name for p in keep}
    for old in folder.glob("*.xlsx"):
        if old.name not in kept:
            old.unlink()
