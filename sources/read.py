"""Read any inbox file as raw text grids: one headerless all-string frame per sheet.

Every format comes out the same way — columns c0..cN of strings, one frame row per
physical row of the file or sheet (blank rows included), and the physical row
number of the frame's first row — so header detection, footer handling and row
numbers (as a person sees them in Excel) are the same code for all of them.

- CSV: UTF-8 (with or without BOM) is read by polars directly; UTF-16 with a BOM
  (Excel's "Unicode text", tab separated) and anything else that is not UTF-8
  (decoded as GB18030, a superset of GBK) are transcoded in Python in 16 MiB chunks
  into a temporary UTF-8 file, which polars then reads. Files over 64 MiB are
  scanned lazily and handed out in chunks of 500k rows (`Grid.chunks`), so memory
  stays bounded whatever the file size. Comma or tab is chosen
  from the first lines. Each physical line is one row (a quoted field spanning
  lines shifts later row numbers, as it would not in Excel; rare in extracts).
- XLSX / XLS: fastexcel (calamine), every sheet, all cells as strings, from the
  sheet's first row (skip_rows=0 keeps leading blank rows so row numbers hold).
  Date cells come out as "2026-03-05 00:00:00"; dates typed as numbers in an
  unformatted cell come out as the Excel serial number — both parse as dates.
- Parquet: polars; the column names become row 1, data rows start at row 2
  (as if the table were opened in Excel).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
SUPPORTED = CSV_SUFFIXES | EXCEL_SUFFIXES | PARQUET_SUFFIXES

_CHUNK = 16 * 1024 * 1024
_SNIFF = 1024 * 1024
STREAM_BYTES = 64 * 1024 * 1024  # CSVs larger than this are read in chunks, not whole
CHUNK_ROWS = 500_000


class ReadError(Exception):
    """A file that cannot be read at all; the message is the reason shown to the user."""


@dataclass
class Grid:
    sheet: str | None
    frame: pl.DataFrame  # columns c0..cN, all String, one row per physical row (the head only when chunked)
    first_row: int = 1  # physical (1-based) row number of frame row 0
    encoding: str | None = None
    scan: pl.LazyFrame | None = None  # a large CSV: the whole file, read in chunks by `chunks()`
    cleanup: Path | None = None  # temporary transcoded file to delete once read

    def chunks(self, size: int | None = None):
        """The whole grid as consecutive frames (one for workbooks, Parquet and small CSVs)."""
        if self.scan is None:
            yield self.frame
            return
        yield from self.scan.collect_batches(chunk_size=size or CHUNK_ROWS)

    def close(self) -> None:
        if self.cleanup is not None:
            self.cleanup.unlink(missing_ok=True)
            self.cleanup = None


def _col_names(n: int) -> list[str]:
    return [f"c{i}" for i in range(n)]


def detect_encoding(head: bytes) -> str:
    """'utf-8' (BOM or valid UTF-8), 'utf-16' (with its BOM: Excel's "Unicode text") or 'gb18030'
    (what Excel on a Chinese Windows writes)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = head[:65536].decode("utf-16", errors="replace")[:-2]  # the cut may split a character
        if not any(c in text for c in "\x00\ufffd\ufffe\uffff"):  # text, not bytes that start like a BOM
            return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def _detect_layout(text: str) -> tuple[str, int]:
    """Separator (tab or comma) and the widest row among the first lines."""
    lines = [ln for ln in text.splitlines()[:200] if ln.strip()]
    if not lines:
        return ",", 1
    tabs = sum(ln.count("\t") for ln in lines)
    commas = sum(ln.count(",") for ln in lines)
    sep = "\t" if tabs > commas else ","
    width = max(len(row) for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=sep))
    return sep, max(width, 1)


def _transcode(path: Path, encoding: str, target: Path) -> None:
    """Decode a whole file chunk by chunk into UTF-8 (strict: a wrong encoding is a ReadError)."""
    dec = codecs.getincrementaldecoder(encoding)(errors="strict")
    with open(path, "rb") as src, open(target, "wb") as dst:
        while True:
            block = src.read(_CHUNK)
            if not block:
                dst.write(dec.decode(b"", final=True).encode("utf-8"))
                break
            dst.write(dec.decode(block).encode("utf-8"))


