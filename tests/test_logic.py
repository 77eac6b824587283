"""L01–L24 on hand-made roster and department rows sitting on each side of every condition.

Every household is built clean (consistent income, one 户主, size = active members, guarantees 是,
age-appropriate labour and schooling), so each test changes only what its rule looks at and
asserts exactly which (household, id) rows that rule reports.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from pathlib import Path

import pytest
from gb11643 import with_check

from checks.logic import run_logic
from checks.registry import family
from checks.sql import RULES_DIR
from core.config import Config
from core.context import RunContext
from pipelines import store

AS_OF = date(2026, 6, 30)
_seq = itertools.count(100)
MALE_RELATIONS = {"之子", "之父", "之孙子", "之女婿", "之侄儿"}


def check_char(body17: str) -> str:
    return with_check(body17)[-1]


def make_id(birth: date | str, male: bool = True, area: str = "620422") -> str:
    """A valid 18-character ID; the sequence digit's parity gives the gender, a counter keeps IDs unique."""
    birth = birth if isinstance(birth, str) else birth.strftime("%Y%m%d")
    seq = f"{(next(_seq) % 500) * 2 + (1 if male else 0):03d}"
    body = area + birth + seq
    return body + check_char(body)


def born_years_ago(years: int, days_after: int = 0) -> date:
    """Birth date making a person exactly `years` old on AS_OF (one day short with days_after=1)."""
    return AS_OF.replace(year=AS_OF.year - years) + timedelta(days=days_after)


class Roster:
    """Hand-made rows in a fresh working database of run r1."""

    def __init__(self, tmp_path: Path, line: float | None = 7800):
        self.con = store.open_work(tmp_path, "r1")
        config = Config(monitoring_line={2026: line} if line is not None else {})
        self.ctx = RunContext(
            run_id="r1", as_of=AS_OF, inbox=tmp_path / "inbox", out=tmp_path, config=config, con=self.con
        )

    def _insert(self, table: str, row: dict) -> None:
        row = {"run_id": "r1", **row}
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        self.con.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", list(row.values()))

    def loaded(self, *tables: str) -> None:
        for t in tables:
            self._insert("input_files", {"folder": "x", "file": f"{t}.csv", "source_table": t, "status": "loaded"})

    def household(self, hid: str, members: list[dict] | None = None, measures: int = 1, **fields) -> list[dict]:
        """A clean household: a 40-year-old male 户主 unless members are given; returns the members."""
        members = members if members is not None else [{}]
        rows = []
        for i, m in enumerate(members):
            default = "男" if i == 0 or m.get("relation") in MALE_RELATIONS else "女"
            male = m.get("gender", default) == "男"
            birth = m.pop("birth", born_years_ago(40 if i == 0 else 38))
            row = {
                "household_id": hid, "name": f"{hid}成员{i}", "relation": "户主" if i == 0 else "配偶",
                "gender": "男" if male else "女", "school_status": "非在校生", "health": "健康",
                "labor": "普通劳动力", "insured": "是", "dibao": "否", "tekun": "否", "status": "正常",
            }
            row.update(m)
            row.setdefault("id_number", make_id(birth, male))
            rows.append(row)
            self._insert("members", row)
        active = [r for r in rows if r["status"] in ("正常", None)]
        head = next((r for r in rows if r["relation"] == "户主"), rows[0])
        size = len(active)
        pc = fields.get("per_capita_net_income", 10000)
        hh = {
            "household_id": hid, "county": "示例县", "township": "红山镇", "village": "一村",
            "head_name": head["name"], "head_id_number": head["id_number"], "household_size": size,
            "per_capita_net_income": pc, "wage_income": pc * size if pc is not None else None,
            "business_income": 0, "property_income": 0, "transfer_income": 0,
            "edu_guaranteed": "是", "med_guaranteed": "是", "housing_guaranteed": "是", "water_guaranteed": "是",
        }
        hh.update(fields)
        self._insert("households", hh)
        for k in range(measures):
            self.measure(hid, start_date=date(2025, 1, 1) + timedelta(days=k))
        return rows

    def measure(self, hid: str, **fields) -> None:
        self._insert("measures", {"household_id": hid, "measure_type": "产业帮扶", **fields})

    def row(self, table: str, **fields) -> None:
        self._insert(table, fields)

    def run(self) -> dict[str, int]:
        return run_logic(self.ctx)

    def found(self, code: str) -> set[tuple[str, str | None]]:
        return set(self.con.execute(
            "SELECT household_id, id_number FROM logic_errors WHERE run_id = 'r1' AND rule_code = ?", [code]
        ).fetchall())

    def details(self, code: str) -> list[str]:
        return [r[0] for r in self.con.execute(
            "SELECT detail FROM logic_errors WHERE rule_code = ? ORDER BY household_id, id_number", [code]
        ).fetchall()]


