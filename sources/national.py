"""Reshape the national person-level export (监测对象信息) into households, members, measures.

The rows come in already normalised by the same engine as every other table
(spec national_roster.toml); this module only regroups them, as inputs.md says:
- a household's columns come from its 户主 row, or from its first row (file order)
  when it has no single 户主;
- head_name / head_id_number, when the export has no such column, are the 户主 row's
  姓名 / 证件号码; when it has one, an empty cell stays empty (L13 reports it);
- guarantees come from the "problem" columns with the polarity inverted: 否 when any
  of the household's rows says so, 是 when some row has a value, else null;
- risk types are 致贫/返贫风险1…5 of the household row, empty cells skipped (and
  the items of a 致贫返贫风险类型 column, when the export has one, if 1…5 are empty);
- each non-empty measure column of the household row is one measure of that kind,
  its text the description, no dates or amount;
- every row is a member; an empty 在校生状况 is 非在校生 (spec `empty`).
"""

from __future__ import annotations

import polars as pl

from sources.spec import Spec

SOURCE = ["run_id", "source_file", "source_sheet", "source_row"]


def reshape_national(rows: pl.DataFrame, spec: Spec, present: set[str]) -> dict[str, pl.DataFrame]:
    parts = {c.name: c.get("part") for c in spec.columns}
    hh = pl.col("household_id")
    order = pl.int_range(pl.len()).over(hh)
    is_head = pl.col("relation") == "户主"
    n_heads = is_head.cast(pl.Int32).sum().over(hh)
    chosen = pl.when(n_heads == 1).then(is_head).otherwise(order == 0)

    guarantees = {}
    for c in spec.columns:
        if parts[c.name] != "guarantee":
            continue
        target = c.get("guarantee")
        if c.name not in present:
            guarantees[target] = pl.lit(None, dtype=pl.String)
            continue
        deny = (pl.col(c.name) == c.get("deny_when")).any().over(hh)
        known = pl.col(c.name).is_not_null().any().over(hh)
        guarantees[target] = pl.when(deny).then(pl.lit("否")).when(known).then(pl.lit("是"))

    risk_cols = [c.name for c in spec.columns if parts[c.name] == "risk" and c.name in present]
    if risk_cols:
        items = pl.concat_list([pl.col(r) for r in risk_cols]).list.drop_nulls()
        risks = pl.when(items.list.len() > 0).then(items).otherwise(pl.col("risk_types"))
    else:
        risks = pl.col("risk_types")

    df = rows.with_columns(
        __chosen=chosen.fill_null(False), __head=is_head.fill_null(False), **guarantees
    ).with_columns(risk_types=risks)
    head = df.filter(pl.col("__chosen"))

    hh_cols = [c.name for c in spec.columns if parts[c.name] == "households"]

    def from_head(col: str, member_col: str) -> pl.Expr:
        """The export's own column when it has one, empty cells staying empty (an empty 户主证件号码
        is the L13 error the province audits, not a gap to fill); the 户主 row's only without it."""
        if col in present:
            return pl.col(col)
        return pl.when(pl.col("__head")).then(pl.col(member_col)).alias(col)

    households = head.select(
        *[pl.col(c) for c in hh_cols if c not in ("head_name", "head_id_number")],
        from_head("head_name", "name"),
        from_head("head_id_number", "id_number"),
        (pl.col("head_id_number_raw") if "head_id_number" in present
         else pl.when(pl.col("__head")).then(pl.col("id_number_raw"))).alias("head_id_number_raw"),
        *[pl.col(g) for g in guarantees],
        *SOURCE,
    )

    member_cols = [c.name for c in spec.columns if parts[c.name] == "members"]
    members = df.select("household_id", "county", *member_cols, "id_number_raw", *SOURCE)

    measure_cols = {c.name: c.get("measure_type") for c in spec.columns
                    if parts[c.name] == "measure" and c.name in present}
    if measure_cols:
        measures = (
            head.select("household_id", "county", *SOURCE, *measure_cols)
            .unpivot(index=["household_id", "county", *SOURCE], on=list(measure_cols),
                     variable_name="__col", value_name="description")
            .filter(pl.col("description").is_not_null())
            .with_columns(pl.col("__col").replace_strict(measure_cols, return_dtype=pl.String)
                          .alias("measure_type"))
            .drop("__col")
            .sort("source_file", "source_sheet", "source_row", "measure_type", nulls_last=False)
        )
    else:
        measures = pl.DataFrame(schema={"household_id": pl.String})
    return {"households": households, "members": members, "measures": measures}
