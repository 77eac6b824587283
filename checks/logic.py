"""Roster logic errors L01–L24 (rules.md "L — roster logic errors"): run sql/rules/L*.sql into logic_errors.

Each rule file is one SELECT returning household_id, id_number, name, county, township, village,
detail; this runner adds run_id and rule_code. Which rules run comes from the registry
(checks/registry/L.toml): a rule whose department extract is absent (`needs`), or that needs a
monitoring line the configuration lacks (`needs_line`), is skipped with the reason recorded in
the run summary rather than reported as "no errors". L24 is also skipped when the enrolment
extract holds no record for the as-of year (rules.md: "only when that year's enrolment is present").
"""

from __future__ import annotations

import logging
import time

from checks.registry import family
from checks.sql import create_models, rule_sql, set_parameters
from core.context import RunContext

log = logging.getLogger(__name__)

MATERIALISED = ["deaths_asof", "active_members"]

TABLE_LABELS = {
    "civil_affairs_assistance": "民政救助对象",
    "civil_affairs_deaths": "民政死亡（火化）登记",
    "disability_certificates": "残联残疾人证",
    "education_students": "教育学籍",
    "housing_assessments": "住建房屋安全鉴定",
    "health_enrolment": "医保参保登记",
}


def _skip_reason(ctx: RunContext, cur, rule) -> str | None:
    missing = [t for t in rule.needs if not ctx.table_present(t)]
    if missing:
        labels = "、".join(f"{TABLE_LABELS.get(t, t)}（{t}）" for t in missing)
        return f"本次未收到{labels}数据，{rule.code} {rule.name}未检查"
    if rule.needs_line and ctx.config.line_for(ctx.as_of.year) is None:
        return f"配置中没有 {ctx.as_of.year} 年的监测标准（monitoring_line），{rule.code} {rule.name}未检查"
    if rule.code == "L24":
        year = ctx.as_of.year
        (n,) = cur.execute("SELECT count(*) FROM health_enrolment WHERE year = ?", [year]).fetchone()
        if not n:
            return f"医保参保登记中没有 {year} 年度的记录，L24 参保状态不一致未检查"
    return None


def run_logic(ctx: RunContext) -> dict[str, int]:
    """Run every L rule that can run; return (and keep in ctx.notes) the row count per rule.

    Idempotent for a run: the run's earlier logic_errors rows are replaced.
    """
    cur = ctx.cursor()
    try:
        return _run(ctx, cur)
    finally:
        cur.close()


def _materialise(cur) -> None:
    """Compute the models most rules read once: a temp table shadows the view of the same name
    for this cursor only, so the rule files still read `active_members` as an analyst would."""
    for name in MATERIALISED:
        cur.execute(f"DROP TABLE IF EXISTS temp.main.{name}")
        cur.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM main.{name}")


def _run(ctx: RunContext, cur) -> dict[str, int]:
    set_parameters(cur, ctx.config, ctx.as_of, ctx.run_id)
    create_models(cur)
    _materialise(cur)
    cur.execute("DELETE FROM logic_errors WHERE run_id = ?", [ctx.run_id])
    counts: dict[str, int] = {}
    seconds: dict[str, float] = {}
    for rule in family("L"):
        reason = _skip_reason(ctx, cur, rule)
        if reason:
            ctx.skip("rule", rule.code, reason)
            continue
        select = rule_sql(rule.code).strip().rstrip(";")
        t0 = time.perf_counter()
        cur.execute(
            "INSERT INTO logic_errors"
            " (run_id, rule_code, household_id, id_number, name, county, township, village, detail)"
            f" SELECT ?, ?, household_id, id_number, name, county, township, village, detail FROM ({select})",
            [ctx.run_id, rule.code],
        )
        seconds[rule.code] = round(time.perf_counter() - t0, 3)
        (counts[rule.code],) = cur.execute(
            "SELECT count(*) FROM logic_errors WHERE run_id = ? AND rule_code = ?", [ctx.run_id, rule.code]
        ).fetchone()
        log.info("%s: %d logic errors (%.2fs)", rule.code, counts[rule.code], seconds[rule.code])
    ctx.notes["logic_errors"] = counts
    ctx.notes["logic_seconds"] = seconds
    return counts
