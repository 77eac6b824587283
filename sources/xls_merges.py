"""Merged cell ranges of a legacy .xls workbook (BIFF8 in an OLE2 compound file), per sheet.

fastexcel (calamine) reads the values of an .xls but does not hand its merged ranges to
Python; township rosters merge 户编号 down over a household's members in .xls as much as
in .xlsx. This reads only what fill_merged_down needs, straight from the file's records:
each sheet's MERGEDCELLS ranges and the first column holding a value (calamine's grid
starts there). Anything unexpected gives no merges: the values were read already.

Format (MS-CFB, MS-XLS): a compound file is sectors chained by a FAT; its directory names
the "Workbook" stream (held in the mini stream when small). The stream is records
(type u16, length u16, data): BOUNDSHEET (0x0085) gives each sheet's name and the offset
of its BOF; in a sheet, MERGEDCELLS (0x00E5) lists (first row, last row, first column,
last column), 0-based; cell records start with (row u16, column u16); EOF (0x000A) ends it.
"""

from __future__ import annotations

import struct
from pathlib import Path

_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_END = 0xFFFFFFFE
_BOUNDSHEET, _MERGEDCELLS, _EOF, _BOF = 0x0085, 0x00E5, 0x000A, 0x0809
# records holding one cell value (or several, MULRK), each starting (row, first column)
_CELLS = {0x0203, 0x027E, 0x00BD, 0x00FD, 0x0204, 0x0205, 0x0006, 0x00D6}


def _chain(fat: list[int], start: int, limit: int) -> list[int]:
    out, seen = [], set()
    while start not in (_END, 0xFFFFFFFF) and start < len(fat) and start not in seen and len(out) < limit:
        seen.add(start)
        out.append(start)
        start = fat[start]
    return out


def _workbook_stream(data: bytes) -> bytes | None:
    if data[:8] != _MAGIC or len(data) < 512:
        return None
    size = 1 << struct.unpack_from("<H", data, 0x1E)[0]
    mini_size = 1 << struct.unpack_from("<H", data, 0x20)[0]
    n_fat, first_dir = struct.unpack_from("<II", data, 0x2C)
    cutoff, first_minifat, n_minifat, first_difat, n_difat = struct.unpack_from("<IIIII", data, 0x38)
    n_sectors = (len(data) - size) // size + 1

    def sector(n: int) -> bytes:
        return data[(n + 1) * size:(n + 2) * size]

    difat = [x for x in struct.unpack_from("<109I", data, 0x4C)]
    nxt = first_difat
    for _ in range(n_difat):
        if nxt >= n_sectors:
            break
        words = struct.unpack(f"<{size // 4}I", sector(nxt))
        difat.extend(words[:-1])
        nxt = words[-1]
    fat: list[int] = []
    for s in difat[:n_fat]:
        if s < n_sectors:
            fat.extend(struct.unpack(f"<{size // 4}I", sector(s)))

    def read(start: int, length: int) -> bytes:
        return b"".join(sector(s) for s in _chain(fat, start, n_sectors))[:length]

    directory = read(first_dir, n_sectors * size)
    entries = []
    for off in range(0, len(directory) - 127, 128):
        name_len, kind = struct.unpack_from("<HB", directory, off + 0x40)
        name = directory[off:off + max(0, name_len - 2)].decode("utf-16-le", errors="replace")
        start, length = struct.unpack_from("<II", directory, off + 0x74)
        entries.append((name, kind, start, length))
    if not entries:
        return None
    root = entries[0]
    for name, kind, start, length in entries:
        if kind != 2 or name not in ("Workbook", "Book"):
            continue
        if length >= cutoff:
            return read(start, length)
        minifat = list(struct.unpack(f"<{n_minifat * size // 4}I", read(first_minifat, n_minifat * size)))
        ministream = read(root[2], root[3])
        return b"".join(ministream[s * mini_size:(s + 1) * mini_size]
                        for s in _chain(minifat, start, len(minifat)))[:length]
    return None


def _records(stream: bytes, at: int):
    while at + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, at)
        yield kind, stream[at + 4:at + 4 + length]
        at += 4 + length


def xls_merges(path: Path) -> dict[str, tuple[list[tuple[int, int, int, int]], int]]:
    """Sheet name -> (merged ranges as (first row, last row, first column, last column), 0-based;
    the first column holding a value). Empty when the file is not a BIFF8 workbook."""
    try:
        stream = _workbook_stream(Path(path).read_bytes())
    except (OSError, struct.error, ValueError):
        return {}
    if not stream:
        return {}
    sheets: list[tuple[str, int]] = []
    try:
        for kind, body in _records(stream, 0):
            if kind == _BOUNDSHEET and len(body) >= 8:
                pos, n, flags = struct.unpack_from("<I", body)[0], body[6], body[7]
                raw = body[8:8 + (2 * n if flags & 1 else n)]
                sheets.append((raw.decode("utf-16-le" if flags & 1 else "latin-1"), pos))
            elif kind == _EOF:
                break
        out = {}
        for name, pos in sheets:
            merges: list[tuple[int, int, int, int]] = []
            first = 1 << 30
            for i, (kind, body) in enumerate(_records(stream, pos)):
                if kind == _EOF or (kind == _BOF and i):
                    break
                if kind == _MERGEDCELLS and len(body) >= 2:
                    n = struct.unpack_from("<H", body)[0]
                    merges.extend(struct.unpack_from("<4H", body, 2 + 8 * k) for k in range(n)
                                  if 2 + 8 * k + 8 <= len(body))
                elif kind in _CELLS and len(body) >= 4:
                    first = min(first, struct.unpack_from("<H", body, 2)[0])
            out[name] = (merges, first)
        return out
    except (struct.error, UnicodeDecodeError):
        return {}
