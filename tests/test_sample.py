"""The sample county generator: deterministic, every promised quirk in the committed files, and
a manifest that matches what the reader and the rules find in data/sample."""

from __future__ import annotations

import csv
import filecmp
import io
import json
import re
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from checks.registry import get
from samplegen.base import check_char
from samplegen.generate import FILES, FORMS, HEADERS, RULES, SHARED, generate
from sources.spec import department_tables, inbox_folders, spec_for_table

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
INBOX = SAMPLE / "inbox"
MANIFEST = json.loads((SAMPLE / "manifest.json").read_text(encoding="utf-8"))
FOLDERS = inbox_folders()


def files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def norm_id(raw: str) -> str:
    """Clean an ID as inputs.md says a reader must (spaces, apostrophe, full-width, x, 15 digits)."""
    s = (
        raw.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
        .replace(" ", "")
        .lstrip("'")
        .upper()
    )
    if len(s) == 15 and s.isdigit():
        s = s[:6] + "19" + s[6:]
        s += check_char(s)
    return s


def gbk_rows(path: Path, sep: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("gbk")), delimiter=sep))


def utf8_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def all_department_cells() -> list[str]:
    cells: list[str] = []
    for p in (INBOX / "health_insurance").glob("*.csv"):
        raw = p.read_bytes()
        text = raw.decode("gbk") if p.name.startswith("医保结算") else raw.decode("utf-8")
        cells += [c for row in csv.reader(io.StringIO(text)) for c in row]
    cells += [
        c for row in gbk_rows(INBOX / "civil_affairs" / "火化死亡登记.csv", "\t") for c in row
    ]
    return cells


# ---- determinism --------------------------------------------------------------------------------
def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    generate(tmp_path / "a", households=300, seed=3, as_of="2026-11-24")
    generate(tmp_path / "b", households=300, seed=3, as_of="2026-11-24")
    generate(tmp_path / "c", households=300, seed=4, as_of="2026-11-24")
    a, b, c = files(tmp_path / "a"), files(tmp_path / "b"), files(tmp_path / "c")
    assert a == b
    assert a.keys() == c.keys()
    assert a["inbox/roster/户信息.csv"] != c["inbox/roster/户信息.csv"]


def test_make_sample_regenerates_the_committed_sample(tmp_path):
    generate(tmp_path, households=2000, counties=1, seed=7, as_of="2026-11-24")
    committed = files(SAMPLE)
    fresh = files(tmp_path)
    assert fresh.keys() == committed.keys()
    different = [k for k in fresh if not filecmp.cmp(tmp_path / k, SAMPLE / k, shallow=False)]
    assert different == []


def test_several_counties_have_county_columns_and_unique_households(tmp_path):
    m = generate(tmp_path, households=900, counties=3, seed=5, as_of="2026-11-24")
    names = [c["county"] for c in m["counties"]]
    assert len(set(names)) == 3
    heads = utf8_rows(tmp_path / "inbox" / "roster" / f"{names[0]}_户信息.csv")[0]
    assert "县" in heads
    other = gbk_rows(tmp_path / "inbox" / "health_insurance" / f"{names[1]}_医保结算明细.csv")
    assert other[0][0] == "区县" and {r[0] for r in other[1:] if r} == {names[1]}
    ids = []
    for n in names:
        raw = (tmp_path / "inbox" / "roster" / f"{n}_户信息.csv").read_bytes()
        text = raw.decode("utf-8-sig") if raw.startswith(b"\xef\xbb\xbf") else raw.decode("gbk")
        ids += [r[0] for r in csv.reader(io.StringIO(text))][1:]
    assert len(ids) == len(set(ids))
    toml = (tmp_path / "fangpin.toml").read_text(encoding="utf-8")
    assert f'"{names[2]}".' in toml


