"""The declarative table specs of sources/specs/*.toml and header matching against them.

One spec per table of inputs.md, and the one place that names a department: its folder,
table, Chinese title and department, its canonical columns with the headers departments use
for each, the value type and, for enumerations, the known values and a `map` of codes to
them, and what its source checks need beyond that (dates allowed after the as-of date, the
freshness columns, table-specific checks such as S06/S07). Everything else derives from
here: the folders a run reads, the department tables' DDL and `COMMENT ON`s (`department_ddl`),
the S suites, the scorecard's and 说明 sheet's department lists. Adding a department table
means adding a spec file (and its rules).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

SPEC_DIR = Path(__file__).resolve().parent / "specs"

_TRAILING = re.compile(r"(\(元\)|\*)+$")


def header_key(text: object) -> str:
    """The form headers are compared in: NFKC, no whitespace, no trailing "(元)"/"（元）"/"*".

    A leading "*" (the usual required-field marker of templates) is dropped as well.
    """
    if text is None:
        return ""
    s = unicodedata.normalize("NFKC", str(text))
    s = re.sub(r"\s+", "", s)
    s = _TRAILING.sub("", s)
    return s.lstrip("*")


@dataclass(frozen=True)
class Column:
    name: str
    headers: tuple[str, ...]
    type: str
    required: bool = False
    values: tuple[str, ...] = ()
    map: tuple[tuple[str, str], ...] = ()
    min: float | None = None
    max: float | None = None
    signed: bool = False
    empty: str | None = None
    extra: tuple[tuple[str, Any], ...] = ()

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.extra).get(key, default)


@dataclass(frozen=True)
class Spec:
    table: str
    folder: str
    title: str
    level: str  # roster / department / national
    columns: tuple[Column, ...]
    department: str = ""  # the department's short Chinese name (民政, 医保, …)
    freshness: tuple[str, ...] = ()  # S09: the newest of these dates is the extract's freshness
    freshness_year: str | None = None  # S09 for a table dated by year only
    future_ok: tuple[str, ...] = ()  # date columns allowed after the as-of date (S03)
    checks: tuple[dict, ...] = ()  # table-specific checks ([[check]]: S06, S07, …)
    path: Path = field(default=Path("."), compare=False)

    @property
    def label(self) -> str:
        """How a clerk or officer is told of the table: 民政·火化/死亡登记."""
        return f"{self.department}·{self.title}" if self.department else self.title

    @property
    def placed(self) -> bool:
        """True when its records carry a township (the 负面清单 registers do not)."""
        return any(c.type == "township" for c in self.columns)

    @property
    def dated(self) -> bool:
        return bool(self.freshness or self.freshness_year)

    @property
    def required(self) -> list[Column]:
        return [c for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def header_lookup(self, aliases: dict[str, list[str]] | None = None) -> dict[str, str]:
        """header key -> canonical column; config aliases extend (never replace) the spec headers."""
        return {k: c for k, (c, _) in self.header_ranks(aliases).items()}

    def header_ranks(self, aliases: dict[str, list[str]] | None = None) -> dict[str, tuple[str, int]]:
        """header key -> (canonical column, rank of that header in the column's list: 0 = the usual one)."""
        out: dict[str, tuple[str, int]] = {}
        for c in self.columns:
            for rank, h in enumerate(self.headers_tried(c.name, aliases)):
                out.setdefault(header_key(h), (c.name, rank))
        return out

    def headers_tried(self, column: str, aliases: dict[str, list[str]] | None = None) -> list[str]:
        c = self.column(column)
        return list(c.headers) + list((aliases or {}).get(column, []))


_KNOWN = {"name", "headers", "type", "required", "values", "map", "min", "max", "signed", "empty"}


def _column(d: dict[str, Any]) -> Column:
    return Column(
        name=d["name"],
        headers=tuple(d.get("headers", [])),
        type=d.get("type", "text"),
        required=bool(d.get("required", False)),
        values=tuple(d.get("values", [])),
        map=tuple((str(k), str(v)) for k, v in d.get("map", {}).items()),
        min=d.get("min"),
        max=d.get("max"),
        signed=bool(d.get("signed", False)),
        empty=d.get("empty"),
        extra=tuple((k, v) for k, v in d.items() if k not in _KNOWN),
    )


def load_spec(path: Path) -> Spec:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    return Spec(
        table=raw["table"],
        folder=raw["folder"],
        title=raw.get("title", raw["table"]),
        level=raw.get("level", "department"),
        columns=tuple(_column(c) for c in raw["columns"]),
        department=raw.get("department", ""),
        freshness=tuple(raw.get("freshness", [])),
        freshness_year=raw.get("freshness_year"),
        future_ok=tuple(raw.get("future_ok", [])),
        checks=tuple(raw.get("check", [])),
        path=path,
    )


@lru_cache(maxsize=1)
def load_specs() -> tuple[Spec, ...]:
    return tuple(load_spec(p) for p in sorted(SPEC_DIR.glob("*.toml")))


def specs_for_folder(folder: str) -> list[Spec]:
    return [s for s in load_specs() if s.folder == folder]


def spec_for_table(table: str) -> Spec:
    for s in load_specs():
        if s.table == table:
            return s
    raise KeyError(table)


def department_specs() -> list[Spec]:
    """The department tables (not the roster), in spec-file order."""
    return [s for s in load_specs() if s.level == "department"]


def department_tables() -> list[str]:
    return [s.table for s in department_specs()]


def inbox_folders() -> list[str]:
    """Every folder a run reads, the roster first (its townships are the canonical spellings)."""
    folders = [s.folder for s in load_specs() if s.level != "department"]
    folders += [s.folder for s in department_specs()]
    return list(dict.fromkeys(folders))


# ---------------------------------------------------------------- warehouse DDL

_SQL_TYPE = {"date": "DATE", "money": "DECIMAL(18,2)", "int": "INTEGER", "list": "VARCHAR[]"}

_PROVENANCE = (
    ("source_file", "VARCHAR", "来源文件 Path of the input file, relative to the inbox."),
    ("source_sheet", "VARCHAR", "来源工作表 Sheet of the input workbook; null for CSV and Parquet."),
    ("source_row", "INTEGER",
     "来源行号 1-based row number in the file or sheet (first occurrence for folded duplicates)."),
)


def _column_comment(c: Column) -> str:
    notes = {
        "county": "the configured county when the file has no county column",
        "id": "normalised to 18 upper-case characters (15-digit upgraded)",
        "township": "the county's canonical township name, null when it does not resolve (S08)",
        "date": "unknown = null",
        "money": "元; unknown = null",
        "yesno": "是 / 否; unknown = null",
    }
    parts = [f"{c.headers[0]} (headers: {', '.join(c.headers)})"]
    if c.type in ("enum", "list") and c.values:
        parts.append("one of " + " / ".join(c.values))
    if c.get("comment"):
        parts.append(c.get("comment"))
    elif c.type in notes:
        parts.append(notes[c.type])
    return "; ".join(parts)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def table_ddl(spec: Spec) -> str:
    """CREATE TABLE and COMMENT ONs of one department table: run_id, the spec's columns (a township
    column also keeps the department's own spelling in township_raw), then the row's provenance."""
    cols: list[tuple[str, str, str]] = [("run_id", "VARCHAR NOT NULL", "运行编号 The run that loaded this row.")]
    for c in spec.columns:
        cols.append((c.name, _SQL_TYPE.get(c.type, "VARCHAR"), _column_comment(c)))
        if c.type == "township":
            cols.append(("township_raw", "VARCHAR", f"{c.headers[0]} as the department spelled it"))
    cols.extend(_PROVENANCE)
    width = max(len(n) for n, _, _ in cols) + 2
    body = ",\n".join(f"    {n.ljust(width)}{t}" for n, t, _ in cols)
    lines = [f"CREATE TABLE IF NOT EXISTS {spec.table} (\n{body}\n);",
             f"COMMENT ON TABLE {spec.table} IS "
             + _quote(f"{spec.title} ({spec.department}, {spec.folder}/): the normalised records of each run,"
                      " canonical names of inputs.md.") + ";"]
    lines += [f"COMMENT ON COLUMN {spec.table}.{n} IS {_quote(comment)};" for n, _, comment in cols]
    return "\n".join(lines) + "\n"


def department_ddl() -> str:
    """The DDL of every department table, generated from the specs (a table exists, empty, when
    its department sent nothing)."""
    return "\n".join(table_ddl(s) for s in department_specs())