@pytest.fixture
def r(tmp_path):
    roster = Roster(tmp_path)
    yield roster
    roster.con.close()


def eliminated(days_ago: int = 10, monitored_days: int = 400) -> dict:
    elim = AS_OF - timedelta(days=days_ago)
    return {
        "monitoring_category": "突发严重困难户", "monitoring_start_date": elim - timedelta(days=monitored_days),
        "risk_eliminated": "是", "risk_eliminated_date": elim,
    }


def test_registry_has_every_rule_and_its_sql():
    rules = family("L")
    assert [r.code for r in rules] == [f"L{i:02d}" for i in range(1, 28)]  # L27: record linkage (issue 15)
    for rule in rules:
        assert (RULES_DIR / f"{rule.code}.sql").exists()
        assert rule.level in ("household", "person")
        assert rule.dimension in ("completeness", "validity", "consistency", "policy")
        assert rule.severity in ("high", "medium", "low")
        assert rule.suggestion and rule.policy and rule.description
    assert family("L")[18].needs == ("civil_affairs_deaths",)
    assert [r.code for r in rules if r.needs_line] == ["L03"]


def test_clean_households_raise_nothing(r):
    r.household("H1", [{}, {}, {"relation": "之子", "birth": born_years_ago(10), "school_status": "小学",
                                 "labor": "无劳动力"}])
    r.household("H2", **eliminated(days_ago=10, monitored_days=400))
    r.measure("H2", start_date=AS_OF - timedelta(days=200))
    r.loaded("civil_affairs_assistance", "civil_affairs_deaths", "disability_certificates",
             "education_students", "housing_assessments", "health_enrolment")
    h1 = r.con.execute("SELECT id_number FROM members WHERE household_id = 'H1' ORDER BY name").fetchall()
    r.row("education_students", id_number=h1[2][0], stage="小学", enrolment_status="在读")
    for (pid,) in r.con.execute("SELECT id_number FROM members").fetchall():
        r.row("health_enrolment", id_number=pid, year=2026, enrolment_status="已参保")
    counts = r.run()
    assert len(counts) == 24
    assert sum(counts.values()) == 0, r.con.execute("SELECT rule_code, detail FROM logic_errors").fetchall()


def test_l01_eliminated_without_any_measure(r):
    r.household("A", measures=0, **eliminated())
    r.household("B", measures=1, **eliminated())
    r.household("C", measures=0, monitoring_category="边缘易致贫户", risk_eliminated="否")
    r.run()
    assert r.found("L01") == {("A", None)}
    assert "没有录入任何帮扶措施" in r.details("L01")[0]


def test_l02_guarantee_not_met(r):
    r.household("A", water_guaranteed="否", edu_guaranteed="否", **eliminated())
    r.household("B", **eliminated())
    r.household("C", housing_guaranteed="否", monitoring_category="边缘易致贫户", risk_eliminated="否")
    r.run()
    assert r.found("L02") == {("A", None)}
    assert r.details("L02") == ["风险已消除，但义务教育保障、饮水安全保障为“否”（未实现）"]


