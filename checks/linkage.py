"""Record linkage (outputs.md "Record linkage", issue 15): department rows rejected for their ID
(empty, or destroyed by Excel) linked to the roster member they most likely are.

Runs between ingest and the rules. Candidates are the `rejects` rows of department tables; their
raw JSON (header as written -> cell text) is mapped back to canonical columns with the table's
spec. What a row still holds is compared with every roster member of its county:
- name, normalised (no spaces) and in simplified characters (zhconv), so 張國強 agrees with 张国强
  on a level of its own;
- the ID's surviving digits: 6.20422E+17 keeps 6 (the area code, no information within a county),
  a number cell ("…000") keeps 15 (area, birth date and one sequence digit);
- gender when the surviving digits hold it; township (resolved to the roster's spelling); village.

First a deterministic rule where it is exact (name + the 15 digits + township, one member only),
then Splink (Fellegi–Sunter on DuckDB, in its own in-memory database, no extension installed):
u-probabilities from random pairs, m by EM on blocked pairs, trained on the county's own
department records with a valid ID against its roster members (their IDs cut to 15 digits, like
a number cell), the model saved as OUT/.work/<run_id>.linkage/model.json.

Every candidate pair at or above `[linkage] review` is written to `record_links`. A row is
`accepted` when its best member reaches `[linkage] accept` and no other member reaches review
(two 王秀英 in one village stay for the township to confirm). Nothing is written into a
normalised table: the screening stage reads accepted rows through `shadow_department_tables`,
a temp table per department table for its own cursor only.
"""

from __future__ import annotations

import json
import logging
import re
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl

from core.context import RunContext
from sources.spec import department_specs, header_key, spec_for_table

log = logging.getLogger(__name__)
# Splink's own warnings (levels it could not train on a small county) are English lines for a
# model-builder, not for the county officer's terminal; its errors still show.
logging.getLogger("splink").setLevel(logging.ERROR)

# Which reasons of ingest (sources.normalise.id_problem) mean "the ID is lost": every department
# reject is for its ID, but the check keeps other kinds of rejects (none today) out.
ID_REASONS = ("为空", "无法恢复", "无效")
TRAINING_ROWS = 20000  # department rows with a valid ID used to train the model (sampled)
U_PAIRS = 3e5  # random pairs for the u-probabilities: plenty for a county's few comparison levels,
# and 2 million cost a 30,000-household county 6 s (tests/test_linkage.py holds the targets)
SEED = 15

AGREED_LABELS = {  # comparison -> (level label -> plain Chinese)
    "name": {"exact": "姓名", "typo": "姓名（一字之差）"},  # 姓名（繁简转换后）: predict tells them apart
    "id_prefix": {"id15": "出生日期、证件号码前15位", "birth": "出生日期"},
    "gender": {"exact": "性别"},
    "township": {"exact": "乡镇"},
    "village": {"exact": "村"},
}


# ---------------------------------------------------------------- features


def simplified(name: str | None) -> str | None:
    """A name without spaces, NFKC, in simplified characters (張國強 -> 张国强)."""
    if not name:
        return None
    import zhconv

    s = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(name)))
    return zhconv.convert(s, "zh-hans") or None


def surviving_digits(raw: str | None) -> str | None:
    """The digits of a lost ID that can still be trusted, from the left.

    6.20422E+17 -> 620422 (the mantissa); 620422198001011000 (a number cell) -> the first 15;
    another 18-character value whose check digit fails -> the first 14 (area and birth date);
    empty or anything else -> None.
    """
    if raw is None:
        return None
    s = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(raw))).lstrip("'")
    if not s:
        return None
    m = re.fullmatch(r"(\d)(?:\.(\d+))?[Ee]\+?(\d+)", s)
    if m:
        return (m.group(1) + (m.group(2) or "")).rstrip("0") or None
    if re.fullmatch(r"\d{15}000", s) or re.fullmatch(r"\d{18}(\.0+)?", s):
        return s[:15]
    if re.fullmatch(r"\d{17}[\dXx]", s):
        return s[:14]
    return None


def _id_features(prefix: pl.Expr) -> dict[str, pl.Expr]:
    """id15 / birth / gender from the surviving digits (None where they do not reach)."""
    n = prefix.str.len_chars()
    birth = prefix.str.slice(6, 8)
    birth_ok = birth.str.strptime(pl.Date, "%Y%m%d", strict=False).is_not_null()
    return {
        "id15": pl.when(n >= 15).then(prefix.str.slice(0, 15)),
        "birth": pl.when((n >= 14) & birth_ok).then(birth),
        "gender": pl.when(n >= 17).then(
            pl.when(prefix.str.slice(16, 1).cast(pl.Int32, strict=False) % 2 == 1).then(pl.lit("男"))
            .otherwise(pl.lit("女"))),
    }


