"""The ingest stage: every file of one inbox folder → normalised warehouse tables + rejects.

`ingest_folder(ctx, folder)` is called once per inbox folder (possibly from parallel
threads: it only uses its own `ctx.cursor()`). `resolve_townships(ctx)` must run
once after ALL folders are loaded: department townships resolve against the
roster's spelling, so they cannot be resolved while the roster may still be loading.

Accounting, per file/sheet and table: rows_read = rows_loaded + rows_rejected +
duplicates. Blank rows, footer rows ("合计", "制表人：…") and repeated header rows
are neither read nor rejected. Decisions (spec silent):
- department rows are rejected only when the ID cannot be recovered or is invalid
  (S02, inputs.md); any other empty cell is unknown (null), as inputs.md says of
  dates and money, even in a column required for recognising the table; roster
  rows only when 户编号 is empty (nothing could link them), never for their ID;
- a row with every required column empty and at most three cells is no record (a
  template row holding only 序号 or a pre-filled township, a footer line): neither read
  nor rejected; a fuller one is rejected with its reason;
- exact duplicates are judged on the normalised canonical values (so "1,234.50"
  and "1234.5", or a differing 序号 column the system does not use, do not make
  two records), across all files of the table in the folder; the first by
  (file, sheet, row) is kept, later ones are counted on their own file;
- cells that hold text a date/number/amount parser cannot read are loaded as
  null and counted per column: input_files.reason of the loaded file says
  "未能识别的值（按空值入库）：救助日期[start_date] 3，金额[amount] 1" (header as
  written, canonical column, count: parseable again when a run copies an
  unchanged folder) and ctx.notes["ingest_unparsed"][table][column] holds the
  totals (for the source checks, S03/S05);
- Parquet rows are numbered as if opened in Excel (column names = row 1).
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import polars as pl

from sources import normalise as nz
from sources.national import reshape_national
from sources.read import MAX_CELL_CHARS, SUPPORTED, Grid, ReadError, read_grids
from sources.spec import Spec, department_specs, department_tables, header_key, specs_for_folder

HEADER_SCAN_ROWS = 30
TRUNCATED = "文件可能被截断：最后一行不完整，已拒收"
FOOTER = (
    r"^(合\s*计|总\s*计|小\s*计|累\s*计|共\s*计|制\s*表|填\s*报|填\s*表|审\s*核|审\s*批|负责人|单位负责人"
    r"|主管领导|分管领导|经办人|备\s*注|说\s*明|注\s*[:：]|打印|数据来源|统计时间|截至|以下(空白|无)"
    r"|联\s*系\s*人|联系电话\s*[:：]|单\s*位\s*[:：(（]|盖\s*章|签\s*字|签\s*章)"
)
TITLE = r"(名册|名单|花名册|明细|统计表|登记表|台账|汇总表|一览表|信息表)"


# ---------------------------------------------------------------- files

TEMP_SUFFIXES = {".tmp", ".bak", ".swp", ".crdownload", ".part"}


def list_files(root: Path, inbox: Path | None = None) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(every file under root to read, sorted; every other entry under it with why it is not read).

    Not read, each listed with its reason (inputs.md: every file is read or listed): a hidden name
    (a leading "."; a hidden folder is listed once, for all it holds), Office lock and temporary
    files (~$x.xlsx, x.tmp, x~), anything that is not a regular file, and a symbolic link —
    never followed: one to a file outside the inbox would load rows the county never put there,
    and one inside it would read the same rows twice.
    """
    inbox = Path(inbox or root)
    files: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        for name in sorted(dirnames):
            p = here / name
            why = _link_reason(p, inbox) if p.is_symlink() else (
                "隐藏目录（名称以“.”开头），其中的文件未读取" if name.startswith(".") else None)
            if why:
                skipped.append((p, why))
                dirnames.remove(name)
        dirnames.sort()
        for name in filenames:
            p = here / name
            if p.is_symlink():
                skipped.append((p, _link_reason(p, inbox)))
            elif name.startswith("."):
                skipped.append((p, "隐藏文件（名称以“.”开头），未读取"))
            elif name.startswith("~") or name.endswith("~") or p.suffix.lower() in TEMP_SUFFIXES:
                skipped.append((p, "临时文件或Office锁定文件，未读取"))
            elif not p.is_file():
                skipped.append((p, "不是普通文件，未读取"))
            else:
                files.append(p)
    return sorted(files), sorted(skipped)


def _link_reason(p: Path, inbox: Path) -> str:
    try:
        inside = p.resolve().is_relative_to(inbox.resolve())
    except (OSError, RuntimeError):  # a loop of links
        inside = False
    where = "收件目录内的另一位置" if inside else "收件目录之外"
    return f"符号链接（指向{where}），未跟随读取：请把文件本身放入部门目录"


def list_stray(ctx, folders: set[str]) -> int:
    """List in input_files (status skipped) and ctx.skip every entry of the inbox outside the
    department folders (a file at the top, a folder no table belongs to): read or listed, never
    silently ignored. Returns how many."""
    con = ctx.cursor()
    inbox = Path(ctx.inbox)
    n = 0
    try:
        for entry in sorted(inbox.iterdir()):
            if entry.name in folders and entry.is_dir() and not entry.is_symlink():
                continue
            top = entry.name
            if entry.is_dir() and not entry.is_symlink() and not top.startswith("."):
                files, skipped = list_files(entry, inbox)
                listed = [(p, f"不在任何部门目录下（{top}/ 不是收件目录约定的目录），未读取") for p in files]
                listed += skipped
            else:
                why = (_link_reason(entry, inbox) if entry.is_symlink()
                       else "隐藏文件或目录（名称以“.”开头），未读取" if top.startswith(".")
                       else "不在任何部门目录下（应放入对应部门的目录），未读取")
                listed = [(entry, why)]
            for p, why in listed:
                rel = p.relative_to(inbox).as_posix()
                _input_file(con, ctx, top if entry.is_dir() else "", rel, None, status="skipped", reason=why)
                ctx.skip("file", rel, why)
                n += 1
    finally:
        con.close()
    return n


# ---------------------------------------------------------------- header recognition

class Match:
    def __init__(self, spec: Spec, header_idx: int, colmap: dict[str, int], headers: list[str]):
        self.spec = spec
        self.header_idx = header_idx  # index in the grid frame
        self.colmap = colmap  # canonical column -> grid column position
        self.headers = headers  # header text per grid column


def aliases_for(spec: Spec, config_headers: dict) -> dict[str, list[str]]:
    """Config aliases of the table; the national export also takes the households/members aliases."""
    out: dict[str, list[str]] = defaultdict(list)
    tables = [spec.table] + (["households", "members"] if spec.level == "national" else [])
    for t in tables:
        for col, names in (config_headers or {}).get(t, {}).items():
            out[col].extend([names] if isinstance(names, str) else list(names))
    return dict(out)


