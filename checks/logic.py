"""Roster logic errors L01–L27 (rules.md "L — roster logic errors"): run sql/rules/L*.sql into logic_errors.

Each rule file is one SELECT returning household_id, id_number, name, county, township, village,
detail; this runner adds run_id and rule_code. Which rules run comes from the registry
(checks/registry/L.toml): a rule whose department extract is absent (`needs`), or that needs a
monitoring line the configuration lacks (`needs_line`), is skipped with the reason recorded in
the run summary rather than reported as "no errors"; L24 (`needs_year`) also when the enrolment
extract holds no record for the as-of year (rules.md: "only when that year's enrolment is present").
"""

from __future__ import annotations

import logging
import time

from checks.registry import family, partly_checked, skip_reason
from checks.sql import create_models, rule_sql, set_parameters
from core.context import RunContext

log = logging.getLogger(__name__)

MATERIALISED = ["deaths_asof", "active_members"]

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
        reason = skip_reason(ctx, cur, rule)
        if reason:
            ctx.skip("rule", rule.code, reason)
            continue
        partial = partly_checked(ctx, rule)
        if partial:
            ctx.skip("partial", rule.code, partial)
        select = rule_sql(rule.code).strip().rstrip(";")
        key = "evidence_key" if rule.suppress_on else "NULL"
        t0 = time.perf_counter()
        cur.execute(
            "INSERT INTO logic_errors"
            " (run_id, rule_code, household_id, id_number, name, county, township, village, detail, evidence_key)"
            f" SELECT ?, ?, household_id, id_number, name, county, township, village, detail, {key}"
            f" FROM ({select})",
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
