"""W01–W10 on small hand-made tables: each threshold from both sides, history across runs, skips.

Expected results are derived from rules.md, not from the SQL: as-of 2026-11-24, window
365 days = 2025-11-25 … 2026-11-24; 180 days = 2026-05-29 … 2026-11-24.
"""

from __future__ import annotations

import zlib
from datetime import date, datetime

import pytest
from gb11643 import with_check

from checks.screening import add_period, run_screening
from core.config import Config
from core.context import RunContext
from pipelines import store

AS_OF = date(2026, 11, 24)
ALL_TABLES = [
    "households", "members", "measures", "health_settlements", "health_enrolment",
    "education_students", "housing_assessments", "disability_certificates",
    "civil_affairs_assistance", "civil_affairs_deaths",
]


def pid(birth: str, seq: int = 1) -> str:
    """A valid 18-character ID number born on `birth` (YYYYMMDD)."""
    body = f"620422{birth}{seq:03d}"
    return with_check(body)


def make_ctx(out, run_id, as_of=AS_OF, config=None, tables=ALL_TABLES) -> RunContext:
    con = store.open_work(out, run_id)
    con.execute(
        "INSERT INTO runs (run_id, as_of_date, started_at, status) VALUES (?, ?, ?, 'running')",
        [run_id, as_of, datetime(2026, 1, 1)],
    )
    for t in tables:
        con.execute(
            "INSERT INTO input_files (run_id, folder, file, source_table, status) VALUES (?, 'x', ?, ?, 'loaded')",
            [run_id, f"{t}.csv", t],
        )
    cfg = config if config is not None else Config(monitoring_line={2026: 7800.0})
    return RunContext(run_id=run_id, as_of=as_of, inbox=out / "inbox", out=out, config=cfg, con=con)


def insert(ctx: RunContext, table: str, **cols) -> None:
    names = ["run_id", *cols]
    ctx.con.execute(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
        [ctx.run_id, *cols.values()],
    )


def household(ctx, hid, township="红山镇", village="一村", size=1, members=(), **cols):
    """A roster household; members = [(name, id, extra member columns)]; the first is the 户主."""
    head = members[0] if members else (f"户主{hid}", pid("19700101", zlib.crc32(hid.encode()) % 998 + 1), {})
    insert(ctx, "households", household_id=hid, county="示例县", township=township, village=village,
           head_name=head[0], head_id_number=head[1], household_size=size, **cols)
    for i, (name, idn, extra) in enumerate(members or [head]):
        insert(ctx, "members", household_id=hid, name=name, id_number=idn,
               relation="户主" if i == 0 else "之子", **extra)


def warnings(ctx, code=None):
    sql = "SELECT rule_code, household_id, id_number, township, village, in_roster, status, evidence," \
          " first_seen_run, first_seen_date, deadline, risk_type FROM warnings WHERE run_id = ?"
    rows = ctx.con.execute(sql + " ORDER BY ALL", [ctx.run_id]).fetchall()
    keys = ["rule_code", "household_id", "id_number", "township", "village", "in_roster", "status",
            "evidence", "first_seen_run", "first_seen_date", "deadline", "risk_type"]
    out = [dict(zip(keys, r, strict=True)) for r in rows]
    return [w for w in out if code is None or w["rule_code"] == code]


def fired(ctx, code):
    """household_id for roster warnings, id_number for out-of-roster ones (status 新增/持续)."""
    return {w["household_id"] or w["id_number"] for w in warnings(ctx, code) if w["status"] != "已解除"}


@pytest.fixture
def ctx(tmp_path):
    c = make_ctx(tmp_path, "r1")
    yield c
    c.con.close()


def settle(ctx, idn, paid=None, discharge=None, admit=None, icd="J18.9", township="红山镇", **money):
    insert(ctx, "health_settlements", name="病人", id_number=idn, township=township, village="一村",
           visit_type="住院", admit_date=admit, discharge_date=discharge, icd10=icd, diagnosis="诊断",
           self_paid=paid, **money)


# --------------------------------------------------------------------------- W01