# ---- quirks in the committed files --------------------------------------------------------------
def test_csv_encodings_and_separators():
    hh = (INBOX / "roster" / "户信息.csv").read_bytes()
    assert hh.startswith(b"\xef\xbb\xbf")
    assert utf8_rows(INBOX / "roster" / "户信息.csv")[0][:2] == ["户编号*", "县"]  # a trailing "*"
    for p in [
        INBOX / "roster" / "帮扶措施.csv",
        INBOX / "health_insurance" / "医保结算明细.csv",
        INBOX / "civil_affairs" / "火化死亡登记.csv",
    ]:
        raw = p.read_bytes()
        raw.decode("gbk")
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
    deaths = gbk_rows(INBOX / "civil_affairs" / "火化死亡登记.csv", "\t")
    assert deaths[0] == ["逝者姓名", "逝者身份证号", "户籍乡镇", "死亡日期"]
    assert ["", "", "", ""] in deaths[1:]  # a blank row
    enrol = (INBOX / "health_insurance" / "城乡居民医保参保登记.csv").read_bytes()
    assert not enrol.startswith(b"\xef\xbb\xbf")
    enrol.decode("utf-8")


def test_workbooks_title_footer_sheets_xls_parquet():
    wb = openpyxl.load_workbook(INBOX / "roster" / "家庭成员信息.xlsx", read_only=True)
    rows = list(wb.active.iter_rows(values_only=True))
    assert "家庭成员信息表" in rows[0][0] and all(v is None for v in rows[1])
    assert rows[2][:3] == ("户编号", "姓名", "证件号码")
    assert "劳动能力" in rows[2] and "务工时间（月）" in rows[2]  # an alias, a full-width form
    tail = [r[0] for r in rows[-3:]]
    assert tail[0] == "合计" and tail[1].startswith("制表人") and tail[2].startswith("制表日期")
    assist = openpyxl.load_workbook(INBOX / "civil_affairs" / "救助对象名册.xlsx", read_only=True)
    towns = MANIFEST["counties"][0]["townships"]
    assert assist.sheetnames[0] == "说明"
    assert set(towns) <= set(assist.sheetnames)
    assert MANIFEST["skipped_sheets"] == [["civil_affairs/救助对象名册.xlsx", "说明"]]
    assert (INBOX / "education" / "学籍信息.xls").read_bytes()[:8] == bytes.fromhex(
        "D0CF11E0A1B11AE1"
    )
    housing = openpyxl.load_workbook(INBOX / "housing" / "农村房屋安全鉴定.xlsx")
    cells = [c for r in housing.active.iter_rows(values_only=True) for c in r]
    assert {"C级", "C"} <= set(cells) and any(isinstance(c, date) for c in cells)
    assert any(
        isinstance(c, (int, float)) and 40000 < c < 47000 for c in cells
    )  # an Excel serial date
    dis = pl.read_parquet(INBOX / "disability" / "残疾人证信息.parquet")
    grade = {"一级": "1", "二级": "2", "三级": "3", "四级": "4"}
    cat = {
        k: str(i)
        for i, k in enumerate(["视力", "听力", "言语", "肢体", "智力", "精神", "多重"], start=1)
    }
    dis = dis.unique().with_columns(
        pl.col("公民身份号码").map_elements(norm_id, return_dtype=pl.String)
    )
    valid = [
        bool(re.fullmatch(r"\d{17}[\dX]", i)) and check_char(i[:17]) == i[17]
        for i in dis["公民身份号码"]
    ]
    dis = dis.filter(pl.Series(valid))  # rejects (Excel-mangled IDs) are not checked
    expected = (
        dis["公民身份号码"]
        + dis["残疾类别"].replace_strict(cat)
        + dis["残疾等级"].replace_strict(grade)
    )
    mismatched = int((dis["残疾证号"] != expected).sum())
    assert mismatched == MANIFEST["s07_mismatches"] > 0