def _check_utf8(path: Path) -> None:
    """Raise polars' ComputeError (as its reader would) when a file is not UTF-8 throughout."""
    dec = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(_CHUNK), b""):
                dec.decode(block)
            dec.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise pl.exceptions.ComputeError(f"invalid utf-8 at byte {exc.start}") from exc


def read_csv(path: Path) -> Grid:
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF)
    if not head.strip():
        raise ReadError("文件为空")
    encoding = detect_encoding(head)
    try:
        text = head.decode(encoding, errors="ignore")
    except LookupError as exc:  # pragma: no cover - codecs are built in
        raise ReadError(str(exc)) from exc
    sep, width = _detect_layout(text.lstrip("\ufeff"))
    schema = {c: pl.String for c in _col_names(width)}

    opts = dict(has_header=False, schema=schema, separator=sep, quote_char='"',
                truncate_ragged_lines=True, encoding="utf8", missing_columns="insert")

    def _grid(src: Path, enc: str, cleanup: Path | None) -> Grid:
        if src.stat().st_size <= STREAM_BYTES:
            try:
                return Grid(None, pl.read_csv(src, **opts), 1, enc)
            finally:
                if cleanup is not None:
                    cleanup.unlink(missing_ok=True)
        if enc == "utf-8" and cleanup is None:
            _check_utf8(src)
        head = pl.read_csv(src, n_rows=200, **opts)
        return Grid(None, head, 1, enc, scan=pl.scan_csv(src, **opts), cleanup=cleanup)

    try:
        if encoding == "utf-8":
            try:
                return _grid(path, "utf-8", None)
            except pl.exceptions.ComputeError as exc:
                if "utf" not in str(exc).lower():
                    raise
                encoding = "gb18030"  # valid UTF-8 at the start only: decode the whole as GB18030
        fd, tmp = tempfile.mkstemp(suffix=".csv", prefix="fangpin-")
        os.close(fd)
        try:
            _transcode(path, encoding, Path(tmp))
        except UnicodeDecodeError as exc:
            os.unlink(tmp)
            raise ReadError(f"编码无法识别（既不是UTF-8也不是GBK/GB18030）：第{exc.start}字节附近") from exc
        except BaseException:
            os.unlink(tmp)
            raise
        return _grid(Path(tmp), "gbk" if encoding == "gb18030" else encoding, Path(tmp))
    except ReadError:
        raise
    except Exception as exc:
        if "not properly escaped" in str(exc):
            raise ReadError("CSV无法读取：引号不配对（文件可能被截断或损坏）") from exc
        raise ReadError(f"CSV无法读取：{_short(exc)}") from exc


def _short(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()
    return (msg[0] if msg else type(exc).__name__)[:200]


def read_excel(path: Path) -> list[Grid]:
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
    except Exception as exc:
        raise ReadError(f"工作簿无法打开（文件损坏或不是Excel格式）：{_short(exc)}") from exc
    grids = []
    for name in reader.sheet_names:
        try:
            sheet = reader.load_sheet(name, header_row=None, dtypes="string", skip_rows=0)
            df = sheet.to_polars()
        except Exception as exc:
            grids.append(Grid(name, pl.DataFrame(), 1, f"error:{_short(exc)}"))
            continue
        if df.width == 0:
            df = pl.DataFrame(schema={"c0": pl.String})
        df = df.rename(dict(zip(df.columns, _col_names(df.width), strict=True))).cast(pl.String)
        grids.append(Grid(name, df, 1))
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        for grid in grids:
            if grid.frame.height and not grid.encoding:
                grid.frame = fill_merged_down(path, grid.sheet, grid.frame)
    return grids


_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
       "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
       "p": "http://schemas.openxmlformats.org/package/2006/relationships"}
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]{1,3})(\d+):([A-Z]{1,3})(\d+)"')
_VALUED_CELL = re.compile(rb'<(?:\w+:)?c\s+r="([A-Z]{1,3})\d+"[^>]*?(?<!/)>')


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n - 1