def test_w01_household_sum_threshold_window_and_derived_self_paid(ctx):
    a1, a2 = pid("19800101", 11), pid("20000101", 12)
    household(ctx, "H001", size=2, members=[("甲", a1, {}), ("乙", a2, {})])
    settle(ctx, a1, 6000, date(2026, 3, 5))
    settle(ctx, a2, 4000, None, admit=date(2025, 11, 25))          # no discharge: admit date, first day
    b1 = pid("19800101", 21)
    household(ctx, "H002", members=[("丙", b1, {})])
    settle(ctx, b1, 9999.99, date(2026, 1, 1))
    settle(ctx, b1, 5000, date(2025, 11, 24))                       # one day before the window
    c1 = pid("19800101", 31)
    household(ctx, "H003", members=[("丁", c1, {})])
    settle(ctx, c1, None, date(2026, 6, 1), total_cost=12000, basic_paid=1000, critical_paid=500,
           assistance_paid=500)                                     # derived 10,000
    d1 = pid("19800101", 41)
    household(ctx, "H004", members=[("戊", d1, {})])
    settle(ctx, d1, None, date(2026, 6, 1), total_cost=30000, basic_paid=1000)  # not derivable
    run_screening(ctx)
    assert fired(ctx, "W01") == {"H001", "H003"}
    w = warnings(ctx, "W01")[0]
    assert "10,000.00 元" in w["evidence"] and "2026-03-05" in w["evidence"] and "2025-11-25" in w["evidence"]
    assert w["risk_type"] == "因病" and w["status"] == "新增" and w["in_roster"]
    assert w["id_number"] == a1 and w["township"] == "红山镇"


def test_w01_income_ratio_branch(ctx):
    for hid, paid in (("H011", 5000), ("H012", 4999.99)):
        m = pid("19800101", int(hid[-2:]))
        household(ctx, hid, size=2, members=[("甲", m, {})], per_capita_net_income=5000)
        settle(ctx, m, paid, date(2026, 6, 1))
    m = pid("19800101", 13)
    household(ctx, "H013", size=2, members=[("乙", m, {})], per_capita_net_income=0)
    settle(ctx, m, 9000, date(2026, 6, 1))
    m = pid("19800101", 14)
    household(ctx, "H014", size=2, members=[("丙", m, {})])          # income unknown
    settle(ctx, m, 9000, date(2026, 6, 1))
    run_screening(ctx)
    assert fired(ctx, "W01") == {"H011"}


def test_w01_deceased_member_and_out_of_roster(ctx):
    alive, dead, reg_dead = pid("19800101", 51), pid("19500101", 52), pid("19500101", 53)
    household(ctx, "H005", size=3, members=[("甲", alive, {}), ("乙", dead, {"status": "死亡"}),
                                            ("丙", reg_dead, {})])
    insert(ctx, "civil_affairs_deaths", name="丙", id_number=reg_dead, death_date=date(2026, 11, 24))
    settle(ctx, dead, 8000, date(2026, 2, 1))
    settle(ctx, reg_dead, 8000, date(2026, 2, 1))
    settle(ctx, alive, 1000, date(2026, 2, 1))
    o1, o2, o3 = pid("19700101", 61), pid("19700101", 62), pid("19700101", 63)
    settle(ctx, o1, 20000, date(2026, 2, 1), township="黑水乡")
    settle(ctx, o2, 19999.99, date(2026, 2, 1), township="黑水乡")
    settle(ctx, o3, 30000, date(2026, 2, 1), township="黑水乡")
    insert(ctx, "civil_affairs_deaths", name="死者", id_number=o3, death_date=date(2026, 3, 1))
    run_screening(ctx)
    assert fired(ctx, "W01") == {o1}
    w = warnings(ctx, "W01")[0]
    assert w["household_id"] is None and not w["in_roster"] and w["township"] == "黑水乡"
    assert "20,000.00 元" in w["evidence"]


# --------------------------------------------------------------------------- W02