def _resolver(con, run_id: str) -> dict[tuple[str, str], str]:
    """(county, spelling or stem) -> the roster's township spelling, for the candidates' townships.

    Exact name or the stem without 镇/乡/街道/人民政府/办事处 when the stem names one township.
    """
    rows = con.execute("SELECT DISTINCT county, township FROM households WHERE township IS NOT NULL").fetchall()
    out: dict[tuple[str, str], str] = {}
    stems: dict[tuple[str, str], set[str]] = {}
    for county, t in rows:
        out[(county, t)] = t
        stems.setdefault((county, _stem(t)), set()).add(t)
    for key, names in stems.items():
        if len(names) == 1:
            out.setdefault(key, next(iter(names)))
    return out


def _stem(t: str) -> str:
    return re.sub(r"(人民政府|政府|办事处|办|街道|镇|乡)+$", "", t)


def person_columns(spec) -> tuple[str | None, str | None]:
    """The spec's person ID column and name column (id_number / name, owner_id_number / owner_name …)."""
    ident = next((c.name for c in spec.columns if c.type == "id"), None)
    name = next((c.name for c in spec.columns if c.type == "name"), None)
    return ident, name


def _clean(v) -> str | None:
    if v is None:
        return None
    s = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(v)))
    return s or None


def candidates(ctx: RunContext, con) -> pl.DataFrame:
    """Rejected department rows whose ID is lost, with what they still hold (one row each)."""
    tables = [s.table for s in department_specs()]
    rows = con.execute(
        "SELECT source_table, file, sheet, row_number, reason, raw::VARCHAR FROM rejects"
        " WHERE run_id = ? AND source_table IN (SELECT unnest(?::VARCHAR[]))"
        " ORDER BY source_table, file, sheet, row_number",
        [ctx.run_id, tables],
    ).fetchall()
    resolve = _resolver(con, ctx.run_id)
    out = []
    lookups: dict[str, dict[str, str]] = {}
    cols: dict[str, tuple[str | None, str | None]] = {}
    for table, file, sheet, row_number, reason, raw in rows:
        if not any(r in (reason or "") for r in ID_REASONS):
            continue
        if table not in lookups:
            from sources.ingest import aliases_for

            spec = spec_for_table(table)
            lookups[table] = spec.header_lookup(aliases_for(spec, ctx.config.headers))
            cols[table] = person_columns(spec)
        values: dict[str, str | None] = {}
        for header, value in json.loads(raw or "{}").items():
            col = lookups[table].get(header_key(re.sub(r"_\d+$", "", header))) or lookups[table].get(header_key(header))
            if col and values.get(col) is None:
                values[col] = value
        county = _clean(values.get("county")) or ctx.config.county
        town_raw = _clean(values.get("township"))
        township = None
        if town_raw:
            township = resolve.get((county, town_raw)) or resolve.get((county, _stem(town_raw)))
        out.append({
            "source_table": table, "file": file, "sheet": sheet, "row_number": row_number,
            "raw": raw, "county": county, "township": township, "village": _clean(values.get("village")),
            "name": _clean(values.get(cols[table][1])), "prefix": surviving_digits(values.get(cols[table][0])),
        })
    schema = {"source_table": pl.String, "file": pl.String, "sheet": pl.String, "row_number": pl.Int32,
              "raw": pl.String, "county": pl.String, "township": pl.String, "village": pl.String,
              "name": pl.String, "prefix": pl.String}
    df = pl.DataFrame(out, schema=schema, orient="row")
    return _features(df.with_columns(unique_id=pl.format("c{}", pl.int_range(pl.len()))))


def _features(df: pl.DataFrame) -> pl.DataFrame:
    """name_s / surname / id15 / birth / gender beside county, township, village."""
    if "name_s" not in df.columns:  # roster() brings its members' simplified names along
        names = df.get_column("name").drop_nulls().unique().to_list()  # a province repeats its names
        df = df.with_columns(name_s=pl.col("name").replace_strict(
            names, [simplified(n) for n in names], default=None, return_dtype=pl.String))
    extra = _id_features(pl.col("prefix"))
    if "gender" in df.columns:
        extra["gender"] = pl.coalesce(pl.col("gender"), extra["gender"])
    return df.with_columns(surname=pl.col("name_s").str.slice(0, 1), **extra)


