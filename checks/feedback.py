"""Verification returned by townships (核查反馈, outputs.md): read it, record it, let it steer the run.

Two stages of the flow:

- `read_feedback(ctx)` (after ingest, before screening) reads every workbook under
  ``inbox/feedback/`` — the township's own workbook as fangpin wrote it, re-saved by Excel or
  WPS — and records each filled row in ``verifications``. Refused rows go to ``rejects``
  (source_table = 'verifications') with file, sheet, row and the reason.
- `apply_feedback(ctx)` (after screening and logic, before reports) sets ``verification`` /
  ``verified_on`` / ``suppressed`` / ``flag`` on this run's warnings and logic errors from the
  latest verification of each row (sql/feedback/apply.sql).

Decisions where outputs.md is silent:

- Sheets are recognised by their headers (预警规则 or 错误规则, with 核实结果), read by header
  name wherever the columns are; the header row is the first row that has them (title rows,
  added remark columns, sorting, filters and blank rows do not matter).
- A row is "filled" when any of 核实结果 / 核实人 / 核实日期 is. A filled row is recorded only
  with a listed result and a readable 核实日期 not after the as-of date (a typo must not suppress a
  warning for half a year); 核实人 may be empty.
- A row matches a row the county sent out: a warning or logic error of a completed, published run
  (hist.*). Warnings by rule and 户编号 (or by ID when 户编号 is empty: out-of-roster people);
  logic errors by rule, 户编号 and member ID (member name when the ID was mangled).
- The file's township comes from its name (``县_乡镇_日期.xlsx``; any known township or alias in
  the path, the longest wins, the county settles a name shared by two counties); when the name
  names none, from its matched rows if they all agree, else every row of the file is refused.
  A row about a household of another township is refused, so nothing a township sends changes
  another township's records; apply_feedback also applies a verification only to rows of the
  township that sent it.
- The same file read again (it stays in the inbox, or comes back with the prefilled results
  fangpin wrote into the next workbook) adds nothing: a row whose (rule, household, ID, result,
  核实日期) is already in the history with the same 核实人 — or with none given now — is counted
  as a duplicate, not recorded again. A changed result or date is recorded: full history.
  Refused rows of a file left in the inbox are reported again each night, until it is fixed.
- The latest verification of a row is the one with the latest 核实日期; among equal dates, the
  one recorded by the later run (a corrected return wins), then the later file name and row.
- A row whose 户编号 was retyped is judged by the new 户编号 (never by its other cells), so a
  row edited to another township's household is refused rather than quietly re-matched.
- A refused row that names exactly one row the county sent (a value outside the list, an empty,
  unreadable or future 核实日期, …) is also kept in ``verification_refusals``, unless the same row
  was accepted from another file of this run; the township's next workbook repeats the reason in
  that row's 备注 until a result for the row is recorded (reports/workbooks.py).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import polars as pl

from checks.registry import family
from checks.sql import SQL_DIR, set_parameters
from sources.normalise import clean, date_value, id_strip, name, nfkc
from sources.read import ReadError, read_excel

FEEDBACK_FOLDER = "feedback"
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
FEEDBACK_SQL = SQL_DIR / "feedback"
HEADER_SCAN_ROWS = 30
OWN_SHEETS = ("说明", "帮扶措施台账")  # sheets of the county's own workbook that carry no results
TOWNSHIP_SUFFIXES = ("人民政府", "办事处", "街道", "镇", "乡")

# canonical field -> header texts, in order of preference (after _norm_header)
FIELDS: dict[str, tuple[str, ...]] = {
    "rule_raw": ("预警规则", "错误规则"),
    "household_raw": ("户编号", "户码"),
    "id_raw": ("户主证件号码", "证件号码", "身份证号", "身份证号码", "户主身份证号"),
    "member_name": ("成员姓名",),
    "result_raw": ("核实结果",),
    "verifier_raw": ("核实人",),
    "date_raw": ("核实日期",),
}
FILLED = ("result_raw", "verifier_raw", "date_raw")

_FULLWIDTH = str.maketrans({chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)} | {"\u3000": " "})


def _norm_header(text: object) -> str:
    """Header as matched: no spaces (any width), half-width forms, no trailing *, (元) or （元）."""
    s = re.sub(r"\s+", "", str(text or "").translate(_FULLWIDTH))
    return re.sub(r"(\*|\(元\))+$", "", s)


def _sheet_kind(headers: list[str]) -> str | None:
    if "核实结果" not in headers:
        return None
    if "预警规则" in headers:
        return "W"
    if "错误规则" in headers:
        return "L"
    return None


def _read_workbook(path: Path) -> tuple[list[tuple[str, pl.DataFrame]], list[tuple[str, str]]]:
    """Every feedback sheet of one workbook (sources.read grids), plus (sheet, why skipped) for the rest."""
    frames, skipped = [], []
    for grid in read_excel(path):
        sheet = grid.sheet or ""
        if grid.encoding and grid.encoding.startswith("error:"):
            skipped.append((sheet, f"无法读取：{grid.encoding[6:]}"))
            continue
        found = None
        for i, row in enumerate(grid.frame.head(HEADER_SCAN_ROWS).iter_rows()):
            headers = [_norm_header(c) for c in row]
            kind = _sheet_kind(headers)
            if kind:
                found = (i, headers, kind)
                break
        if found is None:
            skipped.append((sheet, f"核实表附带的“{sheet}”工作表，无需读取" if sheet in OWN_SHEETS
                            else "不是核实表（没有“核实结果”和“预警规则”或“错误规则”表头），未读取"))
            continue
        i, headers, kind = found
        names = [h if h else f"列{j + 1}" for j, h in enumerate(headers)]
        seen: dict[str, int] = {}
        for j, n in enumerate(names):
            seen[n] = seen.get(n, 0) + 1
            if seen[n] > 1:
                names[j] = f"{n}_{seen[n]}"
        data = (
            grid.frame.slice(i + 1)
            .with_row_index("row_number", offset=grid.first_row + i + 1)
            .rename(dict(zip(grid.frame.columns, names, strict=True)))
        )
        data = data.with_columns(clean(pl.col(n)).alias(n) for n in names)
        picks = {}
        for field, options in FIELDS.items():
            col = next((o for o in options if o in names), None)
            picks[field] = pl.col(col) if col else pl.lit(None, dtype=pl.String)
        out = data.select(
            pl.lit(sheet).alias("sheet"),
            pl.lit(kind).alias("family"),
            pl.col("row_number").cast(pl.Int32),
            *(expr.alias(field) for field, expr in picks.items()),
            pl.struct(names).struct.json_encode().alias("raw"),
        ).filter(pl.any_horizontal(pl.col(f).is_not_null() for f in FILLED))
        frames.append((sheet, _normalised(out)))
    return frames, skipped


def _normalised(rows: pl.DataFrame) -> pl.DataFrame:
    """Typed values as a clerk's Excel/WPS leaves them, with the normalisers of sources/.

    IDs are only stripped (spaces, quotes, full-width digits, lower-case x): fangpin wrote them as
    18 characters, and a number-mangled one (6.20422E+17) is dropped so the row matches by 户编号.
    """
    text = pl.col("id_raw").cast(pl.String)
    mangled = id_strip(text).str.contains(r"^\d(\.\d+)?E\+?\d+$")
    return rows.with_columns(
        nfkc(pl.col("rule_raw")).str.to_uppercase().str.extract(r"^([WL]\d{2})", 1).alias("rule_code"),
        name(pl.col("household_raw")).str.replace(r"^['‘’`]+", "").str.replace(r"\.0+$", "").alias("household_id"),
        pl.when(mangled).then(None).otherwise(id_strip(text)).alias("id_number"),
        name(pl.col("member_name")).alias("member_name"),
        name(nfkc(pl.col("result_raw")).str.replace_all(r"[－—–‐−_~～]+|-+", "-")).alias("result"),
        name(pl.col("verifier_raw")).alias("verifier"),
        date_value(pl.col("date_raw")).alias("verified_on"),
    )


def _township_names(ctx) -> list[tuple[str, str | None, str]]:
    """(name as it may appear in a file name, county, canonical township) for every known township."""
    pairs = ctx.con.execute(
        "SELECT DISTINCT coalesce(county, ?), township FROM ("
        " SELECT county, township FROM main.households UNION ALL"
        " SELECT county, township FROM hist.warnings UNION ALL"
        " SELECT county, township FROM hist.logic_errors) WHERE township IS NOT NULL",
        [ctx.config.county],
    ).fetchall()
    names = [(t, c, t) for c, t in pairs]
    aliases = ctx.config.township_aliases()
    for c, t in pairs:
        for alias in aliases.get(c or ctx.config.county, {}).get(t, []):
            names.append((alias, c, t))
        for suffix in TOWNSHIP_SUFFIXES:
            if t.endswith(suffix) and len(t) - len(suffix) >= 2:
                names.append((t[: -len(suffix)], c, t))
    return names


def _file_township(rel: str, names: list[tuple[str, str | None, str]]) -> tuple[str | None, str | None]:
    """(county, township) a returned file names, or (None, None) when it names none or several."""
    hits = [(len(n), c, t) for n, c, t in names if n and n in rel]
    if not hits:
        return None, None
    longest = max(h[0] for h in hits)
    found = {(c, t) for n, c, t in hits if n == longest}
    if len(found) > 1:
        found = {(c, t) for c, t in found if c and c in rel} or found
    if len(found) != 1:
        return None, None
    return next(iter(found))


def _file_date(rel: str) -> str | None:
    m = re.search(r"(20\d{2})-?(\d{2})-?(\d{2})", Path(rel).name)
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}" if m else None


def _fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_feedback(ctx) -> dict:
    """Record the filled rows of every returned workbook in inbox/feedback/ (see module docstring)."""
    folder = Path(ctx.inbox) / FEEDBACK_FOLDER
    found = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith((".", "~$"))) \
        if folder.is_dir() else []
    files = [p for p in found if p.suffix.lower() in WORKBOOK_SUFFIXES]
    for p in found:
        if p.suffix.lower() not in WORKBOOK_SUFFIXES:
            ctx.skip("file", p.relative_to(ctx.inbox).as_posix(), "不是 Excel 工作簿：报回的核实表只读取 .xlsx / .xls 文件")
    summary = {"files": len(files), "rows": 0, "recorded": 0, "duplicates": 0, "rejected": 0, "reasons": {}}
    ctx.notes["feedback"] = summary
    if not files:
        return summary
    con = ctx.con
    set_parameters(con, ctx.config, ctx.as_of, ctx.run_id)
    con.execute("SET VARIABLE fb_county = ?", [ctx.config.county])
    names = _township_names(ctx)
    frames, file_rows, file_info = [], [], []
    for path in files:
        rel = path.relative_to(ctx.inbox).as_posix()
        fp = _fingerprint(path)
        try:
            sheets, skipped = _read_workbook(path)
        except ReadError as exc:
            ctx.skip("file", rel, f"报回的工作簿无法读取：{exc}")
            file_info.append((rel, None, None, "unreadable", str(exc), fp, None))
            continue
        for sheet, why in skipped:
            ctx.skip("sheet", f"{rel}#{sheet}", why)
            file_info.append((rel, sheet, None, "skipped", why, fp, None))
        county, township = _file_township(rel, names)
        file_rows.append({"file": rel, "county": county, "township": township, "file_date": _file_date(rel)})
        for sheet, df in sheets:
            frames.append(df.with_columns(pl.lit(rel).alias("file")))
            file_info.append((rel, sheet, "verifications", "loaded", None, fp, df.height))
    rows = pl.concat(frames, how="vertical") if frames else None
    if rows is None or rows.height == 0:
        _record_files(ctx, file_info, None)
        return summary
    rows = rows.with_row_index("rid")
    fb_files = pl.DataFrame(file_rows, schema={"file": pl.String, "county": pl.String,
                                               "township": pl.String, "file_date": pl.String})
    fb_files = fb_files.with_columns(pl.col("file_date").str.to_date(strict=False))
    con.register("fb_rows", rows.to_arrow())
    con.register("fb_files", fb_files.to_arrow())
    try:
        con.execute((FEEDBACK_SQL / "match.sql").read_text(encoding="utf-8"))
        con.execute(
            "INSERT INTO rejects (run_id, source_table, file, sheet, row_number, reason, raw)"
            " SELECT ?, 'verifications', file, sheet, row_number, reason, raw::JSON"
            " FROM fb_matched WHERE reason IS NOT NULL ORDER BY file, sheet, row_number",
            [ctx.run_id],
        )
        con.execute(_ACCEPT_SQL)
        con.execute(_REFUSALS_SQL, [ctx.run_id])
        con.execute(
            "INSERT INTO verifications BY NAME SELECT ? AS run_id, rule_code, household_id,"
            " key_id AS id_number, township, result, verifier, verified_on,"
            " file AS source_file, sheet AS source_sheet, row_number AS source_row"
            " FROM fb_accepted WHERE NOT duplicate ORDER BY file, sheet, row_number",
            [ctx.run_id],
        )
        stats = con.execute(
            "SELECT count(*) FILTER (WHERE NOT duplicate), count(*) FILTER (WHERE duplicate) FROM fb_accepted"
        ).fetchone()
        reasons = con.execute(
            "SELECT regexp_extract(reason, '^[^:(]*'), count(*) FROM fb_matched"
            " WHERE reason IS NOT NULL GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
        per_sheet = {(f, sh): (ok, bad) for f, sh, ok, bad in con.execute(
            "SELECT file, sheet, count(*) FILTER (WHERE reason IS NULL), count(*) FILTER (WHERE reason IS NOT NULL)"
            " FROM fb_matched GROUP BY ALL").fetchall()}
    finally:
        con.unregister("fb_rows")
        con.unregister("fb_files")
    _record_files(ctx, file_info, per_sheet)
    summary.update(rows=rows.height, recorded=stats[0], duplicates=stats[1],
                   rejected=sum(n for _, n in reasons), reasons={r.strip(): n for r, n in reasons})
    return summary


# Accepted rows, once each (the same row in two returned files counts once), and whether the
# history already holds them (same row, result and date; same verifier or none given now).
_ACCEPT_SQL = """
CREATE OR REPLACE TEMP TABLE fb_accepted AS
SELECT m.*,
    EXISTS (
        SELECT 1 FROM hist.verifications AS v JOIN hist.runs AS r USING (run_id)
        WHERE r.status = 'completed' AND v.rule_code = m.rule_code
          AND v.household_id IS NOT DISTINCT FROM m.household_id
          AND v.id_number IS NOT DISTINCT FROM m.key_id
          AND v.result = m.result AND v.verified_on = m.verified_on
          AND (m.verifier IS NULL OR v.verifier IS NOT DISTINCT FROM m.verifier)
    ) OR row_number() OVER (
        PARTITION BY m.rule_code, m.household_id, m.key_id, m.result, m.verified_on, m.verifier
        ORDER BY m.file, m.sheet, m.row_number) > 1 AS duplicate