def test_w02_major_disease_not_marked(ctx):
    m1, m2, m3, m4 = (pid("19800101", i) for i in (71, 72, 73, 74))
    household(ctx, "H021", members=[("甲", m1, {"health": "健康"})])
    settle(ctx, m1, 100, date(2026, 3, 5), icd="C34.9")
    household(ctx, "H022", members=[("乙", m2, {"health": "患有大病"})])
    settle(ctx, m2, 100, date(2026, 3, 5), icd="C34.9")
    household(ctx, "H023", members=[("丙", m3, {"health": "长期慢性病"})])
    settle(ctx, m3, 100, date(2026, 3, 5), icd="N18.4")              # not N18.5 / N18.6
    settle(ctx, m3, 100, date(2025, 11, 24), icd="N18.5")            # out of the window
    household(ctx, "H024", members=[("丁", m4, {})])
    settle(ctx, m4, 100, date(2026, 3, 5), icd="N18.5")
    settle(ctx, pid("19800101", 75), 100, date(2026, 3, 5), icd="C50.1")  # out-of-roster: not W02
    run_screening(ctx)
    assert fired(ctx, "W02") == {"H021", "H024"}
    assert "C34.9" in next(w for w in warnings(ctx, "W02") if w["household_id"] == "H021")["evidence"]


def test_w02_configured_list_replaces_default(tmp_path):
    ctx = make_ctx(tmp_path, "r1", config=Config(thresholds={**Config().thresholds, "major_disease_icd10": ["I21"]}))
    m1, m2 = pid("19800101", 1), pid("19800101", 2)
    household(ctx, "H001", members=[("甲", m1, {})])
    settle(ctx, m1, 1, date(2026, 3, 5), icd="C34.9")
    household(ctx, "H002", members=[("乙", m2, {})])
    settle(ctx, m2, 1, date(2026, 3, 5), icd="I21.0")
    run_screening(ctx)
    assert fired(ctx, "W02") == {"H002"}


# --------------------------------------------------------------------------- W03

def test_w03_enrolment_of_the_as_of_year(ctx):
    a, b, c, d = (pid("19800101", i) for i in (81, 82, 83, 84))
    household(ctx, "H031", size=2, members=[("甲", a, {}), ("乙", b, {})])
    insert(ctx, "health_enrolment", id_number=a, year=2026, enrolment_status="已参保")
    insert(ctx, "health_enrolment", id_number=b, year=2026, enrolment_status="中断")
    household(ctx, "H032", members=[("丙", c, {})])                   # absent for 2026
    insert(ctx, "health_enrolment", id_number=c, year=2025, enrolment_status="已参保")
    household(ctx, "H033", members=[("丁", d, {})])
    insert(ctx, "health_enrolment", id_number=d, year=2026, enrolment_status="已参保")
    insert(ctx, "health_enrolment", id_number=d, year=2026, enrolment_status="未参保")
    run_screening(ctx)
    assert fired(ctx, "W03") == {"H031", "H032"}
    assert "中断" in next(w for w in warnings(ctx, "W03") if w["household_id"] == "H031")["evidence"]


def test_w03_not_evaluated_without_records_for_the_year(ctx):
    a = pid("19800101", 85)
    household(ctx, "H034", members=[("甲", a, {})])
    insert(ctx, "health_enrolment", id_number=a, year=2025, enrolment_status="未参保")
    run_screening(ctx)
    assert fired(ctx, "W03") == set()
    assert any(s["name"] == "W03" and "2026" in s["reason"] for s in ctx.skipped)


# --------------------------------------------------------------------------- W04

def test_w04_compulsory_age_bounds_and_registry(ctx):
    cases = {
        "H041": ("20191124", None, True),      # 7 today
        "H042": ("20191125", None, False),     # 6 until tomorrow
        "H043": ("20111124", None, True),      # 15
        "H044": ("20101124", None, False),     # 16 today
        "H045": ("20150601", "在读", False),
        "H046": ("20150601", "辍学", True),
    }
    for i, (hid, (birth, status, _)) in enumerate(cases.items()):
        child = pid(birth, 100 + i)
        household(ctx, hid, size=2, members=[("家长", pid("19800101", 200 + i), {}), ("孩子", child, {})])
        if status:
            insert(ctx, "education_students", id_number=child, stage="小学", enrolment_status=status)
    run_screening(ctx)
    assert fired(ctx, "W04") == {h for h, (_, _, fire) in cases.items() if fire}
    w = next(w for w in warnings(ctx, "W04") if w["household_id"] == "H046")
    assert "辍学" in w["evidence"] and w["risk_type"] == "义务教育保障"


# --------------------------------------------------------------------------- W05

