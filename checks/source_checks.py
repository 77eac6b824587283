"""S01–S11: the quality of each department's extract, into `source_checks`.

One query per table computes every expectation of its GE suite (checks/expectations/ declares the
suites) in DuckDB — the whole-extract figures of the row checks S02–S08 and, in the same GROUP BY,
the same checks per township; Great Expectations records them as the suites' validation results and
renders the Data Docs (checks/ge_docs.py). S01 (required columns) and S10 (duplicates) come from the
ingest's bookkeeping (`input_files`), S02 adds the rows rejected for their ID (`rejects`), S09
(freshness) is one aggregate query, and S11 (volume) compares the loaded rows with the previous
complete run's (for the roster's households too).

Units (what `checked` counts), chosen so each rate reads naturally in the scorecard:
S01 required columns × files; S02 rows (loaded + rejected for the ID); S03/S04/S05 non-empty cells
of the columns checked (a row with two bad dates counts twice); S06/S07 rows the rule can be
evaluated on; S08 rows with a township written; S09 one extract; S10 rows read.

Per township (township not null): S02–S07; in a province inbox (an extract spanning several
counties) the township is written "县/乡镇", since township names repeat across counties. S08 is whole-extract only — an unresolved township
belongs to no township — and S01, S09, S10 describe files, not townships.

An absent department writes one S01 row with checked 0 and detail 未提供, so the scorecard can
list it as missing, and is recorded with ctx.skip("source", table, reason).
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

from checks.expectations import Check, SourceSuite, build_suite, spec
from checks.sql import create_macros
from core.context import RunContext
from sources.spec import department_tables

log = logging.getLogger(__name__)

PER_TOWNSHIP = {"S02", "S03", "S04", "S05", "S06", "S07"}


def run_source_checks(ctx: RunContext) -> dict:
    """Run S01–S11 on every department table; write `source_checks`; return figures per table and code.

    Every expectation of a table is computed in DuckDB by one query (with its per-township
    figures); Great Expectations gets the counts as its suites' validation results and renders
    the Data Docs (checks/ge_docs.py) — in the run's Data Docs worker when the flow started one
    (ctx.notes["docs_worker"]; the flow waits for it before publishing), else here.
    """
    t0 = time.perf_counter()
    con = ctx.cursor()
    create_macros(con)
    rows: list[tuple] = []
    docs_dir = ctx.reports_dir / "data_docs"
    payload = {"docs_dir": str(docs_dir), "run_id": ctx.run_id, "as_of": ctx.as_of.isoformat(), "tables": {}}
    for table in department_tables():
        files = _files_of(con, ctx.run_id, table)
        if not ctx.table_present(table):
            reason = "未提供" if not files else "文件无法读取"
            ctx.skip("source", table, f"{spec(table).title}：{reason}")
            if files:
                rows.extend(_s01(ctx.run_id, table, files))
            else:
                rows.append((ctx.run_id, table, "S01", None, 0, 0, "未提供"))
            continue
        headers = ctx.config.headers.get(table)
        suite = build_suite(table, ctx.as_of, headers)
        rows.extend(_s01(ctx.run_id, table, files))
        checks, counts = _row_checks(ctx, con, suite)
        rows.extend(checks)
        payload["tables"][table] = {"headers": headers, "counts": counts}
        rows.append(_s09(ctx, con, suite))
        rows.append(_s10(ctx.run_id, table, files))
    rows.extend(_s11(ctx, con, table) for table in [*department_tables(), "households"])
    _insert(con, rows)
    summary: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
    for _run, table, code, township, checked, failed, _detail in rows:
        if township is None:
            summary[table][code] = {"checked": int(checked or 0), "failed": int(failed or 0)}
    docs = None
    if payload["tables"]:
        docs = str(docs_dir / "index.html")
        _render(ctx, payload)
    ctx.notes["source_checks_seconds"] = round(time.perf_counter() - t0, 3)
    return {"tables": dict(summary), "data_docs": docs,
            "expectations": {t: e["counts"] for t, e in payload["tables"].items()}}


COUNTS_FILE = "expectation_counts.json"  # the Data Docs' input, kept beside them (counts only)


def _render(ctx: RunContext, payload: dict) -> None:
    """Data Docs from the counts: in the run's Data Docs worker when the flow started one, else here;
    the counts kept beside them (COUNTS_FILE), for a rerun to render again."""
    worker = ctx.notes.get("docs_worker")
    if worker is not None:
        worker.submit(payload)
    else:
        from checks.ge_docs import render

        render(payload)
    docs_dir = Path(payload["docs_dir"])
    docs_dir.mkdir(parents=True, exist_ok=True)
    (docs_dir / COUNTS_FILE).write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")


def render_data_docs_again(ctx: RunContext, published: Path) -> None:
    """A rerun that took the source checks from the earlier run (pipelines/flow.py reuse_results):
    its Data Docs rendered from the counts that run kept beside its own, under this run's id."""
    path = published / "data_docs" / COUNTS_FILE
    if path.is_file():
        payload = json.loads(path.read_text(encoding="utf-8"))
        payload.update(run_id=ctx.run_id, docs_dir=str(ctx.reports_dir / "data_docs"))
        _render(ctx, payload)