def recognise(rows: list[list[object]], specs: list[Spec], config_headers: dict) -> Match | str:
    """The first row (of the first 30) holding every required column of some spec, and that spec.

    Two columns under headers of the same canonical column (出院日期 and 结算日期; 帮扶责任人联系电话
    and a household's 联系电话): the header listed first in the spec wins, then the leftmost column.
    Several specs matching the same row: the one with most matched columns wins, then
    the one with the larger share of its columns (a members file is not a national export).
    A two-row header (group titles above, with some headers merged down over both rows,
    as national-system exports have) is read as one: a cell of the lower row, or the
    upper row's where the lower is empty — tried only when neither row matches alone.
    Returns the reason (in Chinese, with the header names tried) when nothing matches.
    """
    lookups = {s.table: s.header_ranks(aliases_for(s, config_headers)) for s in specs}
    partial: list = [None]  # (matched, row index, spec, missing) of the best near miss

    def match(row: list[object], i: int):
        keys = [header_key(v) for v in row]
        if not any(keys):
            return None
        found = []
        for spec in specs:
            lk = lookups[spec.table]
            colmap: dict[str, int] = {}
            rank: dict[str, int] = {}
            for j, k in enumerate(keys):
                c, r = lk.get(k, (None, 0))
                if c and (c not in colmap or r < rank[c]):  # the usual header wins over an alias
                    colmap[c], rank[c] = j, r
            missing = [c.name for c in spec.required if c.name not in colmap]
            if not missing:
                found.append((len(colmap), len(colmap) / len(spec.columns), spec, colmap))
            elif colmap and (partial[0] is None or len(colmap) > partial[0][0]):
                partial[0] = (len(colmap), i, spec, missing)
        if not found:
            return None
        found.sort(key=lambda t: (t[0], t[1]), reverse=True)
        return found[0][2], found[0][3]

    def text(v: object) -> str:
        return "" if v is None else str(v).strip()

    scan = rows[:HEADER_SCAN_ROWS]
    for i, row in enumerate(scan):
        hit = match(row, i)
        if hit:
            return Match(hit[0], i, hit[1], [text(v) for v in row])
        if i + 1 < len(scan) and any(text(v) for v in row) and not match(scan[i + 1], i + 1):
            lower = scan[i + 1]
            width = max(len(row), len(lower))
            both = [text(lower[j] if j < len(lower) else None) or text(row[j] if j < len(row) else None)
                    for j in range(width)]
            hit = match(both, i + 1)
            if hit:
                return Match(hit[0], i + 1, hit[1], both)
    return _no_match_reason(rows, specs, config_headers, partial[0])


def _no_match_reason(rows, specs, config_headers, best_partial) -> str:
    if not specs:
        return "本目录没有对应的表定义"
    parts = []
    order = sorted(specs, key=lambda s: 0 if best_partial and s.table == best_partial[2].table else 1)
    for spec in order:
        al = aliases_for(spec, config_headers)
        if best_partial and spec.table == best_partial[2].table:
            missing = best_partial[3]
        else:
            missing = [c.name for c in spec.required]
        cols = "，".join(f"{spec.column(m).headers[0]}（尝试过：{'、'.join(spec.headers_tried(m, al))}）"
                        for m in missing)
        parts.append(f"{spec.title}[{spec.table}]缺少必需列 {cols}")
    # The cells are quoted only from a row that matched some headers: any other row may be a
    # data row, and its names and ID numbers must not reach the run summary or the logs.
    if not best_partial:
        return "表头未能识别：" + "；".join(parts) + "。文件中没有与任何表头相符的行"
    seen_row = rows[best_partial[1]]
    seen = "、".join(str(v).strip() for v in seen_row if v is not None and str(v).strip())[:300]
    return "表头未能识别：" + "；".join(parts) + f"。文件中的表头：{seen}"


# ---------------------------------------------------------------- normalisation of one sheet

