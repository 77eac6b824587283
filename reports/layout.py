"""Printable sheets for xlsxwriter: widths that fill the paper, rows as tall as their wrapped text.

Used by the township workbook (and the scorecard's xlsx). What "printable as it is" means here
(outputs.md "Township workbook"):
- Landscape A4 (or A3), printed at 100 %: the columns' widths are computed to fill FILL of the
  printable width (with LibreOffice's wider column metrics; Excel's are narrower), so text stays
  BODY_PT (9 pt) on paper. No "fit to one page wide": LibreOffice's fit also shrinks a sheet
  whose rows overrun a page by a few points (to 98 %, below 9 pt).
- Every row's height is computed from its wrapped text (CJK characters one em wide, Latin
  narrower, long digit runs broken where they must be), with the line height of the CJK fonts
  LibreOffice falls back to (about 1.45 em), so no row is cut to one line in Excel, WPS or
  LibreOffice; Excel shows a little more white space than it needs, never less.
- The header row repeats on every page, the page header carries the title, the footer
  "第 X 页 共 Y 页"; the print area is exactly the cells written, so no blank page comes out.

Widths are Excel character units (xlsxwriter's set_column): a column of w units is 7w + 5 pixels
of 0.75 pt at 96 dpi.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

PAPERS = {"A4": (9, 297.0, 210.0), "A3": (8, 420.0, 297.0)}  # xlsxwriter paper code, landscape mm
SIDE_IN, TOP_IN, BOTTOM_IN, HEADER_IN, FOOTER_IN = 0.2, 0.62, 0.55, 0.25, 0.25
# Latin text in Arial (Liberation Sans, metric-compatible, where LibreOffice runs without it);
# Chinese characters fall back to the system's CJK font (宋体 / 等线 in Excel and WPS, Noto CJK).
FONT = "Arial"
BODY_PT = 9.0
TITLE_PT = 12
# Column widths are Excel character units of the workbook's default font (Calibri 11: 7 px +
# 5 px padding at 96 dpi, i.e. 5.25 pt per unit + 3.75 pt). LibreOffice lays the same units out
# 5.7 % wider (measured with Carlito, Calibri's metric twin: 5.55 pt per unit + 3.94 pt), so the
# page budget is taken with LibreOffice's figures and text fitting with Excel's narrower ones.
LO_UNIT_PT, LO_COL_PT = 5.55, 3.94
FILL = 0.985         # share of the printable width the columns take
LINE_EM = 1.47       # line height in em: a line holding Chinese takes the CJK font's (Noto CJK 1.45, SimSun 1.25)
ROW_PAD_PT = 3.0     # cell padding, top + bottom
CELL_PAD_PT = 4.0    # cell padding, left + right
MAX_ROW_PT = 409.0   # Excel's limit
HEADER_GAP_PT = 12.0 # LibreOffice's space between the page header and the first row


@dataclass(frozen=True)
class Column:
    header: str
    min: float           # width in character units at A4
    grow: float = 1.0    # share of the page left over after every column's min
    kind: str = "text"   # text / id (text-formatted column) / num / date (split after the year if narrow)


def period_text(period: str) -> str:
    """"10 working days" -> 10个工作日, "30 days" -> 30天, "3 months" -> 3个月."""
    return (period.replace("working days", "个工作日").replace("working day", "个工作日")
            .replace("months", "个月").replace("month", "个月").replace("days", "天").replace("day", "天")
            .replace(" ", ""))


# ---------------------------------------------------------------- measuring text

def _em(ch: str) -> float:
    """Advance width of a character in em, rounded up for the fonts a viewer may substitute."""
    if unicodedata.east_asian_width(ch) in "WF":
        return 1.0
    if ch in " ":
        return 0.3
    if ch in "il.,:;'|!()[]-/":
        return 0.4
    if ch.isupper() or ch in "mwMW@%&#":
        return 0.75
    return 0.56   # digits and lower case: Arial 0.556, SimSun 0.5


_TOKENS = re.compile(r"[A-Za-z0-9_.@%+#&/:=-]+|\s|.", re.S)


def text_lines(text: str, width_pt: float, size: float = BODY_PT) -> int:
    """Lines a wrapped cell of width_pt needs for text at size (greedy: Latin words kept whole
    when they fit a line, CJK broken anywhere, a word longer than a line broken by character).
    Half an em is kept free on every line for the CJK rule that a line may not start with
    closing punctuation (the viewer then moves one more character down)."""
    total = 0
    for para in str(text).split("\n"):
        cjk = any(unicodedata.east_asian_width(c) in "WF" for c in para)
        avail = max(width_pt - CELL_PAD_PT - (0.5 * size if cjk else 0), size)
        lines, used = 1, 0.0
        for tok in _TOKENS.findall(para):
            w = sum(_em(c) for c in tok) * size
            if tok.isspace():
                used += w if used else 0
                continue
            if used + w <= avail:
                used += w
            elif w <= avail:
                lines, used = lines + 1, w
            else:
                for c in tok:
                    cw = _em(c) * size
                    if used + cw > avail:
                        lines, used = lines + 1, cw
                    else:
                        used += cw
        total += lines
    return total


def line_height(size: float = BODY_PT) -> float:
    return size * LINE_EM


def row_height(lines: int, size: float = BODY_PT) -> float:
    return min(MAX_ROW_PT, math.ceil((lines * line_height(size) + ROW_PAD_PT) * 4) / 4)


def max_lines(size: float = BODY_PT) -> int:
    return int((MAX_ROW_PT - ROW_PAD_PT) // line_height(size))


def col_points(width: float) -> float:
    """Width in points of a column of `width` character units."""
    return (int(width * 7 + 0.5) + 5) * 0.75


def printable_points(paper: str) -> float:
    return (PAPERS[paper][1] / 25.4 - 2 * SIDE_IN) * 72


def printable_height(paper: str) -> float:
    """Height the rows get on a page: between the margins, less the gap LibreOffice leaves under
    the page header (measured: about 500 pt of rows fit an A4 landscape page with these margins)."""
    return (PAPERS[paper][2] / 25.4 - TOP_IN - BOTTOM_IN) * 72 - HEADER_GAP_PT


def widths(columns: list[Column], paper: str = "A4") -> list[float]:
    """Each column's width: its min, plus its share (by grow) of what the paper leaves over."""
    budget = (printable_points(paper) * FILL - LO_COL_PT * len(columns)) / LO_UNIT_PT
    mins = [c.min for c in columns]
    total = sum(mins)
    if total >= budget:
        return [round(m * budget / total, 2) for m in mins]
    grow = sum(c.grow for c in columns) or 1.0
    extra = budget - total
    return [round(c.min + extra * c.grow / grow, 2) for c in columns]