ROSTER_SQL = """
    SELECT id_number, min(household_id) AS household_id, any_value(name) AS name,
           any_value(gender) AS gender, any_value(county) AS county,
           any_value(township) AS township, any_value(village) AS village
    FROM active_members WHERE id_number IS NOT NULL AND name IS NOT NULL
    GROUP BY id_number
"""


def roster(con, cand: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(active roster members, one row per ID, with their household and features; how often each
    simplified name is among all of them).

    Only the members Splink can need: those of the training county and those a blocking rule
    can pair with some candidate (`near`), chosen inside DuckDB, so a province's 4.5 million
    members never reach Python; the name counts are still everyone's.
    """
    names = con.execute(f"SELECT name, count(*) AS len FROM ({ROSTER_SQL}) GROUP BY name ORDER BY name").pl()
    names = names.with_columns(name_s=pl.Series([simplified(n) for n in names["name"]], dtype=pl.String))
    names = names.with_columns(surname=pl.col("name_s").str.slice(0, 1))
    counts = names.drop_nulls("name_s").group_by("name_s").agg(pl.col("len").sum()).sort("name_s")
    counties = pl.DataFrame(con.execute(f"SELECT DISTINCT county FROM ({ROSTER_SQL})").fetchall(),
                            schema={"county": pl.String}, orient="row")
    keys = {f"_near_{i}": cand.drop_nulls(list(block)).select(block).unique()
            for i, block in enumerate(PREDICTION_BLOCKS)}
    keys |= {"_near_county": pl.DataFrame({"county": [training_county(cand, counties)]}, schema={"county": pl.String}),
             "_names": names.select("name", "name_s", "surname")}
    for name, frame in keys.items():
        con.register(name, frame)
    reached = " OR ".join(f"({', '.join(block)}) IN (SELECT ({', '.join(block)}) FROM _near_{i})"
                          for i, block in enumerate(PREDICTION_BLOCKS))
    df = con.execute(f"""
        SELECT * EXCLUDE (birth) FROM (
            SELECT r.*, n.name_s, n.surname, substr(r.id_number, 7, 8) AS birth
            FROM ({ROSTER_SQL}) AS r LEFT JOIN _names AS n USING (name))
        WHERE county IN (SELECT county FROM _near_county) OR {reached}
        ORDER BY id_number
    """).pl()
    for name in keys:
        con.unregister(name)
    df = df.with_columns(prefix=pl.col("id_number").str.slice(0, 15), unique_id=pl.format("r{}", pl.col("id_number")))
    df = _features(df).with_columns(gender=pl.coalesce(pl.col("gender"), _id_features(pl.col("id_number"))["gender"]))
    return df, counts


def training_rows(con, county: str, default_county: str | None, limit: int = TRAINING_ROWS) -> pl.DataFrame:
    """Department rows of `county` with a valid ID (a sample), their ID cut to 15 digits like a
    number cell. A row without a county is the run's own county's (as for the candidates)."""
    parts = []
    for spec in department_specs():
        cols = {c.name for c in spec.columns}
        ident, name = person_columns(spec)
        if not ident or not name:
            continue
        town = "township" if "township" in cols else "NULL"
        village = "village" if "village" in cols else "NULL"
        where = f"coalesce({'county' if 'county' in cols else 'NULL'}::VARCHAR, $default) = $county"
        parts.append(f"SELECT {name} AS name, {ident} AS id_number, $county AS county,"
                     f" {town}::VARCHAR AS township, {village}::VARCHAR AS village"
                     f" FROM {spec.table} WHERE {ident} IS NOT NULL AND {name} IS NOT NULL AND {where}")
    if not parts:
        return pl.DataFrame()
    # a sample that depends on the rows only, not on their order in the tables (a reservoir sample
    # does: a province's tables are filled in another order when its folders are read on Dask
    # workers, and a different sample gave a different model and different L27 rows)
    df = con.execute(
        f"SELECT * FROM (SELECT DISTINCT * FROM ({' UNION ALL '.join(parts)}))"
        f" ORDER BY hash(name, id_number, county, township, village, {SEED}), name, id_number, township, village"
        f" LIMIT {int(limit)}", {"county": county, "default": default_county}
    ).pl()
    df = df.sort("id_number", "name", "township", "village", nulls_last=True).with_columns(
        prefix=pl.col("id_number").str.slice(0, 15), unique_id=pl.format("t{}", pl.int_range(pl.len())))
    return _features(df)


# ---------------------------------------------------------------- the model

# Which pairs are scored: the same county and name, village and surname, or birth date. Splink's
# prediction blocking, `near` and the roster's filter (`roster`) all read this one list.
PREDICTION_BLOCKS = (("county", "name_s"), ("county", "village", "surname"), ("county", "birth"))
FEATURES = ["unique_id", "county", "name", "name_s", "surname", "id15", "birth", "gender", "township", "village"]


def settings(prior: float | None = None):
    """The Splink model: five comparisons, blocking within the county; `prior`: the probability
    that two records of one county are one person (computed by `prior_within_county`)."""
    import splink.comparison_level_library as cll
    from splink import SettingsCreator, block_on
    from splink import comparison_library as cl

    name = cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name_s"),
            # one level for a name written alike once simplified: a level of its own for 張/张 is
            # never trained (a county's records with a valid ID are rarely in traditional
            # characters), and EM left it too weak to link a traditionally written name at all
            cll.ExactMatchLevel("name_s").configure(label_for_charts="exact", tf_adjustment_column="name_s"),
            cll.And(cll.LevenshteinLevel("name_s", 1),
                    cll.CustomLevel("length(name_s_l) = length(name_s_r) AND length(name_s_l) >= 2"),
                    ).configure(label_for_charts="typo"),
            cll.ElseLevel(),
        ],
    )
    id_prefix = cl.CustomComparison(
        output_column_name="id_prefix",
        comparison_levels=[
            cll.NullLevel("birth"),
            cll.ExactMatchLevel("id15").configure(label_for_charts="id15"),
            cll.ExactMatchLevel("birth").configure(label_for_charts="birth"),
            cll.ElseLevel(),
        ],
    )

    def exact(col):
        return cl.CustomComparison(
            output_column_name=col,
            comparison_levels=[cll.NullLevel(col), cll.ExactMatchLevel(col).configure(label_for_charts="exact"),
                               cll.ElseLevel()],
        )

    return SettingsCreator(
        link_type="link_only",
        **({"probability_two_random_records_match": prior} if prior else {}),
        unique_id_column_name="unique_id",
        comparisons=[name, id_prefix, exact("gender"), exact("township"), exact("village")],
        blocking_rules_to_generate_predictions=[block_on(*keys) for keys in PREDICTION_BLOCKS],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=True,
    )


SPLINK_MEMORY = "1GB"  # Splink's own database, beside the run's (a province's linkage stays small)


def _splink_db():
    """An in-memory DuckDB for Splink that may not install or load any extension (offline)."""
    con = duckdb.connect(config={"memory_limit": SPLINK_MEMORY, "threads": 2})
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    return con


def prior_within_county(left: pl.DataFrame, right: pl.DataFrame, recall: float = 0.9) -> float:
    """The chance that a department row and a roster member of one county are one person.

    As Splink's estimate from the rule county + name + birth date (assumed to find `recall` of
    the true pairs), but over the pairs within each county: across a province, pairs of two
    counties are never compared (every blocking rule keeps to the county), so counting them
    would make the prior a hundred times too small and a province link less than a county's.
    """
    keys = ["county", "name_s", "birth"]
    hits = left.drop_nulls(keys).join(right.drop_nulls(keys).select(keys), on=keys).height
    pairs = left.group_by("county").len().join(right.group_by("county").len(), on="county").select(
        (pl.col("len") * pl.col("len_right")).sum()).item() or 0
    return min(max(hits / recall / pairs, 1e-9), 0.5) if pairs else 1e-6


def train(left: pl.DataFrame, right: pl.DataFrame, model_path: Path, prior: float) -> dict:
    """Fit the model on `left` (department rows) against `right` (roster members); save it."""
    from splink import DuckDBAPI, Linker, block_on

    db = DuckDBAPI(_splink_db())
    linker = Linker([db.register(left.select(FEATURES).to_arrow(), table_name="dept"),
                     db.register(right.select(FEATURES).to_arrow(), table_name="roster")],
                    settings(prior), log_level=logging.ERROR)
    linker.training.estimate_u_using_random_sampling(max_pairs=U_PAIRS, seed=SEED)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("county", "birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("county", "name_s", "township"))
    model_path.parent.mkdir(parents=True, exist_ok=True)
    return linker.misc.save_model_to_json(str(model_path), overwrite=True)


def near(members: pl.DataFrame, cand: pl.DataFrame) -> pl.DataFrame:
    """The members a prediction blocking rule can pair with some candidate (same county and name,
    village and surname, or birth date): the same pairs as with every member, a province's
    millions of members cut to thousands."""
    keep = pl.lit(False)
    for keys in map(list, PREDICTION_BLOCKS):
        keep = keep | pl.struct(keys).is_in(cand.drop_nulls(keys).select(pl.struct(keys)).to_series().implode())
    return members.filter(keep)


def name_counts(frame: pl.DataFrame) -> pl.DataFrame:
    """How often each simplified name occurs (name_s, len)."""
    return frame.drop_nulls("name_s").group_by("name_s").len()


def term_frequencies(cand: pl.DataFrame, members: pl.DataFrame) -> pl.DataFrame:
    """name_s -> its share among the names of the candidates and every member (`members`: their
    name_counts), as Splink would count it over all the members, not only those `near`."""
    both = pl.concat([members.select("name_s", pl.col("len").cast(pl.UInt32)), name_counts(cand)])
    both = both.group_by("name_s").agg(pl.col("len").sum())
    return both.select("name_s", (pl.col("len") / both["len"].sum()).alias("tf_name_s"))


def predict(left: pl.DataFrame, right: pl.DataFrame, model: dict, threshold: float,
            tf: pl.DataFrame | None = None) -> pl.DataFrame:
    """Scored pairs (left uid, right uid, probability, agreed) at or above `threshold`."""
    from splink import DuckDBAPI, Linker

    db = DuckDBAPI(_splink_db())
    linker = Linker([db.register(left.select(FEATURES).to_arrow(), table_name="cand"),
                     db.register(right.select(FEATURES).to_arrow(), table_name="roster")],
                    model, log_level=logging.ERROR)
    if tf is not None:
        linker.table_management.register_term_frequency_lookup(
            db.register(tf.to_arrow(), table_name="tf_name_s"), "name_s")
    pairs = linker.inference.predict(threshold_match_probability=threshold).as_duckdbpyrelation().pl()
    if not pairs.height:
        return pl.DataFrame(schema={"unique_id": pl.String, "member_uid": pl.String,
                                    "match_probability": pl.Float64, "agreed": pl.String})
    # which side is the candidate: Splink orders the pair by source dataset name
    left_is_cand = pairs["unique_id_l"].str.starts_with("c").all()
    cs, ms = ("_l", "_r") if left_is_cand else ("_r", "_l")
    gamma = {c: _level_labels(model, c) for c in AGREED_LABELS}
    agreed = pl.concat_str(
        [pl.col(f"gamma_{c}").replace_strict(gamma[c], default=None, return_dtype=pl.String)
         for c in AGREED_LABELS if f"gamma_{c}" in pairs.columns],
        separator="、", ignore_nulls=True)
    scored = pairs.select(
        pl.col(f"unique_id{cs}").alias("unique_id"), pl.col(f"unique_id{ms}").alias("member_uid"),
        # six decimals: the last digits of Splink's sums follow DuckDB's thread order, and a link
        # must read the same whichever machine or process scored it
        pl.col("match_probability").cast(pl.Float64).round(6), agreed.alias("agreed"))
    written = scored.join(left.select("unique_id", "name"), on="unique_id", how="left").join(
        right.select(pl.col("unique_id").alias("member_uid"), pl.col("name").alias("member_name")),
        on="member_uid", how="left")
    return written.with_columns(agreed=pl.when(
        pl.col("agreed").str.starts_with("姓名、") | (pl.col("agreed") == "姓名"),
        pl.col("name") != pl.col("member_name"),
    ).then(pl.col("agreed").str.replace("姓名", "姓名（繁简转换后）", literal=True)).otherwise("agreed")).select(
        scored.columns)


def _level_labels(model: dict, comparison: str) -> dict[int, str]:
    """gamma value -> plain Chinese for the levels that mean "agreed" (from the saved model)."""
    for comp in model["comparisons"]:
        if comp["output_column_name"] == comparison:
            levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
            n = len(levels)
            return {n - 1 - i: AGREED_LABELS[comparison][lv["label_for_charts"]]
                    for i, lv in enumerate(levels) if lv.get("label_for_charts") in AGREED_LABELS[comparison]}
    return {}


# ---------------------------------------------------------------- the stage

LINKS_DDL_COLUMNS = ("source_table", "file", "sheet", "row_number", "id_number", "household_id",
                     "match_probability", "agreed", "method", "accepted")


def deterministic(cand: pl.DataFrame, members: pl.DataFrame) -> pl.DataFrame:
    """Name (simplified) + the 15 surviving digits + township, when exactly one member has them."""
    keys = ["county", "township", "name_s", "id15"]
    hits = cand.drop_nulls(keys).join(members.drop_nulls(keys).select(*keys, "unique_id"),
                                      on=keys, suffix="_m")
    hits = hits.filter(pl.len().over("unique_id") == 1)
    return hits.select("unique_id", pl.col("unique_id_m").alias("member_uid"),
                       pl.lit(1.0).alias("match_probability"),
                       pl.lit("姓名、出生日期、证件号码前15位、乡镇").alias("agreed"))


def training_county(cand: pl.DataFrame, members: pl.DataFrame) -> str | None:
    """The county the model is trained on: the one with the most candidates among those with
    members. A county's model serves the province: the comparisons' m and u are properties of
    how records are kept and how names and villages repeat, alike from county to county, and
    training on one county keeps a province's linkage as quick and small as a county's."""
    has = members.get_column("county").unique().implode()
    top = (cand.filter(pl.col("county").is_in(has)).group_by("county").len()
           .sort(["len", "county"], descending=[True, False]).head(1))
    return top.item(0, "county") if top.height else None


def link(cand: pl.DataFrame, members: pl.DataFrame, training: Callable[[str], pl.DataFrame], review: float,
         accept: float, model_path: Path, names: pl.DataFrame | None = None) -> tuple[pl.DataFrame, dict]:
    """All candidate pairs at or above review, with `method` and `accepted`; and timings.

    `training`: the training county -> its department rows with a valid ID to train on;
    `names`: every member's name_counts when `members` holds only those the candidates can
    reach (roster)."""
    seconds: dict[str, float] = {}
    det = deterministic(cand, members).with_columns(method=pl.lit("deterministic"))
    rest = cand.filter(~pl.col("unique_id").is_in(det["unique_id"].implode()))
    prob = pl.DataFrame(schema={**det.schema})
    county = training_county(cand, members) if rest.height and members.height else None
    if county is not None:
        t0 = time.perf_counter()
        train_left = training(county)
        mine = rest.filter(pl.col("county") == county)
        left = pl.concat([train_left.select(FEATURES), mine.select(FEATURES)]) if train_left.height else mine
        right = members.filter(pl.col("county") == county)
        model = train(left.select(FEATURES), right, model_path, prior_within_county(left, right))
        seconds["train"] = round(time.perf_counter() - t0, 3)
        t0 = time.perf_counter()
        tf = term_frequencies(rest, name_counts(members) if names is None else names)
        prob = predict(rest, near(members, rest), model, review, tf).with_columns(method=pl.lit("splink"))
        seconds["predict"] = round(time.perf_counter() - t0, 3)
    pairs = pl.concat([det, prob.select(det.columns)]).filter(pl.col("match_probability") >= review)
    pairs = pairs.with_columns(
        accepted=(pl.col("match_probability") >= accept) & (pl.len().over("unique_id") == 1))
    return pairs, seconds


def run_linkage(ctx: RunContext) -> dict[str, int]:
    """Write this run's `record_links`; counts of candidates, accepted and review rows."""
    cfg = ctx.config.linkage
    con = ctx.cursor()
    try:
        con.execute("DELETE FROM record_links WHERE run_id = ?", [ctx.run_id])
        if not cfg["enabled"]:
            ctx.notes["linkage"] = {"ran": False, "reason": "配置 [linkage] 已关闭记录关联"}
            return {}
        from checks.sql import create_models, set_parameters

        set_parameters(con, ctx.config, ctx.as_of, ctx.run_id)
        create_models(con)
        t0 = time.perf_counter()
        cand = candidates(ctx, con)
        members, names = roster(con, cand)
        seconds = {"candidates": round(time.perf_counter() - t0, 3)}
        counts = {"candidates": cand.height, "accepted": 0, "review": 0}
        if cand.height and members.height:
            model_path = Path(ctx.out) / ".work" / f"{ctx.run_id}.linkage" / "model.json"
            pairs, s = link(cand, members, lambda county: training_rows(con, county, ctx.config.county),
                            cfg["review"], cfg["accept"], model_path, names)
            seconds |= s
            rows = pairs.join(cand.select("unique_id", "source_table", "file", "sheet", "row_number"),
                              on="unique_id").join(
                members.select(pl.col("unique_id").alias("member_uid"), "id_number", "household_id"),
                on="member_uid")
            rows = rows.select(pl.lit(ctx.run_id).alias("run_id"), *LINKS_DDL_COLUMNS).sort(
                "source_table", "file", "sheet", "row_number", "match_probability", descending=[
                    False, False, False, False, True], nulls_last=True)
            con.register("_links_frame", rows)
            con.execute("INSERT INTO record_links BY NAME SELECT * FROM _links_frame")
            con.unregister("_links_frame")
            counts["accepted"] = rows.filter("accepted").height
            counts["review"] = rows.filter(~pl.col("accepted")).height
        ctx.notes["linkage"] = {"ran": True, **counts, "seconds": seconds}
        return counts
    finally:
        con.close()


