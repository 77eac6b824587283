"""Department screening (rules.md W01–W14): run each rule's SELECT, then write `warnings` with history.

History is kept against the previous run (outputs.md): the latest completed run with an
as-of date earlier than this run's. A rerun for the same as-of date therefore compares
with the same previous run and gives the same statuses.

Choices where the spec is silent (also in the final report):
- A rule skipped in this run (its department's data absent, no monitoring line) cannot
  say whether its earlier warnings stopped firing. Its warnings of the previous run are
  carried over as 持续 (same first_seen, deadline and evidence_key, evidence prefixed with
  why) rather than reported 已解除, so a township is not told a case is resolved only
  because a department missed a month.
- A warning whose department record's township does not resolve is still written, with
  township NULL; the count per rule is put in the run summary (ctx.skip, kind "routing")
  because no township workbook can carry it.
"""

from __future__ import annotations

import re
import time
from datetime import date, timedelta

import duckdb
import polars as pl

from checks import linkage
from checks.registry import Rule, family, skip_reason
from checks.sql import RULES_DIR, create_models, rule_sql, set_parameters
from checks.workdays import WorkCalendar, from_config
from core.context import RunContext

ACTIVE = ("新增", "持续")

_PERIOD = re.compile(r"^\s*(\d+)\s*(working days?|days?|months?)\s*$")