def _unique_headers(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for j, h in enumerate(headers):
        h = h or f"列{j + 1}"
        if h in seen:
            seen[h] += 1
            h = f"{h}_{seen[h]}"
        else:
            seen[h] = 0
        out.append(h)
    return out


def _typed(col, kind: str, spec_level: str, as_of, raw: pl.Expr) -> dict[str, pl.Expr]:
    """Canonical output column(s) of one spec column, from its raw cell expression."""
    n = col.name
    mapping = dict(col.map)
    if kind == "id":
        return {n: pl.col(f"__id_{n}")}
    if kind == "roster_id":
        return {n: pl.col(f"__id_{n}"), f"{n}_raw": nz.clean(raw)}
    if kind == "date":
        return {n: nz.date_value(raw)}
    if kind == "money":
        return {n: nz.money(raw)}
    if kind == "int":
        return {n: nz.integer(raw)}
    if kind == "name":
        return {n: nz.person_name(raw)}
    if kind == "code":
        return {n: nz.code(raw)}
    if kind == "county":
        return {n: nz.township_text(raw)}
    if kind in ("enum", "school_status"):
        e = nz.school_status(raw) if kind == "school_status" else nz.enum(raw, mapping)
        if col.empty:
            e = e.fill_null(pl.lit(col.empty))
        return {n: e}
    if kind == "yesno":
        return {n: nz.yesno(raw)}
    if kind == "list":
        return {n: nz.split_list(raw)}
    if kind == "township":
        if spec_level == "department":
            return {"township_raw": nz.township_text(raw), "township": pl.lit(None, dtype=pl.String)}
        return {n: nz.township_text(raw)}
    if kind == "icd10":
        return {n: nz.upper_code(raw)}
    if n == "cert_number":
        return {n: nz.id_strip(raw)}
    return {n: nz.clean(raw)}


# Types whose parsing is done once per distinct cell text and joined back: a column of
# dates or township names holds few distinct values, so this is much cheaper per row.
# Money is parsed row by row: amounts are nearly all distinct, and the unique-and-join
# cost a quarter of the time of normalising settlements.
_BY_VALUE = {"date", "int", "enum", "school_status", "yesno", "list", "township", "icd10", "county"}
_PER_ROW_CHECKED = {"money"}


def _via_unique(df: pl.DataFrame, src: str, outs: dict[str, pl.Expr], flags: dict[str, pl.Expr]) -> pl.DataFrame:
    u = df.select(pl.col(src).unique()).with_columns(**outs)
    if flags:
        u = u.with_columns(**flags)
    looked_up = df.select(src).join(u, on=src, how="left", nulls_equal=True, maintain_order="left")
    return df.with_columns(looked_up.drop(src).get_columns())  # gather the new columns only


def _empty(raw: pl.Expr) -> pl.Expr:
    return raw.is_null() | (raw.str.strip_chars(nz.WS_CHARS).str.len_bytes() == 0)


def normalise_sheet(frame: pl.DataFrame, m: Match, as_of, county: str,
                    text_file: bool = False) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """(loaded rows with canonical columns, rejected rows, unparsed counts per column).

    frame: the body rows (after the header) with `__row` = physical row number; blank,
    footer and repeated header rows already removed; `__num_<column>` (optional) is true
    where that ID column's cell was a number cell of a workbook. Works in phases (IDs stripped,
    IDs normalised, per-value parsing joined back, checks) so that no expression
    repeats a large sub-expression.

    Damage costs the row, never the file (any level, roster included): a cell longer than an
    Excel cell can hold (MAX_CELL_CHARS); in a CSV (`text_file`), a value right of the header's
    last column (an unquoted comma shifted the row). A department ID read from a number cell
    with 18 digits is Excel-mangled whatever its check character (domain.md: never guessed);
    a 15-digit one is exact and upgrades.
    """
    spec = m.spec
    null = pl.lit(None, dtype=pl.String)
    raw_of = {c: f"c{j}" for c, j in m.colmap.items()}
    id_cols = [c.name for c in spec.columns if c.type in ("id", "roster_id")]
    df = nz.with_ids(frame, {c: pl.col(raw_of[c]) if c in raw_of else null for c in id_cols})

    exprs: dict[str, pl.Expr] = {}
    failed: dict[str, str] = {}
    per_row: dict[str, pl.Expr] = {}
    per_row_failed: dict[str, tuple[str, str, str]] = {}  # column -> (raw column, value column, type)
    by_src: dict[str, dict[str, pl.Expr]] = defaultdict(dict)
    for col in spec.columns:
        src = raw_of.get(col.name)
        raw = pl.col(src) if src else null
        outs = _typed(col, col.type, spec.level, as_of, raw)
        if src and col.type in _PER_ROW_CHECKED:
            for k, e in outs.items():
                per_row[f"__v_{k}"] = e
                exprs[k] = pl.col(f"__v_{k}")
            per_row_failed[col.name] = (src, f"__v_{col.name}", col.type)
        elif src and col.type in _BY_VALUE:
            for k, e in outs.items():
                by_src[src][f"__v_{k}"] = e
                exprs[k] = pl.col(f"__v_{k}")
            if col.type in ("date", "money", "int"):
                by_src[src][f"__f_{col.name}"] = nz.parse_failed(raw, pl.col(f"__v_{col.name}"), col.type)
                failed[col.name] = f"__f_{col.name}"
        else:
            exprs.update(outs)
    for src, outs in by_src.items():
        plain = {k: e for k, e in outs.items() if not k.startswith("__f_")}
        flags = {k: e for k, e in outs.items() if k.startswith("__f_")}
        df = _via_unique(df, src, plain, flags)
    if per_row:
        df = df.with_columns(**per_row)

    # Cheap per-row test first; the reasons (many string tests) only for the few bad rows.
    reasons, bad = _damage(frame, m, text_file)
    for col in spec.columns:
        src = raw_of.get(col.name)
        raw = pl.col(src) if src else null
        label = re.sub(r"\s+", "", m.headers[m.colmap[col.name]]) if src else col.headers[0]
        if spec.level == "department":
            if col.type == "id":
                ident, chk = pl.col(f"__id_{col.name}"), pl.col(f"__chk_{col.name}")
                bad.append(~chk | ~nz.birth_ok(ident, as_of))
                reasons.append(nz.id_problem(ident, chk, raw, as_of, label))
                if f"__num_{col.name}" in frame.columns:
                    mangled = pl.col(f"__num_{col.name}").fill_null(False) & ident.str.contains(r"^\d{18}$")
                    bad.append(mangled.fill_null(False))
                    reasons.append(pl.when(mangled & chk & nz.birth_ok(ident, as_of)).then(pl.lit(
                        f"{label}无法恢复：被Excel按数字保存（18位证件号码在数字单元格中只剩15位有效数字），不猜测")))
        elif col.name == "household_id":
            bad.append(_empty(raw))
            reasons.append(pl.when(_empty(raw)).then(pl.lit(f"必填项为空：{label}（无法归户）")))
    exprs["county"] = exprs["county"].fill_null(pl.lit(county)) if "county" in exprs else pl.lit(county)
    df = df.with_columns((pl.any_horizontal(bad) if bad else pl.lit(False)).alias("__bad"))
    good, rej = df.filter(~pl.col("__bad")), df.filter(pl.col("__bad"))

    unparsed = {}
    if failed:
        sums = good.select([pl.col(f).sum().alias(c) for c, f in failed.items()]).row(0, named=True)
        unparsed = {k: int(v) for k, v in sums.items() if v}
    for c, (src, value, kind) in per_row_failed.items():
        # the exact test only on the rows where a present cell gave no value (few)
        maybe = good.filter(pl.col(value).is_null() & pl.col(src).is_not_null())
        n = maybe.select(nz.parse_failed(pl.col(src), pl.col(value), kind).sum()).item() if maybe.height else 0
        if n:
            unparsed[c] = int(n)
    unparsed = {c.name: unparsed[c.name] for c in spec.columns if c.name in unparsed}  # spec order
    headers = _unique_headers(m.headers)
    raw_json = pl.struct([pl.col(f"c{j}").str.slice(0, RAW_CELL_CHARS).alias(h)
                          for j, h in enumerate(headers) if f"c{j}" in frame.columns])
    rejected = rej.select(
        pl.col("__row").alias("row_number"),
        pl.concat_str(reasons, separator="；", ignore_nulls=True).alias("reason"),
        raw_json.struct.json_encode().alias("raw"),
    )
    loaded = good.select(*[e.alias(k) for k, e in exprs.items()], pl.col("__row").alias("source_row"))
    return loaded, rejected, unparsed


RAW_CELL_CHARS = 2000  # a reject keeps this much of each cell (a 5 MB cell is not copied whole)


def _damage(frame: pl.DataFrame, m: Match, text_file: bool) -> tuple[list[pl.Expr], list[pl.Expr]]:
    """(reasons, bad) of the row-level damage any table can have (see normalise_sheet).

    The exact tests (character counts, which column) are built only when the cheap one
    (byte lengths, non-null cells) finds some row, so a clean sheet pays one pass.
    """
    cells = [c for c in frame.columns if re.fullmatch(r"c\d+", c)]
    reasons: list[pl.Expr] = []
    bad: list[pl.Expr] = []
    if cells and frame.select(pl.any_horizontal(
            [pl.col(c).str.len_bytes() > MAX_CELL_CHARS for c in cells]).fill_null(False).any()).item():
        for c in cells:
            long = (pl.col(c).str.len_chars() > MAX_CELL_CHARS).fill_null(False)
            j = int(c[1:])
            head = (m.headers[j] if j < len(m.headers) else "") or f"第{j + 1}列"
            bad.append(long)
            reasons.append(pl.when(long).then(
                pl.lit(f"单元格超长：{head} ") + pl.col(c).str.len_chars().cast(pl.String)
                + pl.lit(f"个字符（Excel单元格最多{MAX_CELL_CHARS}个），整行拒收")))
    last = max((j for j, h in enumerate(m.headers) if h), default=-1)
    beyond = [c for c in cells if int(c[1:]) > last]
    if text_file and beyond:
        extra = pl.any_horizontal([nz.clean(pl.col(c)).is_not_null() for c in beyond]).fill_null(False)
        if frame.select(extra.any()).item():
            bad.append(extra)
            reasons.append(pl.when(extra).then(pl.lit(
                f"列数多于表头（表头{last + 1}列，该行右侧还有值）：可能含未加引号的逗号，整行拒收")))
    return reasons, bad


def body_rows(frame: pl.DataFrame, m: Match, first_row: int, skip: int) -> pl.DataFrame:
    """Rows after the header that are records: blank, footer and repeated header rows dropped.

    frame's row 0 is physical row `first_row`; its first `skip` rows (title, header) are not data.
    """
    body = frame.slice(skip).with_row_index("__row", offset=first_row + skip)
    body = body.with_columns(pl.col("__row").cast(pl.Int64))
    if frame.width == 0 or body.height == 0:
        return body.clear()
    # Cheap tests first; the expensive whole-row ones run only when some row needs them
    # (polars evaluates both branches of a when/then on every row).
    cols = list(frame.columns)
    body = body.with_columns(pl.coalesce([pl.col(c) for c in cols]).str.strip_chars(nz.WS_CHARS).alias("__first"))
    body = body.filter(pl.col("__first").is_not_null())
    if body.select((pl.col("__first") == "").any()).item():  # a row starting with blank-looking cells
        trimmed = pl.coalesce([nz.clean(pl.col(c)) for c in cols])
        body = body.with_columns(pl.when(pl.col("__first") == "").then(trimmed).otherwise(pl.col("__first"))
                                 .alias("__first")).filter(pl.col("__first").is_not_null())
    keep = ~pl.col("__first").str.contains(FOOTER)
    # A row with every required column empty and at most three cells names no record: a template
    # row with only 序号 or a pre-filled county and township, or a footer line ("填表人：…",
    # "单位（盖章）") that the list above misses. A fuller row without them is a record gone
    # wrong: it goes on, to be rejected with its reason, so nothing is lost.
    required = [f"c{m.colmap[c.name]}" for c in m.spec.required if c.name in m.colmap]
    if required:
        no_key = pl.all_horizontal([pl.col(c).is_null() for c in required])
        if body.select(no_key.any()).item():
            keep = keep & ~(no_key & (pl.sum_horizontal([pl.col(c).is_not_null() for c in cols]) <= 3))
    # A title repeated above a block pasted in mid-sheet ("红山镇2026年10月农村低保对象名册"): the
    # row's only cell. Tested first on the row's first cell alone (cheap), counted only if one looks so.
    if body.select(pl.col("__first").str.contains(TITLE).any()).item():
        alone = pl.sum_horizontal([pl.col(c).is_not_null() for c in cols]) == 1
        keep = keep & ~(pl.col("__first").str.contains(TITLE) & alone)
    mapped = [(f"c{j}", m.headers[j]) for j in m.colmap.values() if m.headers[j]]
    if mapped:
        c0, h0 = mapped[0]
        if body.select((pl.col(c0).str.strip_chars(nz.WS_CHARS) == h0).any()).item():  # header repeated?
            repeat = pl.all_horizontal([pl.col(c).str.strip_chars(nz.WS_CHARS) == h for c, h in mapped])
            keep = keep & ~repeat.fill_null(False)
    return body.filter(keep).drop("__first")


# ---------------------------------------------------------------- warehouse writes

_COLUMNS_CACHE: dict[str, list[str]] = {}
LOW_CARDINALITY = {
    "run_id", "source_file", "source_sheet", "county", "township", "township_raw", "village", "visit_type",
    "icd10", "diagnosis", "assistance_type", "status", "enrolment_status", "stage", "grade", "school",
    "category", "cert_status", "renovation", "only_house", "relation", "gender", "school_status", "health",
    "labor", "work_status", "insured", "dibao", "tekun", "measure_type", "monitoring_category",
    "risk_eliminated", "edu_guaranteed", "med_guaranteed", "housing_guaranteed", "water_guaranteed",
    "source_table", "file", "sheet",
}


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    if table not in _COLUMNS_CACHE:
        _COLUMNS_CACHE[table] = [d[0] for d in con.execute(f"SELECT * FROM main.{table} LIMIT 0").description]
    return _COLUMNS_CACHE[table]


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, df: pl.DataFrame) -> None:
    """Append a polars frame by column name (Arrow, no copy through Python).

    Arrow of the oldest compat level: DuckDB scans polars' string_view arrays about
    eight times slower than plain large_string ones.
    """
    if df.height == 0:
        return
    cols = [c for c in table_columns(con, table) if c in df.columns]
    name = f"_ingest_{uuid.uuid4().hex}"
    low = [c for c in cols if c in LOW_CARDINALITY and df.schema[c] == pl.String]
    out = df.select(cols).with_columns([pl.col(c).cast(pl.Categorical) for c in low])
    con.register(name, out.to_arrow(compat_level=pl.CompatLevel.oldest()))
    try:
        collist = ", ".join(cols)
        con.execute(f"INSERT INTO {table} ({collist}) SELECT {collist} FROM {name}")
    finally:
        con.unregister(name)