# ---------------------------------------------------------------- screening reads accepted links


def link_note(method: str, agreed: str | None, p: float) -> str:
    """How a row was matched, for a warning's evidence: 按姓名、出生日期、村匹配（概率 0.997）."""
    how = agreed or "姓名"
    return f"按{how}匹配（概率 {min(p, 0.999) if method != 'deterministic' else 1:.3f}）"


def linked_rows(con, ctx: RunContext, table: str) -> pl.DataFrame | None:
    """The accepted rejected rows of `table`, re-normalised from their raw values with the linked ID."""
    from sources.ingest import Match, aliases_for, normalise_sheet

    got = con.execute(
        "SELECT l.file, l.sheet, l.row_number, l.id_number, r.raw::VARCHAR"
        " FROM record_links AS l JOIN rejects AS r"
        "   ON r.run_id = l.run_id AND r.source_table = l.source_table AND r.file = l.file"
        "  AND r.sheet IS NOT DISTINCT FROM l.sheet AND r.row_number = l.row_number"
        " WHERE l.run_id = ? AND l.source_table = ? AND l.accepted",
        [ctx.run_id, table],
    ).fetchall()
    if not got:
        return None
    spec = spec_for_table(table)
    ranks = spec.header_ranks(aliases_for(spec, ctx.config.headers))
    id_col = person_columns(spec)[0]
    groups: dict[tuple[str, ...], list] = {}  # rows of one file share their headers: one frame each
    for file, sheet, row_number, id_number, raw in got:
        values = json.loads(raw or "{}")
        groups.setdefault(tuple(values), []).append((file, sheet, row_number, id_number, list(values.values())))
    frames = []
    for head, rows in groups.items():
        headers = list(head)
        colmap: dict[str, int] = {}
        best: dict[str, int] = {}
        for j, h in enumerate(headers):
            hit = ranks.get(header_key(h)) or ranks.get(header_key(re.sub(r"_\d+$", "", h)))
            if hit and (hit[0] not in best or hit[1] < best[hit[0]]):
                colmap[hit[0]], best[hit[0]] = j, hit[1]
        if id_col not in colmap:
            headers.append("证件号码")
            colmap[id_col] = len(headers) - 1
        cells = []
        for *_, id_number, vals in rows:
            row = [None if v is None else str(v) for v in vals] + [None] * (len(headers) - len(vals))
            row[colmap[id_col]] = id_number
            cells.append(row)
        body = pl.DataFrame(cells, schema={f"c{j}": pl.String for j in range(len(headers))}, orient="row")
        body = body.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("__row"))  # index into rows
        loaded, _, _ = normalise_sheet(body, Match(spec, 0, colmap, headers), ctx.as_of, ctx.config.county)
        where = pl.DataFrame({"source_row": range(len(rows)), "source_file": [r[0] for r in rows],
                              "source_sheet": [r[1] for r in rows], "row_number": [r[2] for r in rows]},
                             schema={"source_row": pl.Int64, "source_file": pl.String, "source_sheet": pl.String,
                                     "row_number": pl.Int64})
        frames.append(loaded.join(where, on="source_row", how="left")
                      .with_columns(pl.col("row_number").alias("source_row")).drop("row_number"))
    return pl.concat(frames, how="diagonal_relaxed") if frames else None


