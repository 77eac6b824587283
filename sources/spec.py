"""The declarative table specs of sources/specs/*.toml and header matching against them.

One spec per table of inputs.md: its folder, its canonical columns, the headers
departments use for each, the value type and, for enumerations, the known values
and a `map` of codes to them. Adding a department table means adding a spec file.
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
    department: str = ""  # who delivers it, as a county officer names them: 民政, 医保, …
    path: Path = field(default=Path("."), compare=False)

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