FROM fb_matched AS m
WHERE m.reason IS NULL
"""


# Refused rows that name one row the county sent, kept for the next workbook's 备注
# (verification_refusals) — unless the same row was accepted from another file in this run
# (a corrected return beside the first one left in the inbox).
_REFUSALS_SQL = """
INSERT INTO verification_refusals BY NAME
SELECT ? AS run_id, m.rule_code, m.household_id, m.key_id AS id_number, m.township,
       m.file_township AS sent_by, m.result_raw, m.verifier_raw, m.date_raw, m.reason,
       m.file AS source_file, m.sheet AS source_sheet, m.row_number AS source_row
FROM fb_matched AS m
WHERE m.reason IS NOT NULL AND m.rule_code IS NOT NULL AND m.n_keys = 1
  AND NOT EXISTS (SELECT 1 FROM fb_accepted AS a
                  WHERE a.rule_code = m.rule_code AND a.household_id IS NOT DISTINCT FROM m.household_id
                    AND a.key_id IS NOT DISTINCT FROM m.key_id)
ORDER BY m.file, m.sheet, m.row_number
"""


def _record_files(ctx, file_info, per_sheet) -> None:
    """One input_files row per returned workbook sheet, so the run summary lists them like any input.

    rows_read = filled rows; rows_loaded = rows accepted (recorded now or already in the history);
    rows_rejected = rows refused.
    """
    per_sheet = per_sheet or {}
    for rel, sheet, table, status, reason, fp, n in file_info:
        ok, bad = per_sheet.get((rel, sheet), (0, 0)) if status == "loaded" else (None, None)
        ctx.con.execute(
            "INSERT INTO input_files (run_id, folder, file, sheet, source_table, rows_read, rows_loaded,"
            " rows_rejected, status, reason, fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [ctx.run_id, FEEDBACK_FOLDER, rel, sheet, table, n, ok, bad, status, reason, fp],
        )


def apply_feedback(ctx) -> dict:
    """Set verification / suppression / flags on this run's warnings and logic errors (apply.sql).

    - Suppression: the latest result 不属实 or 属实-暂不纳入, the as-of date at most suppress_days
      after 核实日期, and the warning's evidence_key equal to that of the warning as sent in the
      workbook that was verified. Rows 已解除 are never suppressed (nothing to hold back).
    - 核实属实未纳入: the latest result 属实-已纳入监测, more than inclusion_grace_days since 核实日期,
      and the household (out-of-roster: any household holding the person) has no
      monitoring_category in this run's roster. The warning is listed again: flagged when it still
      fires; when it no longer fires it is put back with status 持续 (copied from its latest
      published form), so the county keeps chasing the inclusion until the roster shows it.
      Not evaluated when this run has no roster (the run summary says so).
    - 整改未生效: the latest result 已整改, dated before this run's as-of date, and the error
      still fires in this run.
    - A logic error whose rule names a suppress_on result (L26: 不属实, the household's special
      hardship verified) is suppressed like a warning, until its records change.
    """
    con = ctx.con
    set_parameters(con, ctx.config, ctx.as_of, ctx.run_id)
    roster = _roster_present(ctx)
    if not roster:
        ctx.skip("check", "核实属实未纳入", "本次没有监测名单户信息，无法判断核实属实的户是否已纳入监测")
    con.execute(f"SET VARIABLE fb_roster_present = {'true' if roster else 'false'}")
    con.execute("CREATE OR REPLACE TEMP TABLE fb_suppressible (rule_code VARCHAR, result VARCHAR)")
    con.executemany("INSERT INTO fb_suppressible VALUES (?, ?)",
                    [(r.code, r.suppress_on) for r in family("L") if r.suppress_on])
    before = con.execute("SELECT count(*) FROM warnings WHERE run_id = ?", [ctx.run_id]).fetchone()[0]
    con.execute((FEEDBACK_SQL / "apply.sql").read_text(encoding="utf-8"))
    w = con.execute(
        "SELECT count(*) FILTER (WHERE verification IS NOT NULL), count(*) FILTER (WHERE suppressed),"
        " count(*) FILTER (WHERE flag = '核实属实未纳入'), count(*)"
        " FROM warnings WHERE run_id = ?", [ctx.run_id]).fetchone()
    e = con.execute(
        "SELECT count(*) FILTER (WHERE verification IS NOT NULL), count(*) FILTER (WHERE flag = '整改未生效'),"
        " count(*) FILTER (WHERE suppressed) FROM logic_errors WHERE run_id = ?", [ctx.run_id]).fetchone()
    ctx.notes["apply_feedback"] = result = {
        "warnings_verified": w[0], "suppressed": w[1], "核实属实未纳入": w[2], "relisted": w[3] - before,
        "logic_errors_verified": e[0], "整改未生效": e[1], "logic_errors_suppressed": e[2],
    }
    return result


def _roster_present(ctx) -> bool:
    return bool(ctx.con.execute(
        "SELECT count(*) FROM main.households WHERE run_id = ?", [ctx.run_id]).fetchone()[0])