def test_l03_income_below_line(r):
    r.household("A", per_capita_net_income=7799.99, **eliminated())
    r.household("B", per_capita_net_income=7800, **eliminated())
    r.household("C", per_capita_net_income=None, **eliminated())
    r.household("D", per_capita_net_income=5000, risk_eliminated="否", monitoring_category="边缘易致贫户")
    r.run()
    assert r.found("L03") == {("A", None)}
    assert r.details("L03") == ["风险已消除，但年人均纯收入 7799.99 元低于监测标准 7800 元"]


def test_l03_skipped_without_line(tmp_path):
    roster = Roster(tmp_path, line=None)
    roster.household("A", per_capita_net_income=100, **eliminated())
    counts = roster.run()
    assert "L03" not in counts and "L01" in counts
    skip = [s for s in roster.ctx.skipped if s["name"] == "L03"]
    assert skip and "2026年的监测标准" in skip[0]["reason"]
    assert roster.found("L03") == set()


def test_l04_whole_household_without_labour_counts_active_members_only(r):
    r.household("A", [{"labor": "丧失劳动力"}, {"labor": "无劳动力"}], **eliminated())
    r.household("B", [{"labor": "丧失劳动力"}, {"labor": "弱劳动力或半劳动力"}], **eliminated())
    r.household("C", [{"labor": "无劳动力"}, {"labor": "普通劳动力", "status": "死亡"}], **eliminated())
    r.household("D", [{"labor": "无劳动力"}], monitoring_category="边缘易致贫户", risk_eliminated="否")
    r.run()
    assert r.found("L04") == {("A", None), ("C", None)}


def test_l05_major_illness_of_active_member_only(r, tmp_path):
    r.household("A", [{}, {"health": "患有大病"}], **eliminated())
    b = r.household("B", [{}, {"health": "患有大病"}], **eliminated())
    r.row("civil_affairs_deaths", id_number=b[1]["id_number"], death_date=AS_OF - timedelta(days=5))
    r.household("C", [{"health": "长期慢性病"}], **eliminated())
    r.loaded("civil_affairs_deaths")
    r.run()
    assert r.found("L05") == {("A", None)}


def test_l06_monitoring_and_effect_days_boundaries(r):
    r.household("A179", measures=0, **eliminated(monitored_days=179))
    r.household("A180", measures=0, **eliminated(monitored_days=180))
    elim = AS_OF - timedelta(days=10)
    r.household("B89", measures=0, **eliminated())
    r.measure("B89", start_date=elim - timedelta(days=300))
    r.measure("B89", start_date=elim - timedelta(days=89))
    r.household("B90", measures=0, **eliminated())
    r.measure("B90", start_date=elim - timedelta(days=90))
    r.household("C", measures=0, **eliminated())  # a measure begun after elimination is not "latest before"
    r.measure("C", start_date=elim - timedelta(days=200))
    r.measure("C", start_date=elim + timedelta(days=3))
    r.run()
    assert r.found("L06") == {("A179", None), ("B89", None)}
    d = dict(zip(sorted(["A179", "B89"]), r.details("L06"), strict=True))
    assert "仅 179 天（少于 180 天）" in d["A179"]
    assert "仅 89 天（少于 90 天" in d["B89"]


def test_l07_at_risk_without_measure_after_grace(r):
    r.household("A31", measures=0, monitoring_category="边缘易致贫户", risk_eliminated="否",
                monitoring_start_date=AS_OF - timedelta(days=31))
    r.household("A30", measures=0, monitoring_category="边缘易致贫户", risk_eliminated=None,
                monitoring_start_date=AS_OF - timedelta(days=30))
    r.household("B", measures=1, monitoring_category="边缘易致贫户", risk_eliminated="否",
                monitoring_start_date=AS_OF - timedelta(days=300))
    r.household("C", measures=0, monitoring_start_date=AS_OF - timedelta(days=300))  # not monitored
    r.run()
    assert r.found("L07") == {("A31", None)}


