"""Planted rows for record linkage (issue 15): department rows whose ID Excel destroyed or left
empty, whose true person the planter knows.

`plant_linkage(inbox)` works on an inbox written by `fangpin generate` (first county):
- adds to roster/家庭成员信息.xlsx a namesake of a few roster members in another household of the
  same village (same-name people in one village);
- writes health_insurance/医保结算明细_证件号码缺失.csv: settlements of roster members whose ID
  is in scientific notation (6 digits left), a number cell (15 digits and 000), or empty, some
  names typed in traditional characters; and of people who are in no roster (decoys);
- returns the truth: {(file, row_number): true id_number or None}.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import openpyxl
import polars as pl
import zhconv

from samplegen.base import check_char

FILE = "health_insurance/医保结算明细_证件号码缺失.csv"
HEADERS = ["姓名", "身份证号", "乡镇", "村", "就诊类型", "入院日期", "出院日期", "医疗总费用", "基本医保支付",
           "大病保险支付", "医疗救助支付", "个人自付"]
DECOY_GIVEN = "建国志强秀兰桂英德明玉珍海燕子涵思远"


def _members(inbox: Path) -> pl.DataFrame:
    ws = openpyxl.load_workbook(inbox / "roster" / "家庭成员信息.xlsx", read_only=True).active
    got = list(ws.iter_rows(values_only=True))
    at = next(i for i, r in enumerate(got) if "证件号码" in r)
    m = pl.DataFrame([[None if v is None else str(v) for v in r] for r in got[at + 1:] if r[0]],
                     schema=[str(h) for h in got[at]], orient="row")
    h = pl.read_csv(inbox / "roster" / "户信息.csv", infer_schema=False)
    h = h.select(pl.col("户编号*").alias("户编号"), "乡镇", pl.col("行政村").alias("村"))
    m = m.join(h, on="户编号")
    return m.filter(pl.col("证件号码").str.contains(r"^\d{17}[\dX]$") & (pl.col("人员状态") == "正常")
                    & pl.col("姓名").str.contains(r"^[\u4e00-\u9fff]{2,3}$"))


def _namesakes(inbox: Path, members: pl.DataFrame, rng, k: int) -> list[tuple[str, str]]:
    """Give k members a namesake in another household of their village; [(member id, namesake id)]."""
    path = inbox / "roster" / "家庭成员信息.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    at = next(i for i, r in enumerate(ws.iter_rows(values_only=True), 1) if "证件号码" in r)
    header = [c.value for c in ws[at]]
    rows = {str(r[header.index("证件号码")]): list(r) for r in ws.iter_rows(min_row=at + 1, values_only=True)}
    out = []
    used = set()
    for j in rng.permutation(members.height):
        a = members.row(int(j), named=True)
        other = members.filter((pl.col("村") == a["村"]) & (pl.col("乡镇") == a["乡镇"])
                               & (pl.col("户编号") != a["户编号"]) & (pl.col("与户主关系") != "户主"))
        if not other.height or a["证件号码"] in used:
            continue
        b = other.row(0, named=True)
        row = list(rows[b["证件号码"]])
        id17 = b["证件号码"][:14] + f"{(int(b['证件号码'][14:17]) + 500) % 1000:03d}"
        new_id = id17 + check_char(id17)
        row[header.index("姓名")] = a["姓名"]
        row[header.index("证件号码")] = new_id
        row[header.index("性别")] = "男" if int(new_id[16]) % 2 else "女"
        ws.append(row)
        used.add(a["证件号码"])
        out.append((a["证件号码"], new_id))
        if len(out) == k:
            break
    wb.save(path)
    return out


def plant_linkage(inbox: str | Path, seed: int = 15, persons: int = 60, decoys: int = 20,
                  as_of: date = date(2026, 11, 24)) -> dict[tuple[str, int], str | None]:
    inbox = Path(inbox)
    rng = np.random.default_rng(seed)
    members = _members(inbox)
    pairs = _namesakes(inbox, members, rng, max(2, persons // 15))
    rows: list[tuple[list[str], str | None]] = []

    def settle(name, id_text, town, village, paid=800.0):
        day = as_of - timedelta(days=int(rng.integers(20, 300)))
        total = round(paid * 3, 2)
        return [name, id_text, town, village, "住院", day.isoformat(), (day + timedelta(days=5)).isoformat(),
                f"{total:.2f}", f"{total - paid:.2f}", "0", "0", f"{paid:.2f}"]

    forms = ["sci", "zeros", "empty"]
    by_id = {r["证件号码"]: r for r in members.iter_rows(named=True)}
    # the namesakes' own rows: one with 15 digits (decisive) and one empty (ambiguous: review)
    for a_id, _ in pairs:
        a = by_id[a_id]
        rows.append((settle(a["姓名"], a_id[:15] + "000", a["乡镇"], a["村"]), a_id))
        rows.append((settle(a["姓名"], "", a["乡镇"], a["村"]), a_id))
    namesakes = {a for a, _ in pairs}
    pool = [r for r in members.iter_rows(named=True) if r["证件号码"] not in namesakes]
    for n, j in enumerate(rng.choice(len(pool), size=min(persons, len(pool)), replace=False)):
        p = pool[int(j)]
        form = forms[n % 3]
        if form == "zeros" and p["证件号码"][15:] == "000":
            form = "sci"  # "…000" already: the number cell would keep it whole, nothing lost
        ident = {"sci": f"{float(p['证件号码'][:17]) * 10:.5E}", "zeros": p["证件号码"][:15] + "000",
                 "empty": ""}[form]
        name = p["姓名"]
        if n % 5 == 1:  # typed in traditional characters
            name = zhconv.convert(name, "zh-hant")
        paid = 25000.0 if n == 0 else 800.0  # the first one raises W01 through its link
        rows.append((settle(name, ident, p["乡镇"], p["村"], paid), p["证件号码"]))
    towns = members.select("乡镇", "村").unique().sort("乡镇", "村").rows()
    for n in range(decoys):
        town, village = towns[int(rng.integers(len(towns)))]
        name = "欧阳" + DECOY_GIVEN[(2 * n) % len(DECOY_GIVEN)] + DECOY_GIVEN[(2 * n + 1) % len(DECOY_GIVEN)]
        rows.append((settle(name, "6.20121E+17" if n % 2 else "", town, village), None))
    order = rng.permutation(len(rows))
    rows = [rows[int(i)] for i in order]
    path = inbox / FILE
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADERS)
        for r, _ in rows:
            w.writerow(r)
    return {(FILE, i + 2): truth for i, (_, truth) in enumerate(rows)}


def score(con, run_id: str, truth: dict[tuple[str, int], str | None]) -> dict[str, float]:
    """Precision of accepted links; recall of true persons among accepted + review; counts."""
    got = con.execute("SELECT file, row_number, id_number, accepted FROM record_links WHERE run_id = ?"
                      " AND file = ?", [run_id, FILE]).fetchall()
    accepted = [(f, r, i) for f, r, i, a in got if a]
    right = sum(truth.get((f, r)) == i for f, r, i in accepted)
    true_rows = {k: v for k, v in truth.items() if v}
    found = {(f, r) for f, r, i, _ in got if truth.get((f, r)) == i}
    return {
        "planted_persons": len(true_rows),
        "planted_decoys": len(truth) - len(true_rows),
        "accepted": len(accepted),
        "review": len(got) - len(accepted),
        "precision_accepted": right / len(accepted) if accepted else 1.0,
        "recall_accepted": sum(1 for f, r, i in accepted if truth.get((f, r)) == i) / max(1, len(true_rows)),
        "recall_accepted_or_review": len(found & set(true_rows)) / max(1, len(true_rows)),
    }
