"""Run the SQL files of sql/: parameters become DuckDB variables, the same way everywhere.

An analyst can reproduce any rule in the `duckdb` client on a working copy:
`SET VARIABLE as_of = DATE '2026-11-24'; SET VARIABLE window_days = 365; .read sql/rules/W01.sql`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from core.config import Config

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
RULES_DIR = SQL_DIR / "rules"
MODELS_DIR = SQL_DIR / "models"


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if value is None:
        return "NULL"
    return "'" + str(value).replace("'", "''") + "'"


def set_parameters(con: duckdb.DuckDBPyConnection, config: Config, as_of: date, run_id: str) -> None:
    """as_of, run_id, every threshold, and `line` (the monitoring line of the as-of year, or NULL).

    Range thresholds [lo, hi] also become <name>_min / <name>_max.
    """
    params: dict[str, Any] = {"as_of": as_of, "run_id": run_id, "line": config.line_for(as_of.year)}
    for name, value in config.thresholds.items():
        params[name] = value
        if isinstance(value, (list, tuple)) and len(value) == 2 and name != "major_disease_icd10":
            params[f"{name}_min"], params[f"{name}_max"] = value
    for name, value in params.items():
        con.execute(f"SET VARIABLE {name} = {_literal(value)}")


def rule_sql(code: str) -> str:
    return (RULES_DIR / f"{code}.sql").read_text(encoding="utf-8")


def create_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Only the macros (ID validity, ages, windows): for stages that run before the models' tables are final."""
    con.execute((MODELS_DIR / "00_macros.sql").read_text(encoding="utf-8"))


def create_models(con: duckdb.DuckDBPyConnection) -> None:
    """Shared definitions of rules.md ("active member", "roster person", ...) as views, in file order."""
    for path in sorted(MODELS_DIR.glob("*.sql")):
        con.execute(path.read_text(encoding="utf-8"))
