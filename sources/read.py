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
  A damaged CSV (a byte that does not decode, a NUL byte, line breaks mixing
  CR LF, LF and a lone CR, a row wider than the rest, no line break at the end)
  is read record by record instead, as Excel would: each damaged row is listed
  in `Grid.bad_rows` with its reason for the ingest to reject, the rest loads.
- XLSX / XLS: fastexcel (calamine), every sheet, all cells as strings, from the
  sheet's first row (skip_rows=0 keeps leading blank rows so row numbers hold);
  cells merged down over several rows give every row the block's value (the merges
  of .xlsx from the sheet XML, of .xls from its BIFF records: sources/xls_merges.py).
  Date cells come out as "2026-03-05 00:00:00"; dates typed as numbers in an
  unformatted cell come out as the Excel serial number — both parse as dates.
- Parquet: polars; the column names become row 1, data rows start at row 2
  (as if the table were opened in Excel).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import functools
import io
import itertools
import mmap
import os
import re
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from sources.xls_merges import xls_merges

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
SUPPORTED = CSV_SUFFIXES | EXCEL_SUFFIXES | PARQUET_SUFFIXES

_CHUNK = 16 * 1024 * 1024
_SNIFF = 1024 * 1024
_RATIO_BYTES = 64 * 1024  # GBK shows itself in thousands of damaged spots here (detect_encoding)
STREAM_BYTES = 64 * 1024 * 1024  # CSVs larger than this are read in chunks, not whole
CHUNK_ROWS = 500_000
MAX_CELL_CHARS = 32_767  # what one Excel cell holds; a longer cell is damage, not data