def test_l08_category_vs_exit_year(r):
    r.household("A", monitoring_category="脱贫不稳定户", exit_year=None)
    r.household("B", monitoring_category="脱贫不稳定户", exit_year=2018)
    r.household("C", monitoring_category="边缘易致贫户", exit_year=2016)
    r.household("D", monitoring_category="边缘易致贫户", exit_year=None)
    r.household("E", monitoring_category="突发严重困难户", exit_year=2016)
    r.run()
    assert r.found("L08") == {("A", None), ("C", None)}


def test_l09_missing_income_and_tolerances(r):
    r.household("MISSING", per_capita_net_income=None)
    # below 100 元 per head the 1 元 floor is the tolerance: 2 people, per-capita 80
    r.household("ONE_YUAN", [{}, {}], per_capita_net_income=80, wage_income=162)
    r.household("OVER_ONE", [{}, {}], per_capita_net_income=80, wage_income=162.02)
    r.household("UNDER_PCT", [{}, {}], per_capita_net_income=5000, wage_income=10002.02)
    r.household("PCT_OK", per_capita_net_income=20000, wage_income=20200)
    r.household("PCT_OVER", per_capita_net_income=20000, wage_income=20200.01)
    r.household("PART_EMPTY", per_capita_net_income=20000, wage_income=1, property_income=None)
    r.run()
    assert r.found("L09") == {("MISSING", None), ("OVER_ONE", None), ("PCT_OVER", None)}
    assert r.details("L09")[0] == "年人均纯收入为空（收入信息缺失）"


def test_l10_l11_id_validity_and_gender(r):
    legacy15 = "620422650312113"
    upgraded15 = legacy15[:6] + "19" + legacy15[6:]
    upgraded15 += check_char(upgraded15)  # as ingest upgrades a 15-digit number
    wrong_check = make_id("19800101", male=False)
    wrong_check = wrong_check[:17] + ("0" if wrong_check[17] != "0" else "1")
    body = "62042219900230" + "123"
    bad_date = body + check_char(body)
    m = r.household("A", [
        {"id_number": upgraded15, "birth": "19650312"},
        {"id_number": wrong_check, "gender": "女"},
        {"id_number": bad_date[:17], "relation": "之子", "gender": "男"},
        {"id_number": bad_date, "relation": "之子", "gender": "男"},
        {"id_number": None, "id_number_raw": "6.20422E+17", "relation": "之女", "gender": "女"},
        {"id_number": make_id("19700101", male=True), "gender": "女", "relation": "之女", "status": "死亡"},
    ])
    r.run()
    assert r.found("L10") == {("A", wrong_check), ("A", bad_date[:17]), ("A", bad_date), ("A", "6.20422E+17")}
    assert "校验码错误" in " ".join(r.details("L10"))
    # a deceased member's ID is still checked (L11 looks at every row); wrong length is not judged
    assert r.found("L11") == {("A", m[5]["id_number"])}
    assert r.details("L11") == ["性别为女，但证件号码第 17 位 " + m[5]["id_number"][16] + " 为奇数（男）"]


def test_l12_every_row_of_a_duplicated_id(r):
    dup = make_id("19800101")
    r.household("A", [{"id_number": dup}])
    r.household("B", [{}, {"id_number": dup, "gender": "男", "status": "死亡"}])
    r.run()
    assert r.found("L12") == {("A", dup), ("B", dup)}


def test_l13_head_of_household(r):
    r.household("TWO", [{}, {"relation": "户主"}])
    r.household("MISMATCH", head_id_number=make_id("19600101"))
    r.household("DEAD_HEAD", [{"status": "死亡"}, {}])
    r.household("OK")
    r.run()
    assert r.found("L13") == {("TWO", None), ("MISMATCH", None), ("DEAD_HEAD", None)}