def _insert(con, rows: list[tuple]) -> None:
    """All rows in one statement (DuckDB's executemany costs a round trip per row)."""
    if not rows:
        return
    cols = list(zip(*rows, strict=True))
    con.execute(
        "INSERT INTO source_checks (run_id, source_table, check_code, township, checked, failed, detail)"
        " SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]),"
        " unnest(?::BIGINT[]), unnest(?::BIGINT[]), unnest(?::VARCHAR[])",
        [list(c) for c in cols])


def _files_of(con, run_id: str, table: str) -> list[dict]:
    """The input files (or sheets) of a table: those loaded as it, plus whole files of which nothing loaded
    and whose reason points at this table.

    The ingest names the best-matching table first in an unrecognised file's reason ("学籍[education_students]
    缺少必需列 …"); in a folder that holds only this table, an unreadable file is this table's too. A skipped
    sheet beside a loaded one (a 说明 sheet) is not a failure of anything.
    """
    folder = spec(table).folder
    siblings = [t for t in department_tables() if spec(t).folder == folder]
    cur = con.execute(
        "SELECT file, sheet, status, reason, rows_read, rows_loaded, rows_rejected, duplicates, source_table"
        " FROM input_files AS f WHERE run_id = ? AND (source_table = ? OR (source_table IS NULL AND folder = ?"
        "   AND NOT EXISTS (SELECT 1 FROM input_files AS g WHERE g.run_id = f.run_id AND g.file = f.file"
        "                   AND g.status = 'loaded')))"
        " ORDER BY file, sheet NULLS FIRST",
        [run_id, table, folder])
    names = [d[0] for d in cur.description]
    out = []
    for r in cur.fetchall():
        f = dict(zip(names, r, strict=True))
        if f["source_table"] is None:
            reason = f["reason"] or ""
            named = sorted((reason.find(f"[{t}]"), t) for t in siblings if f"[{t}]" in reason)
            owner = named[0][1] if named else (table if len(siblings) == 1 and f["status"] == "unreadable" else None)
            if owner != table:
                continue
        out.append(f)
    return out


def _s01(run_id: str, table: str, files: list[dict]) -> list[tuple]:
    """Required columns found, per file: a file not loaded misses the required columns its reason names (≥ 1)."""
    required = spec(table).required
    checked = failed = 0
    notes = []
    for f in files:
        checked += len(required)
        if f["status"] == "loaded":
            continue
        reason = f["reason"] or ""
        marker = f"[{table}]缺少必需列"
        part = reason[reason.find(marker) + len(marker):] if marker in reason else ""
        part = part.split("]缺少必需列")[0].split("。文件中的表头")[0]
        missing = [c for c in required if f"{c.headers[0]}（尝试过" in part]
        failed += len(missing) if missing else len(required)
        where = f["file"] + (f"[{f['sheet']}]" if f["sheet"] else "")
        notes.append(f"{where}：{reason}" if reason else where)
    detail = f"{len(files)} 个文件，必填列 {len(required)} 个"
    if notes:
        detail += "；无法读取：" + "；".join(notes)
    return [(run_id, table, "S01", None, checked, failed, detail)]


def _label(table: str, column: str | None) -> str:
    try:
        return spec(table).column(column).headers[0]
    except KeyError:
        return column or ""