csv.field_size_limit(2**31 - 1)  # a 5 MB cell is one damaged row, not a file the csv module refuses


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
    bad_rows: dict[int, tuple[str, str]] = field(default_factory=dict)  # row -> (reason, text): damaged records
    truncated: bool = False  # the file ends mid-row (its last row is in bad_rows)
    # workbooks: grid column positions -> per frame row, whether the cell was a number cell
    numeric: Callable[[list[int]], dict[int, pl.Series]] | None = None

    @property
    def text(self) -> bool:
        """A CSV (read as text): a row may carry more values than its header."""
        return self.encoding is not None and not self.encoding.startswith("error:")

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
    """'utf-8' (BOM, or UTF-8 but for a stray damaged byte or two), 'utf-16' (with its BOM: Excel's
    "Unicode text") or 'gb18030' (what Excel on a Chinese Windows writes).

    One stray invalid byte must not turn a UTF-8 file into GB18030 mojibake: the head is UTF-8
    when its damaged spots (runs of bytes that do not decode) are at most a third as many as the
    non-ASCII characters that do (GBK text read as UTF-8 has more damaged spots than decoded
    characters: nearly every Chinese word fails); the damaged lines are then rejected one by one. Text with a NUL in every other byte is UTF-16 that lost its BOM.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = head[:65536].decode("utf-16", errors="replace")[:-2]  # the cut may split a character
        if not any(c in text for c in "\x00\ufffd\ufffe\uffff"):  # text, not bytes that start like a BOM
            return "utf-16"
    if head.count(0) * 4 > len(head):
        enc = "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
        with contextlib.suppress(UnicodeDecodeError):
            codecs.getincrementaldecoder(enc)().decode(head, final=False)
            return enc
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    damaged, wide = _damage_ratio(head[:_RATIO_BYTES])
    if damaged < 64 and len(head) > _RATIO_BYTES:  # too little evidence in the window: the whole head
        damaged, wide = _damage_ratio(head)
    return "utf-8" if damaged * 3 <= wide else "gb18030"


def _damage_ratio(head: bytes) -> tuple[int, int]:
    """(damaged spots, non-ASCII characters that decode) of bytes read as UTF-8 (detect_encoding)."""
    text = head.decode("utf-8", errors="replace")
    damaged = len(re.findall("\ufffd+", text))
    return damaged, len(text) - len(text.encode("ascii", errors="ignore")) - text.count("\ufffd")


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


def _plain(path: Path, encoding: str, target: Path | None = None) -> bool:
    """Whether a CSV can go straight to polars: it decodes throughout, holds no NUL byte and no lone
    CR (a line break of old Excel for Mac, which polars does not split on), and ends with a line
    break (a file cut mid-row does not). With `target`, the decoded text is written there as UTF-8
    on the way (partial when the answer is False). One pass in 16 MiB blocks.
    """
    dec = codecs.getincrementaldecoder(encoding)(errors="strict")
    carry, last = b"", b""
    try:
        with open(path, "rb") as src, (open(target, "wb") if target else contextlib.nullcontext()) as dst:
            for block in iter(lambda: src.read(_CHUNK), b""):
                text = dec.decode(block)
                if dst is not None:
                    dst.write(text.encode("utf-8"))
                buf = carry + block
                carry = b"\r" if buf.endswith(b"\r") else b""
                buf = buf[:-1] if carry else buf
                if b"\x00" in buf or buf.count(b"\r") != buf.count(b"\r\n"):
                    return False
                last = block[-1:]
            dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return not carry and last == b"\n"


_LINE = re.compile(rb"\r\n|\r|\n")
_HEAD_RECORDS = 200


def _records(path: Path, encoding: str, sep: str):
    """(row, fields or None, reason, text) per record, read as Excel reads a CSV: a line ends at CR LF,
    LF or a lone CR; a quoted field may span lines. A line that does not decode, or holds a NUL byte,
    is a damaged record (fields None) whose reason names its byte position in the file, and the next
    line goes on. The last record, when the file does not end with a line break, is marked "cut"
    by a reason of None and fields (checked against the width by the caller).
    """
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        size, pos, row = len(mm), 0, 0
        if mm[:3] == codecs.BOM_UTF8:
            pos = 3
        pending: list[str] = []
        damaged: str | None = None
        while pos < size:
            m = _LINE.search(mm, pos)
            end, nxt = (m.start(), m.end()) if m else (size, size)
            line = mm[pos:end]
            if damaged is None:
                at = line.find(b"\x00")
                if at >= 0:
                    damaged = f"含空字符（NUL）：文件第{pos + at + 1}字节"
                else:
                    try:
                        pending.append(line.decode(encoding))
                    except UnicodeDecodeError as exc:
                        damaged = f"无法解码的字节（按{_ENC_NAME.get(encoding, encoding)}）：文件第{pos + exc.start + 1}字节"
            if damaged is not None:
                pending.append(line.decode(encoding, errors="replace").replace("\x00", "\\0"))
            pos = nxt
            text = "\n".join(pending)
            if damaged is None and text.count('"') % 2 and pos < size:
                continue  # a quoted field goes on in the next line
            row += 1
            if damaged is not None:
                yield row, None, damaged, text
            else:
                fields = next(csv.reader([text], delimiter=sep)) if text else []
                cut = m is None or text.count('"') % 2
                yield row, fields, ("cut" if cut else ""), text
            pending, damaged = [], None


_ENC_NAME = {"utf-8": "UTF-8", "gb18030": "GBK/GB18030"}


def _repair(path: Path, encoding: str) -> Grid:
    """A damaged CSV, record by record, into a clean temporary UTF-8 file of one line per record.

    Each damaged record becomes an empty line there (so row numbers hold) and is listed in
    Grid.bad_rows with its reason, for the ingest to reject: a line that does not decode or holds
    a NUL byte; a row with more non-empty cells than the widest of the first 200 rows (an unquoted
    comma shifted its values); the last row, when the file ends without a line break and that row
    is short of cells or inside an open quote (the file was cut: Grid.truncated). Trailing empty
    cells beyond the width are dropped. Raises ReadError when most lines fail to decode: the
    file is in another encoding, or not text at all.
    """
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF).decode(encoding, errors="replace")
    sep, _ = _detect_layout(head.lstrip("\ufeff"))
    fd, tmp = tempfile.mkstemp(suffix=".csv", prefix="fangpin-")
    os.close(fd)
    bad: dict[int, tuple[str, str]] = {}
    undecodable, first_bad, rows, truncated = 0, None, 0, False
    try:
        records = _records(path, encoding, sep)
        first = list(itertools.islice(records, _HEAD_RECORDS))
        width = max([len(_trim(f)) for _, f, _, _ in first if f] or [1])
        with open(tmp, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            for row, fields, note, text in itertools.chain(first, records):
                rows = row
                if fields is None:
                    undecodable += 1
                    first_bad = first_bad or note
                    bad[row] = (note, text)
                else:
                    fields = _trim(fields) if len(fields) > width else fields
                    if len(fields) > width:
                        bad[row] = (f"列数多于表头（{len(fields)}列，应为{width}列）：可能含未加引号的逗号，整行拒收", text)
                    elif note == "cut" and (len(fields) < width or text.count('"') % 2):
                        truncated = True
                        bad[row] = ("最后一行不完整：文件可能被截断（复制中断），该行拒收", text)
                if row in bad:
                    fields = []
                writer.writerow(fields + [""] * (width - len(fields)))
        if undecodable * 2 > rows and (undecodable >= 3 or undecodable == rows):
            raise ReadError(f"编码无法识别（既不是UTF-8也不是GBK/GB18030），{undecodable}行无法解码，首处：{first_bad}")
    except BaseException:
        os.unlink(tmp)
        raise
    grid = _polars_grid(Path(tmp), "gbk" if encoding == "gb18030" else encoding, Path(tmp), width, sep)
    grid.bad_rows, grid.truncated = bad, truncated
    return grid


def _trim(fields: list[str]) -> list[str]:
    """Without trailing empty cells (a trailing separator, or Excel's empty columns)."""
    n = len(fields)
    while n and not fields[n - 1].strip():
        n -= 1
    return fields[:n]


def _polars_grid(src: Path, enc: str, cleanup: Path | None, width: int, sep: str) -> Grid:
    """polars reads src (UTF-8) as width string columns: whole, or lazily in chunks when large.
    A row wider than `width` raises (polars' ComputeError), so the caller can read it record by record."""
    opts = dict(has_header=False, schema={c: pl.String for c in _col_names(width)}, separator=sep,
                quote_char='"', truncate_ragged_lines=False, encoding="utf8", missing_columns="insert")
    if src.stat().st_size <= STREAM_BYTES:
        try:
            return Grid(None, pl.read_csv(src, **opts), 1, enc)
        finally:
            if cleanup is not None:
                cleanup.unlink(missing_ok=True)
    head = pl.read_csv(src, n_rows=200, **opts)
    return Grid(None, head, 1, enc, scan=pl.scan_csv(src, **opts), cleanup=cleanup)


def read_csv(path: Path, repair: bool = False) -> Grid:
    """One CSV as a grid. A clean file (see `_plain`) goes straight to polars; a damaged one, or one
    polars refuses (a row wider than the first rows), is read record by record (`_repair`), so the
    damage costs the damaged rows, not the file. `repair` forces the second way (the ingest asks
    for it when a large file, read lazily, failed halfway)."""
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF)
    if not head.strip():
        raise ReadError("文件为空")
    encoding = detect_encoding(head)
    try:
        if encoding.startswith("utf-16"):
            return _utf16(path, encoding)
        if not repair:
            grid = _fast(path, encoding, head)
            if grid is not None:
                return grid
        try:
            return _repair(path, encoding)
        except ReadError:
            if encoding != "utf-8":
                raise
            return _repair(path, "gb18030")  # UTF-8 at the start only: the rest is GBK
    except ReadError:
        raise
    except Exception as exc:
        raise ReadError(f"CSV无法读取：{_short(exc)}") from exc


