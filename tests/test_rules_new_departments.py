"""W11–W14, L25 and L26 on small hand-made tables: each threshold from both sides (rules.md).

As-of 2026-11-24; window 365 days = 2025-11-25 … 2026-11-24; unemployed_days 90 → registered on or
before 2026-08-26; loan_overdue_days 30 → due before 2026-10-25.
"""

from __future__ import annotations

from datetime import date

import pytest
from test_screening import fired, household, insert, make_ctx, pid, warnings

from checks.logic import run_logic
from checks.screening import run_screening
from sources.spec import department_tables

TABLES = ["households", "members", "measures", *department_tables()]


@pytest.fixture
def ctx(tmp_path):
    c = make_ctx(tmp_path, "r1", tables=TABLES)
    yield c
    c.con.close()


def errors(ctx, code):
    return {r[0]: r[1] for r in ctx.con.execute(
        "SELECT household_id, detail FROM logic_errors WHERE run_id = ? AND rule_code = ?",
        [ctx.run_id, code]).fetchall()}


# --------------------------------------------------------------------------- W11

def unemployed(ctx, idn, registered, reemployed=None, status="有效", township="红山镇"):
    insert(ctx, "hr_unemployment", name="失业者", id_number=idn, township=township, village="一村",
           registered_date=registered, reemployed_date=reemployed, registration_status=status)


def test_w11_days_age_status_reemployment_and_main_income(ctx):
    wages = dict(wage_income=6000, business_income=2000, property_income=0, transfer_income=4000)
    a = pid("19800101", 1)
    household(ctx, "H1", members=[("甲", a, {})], **wages)
    unemployed(ctx, a, date(2026, 8, 26))                          # exactly 90 days: fires
    b = pid("19800101", 2)
    household(ctx, "H2", members=[("乙", b, {})], **wages)
    unemployed(ctx, b, date(2026, 8, 27))                          # 89 days: no
    c = pid("19800101", 3)
    household(ctx, "H3", members=[("丙", c, {})], **wages)
    unemployed(ctx, c, date(2026, 1, 1), status="注销")            # cancelled: no
    unemployed(ctx, c, None)                                       # undated: no
    d = pid("19800101", 4)
    household(ctx, "H4", members=[("丁", d, {})], **wages)
    unemployed(ctx, d, date(2026, 1, 1), reemployed=date(2026, 11, 24))   # re-employed on as-of: no
    e = pid("19800101", 5)
    household(ctx, "H5", members=[("戊", e, {})], **wages)
    unemployed(ctx, e, date(2026, 1, 1), reemployed=date(2026, 11, 25), status=None)  # after as-of, empty status
    f = pid("19600101", 6)                                         # 66 years old
    household(ctx, "H6", members=[("己", f, {})], **wages)
    unemployed(ctx, f, date(2026, 1, 1))
    g = pid("19800101", 7)                                         # business income is main
    household(ctx, "H7", members=[("庚", g, {})], wage_income=4999, business_income=5001,
              property_income=0, transfer_income=0)
    unemployed(ctx, g, date(2026, 1, 1))
    h = pid("19800101", 8)                                         # wages exactly half
    household(ctx, "H8", members=[("辛", h, {})], wage_income=5000, business_income=5000,
              property_income=0, transfer_income=0)
    unemployed(ctx, h, date(2026, 1, 1))
    i = pid("19800101", 9)                                         # an income part unknown
    household(ctx, "H9", members=[("壬", i, {})], wage_income=100, business_income=None,
              property_income=0, transfer_income=9000)
    unemployed(ctx, i, date(2026, 1, 1))
    out = pid("19900101", 10)                                      # not on the roster
    unemployed(ctx, out, date(2026, 1, 1), township="白水乡")
    run_screening(ctx)
    assert fired(ctx, "W11") == {"H1", "H5", "H8", "H9", out}
    w = {x["household_id"] or x["id_number"]: x for x in warnings(ctx, "W11")}
    assert w["H1"]["risk_type"] == "因务工就业不稳" and "2026-08-26" in w["H1"]["evidence"]
    assert not w[out]["in_roster"] and w[out]["township"] == "白水乡"
    assert w["H1"]["deadline"] == date(2026, 12, 24)


