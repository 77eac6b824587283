"""The S01–S10 suites: one Great Expectations suite per department table, declared once.

A suite is built from the table's source spec (sources/specs/<table>.toml), never written out
by hand per column: its ID column (S02), date columns (S03), enumerated columns and their
values (S04), money columns (S05) — exactly what the ingest reads —, and its source-check
declarations: date columns allowed after the as-of date, the freshness columns (S09), and
table-specific checks such as S06 (settlements) and S07 (disability certificates).

Every check is one `Check`: a GE expectation (validated by GE against the loaded DuckDB table,
computed in DuckDB by SQL) and the same condition as two SQL predicates (`checked`, `failed`),
which the runner uses for the per-township figures in one GROUP BY per table instead of one GE
validation per township. Both come from the same declaration, so they cannot drift apart;
a test holds the GE totals equal to the sums of the SQL figures.

S01 (required columns), S09 (freshness) and S10 (duplicates) describe the extract, not its rows:
the runner derives them from `input_files` and one aggregate query (checks/source_checks.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sources.spec import Spec, spec_for_table


def id_valid_sql(col: str) -> str:
    """GB 11643 validity as a DuckDB predicate: the `id_valid` macro of sql/models/00_macros.sql,
    the same definition L10 uses (run_source_checks creates the macros first)."""
    return f"id_valid({col})"


def _sql_list(values: list[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


@dataclass(frozen=True)
class Check:
    """One declared check of a table: its S code, a stable key, and how GE and SQL evaluate it.

    kind: in_set (column, values) / between (column, min, max) / pair_ge (columns A >= B) /
    rows (any SQL condition, validated by GE as an UnexpectedRowsExpectation).
    `checked` and `failed` are SQL predicates over one row of the table; failed implies checked.
    """

    code: str
    key: str
    description: str
    kind: str
    checked: str
    failed: str
    column: str | None = None
    columns: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    min_value: object = None
    max_value: object = None

    def expectation(self):
        """The GE expectation of this check, tagged with its code and key to map results back."""
        import great_expectations.expectations as gxe

        meta = {"code": self.code, "key": self.key}
        notes = f"{self.code} {self.description}"
        if self.kind == "in_set":
            return gxe.ExpectColumnValuesToBeInSet(column=self.column, value_set=list(self.values),
                                                   meta=meta, notes=notes)
        if self.kind == "between":
            return gxe.ExpectColumnValuesToBeBetween(column=self.column, min_value=self.min_value,
                                                     max_value=self.max_value, meta=meta, notes=notes)
        if self.kind == "pair_ge":
            a, b = self.columns
            return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=a, column_B=b, or_equal=True, ignore_row_if="either_value_is_missing",
                meta=meta, notes=notes)
        if self.kind == "rows":
            # GE formats {batch} into the query with str.format: literal braces are doubled.
            cond = f"({self.checked}) AND ({self.failed})".replace("{", "{{").replace("}", "}}")
            # Only the row number is selected: no personal data reaches GE's results or Data Docs.
            return gxe.UnexpectedRowsExpectation(
                unexpected_rows_query=f"SELECT source_row FROM {{batch}} WHERE {cond}",
                description=f"{self.code} {self.description}", meta=meta, notes=notes)
        raise ValueError(f"unknown check kind {self.kind}")


@dataclass(frozen=True)
class SourceSuite:
    table: str
    title: str
    folder: str
    id_column: str | None
    required: tuple[str, ...]
    township_headers: tuple[str, ...]
    checks: tuple[Check, ...]
    freshness: tuple[str, ...] = ()
    freshness_year: str | None = None
    date_columns: tuple[str, ...] = field(default_factory=tuple)

    def gx_suite(self):
        import great_expectations as gx

        suite = gx.ExpectationSuite(name=self.table)
        for check in self.checks:
            suite.add_expectation(check.expectation())
        return suite


def spec(table: str) -> Spec:
    """The table's spec as the reader loads it, so the checks judge what the ingest declared."""
    return spec_for_table(table)


def build_suite(table: str, as_of: date, extra_headers: dict[str, list[str]] | None = None) -> SourceSuite:
    """The declared checks of one table for a run's as-of date."""
    sp = spec(table)
    cols = sp.columns
    future_ok = set(sp.future_ok)
    checks: list[Check] = []
    id_col = next((c.name for c in cols if c.type == "id"), None)
    if id_col:
        checks.append(Check(
            "S02", f"id_valid:{id_col}", "身份证号规范化后有效（18位、出生日期、校验码）", "rows",
            checked=f"{id_col} IS NOT NULL", failed=f"NOT coalesce({id_valid_sql(id_col)}, false)"))
    dates = [c.name for c in cols if c.type == "date"]
    for col in dates:
        if col in future_ok:
            continue
        checks.append(Check(
            "S03", f"date_not_after_as_of:{col}", f"{col} 不晚于基准日", "between",
            checked=f"{col} IS NOT NULL", failed=f"{col} > DATE '{as_of.isoformat()}'",
            column=col, max_value=as_of))
    for c in cols:
        values = list(c.values) if c.type in ("enum", "list") else (["是", "否"] if c.type == "yesno" else None)
        if values and c.type != "list":
            checks.append(Check(
                "S04", f"known_values:{c.name}", f"{c.name} 取值在字典内", "in_set",
                checked=f"{c.name} IS NOT NULL", failed=f"{c.name} NOT IN ({_sql_list(values)})",
                column=c.name, values=tuple(values)))
    for c in cols:
        if c.type == "money" and not c.signed:
            checks.append(Check(
                "S05", f"money_not_negative:{c.name}", f"{c.name} 不为负", "between",
                checked=f"{c.name} IS NOT NULL", failed=f"{c.name} < 0",
                column=c.name, min_value=0))
    for x in sp.checks:
        if "pair" in x:
            a, b = x["pair"]
            checks.append(Check(
                x["code"], x["key"], x["description"], "pair_ge",
                checked=f"{a} IS NOT NULL AND {b} IS NOT NULL", failed=f"{a} < {b}", columns=(a, b)))
        else:
            checks.append(Check(x["code"], x["key"], x["description"], "rows",
                                checked=x["checked"], failed=f"coalesce({x['failed']}, false)"))
    if sp.placed:
        checks.append(Check(
            "S08", "township_resolves", "乡镇能对应到本县乡镇名单", "rows",
            checked="township_raw IS NOT NULL", failed="township IS NULL"))
    township_col = next((c for c in cols if c.type == "township"), None)
    headers = list(township_col.headers) if township_col else []
    headers += (extra_headers or {}).get("township", [])
    return SourceSuite(
        table=table, title=sp.title, folder=sp.folder, id_column=id_col,
        required=tuple(c.name for c in sp.required),
        township_headers=tuple(headers), checks=tuple(checks),
        freshness=sp.freshness, freshness_year=sp.freshness_year,
        date_columns=tuple(dates),
    )