# Rows per table an insert waits for. DuckDB appends a batch of a row group (122,880 rows) or
# more straight into new row groups; a smaller one goes through the transaction's local storage
# and is copied again at commit: one insert per file (~55,000 rows) cost twice the time.
BATCH_ROWS = 250_000


class Appender:
    """A folder's rows into DuckDB in batches, from a writer thread with a cursor of its own.

    polars normalises the next file while DuckDB appends (both release the GIL); at most one
    batch is being inserted. Rows keep reading order (the first occurrence of a duplicate is
    the one kept). A batch that is refused is inserted again frame by frame; a frame refused
    again is noted in `failed` by (file, sheet), and the folder reports that file unreadable
    (_settle_failed) while the others load.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.cur = con.cursor()
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.pending = None
        self.frames: dict[str, list[tuple[tuple[str, str | None], pl.DataFrame]]] = defaultdict(list)
        self.rows: dict[str, int] = defaultdict(int)
        self.failed: dict[tuple[str, str | None], str] = {}

    def add(self, table: str, key: tuple[str, str | None], df: pl.DataFrame) -> None:
        if df.height:
            self.frames[table].append((key, df))
            self.rows[table] += df.height
            if self.rows[table] >= BATCH_ROWS:
                self._send(table)

    def _send(self, table: str) -> None:
        frames = self.frames.pop(table)
        self.rows.pop(table)
        self.wait()
        self.pending = self.pool.submit(self._insert, table, frames)

    def _insert(self, table: str, frames) -> None:
        try:
            insert_frame(self.cur, table, pl.concat([df for _, df in frames], how="diagonal_relaxed", rechunk=False))
        except Exception:  # any refusal (DuckDB's, or Arrow's on the way) is a file's problem, not the run's
            for key, df in frames:
                try:
                    insert_frame(self.cur, table, df)
                except Exception as exc:  # noqa: PERF203 - each frame alone, to find the file
                    self.failed.setdefault(key, f"{type(exc).__name__}: {str(exc)[:200]}")

    def wait(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()

    def flush(self) -> None:
        """Every row added so far inserted: before a statement reads or deletes the folder's rows."""
        for table in list(self.frames):
            self._send(table)
        self.wait()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.pool.shutdown(wait=True)
            self.cur.close()