# --------------------------------------------------------------------------- W12

def disaster(ctx, idn, when, damage="一般损坏", loss=None, relief=None):
    insert(ctx, "emergency_disasters", name="受灾户", id_number=idn, township="红山镇", village="一村",
           disaster_type="洪涝", disaster_date=when, house_damage=damage, direct_loss=loss, relief_paid=relief)


def test_w12_damage_net_loss_window_and_deceased(ctx):
    ids = {k: pid("19700101", n) for n, k in enumerate("ABCDEFG", start=20)}
    for k, idn in ids.items():
        household(ctx, "H" + k, members=[(k, idn, {"status": "死亡"} if k == "G" else {})])
    disaster(ctx, ids["A"], date(2026, 7, 1), damage="倒塌")
    disaster(ctx, ids["B"], date(2026, 7, 1), damage="严重损坏")
    disaster(ctx, ids["C"], date(2026, 7, 1), loss=15000, relief=5000)      # net 10,000: fires
    disaster(ctx, ids["D"], date(2026, 7, 1), loss=15000, relief=5000.01)   # net 9,999.99: no
    disaster(ctx, ids["E"], date(2026, 7, 1), loss=10000)                   # empty relief = 0
    disaster(ctx, ids["F"], date(2025, 11, 24), damage="倒塌")              # before the window
    disaster(ctx, ids["G"], date(2026, 7, 1), damage="倒塌")                # deceased head
    out = pid("19900101", 30)
    disaster(ctx, out, date(2026, 7, 1), damage="倒塌")
    run_screening(ctx)
    assert fired(ctx, "W12") == {"HA", "HB", "HC", "HE", out}


# --------------------------------------------------------------------------- W13 / L25

def water(ctx, idn, when, **ok):
    cols = {k: ok.get(k, "是") for k in ("quantity_ok", "quality_ok", "access_ok", "reliability_ok")}
    insert(ctx, "water_assessments", name="户主", id_number=idn, township="红山镇", village="一村",
           assessed_date=when, **cols)


def test_w13_latest_assessment_and_l25(ctx):
    ids = {k: pid("19700101", n) for n, k in enumerate("ABCDEF", start=40)}
    for k, idn in ids.items():
        household(ctx, "H" + k, members=[(k, idn, {})], water_guaranteed="是")
    water(ctx, ids["A"], date(2026, 5, 1), quality_ok="否")                   # fails
    water(ctx, ids["B"], date(2025, 5, 1), quality_ok="否")
    water(ctx, ids["B"], date(2026, 5, 1))                                    # fixed since: no
    water(ctx, ids["C"], date(2026, 5, 1))
    water(ctx, ids["C"], date(2026, 5, 1), reliability_ok="否")               # same latest date, one fails
    water(ctx, ids["D"], None, access_ok="否")
    water(ctx, ids["D"], date(2026, 1, 1))                                    # dated row wins: no
    water(ctx, ids["E"], None, quantity_ok="否")                              # only undated: counts
    water(ctx, ids["F"], date(2026, 5, 1), quality_ok=None)                   # empty is not 否
    run_screening(ctx)
    assert fired(ctx, "W13") == {"HA", "HC", "HE"}
    w = {x["household_id"]: x for x in warnings(ctx, "W13")}
    assert "水质不达标" in w["HA"]["evidence"] and "供水保证率不达标" in w["HC"]["evidence"]
    run_logic(ctx)
    assert set(errors(ctx, "L25")) == {"HA", "HC", "HE"}


def test_l25_only_when_marked_safe(ctx):
    a = pid("19700101", 60)
    household(ctx, "HA", members=[("甲", a, {})], water_guaranteed="否")
    water(ctx, a, date(2026, 5, 1), quality_ok="否")
    run_logic(ctx)
    assert errors(ctx, "L25") == {}


# --------------------------------------------------------------------------- W14

def loan(ctx, idn, due=None, overdue=None, balance=1000, status="正常"):
    insert(ctx, "finance_microloans", name="借款人", id_number=idn, township="红山镇", village="一村",
           lender="农商银行", amount=50000, issued_date=date(2024, 1, 1), due_date=due, balance=balance,
           overdue_days=overdue, loan_status=status)


