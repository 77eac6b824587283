"""The township workbook printed as it is: rendered to PDF by headless LibreOffice and measured.

outputs.md "Township workbook": A4 landscape (A3 when configured), no text smaller than 9 pt
on paper, every row tall enough for its wrapped text, the header row on every page,
"第 X 页 共 Y 页", a sign-off line at the end of each sheet, no blank pages.

How it is measured, on the PDF (pdfplumber):
- font size: every character's size on the page (LibreOffice writes the scaled size);
- clipping: every cell of every ledger row is found again, whole, inside its own cell's
  rectangle (pdfplumber's table finder on the drawn borders) — a row too short for its text
  would lose the last lines (cut at the cell edge) or spill them over the next row;
- pages: each page carries body text besides the page header and footer, each ledger page
  starts with the repeated header row (so no column spilled onto a page of its own), the
  footer counts the pages, and the sign-off line closes each ledger sheet.

Needs `soffice` (Debian: libreoffice-calc, fonts-noto-cjk, fonts-crosextra-carlito,
fonts-liberation — the fonts a desktop LibreOffice brings); .ci/run installs them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = pytest.mark.skipif(
    SOFFICE is None,
    reason="LibreOffice (soffice) is not installed: the printed-workbook test needs it "
           "(apt-get install libreoffice-calc fonts-noto-cjk fonts-crosextra-carlito fonts-liberation; .ci/run does)")

LEDGER_TITLES = {"预警名单": "部门筛查预警核实名单", "逻辑错误": "监测数据逻辑错误核实表",
                 "已核实": "已核实预警", "帮扶措施台账": "帮扶措施台账"}


def to_pdfs(paths: list[Path], out: Path) -> list[Path]:
    """Every workbook printed to PDF by one headless LibreOffice (its own profile: tests run in parallel)."""
    out.mkdir(parents=True, exist_ok=True)
    profile = out / "lo-profile"
    subprocess.run([SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(out), *map(str, paths)], check=True, capture_output=True, timeout=600)
    pdfs = [out / (p.stem + ".pdf") for p in paths]
    missing = [p.name for p in pdfs if not p.exists()]
    assert not missing, f"LibreOffice wrote no PDF for {missing}"
    return pdfs


def to_pdf(xlsx: Path, out: Path) -> Path:
    return to_pdfs([xlsx], out)[0]


def _squash(value) -> str:
    return re.sub(r"\s+", "", "" if value is None else str(value))


def ledger_rows(xlsx: Path) -> dict[str, list[list[str]]]:
    """sheet -> its records as the cells' text, whitespace removed (header and sign-off left out)."""
    wb = openpyxl.load_workbook(xlsx)
    out = {}
    for ws in wb.worksheets:
        if ws.title not in LEDGER_TITLES:
            continue
        rows = []
        for r in ws.iter_rows(min_row=2, values_only=True):
            if r[0] is not None and str(r[0]).startswith("填表人"):
                break
            if any(v is not None for v in r):
                rows.append([_squash(v) for v in r])
        out[ws.title] = rows
    return out


def measure(pdf: Path) -> dict:
    """What the printed pages hold: page size, smallest font, each page's sheet, header and rows."""
    import pdfplumber

    pages = []
    with pdfplumber.open(pdf) as doc:
        for page in doc.pages:
            text = page.extract_text() or ""
            sheet = next((s for s, t in LEDGER_TITLES.items() if t in text.split("\n")[0]), None)
            rows = []
            for table in page.find_tables({"vertical_strategy": "lines", "horizontal_strategy": "lines"}):
                for row in table.extract():
                    rows.append([_squash(c) for c in row])
            body = [c for c in page.chars if 40 < c["top"] < page.height - 40]
            pages.append({
                "width": page.width, "height": page.height, "sheet": sheet, "text": text, "rows": rows,
                "min_size": min((c["size"] for c in page.chars), default=None), "body_chars": len(body),
            })
    return {"pages": pages}


def check_printout(xlsx: Path, pdf: Path, paper=(842, 595)) -> dict:
    """Assert the printed workbook reads cleanly; returns what was seen (for the report)."""
    m = measure(pdf)
    pages = m["pages"]
    n = len(pages)
    assert n >= 1
    seen = {"pages": n, "min_size": min(p["min_size"] for p in pages), "clipped": []}
    for i, p in enumerate(pages, start=1):
        assert abs(p["width"] - paper[0]) < 2 and abs(p["height"] - paper[1]) < 2, "paper size / landscape"
        assert p["min_size"] >= 8.95, f"page {i}: text at {p['min_size']:.2f} pt"
        assert p["body_chars"] > 0, f"page {i} is blank"
        assert f"第{i}页共{n}页" in _squash(p["text"]), f"page {i}: no 第 {i} 页 共 {n} 页"
        if p["sheet"]:
            assert p["rows"] and p["rows"][0][0] == "序号", f"page {i}: the header row is not repeated"
            assert "备注" in p["rows"][0] or "制定的帮扶措施" in p["rows"][0], f"page {i}: columns cut off"
    expected = ledger_rows(xlsx)
    for sheet, records in expected.items():
        sheet_pages = [p for p in pages if p["sheet"] == sheet]
        assert sheet_pages, f"{sheet} was not printed"
        assert "填表人" in sheet_pages[-1]["text"] and "乡镇（盖章）" in sheet_pages[-1]["text"]
        if records:   # the sign-off line never opens a page by itself: the last record goes with it
            assert any(r and r[0] != "序号" for r in sheet_pages[-1]["rows"]), f"{sheet}: sign-off alone"
        printed = [r for p in sheet_pages for r in p["rows"] if r and r[0] != "序号"]
        by_number = {r[0]: r for r in printed}
        assert len(printed) == len(records), f"{sheet}: {len(printed)} rows printed of {len(records)}"
        for record in records:
            row = by_number.get(record[0])
            assert row is not None, f"{sheet} row {record[0]} not printed"
            for want, got in zip(record, row, strict=True):
                if want != got:
                    seen["clipped"].append((sheet, record[0], want, got))
    assert not seen["clipped"], f"text cut or spilled: {seen['clipped'][:5]}"
    return seen


