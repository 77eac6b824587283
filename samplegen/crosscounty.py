"""Cross-county plants of a province set (issue 14), written after every county's own files.

With three or more counties, three cases only the province-wide ID index can find, each a
supplementary file beside the county's own (the names say 补报 / 补录, as late deliveries do):

- `patient`: a member of county B (the 2nd county) hospitalised, and the settlement filed by the
  health insurance office of county C (the 3rd): W01/W02 for B's household, not an
  out-of-roster person in C;
- `dead`: a member of county C whose death was registered in county B: L19 for C's household;
- `twice`: a member of county C also entered on county B's roster, in the household of `host`:
  L12 on both households.

The members are read back from the written CSVs of counties B and C (heads of background
households, valid 18-digit ID, status 正常), so the plants carry exactly what a reader sees.
The manifest records them under `cross_county` (county, 户编号, 证件号码 of each) and counts the
added rows and files.
"""

from __future__ import annotations

import csv
from pathlib import Path

SETTLEMENT_HEAD = ["县", "姓名", "身份证号", "参保地乡镇", "参保地村", "就诊类型", "入院日期", "出院日期",
                   "疾病诊断编码", "疾病诊断名称", "医疗总费用", "基本医保支付", "大病保险支付", "医疗救助支付",
                   "个人自付"]


def _members(path: Path) -> list[dict]:
    """Rows of a generated members CSV (UTF-8 or GBK, title rows before the header)."""
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig") if raw.startswith(b"\xef\xbb\xbf") else raw.decode("utf-8", errors="strict")
    lines = list(csv.reader(text.splitlines()))
    start = next(i for i, r in enumerate(lines) if "证件号码" in r and "户编号" in r)
    head = lines[start]
    return [dict(zip(head, r, strict=False)) for r in lines[start + 1:] if len(r) == len(head)]


def _heads(path: Path) -> list[dict]:
    return [r for r in _members(path) if len(r["证件号码"]) == 18 and r.get("人员状态", "") in ("", "正常")
            and r.get("与户主关系") == "户主"]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def plant_cross_county(inbox: Path, manifest: dict) -> None:
    """Write the three cross-county cases into INBOX and record them in the manifest (3+ counties)."""
    counties = [c["county"] for c in manifest["counties"]]
    if len(counties) < 3:
        return
    b, c = counties[1], counties[2]
    in_b = _heads(inbox / "roster" / f"{b}_家庭成员信息.csv")
    in_c = _heads(inbox / "roster" / f"{c}_家庭成员信息.csv")
    patient, host, dead, twice = in_b[3], in_b[9], in_c[5], in_c[8]
    files = {
        "health_insurance": (f"{c}_异地结算补报.csv", "health_settlements", SETTLEMENT_HEAD,
                             [[c, patient["姓名"], patient["证件号码"], "", "", "住院", "2026-09-01", "2026-09-20",
                               "C34.1", "肺恶性肿瘤", "90000", "30000", "10000", "2000", "48000"]]),
        "civil_affairs": (f"{b}_火化登记补报.csv", "civil_affairs_deaths", ["县", "姓名", "身份证号", "乡镇", "死亡日期"],
                          [[b, dead["姓名"], dead["证件号码"], "", "2026-06-01"]]),
        "roster": (f"{b}_家庭成员补录.csv", "members", ["户编号", "姓名", "证件号码", "性别", "与户主关系", "人员状态"],
                   [[host["户编号"], twice["姓名"], twice["证件号码"], twice.get("性别", ""), "其他", "正常"]]),
    }
    for folder, (name, table, header, rows) in files.items():
        _write(inbox / folder / name, header, rows)
        manifest["files"].append(f"{folder}/{name}")
        manifest["tables"][table] = manifest["tables"].get(table, 0) + len(rows)
    manifest["files"].sort()

    def who(county: str, r: dict) -> dict:
        return {"county": county, "household_id": r["户编号"], "id_number": r["证件号码"]}

    manifest["cross_county"] = {"patient": who(b, patient), "settled_in": c, "dead": who(c, dead), "died_in": b,
                                "twice": who(c, twice), "host": who(b, host)}