def _input_file(con, ctx, folder, rel, sheet, table=None, header_row=None, read=None, loaded=None,
                rejected=None, duplicates=None, status="loaded", reason=None, fp=None) -> None:
    con.execute(
        "INSERT INTO input_files (run_id, folder, file, sheet, source_table, header_row, rows_read,"
        " rows_loaded, rows_rejected, duplicates, status, reason, fingerprint)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [ctx.run_id, folder, rel, sheet, table, header_row, read, loaded, rejected, duplicates,
         status, reason, fp],
    )


def _unload(con, ctx, table: str, file: str, sheet: str | None, n: int, to: str) -> None:
    """Move n rows of one file/sheet's input_files record from rows_loaded to `to`
    (duplicates or rows_rejected), after they were deleted from the table."""
    con.execute(
        f"UPDATE input_files SET {to} = {to} + ?, rows_loaded = rows_loaded - ?"
        " WHERE run_id = ? AND source_table = ? AND file = ? AND sheet IS NOT DISTINCT FROM ?"
        " AND status = 'loaded'", [n, n, ctx.run_id, table, file, sheet])


def _dedupe(con, ctx, table: str) -> dict[tuple[str, str | None], int]:
    """Delete exact duplicate rows (all canonical columns equal) of the run; count them per file/sheet.

    The row kept is the first inserted (smallest rowid): files are read in path order and
    rows in file order, so it is the first occurrence in reading order. A hash of the row
    picks the candidates first, so the exact comparison (a window over every column) runs
    on the few rows that share a hash instead of sorting the whole table.
    """
    cols = [c for c in table_columns(con, table)
            if c not in ("run_id", "source_file", "source_sheet", "source_row")]
    part = ", ".join(cols)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _dups_{table} AS"
        f" WITH hashed AS (SELECT rowid AS rid, hash({part}) AS h FROM {table} WHERE run_id = ?),"
        f" shared AS (SELECT h FROM hashed GROUP BY h HAVING count(*) > 1),"
        f" candidates AS (SELECT rid FROM hashed SEMI JOIN shared USING (h))"
        f" SELECT rid, source_file, source_sheet FROM ("
        f" SELECT rowid AS rid, source_file, source_sheet, min(rowid) OVER (PARTITION BY {part}) AS keep"
        f" FROM {table} WHERE run_id = ? AND rowid IN (SELECT rid FROM candidates)) WHERE rid <> keep",
        [ctx.run_id, ctx.run_id])
    counts = {(f, s): n for f, s, n in con.execute(
        f"SELECT source_file, source_sheet, count(*) FROM _dups_{table} GROUP BY ALL").fetchall()}
    if counts:
        con.execute(f"DELETE FROM {table} WHERE rowid IN (SELECT rid FROM _dups_{table})")
        for (f, s), n in counts.items():
            _unload(con, ctx, table, f, s, n, "duplicates")
    con.execute(f"DROP TABLE _dups_{table}")
    return counts


# ---------------------------------------------------------------- the stage

def ingest_folder(ctx, folder: str, part: list[str] | None = None, first: bool = True) -> dict:
    """Load every file of inbox/<folder>; returns {table: {read, loaded, rejected, duplicates}}.

    Never raises for bad input: unreadable files and unmatched sheets are recorded in
    input_files and ctx.skip(), and the other files still load.

    `part`: only these files (paths relative to the inbox, a run of the folder's files in path
    order), and not the folder-wide steps (finish_folder), which the caller runs once every part
    is in, in path order (pipelines/fanout.py: a province's folder read on many workers). The
    entries of the folder that are not read are recorded by the `first` part only.
    """
    con = ctx.cursor()
    try:
        return _ingest_folder(ctx, con, folder, part, first)
    finally:
        con.close()


def _ingest_folder(ctx, con, folder: str, part: list[str] | None = None, first: bool = True) -> dict:
    root = Path(ctx.inbox) / folder
    counts: dict[str, dict[str, int]] = {}
    if root.is_symlink():
        why = _link_reason(root, Path(ctx.inbox))
        _input_file(con, ctx, folder, folder, None, status="skipped", reason=why)
        ctx.skip("source", folder, f"{why}（该部门本次未读取，相关规则跳过）")
        return counts
    if not root.is_dir():
        ctx.skip("source", folder, f"目录不存在：{folder}/（该部门本次未提供数据，相关规则跳过）")
        return counts
    files, not_read = list_files(root, Path(ctx.inbox))
    for p, why in not_read if first else ():
        rel = p.relative_to(ctx.inbox).as_posix()
        _input_file(con, ctx, folder, rel, None, status="skipped", reason=why)
        ctx.skip("file", rel, why)
    if not files:
        ctx.skip("source", folder, f"目录为空：{folder}/（该部门本次未提供数据，相关规则跳过）")
        return counts
    if part is not None:
        wanted = set(part)
        files = [p for p in files if p.relative_to(ctx.inbox).as_posix() in wanted]
    specs = specs_for_folder(folder)
    touched: set[str] = set()
    unparsed_all: dict[str, dict[str, int]] = ctx.notes.setdefault("ingest_unparsed", {})
    out = Appender(con)
    try:
        _read_files(ctx, con, out, folder, files, specs, counts, touched, unparsed_all)
    finally:
        out.close()
    _settle_failed(ctx, con, folder, out.failed, counts)
    if part is None:
        finish_folder(ctx, con, touched, counts)
    return counts


def finish_folder(ctx, con, touched: set[str], counts: dict | None = None) -> dict:
    """The folder-wide steps once all its rows are in: members' county from their household, exact
    duplicates (the first in reading order kept), a 户编号 on two household rows."""
    counts = counts if counts is not None else defaultdict(lambda: defaultdict(int))
    if {"members", "measures"} & touched:
        _household_county(con, ctx)
    for table in sorted(touched):
        for _, n in _dedupe(con, ctx, table).items():
            c = counts[table]
            c["duplicates"] += n
            c["loaded"] -= n
    if "households" in touched:
        n = _second_household_rows(con, ctx)
        counts["households"]["loaded"] -= n
        counts["households"]["rejected"] += n
    return counts