def test_l14_size_counts_active_members(r, tmp_path):
    r.household("OK", [{}, {}, {"status": "死亡", "relation": "之父"}])
    r.household("BAD", [{}, {}], household_size=3)
    reg = r.household("REG", [{}, {}], household_size=2)
    r.row("civil_affairs_deaths", id_number=reg[1]["id_number"], death_date=AS_OF)
    r.loaded("civil_affairs_deaths")
    r.run()
    assert r.found("L14") == {("BAD", None), ("REG", None)}


def test_l15_date_order(r):
    r.household("ELIM_BEFORE", monitoring_category="边缘易致贫户", monitoring_start_date=date(2026, 3, 1),
                risk_eliminated="是", risk_eliminated_date=date(2026, 2, 1))
    r.household("FUTURE", monitoring_category="边缘易致贫户", monitoring_start_date=AS_OF + timedelta(days=1))
    r.household("M_END", measures=0)
    r.measure("M_END", start_date=date(2026, 3, 1), end_date=date(2026, 2, 28))
    r.household("M_FUTURE", measures=0)
    r.measure("M_FUTURE", start_date=AS_OF + timedelta(days=1))
    r.household("OK", monitoring_category="边缘易致贫户", monitoring_start_date=AS_OF, measures=0)
    r.measure("OK", start_date=date(2026, 3, 1), end_date=AS_OF)
    r.run()
    assert r.found("L15") == {("ELIM_BEFORE", None), ("FUTURE", None), ("M_END", None), ("M_FUTURE", None)}


def test_l16_school_status_by_age(r):
    kids = [
        ("PRE6", "学前教育", born_years_ago(7, days_after=1)),
        ("PRE7", "学前教育", born_years_ago(7)),
        ("PRI14", "小学", born_years_ago(14)),
        ("PRI15", "小学", born_years_ago(15)),
        ("PRI5", "一年级", born_years_ago(5)),
        ("UNI17", "本科及以上", born_years_ago(17)),
        ("UNI16", "大专", born_years_ago(16)),
    ]
    ids = {}
    for hid, status, birth in kids:
        m = r.household(hid, [{}, {"relation": "之子", "birth": birth, "school_status": status, "labor": "无劳动力"}])
        ids[hid] = m[1]["id_number"]
    r.run()
    assert r.found("L16") == {(h, ids[h]) for h in ("PRE7", "PRI15", "PRI5", "UNI16")}


def test_l17_labour_by_age(r):
    cases = {
        "C15": (born_years_ago(16, days_after=1), "普通劳动力"),
        "C16": (born_years_ago(16), "普通劳动力"),
        "C15N": (born_years_ago(15), "无劳动力"),
        "O64": (born_years_ago(65, days_after=1), "普通劳动力"),
        "O65": (born_years_ago(65), "技能劳动力"),
        "O65W": (born_years_ago(70), "弱劳动力或半劳动力"),
    }
    ids = {}
    for hid, (birth, labor) in cases.items():
        m = r.household(hid, [{}, {"relation": "之子", "birth": birth, "labor": labor}])
        ids[hid] = m[1]["id_number"]
    # a 17-character ID still "contains" a date, but no trustworthy one: L10's, not L16's or L17's
    r.household("SHORT", [{}, {"relation": "之子", "id_number": make_id("20150101")[:17], "labor": "普通劳动力",
                               "school_status": "本科及以上"}])
    r.run()
    assert r.found("L17") == {("C15", ids["C15"]), ("O65", ids["O65"])}
    assert r.found("L16") == set()


def test_l17_empty_labour_of_a_child_fires_but_not_of_an_elder(r):
    """rules.md: "age < lower bound and labor not 无劳动力" — an empty labor is not 无劳动力;
    the upper half names 普通劳动力 / 技能劳动力, so an elder's empty labor is not an error."""
    child = r.household("KID", [{}, {"relation": "之子", "birth": born_years_ago(10), "labor": None}])
    r.household("OLD", [{}, {"relation": "之父", "birth": born_years_ago(70), "labor": None}])
    r.run()
    assert r.found("L17") == {("KID", child[1]["id_number"])}
    assert r.details("L17") == ["年龄 10 岁（未满 16 岁），劳动技能却为空（应为无劳动力）"]


