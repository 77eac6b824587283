"""Vectorised normalisation of raw cell text (polars expressions only, no per-value Python).

Each function takes an expression over a String column and returns an expression.
Decisions where inputs.md / domain.md leave room:
- an unparseable date, number or amount becomes null (the row is kept); ingest
  counts such cells per column and reports them (input_files.reason, ctx.notes);
- unknown enumeration values are kept as given (S04 counts them), known codes are
  mapped (spec `map`, full-width forms folded first: "Ａ" → "A" → "A级");
- yes/no also accepts Y/N, YES/NO, 1/0, √/×, 有/无 → 是/否;
- a money cell of "-", "—", "/", "无" is unknown (null), like an empty one;
- an ID is "Excel-mangled" when it is in scientific notation (6.20422E+17), or is
  18 digits whose check character fails and that are 15 significant digits — as
  text (…000) or as the double Excel stored (…010944 read back from a number
  cell); such IDs are never repaired. An ID ending in 000 whose check character
  fits is a real one (sequence x00, check 0: one ID in 1100, one in 25 where
  sequences are numbered from 000 per birthday) and is kept;
- names: the middle-dot look-alikes of minority names (•, ・, ･, ‧, ∙, ⋅, ., ．)
  are written as "·" (U+00B7), so the same name matches across departments;
- codes (户编号, phone numbers): full-width letters and digits folded, no spaces, no
  apostrophes or quotes (a text marker Excel or an export left in front of a long number).
"""

from __future__ import annotations

from datetime import date

import polars as pl

WS = r"[\s\u3000\u00a0\u200b\ufeff]"
_FULLWIDTH_DIGITS = {chr(0xFF10 + i): str(i) for i in range(10)}
_FULLWIDTH_DIGITS.update({"Ｘ": "X", "ｘ": "X", "x": "X"})
_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK = "10X98765432"


WS_CHARS = " \t\r\n\v\f\u3000\u00a0\u200b\ufeff"


def clean(e: pl.Expr) -> pl.Expr:
    """Trim ordinary and full-width spaces; empty → null."""
    s = e.str.strip_chars(WS_CHARS)
    return pl.when(s == "").then(None).otherwise(s)


def nfkc(e: pl.Expr) -> pl.Expr:
    return clean(e.str.normalize("NFKC"))


_DOTS = ["•", "・", "･", "‧", "∙", "⋅", "．", "."]


def name(e: pl.Expr) -> pl.Expr:
    """No spaces anywhere ("张  三" → 张三); empty → null."""
    s = e.str.replace_all(f"{WS}+", "")
    return pl.when(s == "").then(None).otherwise(s)


# What the regex class WS matches (Unicode White_Space, zero-width space, BOM), as literals.
_SPACES = ["\t", "\n", "\v", "\f", "\r", " ", "\x85", "\xa0", "\u1680", *map(chr, range(0x2000, 0x200B)),
           "\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "\u200b", "\ufeff"]


def person_name(e: pl.Expr) -> pl.Expr:
    """A person's name: no spaces; the "·" of minority names kept, its look-alikes folded to it.

    One literal pass (Aho-Corasick): names are per row, and this is faster than the regex of `name`.
    """
    s = e.str.replace_many(_SPACES + _DOTS, [""] * len(_SPACES) + ["·"] * len(_DOTS))
    return pl.when(s == "").then(None).otherwise(s)


def township_text(e: pl.Expr) -> pl.Expr:
    return name(e.str.normalize("NFKC"))


_ID_DROP = [" ", "\t", "\u3000", "\u00a0", "\u200b", "\ufeff", "'", "‘", "’", "`", '"', "“", "”"]


_FULLWIDTH_ALNUM = {chr(c): chr(c - 0xFEE0) for c in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]}
_CODE_FROM = [*_SPACES, "'", "‘", "’", "`", '"', "“", "”", "－", *_FULLWIDTH_ALNUM]
_CODE_TO = [""] * (len(_CODE_FROM) - len(_FULLWIDTH_ALNUM) - 1) + ["-", *_FULLWIDTH_ALNUM.values()]


def code(e: pl.Expr) -> pl.Expr:
    """A key or number kept as text (户编号, phone): no spaces, apostrophes or quotes, full-width
    letters and digits folded; empty → null. One literal pass (NFKC is ten times slower per row).

    "'620121001001000001", "６２０１２１ 001" and " 620121001 " join as the same household.
    """
    s = e.str.replace_many(_CODE_FROM, _CODE_TO)
    return pl.when(s == "").then(None).otherwise(s)


def id_strip(e: pl.Expr) -> pl.Expr:
    """Spaces, apostrophes and quotes removed; full-width digits and x folded to 0-9 / X.

    Literal replacements only (Aho-Corasick), no regex: this runs on every ID.
    """
    s = e.str.replace_many(_ID_DROP, [""] * len(_ID_DROP)).str.replace_many(list(_FULLWIDTH_DIGITS), list(_FULLWIDTH_DIGITS.values()))
    s = s.str.strip_suffix(".0")
    return pl.when(s == "").then(None).otherwise(s)