def test_w14_overdue_days_due_date_status_and_balance(ctx):
    ids = {k: pid("19700101", n) for n, k in enumerate("ABCDEFGH", start=70)}
    for k, idn in ids.items():
        household(ctx, "H" + k, members=[(k, idn, {})])
    loan(ctx, ids["A"], overdue=30)                                  # fires
    loan(ctx, ids["B"], overdue=29)                                  # no
    loan(ctx, ids["C"], due=date(2026, 10, 24))                      # 31 days before: fires
    loan(ctx, ids["D"], due=date(2026, 10, 25))                      # 30 days before: no
    loan(ctx, ids["E"], overdue=90, status="结清")                   # settled: no
    loan(ctx, ids["F"], overdue=90, balance=0)                       # nothing owed: no
    loan(ctx, ids["G"], overdue=90, balance=None, status=None)       # unknown balance, empty status: fires
    loan(ctx, ids["H"], overdue=None, due=None)                      # no due date, empty days = 0: no
    out = pid("19900101", 80)
    loan(ctx, out, overdue=90)                                       # roster only
    run_screening(ctx)
    assert fired(ctx, "W14") == {"HA", "HC", "HG"}


# --------------------------------------------------------------------------- L26

def test_l26_each_register_and_its_near_misses(ctx):
    monitored = {"monitoring_category": "边缘易致贫户"}
    ids = {k: pid("19700101", n) for n, k in enumerate("ABCDEFGHIJKLMN", start=100)}
    for k, idn in ids.items():
        household(ctx, "H" + k, members=[("成员" + k, idn, {})], **({} if k == "N" else monitored))

    def car(k, kind="小型轿车", status="正常"):
        insert(ctx, "vehicles", name="x", id_number=ids[k], plate="甘A·12345", vehicle_type=kind,
               registered_date=date(2023, 5, 2), vehicle_status=status)

    car("A")                                                     # fires
    car("B", kind="三轮汽车")
    car("B", kind="轻型货车")
    car("C", status="报废")
    car("N")                                                     # not monitored: no
    insert(ctx, "property_titles", name="x", id_number=ids["D"], location="某小区", property_kind="商品房",
           registered_date=date(2022, 1, 1), title_status="现势")     # fires
    insert(ctx, "property_titles", name="x", id_number=ids["E"], property_kind="自建房", title_status="现势")
    insert(ctx, "property_titles", name="x", id_number=ids["E"], property_kind="商品房", title_status="注销")

    def entity(k, kind, capital=None, status="存续"):
        insert(ctx, "market_entities", name="x", id_number=ids[k], entity_name="某某商贸有限公司",
               entity_type=kind, capital=capital, entity_status=status)

    entity("F", "有限责任公司")                                   # fires
    entity("G", "农民专业合作社", 500)
    entity("H", "个体工商户", 10)                                  # fires
    entity("I", "个体工商户", 9.99)
    entity("I", "个体工商户", None)
    entity("J", "有限责任公司", status="注销")
    insert(ctx, "public_payroll", name="x", id_number=ids["K"], employer="某局", staff_type="公务员",
           payroll_status="退休")                                  # fires
    insert(ctx, "public_payroll", name="x", id_number=ids["L"], employer="某局", payroll_status="离职")
    run_logic(ctx)
    got = errors(ctx, "L26")
    assert set(got) == {"HA", "HD", "HF", "HH", "HK"}
    assert "成员 成员A 名下小型轿车 甘A·12345（公安交管机动车登记，初次登记 2023-05-02，状态 正常）" in got["HA"]
    assert "某某商贸有限公司 法定代表人" in got["HF"] and "财政供养" in got["HK"]


def test_l26_only_registers_present(tmp_path):
    ctx = make_ctx(tmp_path, "r2", tables=["households", "members", "vehicles"])
    try:
        run_logic(ctx)
        notes = {s["name"]: s["reason"] for s in ctx.skipped}
        assert "不动产登记" in notes["L26"] and "机动车登记" not in notes["L26"]
    finally:
        ctx.con.close()