def test_w05_unsafe_house(ctx):
    cases = {
        "H051": ("C级", "未改造", None, True),
        "H052": ("D级", "已改造", "是", False),
        "H053": ("C级", "改造中", "否", False),
        "H054": ("B级", "未改造", "是", False),
        "H055": ("D", None, "是", True),
        "H056": ("C级", "不需改造", "是", False),
    }
    for i, (hid, (grade, renovation, only, _)) in enumerate(cases.items()):
        owner = pid("19700101", 300 + i)
        household(ctx, hid, members=[("房主", owner, {})])
        insert(ctx, "housing_assessments", owner_name="房主", owner_id_number=owner, township="红山镇",
               grade=grade, assessed_date=date(2024, 5, 1), renovation=renovation, only_house=only)
    other = pid("19700101", 399)
    insert(ctx, "housing_assessments", owner_name="外人", owner_id_number=other, township="黑水乡",
           village="二村", grade="D级", assessed_date=date(2026, 5, 1), renovation="未改造", only_house="是")
    run_screening(ctx)
    assert fired(ctx, "W05") == {h for h, (*_, fire) in cases.items() if fire} | {other}
    w = next(w for w in warnings(ctx, "W05") if w["id_number"] == other)
    assert (w["township"], w["village"], w["in_roster"]) == ("黑水乡", "二村", False)
    assert "D级" in w["evidence"]


# --------------------------------------------------------------------------- W06

def test_w06_severe_disability_issued_in_window(ctx):
    cases = {
        "H061": ("肢体", "二级", "有效", date(2025, 11, 25), True),
        "H062": ("肢体", "一级", "有效", date(2025, 11, 24), False),
        "H063": ("肢体", "三级", "有效", date(2026, 5, 1), False),
        "H064": ("精神", "三级", "有效", date(2026, 5, 1), True),
        "H065": ("智力", "四级", "有效", date(2026, 5, 1), True),
        "H066": ("视力", "一级", "注销", date(2026, 5, 1), False),
    }
    for i, (hid, (cat, grade, status, issued, _)) in enumerate(cases.items()):
        holder = pid("19700101", 400 + i)
        household(ctx, hid, members=[("持证人", holder, {})])
        insert(ctx, "disability_certificates", name="持证人", id_number=holder, cert_number=holder + "42",
               category=cat, grade=grade, issued_date=issued, cert_status=status, township="红山镇")
    other = pid("19700101", 499)
    insert(ctx, "disability_certificates", name="外人", id_number=other, category="视力", grade="一级",
           issued_date=date(2026, 8, 1), cert_status="有效", township="黑水乡")
    run_screening(ctx)
    assert fired(ctx, "W06") == {h for h, (*_, fire) in cases.items() if fire} | {other}


# --------------------------------------------------------------------------- W07

def test_w07_new_dibao_still_active_household_not_at_risk(ctx):
    cases = {
        # hid: (type, start, end, status, monitoring_category, risk_eliminated, fires)
        "H071": ("农村低保", date(2026, 2, 1), None, "在保", None, None, True),
        "H072": ("农村低保", date(2026, 2, 1), None, "在保", "边缘易致贫户", "否", False),
        "H073": ("特困供养", date(2026, 2, 1), None, "在保", "边缘易致贫户", "是", True),
        "H074": ("农村低保", date(2026, 2, 1), date(2026, 11, 24), "在保", None, None, False),  # ended
        "H075": ("农村低保", date(2026, 2, 1), date(2026, 11, 25), "在保", None, None, True),
        "H076": ("农村低保", date(2026, 2, 1), None, "停保", None, None, False),
        "H077": ("城市低保", date(2026, 2, 1), None, "在保", None, None, False),
        "H078": ("农村低保", date(2025, 11, 24), None, "在保", None, None, False),
        "H079": ("农村低保", date(2025, 11, 25), None, None, None, None, True),
    }
    for i, (hid, (kind, start, end, status, cat, elim, _)) in enumerate(cases.items()):
        person = pid("19700101", 500 + i)
        household(ctx, hid, members=[("对象", person, {})], monitoring_category=cat, risk_eliminated=elim)
        insert(ctx, "civil_affairs_assistance", name="对象", id_number=person, township="红山镇",
               assistance_type=kind, start_date=start, end_date=end, status=status, amount=600)
    other = pid("19700101", 599)
    insert(ctx, "civil_affairs_assistance", name="外人", id_number=other, township=None, township_raw="不知乡",
           assistance_type="特困供养", start_date=date(2026, 2, 1), status="在保")
    run_screening(ctx)
    assert fired(ctx, "W07") == {h for h, (*_, fire) in cases.items() if fire} | {other}
    w = next(w for w in warnings(ctx, "W07") if w["id_number"] == other)
    assert w["township"] is None and "不知乡" in w["evidence"]
    assert any(s["kind"] == "routing" and s["name"] == "W07" for s in ctx.skipped)