def shadow_department_tables(con, ctx: RunContext) -> dict[str, int]:
    """For each department table with accepted links: a temp view of the same name (this cursor
    only) reading its normalised rows plus the linked rows, unless a loaded row of the same person
    already says the same (an extract holding the record twice). Returns {table: rows added}.

    A view, not a copy: a province's settlements are millions of rows, its linked rows a few
    thousand, and a copy per table cost the screening stage gigabytes outside DuckDB's limit."""
    if not (ctx.notes.get("linkage") or {}).get("ran"):
        return {}
    tables = [r[0] for r in con.execute(
        "SELECT DISTINCT source_table FROM record_links WHERE run_id = ? AND accepted ORDER BY 1",
        [ctx.run_id]).fetchall()]
    added: dict[str, int] = {}
    # "main.<table>" alone would name the view itself (temp.main comes first)
    db = '"' + con.execute("SELECT current_database()").fetchone()[0].replace('"', '""') + '"'
    for table in tables:
        rows = linked_rows(con, ctx, table)
        if rows is None or not rows.height:
            continue
        cols = [r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = ?"
            " AND database_name = current_database() ORDER BY column_index", [table]).fetchall()]
        keep = [c for c in cols if c not in ("run_id", "source_file", "source_sheet", "source_row", "township")]
        rows = rows.with_columns(pl.lit(ctx.run_id).alias("run_id"))
        drop_shadows(con, [table])
        con.register("_linked_frame", rows.select([c for c in rows.columns if c in cols]))
        # the table's own column types (a DOUBLE amount would change how a rule's record key reads)
        con.execute(f"CREATE TEMP TABLE _linked_{table} AS SELECT * FROM {db}.main.{table} LIMIT 0")
        con.execute(f"INSERT INTO _linked_{table} BY NAME SELECT * FROM _linked_frame")
        con.unregister("_linked_frame")
        if "township" in cols:
            con.execute(f"""UPDATE _linked_{table} AS l SET township = (
                SELECT any_value(township) FROM {db}.main.{table} AS t WHERE t.township_raw = l.township_raw)""")
        same = " AND ".join(f"t.{c} IS NOT DISTINCT FROM l.{c}" for c in keep if c in rows.columns)
        con.execute(f"DELETE FROM _linked_{table} AS l WHERE EXISTS (SELECT 1 FROM {db}.main.{table} AS t WHERE {same})")
        added[table] = con.execute(f"SELECT count(*) FROM _linked_{table}").fetchone()[0]
        con.execute(f"CREATE TEMP VIEW {table} AS SELECT * FROM {db}.main.{table}"
                    f" UNION ALL BY NAME SELECT * FROM _linked_{table}")
    return added