def _read_files(ctx, con, out: Appender, folder, files, specs, counts, touched, unparsed_all) -> None:
    for path in files:
        rel = path.relative_to(ctx.inbox).as_posix()
        fp = None  # the flow stamps input_files.fingerprint with the SHA-256 it already computed
        if path.suffix.lower() not in SUPPORTED:
            reason = f"不支持的文件类型（{path.suffix or '无扩展名'}）：只读取CSV、XLSX、XLS和Parquet"
            _input_file(con, ctx, folder, rel, None, status="skipped", reason=reason, fp=fp)
            ctx.skip("file", rel, reason)
            continue
        try:
            grids = read_grids(path)
        except ReadError as exc:
            _unreadable(con, ctx, folder, rel, None, str(exc), fp)
            continue
        except Exception as exc:  # any reader failure is this file's problem, not the run's
            _unreadable(con, ctx, folder, rel, None, f"文件无法读取：{type(exc).__name__}: {exc}"[:300], fp)
            continue
        for grid in grids:
            try:
                try:
                    tables = _ingest_grid(ctx, con, out, folder, rel, fp, grid, specs, counts, unparsed_all)
                except Exception:
                    if grid.scan is None:
                        raise
                    # a large CSV that polars refused halfway (a row wider than the first ones): read
                    # it again record by record, so the damage costs the damaged rows only
                    grid.close()
                    grid = read_grids(path, repair=True)[0]
                    tables = _ingest_grid(ctx, con, out, folder, rel, fp, grid, specs, counts, unparsed_all)
                touched.update(tables)
            except Exception as exc:
                _unreadable(con, ctx, folder, rel, grid.sheet,
                            f"读取时出错：{type(exc).__name__}: {str(exc)[:200]}", fp)
            finally:
                grid.close()


def _settle_failed(ctx, con, folder: str, failed: dict[tuple[str, str | None], str], counts) -> None:
    """A file or sheet whose rows DuckDB refused (Appender.failed): its rows removed, the file
    reported unreadable with the reason, the folder's figures taken back. Not expected: the
    normaliser types every value to fit its column; this keeps one file's surprise from
    costing the others."""
    for (rel, sheet), why in failed.items():
        rows = con.execute(
            "SELECT source_table, rows_read, rows_loaded, rows_rejected FROM input_files WHERE run_id = ?"
            " AND file = ? AND sheet IS NOT DISTINCT FROM ? AND status = 'loaded'", [ctx.run_id, rel, sheet]).fetchall()
        _discard(con, ctx, rel, sheet, [t for t, *_ in rows])
        con.execute("DELETE FROM input_files WHERE run_id = ? AND file = ? AND sheet IS NOT DISTINCT FROM ?"
                    " AND status = 'loaded'", [ctx.run_id, rel, sheet])
        for table, read, loaded, rejected in rows:
            c = counts[table]
            c["read"], c["loaded"], c["rejected"] = c["read"] - read, c["loaded"] - loaded, c["rejected"] - rejected
        _unreadable(con, ctx, folder, rel, sheet, f"读取时出错：{why}", None)