def fit(text: str, width_pt: float, size: float = BODY_PT) -> str:
    """Text cut to what a row of Excel's maximum height shows, with a note that it was cut."""
    limit = max_lines(size)
    if text_lines(text, width_pt, size) <= limit:
        return text
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if text_lines(text[:mid] + "…（以下从略）", width_pt, size) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + "…（以下从略）"


# ---------------------------------------------------------------- formats

_FORMATS: dict[int, dict] = {}


def formats(book) -> dict:
    """The workbook's formats, made once per workbook."""
    key = id(book)
    if key in _FORMATS and _FORMATS[key]["book"] is book:
        return _FORMATS[key]
    base = {"font_name": FONT, "font_size": BODY_PT}
    cell = {**base, "border": 1, "valign": "top", "text_wrap": True}
    styles = {"cell": cell, "new": {**cell, "bg_color": "#FFF2CC"}, "gone": {**cell, "font_color": "#808080"}}
    f = {"book": book}
    for name, props in styles.items():
        f[name] = book.add_format(props)
        f[name + "_id"] = book.add_format({**props, "num_format": "@"})
        f[name + "_num"] = book.add_format({**props, "align": "center"})
    f["head"] = book.add_format({**base, "bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                                 "valign": "vcenter", "align": "center"})
    f["text_col"] = book.add_format({**base, "num_format": "@"})
    f["plain"] = book.add_format({**base, "valign": "top", "text_wrap": True})
    f["label"] = book.add_format({**base, "bold": True, "valign": "top", "text_wrap": True, "border": 1,
                                  "bg_color": "#F2F2F2"})
    f["value"] = book.add_format({**base, "valign": "top", "text_wrap": True, "border": 1})
    f["heading"] = book.add_format({**base, "bold": True, "font_size": TITLE_PT, "valign": "vcenter"})
    f["section"] = book.add_format({**base, "bold": True, "font_size": 10.5, "valign": "bottom"})
    f["sign"] = book.add_format({**base, "font_size": 10.5, "valign": "vcenter"})
    f["alert"] = book.add_format({**base, "bold": True, "font_color": "#9C0006", "bg_color": "#FFC7CE", "border": 1,
                                  "valign": "top", "text_wrap": True})
    _FORMATS.clear()
    _FORMATS[key] = f
    return f


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ---------------------------------------------------------------- sheets

class Sheet:
    """One printable worksheet, written top to bottom."""

    def __init__(self, book, name: str, paper: str, title: str):
        self.ws = book.add_worksheet(name)
        self.f = formats(book)
        self.paper = paper if paper in PAPERS else "A4"
        self.title = title
        self.row = 0
        self.widths: list[float] = []
        self.header_row: int | None = None
        self.heights: dict[int, float] = {}
        self.sign_row: int | None = None

    def _height(self, row: int, pt: float) -> None:
        self.ws.set_row(row, pt)
        self.heights[row] = pt

    # -- tables (the ledger sheets)

    def set_columns(self, columns: list[Column]) -> list[float]:
        self.widths = widths(columns, self.paper)
        for c, (col, w) in enumerate(zip(columns, self.widths, strict=True)):
            self.ws.set_column(c, c, w, self.f["text_col"] if col.kind == "id" else None)
        return self.widths

    def table(self, columns: list[Column], rows: list[list], styles: list[str], min_row_pt: float = 0) -> None:
        """Header row 1 (frozen, filtered, repeated on every page), one row per record, each at least
        min_row_pt tall (room to write a result or a measure by hand on the printout)."""
        ws, f = self.ws, self.f
        self.set_columns(columns)
        pts = [col_points(w) for w in self.widths]
        self.header_row = self.row
        ws.write_row(self.row, 0, [c.header for c in columns], f["head"])
        self._height(self.row, row_height(max(text_lines(c.header, p) for c, p in zip(columns, pts, strict=True))))
        self.row += 1
        first = self.row
        for cells, style in zip(rows, styles, strict=True):
            lines = 1
            for c, (col, value) in enumerate(zip(columns, cells, strict=True)):
                fmt = f[style + ("_id" if col.kind == "id" else "_num" if col.kind == "num" else "")]
                if isinstance(value, int) and not isinstance(value, bool):
                    ws.write_number(self.row, c, value, fmt)
                elif value is None or value == "":
                    ws.write_blank(self.row, c, None, fmt)
                else:
                    text = fit(_cell_text(value), pts[c])
                    if col.kind == "date" and _ISO_DAY.fullmatch(text) and text_lines(text, pts[c]) > 1:
                        text = text[:5] + "\n" + text[5:]   # 2026-\n11-24 rather than a break inside a number
                    ws.write_string(self.row, c, text, fmt)
                    lines = max(lines, text_lines(text, pts[c]))
            self._height(self.row, max(min_row_pt, row_height(lines)))
            self.row += 1
        ws.freeze_panes(first, 0)
        ws.autofilter(first - 1, 0, max(self.row - 1, first - 1), len(columns) - 1)
        self.data_rows = (first, self.row - 1)

    def validate_results(self, columns: list[Column], results: list[str], n: int) -> None:
        """核实结果: a list to pick from; anything else is refused as it is typed."""
        col = [c.header for c in columns].index("核实结果")
        first = self.data_rows[0]
        self.ws.data_validation(first, col, first + max(n, 200) - 1, col, {
            "validate": "list", "source": results, "error_type": "stop",
            "error_title": "核实结果", "error_message": "请从下拉列表中选择：" + "、".join(results),
            "input_title": "核实结果", "input_message": "请选择：" + "、".join(results)})

    def validate_dates(self, columns: list[Column], n: int) -> None:
        """核实日期: a date (typed as a date or as text like 2026-11-28) not after today."""
        headers = [c.header for c in columns]
        col = headers.index("核实日期")
        first = self.data_rows[0]
        ref = _a1(first, col)
        value = f"IF(ISNUMBER({ref}),{ref},DATEVALUE({ref}))"
        self.ws.data_validation(first, col, first + max(n, 200) - 1, col, {
            "validate": "custom", "value": f"=IFERROR(AND({value}>=DATE(2016,1,1),{value}<=TODAY()),FALSE)",
            "error_type": "warning", "error_title": "核实日期",
            "error_message": "核实日期应为实际核实的日期，不晚于今天，如 2026-11-28。",
            "input_title": "核实日期", "input_message": "填实际核实的日期，如 2026-11-28"})

    def sign_off(self, text: str) -> None:
        """The sign-off line after the table, one blank row below it (stored in the first column,
        which the feedback reader never takes for a filled row)."""
        self._height(self.row, 10.0)
        self.row += 1
        last = len(self.widths) - 1
        self.ws.merge_range(self.row, 0, self.row, last, text, self.f["sign"])
        width = sum(col_points(w) for w in self.widths)
        self._height(self.row, max(30.0, row_height(text_lines(text, width, 10.5), 10.5)))
        self.sign_row = self.row
        self.row += 1

    # -- free layout (the 说明 sheet)

    def _merged(self, text: str, fmt_name: str, first: int = 0, size: float = BODY_PT, min_pt: float = 0) -> None:
        last = len(self.widths) - 1
        width = sum(col_points(w) for w in self.widths[first:])
        if first == last:
            self.ws.write_string(self.row, first, text, self.f[fmt_name])
        else:
            self.ws.merge_range(self.row, first, self.row, last, text, self.f[fmt_name])
        self._height(self.row, max(min_pt, row_height(text_lines(text, width, size), size)))

    def heading(self, text: str) -> None:
        self._merged(text, "heading", size=TITLE_PT, min_pt=24)
        self.row += 2

    def section(self, text: str) -> None:
        self.row += 1
        self._merged(text, "section", size=10.5, min_pt=20)
        self.row += 1

    def pairs(self, items: list[tuple[str, str]], label_cols: int = 2) -> None:
        for k, v in items:
            self.ws.merge_range(self.row, 0, self.row, label_cols - 1, k, self.f["label"])
            self._merged(v, "value", first=label_cols)
            self.row += 1

    def paragraphs(self, items: list[str], style: str = "plain") -> None:
        for text in items:
            self._merged(text, style)
            self.row += 1

    def grid(self, headers: list[str], rows: list[list]) -> None:
        """A bordered table in the sheet's columns (set_columns), header and rows."""
        ws, f = self.ws, self.f
        pts = [col_points(w) for w in self.widths]
        ws.write_row(self.row, 0, headers, f["head"])
        self._height(self.row, row_height(max(text_lines(h, p) for h, p in zip(headers, pts, strict=False))))
        self.row += 1
        for cells in rows:
            lines = 1
            for c, value in enumerate(cells):
                if isinstance(value, int) and not isinstance(value, bool):
                    ws.write_number(self.row, c, value, f["cell_num"])
                else:
                    text = fit(_cell_text(value), pts[c])
                    ws.write_string(self.row, c, text, f["cell"])
                    lines = max(lines, text_lines(text, pts[c]))
            for c in range(len(cells), len(self.widths)):
                ws.write_blank(self.row, c, None, f["cell"])
            self._height(self.row, row_height(lines))
            self.row += 1

    # -- print setup

    def keep_sign_off_with_rows(self) -> None:
        """Pages as they fall at 100 % (the row heights are ours, exact): when the sign-off line
        would open a page by itself, the last record goes over with it."""
        if self.sign_row is None or self.header_row is None or self.sign_row - 2 <= self.header_row + 1:
            return
        avail = printable_height(self.paper)
        head = self.heights.get(self.header_row, 15.0)
        used, starts = 0.0, []
        for r in range(self.sign_row + 1):
            h = self.heights.get(r, 15.0)
            if used and used + h > avail:
                starts.append(r)
                used = head
            used += h
        last_record = self.sign_row - 2
        if starts and starts[-1] in (self.sign_row - 1, self.sign_row):
            self.ws.set_h_pagebreaks([last_record])

    def finish(self) -> None:
        self.keep_sign_off_with_rows()
        ws = self.ws
        ws.set_landscape()
        ws.set_paper(PAPERS[self.paper][0])
        ws.set_margins(left=SIDE_IN, right=SIDE_IN, top=TOP_IN, bottom=BOTTOM_IN)
        if self.header_row is not None:
            ws.repeat_rows(self.header_row)
        ws.print_area(0, 0, max(self.row - 1, 0), max(len(self.widths) - 1, 0))
        # 100 %, not "fit to one page wide": the widths already fill the page, and LibreOffice's fit
        # also shrinks (to 98 %) a sheet that overruns a page by a few points — below 9 pt.
        ws.set_print_scale(100)
        ws.center_horizontally()
        safe = self.title.replace("&", "&&")
        ws.set_header(f'&C&"{FONT},Bold"&{TITLE_PT}{safe}', {"margin": HEADER_IN})
        ws.set_footer(f'&C&"{FONT},Regular"&10第 &P 页 共 &N 页', {"margin": FOOTER_IN})


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _a1(row: int, col: int) -> str:
    name = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        name = chr(65 + rem) + name
    return f"{name}{row + 1}"