def _fast(path: Path, encoding: str, head: bytes) -> Grid | None:
    """The clean file's way (None when it is not clean)."""
    sep, width = _detect_layout(head.decode(encoding, errors="ignore").lstrip("\ufeff"))
    if encoding == "utf-8":
        if not _plain(path, "utf-8"):
            return None
        src, cleanup = path, None
    else:
        fd, tmp = tempfile.mkstemp(suffix=".csv", prefix="fangpin-")
        os.close(fd)
        src = cleanup = Path(tmp)
        try:
            ok = _plain(path, encoding, src)
        except BaseException:
            src.unlink(missing_ok=True)
            raise
        if not ok:
            src.unlink(missing_ok=True)
            return None
    try:
        return _polars_grid(src, "gbk" if encoding == "gb18030" else encoding, cleanup, width, sep)
    except pl.exceptions.ComputeError:
        if cleanup is not None:
            cleanup.unlink(missing_ok=True)
        return None


def _utf16(path: Path, encoding: str) -> Grid:
    """Excel's "Unicode text" (UTF-16, tab separated), transcoded whole (strict)."""
    fd, tmp = tempfile.mkstemp(suffix=".csv", prefix="fangpin-")
    os.close(fd)
    try:
        _transcode(path, encoding, Path(tmp))
    except UnicodeDecodeError as exc:
        os.unlink(tmp)
        raise ReadError(f"编码无法识别（UTF-16）：文件第{exc.start + 1}字节附近") from exc
    except BaseException:
        os.unlink(tmp)
        raise
    text = Path(tmp).read_bytes()[:_SNIFF].decode("utf-8", errors="ignore")
    sep, width = _detect_layout(text.lstrip("\ufeff"))
    try:
        grid = _polars_grid(Path(tmp), "utf-16", None, width, sep)
    except pl.exceptions.ComputeError:
        try:
            grid = _repair(Path(tmp), "utf-8")
        finally:
            os.unlink(tmp)
        grid.encoding = "utf-16"
        return grid
    if grid.scan is None:
        os.unlink(tmp)
    else:
        grid.cleanup = Path(tmp)
    return grid


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
        grids.append(Grid(name, df, 1, numeric=functools.partial(_number_cells, reader, name)))
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        xls = xls_merges(path) if suffix == ".xls" else None
        for grid in grids:
            if grid.frame.height and not grid.encoding:
                if xls is None:
                    grid.frame = fill_merged_down(path, grid.sheet, grid.frame)
                else:
                    merges, first = xls.get(grid.sheet, ([], 0))
                    grid.frame = _fill_down(grid.frame, [(c1, r1 + 1, r2 + 1) for r1, r2, c1, _ in merges
                                                         if r2 > r1], first)
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
    return _fill_down(frame, merges, first[0])


