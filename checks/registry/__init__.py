"""The rule registry: one place for every rule's code, name, level and wording.

Read by the SQL runner, the township workbook and the scorecard. The data lives
in W.toml, L.toml and S.toml beside this file, one table per rule, e.g.:

    [W01]
    name = "高额医疗自付"
    family = "W"                  # W / L / S
    level = "household"           # household / person / source
    dimension = "policy"          # completeness / validity / consistency / policy
    severity = "high"             # high / medium / low
    source = "医保"               # department the signal comes from ("roster" for roster-only rules)
    needs = ["health_settlements"]  # tables that must be present, else the rule is skipped
    needs_line = false            # true when it needs the monitoring line of the as-of year
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
    source: str = ""
    needs: tuple[str, ...] = field(default_factory=tuple)
    needs_line: bool = False
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
            out[code] = Rule(code=code, **fields)
    return dict(sorted(out.items()))


def family(prefix: str) -> list[Rule]:
    return [r for r in rules().values() if r.family == prefix]


def get(code: str) -> Rule:
    return rules()[code]