def test_l16_l17_no_age_from_an_impossible_birth_date(r):
    """A birth date after the as-of date (or before 1900) is L10's impossible birth date: no age,
    so no L16 / L17 — while a possible one a day before the as-of date is still judged."""
    future = "620422" + "20300101" + "011"
    future += check_char(future)
    old = "620422" + "18990101" + "011"
    old += check_char(old)
    r.household("FUT", [{}, {"relation": "之子", "id_number": future, "labor": "普通劳动力", "school_status": "小学"}])
    r.household("OLD", [{}, {"relation": "之父", "id_number": old, "labor": "普通劳动力", "school_status": "小学"}])
    baby = r.household("NEW", [{}, {"relation": "之子", "birth": AS_OF - timedelta(days=1), "labor": "普通劳动力",
                                     "school_status": "小学"}])
    r.run()
    assert ("FUT", future) in r.found("L10") and ("OLD", old) in r.found("L10")
    assert r.found("L17") == {("NEW", baby[1]["id_number"])}
    assert r.found("L16") == {("NEW", baby[1]["id_number"])}


def test_l18_relation_and_gender(r):
    a = r.household("A", [{}, {"relation": "之子", "gender": "女"}, {"relation": "之女", "gender": "女"}])
    b = r.household("B", [{}, {"relation": "配偶", "gender": "男"}])
    r.household("C", [{}, {"relation": "配偶", "gender": "女"}, {"relation": "之儿媳", "gender": "女"}])
    r.run()
    assert r.found("L18") == {("A", a[1]["id_number"]), ("B", b[1]["id_number"])}


def test_l18_empty_or_unknown_gender_of_a_gendered_relation_fires(r):
    """rules.md: "a male relation ... not 男; a female one ... not 女" — an empty or unknown gender
    is not 男 / 女. A 配偶 or 户主 without a gender is not "of the same gender"; 之兄弟姐妹 and 其他
    carry no gender."""
    a = r.household("A", [{}, {"relation": "之子", "gender": None}, {"relation": "之母", "gender": "未知"},
                          {"relation": "之兄弟姐妹", "gender": None}, {"relation": "其他", "gender": None}])
    r.household("B", [{}, {"relation": "配偶", "gender": None}])
    r.household("C", [{"gender": None}, {"relation": "配偶", "gender": "男"}])
    r.household("D", [{}, {"relation": "之子", "gender": None, "status": "死亡"}])
    r.run()
    assert r.found("L18") == {("A", a[1]["id_number"]), ("A", a[2]["id_number"])}
    assert sorted(r.details("L18")) == ["与户主关系为之子，但性别为空（应为男）", "与户主关系为之母，但性别为未知（应为女）"]


def test_l19_death_registered_but_status_normal(r):
    m = r.household("A", [{}, {}, {"status": "死亡"}, {}])
    r.row("civil_affairs_deaths", id_number=m[1]["id_number"], death_date=AS_OF)
    r.row("civil_affairs_deaths", id_number=m[2]["id_number"], death_date=AS_OF - timedelta(days=9))
    r.row("civil_affairs_deaths", id_number=m[3]["id_number"], death_date=AS_OF + timedelta(days=1))
    r.loaded("civil_affairs_deaths")
    r.run()
    assert r.found("L19") == {("A", m[1]["id_number"])}
    assert "已于 2026-06-30 死亡" in r.details("L19")[0]


def test_l19_to_l24_skipped_without_their_extracts(r):
    r.household("A", [{"dibao": "是", "health": "残疾", "school_status": "小学"}])
    counts = r.run()
    skipped = {s["name"]: s["reason"] for s in r.ctx.skipped}
    for code in ("L19", "L20", "L21", "L22", "L23", "L24"):
        assert code in skipped and code not in counts
    assert "民政·救助对象" in skipped["L20"]
    assert r.found("L20") == set()