def _sheet_xml_paths(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its XML part, from workbook.xml and its relationships."""
    from xml.etree import ElementTree as ET

    wb = ET.fromstring(z.read("xl/workbook.xml"))
    rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    target = {r.get("Id"): r.get("Target", "") for r in rels.findall("p:Relationship", _NS)}
    out = {}
    for sh in wb.iterfind("m:sheets/m:sheet", _NS):
        t = target.get(sh.get(f"{{{_NS['r']}}}id"), "")
        out[sh.get("name")] = t.lstrip("/") if t.startswith("/") else f"xl/{t}"
    return out


def _scan(z: zipfile.ZipFile, part: str, pattern: re.Pattern, fn, needle: bytes | None = None) -> None:
    """Run fn over every match of pattern in a (possibly large) XML part, streamed in chunks;
    a chunk without `needle` (a plain substring search) is not searched with the pattern."""
    tail = b""
    with z.open(part) as fh:
        while block := fh.read(_CHUNK):
            buf = tail + block
            cut = buf.rfind(b"<")  # a tag may straddle the chunk boundary: keep it for the next round
            done, tail = (buf[:cut], buf[cut:]) if cut > 0 else (buf, b"")
            at = 0 if needle is None else done.find(needle)
            if at >= 0:
                for mt in pattern.finditer(done, max(0, done.rfind(b"<", 0, at))):
                    fn(mt)
        for mt in pattern.finditer(tail):
            fn(mt)


def fill_merged_down(path: Path, sheet: str | None, frame: pl.DataFrame) -> pl.DataFrame:
    """Give every row of a vertically merged block the block's value.

    Township rosters merge 户编号, 户主姓名 or 乡镇 down over a household's member rows;
    the file stores the value in the first cell only, so the other members would read
    as rows without 户编号. Only blocks spanning several rows are filled, in their first
    column: a title merged across a row stays one cell. The frame's columns start at
    the first column holding a value (as calamine reads it), found from the sheet XML
    only when a vertical merge exists.
    """
    try:
        with zipfile.ZipFile(path) as z:
            part = _sheet_xml_paths(z).get(sheet)
            if part is None or part not in z.namelist():
                return frame
            merges: list[tuple[int, int, int]] = []

            def merge(mt):
                r1, r2 = int(mt.group(2)), int(mt.group(4))
                if r2 > r1:
                    merges.append((_col_index(mt.group(1)), r1, r2))

            _scan(z, part, _MERGE, merge, needle=b"mergeCell ")
            if not merges:
                return frame
            first = [1 << 30]

            def cell(mt):
                c = _col_index(mt.group(1))
                if c < first[0]:
                    first[0] = c

            _scan(z, part, _VALUED_CELL, cell)
    except (zipfile.BadZipFile, KeyError, OSError, SyntaxError):
        return frame  # fastexcel read it; the merges are a nicety
    by_col: dict[int, list[tuple[int, int]]] = {}
    for c, r1, r2 in merges:
        j = c - first[0]
        if 0 <= j < frame.width and r1 <= frame.height:
            by_col.setdefault(j, []).append((r1 - 1, min(r2, frame.height)))  # frame row 0 = sheet row 1
    if not by_col:
        return frame
    fills = []
    for j, spans in by_col.items():
        idx = list(range(frame.height))
        for top, end in spans:
            idx[top:end] = [top] * (end - top)
        name = f"c{j}"
        fills.append(pl.coalesce(pl.col(name), pl.col(name).gather(pl.Series(idx, dtype=pl.UInt32))).alias(name))
    return frame.with_columns(fills)


def read_parquet(path: Path) -> Grid:
    try:
        df = pl.read_parquet(path)
    except Exception as exc:
        raise ReadError(f"Parquet无法读取：{_short(exc)}") from exc
    header = pl.DataFrame({f"c{i}": [str(n)] for i, n in enumerate(df.columns)})
    body = df.select(
        pl.col(c).cast(pl.String).alias(f"c{i}") if not isinstance(df.schema[c], pl.List)
        else pl.col(c).list.eval(pl.element().cast(pl.String)).list.join("、").alias(f"c{i}")
        for i, c in enumerate(df.columns)
    )
    return Grid(None, pl.concat([header, body]), 1)


def read_grids(path: Path) -> list[Grid]:
    """All sheets of one file; ReadError when the file as a whole cannot be read."""
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return [read_csv(path)]
    if suffix in EXCEL_SUFFIXES:
        return read_excel(path)
    if suffix in PARQUET_SUFFIXES:
        return [read_parquet(path)]
    raise ReadError(f"不支持的文件类型：{suffix or '无扩展名'}")