def annotate_hits(con, ctx: RunContext, rules) -> int:
    """Say in a warning's evidence which of its household's records were matched by linkage, and how.

    A hit of a rule reading a department table with accepted links of the same household gets
    "；其中医保结算记录（文件 第N行）证件号码缺失或损坏，按姓名、出生日期、村匹配（概率 0.997）".
    """
    pairs = [(r.code, t) for r in rules for t in (*r.needs, *r.needs_any)]
    if not pairs:
        return 0
    titles = {s.table: s.title for s in department_specs()}
    notes = con.execute(
        "SELECT source_table, household_id, file, sheet, row_number, method, agreed, match_probability"
        " FROM record_links WHERE run_id = ? AND accepted ORDER BY file, sheet, row_number",
        [ctx.run_id]).fetchall()
    rows = [(t, hid, f"{titles.get(t, t)}记录（{f}{'：' + sh if sh else ''} 第{rn}行）证件号码缺失或损坏，"
             + link_note(method, agreed, p)) for t, hid, f, sh, rn, method, agreed, p in notes]
    if not rows:
        return 0
    con.register("_link_notes", pl.DataFrame(rows, schema=["source_table", "household_id", "note"], orient="row"))
    con.register("_rule_tables", pl.DataFrame(pairs, schema=["rule_code", "source_table"], orient="row"))
    n = con.execute("""
        UPDATE screening_hits AS h SET evidence = coalesce(h.evidence, '') || '；其中' || a.notes
        FROM (SELECT rt.rule_code, ln.household_id, string_agg(ln.note, '；' ORDER BY ln.note) AS notes
              FROM _link_notes AS ln JOIN _rule_tables AS rt USING (source_table)
              GROUP BY ALL) AS a
        WHERE a.rule_code = h.rule_code AND a.household_id = h.household_id
    """).fetchone()
    con.unregister("_link_notes")
    con.unregister("_rule_tables")
    return int(n[0]) if n else 0


def drop_shadows(con, tables) -> None:
    for table in tables:
        con.execute(f"DROP VIEW IF EXISTS temp.main.{table}")
        con.execute(f"DROP TABLE IF EXISTS temp.main._linked_{table}")
