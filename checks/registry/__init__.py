"""The rule registry: one place for every rule's code, name, level and wording.

Read by the SQL runner, the township workbook and the scorecard. The data lives
in W.toml, L.toml and S.toml beside this file, one table per rule, e.g.:

    [W01]
    name = "高额医疗自付"
    family = "W"                  # W / L / S
    level = "household"           # household / person / source
    dimension = "policy"          # completeness / validity / consistency / policy
    severity = "high"             # high / medium / low
    needs = ["health_settlements"]  # tables that must be present, else the rule is skipped
    needs_any = []                # of these tables at least one must be present (the others are
                                  # named in the summary as not checked)
    needs_year = "health_enrolment.year"  # table.column that must hold the as-of year, else skipped
    needs_line = false            # true when it needs the monitoring line of the as-of year
    needs_linkage = false         # true when it reads record_links (L27): skipped when linkage did not run
    suppress_on = "不属实"        # L only: this 核实结果 suppresses the error for suppress_days unless
                                  # its records change (the rule's SQL then returns evidence_key)
    risk_type = "因病"            # W only
    verify_within = "30 days"     # W only: "N days" / "N working days" / "N months"
    complete_within = "1 month"   # W only: Ganzi 第十一条 limit to settle the case once verified 属实
                                  # (帮扶措施台账 完成时限); "" = 其他类: 及时办结、长期坚持
    suggestion = "…"              # 整改建议 / 核实要点 shown to townships
    policy = "…"                  # policy reference
    description = "…"             # plain-Chinese meaning, for the 说明 sheet
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    family: str
    level: str
    dimension: str = ""
    severity: str = ""
    needs: tuple[str, ...] = field(default_factory=tuple)
    needs_any: tuple[str, ...] = field(default_factory=tuple)
    needs_year: str = ""
    needs_line: bool = False
    needs_linkage: bool = False  # true when it reads record_links: skipped when linkage did not run
    suppress_on: str = ""  # L only: a 核实结果 that suppresses the error like a warning (L26: 不属实)
    risk_type: str = ""
    verify_within: str = ""
    complete_within: str = ""
    suggestion: str = ""
    policy: str = ""
    description: str = ""


@cache
def rules() -> dict[str, Rule]:
    out: dict[str, Rule] = {}
    for path in sorted(HERE.glob("*.toml")):
        for code, fields in tomllib.loads(path.read_text(encoding="utf-8")).items():
            fields = dict(fields)
            fields["needs"] = tuple(fields.get("needs", ()))
            fields["needs_any"] = tuple(fields.get("needs_any", ()))
            out[code] = Rule(code=code, **fields)
    return dict(sorted(out.items()))


def department_of(rule: Rule) -> str:
    """The department(s) a rule's signal comes from (来源部门), from the specs of the tables it
    needs; 监测系统 for a rule over the roster alone."""
    from sources.spec import department_specs

    by_table = {s.table: s.department for s in department_specs()}
    names = [by_table[t] for t in (*rule.needs, *rule.needs_any) if t in by_table]
    return "、".join(dict.fromkeys(names)) or "监测系统"


def family(prefix: str) -> list[Rule]:
    return [r for r in rules().values() if r.family == prefix]


def get(code: str) -> Rule:
    return rules()[code]


def _label(table: str) -> str:
    from sources.spec import spec_for_table

    try:
        return f"{spec_for_table(table).label}（{table}）"
    except KeyError:
        return table


def skip_reason(ctx, con, rule: Rule) -> str | None:
    """Why a rule cannot run in this run (plain Chinese, for the summary), or None — read from the
    rule's `needs`, `needs_any`, `needs_year` and `needs_line`, never from its code."""
    missing = [t for t in rule.needs if not ctx.table_present(t)]
    if missing:
        return f"本次未收到{'、'.join(_label(t) for t in missing)}数据，{rule.code} {rule.name}未运行"
    if rule.needs_any and not any(ctx.table_present(t) for t in rule.needs_any):
        return f"本次未收到{'、'.join(_label(t) for t in rule.needs_any)}中任何一项数据，{rule.code} {rule.name}未运行"
    if rule.needs_linkage and not (ctx.notes.get("linkage") or {}).get("ran"):
        why = (ctx.notes.get("linkage") or {}).get("reason") or "本次未进行记录关联"
        return f"{why}，{rule.code} {rule.name}未运行"
    year = ctx.as_of.year
    if rule.needs_line and ctx.config.line_for(year) is None:
        return f"配置中没有{year}年的监测标准，{rule.code} {rule.name}未运行"
    if rule.needs_year:
        table, column = rule.needs_year.split(".")
        (n,) = con.execute(f"SELECT count(*) FROM {table} WHERE {column} = ?", [year]).fetchone()
        if not n:
            return f"{_label(table)}没有{year}年度的记录，{rule.code} {rule.name}不作判断"
    return None


def partly_checked(ctx, rule: Rule) -> str | None:
    """For a rule over several optional tables (`needs_any`): which of them were absent this run."""
    absent = [t for t in rule.needs_any if not ctx.table_present(t)]
    if rule.needs_any and absent and len(absent) < len(rule.needs_any):
        return f"本次未收到{'、'.join(_label(t) for t in absent)}数据，{rule.code} 只比对了收到的部分"
    return None