def _second_household_rows(con, ctx) -> int:
    """A 户编号 on two different household rows: the first read stays, the others go to rejects.

    Every rule counts a household once; a second row would double its members in
    active_members (false L13/L14) and list it twice. Which row is right is the
    township's call, so the later one is kept in rejects (its normalised values as raw),
    with the row number of the one kept.
    """
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _second_households AS
        SELECT * FROM (
            SELECT rowid AS rid, source_file, source_sheet, source_row,
                   first_value(source_file) OVER w AS kept_file, first_value(source_row) OVER w AS kept_row,
                   row_number() OVER w AS nth, to_json(households) AS raw
            FROM households
            WHERE run_id = ? AND household_id IN (
                SELECT household_id FROM households WHERE run_id = ? GROUP BY ALL HAVING count(*) > 1)
            WINDOW w AS (PARTITION BY household_id ORDER BY rowid))
        WHERE nth > 1
    """, [ctx.run_id, ctx.run_id])
    n = con.execute("SELECT count(*) FROM _second_households").fetchone()[0]
    if n:
        con.execute("""
            INSERT INTO rejects (run_id, source_table, file, sheet, row_number, reason, raw)
            SELECT ?, 'households', source_file, source_sheet, source_row,
                   '户编号重复：与' || kept_file || ' 第' || kept_row || '行为同一户编号、内容不同，保留先读到的一行',
                   raw
            FROM _second_households
        """, [ctx.run_id])
        con.execute("DELETE FROM households WHERE rowid IN (SELECT rid FROM _second_households)")
        for f, sh, k in con.execute("SELECT source_file, source_sheet, count(*) FROM _second_households"
                                    " GROUP BY ALL").fetchall():
            _unload(con, ctx, "households", f, sh, k, "rows_rejected")
    con.execute("DROP TABLE _second_households")
    return n


def _household_county(con, ctx) -> None:
    """Members and measures take their household's county (the three-table files carry none).

    In a province inbox the configured county is wrong for every other county's members;
    the household row (county column, else the configured county) is the record.
    """
    counties = con.execute("SELECT count(DISTINCT county) FROM households WHERE run_id = ?"
                           " AND county IS DISTINCT FROM ?", [ctx.run_id, ctx.config.county]).fetchone()[0]
    if not counties:
        return
    for table in ("members", "measures"):
        con.execute(f"""
            UPDATE {table} SET county = h.county
            FROM (SELECT household_id, min(county) AS county FROM households WHERE run_id = ?
                  GROUP BY household_id) AS h
            WHERE {table}.run_id = ? AND {table}.household_id = h.household_id
              AND {table}.county IS DISTINCT FROM h.county
        """, [ctx.run_id, ctx.run_id])


def _unreadable(con, ctx, folder, rel, sheet, reason, fp) -> None:
    _input_file(con, ctx, folder, rel, sheet, status="unreadable", reason=reason, fp=fp)
    ctx.skip("sheet" if sheet else "file", f"{rel}[{sheet}]" if sheet else rel, reason)


def _ingest_grid(ctx, con, out: Appender, folder, rel, fp, grid: Grid, specs, counts, unparsed_all) -> list[str]:
    label = f"{rel}[{grid.sheet}]" if grid.sheet else rel
    kind = "sheet" if grid.sheet else "file"
    if grid.encoding and grid.encoding.startswith("error:"):
        _unreadable(con, ctx, folder, rel, grid.sheet, f"工作表无法读取：{grid.encoding[6:]}", fp)
        return []
    frame = grid.frame
    if frame.height == 0 or frame.width == 0:
        reason = "工作表为空" if grid.sheet else "文件为空"
        _input_file(con, ctx, folder, rel, grid.sheet, status="skipped", reason=reason, fp=fp)
        ctx.skip(kind, label, reason)
        return []
    head_rows = [list(r) for r in frame.head(HEADER_SCAN_ROWS).iter_rows()]
    m = recognise(head_rows, specs, ctx.config.headers)
    if isinstance(m, str):
        _input_file(con, ctx, folder, rel, grid.sheet, status="skipped", reason=m, fp=fp)
        ctx.skip(kind, label, m)
        return []
    header_row = grid.first_row + m.header_idx
    national = m.spec.level == "national"
    reject_table = "members" if national else m.spec.table
    tables = ["households", "members", "measures"] if national else [m.spec.table]
    try:
        read, rejected_n, loaded_n, unparsed = _load_chunks(ctx, out, rel, grid, m, reject_table)
        damaged = _bad_rows(ctx, out, rel, grid, header_row, reject_table)
    except Exception:
        out.flush()
        _discard(con, ctx, rel, grid.sheet, tables)
        raise
    read, rejected_n = read + damaged, rejected_n + damaged
    note = TRUNCATED if grid.truncated else ""
    if unparsed:
        note += "；" if note else ""
        note += "未能识别的值（按空值入库）：" + "，".join(
            f"{m.headers[m.colmap[c]] or c}[{c}] {n}" for c, n in unparsed.items())
        for c, n in unparsed.items():
            key = (m.spec.column(c).get("part") or "households") if national else m.spec.table
            table_unparsed = unparsed_all.setdefault(key, {})
            table_unparsed[c] = table_unparsed.get(c, 0) + n
    for table in tables:
        n_loaded = loaded_n.get(table, 0)
        derived = national and table != "members"
        t_read = n_loaded if derived else read
        rej = 0 if derived else rejected_n
        reason = note or None
        if derived:
            reason = "由全国系统人员明细导出（监测对象信息）生成" + (f"；{note}" if note else "")
        _input_file(con, ctx, folder, rel, grid.sheet, table, header_row, t_read, n_loaded, rej, 0,
                    "loaded", reason, fp)
        c = counts.setdefault(table, {"read": 0, "loaded": 0, "rejected": 0, "duplicates": 0})
        c["read"] += t_read
        c["loaded"] += n_loaded
        c["rejected"] += rej
    return tables


def _load_chunks(ctx, out: Appender, rel, grid: Grid, m: Match, reject_table: str):
    """Normalise the grid chunk by chunk into the folder's Appender; the national export is reshaped whole."""
    national = m.spec.level == "national"
    const = [pl.lit(ctx.run_id).alias("run_id"), pl.lit(rel).alias("source_file"),
             pl.lit(grid.sheet, dtype=pl.String).alias("source_sheet")]
    read = rejected_n = 0
    loaded_n: dict[str, int] = defaultdict(int)
    unparsed: dict[str, int] = defaultdict(int)
    keep = []
    offset = 0
    key = (rel, grid.sheet)
    for chunk in grid.chunks():
        skip = max(0, m.header_idx + 1 - offset)
        body = body_rows(chunk, m, grid.first_row + offset, skip)
        offset += chunk.height
        if body.height == 0:
            continue
        body = _number_cells(grid, m, body)
        loaded, rejected, unp = normalise_sheet(body, m, ctx.as_of, ctx.config.county, grid.text)
        read += body.height
        rejected_n += rejected.height
        for k, v in unp.items():
            unparsed[k] += v
        loaded = loaded.with_columns(*const)
        if national:
            keep.append(loaded)
        else:
            loaded_n[m.spec.table] += loaded.height
        out.add("rejects", key, rejected.with_columns(
            const[0], pl.lit(reject_table).alias("source_table"), pl.lit(rel).alias("file"),
            pl.lit(grid.sheet, dtype=pl.String).alias("sheet")))
        if not national:
            out.add(m.spec.table, key, loaded)
    if national and keep:
        parts = reshape_national(pl.concat(keep, how="vertical_relaxed"), m.spec, set(m.colmap))
        for table, df in parts.items():
            out.add(table, key, df)
            loaded_n[table] += df.height
    grid.close()
    return read, rejected_n, dict(loaded_n), dict(unparsed)


def _number_cells(grid: Grid, m: Match, body: pl.DataFrame) -> pl.DataFrame:
    """`__num_<column>` per department ID column of a workbook: the cell was a number cell.

    Such an 18-digit ID kept only 15 significant digits (domain.md), and its check character
    fits by chance about once in eleven: the cell's type, not the digits, says it was mangled.
    """
    if grid.numeric is None or m.spec.level != "department":
        return body
    cols = [c.name for c in m.spec.columns if c.type == "id" and c.name in m.colmap]
    if not cols:
        return body
    masks = grid.numeric([m.colmap[c] for c in cols])
    at = body["__row"] - grid.first_row
    return body.with_columns(masks[m.colmap[c]].gather(at).alias(f"__num_{c}") for c in cols
                             if m.colmap[c] in masks)


def _bad_rows(ctx, out: Appender, rel, grid: Grid, header_row: int, reject_table: str) -> int:
    """Reject the records the reader found damaged (Grid.bad_rows) below the header; their count."""
    bad = [(row, reason, text) for row, (reason, text) in sorted(grid.bad_rows.items()) if row > header_row]
    if bad:
        out.add("rejects", (rel, grid.sheet), pl.DataFrame({
            "run_id": [ctx.run_id] * len(bad), "source_table": [reject_table] * len(bad),
            "file": [rel] * len(bad), "sheet": pl.Series([grid.sheet] * len(bad), dtype=pl.String),
            "row_number": [r for r, _, _ in bad], "reason": [why for _, why, _ in bad],
            "raw": [json.dumps({"原始内容": text[:RAW_CELL_CHARS]}, ensure_ascii=False) for _, _, text in bad],
        }))
    return len(bad)


def _discard(con, ctx, rel, sheet, tables) -> None:
    """Remove what a grid that failed halfway had inserted: its rows are then all unaccounted, not half."""
    for table in [*tables, "rejects"]:
        col = ("file", "sheet") if table == "rejects" else ("source_file", "source_sheet")
        con.execute(f"DELETE FROM {table} WHERE run_id = ? AND {col[0]} = ? AND {col[1]} IS NOT DISTINCT FROM ?",
                    [ctx.run_id, rel, sheet])


# ---------------------------------------------------------------- townships

_OFFICE_SQL = "regexp_replace({x}, '(人民政府|政府|办事处|办)$', '')"
_KEY_SQL = "regexp_replace(" + _OFFICE_SQL + ", '(镇|乡|街道)$', '')"