def test_national_export_form_beside_the_three_tables():
    wb = openpyxl.load_workbook(INBOX / "roster" / "监测对象信息_全国系统导出.xlsx", read_only=True)
    rows = list(wb.active.iter_rows(values_only=True))
    head = rows[0]
    for h in (
        "县(市、区、旗)",
        "乡(镇)",
        "户编号",
        "户主证件号码",
        "风险是否已消除",
        "人均纯收入（元）",
        "致贫/返贫风险1",
        "致贫/返贫风险5",
        "是否危房户",
        "是否解决安全饮用水",
        "产业帮扶",
        "义务教育保障",
        "住房安全保障",
        "饮水安全保障",
    ):
        assert h in head
    rows = [r for r in rows if any(v is not None for v in r)]
    export_ids = {r[head.index("户编号")] for r in rows[1:]}
    three = {r[0] for r in utf8_rows(INBOX / "roster" / "户信息.csv")[1:]}
    assert export_ids and not export_ids & three
    towns = {r[head.index("乡(镇)")] for r in rows[1:]}
    assert towns == set(MANIFEST["counties"][0]["export_townships"])
    grades = {r[head.index("在校生状况")] for r in rows[1:]}
    assert "学龄前儿童" in grades and any(g and g.endswith("年级") for g in grades)


def test_messy_ids_names_dates_money_and_townships():
    cells = all_department_cells()
    assert any(re.fullmatch(r"\d{6} \d{8} \d{3}[\dX]", c) for c in cells)  # spaces
    assert any(re.fullmatch(r"'\d{17}[\dX]", c) for c in cells)  # leading apostrophe
    assert any(re.search("[０-９]{17}", c) for c in cells)  # full-width digits
    assert any(re.fullmatch(r"\d{17}x", c) for c in cells)  # lower-case x
    assert any(re.fullmatch(r"\d{15}", c) for c in cells)  # legacy 15-digit
    assert any(re.fullmatch(r"6\.\d{5}E\+17", c) for c in cells)  # Excel scientific
    assert any(
        re.fullmatch(r"\d{15}000", c) and check_char(c[:17]) != c[17] for c in cells
    )  # trailing 000
    assert any(re.fullmatch(r"\S  \S", c) for c in cells)  # spaced name
    sett = gbk_rows(INBOX / "health_insurance" / "医保结算明细.csv")
    head = sett[0]
    dates = [r[head.index("出院日期")] for r in sett[1:] if r]
    for pattern in (
        r"\d{4}-\d\d-\d\d",
        r"\d{4}/\d{1,2}/\d{1,2}",
        r"\d{8}",
        r"\d{4}年\d{1,2}月\d{1,2}日",
        r"\d{4}\.\d\d\.\d\d",
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d",
    ):
        assert any(re.fullmatch(pattern, d) for d in dates), pattern
    money = [r[head.index("医疗总费用（元）")] for r in sett[1:] if r] + [
        r[head.index("个人自付")] for r in sett[1:] if r
    ]
    assert any(re.fullmatch(r"\d{1,3}(,\d{3})+\.\d\d", m) for m in money)
    assert any(m.endswith("元") for m in money) and "" in money
    members = openpyxl.load_workbook(INBOX / "roster" / "家庭成员信息.xlsx", read_only=True)
    names = [r[1] for r in members.active.iter_rows(min_row=4, values_only=True) if r[1]]
    assert any("·" in n for n in names)
    towns = [r[head.index("参保地乡镇")] for r in sett[1:] if r]
    canon = MANIFEST["counties"][0]["townships"]
    assert any(t.endswith("人民政府") for t in towns)
    assert any(t in {c[:-1] for c in canon} for t in towns)
    assert any(t not in canon and t[:-1] + "镇" in canon for t in towns if t.endswith("乡"))
    assert "开发区管委会" in towns and any(t.endswith("片区") for t in towns)


def test_exact_duplicate_rows_in_department_files():
    for path, enc in [
        (INBOX / "health_insurance" / "医保结算明细.csv", "gbk"),
        (INBOX / "health_insurance" / "城乡居民医保参保登记.csv", "utf-8"),
    ]:
        lines = [ln for ln in path.read_bytes().decode(enc).splitlines()[1:] if ln.strip(",")]
        table = "health_settlements" if "结算" in path.name else "health_enrolment"
        assert len(lines) - len(set(lines)) == MANIFEST["duplicates"][table]