# --------------------------------------------------------------------------- W08

def test_w08_temporary_assistance_179_vs_180_days(ctx):
    a, b = pid("19700101", 601), pid("19700101", 602)
    household(ctx, "H081", members=[("甲", a, {})], monitoring_category="突发严重困难户", risk_eliminated="否")
    insert(ctx, "civil_affairs_assistance", id_number=a, assistance_type="临时救助",
           start_date=date(2026, 5, 29), status="已发放", amount=2000)   # 179 days before as-of
    household(ctx, "H082", members=[("乙", b, {})])
    insert(ctx, "civil_affairs_assistance", id_number=b, assistance_type="临时救助",
           start_date=date(2026, 5, 28), status="已发放", amount=2000)   # 180 days before
    o = pid("19700101", 603)
    insert(ctx, "civil_affairs_assistance", id_number=o, assistance_type="临时救助", township="黑水乡",
           start_date=date(2026, 11, 24), amount=500)
    run_screening(ctx)
    assert fired(ctx, "W08") == {"H081", o}
    assert "2,000.00 元" in warnings(ctx, "W08")[0]["evidence"]


# --------------------------------------------------------------------------- W09 / W10

def test_w09_income_below_line_not_at_risk(ctx):
    household(ctx, "H091", per_capita_net_income=7799.99)
    household(ctx, "H092", per_capita_net_income=7800)
    household(ctx, "H093", per_capita_net_income=3000, monitoring_category="脱贫不稳定户", risk_eliminated="否")
    household(ctx, "H094", per_capita_net_income=3000, monitoring_category="脱贫不稳定户", risk_eliminated="是")
    household(ctx, "H095", per_capita_net_income=None)
    run_screening(ctx)
    assert fired(ctx, "W09") == {"H091", "H094"}
    assert "7,800.00 元" in warnings(ctx, "W09")[0]["evidence"]


def test_w09_skipped_without_line(tmp_path):
    ctx = make_ctx(tmp_path, "r1", config=Config(monitoring_line={2025: 7600.0}))
    household(ctx, "H091", per_capita_net_income=100)
    counts = run_screening(ctx)
    assert "W09" not in counts and fired(ctx, "W09") == set()
    reason = next(s["reason"] for s in ctx.skipped if s["name"] == "W09")
    assert "2026" in reason and "监测标准" in reason


def test_w10_income_drop_ratio(ctx):
    household(ctx, "H101", prev_per_capita_net_income=10000, per_capita_net_income=7000)
    household(ctx, "H102", prev_per_capita_net_income=10000, per_capita_net_income=7000.01)
    household(ctx, "H103", prev_per_capita_net_income=0, per_capita_net_income=-5)
    household(ctx, "H104", prev_per_capita_net_income=10000, per_capita_net_income=1000,
              monitoring_category="边缘易致贫户")
    household(ctx, "H105", prev_per_capita_net_income=10000, per_capita_net_income=None)
    run_screening(ctx)
    assert fired(ctx, "W10") == {"H101"}


# --------------------------------------------------------------------------- skips, deadlines, history

def test_missing_health_insurance_skips_w01_to_w03(tmp_path):
    ctx = make_ctx(tmp_path, "r1", tables=[t for t in ALL_TABLES if not t.startswith("health")])
    household(ctx, "H001", per_capita_net_income=100)
    counts = run_screening(ctx)
    skipped = {s["name"] for s in ctx.skipped if s["kind"] == "rule"}
    assert {"W01", "W02", "W03"} <= skipped and "W09" not in skipped
    assert counts["W09"] == 1 and "W01" not in counts
    assert ctx.notes["warnings"] == counts


