"""Hostile inputs (issue 11): every file is generated here, in tmp. Each case asserts the exact
accounting — rows read = loaded + rejected + duplicates, and every file read or named with why
(unreadable or skipped) — and that no reader failure reached the generic "读取时出错" path (a
traceback turned into a reason)."""

from __future__ import annotations

import io
import json
import os
import random
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
import xlwt
from gb11643 import with_check

from core.config import Config
from core.context import RunContext
from pipelines import store
from sources.ingest import ingest_folder, list_stray, resolve_townships

AS_OF = date(2026, 11, 1)
DEATHS_HEAD = "姓名,身份证号,乡镇,死亡日期"


def ident(n: int, birth: str = "19500101") -> str:
    return with_check(f"620422{birth}{n % 1000:03d}")


def make_ctx(tmp_path: Path, config: Config | None = None) -> RunContext:
    inbox = tmp_path / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    con = store.open_work(tmp_path / "out", "r1")
    return RunContext(run_id="r1", as_of=AS_OF, inbox=inbox, out=tmp_path / "out", config=config or Config(), con=con)


def q(ctx, sql, params=None) -> list[dict]:
    cur = ctx.con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def put(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def deaths(n: int, start: int = 0) -> list[str]:
    return [f"人{i},{ident(i)},红山镇,2026-0{1 + i % 9}-0{1 + i % 9}" for i in range(start, start + n)]


def accounted(ctx, expected: dict[str, int]) -> dict[str, dict]:
    """Exact accounting: per file, rows read = loaded + rejected + duplicates and equal to the data
    rows written (`expected`); table and rejects rows equal the bookkeeping; every entry under the
    inbox is in input_files; no reason is a caught exception. Returns input_files by file."""
    files = q(ctx, "SELECT * FROM input_files")
    for f in files:
        assert f["reason"] is None or "读取时出错" not in f["reason"], f
        if f["status"] == "loaded":
            assert f["rows_read"] == f["rows_loaded"] + f["rows_rejected"] + f["duplicates"], f
        else:
            assert f["status"] in ("skipped", "unreadable") and f["reason"], f
    by_file: dict[str, dict] = {}
    for f in files:
        by_file.setdefault(f["file"], {"read": 0, "loaded": 0, "rejected": 0, "status": set(), "reason": ""})
        b = by_file[f["file"]]
        b["status"].add(f["status"])
        b["reason"] += f["reason"] or ""
        for k in ("read", "loaded", "rejected"):
            b[k] += f[f"rows_{k}"] or 0
    for name, n in expected.items():
        assert by_file[name]["read"] == n, (name, by_file[name])
    for table in {f["source_table"] for f in files if f["source_table"]}:
        loaded = sum(f["rows_loaded"] for f in files if f["source_table"] == table and f["status"] == "loaded")
        assert ctx.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == loaded, table
    assert ctx.con.execute("SELECT count(*) FROM rejects").fetchone()[0] == sum(
        f["rows_rejected"] or 0 for f in files if f["status"] == "loaded")
    listed = set(by_file)
    for dirpath, dirnames, filenames in os.walk(ctx.inbox):
        for name in [*filenames, *dirnames]:
            rel = (Path(dirpath) / name).relative_to(ctx.inbox).as_posix()
            top = rel.split("/")[0]
            if (Path(dirpath) / name).is_dir() and not (Path(dirpath) / name).is_symlink():
                continue  # folders are listed through their files, or themselves when not entered
            assert rel in listed or any(rel.startswith(d + "/") for d in listed) or top in listed, rel
    return by_file


def reasons(ctx, file: str) -> list[dict]:
    return q(ctx, "SELECT row_number, reason, raw FROM rejects WHERE file = ? ORDER BY row_number", [file])


# ---------------------------------------------------------------- CSV damage costs rows, not files

def test_mixed_line_endings_are_read_as_excel_reads_them(tmp_path):
    ctx = make_ctx(tmp_path)
    lines = deaths(261)
    ends = ["\r\n", "\n", "\r"]
    text = DEATHS_HEAD + "\r\n" + "".join(line + ends[i % 3] for i, line in enumerate(lines))
    put(ctx.inbox / "civil_affairs" / "火化.csv", text.encode("gbk"))
    counts = ingest_folder(ctx, "civil_affairs")
    assert counts["civil_affairs_deaths"] == {"read": 261, "loaded": 261, "rejected": 0, "duplicates": 0}
    accounted(ctx, {"civil_affairs/火化.csv": 261})
    assert q(ctx, "SELECT max(source_row) AS m FROM civil_affairs_deaths") == [{"m": 262}]


def test_one_oversized_cell_costs_its_row_only(tmp_path):
    ctx = make_ctx(tmp_path)
    lines = deaths(40)
    lines[20] = f"人20,{ident(20)},红山镇,{'2' * 5_000_000}"
    put(ctx.inbox / "civil_affairs" / "大单元格.csv", (DEATHS_HEAD + "\n" + "\n".join(lines) + "\n").encode())
    counts = ingest_folder(ctx, "civil_affairs")
    assert counts["civil_affairs_deaths"] == {"read": 40, "loaded": 39, "rejected": 1, "duplicates": 0}
    (r,) = reasons(ctx, "civil_affairs/大单元格.csv")
    assert r["row_number"] == 22 and "单元格超长" in r["reason"] and "5000000" in r["reason"]
    assert len(r["raw"]) < 10_000  # the reject keeps a slice of the cell, not 5 MB
    accounted(ctx, {"civil_affairs/大单元格.csv": 40})


def test_one_undecodable_byte_costs_its_row_and_the_reason_gives_its_true_position(tmp_path):
    ctx = make_ctx(tmp_path)
    head = (DEATHS_HEAD + "\n" + "\n".join(deaths(150)) + "\n").encode("utf-8")
    bad_line = f"坏人,{ident(999)},红山镇,2026-01-01\n".encode().replace("坏".encode(), b"\xff\xfe")
    tail = ("\n".join(deaths(150, 150)) + "\n").encode("utf-8")
    put(ctx.inbox / "civil_affairs" / "登记.csv", head + bad_line + tail)
    counts = ingest_folder(ctx, "civil_affairs")
    assert counts["civil_affairs_deaths"] == {"read": 301, "loaded": 300, "rejected": 1, "duplicates": 0}
    (r,) = reasons(ctx, "civil_affairs/登记.csv")
    assert r["row_number"] == 152 and f"第{len(head) + 1}字节" in r["reason"] and "UTF-8" in r["reason"]
    # the rest is read as the UTF-8 it is, not as GB18030 mojibake
    assert q(ctx, "SELECT count(*) AS n FROM civil_affairs_deaths WHERE name LIKE '人%' AND township_raw = '红山镇'"
             ) == [{"n": 300}]
    accounted(ctx, {"civil_affairs/登记.csv": 301})


def test_a_csv_cut_mid_row_rejects_its_last_row_and_is_named_truncated(tmp_path):
    ctx = make_ctx(tmp_path)
    text = DEATHS_HEAD + "\n" + "\n".join(deaths(30)) + "\n" + f"人30,{ident(30)[:9]}"
    put(ctx.inbox / "civil_affairs" / "半截.csv", text.encode("gbk"))
    counts = ingest_folder(ctx, "civil_affairs")
    assert counts["civil_affairs_deaths"] == {"read": 31, "loaded": 30, "rejected": 1, "duplicates": 0}
    (r,) = reasons(ctx, "civil_affairs/半截.csv")
    assert r["row_number"] == 32 and "截断" in r["reason"]
    assert "截断" in accounted(ctx, {"civil_affairs/半截.csv": 31})["civil_affairs/半截.csv"]["reason"]


def test_a_nul_byte_costs_its_row(tmp_path):
    ctx = make_ctx(tmp_path)
    body = "\n".join(deaths(10)).encode()
    body = body.replace(f"人4,{ident(4)}".encode(), f"人4\x00,{ident(4)}".encode())
    put(ctx.inbox / "civil_affairs" / "空字符.csv", DEATHS_HEAD.encode() + b"\n" + body + b"\n")
    counts = ingest_folder(ctx, "civil_affairs")
    assert counts["civil_affairs_deaths"] == {"read": 10, "loaded": 9, "rejected": 1, "duplicates": 0}
    (r,) = reasons(ctx, "civil_affairs/空字符.csv")
    assert r["row_number"] == 6 and "NUL" in r["reason"]
    accounted(ctx, {"civil_affairs/空字符.csv": 10})


@pytest.mark.parametrize("at", [5, 400])  # in the first lines (widens the grid) or far below (polars refuses)
def test_ragged_rows_a_row_wider_than_its_header_is_rejected_a_short_one_loads(tmp_path, at):
    ctx = make_ctx(tmp_path)
    lines = deaths(500)
    lines[at] = f"人{at},{ident(at)},红山镇,2026-01-01,多余,的值"
    lines[at + 1] = f"人{at + 1},{ident(at + 1)}"  # trailing cells missing: unknown township and date
    lines[at + 2] += ",,"  # trailing empty cells: nothing lost
    put(ctx.inbox / "civil_affairs" / "参差.csv", (DEATHS_HEAD + "\n" + "\n".join(lines) + "\n").encode("gbk"))
    counts = ingest_folder(ctx, "civil_affairs")
    assert counts["civil_affairs_deaths"] == {"read": 500, "loaded": 499, "rejected": 1, "duplicates": 0}
    (r,) = reasons(ctx, "civil_affairs/参差.csv")
    assert r["row_number"] == at + 2 and "列数多于表头" in r["reason"]
    short = q(ctx, "SELECT township_raw, death_date FROM civil_affairs_deaths WHERE source_row = ?", [at + 3])
    assert short == [{"township_raw": None, "death_date": None}]
    accounted(ctx, {"civil_affairs/参差.csv": 500})


def test_zero_byte_corrupt_and_truncated_files_are_named_and_the_rest_loads(tmp_path):
    ctx = make_ctx(tmp_path)
    folder = ctx.inbox / "civil_affairs"
    put(folder / "好.csv", (DEATHS_HEAD + "\n" + "\n".join(deaths(5)) + "\n").encode())
    put(folder / "空.csv", b"")
    put(folder / "空.xlsx", b"")
    put(folder / "乱码.xlsx", bytes(random.Random(1).randrange(256) for _ in range(5000)))
    put(folder / "乱码.xls", bytes.fromhex("D0CF11E0A1B11AE1") + bytes(random.Random(2).randrange(256) for _ in range(3000)))
    put(folder / "二进制.csv", bytes(random.Random(3).randrange(256) for _ in range(20000)))
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("名单")
    for i, line in enumerate([DEATHS_HEAD, *deaths(200, 100)]):
        ws.write_row(i, 0, line.split(","))
    wb.close()
    put(folder / "截断.xlsx", buf.getvalue()[: len(buf.getvalue()) // 2])
    counts = ingest_folder(ctx, "civil_affairs")
    assert counts["civil_affairs_deaths"]["loaded"] == 5
    files = accounted(ctx, {"civil_affairs/好.csv": 5})
    for name in ("空.csv", "空.xlsx", "乱码.xlsx", "乱码.xls", "二进制.csv", "截断.xlsx"):
        f = files[f"civil_affairs/{name}"]
        assert f["status"] <= {"unreadable", "skipped"} and f["reason"] and f["read"] == 0, (name, f)


def test_utf16_that_lost_its_bom_is_read(tmp_path):
    ctx = make_ctx(tmp_path)
    text = DEATHS_HEAD.replace(",", "\t") + "\r\n" + "\r\n".join(x.replace(",", "\t") for x in deaths(12)) + "\r\n"
    put(ctx.inbox / "civil_affairs" / "unicode.txt", text.encode("utf-16-le"))
    counts = ingest_folder(ctx, "civil_affairs")
    assert counts["civil_affairs_deaths"] == {"read": 12, "loaded": 12, "rejected": 0, "duplicates": 0}
    accounted(ctx, {"civil_affairs/unicode.txt": 12})


def test_formula_like_values_are_kept_as_text(tmp_path):
    ctx = make_ctx(tmp_path)
    names = ["=HYPERLINK(\"http://x\",\"点\")", "+86张三", "-李四", "@SUM(A1)"]
    lines = [f"\"{n.replace(chr(34), chr(34) * 2)}\",{ident(i)},红山镇,2026-01-0{i + 1}" for i, n in enumerate(names)]
    put(ctx.inbox / "civil_affairs" / "公式.csv", (DEATHS_HEAD + "\n" + "\n".join(lines) + "\n").encode())
    ingest_folder(ctx, "civil_affairs")
    got = [r["name"] for r in q(ctx, "SELECT name FROM civil_affairs_deaths ORDER BY source_row")]
    assert got == names
    accounted(ctx, {"civil_affairs/公式.csv": 4})


# ---------------------------------------------------------------- every entry read or listed

def test_every_entry_under_the_inbox_is_read_or_listed_and_no_link_is_followed(tmp_path):
    ctx = make_ctx(tmp_path)
    folder = ctx.inbox / "civil_affairs"
    good = (DEATHS_HEAD + "\n" + "\n".join(deaths(3)) + "\n").encode()
    put(folder / "火化登记.csv", good)
    put(folder / "..火化登记.csv", (DEATHS_HEAD + "\n" + "\n".join(deaths(7, 10)) + "\n").encode())
    put(folder / ".隐藏" / "a.csv", good)
    put(folder / "~$火化登记.xlsx", b"lock")
    put(folder / "说明.doc", b"doc")
    put(folder / "下载中.csv.part", good)
    outside = put(tmp_path / "elsewhere" / "外部.csv", (DEATHS_HEAD + "\n" + "\n".join(deaths(9, 20)) + "\n").encode())
    (folder / "链接.csv").symlink_to(outside)
    (folder / "链接目录").symlink_to(outside.parent, target_is_directory=True)
    (folder / "内部链接.csv").symlink_to(folder / "火化登记.csv")
    put(ctx.inbox / "根目录文件.csv", good)
    put(ctx.inbox / "杂项" / "b.csv", good)
    counts = ingest_folder(ctx, "civil_affairs")
    list_stray(ctx, {"civil_affairs", "roster"})
    assert counts["civil_affairs_deaths"] == {"read": 3, "loaded": 3, "rejected": 0, "duplicates": 0}
    files = accounted(ctx, {"civil_affairs/火化登记.csv": 3})
    why = {name: f["reason"] for name, f in files.items() if f["status"] == {"skipped"}}
    assert "隐藏文件" in why["civil_affairs/..火化登记.csv"]
    assert "隐藏目录" in why["civil_affairs/.隐藏"]
    assert "锁定文件" in why["civil_affairs/~$火化登记.xlsx"]
    assert "不支持的文件类型" in why["civil_affairs/说明.doc"]
    assert "临时文件" in why["civil_affairs/下载中.csv.part"]
    assert "收件目录之外" in why["civil_affairs/链接.csv"] and "收件目录之外" in why["civil_affairs/链接目录"]
    assert "收件目录内" in why["civil_affairs/内部链接.csv"]
    assert "不在任何部门目录下" in why["根目录文件.csv"] and "不在任何部门目录下" in why["杂项/b.csv"]
    assert {s["name"] for s in ctx.skipped if s["kind"] == "file"} >= set(why)


# ---------------------------------------------------------------- identity is never guessed

def _exact_double_id() -> str:
    """A valid 18-digit ID (no X) that a double holds exactly: a number cell gives back its very
    digits, so only the cell's type can tell it was mangled."""
    for birth in ("19800101", "19800102", "19800103", "19800104"):
        for seq in range(1000):
            i = with_check(f"620422{birth}{seq:03d}")
            if i[-1] != "X" and int(i) % 128 == 0:
                return i
    raise AssertionError("no such ID")


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
def test_ids_from_number_cells_are_rejected_whatever_their_check_character(tmp_path, suffix):
    ctx = make_ctx(tmp_path)
    exact = _exact_double_id()
    legacy15 = "620422800505123"
    rows = [["姓名", "身份证号", "乡镇", "死亡日期"],
            ["数字18", float(exact), "红山镇", "2026-01-01"],
            ["文本18", exact, "红山镇", "2026-01-02"],
            ["数字15", float(legacy15), "红山镇", "2026-01-03"]]
    path = ctx.inbox / "civil_affairs" / f"号码{suffix}"
    path.parent.mkdir(parents=True)
    if suffix == ".xlsx":
        wb = openpyxl.Workbook()
        for r in rows:
            wb.active.append(r)
        wb.save(path)
    else:
        wb = xlwt.Workbook()
        ws = wb.add_sheet("名单")
        for i, r in enumerate(rows):
            for j, v in enumerate(r):
                ws.write(i, j, v)
        wb.save(str(path))
    counts = ingest_folder(ctx, "civil_affairs")
    assert counts["civil_affairs_deaths"] == {"read": 3, "loaded": 2, "rejected": 1, "duplicates": 0}
    got = {r["name"]: r["id_number"] for r in q(ctx, "SELECT name, id_number FROM civil_affairs_deaths")}
    assert got == {"文本18": exact, "数字15": with_check("62042219800505123")}
    (r,) = q(ctx, "SELECT row_number, reason FROM rejects")
    assert r["row_number"] == 2 and "Excel按数字保存" in r["reason"]
    accounted(ctx, {f"civil_affairs/号码{suffix}": 3})


def test_the_national_exports_empty_head_id_stays_empty(tmp_path):
    from test_sources_ingest import NATIONAL_HEADERS, _national_rows

    ctx = make_ctx(tmp_path)
    at = NATIONAL_HEADERS.index("户主证件号码")
    rows = _national_rows()
    for r in rows[:3]:  # household H1: its 户主 row is there, its 户主证件号码 cell is empty
        r[at] = ""
    text = ",".join(NATIONAL_HEADERS) + "\n" + "\n".join(",".join(f'"{v}"' for v in r) for r in rows) + "\n"
    put(ctx.inbox / "roster" / "监测对象信息.csv", text.encode("gbk"))
    ingest_folder(ctx, "roster")
    got = {r["household_id"]: r["head_id_number"] for r in q(ctx, "SELECT household_id, head_id_number FROM households")}
    assert got["H1"] is None and got["H2"] is not None


# ---------------------------------------------------------------- roster: townships and .xls merges

def test_roster_township_spellings_resolve_to_one_canonical_township(tmp_path):
    ctx = make_ctx(tmp_path, Config(townships={"红柳镇": ["红柳湾"]}))
    hh = ["户编号,乡镇,户主姓名,户主证件号码"]
    towns = ["红柳镇", "红柳湾", "红柳", "石门乡", "石门乡", "石门乡人民政府", "红山镇", "红山乡"]
    hh += [f"H{i},{t},户主{i},{ident(i)}" for i, t in enumerate(towns)]
    put(ctx.inbox / "roster" / "户.csv", ("\n".join(hh) + "\n").encode("gbk"))
    ingest_folder(ctx, "roster")
    resolve_townships(ctx)
    got = [r["township"] for r in q(ctx, "SELECT township FROM households ORDER BY source_row")]
    assert got == ["红柳镇", "红柳镇", "红柳镇", "石门乡", "石门乡", "石门乡", "红山镇", "红山乡"]


def test_xls_household_id_merged_down_over_its_members(tmp_path):
    ctx = make_ctx(tmp_path)
    wb = xlwt.Workbook()
    ws = wb.add_sheet("家庭成员")
    ws.write_merge(0, 0, 0, 3, "某县家庭成员名册")
    for j, h in enumerate(["户编号", "姓名", "证件号码", "与户主关系"]):
        ws.write(2, j, h)
    r, n = 3, 0
    for h in range(60):  # more than a mini stream holds: the workbook spans regular sectors
        ws.write_merge(r, r + 2, 0, 0, f"H{h:03d}")
        for k, rel in enumerate(["户主", "配偶", "之子"]):
            ws.write(r + k, 1, f"人{n}")
            ws.write(r + k, 2, ident(n, f"19{60 + k}0101"))
            ws.write(r + k, 3, rel)
            n += 1
        r += 3
    path = ctx.inbox / "roster" / "成员.xls"
    path.parent.mkdir(parents=True)
    wb.save(str(path))
    counts = ingest_folder(ctx, "roster")
    assert counts["members"] == {"read": 180, "loaded": 180, "rejected": 0, "duplicates": 0}
    got = q(ctx, "SELECT household_id, count(*) AS n FROM members GROUP BY ALL ORDER BY 1")
    assert len(got) == 60 and {g["n"] for g in got} == {3}
    accounted(ctx, {"roster/成员.xls": 180})


def test_rejects_of_damaged_rows_keep_no_more_than_a_slice_and_are_valid_json(tmp_path):
    ctx = make_ctx(tmp_path)
    data = (DEATHS_HEAD + "\n" + "\n".join(deaths(4)) + "\n").encode() + b"\xff" * 10 + b",x\n"
    put(ctx.inbox / "civil_affairs" / "尾.csv", data)
    ingest_folder(ctx, "civil_affairs")
    (r,) = reasons(ctx, "civil_affairs/尾.csv")
    assert r["row_number"] == 6 and "原始内容" in json.loads(r["raw"])
    accounted(ctx, {"civil_affairs/尾.csv": 5})


def test_list_files_never_leaves_the_inbox(tmp_path):
    from sources.ingest import list_files

    inbox = tmp_path / "inbox"
    put(inbox / "roster" / "a.csv", b"x")
    (inbox / "roster" / "loop").symlink_to(inbox, target_is_directory=True)
    files, skipped = list_files(inbox / "roster", inbox)
    assert files == [inbox / "roster" / "a.csv"]
    assert [p.name for p, _ in skipped] == ["loop"]