def test_every_department_table_is_written_with_its_quirks():
    """Each spec'd department table has a file (or a sheet of its folder's shared workbook), the
    rows, rejects and duplicates the manifest counts, and headers that include an alias."""
    for table in department_tables():
        folder = spec_for_table(table).folder
        stem, enc, sep = FILES[table]
        form = FORMS.get(table, "csv")
        assert MANIFEST["tables"][table] > 0, table
        assert MANIFEST["rejects"][table]["count"] >= 2, table
        assert MANIFEST["duplicates"][table] >= 1, table
        if form == "csv":
            raw = (INBOX / folder / f"{stem}.csv").read_bytes()
            if enc == "gbk":
                with pytest.raises(UnicodeDecodeError):
                    raw.decode("utf-8")
                text = raw.decode("gbk")
            else:
                assert raw.startswith(b"\xef\xbb\xbf") == (enc == "utf-8-sig"), table
                text = raw.decode("utf-8-sig")
            rows = list(csv.reader(io.StringIO(text), delimiter=sep))
            head = rows[0]
        elif form in ("xlsx", "sheet"):
            book = SHARED[folder] if form == "sheet" else stem
            wb = openpyxl.load_workbook(INBOX / folder / f"{book}.xlsx", read_only=True)
            ws = wb.active if form == "xlsx" else wb[spec_for_table(table).title]
            rows = list(ws.iter_rows(values_only=True))
            assert rows[0][0] and all(v is None for v in rows[1]), table  # a title block
            assert [r[0] for r in rows[-3:]][0] == "合计", table  # footer rows
            head = list(rows[2])
        else:
            continue  # the departments' own forms are checked above
        written = [HEADERS[table][k] for k in HEADERS[table] if k != "county"]
        assert head[: len(written)] == written, table
        usual = {spec_for_table(table).column(k).headers[0] for k in HEADERS[table] if k != "county"}
        assert set(written) - usual, table  # at least one alias header


def test_negative_list_as_one_workbook_and_a_file_of_its_own():
    folder = "negative_list"
    sheets = [t for t in department_tables() if spec_for_table(t).folder == folder]
    wb = openpyxl.load_workbook(INBOX / folder / f"{SHARED[folder]}.xlsx", read_only=True)
    in_book = [t for t in sheets if FORMS.get(t) == "sheet"]
    assert len(in_book) >= 2
    assert wb.sheetnames == [spec_for_table(t).title for t in in_book]
    alone = [t for t in sheets if t not in in_book]
    assert alone and all((INBOX / folder / f"{FILES[t][0]}.csv").exists() for t in alone)


