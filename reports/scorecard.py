"""The provincial data-quality scorecard (outputs.md "Data-quality scorecard").

One self-contained HTML page (inline CSS, charts as inline SVG drawn here, no script, no network)
and the same figures as xlsx, one sheet per table of the page. It reads only the working database:
the current run's tables and `hist.*` (published runs) for the change since the previous run and the
trend over kept runs. Nothing personal is selected: counts by county, township, rule and department.

Definitions (where outputs.md is silent, what provincial staff expect):
- 户数: roster households of the township. 人数: roster members whose status is 正常 (or empty).
- 逻辑错误 Lxx: logic_errors rows of the rule. 有错户占比: households with at least one logic error ÷ 户数.
- 预警 Wxx: current warnings (status 新增 / 持续; 已解除 rows are leaving the list and are not counted),
  in-roster and out-of-roster, by the township the warning is sent to.
- 逾期: a current warning whose deadline is before the as-of date and which has no verification.
- 核实率: current warnings with a verification ÷ current warnings.
- 属实率 (per rule): verifications starting with 属实 ÷ verified warnings of the rule.
- Previous run: the latest completed run with an earlier as-of date. Kept runs: one per as-of date
  (the most recently finished completed run of that date) up to this run, which is the last point.
- Source checks per township carry no county column; a single-county extract's townships take the
  county of the roster's township of that name, a province extract writes them "县/乡镇".
- Departments: rows loaded and rejected from input_files / rejects; 证件有效率 = S02 passed ÷ checked;
  新鲜度 from S09; failures per S code from source_checks.
- Rankings: townships by 有错户占比 (then logic errors, then name); counties likewise.
The output is deterministic: no time other than the run's as-of date and run id is written.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from checks.expectations import build_suite
from checks.registry import family
from checks.source_checks import newest_sql, reject_county_sql, volume_drops
from core.context import RunContext
from sources.spec import department_specs

TEMPLATES = Path(__file__).resolve().parent / "templates"

def department_titles() -> dict[str, tuple[str, str]]:
    """table -> (部门, 数据表) of every department table, in spec order, from the specs (none named here)."""
    return {s.table: (s.department, s.title) for s in department_specs()}


S_CODES = [r.code for r in family("S")]
UNPLACED = "（乡镇未识别）"


def _codes(prefix: str) -> list[str]:
    return [r.code for r in family(prefix)]


def _names(prefix: str) -> dict[str, str]:
    return {r.code: r.name for r in family(prefix)}


# ---------------------------------------------------------------- queries


def kept_runs(con, run_id: str, as_of: dt.date) -> list[tuple[str, dt.date]]:
    """(run_id, as_of) of the kept runs in as-of order, ending with this run."""
    rows = con.execute(
        """SELECT run_id, as_of_date FROM (
               SELECT run_id, as_of_date, row_number() OVER (
                   PARTITION BY as_of_date ORDER BY finished_at DESC NULLS LAST, run_id DESC) AS rn
               FROM hist.runs WHERE status = 'completed' AND as_of_date < ? AND run_id <> ?)
           WHERE rn = 1 ORDER BY as_of_date""",
        [as_of, run_id],
    ).fetchall()
    return [(r, d) for r, d in rows] + [(run_id, as_of)]


def _union(table: str, cols: str, hist_ids: list[str]) -> str:
    ids = ", ".join("'" + r.replace("'", "''") + "'" for r in hist_ids) or "NULL"
    return (f"(SELECT {cols} FROM main.{table} UNION ALL "
            f"SELECT {cols} FROM hist.{table} WHERE run_id IN ({ids}))")


def township_metrics(con, runs: list[tuple[str, dt.date]], county: str) -> dict:
    """Per run, per (county, township): households, members, logic errors, warnings and verification counts."""
    hist_ids = [r for r, _ in runs[:-1]]
    runs_values = ", ".join(f"('{r}', DATE '{d.isoformat()}')" for r, d in runs)
    hh = _union("households", "run_id, household_id, county, township", hist_ids)
    mm = _union("members", "run_id, household_id, status", hist_ids)
    le = _union("logic_errors", "run_id, household_id, county, township", hist_ids)
    wa = _union("warnings", "run_id, county, township, status, deadline, verification", hist_ids)
    c = f"coalesce(county, '{county}')"
    out: dict[str, dict[tuple[str, str], dict]] = defaultdict(lambda: defaultdict(dict))

    def put(sql: str, names: list[str]) -> None:
        for row in con.execute(sql).fetchall():
            run, cty, town, *vals = row
            out[run][(cty, town or UNPLACED)].update(dict(zip(names, vals, strict=True)))

    put(f"SELECT run_id, {c}, township, count(*) FROM {hh} GROUP BY ALL", ["households"])
    put(f"""SELECT h.run_id, coalesce(h.county, '{county}'), h.township, count(*)
            FROM {mm} AS m JOIN {hh} AS h USING (run_id, household_id)
            WHERE coalesce(m.status, '正常') = '正常' GROUP BY ALL""", ["members"])
    put(f"SELECT run_id, {c}, township, count(*), count(DISTINCT household_id) FROM {le} GROUP BY ALL",
        ["errors", "error_households"])
    put(f"""SELECT w.run_id, {c}, township,
                   count(*),
                   count(*) FILTER (WHERE deadline < r.as_of AND verification IS NULL),
                   count(*) FILTER (WHERE verification IS NOT NULL),
                   count(*) FILTER (WHERE verification LIKE '属实%')
            FROM {wa} AS w JOIN (VALUES {runs_values}) AS r(run_id, as_of) USING (run_id)
            WHERE status <> '已解除' GROUP BY ALL""",
        ["warnings", "overdue", "verified", "verified_true"])
    return out


def rule_counts(con, table: str, county: str, where: str = "true") -> dict[tuple[str, str], dict[str, int]]:
    out: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for cty, town, code, n in con.execute(
        f"SELECT coalesce(county, '{county}'), township, rule_code, count(*) FROM main.{table}"
        f" WHERE {where} GROUP BY ALL"
    ).fetchall():
        out[(cty, town or UNPLACED)][code] = n
    return out


def rule_verification(con, runs: list[tuple[str, dt.date]]) -> dict[str, dict[str, tuple[int, int, int]]]:
    """Per run, per W rule: (current warnings, verified, verified 属实)."""
    wa = _union("warnings", "run_id, rule_code, status, verification", [r for r, _ in runs[:-1]])
    out: dict[str, dict[str, tuple[int, int, int]]] = defaultdict(dict)
    for run, code, n, v, t in con.execute(
        f"""SELECT run_id, rule_code, count(*), count(verification),
                   count(*) FILTER (WHERE verification LIKE '属实%')
            FROM {wa} WHERE status <> '已解除' GROUP BY ALL"""
    ).fetchall():
        out[run][code] = (n, v, t)
    return out


def source_overall(con, run_id: str | None, schema: str = "main") -> dict[str, dict]:
    """Per department table: rows loaded, rejects, and checked/failed/detail per S code (whole extract)."""
    out: dict[str, dict] = {t: {"codes": {}} for t in department_titles()}
    if run_id is None:
        return {}
    for table, code, checked, failed, detail in con.execute(
        f"SELECT source_table, check_code, checked, failed, detail FROM {schema}.source_checks"
        " WHERE run_id = ? AND township IS NULL", [run_id]
    ).fetchall():
        if table in out:
            out[table]["codes"][code] = (checked or 0, failed or 0, detail or "")
    for table, loaded in con.execute(
        f"SELECT source_table, sum(rows_loaded) FROM {schema}.input_files"
        " WHERE run_id = ? AND status = 'loaded' GROUP BY ALL", [run_id]
    ).fetchall():
        if table in out:
            out[table]["rows"] = int(loaded or 0)
    for table, n in con.execute(
        f"SELECT source_table, count(*) FROM {schema}.rejects WHERE run_id = ? GROUP BY ALL", [run_id]
    ).fetchall():
        if table in out:
            out[table]["rejects"] = int(n)
    return out


def source_by_township(con, county_of: dict[str, str], county: str) -> list[dict]:
    depts = department_titles()
    rows = []
    for table, town, checked, failed, s02c, s02f in con.execute(
        """SELECT source_table, township, sum(checked), sum(failed),
                  sum(checked) FILTER (WHERE check_code = 'S02'), sum(failed) FILTER (WHERE check_code = 'S02')
           FROM main.source_checks WHERE township IS NOT NULL GROUP BY ALL
           ORDER BY (sum(checked) - sum(failed)) / nullif(sum(checked), 0) NULLS LAST, source_table, township"""
    ).fetchall():
        dept, title = depts.get(table, ("", table))
        town_county = town.split("/", 1) if "/" in town else (county_of.get(town, county), town)
        rows.append({
            "county": town_county[0], "township": town_county[1], "dept": dept, "table": title, "table_key": table,
            "checked": int(checked or 0), "failed": int(failed or 0),
            "pass_rate": _rate(int(checked or 0) - int(failed or 0), checked),
            "id_checked": int(s02c or 0), "id_failed": int(s02f or 0),
            "id_rate": _rate(int(s02c or 0) - int(s02f or 0), s02c),
        })
    return rows


def source_grid(rows: list[dict], depts: dict[str, tuple[str, str]]) -> dict:
    """Per-township source quality as a township × department grid: one row per township, one
    column per department table with figures, each cell S02–S07's pass rate (and counts).
    Rows: worst township first (its lowest pass rate), then county and township."""
    tables = [t for t in depts if any(r["table_key"] == t for r in rows)]
    by_town: dict[tuple[str, str], dict] = {}
    for r in rows:
        by_town.setdefault((r["county"], r["township"]), {})[r["table_key"]] = r
    grid = []
    for (cty, town), cells in by_town.items():
        rates = [c["pass_rate"] for c in cells.values() if c["pass_rate"] is not None]
        grid.append({"county": cty, "township": town, "cells": cells, "worst": min(rates) if rates else None})
    grid.sort(key=lambda g: (g["worst"] if g["worst"] is not None else 2.0, g["county"], g["township"]))
    return {"tables": [{"table": t, "dept": depts[t][0], "title": depts[t][1]} for t in tables], "rows": grid}


def source_by_county(con, provided: list[str], county: str, county_of: dict[str, str], as_of: dt.date,
                     stale_days: int) -> list[dict]:
    """Per county and department table: rows loaded, rejects, ID validity (S02) and freshness (S09).

    Rows and the newest date come from the table's county column; a reject's county from the
    county header of its raw row, else the configured county; ID validity from the per-township
    S02 figures (the whole extract's when the run covers one county).
    """
    out = []
    depts = department_titles()
    for table in provided:
        dept, title = depts[table]
        suite = build_suite(table, as_of)
        newest = newest_sql(suite, as_of) or "NULL"
        figures = {c: {"rows": int(n), "newest": d} for c, n, d in con.execute(
            f"SELECT coalesce(county, ?), count(*), {newest} FROM main.{table} GROUP BY 1", [county]).fetchall()}
        for c, n in con.execute(
            f"SELECT {reject_county_sql(table, county)}, count(*) FROM main.rejects"
            " WHERE source_table = ? GROUP BY 1", [table]).fetchall():
            figures.setdefault(c, {"rows": 0, "newest": None})["rejects"] = int(n)
        s02: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for town, checked, failed in con.execute(
            "SELECT township, sum(checked), sum(failed) FROM main.source_checks"
            " WHERE source_table = ? AND check_code = 'S02' AND township IS NOT NULL GROUP BY ALL", [table]
        ).fetchall():
            c = town.split("/", 1)[0] if "/" in town else county_of.get(town, county)
            s02[c][0] += int(checked or 0)
            s02[c][1] += int(failed or 0)
        if len(figures) <= 1:
            whole = con.execute(
                "SELECT sum(checked), sum(failed) FROM main.source_checks"
                " WHERE source_table = ? AND check_code = 'S02' AND township IS NULL", [table]).fetchone()
            if whole and whole[0] is not None:
                s02 = defaultdict(lambda: [0, 0], {c: [int(whole[0]), int(whole[1] or 0)] for c in figures or [county]})
        for c in sorted(figures):
            f = figures[c]
            latest = f["newest"]
            if latest is None:
                fresh, detail = None, "无日期列，无法判断新鲜度" if newest == "NULL" else "无日期"
            elif isinstance(latest, int):
                fresh, detail = latest >= as_of.year, f"最新年度 {latest}"
            else:
                age = (as_of - latest).days
                fresh, detail = age <= stale_days, f"最新日期 {latest.isoformat()}，距基准日 {age} 天（阈值 {stale_days} 天）"
            checked, failed = s02.get(c, (0, 0))
            out.append({"county": c, "table": table, "dept": dept, "title": title, "rows": f["rows"],
                        "rejects": f.get("rejects", 0), "id_rate": _rate(checked - failed, checked),
                        "fresh": fresh, "fresh_detail": detail})
    return out


# ---------------------------------------------------------------- figures


def _rate(num, den) -> float | None:
    return None if not den else num / den


def _derive(m: dict) -> dict:
    out = {k: int(m.get(k) or 0) for k in
           ("households", "members", "errors", "error_households", "warnings", "overdue", "verified",
            "verified_true")}
    out["first_run"] = bool(m.get("first_run"))
    out["error_share"] = _rate(out["error_households"], out["households"])
    # the first run sent the first workbooks: nothing could be verified yet, the rate is unknown ("—")
    out["verify_rate"] = None if out["first_run"] else _rate(out["verified"], out["warnings"])
    return out


def _sum(items: list[dict]) -> dict:
    total: dict = defaultdict(int)
    for m in items:
        for k, v in m.items():
            if isinstance(v, int) and not isinstance(v, bool):
                total[k] += v
    total["first_run"] = any(m.get("first_run") for m in items)
    return _derive(total)


def _delta(cur, prev):
    if cur is None or prev is None:
        return None
    return cur - prev


def build_figures(ctx: RunContext) -> dict:
    """Every figure of the scorecard, as plain data shared by the HTML and the xlsx."""
    con = ctx.cursor()
    county = ctx.config.county
    runs = kept_runs(con, ctx.run_id, ctx.as_of)
    prev = runs[-2] if len(runs) > 1 else None
    metrics = township_metrics(con, runs, county)
    for m in metrics[runs[0][0]].values():
        m["first_run"] = True          # the earliest kept run: no workbook had been sent before it
    cur = {k: _derive(v) for k, v in metrics[ctx.run_id].items()}
    prev_m = {k: _derive(v) for k, v in metrics[prev[0]].items()} if prev else {}
    l_codes, w_codes = _codes("L"), _codes("W")
    l_names, w_names = _names("L"), _names("W")
    err_rules = rule_counts(con, "logic_errors", county)
    warn_rules = rule_counts(con, "warnings", county, "status <> '已解除'")
    overdue_rules = rule_counts(
        con, "warnings", county,
        f"status <> '已解除' AND deadline < DATE '{ctx.as_of.isoformat()}' AND verification IS NULL")

    def trend(key_fn, field: str) -> list:
        series = []
        for run, _d in runs:
            items = [_derive(v) for k, v in metrics[run].items() if key_fn(k)]
            series.append(_sum(items)[field] if items else None)
        return series

    townships = []
    for key in sorted(cur):
        m = cur[key]
        p = prev_m.get(key)
        townships.append({
            "county": key[0], "township": key[1], **m,
            "d_error_share": _delta(m["error_share"], p["error_share"]) if p else None,
            "d_errors": _delta(m["errors"], p["errors"]) if p else None,
            "d_warnings": _delta(m["warnings"], p["warnings"]) if p else None,
            "trend": trend(lambda k, key=key: k == key, "error_share"),
            "trend_verify": trend(lambda k, key=key: k == key, "verify_rate"),
            "rules_l": {c: err_rules.get(key, {}).get(c, 0) for c in l_codes},
            "rules_w": {c: warn_rules.get(key, {}).get(c, 0) for c in w_codes},
            "overdue_w": {c: overdue_rules.get(key, {}).get(c, 0) for c in w_codes},
        })
    _rank(townships)

    counties = []
    for cty in sorted({k[0] for k in cur}):
        m = _sum([v for k, v in cur.items() if k[0] == cty])
        p_items = [v for k, v in prev_m.items() if k[0] == cty]
        p = _sum(p_items) if p_items else None
        counties.append({
            "county": cty, **m, "townships": sum(1 for k in cur if k[0] == cty and k[1] != UNPLACED),
            "d_error_share": _delta(m["error_share"], p["error_share"]) if p else None,
            "d_errors": _delta(m["errors"], p["errors"]) if p else None,
            "d_warnings": _delta(m["warnings"], p["warnings"]) if p else None,
            "trend": trend(lambda k, cty=cty: k[0] == cty, "error_share"),
            "rules_l": {c: sum(t["rules_l"][c] for t in townships if t["county"] == cty) for c in l_codes},
            "rules_w": {c: sum(t["rules_w"][c] for t in townships if t["county"] == cty) for c in w_codes},
        })
    _rank(counties)

    total = _sum(list(cur.values()))
    total_prev = _sum(list(prev_m.values())) if prev else None
    run_trend = []
    for run, d in runs:
        s = _sum([_derive(v) for v in metrics[run].values()])
        run_trend.append({"run_id": run, "as_of": d.isoformat(), **s})

    ver = rule_verification(con, runs)
    rules_w = []
    for code in w_codes:
        n, v, t = ver.get(ctx.run_id, {}).get(code, (0, 0, 0))
        pn, pv, pt = ver.get(prev[0], {}).get(code, (0, 0, 0)) if prev else (0, 0, 0)
        rules_w.append({
            "code": code, "name": w_names.get(code, ""), "warnings": n, "verified": v, "verified_true": t,
            "overdue": sum(r.get(code, 0) for r in overdue_rules.values()),
            "true_rate": _rate(t, v), "verify_rate": None if prev is None else _rate(v, n),
            "d_true_rate": _delta(_rate(t, v), _rate(pt, pv)) if prev else None,
            "trend": [_rate(ver.get(r, {}).get(code, (0, 0, 0))[2], ver.get(r, {}).get(code, (0, 0, 0))[1])
                      for r, _ in runs],
        })
    rules_l = [{"code": c, "name": l_names.get(c, ""),
                "errors": sum(t["rules_l"][c] for t in townships)} for c in l_codes]

    src = source_overall(con, ctx.run_id)
    src_prev = source_overall(con, prev[0], "hist") if prev else {}
    departments = []
    for table, (dept, title) in department_titles().items():
        s = src.get(table, {"codes": {}})
        codes = s["codes"]
        provided = bool(codes) and codes.get("S01", (0, 0, ""))[2] != "未提供"
        s02 = codes.get("S02")
        s09 = codes.get("S09")
        id_rate = _rate(s02[0] - s02[1], s02[0]) if s02 else None
        ps = src_prev.get(table, {"codes": {}})
        ps02 = ps["codes"].get("S02")
        departments.append({
            "table": table, "dept": dept, "title": title, "provided": provided,
            "rows": s.get("rows", 0), "rejects": s.get("rejects", 0),
            "failed": {c: (codes[c][1] if c in codes and (c != "S09" or codes[c][0]) else None) for c in S_CODES},
            "checked": {c: (codes[c][0] if c in codes else None) for c in S_CODES},
            "id_rate": id_rate,
            "d_id_rate": _delta(id_rate, _rate(ps02[0] - ps02[1], ps02[0]) if ps02 else None),
            "d_rejects": (s.get("rejects", 0) - ps.get("rejects", 0)) if prev and ps["codes"] else None,
            # S09 checked nothing (an extract without dates): freshness unknown, never "新鲜"
            "fresh": None if not s09 or not s09[0] else (s09[1] == 0),
            "fresh_detail": s09[2] if s09 else ("未提供" if not provided else ""),
        })
    county_of = {t["township"]: t["county"] for t in townships}
    stale_days = int(ctx.config.thresholds.get("stale_days", 45))
    drops = volume_drops(con, ctx.run_id)
    if drops:
        # Fewer findings from less data are no improvement: no change is shown, and the banner says why.
        for row in townships + counties:
            row.update(d_error_share=None, d_errors=None, d_warnings=None)
        total_prev = None
    return {
        "volume_drops": drops,
        "county": county, "counties": counties, "townships": townships, "total": total,
        "total_prev": total_prev, "run_id": ctx.run_id, "as_of": ctx.as_of.isoformat(),
        "prev": {"run_id": prev[0], "as_of": prev[1].isoformat()} if prev else None,
        "runs": run_trend, "rules_w": rules_w, "rules_l": rules_l, "l_codes": l_codes, "w_codes": w_codes,
        "l_names": l_names, "w_names": w_names, "departments": departments,
        "source_townships": (st := source_by_township(con, county_of, county)),
        "source_grid": source_grid(st, department_titles()),
        "source_counties": source_by_county(con, [d["table"] for d in departments if d["provided"]], county,
                                            county_of, ctx.as_of, stale_days),
    }


def _rank(rows: list[dict]) -> None:
    rows.sort(key=lambda r: (-(r["error_share"] or 0), -r["errors"], r["county"], r.get("township", "")))
    for i, r in enumerate(rows, 1):
        r["rank"] = i


# ---------------------------------------------------------------- rendering helpers


def pct(v, digits: int = 1) -> str:
    return "—" if v is None else f"{v * 100:.{digits}f}%"


def delta(v, kind: str = "count", good_when_down: bool = True) -> Markup:
    """▲/▼ with the change; red when it got worse, green when better."""
    if v is None:
        return Markup('<span class="d none">—</span>')
    if v == 0 or (kind == "pp" and abs(v) < 0.0005):
        return Markup('<span class="d same">＝</span>')
    text = f"{abs(v) * 100:.1f}个百分点" if kind == "pp" else f"{abs(v):,}"
    worse = (v > 0) == good_when_down
    arrow = "▲" if v > 0 else "▼"
    return Markup(f'<span class="d {"worse" if worse else "better"}">{arrow}{text}</span>')


def sparkline(values: list, width: int = 110, height: int = 26, fmt=pct) -> Markup:
    """A small inline SVG line over the kept runs; the last point is marked."""
    pts = [(i, v) for i, v in enumerate(values) if v is not None]
    if not pts:
        return Markup("")
    if len(values) == 1:
        return Markup(f'<svg class="spark" width="{width}" height="{height}" role="img">'
                      f'<title>{fmt(values[0])}</title>'
                      f'<circle cx="{width / 2:.1f}" cy="{height / 2:.1f}" r="2.5" fill="#1d4ed8"/></svg>')
    lo, hi = min(v for _, v in pts), max(v for _, v in pts)
    span = (hi - lo) or 1
    pad = 3

    def xy(i, v):
        x = pad + i * (width - 2 * pad) / (len(values) - 1)
        y = height / 2 if hi == lo else height - pad - (v - lo) / span * (height - 2 * pad)
        return f"{x:.1f},{y:.1f}"

    line = " ".join(xy(i, v) for i, v in pts)
    li, lv = pts[-1]
    cx, cy = xy(li, lv).split(",")
    title = " → ".join(fmt(v) for v in values)
    return Markup(
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
        f"<title>{title}</title>"
        f'<polyline points="{line}" fill="none" stroke="#1d4ed8" stroke-width="1.5"/>'
        f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="#1d4ed8"/></svg>')


def trend_chart(runs: list[dict], key: str, label: str, fmt, width: int = 260, height: int = 120) -> Markup:
    """A labelled line chart of one overall figure across the kept runs (inline SVG)."""
    vals = [r[key] for r in runs]
    known = [v for v in vals if v is not None]
    left, right, top, bottom = 8, 8, 22, 22
    parts = [f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">',
             f'<text x="{left}" y="14" class="ct">{label}</text>']
    if known:
        lo, hi = min(known + [0]), max(known)
        span = (hi - lo) or 1
        n = len(vals)

        def x(i):
            return left + (i * (width - left - right) / (n - 1) if n > 1 else (width - left - right) / 2)

        def y(v):
            return top + (1 - (v - lo) / span) * (height - top - bottom)

        parts.append(f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" '
                     'stroke="#cbd5e1"/>')
        pts = [(x(i), y(v), v) for i, v in enumerate(vals) if v is not None]
        parts.append('<polyline fill="none" stroke="#1d4ed8" stroke-width="2" points="'
                     + " ".join(f"{a:.1f},{b:.1f}" for a, b, _ in pts) + '"/>')
        for a, b, _v in pts:
            parts.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="#1d4ed8"/>')
        v = pts[-1][2]
        parts.append(f'<text x="{width - right}" y="14" text-anchor="end" class="cv">{fmt(v)}</text>')
        if len(pts) > 1:
            a0, b0, v0 = pts[0]
            parts.append(f'<text x="{a0 + 4:.1f}" y="{min(max(b0 - 6, 30), height - bottom - 4):.1f}" '
                         f'class="cx">{fmt(v0)}</text>')
        parts.append(f'<text x="{left}" y="{height - 6}" class="cx">{runs[0]["as_of"]}</text>')
        if n > 1:
            parts.append(f'<text x="{width - right}" y="{height - 6}" text-anchor="end" class="cx">'
                         f'{runs[-1]["as_of"]}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bar(value, maximum, cls: str = "") -> Markup:
    if not value or not maximum:
        return Markup("")
    return Markup(f'<span class="bar {cls}" style="width:{max(1.0, 100 * value / maximum):.1f}%"></span>')


def _fmt_int(v) -> str:
    return "—" if v is None else f"{v:,}"


# ---------------------------------------------------------------- writers


def write_scorecard(ctx: RunContext) -> list[Path]:
    """scorecard.html and scorecard.xlsx under ctx.reports_dir."""
    figures = build_figures(ctx)
    out = Path(ctx.reports_dir)
    out.mkdir(parents=True, exist_ok=True)
    html_path = out / "scorecard.html"
    html_path.write_text(render_html(figures), encoding="utf-8")
    xlsx_path = out / "scorecard.xlsx"
    write_xlsx(figures, xlsx_path, ctx.as_of, ctx.config.workbook.get("paper", "A4"))
    return [html_path, xlsx_path]


def render_html(figures: dict) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(pct=pct, num=_fmt_int)
    env.globals.update(delta=delta, sparkline=sparkline, bar=bar, trend_chart=trend_chart, pct=pct,
                       num=_fmt_int)
    return env.get_template("scorecard.html.j2").render(f=figures)


def sheets(f: dict) -> list[tuple[str, list[str], list[list]]]:
    """The tables of the page as (sheet name, header, rows): what the xlsx holds, figure for figure."""
    l_codes, w_codes = f["l_codes"], f["w_codes"]
    base = ["户数", "人数", "逻辑错误", "有错户数", "有错户占比", "占比变化(百分点)", "逻辑错误变化",
            "预警", "预警变化", "逾期", "核实率"]

    def base_vals(r):
        return [r["households"], r["members"], r["errors"], r["error_households"], r["error_share"],
                None if r["d_error_share"] is None else round(r["d_error_share"] * 100, 2),
                r["d_errors"], r["warnings"], r["d_warnings"], r["overdue"], r["verify_rate"]]

    out = []
    if f.get("volume_drops"):
        out.append(("数据量骤降警示", ["数据表", "情况", "依赖该数据的规则"],
                    [[d["title"], d["detail"], "、".join(d["rules"])] for d in f["volume_drops"]]))
    out.append(("按县排名", ["排名", "县"] + base + ["乡镇数"],
                [[r["rank"], r["county"]] + base_vals(r) + [r["townships"]] for r in f["counties"]]))
    out.append(("按乡镇排名", ["排名", "县", "乡镇"] + base,
                [[r["rank"], r["county"], r["township"]] + base_vals(r) for r in f["townships"]]))
    # every per-township and per-county sheet in the ranking's order, with its 排名
    out.append(("逻辑错误按规则", ["排名", "县", "乡镇"] + l_codes + ["合计"],
                [[r["rank"], r["county"], r["township"]] + [r["rules_l"][c] for c in l_codes] + [r["errors"]]
                 for r in f["townships"]]))
    out.append(("预警按规则", ["排名", "县", "乡镇"] + w_codes + ["合计", "逾期", "核实数", "核实率"],
                [[r["rank"], r["county"], r["township"]] + [r["rules_w"][c] for c in w_codes]
                 + [r["warnings"], r["overdue"], r["verified"], r["verify_rate"]] for r in f["townships"]]))
    out.append(("各县逻辑错误按规则", ["排名", "县"] + l_codes + ["合计"],
                [[r["rank"], r["county"]] + [r["rules_l"][c] for c in l_codes] + [r["errors"]]
                 for r in f["counties"]]))
    out.append(("各县预警按规则", ["排名", "县"] + w_codes + ["合计", "逾期", "核实数", "核实率"],
                [[r["rank"], r["county"]] + [r["rules_w"][c] for c in w_codes]
                 + [r["warnings"], r["overdue"], r["verified"], r["verify_rate"]] for r in f["counties"]]))
    out.append(("预警规则核实", ["规则", "名称", "预警", "逾期", "已核实", "核实属实", "核实率", "属实率",
                              "属实率变化(百分点)"],
                [[r["code"], r["name"], r["warnings"], r["overdue"], r["verified"], r["verified_true"],
                  r["verify_rate"], r["true_rate"],
                  None if r["d_true_rate"] is None else round(r["d_true_rate"] * 100, 2)] for r in f["rules_w"]]))
    out.append(("数据源质量", ["部门", "数据表", "入库行数", "拒收行数", "拒收变化"] + S_CODES
                + ["证件有效率", "新鲜度", "新鲜度说明"],
                [[d["dept"], d["title"], d["rows"] if d["provided"] else None, d["rejects"] if d["provided"] else None,
                  d["d_rejects"]] + [d["failed"][c] for c in S_CODES]
                 + [d["id_rate"], _fresh(d["fresh"]) if d["provided"] else None,
                    d["fresh_detail"]] for d in f["departments"]]))
    out.append(("数据源质量按县", ["县", "部门", "数据表", "入库行数", "拒收行数", "证件有效率", "新鲜度",
                                "新鲜度说明"],
                [[r["county"], r["dept"], r["title"], r["rows"], r["rejects"], r["id_rate"],
                  _fresh(r["fresh"]), r["fresh_detail"]]
                 for r in f["source_counties"]]))
    grid = f["source_grid"]
    out.append(("数据源质量按乡镇", ["县", "乡镇"] + [f"{t['dept']}·{t['title']}" for t in grid["tables"]],
                [[g["county"], g["township"]] + [g["cells"][t["table"]]["pass_rate"] if t["table"] in g["cells"]
                                                 else None for t in grid["tables"]] for g in grid["rows"]]))
    out.append(("数据源质量按乡镇明细", ["县", "乡镇", "部门", "数据表", "检查数", "不合格数", "合格率",
                                   "证件检查数", "证件无效数", "证件有效率"],
                [[r["county"], r["township"], r["dept"], r["table"], r["checked"], r["failed"], r["pass_rate"],
                  r["id_checked"], r["id_failed"], r["id_rate"]] for r in f["source_townships"]]))
    out.append(("趋势", ["基准日", "运行编号", "户数", "人数", "逻辑错误", "有错户数", "有错户占比", "预警",
                       "逾期", "核实率"],
                [[r["as_of"], r["run_id"], r["households"], r["members"], r["errors"], r["error_households"],
                  r["error_share"], r["warnings"], r["overdue"], r["verify_rate"]] for r in f["runs"]]))
    return out


RATE_HEADERS = {"有错户占比", "核实率", "属实率", "证件有效率", "合格率"}


def _fresh(fresh: bool | None) -> str:
    return "未知" if fresh is None else ("新鲜" if fresh else "过期")


def _width(header: str) -> float:
    """Column width for the scorecard's xlsx: rule codes and counts narrow, names wider."""
    if len(header) <= 3 and header[:1] in "WLS" and header[1:].isdigit():
        return 4.2
    if header in ("排名", "县", "合计"):
        return 4.6
    wide = sum(2 if ord(c) > 0x2E80 else 1 for c in header)
    return max(6.0, min(24.0, wide + 2))


def write_xlsx(f: dict, path: Path, as_of: dt.date, paper: str = "A4") -> None:
    """The page's tables, one per sheet, ranked as on the page; printable: landscape, the title and
    header rows repeated, always at 100 % (a wide table continues on pages across), "第 X 页 共 Y 页"."""
    import xlsxwriter

    from reports.layout import LO_COL_PT, LO_UNIT_PT, PAPERS, printable_points

    wb = xlsxwriter.Workbook(str(path))
    moment = dt.datetime.combine(as_of, dt.time())
    wb.set_properties({"title": f"{f['county']} 防返贫监测数据质量评分表 {f['as_of']}", "created": moment})
    base = {"font_name": "Arial", "font_size": 9}
    head = wb.add_format({**base, "bold": True, "bg_color": "#1e3a8a", "font_color": "#ffffff", "border": 1,
                          "text_wrap": True, "valign": "vcenter", "align": "center"})
    pct_fmt = wb.add_format({**base, "num_format": "0.0%", "border": 1})
    num = wb.add_format({**base, "num_format": "#,##0", "border": 1})
    dec = wb.add_format({**base, "num_format": "0.00", "border": 1})
    txt = wb.add_format({**base, "border": 1, "text_wrap": True, "valign": "top"})
    dash = wb.add_format({**base, "border": 1, "align": "right"})
    title_fmt = wb.add_format({**base, "bold": True, "font_size": 13})
    code, _w, _h = PAPERS.get(paper, PAPERS["A4"])
    for name, header, rows in sheets(f):
        ws = wb.add_worksheet(name)
        ws.write(0, 0, f"{name}（基准日 {f['as_of']}，运行 {f['run_id']}）", title_fmt)
        for j, h in enumerate(header):
            ws.write(1, j, h, head)
            ws.set_column(j, j, _width(h))
        ws.set_row(1, 30)
        for i, row in enumerate(rows, start=2):
            for j, v in enumerate(row):
                if v is None:
                    # a rate it cannot know is "—", never 0.0 %
                    if header[j] in RATE_HEADERS or "·" in header[j]:
                        ws.write_string(i, j, "—", dash)
                    else:
                        ws.write_blank(i, j, None, txt)
                elif (header[j] in RATE_HEADERS or "·" in header[j]) and isinstance(v, float):
                    ws.write_number(i, j, v, pct_fmt)
                elif isinstance(v, float):
                    ws.write_number(i, j, v, dec)
                elif isinstance(v, int):
                    ws.write_number(i, j, v, num)
                else:
                    ws.write_string(i, j, str(v), txt)
        ws.freeze_panes(2, 0)
        if rows:
            ws.autofilter(1, 0, 1 + len(rows), len(header) - 1)
        ws.set_landscape()
        ws.set_paper(code)
        ws.set_margins(left=0.2, right=0.2, top=0.62, bottom=0.55)
        ws.repeat_rows(0, 1)
        ws.print_area(0, 0, 1 + max(len(rows), 0), len(header) - 1)
        # Always 100 %: text never shrinks below 9 pt on paper. A table wider than the paper (the rule
        # columns grow with the registry) continues on further pages across, its first column repeated.
        ws.set_print_scale(100)
        natural = sum(LO_UNIT_PT * _width(h) + LO_COL_PT for h in header)
        if natural > printable_points(paper) * 0.99:
            ws.repeat_columns(0, 0)
            ws.print_across()
        ws.set_header(f'&C&"Arial,Bold"&11{f["county"]} 防返贫监测数据质量评分表　{name}'.replace("&&", "&"))
        ws.set_footer('&C&"Arial,Regular"&9第 &P 页 共 &N 页')
    wb.close()