def test_l20_dibao_and_tekun_against_active_records(r):
    m = r.household("A", [
        {"dibao": "是"},                      # no record
        {"dibao": "否"},                      # active record
        {"dibao": "是"},                      # record ended on the as-of date: not active
        {"dibao": "是", "relation": "之子"},  # record 停保
        {"dibao": "是", "relation": "之女", "gender": "女"},  # active record: fine
        {"tekun": "否", "relation": "之父", "gender": "男"},  # active 特困供养
    ])
    ids = [x["id_number"] for x in m]
    r.row("civil_affairs_assistance", id_number=ids[1], assistance_type="农村低保", status="在保",
          start_date=date(2025, 1, 1))
    r.row("civil_affairs_assistance", id_number=ids[2], assistance_type="农村低保", status="在保",
          start_date=date(2025, 1, 1), end_date=AS_OF)
    r.row("civil_affairs_assistance", id_number=ids[3], assistance_type="农村低保", status="停保",
          start_date=date(2025, 1, 1))
    r.row("civil_affairs_assistance", id_number=ids[4], assistance_type="农村低保", status="在保",
          start_date=date(2025, 1, 1), end_date=AS_OF + timedelta(days=1))
    r.row("civil_affairs_assistance", id_number=ids[5], assistance_type="特困供养", status="在保",
          start_date=date(2024, 1, 1))
    r.row("civil_affairs_assistance", id_number=ids[4], assistance_type="临时救助", status="已发放",
          start_date=date(2026, 1, 1))
    r.loaded("civil_affairs_assistance")
    r.run()
    assert r.found("L20") == {("A", ids[i]) for i in (0, 1, 2, 3, 5)}


def test_l21_disability_against_valid_certificates(r):
    m = r.household("A", [{"health": "残疾"}, {"health": "健康"}, {"health": "健康", "relation": "之子"},
                          {"health": "残疾", "relation": "之女", "gender": "女"}])
    ids = [x["id_number"] for x in m]
    r.row("disability_certificates", id_number=ids[1], cert_status="有效", category="肢体", grade="二级")
    r.row("disability_certificates", id_number=ids[2], cert_status="注销", category="肢体", grade="二级")
    r.row("disability_certificates", id_number=ids[3], cert_status="有效", category="视力", grade="一级")
    r.loaded("disability_certificates")
    r.run()
    assert r.found("L21") == {("A", ids[0]), ("A", ids[1])}


def test_l22_school_status_against_registry(r):
    kid = {"relation": "之子", "labor": "无劳动力"}
    m = r.household("A", [
        {},
        {**kid, "birth": born_years_ago(9), "school_status": "小学"},       # no record
        {**kid, "birth": born_years_ago(12), "school_status": "小学"},      # registry 初中
        {**kid, "birth": born_years_ago(19), "school_status": "大专", "labor": "普通劳动力"},  # 高职: same
        {**kid, "birth": born_years_ago(10), "school_status": "非在校生"},  # registry 在读
        {**kid, "birth": born_years_ago(8), "school_status": "小学"},       # registry 辍学 only
        {**kid, "birth": born_years_ago(5), "school_status": "学前教育"},   # registry 学前
    ])
    ids = [x["id_number"] for x in m]
    r.row("education_students", id_number=ids[2], stage="初中", enrolment_status="在读")
    r.row("education_students", id_number=ids[3], stage="高职", enrolment_status="在读")
    r.row("education_students", id_number=ids[4], stage="小学", enrolment_status="在读")
    r.row("education_students", id_number=ids[5], stage="小学", enrolment_status="辍学")
    r.row("education_students", id_number=ids[6], stage="学前", enrolment_status="在读")
    r.loaded("education_students")
    r.run()
    assert r.found("L22") == {("A", ids[i]) for i in (1, 2, 4, 5)}