def check_from_number(n: pl.Expr) -> pl.Expr:
    """GB 11643 check character from the 17 leading digits held as one UInt64 column.

    Pass a column reference: the digits are taken arithmetically (17 uses of n), far
    faster than slicing the string 17 times, but only if n is not recomputed each time.
    """
    total = pl.sum_horizontal([(n // 10 ** (16 - i)) % 10 * w for i, w in enumerate(_WEIGHTS)])
    return (total % 11).replace_strict(dict(enumerate(_CHECK)), default=None, return_dtype=pl.String)


def with_ids(df: pl.DataFrame, raw: dict[str, pl.Expr]) -> pl.DataFrame:
    """Add `__id_<name>` (normalised ID) and `__chk_<name>` (check character right) per raw ID column.

    Phased with_columns so no large sub-expression is evaluated more than once:
    strip → 17-digit body (15-digit upgraded: "19" inserted) → its number → check
    character → the 18-character ID.
    """
    df = df.with_columns([id_strip(e).alias(f"__ids_{k}") for k, e in raw.items()])
    bodies = []
    for k in raw:
        s = pl.col(f"__ids_{k}")
        body = (pl.when(s.str.contains(r"^\d{15}$")).then(s.str.slice(0, 6) + pl.lit("19") + s.str.slice(6, 9))
                .when(s.str.contains(r"^\d{17}[\dX]$")).then(s.str.slice(0, 17)))
        bodies.append(body.alias(f"__idb_{k}"))
    df = df.with_columns(bodies)
    df = df.with_columns([pl.col(f"__idb_{k}").cast(pl.UInt64, strict=False).alias(f"__idn_{k}") for k in raw])
    df = df.with_columns([check_from_number(pl.col(f"__idn_{k}")).alias(f"__idc_{k}") for k in raw])
    out = []
    for k in raw:
        s, body, chk = pl.col(f"__ids_{k}"), pl.col(f"__idb_{k}"), pl.col(f"__idc_{k}")
        fifteen = s.str.contains(r"^\d{15}$")
        out.append(pl.when(fifteen).then(body + chk).otherwise(s).alias(f"__id_{k}"))
        out.append((fifteen | (chk == s.str.slice(17, 1))).fill_null(False).alias(f"__chk_{k}"))
    return df.with_columns(out).drop([f"__{p}_{k}" for k in raw for p in ("ids", "idb", "idn", "idc")])


def birth_ok(normalised: pl.Expr, as_of: date) -> pl.Expr:
    """The birth date inside an ID exists and lies between 1900-01-01 and the as-of date."""
    birth = normalised.str.slice(6, 8).str.strptime(pl.Date, "%Y%m%d", strict=False)
    return (birth.is_not_null() & (birth >= date(1900, 1, 1)) & (birth <= as_of)).fill_null(False)


def id_problem(normalised: pl.Expr, good_check: pl.Expr, raw: pl.Expr, as_of: date, label: str) -> pl.Expr:
    """Why an ID is not a valid resident ID (Chinese, plain words), or null when it is valid.

    `normalised` and `good_check` are the columns of `with_ids`.
    """
    s = normalised
    shape = s.str.contains(r"^\d{17}[\dX]$")
    raw_text = clean(raw)
    # A number cell keeps 15 significant digits as a double: read back it is e.g. 620422199001010944.
    as_float = s.cast(pl.Float64, strict=False)
    float_form = ((as_float / 1000).round(0) * 1000).cast(pl.Int64, strict=False).cast(pl.String)
    return (
        pl.when(s.is_null()).then(pl.lit(f"{label}为空"))
        .when(s.str.contains(r"^\d(\.\d+)?[Ee][+-]?\d+$"))
        .then(pl.lit(f"{label}无法恢复：被Excel转为科学计数法（") + raw_text + pl.lit("）"))
        .when((s.str.contains(r"^\d{15}000$") | (s.str.contains(r"^\d{18}$") & (float_form == s))) & ~good_check)
        .then(pl.lit(f"{label}无法恢复：被Excel按数字保存，只剩15位有效数字（校验位不符）"))
        .when(~shape).then(pl.lit(f"{label}无效：不是18位证件号码（15位旧号会自动升级）"))
        .when(~birth_ok(s, as_of))
        .then(pl.lit(f"{label}无效：出生日期不存在"))
        .when(~good_check).then(pl.lit(f"{label}无效：校验位错误"))
        .otherwise(None)
    )


def date_value(e: pl.Expr) -> pl.Expr:
    """2026-03-05, 2026/3/5, 20260305, 2026年3月5日, 2026.03.05, Excel serial, with or without a time."""
    s = clean(e.str.normalize("NFKC"))
    s = s.str.replace(r"[T\s].*$", "").str.replace(r"^(\d{8})\.0+$", "$1")
    serial = s.str.contains(r"^\d{5}(\.\d+)?$")
    days = s.str.extract(r"^(\d{5})", 1).cast(pl.Int64, strict=False)
    from_serial = pl.lit(date(1899, 12, 30)) + pl.duration(days=days)
    compact = s.str.strptime(pl.Date, "%Y%m%d", strict=False)
    t = s.str.replace_all(r"[年月/.]", "-").str.replace(r"日$", "")
    parts = t.str.extract_groups(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
    iso = (
        parts.struct.field("1") + "-" + parts.struct.field("2").str.zfill(2) + "-"
        + parts.struct.field("3").str.zfill(2)
    ).str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    return (
        pl.when(serial).then(from_serial.cast(pl.Date))
        .when(s.str.contains(r"^\d{8}$")).then(compact)
        .otherwise(iso)
    )


_MONEY_FOLD = {chr(0xFF10 + i): str(i) for i in range(10)} | {"．": ".", "－": "-", "−": "-", "＋": "+"}
_MONEY_DROP = [",", "，", " ", "\u3000", "\u00a0", "元", "¥", "￥"]
_UNKNOWN = ["-", "--", "—", "——", "/", "无"]


# The warehouse's money (DECIMAL(18,2)) and whole-number (INTEGER) columns hold no more: a cell
# beyond them is a typo or a pasted ID, and counts as a value not understood, never as a file
# DuckDB refuses.
MONEY_LIMIT = 1e16
INT_LIMIT = 2**31 - 1


def money(e: pl.Expr) -> pl.Expr:
    """1234.5, "1,234.50", "1234.50元", "¥1234" → 1234.5; "-" or empty → null."""
    s = e.str.replace_many(list(_MONEY_FOLD), list(_MONEY_FOLD.values())).str.replace_many(_MONEY_DROP, [""] * len(_MONEY_DROP))
    s = s.str.strip_chars(WS_CHARS)
    v = pl.when(s.is_in(_UNKNOWN) | (s == "")).then(None).otherwise(s).cast(pl.Float64, strict=False)
    return pl.when(v.abs() < MONEY_LIMIT).then(v)  # beyond DECIMAL(18,2): not an amount (unparsed)


def integer(e: pl.Expr) -> pl.Expr:
    s = clean(e.str.normalize("NFKC")).str.replace(r"\.0+$", "").str.replace(r"(个月|年度|[年人月个户岁])$", "")
    v = s.cast(pl.Int64, strict=False)
    return pl.when(v.abs() <= INT_LIMIT).then(v)  # beyond the INTEGER column: not a count (unparsed)


def enum(e: pl.Expr, mapping: dict[str, str]) -> pl.Expr:
    s = name(e.str.normalize("NFKC"))
    if mapping:
        s = s.replace(mapping)
    return s


_YES = ["是", "Y", "YES", "1", "√", "✓", "TRUE", "有"]
_NO = ["否", "N", "NO", "0", "×", "✗", "FALSE", "无"]


def yesno(e: pl.Expr) -> pl.Expr:
    s = name(e.str.normalize("NFKC")).str.to_uppercase()
    return pl.when(s.is_in(_YES)).then(pl.lit("是")).when(s.is_in(_NO)).then(pl.lit("否")).otherwise(s)


def school_status(e: pl.Expr) -> pl.Expr:
    """The national export's grade values mapped to the stages of inputs.md; others kept."""
    s = name(e.str.normalize("NFKC"))
    return (
        pl.when(s.is_in(["学龄前儿童", "学龄前", "学前"])).then(pl.lit("学前教育"))
        .when(s.str.contains(r"^([一二三四五六]年级|小学.*)$")).then(pl.lit("小学"))
        .when(s.str.contains(r"^([七八九]年级|初中.+)$")).then(pl.lit("初中"))
        .when(s.str.contains(r"^高中.+$")).then(pl.lit("高中"))
        .when(s.str.contains(r"^中职.+$")).then(pl.lit("中职"))
        .when(s.str.contains(r"^高职.*$")).then(pl.lit("高职"))
        .when(s.str.contains(r"^(本科.+|硕士.*|博士.*|研究生.*)$")).then(pl.lit("本科及以上"))
        .otherwise(s)
    )


def split_list(e: pl.Expr) -> pl.Expr:
    """"因病、因残；因学" → ["因病", "因残", "因学"]; empty → null."""
    s = nfkc(e).str.replace_all(r"[、,，;；/\s]+", ",")
    lst = s.str.split(",").list.eval(pl.element().filter(pl.element() != ""))
    return pl.when(lst.list.len() > 0).then(lst)


def upper_code(e: pl.Expr) -> pl.Expr:
    return name(e.str.normalize("NFKC")).str.to_uppercase()


def parse_failed(raw: pl.Expr, parsed: pl.Expr, kind: str) -> pl.Expr:
    """True where a cell held text that the parser could not turn into a value."""
    present = clean(raw)
    if kind == "money":
        present = pl.when(present.is_in(_UNKNOWN)).then(None).otherwise(present)
    return present.is_not_null() & parsed.is_null()