def test_add_period():
    assert add_period(date(2026, 11, 24), "30 days") == date(2026, 12, 24)
    assert add_period(date(2026, 11, 24), "10 working days") == date(2026, 12, 8)
    assert add_period(date(2026, 11, 27), "1 working day") == date(2026, 11, 30)   # Fri -> Mon
    assert add_period(date(2026, 11, 30), "3 months") == date(2027, 2, 28)


def _finish_and_publish(ctx):
    ctx.con.execute("UPDATE runs SET status = 'completed', finished_at = ? WHERE run_id = ?",
                    [datetime(2026, 1, 1), ctx.run_id])
    store.publish(ctx.con, ctx.out, ctx.run_id)
    ctx.con.close()


def test_history_new_ongoing_resolved_and_rerun(tmp_path):
    first = make_ctx(tmp_path, "r1")
    household(first, "H1", per_capita_net_income=100)
    household(first, "H2", per_capita_net_income=100)
    run_screening(first)
    assert {w["status"] for w in warnings(first)} == {"新增"}
    assert warnings(first)[0]["deadline"] == date(2026, 12, 24)
    _finish_and_publish(first)

    def second_run(run_id):
        ctx = make_ctx(tmp_path, run_id, as_of=date(2026, 12, 1))
        household(ctx, "H1", per_capita_net_income=100)
        household(ctx, "H2", per_capita_net_income=9000)
        household(ctx, "H3", per_capita_net_income=100)
        run_screening(ctx)
        return ctx

    def statuses(ctx):
        return {w["household_id"]: (w["status"], w["first_seen_run"], w["first_seen_date"], w["deadline"])
                for w in warnings(ctx, "W09")}

    second = second_run("r2")
    expected = {
        "H1": ("持续", "r1", AS_OF, date(2026, 12, 24)),
        "H2": ("已解除", "r1", AS_OF, date(2026, 12, 24)),
        "H3": ("新增", "r2", date(2026, 12, 1), date(2026, 12, 31)),
    }
    assert statuses(second) == expected
    assert second.notes["warnings"]["W09"] == 2
    _finish_and_publish(second)

    rerun = second_run("r3")                                         # same as-of: same statuses
    assert statuses(rerun) == expected | {"H3": ("新增", "r3", date(2026, 12, 1), date(2026, 12, 31))}
    _finish_and_publish(rerun)

    third = make_ctx(tmp_path, "r4", as_of=date(2026, 12, 2))       # previous = r3 (latest of 12-01)
    household(third, "H2", per_capita_net_income=100)
    run_screening(third)
    assert {w["household_id"]: w["status"] for w in warnings(third, "W09")} == {
        "H1": "已解除", "H2": "新增", "H3": "已解除"}


def test_skipped_rule_carries_previous_warnings(tmp_path):
    first = make_ctx(tmp_path, "r1")
    household(first, "H1", per_capita_net_income=100)
    run_screening(first)
    _finish_and_publish(first)
    second = make_ctx(tmp_path, "r2", as_of=date(2026, 12, 1), config=Config())
    household(second, "H1", per_capita_net_income=100)
    run_screening(second)
    (w,) = warnings(second, "W09")
    assert (w["status"], w["first_seen_run"]) == ("持续", "r1") and "未能重新筛查" in w["evidence"]


def test_every_w_rule_has_a_documented_sql_file():
    from checks.registry import family
    from checks.sql import RULES_DIR

    codes = [r.code for r in family("W")]
    assert codes == [f"W{i:02d}" for i in range(1, 15)]
    for code in codes:
        text = (RULES_DIR / f"{code}.sql").read_text(encoding="utf-8")
        header = text.split("\n")[:3]
        assert header[0].startswith(f"-- {code} ") and "Reads:" in text and "Policy:" in text


def test_configured_window_changes_reach_and_wording(tmp_path):
    ctx = make_ctx(tmp_path, "r1", config=Config(thresholds={**Config().thresholds, "window_days": 30}))
    a, b = pid("19800101", 1), pid("19800101", 2)
    household(ctx, "H001", members=[("甲", a, {})])
    settle(ctx, a, 10000, date(2026, 10, 26))                        # 30th day back: inside
    household(ctx, "H002", members=[("乙", b, {})])
    settle(ctx, b, 10000, date(2026, 10, 25))                        # 31st day back: outside
    run_screening(ctx)
    assert fired(ctx, "W01") == {"H001"}
    assert warnings(ctx, "W01")[0]["evidence"].startswith("近30天")


