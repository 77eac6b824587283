"""A department is data: a made-up department added to a temporary copy of the project by writing
only its spec file, its rule's SQL file and the rule's registry row — no Python — is read,
documented in the warehouse, accounted, checked (S suite), screened and named on the 说明 sheet."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import openpyxl
from flow_inbox import id_number, make_inbox

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["core", "sources", "sql", "checks", "reports", "pipelines", "samplegen"]

SPEC = """# forestry/ — 生态护林员补助 (a made-up department for this test).
table = "forestry_rangers"
folder = "forestry"
title = "生态护林员名册"
department = "林草"
level = "department"
future_ok = []
freshness = ["hired_date"]

columns = [
  { name = "county", headers = ["县"], type = "county" },
  { name = "name", headers = ["姓名", "护林员姓名"], type = "name", required = true },
  { name = "id_number", headers = ["身份证号"], type = "id", required = true },
  { name = "township", headers = ["乡镇"], type = "township" },
  { name = "ranger_status", headers = ["聘用状态"], type = "enum", values = ["在聘", "解聘"], required = true },
  { name = "hired_date", headers = ["聘用日期"], type = "date" },
  { name = "monthly_pay", headers = ["月补助"], type = "money" },
]
"""

RULE_SQL = """-- W90 护林员解聘 (a made-up rule for this test): a roster member whose ranger post ended.
SELECT
    h.household_id, h.head_id_number AS id_number, h.head_name AS name, h.county, h.township, h.village,
    true AS in_roster,
    '林草部门：家庭成员生态护林员已解聘' AS evidence,
    md5(string_agg(f.id_number, ',' ORDER BY f.id_number)) AS evidence_key
FROM forestry_rangers AS f
JOIN roster_persons AS rp USING (id_number)
JOIN households AS h ON h.household_id = rp.household_id
WHERE f.ranger_status = '解聘'
GROUP BY ALL
"""

REGISTRY = """[W90]
name = "护林员解聘"
family = "W"
level = "household"
dimension = "policy"
severity = "medium"
needs = ["households", "members", "forestry_rangers"]
risk_type = "因务工就业不稳"
verify_within = "30 days"
suggestion = "核实家庭收入变化。"
policy = "（测试用）"
description = "家庭成员的生态护林员岗位已解聘。"
"""


def test_a_department_added_by_spec_and_rule_files_only(tmp_path):
    copy = tmp_path / "project"
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, copy / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "sources" / "specs" / "forestry_rangers.toml").write_text(SPEC, encoding="utf-8")
    (copy / "sql" / "rules" / "W90.sql").write_text(RULE_SQL, encoding="utf-8")
    (copy / "checks" / "registry" / "W90.toml").write_text(REGISTRY, encoding="utf-8")

    inbox = make_inbox(tmp_path)
    (inbox / "forestry").mkdir()
    rows = ["县,姓名,身份证号,乡镇,聘用状态,聘用日期,月补助",
            f"示例县,户主0,{id_number(0)},红山镇,解聘,2026-03-01,800",   # a roster head: W90
            f"示例县,某人,{id_number(900, '19700101')},青石乡,在聘,2026/3/1,\"1,000\"",
            f"示例县,某人,{id_number(900, '19700101')},青石乡,在聘,2026/3/1,\"1,000\"",  # exact duplicate
            "示例县,坏号,6.20422E+17,红山镇,在聘,2026-03-01,800",               # mangled ID: rejected
            "合计,,,,,,2600"]
    (inbox / "forestry" / "护林员.csv").write_text("\n".join(rows) + "\n", encoding="gbk")

    out = tmp_path / "out"
    code = ("from datetime import date; from pathlib import Path; from pipelines import flow;"
            f"flow.run_once(Path({str(inbox)!r}), Path({str(tmp_path / 'fangpin.toml')!r}),"
            f" date(2026, 11, 24), Path({str(out)!r}))")
    env = dict(os.environ, PYTHONPATH=str(copy))
    subprocess.run([sys.executable, "-c", code], cwd=copy, env=env, check=True, timeout=300)

    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    comment = con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = 'forestry_rangers'").fetchone()
    assert comment and "生态护林员名册" in comment[0]
    undocumented = con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'forestry_rangers'"
                               " AND (comment IS NULL OR comment = '')").fetchall()
    assert undocumented == []
    read, loaded, rejected, dups = con.execute(
        "SELECT sum(rows_read), sum(rows_loaded), sum(rows_rejected), sum(duplicates) FROM input_files"
        " WHERE source_table = 'forestry_rangers'").fetchone()
    assert (read, loaded, rejected, dups) == (4, 2, 1, 1)
    assert con.execute("SELECT count(*) FROM rejects WHERE source_table = 'forestry_rangers'").fetchone()[0] == 1
    codes = {r[0] for r in con.execute("SELECT DISTINCT check_code FROM source_checks"
                                       " WHERE source_table = 'forestry_rangers'").fetchall()}
    assert {"S01", "S02", "S03", "S04", "S05", "S08", "S09", "S10"} <= codes
    assert con.execute("SELECT household_id FROM latest_warnings WHERE rule_code = 'W90'").fetchall() == [("H00000",)]
    con.close()

    reports = out / "reports" / "2026-11-24"
    assert "生态护林员名册" in (reports / "scorecard.html").read_text(encoding="utf-8")
    summary = json.loads((reports / "summary.json").read_text(encoding="utf-8"))
    assert "forestry_rangers" in json.dumps(summary, ensure_ascii=False)
    book = next((reports / "townships").glob("*红山镇*.xlsx"))
    notes = openpyxl.load_workbook(book)["说明"]
    text = "\n".join(str(c.value) for row in notes.iter_rows() for c in row if c.value)
    assert "生态护林员名册" in text and "护林员解聘" in text