def add_period(start: date, period: str, calendar: WorkCalendar | None = None) -> date:
    """start + "N days" (calendar), "N working days" or "N months" (calendar months).

    Working days follow the official calendar (checks/workdays.py: weekends and public holidays
    skipped, 调休 make-up days counted); `calendar` carries the county's own years and collects
    the years it did not know. Months clamp to the month's last day (Jan 31 + 1 month = Feb 28/29), like DuckDB's
    date + INTERVAL.
    """
    m = _PERIOD.match(period or "")
    if not m:
        raise ValueError(f"verify_within not understood: {period!r}")
    n, unit = int(m.group(1)), m.group(2)
    if unit.startswith("working"):
        return (calendar or WorkCalendar()).add_working_days(start, n)
    if unit.startswith("day"):
        return start + timedelta(days=n)
    month = start.month - 1 + n
    year, month = start.year + month // 12, month % 12 + 1
    for day in (start.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _skip_reason(ctx: RunContext, con: duckdb.DuckDBPyConnection, rule: Rule) -> str | None:
    """Why a rule cannot run this time (the registry's `needs`), or its SQL file is missing."""
    reason = skip_reason(ctx, con, rule)
    if reason is None and not (RULES_DIR / f"{rule.code}.sql").exists():
        reason = f"规则文件缺失 sql/rules/{rule.code}.sql，{rule.code} 未运行"
    return reason


def _previous_run(con: duckdb.DuckDBPyConnection, as_of: date) -> str | None:
    row = con.execute(
        "SELECT run_id FROM hist.runs WHERE status = 'completed' AND as_of_date < ?"
        " ORDER BY as_of_date DESC, finished_at DESC NULLS LAST, run_id DESC LIMIT 1",
        [as_of],
    ).fetchone()
    return row[0] if row else None


HITS_DDL = """
CREATE OR REPLACE TEMP TABLE screening_hits (
    rule_code VARCHAR, household_id VARCHAR, id_number VARCHAR, name VARCHAR,
    county VARCHAR, township VARCHAR, village VARCHAR, in_roster BOOLEAN,
    evidence VARCHAR, evidence_key VARCHAR
)
"""

# A warning's identity within its rule: the household, or the out-of-roster person's ID.
KEY = "CASE WHEN household_id IS NOT NULL THEN 'H:' || household_id ELSE 'P:' || coalesce(id_number, '') END"

# One row per (rule, household) / (rule, out-of-roster id_number), whatever the rule SQL gave.
CURRENT_SQL = """
CREATE OR REPLACE TEMP TABLE screening_current AS
SELECT *, {KEY} AS wkey
FROM screening_hits
QUALIFY row_number() OVER (
    PARTITION BY rule_code, wkey ORDER BY township NULLS LAST, village NULLS LAST, id_number, evidence) = 1
"""

PREVIOUS_SQL = """
CREATE OR REPLACE TEMP TABLE screening_previous AS
SELECT *, {KEY} AS wkey
FROM hist.warnings
WHERE run_id = ? AND status IN ('新增', '持续')
QUALIFY row_number() OVER (PARTITION BY rule_code, wkey ORDER BY first_seen_date, first_seen_run) = 1
"""

INSERT_SQL = """
INSERT INTO warnings (run_id, rule_code, household_id, id_number, name, county, township, village,
                      in_roster, risk_type, evidence, evidence_key, first_seen_run, first_seen_date,
                      status, deadline, suppressed)
WITH fired AS (
    SELECT c.rule_code, c.household_id, c.id_number, c.name, c.county, c.township, c.village, c.in_roster,
           c.evidence, c.evidence_key,
           coalesce(p.first_seen_run, $run_id) AS first_seen_run,
           coalesce(p.first_seen_date, $as_of::DATE) AS first_seen_date,
           CASE WHEN p.rule_code IS NULL THEN '新增' ELSE '持续' END AS status
    FROM screening_current AS c
    LEFT JOIN screening_previous AS p
      ON p.rule_code = c.rule_code AND p.wkey = c.wkey
),
gone AS (
    SELECT p.rule_code, p.household_id, p.id_number, p.name, p.county, p.township, p.village, p.in_roster,
           CASE WHEN r.state = 'skipped'
                THEN '（本次未能重新筛查：' || r.reason || '；以下为上次预警内容）' || coalesce(p.evidence, '')
                ELSE p.evidence END AS evidence,
           p.evidence_key, p.first_seen_run, p.first_seen_date,
           CASE WHEN r.state = 'skipped' THEN '持续' ELSE '已解除' END AS status
    FROM screening_previous AS p
    JOIN screening_rules AS r ON r.rule_code = p.rule_code
    WHERE NOT EXISTS (
        SELECT 1 FROM screening_current AS c WHERE c.rule_code = p.rule_code AND c.wkey = p.wkey)
),
everything AS (
    SELECT * FROM fired
    UNION ALL
    SELECT * FROM gone
)
SELECT $run_id, e.rule_code, e.household_id, e.id_number, e.name, e.county, e.township, e.village,
       e.in_roster, r.risk_type, e.evidence, e.evidence_key, e.first_seen_run, e.first_seen_date,
       e.status, d.deadline, false
FROM everything AS e
JOIN screening_rules AS r ON r.rule_code = e.rule_code
LEFT JOIN screening_deadlines AS d
  ON d.rule_code = e.rule_code AND d.first_seen_date = e.first_seen_date
"""


def run_screening(ctx: RunContext) -> dict[str, int]:
    """Run W01–W14 on the working tables, write this run's `warnings`; counts of firing rows per rule.

    Idempotent within a run: this run's warnings are replaced, not added to.
    """
    con = ctx.cursor()
    set_parameters(con, ctx.config, ctx.as_of, ctx.run_id)
    create_models(con)
    t0 = time.perf_counter()
    linked = linkage.shadow_department_tables(con, ctx)  # accepted record links (issue 15)
    _materialise_models(con)
    seconds = {"models": round(time.perf_counter() - t0, 3)}
    rules = family("W")
    con.execute(HITS_DDL)
    con.execute("DELETE FROM warnings WHERE run_id = ?", [ctx.run_id])
    ran: list[str] = []
    skipped: dict[str, str] = {}
    for rule in rules:
        reason = _skip_reason(ctx, con, rule)
        if reason:
            skipped[rule.code] = reason
            ctx.skip("rule", rule.code, reason)
            continue
        t0 = time.perf_counter()
        con.execute(f"INSERT INTO screening_hits SELECT '{rule.code}', * FROM ({rule_sql(rule.code).strip().rstrip(';')})")
        seconds[rule.code] = round(time.perf_counter() - t0, 3)
        ran.append(rule.code)
    if linked:
        ctx.notes["linkage_rows_screened"] = linked
        linkage.annotate_hits(con, ctx, [r for r in rules if r.code in ran])
    write_warnings(ctx, con, rules, ran, skipped, seconds)
    for name in reversed(SHARED_MODELS):
        con.execute(f"DROP TABLE IF EXISTS temp.main.{name}")
    linkage.drop_shadows(con, linked)
    con.execute("DROP TABLE IF EXISTS screening_hits")
    return ctx.notes["warnings"]


def write_warnings(ctx: RunContext, con, rules: list[Rule], ran: list[str], skipped: dict[str, str],
                   seconds: dict[str, float]) -> dict[str, int]:
    """From this run's hits (temp table screening_hits on `con`) to `warnings` with history.

    Separate from the rules so the county fan-out (pipelines/fanout.py) can gather every
    county's hits and keep the history, deadlines and counts province-wide, once.
    """
    t0 = time.perf_counter()
    con.execute(CURRENT_SQL.replace("{KEY}", KEY))
    prev = _previous_run(con, ctx.as_of)
    con.execute(PREVIOUS_SQL.replace("{KEY}", KEY), [prev])
    _deadlines(con, ctx, rules)
    _register(con, "screening_rules", pl.DataFrame(
        [(r.code, r.risk_type, "ran" if r.code in ran else "skipped", skipped.get(r.code, "").split(" (")[0])
         for r in rules],
        schema={"rule_code": pl.String, "risk_type": pl.String, "state": pl.String, "reason": pl.String},
        orient="row",
    ))
    con.execute(INSERT_SQL, {"run_id": ctx.run_id, "as_of": ctx.as_of})
    seconds["history"] = round(time.perf_counter() - t0, 3)
    ctx.notes["screening_seconds"] = seconds
    counts = dict(
        con.execute(
            "SELECT rule_code, count(*) FILTER (WHERE status IN ('新增', '持续')) FROM warnings"
            " WHERE run_id = ? GROUP BY rule_code ORDER BY rule_code",
            [ctx.run_id],
        ).fetchall()
    )
    counts = {code: counts.get(code, 0) for code in ran} | {
        code: n for code, n in counts.items() if code in skipped and n}
    by_status = con.execute(
        "SELECT rule_code, status, count(*) FROM warnings WHERE run_id = ? GROUP BY ALL ORDER BY ALL",
        [ctx.run_id],
    ).fetchall()
    ctx.notes["warnings"] = counts
    ctx.notes["warnings_by_status"] = {
        code: {s: n for c, s, n in by_status if c == code} for code in sorted({c for c, _, _ in by_status})
    }
    for code, n in con.execute(
        "SELECT rule_code, count(*) FROM warnings WHERE run_id = ? AND township IS NULL"
        " AND status IN ('新增', '持续') GROUP BY rule_code ORDER BY rule_code",
        [ctx.run_id],
    ).fetchall():
        ctx.skip("routing", code, f"{n} 条预警的部门记录乡镇无法对应本县乡镇，未能分发到乡镇工作簿"
                                  f" ({n} warnings whose township does not resolve)")
    con.execute("DROP TABLE IF EXISTS screening_current")
    con.execute("DROP TABLE IF EXISTS screening_previous")
    con.execute("DROP TABLE IF EXISTS screening_deadlines")
    con.execute("DROP TABLE IF EXISTS screening_rules")
    return counts


SHARED_MODELS = ("deaths_asof", "active_members", "roster_persons", "deceased_ids")


def _materialise_models(con: duckdb.DuckDBPyConnection) -> None:
    """Compute the shared views once for all ten rules.

    A temp table shadows the view of the same name for this cursor only, so the rule files
    keep reading `roster_persons` etc. as an analyst would, with the same rows.
    """
    for name in SHARED_MODELS:
        con.execute(f"DROP TABLE IF EXISTS temp.main.{name}")
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {name}")


def _deadlines(con: duckdb.DuckDBPyConnection, ctx: RunContext, rules: list[Rule]) -> None:
    """Deadline per (rule, first_seen_date): few distinct pairs, computed in Python (working days)."""
    pairs = con.execute(
        "SELECT DISTINCT rule_code, $as_of::DATE AS first_seen_date FROM screening_current"
        " UNION SELECT DISTINCT rule_code, first_seen_date FROM screening_previous"
        " WHERE first_seen_date IS NOT NULL",
        {"as_of": ctx.as_of},
    ).fetchall()
    period = {r.code: r.verify_within for r in rules}
    calendar = from_config(ctx.config)
    rows = [(code, d, add_period(d, period[code], calendar)) for code, d in pairs if period.get(code)]
    note_unknown_years(ctx, calendar.unknown_years)
    frame = pl.DataFrame(
        rows, schema={"rule_code": pl.String, "first_seen_date": pl.Date, "deadline": pl.Date}, orient="row"
    )
    _register(con, "screening_deadlines", frame)


def note_unknown_years(ctx: RunContext, years) -> None:
    """A deadline counted in a year whose holiday notice is known neither to the calendar package
    nor to the county's configuration: said in the run summary (weekends only were skipped)."""
    for year in sorted(years):
        name = f"{year}年节假日安排"
        if any(s["kind"] == "calendar" and s["name"] == name for s in ctx.skipped):
            continue
        ctx.skip("calendar", name,
                 f"尚不知道国务院{year}年节假日安排：落在{year}年的核实期限只跳过了周六、周日，"
                 f"未扣除法定节假日、未计调休上班日。请升级 fangpin（节假日库 chinesecalendar），"
                 f"或在县配置文件的 [calendar] 中填写{year}年的放假日期（holidays）和调休上班日期（workdays）。")


def _register(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    """Copy a small polars frame into a temp table of the working database."""
    con.register(f"{name}_frame", frame)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_frame")
    con.unregister(f"{name}_frame")