def resolve_townships(ctx) -> dict[str, dict[str, int]]:
    """Set `township` of every department table from `township_raw`, within the row's county.

    Call once after every folder is ingested. The roster's own spellings are resolved first
    (_resolve_roster_townships). When the roster holds one county that is not
    the configured one, department rows of the configured county (no county column) and the
    configured township aliases are taken as the roster's county first. Canonical names: the roster's township
    spellings (households) and the configured townships; a raw name resolves by exact
    match to a canonical name or configured alias, else by its stem without the suffix
    镇/乡/街道/人民政府/办事处 when that stem names exactly one canonical township of the
    county (红山, 红山乡, 红山镇人民政府 → 红山镇); 政府 and 办 (红山镇政府, 石门街道办) are
    stripped like 人民政府 and 办事处. Otherwise township stays NULL (S08).
    Returns {table: {"resolved": n, "unresolved": n}}.
    """
    con = ctx.cursor()
    try:
        return _resolve_townships(ctx, con)
    finally:
        con.close()


def _single_roster_county(ctx, con) -> str | None:
    """The roster's one county when it is not the configured one (the roster's 县 column says so).

    Department rows without a county of their own took the configured county; a county run
    without --config, or with a config naming the county differently from the roster, would
    then resolve none of their townships. In a single-county roster those rows are the
    roster's county. A province roster (several counties) is left as it is.
    """
    got = con.execute("SELECT DISTINCT county FROM households WHERE run_id = ? AND county IS NOT NULL",
                      [ctx.run_id]).fetchall()
    if len(got) != 1 or got[0][0] == ctx.config.county:
        return None
    return got[0][0]


def _placed_tables() -> list[str]:
    """Department tables that carry a township (the 负面清单 registers do not)."""
    return [s.table for s in department_specs() if s.placed]


def _resolve_roster_townships(ctx, con) -> None:
    """One spelling per township in the roster itself, so each township gets one workbook.

    A roster township written as a configured alias (红柳湾 for 红柳镇) or with a suffix
    (石门乡人民政府) takes the configured canonical name, exactly as a department's would
    (_town_names holds the configured names here). Spellings the configuration does not
    know are grouped when they differ only by an office suffix (人民政府, 政府, 办事处, 办: 石门乡 and
    石门乡人民政府, but never 红山镇 and 红山乡, which may be two townships); the group takes the
    spelling most of its households use (then the shorter, then the first in sort order).
    """
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _roster_towns AS
        WITH spelt AS (SELECT county, township AS name, count(*) AS n, {_KEY_SQL.format(x='township')} AS stem,
                              {_OFFICE_SQL.format(x='township')} AS office
                       FROM households WHERE run_id = ? AND township IS NOT NULL GROUP BY ALL),
        exact AS (SELECT s.county, s.name, min(t.canonical) AS canonical FROM spelt s
                  JOIN _town_names t ON t.county = s.county AND t.name = s.name GROUP BY ALL),
        by_stem AS (SELECT s.county, s.name, min(t.canonical) AS canonical FROM spelt s
                    JOIN _town_names t ON t.county = s.county AND t.stem = s.stem
                    GROUP BY ALL HAVING count(DISTINCT t.canonical) = 1),
        own AS (SELECT county, name, n, first_value(name) OVER (
                    PARTITION BY county, office ORDER BY n DESC, length(name), name) AS canonical FROM spelt)
        SELECT o.county, o.name, coalesce(e.canonical, b.canonical, o.canonical) AS canonical
        FROM own o LEFT JOIN exact e USING (county, name) LEFT JOIN by_stem b USING (county, name)
    """, [ctx.run_id])
    con.execute("""
        UPDATE households SET township = r.canonical FROM _roster_towns r
        WHERE households.run_id = ? AND households.county = r.county AND households.township = r.name
          AND r.canonical <> r.name
    """, [ctx.run_id])
    con.execute("DROP TABLE _roster_towns")


def _resolve_townships(ctx, con) -> dict[str, dict[str, int]]:
    rows = []
    single = _single_roster_county(ctx, con)
    if single is not None:
        for table in department_tables():
            con.execute(f"UPDATE {table} SET county = ? WHERE run_id = ? AND county = ?",
                        [single, ctx.run_id, ctx.config.county])
    for county, towns in ctx.config.township_aliases().items():
        if single is not None and county == ctx.config.county:
            county = single
        for canonical, aliases in towns.items():
            rows.append((county, canonical, canonical))
            rows.extend((county, a, canonical) for a in aliases)
    con.execute("CREATE OR REPLACE TEMP TABLE _town_names (county VARCHAR, name VARCHAR, canonical VARCHAR,"
                " stem VARCHAR)")
    if rows:
        con.executemany("INSERT INTO _town_names (county, name, canonical) VALUES (?, ?, ?)", rows)
    con.execute(f"UPDATE _town_names SET stem = {_KEY_SQL.format(x='name')}")
    _resolve_roster_townships(ctx, con)
    con.execute(
        f"INSERT INTO _town_names SELECT DISTINCT county, township, township, {_KEY_SQL.format(x='township')}"
        " FROM households WHERE run_id = ? AND township IS NOT NULL", [ctx.run_id])
    out = {}
    for table in _placed_tables():
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _town_map AS
            WITH raw AS (SELECT DISTINCT county, township_raw FROM {table}
                         WHERE run_id = ? AND township_raw IS NOT NULL),
            exact AS (SELECT r.county, r.township_raw, min(n.canonical) AS canonical
                      FROM raw r JOIN _town_names n ON n.county = r.county AND n.name = r.township_raw
                      GROUP BY ALL),
            stem AS (SELECT r.county, r.township_raw, min(n.canonical) AS canonical
                     FROM raw r JOIN _town_names n
                       ON n.county = r.county AND n.stem = {_KEY_SQL.format(x='r.township_raw')}
                     GROUP BY ALL HAVING count(DISTINCT n.canonical) = 1)
            SELECT r.county, r.township_raw, coalesce(e.canonical, s.canonical) AS canonical
            FROM raw r LEFT JOIN exact e USING (county, township_raw) LEFT JOIN stem s USING (county, township_raw)
        """, [ctx.run_id])
        con.execute(f"""
            UPDATE {table} SET township = m.canonical FROM _town_map m
            WHERE {table}.run_id = ? AND {table}.county = m.county AND {table}.township_raw = m.township_raw
        """, [ctx.run_id])
        res, unres = con.execute(
            f"SELECT count(township), count(*) FILTER (WHERE township IS NULL AND township_raw IS NOT NULL)"
            f" FROM {table} WHERE run_id = ?", [ctx.run_id]).fetchone()
        out[table] = {"resolved": res, "unresolved": unres}
    con.execute("DROP TABLE IF EXISTS _town_map")
    con.execute("DROP TABLE IF EXISTS _town_names")
    return out