def test_running_twice_in_one_run_replaces_the_warnings(ctx):
    household(ctx, "H091", per_capita_net_income=100)
    first = run_screening(ctx)
    assert run_screening(ctx) == first == {**first, "W09": 1}
    assert len(warnings(ctx, "W09")) == 1


def test_undated_death_registration_is_deceased_future_dated_is_not(ctx):
    # rules.md: deceased people (roster 死亡 or a death registration) never raise W rules. A
    # registration whose date is empty/unreadable still means the person died; one dated after
    # the as-of date leaves the person alive (an active member) at the as-of date.
    undated, future, alive = pid("19800101", 701), pid("19800101", 702), pid("19800101", 703)
    household(ctx, "H701", members=[("甲", undated, {})])
    household(ctx, "H702", members=[("乙", future, {})])
    household(ctx, "H703", members=[("丙", alive, {})])
    insert(ctx, "civil_affairs_deaths", name="甲", id_number=undated, death_date=None)
    insert(ctx, "civil_affairs_deaths", name="乙", id_number=future, death_date=date(2026, 11, 25))
    other_undated, other_alive = pid("19700101", 704), pid("19700101", 705)
    insert(ctx, "civil_affairs_deaths", name="外人", id_number=other_undated, death_date=None)
    for idn in (undated, future, alive, other_undated, other_alive):
        settle(ctx, idn, 25000, date(2026, 6, 1), icd="C34.9")
        insert(ctx, "civil_affairs_assistance", id_number=idn, assistance_type="临时救助",
               start_date=date(2026, 10, 1), township="红山镇")
    run_screening(ctx)
    assert fired(ctx, "W01") == {"H702", "H703", other_alive}
    assert fired(ctx, "W02") == {"H702", "H703"}
    assert fired(ctx, "W08") == {"H702", "H703", other_alive}


def test_integer_ratios_in_the_configuration(tmp_path):
    # TOML `med_income_ratio = 1` / `income_drop_ratio = 1` arrive as integers; the evidence
    # text must still format them (DuckDB's {:g} refuses integers).
    from core.config import load_config

    path = tmp_path / "fangpin.toml"
    path.write_text("[monitoring_line]\n2026 = 7800\n[thresholds]\nmed_income_ratio = 1\n"
                    "income_drop_ratio = 1\n", encoding="utf-8")
    ctx = make_ctx(tmp_path, "r1", config=load_config(path))
    a, b = pid("19800101", 1), pid("19800101", 2)
    household(ctx, "H001", size=2, members=[("甲", a, {})], per_capita_net_income=4000)
    settle(ctx, a, 8000, date(2026, 6, 1))                           # = 1 x 8,000 household income
    household(ctx, "H002", size=2, members=[("乙", b, {})], per_capita_net_income=4000)
    settle(ctx, b, 7999.99, date(2026, 6, 1))
    household(ctx, "H003", prev_per_capita_net_income=10000, per_capita_net_income=0)
    household(ctx, "H004", prev_per_capita_net_income=10000, per_capita_net_income=0.01)
    run_screening(ctx)
    assert fired(ctx, "W01") == {"H001"} and "100%" in warnings(ctx, "W01")[0]["evidence"]
    assert fired(ctx, "W10") == {"H003"} and "100%" in warnings(ctx, "W10")[0]["evidence"]


def test_w08_dated_by_start_date_only(ctx):
    # rules.md W08 "a 临时救助 record dated within the last 180 days": the record's date is its
    # start_date (开始日期 / 救助日期 / 审批日期); an end date does not date it.
    a, b = pid("19700101", 801), pid("19700101", 802)
    household(ctx, "H801", members=[("甲", a, {})])
    insert(ctx, "civil_affairs_assistance", id_number=a, assistance_type="临时救助",
           start_date=None, end_date=date(2026, 10, 1), status="已发放", amount=800)
    household(ctx, "H802", members=[("乙", b, {})])
    insert(ctx, "civil_affairs_assistance", id_number=b, assistance_type="临时救助",
           start_date=date(2026, 5, 28), end_date=date(2026, 10, 1), status="已发放", amount=800)
    run_screening(ctx)
    assert fired(ctx, "W08") == set()