def test_new_department_values_in_every_written_form():
    water = utf8_rows(INBOX / "water" / "农村饮水安全评价.csv")
    head = water[0]
    dates = [r[head.index("核查日期")] for r in water[1:] if r]
    assert "" in dates  # undated assessments
    assert any(re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", d) for d in dates)
    ids = [r[head.index("户主身份证号")] for r in water[1:] if r]
    assert any(re.fullmatch(r"6\.\d{5}E\+17", c) for c in ids)
    hr = gbk_rows(INBOX / "human_resources" / "失业登记人员.csv")
    towns = [r[hr[0].index("乡镇(街道)")] for r in hr[1:] if r]
    assert "开发区管委会" in towns and any(t.endswith("人民政府") for t in towns)
    loans = openpyxl.load_workbook(INBOX / "finance" / "脱贫人口小额信贷.xlsx", read_only=True)
    cells = [c for r in loans.active.iter_rows(values_only=True) for c in r]
    assert any(isinstance(c, date) for c in cells)
    assert any(isinstance(c, str) and c.endswith("元") for c in cells)
    assert any(isinstance(c, str) and re.fullmatch(r"\d{1,3}(,\d{3})+\.\d\d", c) for c in cells)


# ---- the manifest ---------------------------------------------------------------------------------
def test_manifest_plants_every_rule_with_positives_and_near_misses():
    assert sorted(MANIFEST["planted"]) == sorted(RULES) == sorted(MANIFEST["near_misses"])
    for code in RULES:
        if get(code).needs_linkage:
            continue  # L27's cases are planted by samplegen/linkage.py and measured in tests/test_linkage.py
        assert MANIFEST["planted"][code], code
        assert MANIFEST["near_misses"][code], code
    hh = {r[0] for r in utf8_rows(INBOX / "roster" / "户信息.csv")[1:]}
    members = openpyxl.load_workbook(INBOX / "roster" / "家庭成员信息.xlsx", read_only=True)
    roster_ids = {
        norm_id(str(r[2])) for r in members.active.iter_rows(min_row=4, values_only=True) if r[2]
    }
    for code in RULES:
        for key in MANIFEST["planted"][code] + MANIFEST["near_misses"][code]:
            if "household_id" in key:
                assert key["household_id"] in hh, (code, key)
                if code in MANIFEST["person_level"]:
                    assert key["id_number"] in roster_ids, (code, key)
            else:
                assert code[0] == "W" and key["id_number"] not in roster_ids, (code, key)


def test_fangpin_toml_is_a_valid_configuration():
    from core.config import load_config

    cfg = load_config(SAMPLE / "fangpin.toml")
    assert cfg.county == MANIFEST["counties"][0]["county"]
    assert cfg.line_for(2026) == 7800 and cfg.line_for(2025) == 7600
    first = MANIFEST["counties"][0]["townships"][0]
    assert cfg.township_aliases()[cfg.county][first] == [first[:-1] + "片区"]


# ---- what the reader and the rules find -----------------------------------------------------------
@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    ingest = pytest.importorskip(
        "sources.ingest", reason="sources.ingest (engineer A) is not importable"
    )
    from core.config import load_config
    from core.context import RunContext
    from pipelines import store

    out = tmp_path_factory.mktemp("sample_out")
    con = store.open_work(out, "sample")
    ctx = RunContext(
        run_id="sample",
        as_of=date.fromisoformat(MANIFEST["as_of"]),
        inbox=INBOX,
        out=out,
        config=load_config(SAMPLE / "fangpin.toml"),
        con=con,
    )
    for folder in FOLDERS:
        ingest.ingest_folder(ctx, folder)
    if hasattr(ingest, "resolve_townships"):
        ingest.resolve_townships(ctx)
    yield ctx
    con.close()


def test_ingest_matches_manifest(ingested):
    con = ingested.con
    for table, n in MANIFEST["tables"].items():
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == n, table
    rejects = dict(con.execute("SELECT source_table, count(*) FROM rejects GROUP BY 1").fetchall())
    assert rejects == {t: r["count"] for t, r in MANIFEST["rejects"].items()}
    dups = dict(
        con.execute(
            "SELECT source_table, sum(duplicates) FROM input_files WHERE status = 'loaded' "
            "GROUP BY 1 HAVING sum(duplicates) > 0"
        ).fetchall()
    )
    assert dups == {t: n for t, n in MANIFEST["duplicates"].items() if n}
    skipped = sorted(
        [f, s]
        for f, s in con.execute(
            "SELECT file, sheet FROM input_files WHERE status <> 'loaded' AND sheet IS NOT NULL"
        ).fetchall()
    )
    assert skipped == MANIFEST["skipped_sheets"]
    for table, n in MANIFEST["unresolved_townships"].items():
        got = con.execute(
            f"SELECT count(*) FROM {table} WHERE township IS NULL AND township_raw IS NOT NULL"
        ).fetchone()[0]
        assert got == n, table


def test_findings_are_exactly_the_planted_cases(ingested):
    screening = pytest.importorskip("checks.screening", reason="checks.screening is not importable")
    logic = pytest.importorskip("checks.logic", reason="checks.logic is not importable")
    screening.run_screening(ingested)
    logic.run_logic(ingested)
    person = set(MANIFEST["person_level"])

    def key(code, hid, idn):
        if hid is None:
            return code, None, idn
        return code, hid, idn if code in person else None

    found = {
        key(*r)
        for r in ingested.con.execute(
            "SELECT rule_code, household_id, id_number FROM warnings UNION ALL "
            "SELECT rule_code, household_id, id_number FROM logic_errors"
        ).fetchall()
    }
    planted = {
        key(c, k.get("household_id"), k.get("id_number"))
        for c, ks in MANIFEST["planted"].items()
        for k in ks
    }
    near = {
        key(c, k.get("household_id"), k.get("id_number"))
        for c, ks in MANIFEST["near_misses"].items()
        for k in ks
    }
    assert planted - found == set()
    assert found - planted == set()
    assert near & found == set()