def _fill_down(frame: pl.DataFrame, merges: list[tuple[int, int, int]], first: int) -> pl.DataFrame:
    """Fill each vertical merge (sheet column 0-based, first row, last row 1-based) down its block;
    `first` is the sheet column of the frame's c0."""
    by_col: dict[int, list[tuple[int, int]]] = {}
    for c, r1, r2 in merges:
        j = c - first
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


def _number_cells(reader, sheet: str, cols: list[int]) -> dict[int, pl.Series]:
    """Per grid column: true where the cell is a number (calamine turns a number into a boolean,
    and a text cell, digits or not, into an error), false where it is text or empty.

    Read only for the columns asked for (department ID columns): a text "620422199001010944"
    and the number 620422199001010944 read the same as strings.
    """
    try:
        batch, _errors = reader.load_sheet(sheet, header_row=None, skip_rows=0, dtypes="boolean",
                                           use_columns=cols).to_arrow_with_errors()
    except Exception:
        return {}
    df = pl.from_arrow(batch)
    return {j: df.to_series(i).is_not_null() for i, j in enumerate(cols) if i < df.width}


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


def read_grids(path: Path, repair: bool = False) -> list[Grid]:
    """All sheets of one file; ReadError when the file as a whole cannot be read.
    `repair`: read a CSV record by record (see read_csv)."""
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return [read_csv(path, repair)]
    if suffix in EXCEL_SUFFIXES:
        return read_excel(path)
    if suffix in PARQUET_SUFFIXES:
        return [read_parquet(path)]
    raise ReadError(f"不支持的文件类型：{suffix or '无扩展名'}")