@pytest.fixture(scope="module")
def demo_workbooks(tmp_path_factory):
    """The committed sample county, run as `make demo` runs it; its township workbooks."""
    from datetime import date

    from conftest import SAMPLE

    from pipelines.flow import run_once

    out = tmp_path_factory.mktemp("demo")
    ctx = run_once(SAMPLE / "inbox", SAMPLE / "fangpin.toml", date(2026, 11, 24), out)
    return sorted((ctx.reports_dir / "townships").glob("*.xlsx"))


@pytest.fixture(scope="module")
def demo_reports(demo_workbooks):
    return demo_workbooks[0].parent.parent


def _longest(paths: list[Path]) -> Path:
    """The workbook with the most ledger rows (the most pages to get wrong)."""
    return max(paths, key=lambda p: sum(len(v) for v in ledger_rows(p).values()))


def test_demo_workbooks_print_at_9pt_unclipped_with_titles_and_sign_off(demo_workbooks, tmp_path):
    """Every township workbook of the demo, printed: the figures of the closing note come from here."""
    seen = {x.name: check_printout(x, pdf) for x, pdf in zip(demo_workbooks, to_pdfs(demo_workbooks, tmp_path),
                                                              strict=True)}
    assert len(seen) >= 10 and all(s["min_size"] >= 8.95 for s in seen.values())
    assert seen[_longest(demo_workbooks).name]["pages"] >= 3
    print({k: (v["pages"], round(v["min_size"], 2), len(v["clipped"])) for k, v in seen.items()})


def test_a_long_ledger_on_a3_with_verified_and_measures_sheets(tmp_path):
    """Many rows (pages break inside the table), every optional sheet, A3 from the config."""
    from datetime import date

    from test_workbooks import _populate  # the hand-made township of the workbook tests

    from core.config import Config
    from core.context import RunContext
    from pipelines import store
    from reports.workbooks import write_township_workbooks

    con = store.open_work(tmp_path, "r1")
    con.execute("INSERT INTO runs (run_id, as_of_date, started_at, status) VALUES ('r1', DATE '2026-11-24',"
                " TIMESTAMP '2026-01-01', 'running')")
    for t in ("households", "members", "civil_affairs_assistance", "health_settlements"):
        con.execute("INSERT INTO input_files (run_id, folder, file, source_table, status) VALUES"
                    " ('r1', 'x', ?, ?, 'loaded')", [f"{t}.csv", t])
    config = Config(monitoring_line={2026: 7800.0})
    config.workbook["paper"] = "A3"
    ctx = RunContext(run_id="r1", as_of=date(2026, 11, 24), inbox=tmp_path / "inbox", out=tmp_path,
                     config=config, con=con)
    _populate(ctx)
    long = "；".join(f"2026-0{m % 9 + 1}-01 某某县人民医院住院，个人自付 {m * 1234.5:,.2f} 元" for m in range(12))
    for i in range(60):
        con.execute(
            "INSERT INTO warnings (run_id, rule_code, household_id, id_number, name, county, township, village,"
            " in_roster, risk_type, evidence, status, first_seen_date, deadline, verification, verified_on)"
            " VALUES ('r1', 'W01', ?, ?, ?, '示例县', '红山镇', ?, false, '因病', ?, '持续', DATE '2026-10-01',"
            " DATE '2026-10-31', ?, ?)",
            [None, f"62042219800101{i:04d}", f"张{i}", f"第{i % 7}村", long[: 20 + i * 7],
             "属实-已纳入监测" if i % 5 == 0 else None, date(2026, 11, 1) if i % 5 == 0 else None])
    paths = {p.name: p for p in write_township_workbooks(ctx)}
    con.close()
    xlsx = paths["示例县_红山镇_2026-11-24.xlsx"]
    assert openpyxl.load_workbook(xlsx).sheetnames == ["预警名单", "逻辑错误", "已核实", "帮扶措施台账", "说明"]
    seen = check_printout(xlsx, to_pdf(xlsx, tmp_path / "pdf"), paper=(1191, 842))
    assert seen["pages"] >= 4


def test_demo_scorecard_xlsx_prints_at_9pt_every_sheet_titled(demo_reports, tmp_path):
    xlsx = demo_reports / "scorecard.xlsx"
    m = measure(to_pdf(xlsx, tmp_path))
    sheets = openpyxl.load_workbook(xlsx).sheetnames
    n = len(m["pages"])
    assert n >= len(sheets)
    for i, p in enumerate(m["pages"], start=1):
        assert p["min_size"] >= 8.95, f"scorecard page {i}: text at {p['min_size']:.2f} pt"
        assert p["body_chars"] > 0 and f"第{i}页共{n}页" in _squash(p["text"])
        assert p["text"].split("\n")[0].startswith("示例县 防返贫监测数据质量评分表")
    titled = {_squash(p["text"].split("\n")[0]).split("评分表")[1] for p in m["pages"]}
    assert titled == set(sheets)                                   # every sheet printed, none blank