def _row_checks(ctx: RunContext, con, suite: SourceSuite) -> tuple[list[tuple], dict[str, list[int]]]:
    """S02–S08 from one query: every expectation of the table counted in DuckDB, whole extract and
    per township (GROUPING SETS); S02/S03/S05 add their rejects and unparsed cells.

    Returns the source_checks rows and, for Great Expectations, {check key: [rows, checked, failed]}
    of the whole extract as the expectation sees the loaded table.
    """
    table = suite.table
    checks = list(suite.checks)
    selects = []
    for i, ch in enumerate(checks):
        selects.append(f"count(*) FILTER (WHERE coalesce({ch.checked}, false)) AS c{i}")
        selects.append(
            f"count(*) FILTER (WHERE coalesce({ch.checked}, false) AND coalesce({ch.failed}, false)) AS f{i}")
    place = _place_sql(con, table)
    sql = (f"SELECT grouping(place) AS g, place, count(*) AS n, {', '.join(selects)}"
           f" FROM (SELECT *, {place} AS place FROM {table})"
           " GROUP BY GROUPING SETS ((place), ())")
    per: dict[str | None, tuple] = {}
    n_rows = 0
    for r in con.execute(sql).fetchall():
        if r[0] == 1:
            per[None], n_rows = r[3:], r[2]
        elif r[1] is not None:
            per[r[1]] = r[3:]
    total = per.get(None) or tuple(0 for _ in range(2 * len(checks)))
    counts = {ch.key: [int(n_rows), int(total[2 * i]), int(total[2 * i + 1])] for i, ch in enumerate(checks)}

    by_code: dict[str, dict[str | None, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    details: dict[str, list[str]] = defaultdict(list)
    for i, ch in enumerate(checks):
        checked, failed = total[2 * i], total[2 * i + 1]
        by_code[ch.code][None][0] += checked
        by_code[ch.code][None][1] += failed
        if failed:
            details[ch.code].append(f"{_check_label(table, ch)} {failed}/{checked}")
        if ch.code in PER_TOWNSHIP:
            for township, vals in per.items():
                if township is not None:
                    by_code[ch.code][township][0] += vals[2 * i]
                    by_code[ch.code][township][1] += vals[2 * i + 1]

    if suite.id_column:
        aliases = list(_id_headers(table)) + list(ctx.config.headers.get(table, {}).get(suite.id_column, []))
        reason_sql = "(" + " OR ".join(f"contains(reason, '{h}')" for h in aliases) + ")"
        _add_rejects(ctx, con, suite, "S02", reason_sql, by_code, details, "因证件号码拒收", place)
    _add_unparsed(ctx, con, suite, by_code, details)

    out = []
    for code in sorted(by_code):
        for township, (checked, failed) in sorted(by_code[code].items(), key=lambda kv: (kv[0] is not None, kv[0] or "")):
            detail = None
            if township is None:
                detail = "；".join(details[code]) if details[code] else "全部合格"
            out.append((ctx.run_id, table, code, township, checked, failed, detail))
    return out, counts


def _id_headers(table: str) -> tuple[str, ...]:
    return tuple(h for c in spec(table).columns if c.type == "id" for h in c.headers)


UNPARSED_MARK = "未能识别的值（按空值入库）："


def unparsed_counts(ctx: RunContext, con, table: str) -> dict[str, int]:
    """Cells of a table the ingest could not parse (loaded as null), per canonical column.

    From ctx.notes["ingest_unparsed"] when this process ingested the table; otherwise (a folder
    copied from the previous run because its files did not change) from the loaded files' reasons in
    input_files, "未能识别的值（按空值入库）：<header> n，…", which the copy keeps.
    """
    noted = (ctx.notes.get("ingest_unparsed") or {}).get(table)
    if noted:
        return {c: int(n) for c, n in noted.items()}
    from sources.spec import header_key

    sp = spec(table)
    lookup = {header_key(c.name): c.name for c in sp.columns}
    lookup.update(sp.header_lookup(ctx.config.headers.get(table, {})))
    out: dict[str, int] = defaultdict(int)
    for (reason,) in con.execute(
        "SELECT reason FROM input_files WHERE run_id = ? AND source_table = ? AND status = 'loaded'"
        " AND contains(reason, ?)", [ctx.run_id, table, UNPARSED_MARK]
    ).fetchall():
        for item in reason.split(UNPARSED_MARK, 1)[1].split("；")[0].split("，"):
            header, _, n = item.strip().rpartition(" ")
            column = lookup.get(header_key(header))
            if column and n.isdigit():
                out[column] += int(n)
    return dict(out)


def _add_unparsed(ctx: RunContext, con, suite: SourceSuite, by_code, details) -> None:
    """Cells the ingest could not parse count against S03 (dates) and S05 (money), whole extract only:
    the ingest counts them per column, not per township."""
    counts = unparsed_counts(ctx, con, suite.table)
    kinds = {c.name: c.type for c in spec(suite.table).columns}
    for column, n in sorted(counts.items()):
        code = {"date": "S03", "money": "S05"}.get(kinds.get(column, ""))
        if code and n:
            by_code[code][None][0] += int(n)
            by_code[code][None][1] += int(n)
            details[code].append(f"{_label(suite.table, column)} 无法识别 {n}")


def _check_label(table: str, ch: Check) -> str:
    if ch.column:
        return _label(table, ch.column)
    if ch.columns:
        return "/".join(_label(table, c) for c in ch.columns)
    return ch.description


def _place_sql(con, table: str) -> str:
    """What a per-township row is keyed by: the township, or "县/乡镇" when the extract spans counties.

    source_checks has no county column and township names repeat across counties (城关镇), so in
    a province inbox a township is written qualified by its county; the scorecard splits it again.
    """
    if not spec(table).placed:
        return "NULL::VARCHAR"  # a register without townships (the 负面清单) has no per-township rows
    counties = con.execute(f"SELECT count(DISTINCT county) FROM {table}").fetchone()[0]
    return "township" if counties <= 1 else "CASE WHEN township IS NOT NULL THEN county || '/' || township END"


def reject_county_sql(table: str, county: str) -> str:
    """SQL for the county a reject of `table` belongs to: the first non-empty county cell of its raw
    row (under any of the table's county headers), else the configured county."""
    cells = [f"nullif(trim(json_extract_string(raw, '$.\"{h}\"')), '')"
             for c in spec(table).columns if c.type == "county" for h in c.headers]
    return "coalesce(" + ", ".join([*cells, "'" + county.replace("'", "''") + "'"]) + ")"


def _add_rejects(ctx, con, suite: SourceSuite, code: str, reason_sql: str, by_code, details, label: str,
                 place: str = "township") -> None:
    """Rejected rows of this table whose reason matches: failed (and checked), overall and per township.

    A reject has no resolved township; its raw township cell (and county cell, else the configured
    county) is mapped the way the loaded rows of the same extract were (township_raw → township),
    or taken as is when it is a canonical name.
    """
    table = suite.table
    if not spec(table).placed:
        # a register without townships (the 负面清单): its rejects count for the whole extract only
        (n,) = con.execute(
            f"SELECT count(*) FROM rejects WHERE run_id = ? AND source_table = ? AND {reason_sql}",
            [ctx.run_id, table]).fetchone()
        if n:
            by_code[code][None][0] += n
            by_code[code][None][1] += n
            details[code].append(f"{label} {n} 行")
        return

    def raw_of(headers) -> str:
        if not headers:
            return "NULL"
        return "trim(coalesce(" + ", ".join(f"json_extract_string(raw, '$.\"{h}\"')" for h in headers) + "))"

    sql = f"""
        WITH r AS (
            SELECT {raw_of(suite.township_headers)} AS town_raw,
                   {reject_county_sql(table, ctx.config.county)} AS county_raw
            FROM rejects WHERE run_id = ? AND source_table = ? AND {reason_sql}
        ), names AS (
            SELECT DISTINCT township_raw AS town_raw, county AS county_raw, {place} AS place FROM {table}
            WHERE township IS NOT NULL AND township_raw IS NOT NULL
            UNION
            SELECT DISTINCT township, county, {place} FROM {table} WHERE township IS NOT NULL
        ), m AS (
            SELECT r.town_raw, r.county_raw, min(n.place) AS place
            FROM (SELECT DISTINCT town_raw, county_raw FROM r) AS r
            LEFT JOIN names AS n ON n.town_raw = r.town_raw
                 AND (n.county_raw = r.county_raw OR {'false' if place != 'township' else 'true'})
            GROUP BY ALL
        )
        SELECT grouping(m.place) AS g, m.place, count(*)
        FROM r LEFT JOIN m ON m.town_raw IS NOT DISTINCT FROM r.town_raw AND m.county_raw = r.county_raw
        GROUP BY GROUPING SETS ((m.place), ())
    """
    for g, township, n in con.execute(sql, [ctx.run_id, table]).fetchall():
        if not n:
            continue
        if g == 1:
            by_code[code][None][0] += n
            by_code[code][None][1] += n
            details[code].append(f"{label} {n} 行")
        elif township is not None:
            by_code[code][township][0] += n
            by_code[code][township][1] += n


def newest_sql(suite: SourceSuite, as_of: date) -> str | None:
    """SQL aggregate for an extract's newest date (S09): the latest of its date columns not after
    the as-of date, or its newest year for a yearly extract; None when it has neither."""
    if suite.freshness_year:
        return f"max({suite.freshness_year})"
    return newest_date_sql(suite.freshness, as_of)


def newest_date_sql(columns, as_of: date) -> str | None:
    """SQL aggregate for the latest of these date columns not after the as-of date (None without any)."""
    if not columns:
        return None
    day = f"DATE '{as_of.isoformat()}'"
    return "greatest(" + ", ".join(f"max({c}) FILTER (WHERE {c} <= {day})" for c in columns) + ")"


def _s09(ctx: RunContext, con, suite: SourceSuite) -> tuple:
    """Freshness: the newest date (not after the as-of date) within stale_days of the as-of date."""
    table, as_of = suite.table, ctx.as_of
    stale = int(ctx.config.thresholds.get("stale_days", 45))
    expr = newest_sql(suite, as_of)
    if expr is None:
        # nothing to judge by: not checked (0), so no report calls it fresh — "freshness unknown"
        return (ctx.run_id, table, "S09", None, 0, 0, "无日期列，无法判断新鲜度")
    newest = con.execute(f"SELECT {expr} FROM {table}").fetchone()[0]
    if suite.freshness_year:
        if newest is None:
            return (ctx.run_id, table, "S09", None, 1, 1, "无年度数据")
        failed = int(newest < as_of.year)
        return (ctx.run_id, table, "S09", None, 1, failed,
                f"最新年度 {newest}" + ("，未覆盖基准日所在年度" if failed else ""))
    if newest is None:
        return (ctx.run_id, table, "S09", None, 1, 1, "无有效日期")
    age = (as_of - newest).days
    failed = int(age > stale)
    return (ctx.run_id, table, "S09", None, 1, failed,
            f"最新日期 {newest.isoformat()}，距基准日 {age} 天（阈值 {stale} 天）")


def _s11(ctx: RunContext, con, table: str) -> tuple:
    """Volume: the table's loaded rows are at least [volume_drop] × those of the previous complete run
    (rules.md S11; "previous" as for history: the latest completed run with an earlier as-of date).

    A table present last time and absent now fails. The roster's households are checked too: a
    township's roster file gone missing would otherwise read as that township's errors vanishing.
    """
    from checks.screening import _previous_run

    share = float(ctx.config.thresholds.get("volume_drop", 0.5))
    now = con.execute(f"SELECT count(*) FROM main.{table} WHERE run_id = ?", [ctx.run_id]).fetchone()[0]
    prev = _previous_run(con, ctx.as_of)
    if prev is None:
        return (ctx.run_id, table, "S11", None, 1, 0, f"本次入库 {now:,} 行；无上次完整运行可比")
    before, day = con.execute(
        f"SELECT (SELECT count(*) FROM hist.{table} WHERE run_id = ?), as_of_date FROM hist.runs WHERE run_id = ?",
        [prev, prev]).fetchone()
    failed = int(before > 0 and now < share * before)
    detail = f"本次入库 {now:,} 行，上次完整运行（基准日 {day.isoformat()}）{before:,} 行"
    if failed:
        detail += f"，不足上次的 {share:.0%}：数据可能缺失" + ("（本次未提供）" if now == 0 else "")
    return (ctx.run_id, table, "S11", None, 1, failed, detail)


def volume_drops(con, run_id: str) -> list[dict]:
    """The run's S11 failures, each with the title of its table and the rules that read it
    (registry `needs`; every rule for the roster): what the summary, the scorecard and the
    说明 sheet flag, so fewer findings are never read as better data."""
    from checks.registry import rules
    from sources.spec import spec_for_table

    out = []
    for table, detail in con.execute(
            "SELECT source_table, detail FROM source_checks WHERE run_id = ? AND check_code = 'S11'"
            " AND failed > 0 ORDER BY source_table", [run_id]).fetchall():
        roster = table == "households"
        codes = [r.code for r in rules().values()
                 if r.family in ("W", "L") and (roster or table in (*r.needs, *r.needs_any))]
        out.append({"table": table, "title": "花名册（户信息）" if roster else spec_for_table(table).title,
                    "detail": detail, "rules": codes})
    return out


def _s10(run_id: str, table: str, files: list[dict]) -> tuple:
    read = sum(int(f["rows_read"] or 0) for f in files if f["status"] == "loaded")
    dups = sum(int(f["duplicates"] or 0) for f in files if f["status"] == "loaded")
    return (run_id, table, "S10", None, read, dups, f"完全重复 {dups} 行（已只计一次）" if dups else "无重复行")