def test_l23_housing_guaranteed_but_unsafe_house(r):
    a = r.household("A")
    b = r.household("B")
    c = r.household("C")
    d = r.household("D")
    e = r.household("E", [{}, {"status": "死亡"}])
    f = r.household("F", housing_guaranteed="否")
    rows = [
        (a, "D级", "未改造", None), (b, "B级", "未改造", "是"), (c, "C", "已改造", "是"),
        (d, "C级", "改造中", "否"), (e, "D级", "未改造", "是"), (f, "D级", "未改造", "是"),
    ]
    for members, grade, renovation, only in rows:
        owner = members[1] if len(members) > 1 else members[0]
        r.row("housing_assessments", owner_id_number=owner["id_number"], grade=grade, renovation=renovation,
              only_house=only, assessed_date=date(2026, 1, 5))
    r.loaded("housing_assessments")
    r.run()
    assert r.found("L23") == {("A", None)}
    assert r.details("L23")[0].startswith("住房安全保障为“是”，但A成员0 的房屋鉴定为D级（未改造")


def test_l24_insured_against_enrolment_of_the_as_of_year(r):
    m = r.household("A", [{"insured": "是"}, {"insured": "否"}, {"insured": "是"}, {"insured": "否", "relation": "之子"}])
    ids = [x["id_number"] for x in m]
    r.row("health_enrolment", id_number=ids[1], year=2026, enrolment_status="已参保")
    r.row("health_enrolment", id_number=ids[2], year=2026, enrolment_status="已参保")
    r.row("health_enrolment", id_number=ids[0], year=2025, enrolment_status="已参保")
    r.row("health_enrolment", id_number=ids[3], year=2026, enrolment_status="中断")
    r.loaded("health_enrolment")
    r.run()
    assert r.found("L24") == {("A", ids[0]), ("A", ids[1])}


def test_l24_skipped_when_as_of_year_absent(r):
    m = r.household("A", [{"insured": "是"}])
    r.row("health_enrolment", id_number=m[0]["id_number"], year=2025, enrolment_status="未参保")
    r.loaded("health_enrolment")
    counts = r.run()
    assert "L24" not in counts
    assert any(s["name"] == "L24" and "2026年度" in s["reason"] for s in r.ctx.skipped)


def test_rerun_replaces_rows_and_records_counts(r):
    r.household("A", measures=0, **eliminated())
    first = r.run()
    second = r.run()
    assert first == second and first["L01"] == 1
    assert r.ctx.notes["logic_errors"]["L01"] == 1
    assert r.con.execute("SELECT count(*) FROM logic_errors WHERE rule_code = 'L01'").fetchone()[0] == 1
    row = r.con.execute(
        "SELECT county, township, village, id_number, name FROM logic_errors WHERE rule_code = 'L01'"
    ).fetchone()
    assert row == ("示例县", "红山镇", "一村", None, None)


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    """The generated sample county read by the real ingest, then the L rules."""
    import json

    from core.config import load_config
    from samplegen.generate import generate
    from sources.ingest import ingest_folder, resolve_townships
    from sources.spec import inbox_folders

    root = tmp_path_factory.mktemp("sample")
    generate(root, households=400)
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    con = store.open_work(root, "s1")
    ctx = RunContext(run_id="s1", as_of=date.fromisoformat(manifest["as_of"]), inbox=root / "inbox", out=root,
                     config=load_config(root / "fangpin.toml"), con=con)
    for folder in inbox_folders():
        ingest_folder(ctx, folder)
    resolve_townships(ctx)
    run_logic(ctx)
    yield manifest, con
    con.close()


@pytest.mark.parametrize("code", [f"L{i:02d}" for i in range(1, 27)])
def test_sample_planted_cases_found_and_near_misses_not(sample_run, code):
    manifest, con = sample_run
    person = code in manifest["person_level"]

    def keys(rows):
        return {(p["household_id"], p.get("id_number") if person else None) for p in rows}

    found = set(con.execute(
        "SELECT household_id, id_number FROM logic_errors WHERE rule_code = ?", [code]
    ).fetchall())
    assert keys(manifest["planted"][code]) <= found
    assert not keys(manifest["near_misses"][code]) & found
