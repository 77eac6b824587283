"""Planted cases: for every W and L rule of rules.md, households (or out-of-roster people) on
which it must fire, and near misses just on the other side of each threshold on which it must
not. Each planted household is otherwise clean, so a rule that necessarily fires with another
(L23 with W05, L03 with W09, ...) is recorded under both codes: `planted` is the complete list
of findings the planted households and people give.

Keys: {"household_id"} for household-level W and L rules, {"household_id", "id_number"} for
person-level L rules, {"id_number"} for out-of-roster people.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import numpy as np
import polars as pl

from samplegen.base import CHECK, County, check_char, names

ADULT_LABOR = "普通劳动力"


def years_before(d: date, years: int, plus_days: int = 0) -> date:
    """The date `years` full years before d (Feb 29 → Feb 28), then plus_days later."""
    try:
        b = d.replace(year=d.year - years)
    except ValueError:
        b = d.replace(year=d.year - years, day=28)
    return b + timedelta(days=plus_days)


def school_for(age: int) -> str:
    if age < 3:
        return "非在校生"
    if age < 6:
        return "学前教育"
    if age < 12:
        return "小学"
    if age < 15:
        return "初中"
    if age < 18:
        return "高中"
    return "非在校生"


STAGE = {
    "学前教育": "学前",
    "小学": "小学",
    "初中": "初中",
    "高中": "高中",
    "中职": "中职",
    "高职": "高职",
    "大专": "高职",
    "本科及以上": "本科",
}


def full_age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


class Planter:
    """Builds planted households member by member, with their department records."""

    def __init__(
        self, c: County, as_of: date, rng: np.random.Generator, townships: list[str], start_no: int
    ):
        self.c, self.A, self.rng, self.towns = c, as_of, rng, townships
        self.rows: dict[str, list[dict]] = defaultdict(list)
        self.planted: dict[str, list[dict]] = defaultdict(list)
        self.near: dict[str, list[dict]] = defaultdict(list)
        self.used: dict[tuple, int] = {}
        self.n = start_no
        self.k = 0

    # ---- identities -------------------------------------------------------------------------
    def d(self, days_back: int) -> date:
        return self.A - timedelta(days=days_back)

    def pid(self, birth: date, male: bool, ending_x: bool = False) -> str:
        """A valid ID unused in the county: planted people take sequences 900-999."""
        while True:
            key = (birth, male)
            r = self.used.get(key, 450)
            self.used[key] = r + 1
            id17 = f"{self.c.code}{birth:%Y%m%d}{r * 2 + int(male):03d}"
            if r >= 500:
                raise ValueError("too many planted people born on one day")
            if not ending_x or check_char(id17) == "X":
                return id17 + check_char(id17)

    def place(self) -> tuple[str, str]:
        t = self.towns[self.k % len(self.towns)]
        self.k += 1
        vs = self.c.villages[t]
        return t, vs[self.k % len(vs)]

    def name(self) -> str:
        return str(names(self.rng, 1)[0])

    # ---- a household --------------------------------------------------------------------------
    def member(
        self,
        rel: str = "户主",
        age: int = 45,
        male: bool | None = None,
        birth: date | None = None,
        **kw,
    ) -> dict:
        if male is None:
            male = rel in (
                "户主",
                "之子",
                "之孙子",
                "之父",
                "之岳父",
                "之公公",
                "之祖父",
                "之外祖父",
                "之女婿",
                "之侄儿",
            )
        if birth is None:
            birth = years_before(self.A, age, -int(self.rng.integers(1, 300)))
        a = full_age(birth, self.A)
        m = {
            "rel": rel,
            "male": male,
            "birth": birth,
            "age": a,
            "name": kw.pop("name", None) or self.name(),
            "school": school_for(a),
            "health": "健康",
            "labor": "无劳动力" if a < 16 else ("弱劳动力或半劳动力" if a > 64 else ADULT_LABOR),
            "status": "正常",
            "insured": "是",
            "dibao": "否",
            "tekun": "否",
            "active": True,
            "enrol": "已参保",
            "student": "在读",
            "id": None,
            "raw_id": None,
            "raw_gender": None,
            "gender": None,
        }
        m.update(kw)
        if m["status"] != "正常" or m.get("dead_on"):
            m["active"] = False
        if m["id"] is None:
            m["id"] = self.pid(birth, male, ending_x=bool(m.pop("ending_x", False)))
        m.pop("ending_x", None)
        return m

    def household(
        self,
        members: list[dict],
        *,
        size: int | None = None,
        pc: float | None = 15000.0,
        prev: float | None = None,
        parts: list | None = None,
        exit_year: int | None = None,
        category: str | None = None,
        start: date | None = None,
        eliminated: str | None = None,
        elim_date: date | None = None,
        risk_types: str | None = None,
        measures: list[tuple] | None = None,
        head_id: str | None = None,
        **guarantees,
    ) -> str:
        t, v = self.place()
        self.n += 1
        hid = f"{self.c.code}{self.n:08d}"
        heads = [m for m in members if m["rel"] == "户主" and m["active"]] or [
            m for m in members if m["rel"] == "户主"
        ]
        head = next((m for m in members if m["id"] == head_id), None) or (
            heads[0] if heads else members[0]
        )
        n_active = sum(m["active"] for m in members)
        size = n_active if size is None else size
        if parts is None and pc is not None:
            total = round(pc * size, 2)
            wage = round(total * 0.6, 2)
            bus = round(total * 0.2, 2)
            prop = round(total * 0.02, 2)
            parts = [wage, bus, prop, round(total - wage - bus - prop, 2)]
        parts = parts or [None] * 4
        self.rows["households"].append(
            {
                "household_id": hid,
                "county": self.c.name,
                "township": t,
                "village": v,
                "head_name": head["name"],
                "head_id_number": head_id or head["id"],
                "exit_year": exit_year,
                "monitoring_category": category,
                "monitoring_start_date": start,
                "risk_eliminated": eliminated,
                "risk_eliminated_date": elim_date,
                "risk_types": risk_types or ("因病" if category else None),
                "household_size": size,
                "per_capita_net_income": pc,
                "prev_per_capita_net_income": prev
                if prev is not None
                else (round(pc * 1.02, 2) if pc else None),
                "wage_income": parts[0],
                "business_income": parts[1],
                "property_income": parts[2],
                "transfer_income": parts[3],
                "edu_guaranteed": guarantees.get("edu", "是"),
                "med_guaranteed": guarantees.get("med", "是"),
                "housing_guaranteed": guarantees.get("housing", "是"),
                "water_guaranteed": guarantees.get("water", "是"),
                "cadre_name": self.name(),
                "cadre_phone": "13900000000",
            }
        )
        for m in members:
            gender = m["gender"] or ("男" if m["male"] else "女")
            self.rows["_members"].append(
                {
                    "household_id": hid,
                    "name": m["name"],
                    "id_number": m["id"],
                    "gender": gender,
                    "relation": m["rel"],
                    "school_status": m["school"],
                    "health": m["health"],
                    "labor": m["labor"],
                    "work_status": "县内务工"
                    if m["labor"] == ADULT_LABOR and m["school"] == "非在校生"
                    else "未务工",
                    "work_months": 6
                    if m["labor"] == ADULT_LABOR and m["school"] == "非在校生"
                    else 0,
                    "insured": m["insured"],
                    "dibao": m["dibao"],
                    "tekun": m["tekun"],
                    "status": m["status"],
                    "township": t,
                    "village": v,
                    "birth": m["birth"],
                    "age": m["age"],
                    "_raw_id": m["raw_id"],
                    "_raw_gender": m["raw_gender"],
                }
            )
            m["hid"], m["town"], m["village"] = hid, t, v
            if m.get("dead_on"):
                self.death(m, m["dead_on"])
            if m["active"]:
                if m["enrol"]:
                    self.enrol(m, self.A.year, m["enrol"])
                    self.enrol(m, self.A.year - 1, "已参保")
                if m["school"] != "非在校生" and m["student"]:
                    self.student(m, STAGE[m["school"]], m["student"])
        for mt in measures or []:
            mtype, ms, me = mt
            self.rows["measures"].append(
                {
                    "household_id": hid,
                    "measure_type": mtype,
                    "description": mtype + "：落实到户",
                    "start_date": ms,
                    "end_date": me,
                    "amount": 3000.0,
                }
            )
        return hid

    def other(self, age: int = 50, male: bool = True) -> dict:
        """An out-of-roster rural person, placed by their own township and village."""
        t, v = self.place()
        birth = years_before(self.A, age, -int(self.rng.integers(1, 300)))
        m = {
            "name": self.name(),
            "id": self.pid(birth, male),
            "town": t,
            "village": v,
            "hid": None,
            "male": male,
        }
        self.enrol(m, self.A.year, "已参保")
        return m

    # ---- department records -------------------------------------------------------------------
    def enrol(self, m, year, status):
        self.rows["health_enrolment"].append(
            {
                "name": m["name"],
                "id_number": m["id"],
                "township": m["town"],
                "year": year,
                "enrolment_status": status,
            }
        )

    def student(self, m, stage, status="在读"):
        self.rows["education_students"].append(
            {
                "name": m["name"],
                "id_number": m["id"],
                "township": m["town"],
                "village": m["village"],
                "school": m["town"][:2] + "中心学校",
                "stage": stage,
                "grade": "一年级",
                "enrolment_status": status,
                "aid": None,
                "aid_amount": None,
            }
        )

    def settle(
        self,
        m,
        discharge: date,
        self_paid: float | None,
        icd=("J18.9", "肺炎"),
        total: float | None = None,
        hide_self=False,
    ):
        total = total if total is not None else round(self_paid / 0.4, 2)
        basic = round(total - self_paid, 2)
        self.rows["health_settlements"].append(
            {
                "name": m["name"],
                "id_number": m["id"],
                "township": m["town"],
                "village": m["village"],
                "visit_type": "住院",
                "admit_date": discharge - timedelta(days=8),
                "discharge_date": discharge,
                "icd10": icd[0],
                "diagnosis": icd[1],
                "total_cost": total,
                "basic_paid": basic,
                "critical_paid": 0.0,
                "assistance_paid": 0.0,
                "self_paid": None if hide_self else self_paid,
            }
        )

    def assist(self, m, kind, start, end=None, status="在保", amount=450.0):
        self.rows["civil_affairs_assistance"].append(
            {
                "name": m["name"],
                "id_number": m["id"],
                "township": m["town"],
                "village": m["village"],
                "assistance_type": kind,
                "start_date": start,
                "end_date": end,
                "status": status,
                "amount": amount,
            }
        )

    def death(self, m, when):
        self.rows["civil_affairs_deaths"].append(
            {"name": m["name"], "id_number": m["id"], "township": m["town"], "death_date": when}
        )

    def house(self, m, grade, renovation, only="是", completed=None, assessed=None):
        self.rows["housing_assessments"].append(
            {
                "owner_name": m["name"],
                "owner_id_number": m["id"],
                "township": m["town"],
                "village": m["village"],
                "grade": grade,
                "assessed_date": assessed or self.d(60),
                "renovation": renovation,
                "completed_date": completed,
                "only_house": only,
            }
        )

    def cert(self, m, category, grade, issued, status="有效"):
        cd = ["视力", "听力", "言语", "肢体", "智力", "精神", "多重"].index(category) + 1
        gd = ["一级", "二级", "三级", "四级"].index(grade) + 1
        self.rows["disability_certificates"].append(
            {
                "name": m["name"],
                "id_number": m["id"],
                "township": m["town"],
                "village": m["village"],
                "category": category,
                "grade": grade,
                "issued_date": issued,
                "cert_status": status,
                "cert_number": f"{m['id']}{cd}{gd}",
            }
        )

    def unemployed(self, m, registered, reemployed=None, status="有效", reason="企业裁员"):
        self.rows["hr_unemployment"].append(
            {
                "name": m["name"],
                "id_number": m["id"],
                "township": m["town"],
                "village": m["village"],
                "registered_date": registered,
                "reemployed_date": reemployed,
                "reason": reason,
                "registration_status": status,
            }
        )

    def disaster(self, m, when, damage, loss, relief=None, kind="洪涝"):
        self.rows["emergency_disasters"].append(
            {
                "name": m["name"],
                "id_number": m["id"],
                "township": m["town"],
                "village": m["village"],
                "disaster_type": kind,
                "disaster_date": when,
                "house_damage": damage,
                "direct_loss": loss,
                "relief_paid": relief,
            }
        )

    def water(self, m, when, quantity="是", quality="是", access="是", reliability="是"):
        self.rows["water_assessments"].append(
            {
                "name": m["name"],
                "id_number": m["id"],
                "township": m["town"],
                "village": m["village"],
                "quantity_ok": quantity,
                "quality_ok": quality,
                "access_ok": access,
                "reliability_ok": reliability,
                "assessed_date": when,
            }
        )

    def loan(self, m, due, balance, overdue, status, amount=30000.0):
        self.rows["finance_microloans"].append(
            {
                "name": m["name"],
                "id_number": m["id"],
                "township": m["town"],
                "village": m["village"],
                "lender": "县农村商业银行",
                "amount": amount,
                "issued_date": due - timedelta(days=1095),
                "due_date": due,
                "balance": balance,
                "overdue_days": overdue,
                "loan_status": status,
            }
        )

    def vehicle(self, m, kind, status="正常"):
        self.rows["vehicles"].append(
            {
                "name": m["name"],
                "id_number": m["id"],
                "plate": f"甘J{90000 + len(self.rows['vehicles']):05d}",
                "vehicle_type": kind,
                "registered_date": self.d(400),
                "vehicle_status": status,
            }
        )

    def title(self, m, kind, status="现势"):
        self.rows["property_titles"].append(
            {
                "name": m["name"],
                "id_number": m["id"],
                "location": f"{self.c.name}城关镇滨河路{len(self.rows['property_titles']) + 1}号",
                "property_kind": kind,
                "registered_date": self.d(700),
                "title_status": status,
            }
        )

    def entity(self, m, kind, capital, status="存续"):
        word = {"个体工商户": "便民超市", "农民专业合作社": "种养殖专业合作社"}.get(
            kind, "商贸有限公司"
        )
        self.rows["market_entities"].append(
            {
                "name": m["name"],
                "id_number": m["id"],
                "entity_name": f"{m['town'][:2]}{m['name']}{word}",
                "entity_type": kind,
                "capital": capital,
                "founded_date": self.d(900),
                "entity_status": status,
            }
        )

    def payroll(self, m, status, staff="事业编制"):
        self.rows["public_payroll"].append(
            {
                "name": m["name"],
                "id_number": m["id"],
                "employer": "县农业农村局",
                "staff_type": staff,
                "payroll_status": status,
            }
        )

    # ---- bookkeeping --------------------------------------------------------------------------
    def hit(self, codes: str, hid=None, m=None, near=False):
        target = self.near if near else self.planted
        for code in codes.split():
            key = {}
            if hid is not None:
                key["household_id"] = hid
            if m is not None and (hid is None or code[0] == "L" and code in PERSON_LEVEL):
                key["id_number"] = m["id"]
            target[code].append(key)

    # ---- household templates ------------------------------------------------------------------
    def couple(self, head_age=50, **head_kw):
        return [
            self.member("户主", head_age, **head_kw),
            self.member("配偶", head_age - 2, male=False),
        ]

    def eliminated(self, members=None, measures=True, **kw):
        A = self.d
        args = dict(
            exit_year=2018,
            category="脱贫不稳定户",
            start=A(500),
            eliminated="是",
            elim_date=A(200),
            measures=[("产业帮扶", A(480), None)] if measures else None,
        )
        args.update(kw)
        return self.household(members or self.couple(), **args)

    def at_risk(self, members=None, **kw):
        A = self.d
        args = dict(
            category="边缘易致贫户",
            start=A(300),
            eliminated="否",
            pc=6000.0,
            prev=6100.0,
            measures=[("就业帮扶", A(280), None)],
        )
        args.update(kw)
        return self.household(members or self.couple(), **args)


PERSON_LEVEL = {"L10", "L11", "L12", "L16", "L17", "L18", "L19", "L20", "L21", "L22", "L24"}


def plant(
    c: County, as_of: date, rng: np.random.Generator, townships: list[str], start_no: int
) -> Planter:
    """Plant every W and L rule: positives and near misses (see the module docstring)."""
    p = Planter(c, as_of, rng, townships, start_no)
    A, d, yb = as_of, p.d, years_before
    hit = p.hit

    # W01 high self-paid medical costs
    ms = p.couple()
    h = p.household(ms, pc=30000.0)
    p.settle(ms[0], d(20), 6000.0)
    p.settle(ms[1], d(300), 4000.0)
    hit("W01", h)
    ms = p.couple()
    h = p.household(ms, pc=8000.0, prev=8100.0)
    p.settle(ms[0], d(50), 8000.0)
    hit("W01", h)
    ms = p.couple()
    h = p.household(ms, pc=30000.0)
    p.settle(ms[1], d(364), 10500.0, total=15000.0, hide_self=True)
    hit("W01", h)
    o = p.other()
    p.settle(o, d(10), 12000.0)
    p.settle(o, d(200), 8000.0)
    hit("W01", m=o)
    ms = p.couple()
    h = p.household(ms, pc=15000.0)
    p.settle(ms[0], d(30), 9999.0)
    hit("W01", h, near=True)
    ms = p.couple()
    h = p.household(ms, pc=30000.0)
    p.settle(ms[0], d(30), 6000.0)
    p.settle(ms[0], d(365), 5000.0)
    hit("W01", h, near=True)
    ms = p.couple()
    h = p.household(ms, pc=8000.0, prev=8100.0)
    p.settle(ms[0], d(50), 7999.0)
    hit("W01", h, near=True)
    o = p.other()
    p.settle(o, d(10), 12000.0)
    p.settle(o, d(100), 7999.0)
    hit("W01", m=o, near=True)
    ms = [p.member("户主", 60), p.member("配偶", 58, male=False, status="死亡", dead_on=d(10))]
    h = p.household(ms, pc=30000.0)
    p.settle(ms[1], d(40), 12000.0)
    hit("W01", h, near=True)
    o = p.other()
    o["dead"] = True
    p.death(o, d(5))
    p.settle(o, d(40), 25000.0)
    hit("W01", m=o, near=True)

    # W02 new major disease
    for icd, health in (
        (("C34.9", "肺恶性肿瘤"), "健康"),
        (("I63.9", "脑梗死"), "长期慢性病"),
        (("N18.5", "慢性肾脏病5期"), "健康"),
    ):
        ms = [p.member("户主", 55, health=health), p.member("配偶", 53, male=False)]
        h = p.household(ms)
        p.settle(ms[0], d(90), 800.0, icd=icd)
        hit("W02", h)
    ms = [p.member("户主", 55, health="患有大病"), p.member("配偶", 53, male=False)]
    h = p.household(ms)
    p.settle(ms[0], d(90), 800.0, icd=("C16.9", "胃恶性肿瘤"))
    hit("W02", h, near=True)
    ms = p.couple()
    h = p.household(ms)
    p.settle(ms[0], d(90), 800.0, icd=("N18.4", "慢性肾脏病4期"))
    hit("W02", h, near=True)
    ms = p.couple()
    h = p.household(ms)
    p.settle(ms[0], d(365), 800.0, icd=("C34.9", "肺恶性肿瘤"))
    hit("W02", h, near=True)
    o = p.other()
    p.settle(o, d(60), 900.0, icd=("C22.0", "肝细胞癌"))
    hit("W02", m=o, near=True)

    # W03 not insured (insured = 否 in the roster, so L24 agrees); W03 + L24 together
    for status in ("未参保", "中断", None):
        ms = [p.member("户主", 48, insured="否", enrol=status), p.member("配偶", 46, male=False)]
        h = p.household(ms)
        hit("W03", h)
        hit("L24", h, ms[0], near=True)
    ms = [p.member("户主", 48), p.member("之子", 20, status="死亡", enrol=None)]
    h = p.household(ms)
    hit("W03", h, near=True)

    # W04 compulsory-age child without 在读
    for birth, registry in ((yb(A, 10, -40), "辍学"), (yb(A, 16, 1), None), (yb(A, 7), None)):
        kid = p.member("之子", birth=birth, school="非在校生", student=None)
        ms = p.couple(40) + [kid]
        h = p.household(ms)
        if registry:
            p.student(kid, "小学", registry)
        hit("W04", h)
    for birth in (yb(A, 7, 1), yb(A, 16)):
        kid = p.member("之女", birth=birth, school="非在校生", student=None)
        h = p.household(p.couple(42) + [kid])
        hit("W04", h, near=True)
    ms = p.couple(40) + [p.member("之子", 10, status="死亡", student=None)]
    h = p.household(ms)
    hit("W04", h, near=True)

    # W05 unsafe house; L23 the roster says housing is safe
    ms = p.couple()
    h = p.household(ms, housing="否")
    p.house(ms[0], "C级", "未改造")
    hit("W05", h)
    ms = p.couple()
    h = p.household(ms, housing="否")
    p.house(ms[0], "D级", "改造中", only=None)
    hit("W05", h)
    o = p.other()
    p.house(o, "D级", "未改造")
    hit("W05", m=o)
    ms = p.couple()
    h = p.household(ms)
    p.house(ms[0], "C级", "未改造")
    hit("W05 L23", h)
    ms = p.couple()
    h = p.household(ms)
    p.house(ms[1], "D级", "改造中")
    hit("W05 L23", h)
    ms = p.couple()
    h = p.household(ms)
    p.house(ms[0], "C级", "已改造", completed=d(100), assessed=d(400))
    hit("W05 L23", h, near=True)
    ms = p.couple()
    h = p.household(ms)
    p.house(ms[0], "C级", "未改造", only="否")
    hit("W05 L23", h, near=True)
    ms = p.couple()
    h = p.household(ms)
    p.house(ms[0], "B级", "未改造")
    hit("W05 L23", h, near=True)
    ms = [p.member("户主", 60), p.member("之父", 85, status="死亡")]
    h = p.household(ms)
    p.house(ms[1], "D级", "未改造")
    hit("W05 L23", h, near=True)
    o = p.other()
    p.house(o, "C级", "不需改造")
    hit("W05", m=o, near=True)

    # W06 new severe disability; L21 disability status
    for cat, grade, days in (
        ("肢体", "二级", 100),
        ("精神", "四级", 50),
        ("肢体", "一级", 364),
        ("智力", "三级", 10),
    ):
        ms = [p.member("户主", 50, health="残疾"), p.member("配偶", 48, male=False)]
        h = p.household(ms)
        p.cert(ms[0], cat, grade, d(days))
        hit("W06", h)
    o = p.other()
    p.cert(o, "视力", "一级", d(20))
    hit("W06", m=o)
    for cat, grade, days, health, status in (
        ("肢体", "三级", 30, "残疾", "有效"),
        ("听力", "一级", 365, "残疾", "有效"),
        ("肢体", "一级", 30, "健康", "注销"),
    ):
        ms = [p.member("户主", 50, health=health), p.member("配偶", 48, male=False)]
        h = p.household(ms)
        p.cert(ms[0], cat, grade, d(days), status)
        hit("W06", h, near=True)
        hit("L21", h, ms[0], near=True)
    o = p.other()
    p.cert(o, "听力", "四级", d(40))
    hit("W06", m=o, near=True)
    ms = [p.member("户主", 50, health="残疾"), p.member("配偶", 48, male=False)]
    h = p.household(ms)
    hit("L21", h, ms[0])
    ms = p.couple()
    h = p.household(ms)
    p.cert(ms[1], "肢体", "三级", d(1000))
    hit("L21", h, ms[1])

    # W07 new 低保 / 特困; L20 roster flags against civil affairs
    ms = [p.member("户主", 50, dibao="是"), p.member("配偶", 48, male=False)]
    h = p.household(ms)
    p.assist(ms[0], "农村低保", d(30))
    hit("W07", h)
    ms = [p.member("户主", 75, tekun="是")]
    h = p.household(ms)
    p.assist(ms[0], "特困供养", d(364), amount=900.0)
    hit("W07", h)
    ms = [p.member("户主", 50, dibao="是"), p.member("配偶", 48, male=False)]
    h = p.eliminated(ms)
    p.assist(ms[0], "农村低保", d(10))
    hit("W07", h)
    o = p.other()
    p.assist(o, "农村低保", d(60))
    hit("W07", m=o)
    ms = [p.member("户主", 50, dibao="是"), p.member("配偶", 48, male=False)]
    h = p.at_risk(ms)
    p.assist(ms[0], "农村低保", d(30))
    hit("W07", h, near=True)
    ms = [p.member("户主", 50, dibao="是"), p.member("配偶", 48, male=False)]
    h = p.household(ms)
    p.assist(ms[0], "农村低保", d(365))
    hit("W07", h, near=True)
    ms = p.couple()
    h = p.household(ms)
    p.assist(ms[0], "农村低保", d(100), d(10), "停保")
    hit("W07", h, near=True)
    ms = p.couple()
    h = p.household(ms)
    p.assist(ms[0], "农村低保", d(100), A)
    hit("W07", h, near=True)
    hit("L20", h, ms[0], near=True)
    ms = p.couple()
    h = p.household(ms)
    p.assist(ms[0], "城市低保", d(20))
    hit("W07", h, near=True)
    o = p.other()
    p.assist(o, "农村低保", d(365))
    hit("W07", m=o, near=True)
    ms = [p.member("户主", 50, dibao="是"), p.member("配偶", 48, male=False)]
    h = p.household(ms)
    hit("L20", h, ms[0])
    ms = [p.member("户主", 50, dibao="是"), p.member("配偶", 48, male=False)]
    h = p.household(ms)
    p.assist(ms[0], "农村低保", d(700), d(50), "停保")
    hit("L20", h, ms[0])
    ms = p.couple()
    h = p.household(ms)
    p.assist(ms[1], "农村低保", d(800))
    hit("L20", h, ms[1])
    ms = [p.member("户主", 78, tekun="是")]
    h = p.household(ms)
    hit("L20", h, ms[0])
    ms = p.couple()
    h = p.household(ms)
    p.assist(ms[0], "农村低保", d(900), d(400), "停保")
    hit("L20", h, ms[0], near=True)

    # W08 temporary assistance within 180 days
    for days in (179, 0):
        ms = p.couple()
        h = p.household(ms)
        p.assist(ms[0], "临时救助", d(days), status="已发放", amount=2000.0)
        hit("W08", h)
    o = p.other()
    p.assist(o, "临时救助", d(10), status="已发放", amount=1500.0)
    hit("W08", m=o)
    ms = p.couple()
    h = p.household(ms)
    p.assist(ms[0], "临时救助", d(180), status="已发放", amount=2000.0)
    hit("W08", h, near=True)
    ms = [p.member("户主", 60), p.member("之父", 86, status="死亡", dead_on=d(5))]
    h = p.household(ms)
    p.assist(ms[1], "临时救助", d(20), status="已发放", amount=3000.0)
    hit("W08", h, near=True)
    o = p.other(70)
    p.death(o, d(5))
    p.assist(o, "临时救助", d(30), status="已发放", amount=3000.0)
    hit("W08", m=o, near=True)
    o = p.other()
    p.assist(o, "临时救助", d(200), status="已发放", amount=1500.0)
    hit("W08", m=o, near=True)

    # W09 income below the line (7,800 in the sample's fangpin.toml), W10 income drop
    h = p.household(p.couple(), pc=7799.0, prev=7900.0, exit_year=2016)
    hit("W09", h)
    h = p.household(p.couple(), pc=5000.0, prev=5100.0, exit_year=2019)
    hit("W09", h)
    h = p.household(p.couple(), pc=7800.0, prev=7900.0)
    hit("W09", h, near=True)
    h = p.at_risk(pc=5000.0, prev=5100.0)
    hit("W09", h, near=True)
    h = p.household(p.couple(), pc=14000.0, prev=20000.0)
    hit("W10", h)
    h = p.household(p.couple(), pc=15000.0, prev=30000.0)
    hit("W10", h)
    h = p.household(p.couple(), pc=14001.0, prev=20000.0)
    hit("W10", h, near=True)
    h = p.at_risk(pc=6000.0, prev=20000.0)
    hit("W10 W09", h, near=True)
    h = p.household(p.couple(), pc=9000.0, prev=0.0)
    hit("W10", h, near=True)

    # L01-L06 eliminated households
    h = p.eliminated(measures=False)
    hit("L01", h)
    h = p.eliminated(measures=False, exit_year=None, category="突发严重困难户")
    hit("L01", h)
    h = p.eliminated()
    hit("L01 L02 L03 L04 L05 L06", h, near=True)
    for g in ("edu", "water", "med"):
        h = p.eliminated(**{g: "否"})
        hit("L02", h)
    h = p.eliminated(pc=7500.0, prev=7600.0)
    hit("L03 W09", h)
    h = p.eliminated(pc=7800.0, prev=7900.0)
    hit("L03 W09", h, near=True)
    h = p.eliminated(
        [
            p.member("户主", 70, labor="丧失劳动力"),
            p.member("配偶", 68, male=False, labor="无劳动力"),
        ]
    )
    hit("L04", h)
    h = p.eliminated([p.member("户主", 72, labor="无劳动力"), p.member("之子", 40, status="死亡")])
    hit("L04", h)
    h = p.eliminated(
        [
            p.member("户主", 70, labor="丧失劳动力"),
            p.member("配偶", 68, male=False, labor="弱劳动力或半劳动力"),
        ]
    )
    hit("L04", h, near=True)
    h = p.eliminated([p.member("户主", 55), p.member("配偶", 53, male=False, health="患有大病")])
    hit("L05", h)
    h = p.eliminated([p.member("户主", 55), p.member("之父", 80, health="患有大病", status="死亡")])
    hit("L05", h, near=True)
    # L06: eliminated < 180 days after monitoring start, or < 90 days after the latest measure
    # begun on or before elimination (each case as (start, measures, near miss)).
    for start, measures, near in (
        (379, [("产业帮扶", 370)], False),
        (700, [("产业帮扶", 650), ("就业帮扶", 289)], False),
        (380, [("产业帮扶", 370)], True),
        (700, [("产业帮扶", 650), ("就业帮扶", 100)], True),
        (700, [("产业帮扶", 650), ("就业帮扶", 290)], True),
    ):
        h = p.household(
            p.couple(),
            exit_year=2018,
            category="脱贫不稳定户",
            start=d(start),
            eliminated="是",
            elim_date=d(200),
            measures=[(kind, d(back), None) for kind, back in measures],
        )
        hit("L06", h, near=near)

    # L07 monitored without measures, L08 wrong category
    for days in (31, 200):
        h = p.at_risk(start=d(days), measures=None)
        hit("L07", h)
    h = p.at_risk(start=d(30), measures=None)
    hit("L07", h, near=True)
    h = p.at_risk(category="脱贫不稳定户", exit_year=None)
    hit("L08", h)
    h = p.at_risk(category="边缘易致贫户", exit_year=2016)
    hit("L08", h)
    h = p.at_risk(category="突发严重困难户", exit_year=2016)
    hit("L08", h, near=True)
    h = p.at_risk(category="突发严重困难户", exit_year=None)
    hit("L08", h, near=True)

    # L09 income missing or inconsistent
    h = p.household(p.couple(), pc=None, prev=10000.0, parts=[12000.0, 4000.0, 400.0, 3600.0])
    hit("L09", h)
    h = p.household(p.couple(), pc=10000.0, parts=[13000.0, 4000.0, 400.0, 3600.0])
    hit("L09", h)
    h = p.household(p.couple(), pc=10000.0, parts=[12200.0, 4000.0, 400.0, 3600.0])
    hit("L09", h, near=True)
    h = p.household(p.couple(), pc=10000.0, parts=[15000.0, 4000.0, None, 3600.0])
    hit("L09", h, near=True)

    # L10 invalid roster IDs (a departed member, an active one, a deceased one), L11 gender
    m = p.member("之兄弟姐妹", 44, male=True, status="迁出")
    m["id"] = m["id"][:17] + CHECK[(CHECK.index(m["id"][17]) + 1) % 11]
    ms = p.couple() + [m]
    h = p.household(ms)
    hit("L10", h, m)
    m = p.member("之子", 20, insured="否", enrol=None)
    m["id"] = f"{c.code}20060230{957:03d}"
    m["id"] += check_char(m["id"])
    ms = p.couple(48) + [m]
    h = p.household(ms)
    hit("L10", h, m)
    hit("W03", h)
    m = p.member("之父", 80, status="死亡")
    m["id"] = m["id"][:17]
    ms = p.couple() + [m]
    h = p.household(ms)
    hit("L10", h, m)
    m = p.member("之子", 28, birth=date(1998, 5, 17))
    m["raw_id"] = m["id"][:6] + m["id"][8:17]
    ms = p.couple(55) + [m]
    h = p.household(ms)
    hit("L10", h, m, near=True)
    m = p.member("之女", 26, ending_x=True)
    m["raw_id"] = m["id"][:17] + "x"
    ms = p.couple(55) + [m]
    h = p.household(ms)
    hit("L10", h, m, near=True)
    m = p.member("其他", 40, male=True, gender="女")
    h = p.household(p.couple() + [m])
    hit("L11", h, m)
    m = p.member("之兄弟姐妹", 40, male=False, raw_gender="1")
    h = p.household(p.couple() + [m])
    hit("L11", h, m)
    m = p.member("之兄弟姐妹", 40, male=False, raw_gender="2")
    h = p.household(p.couple() + [m])
    hit("L11", h, m, near=True)

    # L12 one ID on two member rows
    wife = p.member("配偶", 30, male=False)
    h1 = p.household([p.member("户主", 32), wife])
    h2 = p.household(
        p.couple(58)
        + [
            p.member(
                "之女",
                30,
                male=False,
                birth=wife["birth"],
                id=wife["id"],
                name=wife["name"],
                enrol=None,
            )
        ]
    )
    hit("L12", h1, wife)
    hit("L12", h2, wife)
    son = p.member("之子", 35)
    h1 = p.household(p.couple(62) + [son])
    h2 = p.household(
        [
            p.member("户主", 36, male=False),
            p.member(
                "配偶",
                35,
                male=True,
                birth=son["birth"],
                id=son["id"],
                name=son["name"],
                status="迁出",
            ),
        ]
    )
    hit("L12", h1, son)
    hit("L12", h2, son)

    # namesakes born the same day hold different IDs: not L12
    twin = p.member("之子", 30)
    h1 = p.household(p.couple(56) + [twin])
    other = p.member("之子", 30, birth=twin["birth"], name=twin["name"])
    h2 = p.household(p.couple(57) + [other])
    hit("L12", h1, twin, near=True)
    hit("L12", h2, other, near=True)

    # L13 head, L14 size
    ms = [p.member("户主", 50), p.member("户主", 48, male=False)]
    h = p.household(ms)
    hit("L13", h)
    ms = [p.member("户主", 80, status="死亡"), p.member("配偶", 76, male=False)]
    h = p.household(ms)
    hit("L13", h)
    ms = p.couple()
    h = p.household(ms, head_id=ms[1]["id"])
    hit("L13", h)
    ms = [
        p.member("户主", 78, status="死亡"),
        p.member("户主", 50),
        p.member("之母", 76, male=False),
    ]
    h = p.household(ms, head_id=ms[1]["id"])
    hit("L13", h, near=True)
    h = p.household(p.couple(), size=3)
    hit("L14", h)
    h = p.household(p.couple(45) + [p.member("之子", 20)], size=2)
    hit("L14", h)
    h = p.household(p.couple() + [p.member("之父", 82, status="死亡")], size=3)
    hit("L14", h)
    h = p.household(p.couple() + [p.member("之子", 25, status="迁出")], size=2)
    hit("L14", h, near=True)

    # L15 dates
    h = p.household(
        p.couple(),
        exit_year=2018,
        category="脱贫不稳定户",
        start=d(300),
        eliminated="是",
        elim_date=d(400),
        measures=[("产业帮扶", d(420), None)],
    )
    hit("L15 L06", h)
    h = p.at_risk(start=A + timedelta(days=10), measures=[("就业帮扶", d(5), None)])
    hit("L15", h)
    h = p.household(p.couple(), exit_year=2017, measures=[("产业帮扶", d(200), d(250))])
    hit("L15", h)
    h = p.household(
        p.couple(), exit_year=2017, measures=[("产业帮扶", A + timedelta(days=20), None)]
    )
    hit("L15", h)
    h = p.household(p.couple(), exit_year=2017, measures=[("产业帮扶", d(200), d(200))])
    hit("L15", h, near=True)

    # L16 school status against age, L17 labour against age
    for school, birth in (
        ("学前教育", yb(A, 7)),
        ("小学", yb(A, 16, 1)),
        ("初中", yb(A, 10, -30)),
        ("本科及以上", yb(A, 17, 1)),
    ):
        m = p.member("之女", birth=birth, male=False, school=school)
        h = p.household(p.couple(45) + [m])
        hit("L16", h, m)
    for school, birth in (
        ("小学", yb(A, 6, -30)),
        ("学前教育", yb(A, 6, -10)),
        ("高中", yb(A, 20, -30)),
        ("本科及以上", yb(A, 17)),
    ):
        m = p.member("之子", birth=birth, school=school)
        h = p.household(p.couple(45) + [m])
        hit("L16", h, m, near=True)
    m = p.member("之子", birth=yb(A, 16, 1), school="初中", labor=ADULT_LABOR)
    h = p.household(p.couple(45) + [m])
    hit("L17", h, m)
    m = p.member("之父", birth=yb(A, 65), labor=ADULT_LABOR)
    h = p.household(p.couple(40) + [m])
    hit("L17", h, m)
    m = p.member("之子", birth=yb(A, 16), school="高中", labor=ADULT_LABOR)
    h = p.household(p.couple(45) + [m])
    hit("L17", h, m, near=True)
    m = p.member("户主", birth=yb(A, 65, 1), labor="技能劳动力")
    h = p.household([m])
    hit("L17", h, m, near=True)
    m = p.member("之母", birth=yb(A, 65), male=False, labor="弱劳动力或半劳动力")
    h = p.household(p.couple(40) + [m])
    hit("L17", h, m, near=True)

    # L18 relation against gender
    m = p.member("之子", 20, male=False)
    h = p.household(p.couple(48) + [m])
    hit("L18", h, m)
    m = p.member("配偶", 48, male=True)
    h = p.household([p.member("户主", 50), m])
    hit("L18", h, m)
    m = p.member("之母", 75, male=True)
    h = p.household(p.couple(48) + [m])
    hit("L18", h, m)
    m = p.member("之兄弟姐妹", 45, male=False)
    h = p.household(p.couple() + [m])
    hit("L18", h, m, near=True)

    # L19 death registered, roster not updated
    m = p.member("之父", 84, dead_on=d(40))
    h = p.household(p.couple() + [m])
    hit("L19", h, m)
    m = p.member("之母", 82, male=False, dead_on=d(300))
    h = p.household(p.couple() + [m])
    hit("L19", h, m)
    m = p.member("之父", 84, status="死亡", dead_on=d(40))
    h = p.household(p.couple() + [m])
    hit("L19", h, m, near=True)

    # L22 school status against the registry
    m = p.member("之子", birth=yb(A, 17, -20), school="高中", student="辍学")
    h = p.household(p.couple(45) + [m])
    hit("L22", h, m)
    m = p.member("之女", birth=yb(A, 13, -20), male=False, school="非在校生")
    h = p.household(p.couple(45) + [m])
    p.student(m, "初中")
    hit("L22", h, m)
    m = p.member("之子", birth=yb(A, 16, -20), school="高中", student=None)
    h = p.household(p.couple(45) + [m])
    p.student(m, "中职")
    hit("L22", h, m)
    m = p.member("之女", birth=yb(A, 19, -20), male=False, school="大专", student=None)
    h = p.household(p.couple(48) + [m])
    p.student(m, "高职")
    hit("L22", h, m, near=True)
    m = p.member("之子", birth=yb(A, 19, -20), school="本科及以上")
    h = p.household(p.couple(48) + [m])
    hit("L22", h, m, near=True)

    # L24 insured flag against enrolment (W03 fires with the second)
    m = p.member("户主", 50, insured="否")
    h = p.household([m, p.member("配偶", 48, male=False)])
    hit("L24", h, m)
    m = p.member("户主", 50, enrol="未参保")
    h = p.household([m, p.member("配偶", 48, male=False)])
    hit("L24", h, m)
    hit("W03", h)
    m = p.member("户主", 50, enrol="中断")
    h = p.household([m, p.member("配偶", 48, male=False)])
    hit("L24", h, m)
    hit("W03", h)

    # W11 unemployed for unemployed_days (90) and more, working age (16-64), wage-main household
    # (the default incomes are 60 % wages); each registration judged on its own
    ms = p.couple()
    h = p.household(ms)
    p.unemployed(ms[0], d(90))
    hit("W11", h)
    kid = p.member("之子", birth=yb(A, 16))
    h = p.household(p.couple(45) + [kid])
    p.unemployed(kid, d(100), reason="个人原因")
    hit("W11", h)
    ms = [p.member("户主", birth=yb(A, 65, 1)), p.member("配偶", 60, male=False)]
    h = p.household(ms)
    p.unemployed(ms[0], d(400), status=None)
    hit("W11", h)
    ms = p.couple()
    h = p.household(ms)
    p.unemployed(ms[1], d(700), d(400))
    p.unemployed(ms[1], d(120))
    hit("W11", h)
    ms = p.couple()
    h = p.household(ms, pc=10000.0, parts=[10000.0, 10000.0, 0.0, 0.0])
    p.unemployed(ms[0], d(150))
    hit("W11", h)
    o = p.other(40)
    p.unemployed(o, d(200))
    hit("W11", m=o)
    for back, reemployed, status in (
        (89, None, "有效"),
        (300, None, "注销"),
        (300, d(20), "有效"),
        (200, A, "有效"),
    ):
        ms = p.couple()
        h = p.household(ms)
        p.unemployed(ms[0], d(back), reemployed, status)
        hit("W11", h, near=True)
    kid = p.member("之子", birth=yb(A, 16, 1))
    h = p.household(p.couple(45) + [kid])
    p.unemployed(kid, d(100))
    hit("W11", h, near=True)
    ms = [p.member("户主", birth=yb(A, 65)), p.member("配偶", 62, male=False)]
    h = p.household(ms)
    p.unemployed(ms[0], d(400))
    hit("W11", h, near=True)
    for parts in ([9999.0, 10001.0, 0.0, 0.0], [6000.0, 14000.0, 0.0, 0.0]):
        ms = p.couple()
        h = p.household(ms, pc=10000.0, parts=parts)
        p.unemployed(ms[0], d(150))
        hit("W11", h, near=True)
    ms = [p.member("户主", 60), p.member("之兄弟姐妹", 50, male=True, status="死亡", dead_on=d(30))]
    h = p.household(ms)
    p.unemployed(ms[1], d(200))
    hit("W11", h, near=True)
    o = p.other(40)
    p.unemployed(o, d(89))
    hit("W11", m=o, near=True)
    o = p.other(70)
    p.unemployed(o, d(300))
    hit("W11", m=o, near=True)

    # W12 disaster in the window: house 倒塌 / 严重损坏, or net loss >= disaster_loss (10,000)
    for damage, loss, relief, back in (
        ("倒塌", 5000.0, 5000.0, 30),
        ("严重损坏", None, None, 364),
        ("一般损坏", 12000.0, 2000.0, 100),
        ("未受损", 10000.0, None, 10),
    ):
        ms = p.couple()
        h = p.household(ms)
        p.disaster(ms[0], d(back), damage, loss, relief)
        hit("W12", h)
    o = p.other()
    p.disaster(o, d(40), "倒塌", 60000.0, 10000.0, "地质灾害")
    hit("W12", m=o)
    for damage, loss, relief, back in (
        ("一般损坏", 12000.0, 2000.01, 100),
        ("一般损坏", 9999.99, None, 50),
        ("倒塌", 30000.0, 0.0, 365),
        ("一般损坏", None, None, 20),
    ):
        ms = p.couple()
        h = p.household(ms)
        p.disaster(ms[0], d(back), damage, loss, relief)
        hit("W12", h, near=True)
    ms = [p.member("户主", 60), p.member("之父", 86, status="死亡", dead_on=d(50))]
    h = p.household(ms)
    p.disaster(ms[1], d(20), "倒塌", 40000.0)
    hit("W12", h, near=True)
    o = p.other(75)
    p.death(o, d(5))
    p.disaster(o, d(60), "倒塌", 40000.0)
    hit("W12", m=o, near=True)
    o = p.other()
    p.disaster(o, d(400), "严重损坏", 20000.0)
    hit("W12", m=o, near=True)

    # W13 latest water assessment fails; L25 the roster says water is safe (the default 是)
    ms = p.couple()
    h = p.household(ms)
    p.water(ms[0], d(30), quality="否")
    hit("W13 L25", h)
    ms = p.couple()
    h = p.household(ms)
    p.water(ms[1], d(60))
    p.water(ms[1], d(60), access="否")
    hit("W13 L25", h)
    ms = p.couple()
    h = p.household(ms)
    p.water(ms[0], d(500))
    p.water(ms[0], d(40), reliability="否")
    hit("W13 L25", h)
    ms = p.couple()
    h = p.household(ms)
    p.water(ms[0], None, quantity="否")
    hit("W13 L25", h)
    ms = p.couple()
    h = p.household(ms, water="否")
    p.water(ms[0], d(90), quality="否", access="否")
    hit("W13", h)
    hit("L25", h, near=True)
    o = p.other()
    p.water(o, d(20), quantity="否")
    hit("W13", m=o)
    ms = p.couple()
    h = p.household(ms)
    p.water(ms[0], d(400), reliability="否")
    p.water(ms[0], d(20))
    hit("W13 L25", h, near=True)
    ms = p.couple()
    h = p.household(ms)
    p.water(ms[0], None, quality="否")
    p.water(ms[0], d(100))
    hit("W13 L25", h, near=True)
    ms = p.couple()
    h = p.household(ms)
    p.water(ms[0], d(30), quality=None, access=None)
    hit("W13 L25", h, near=True)
    ms = [p.member("户主", 60), p.member("之父", 86, status="死亡", dead_on=d(50))]
    h = p.household(ms)
    p.water(ms[1], d(100), quantity="否")
    hit("W13 L25", h, near=True)
    o = p.other()
    p.water(o, d(300), quality="否")
    p.water(o, d(10))
    hit("W13", m=o, near=True)

    # W14 microloan overdue: overdue_days >= 30, or due more than 30 days ago; not 结清, balance not 0
    for due, balance, overdue, status in (
        (A + timedelta(days=200), 20000.0, 30, "逾期"),
        (d(31), 10000.0, None, "正常"),
        (A + timedelta(days=100), None, 45, "逾期"),
        (d(40), 5000.0, 0, "展期"),
    ):
        ms = p.couple()
        h = p.household(ms, exit_year=2017)
        p.loan(ms[0], due, balance, overdue, status)
        hit("W14", h)
    for due, balance, overdue, status in (
        (A + timedelta(days=200), 20000.0, 29, "逾期"),
        (d(30), 10000.0, None, "正常"),
        (d(100), 5000.0, 70, "结清"),
        (d(100), 0.0, 70, "逾期"),
    ):
        ms = p.couple()
        h = p.household(ms, exit_year=2017)
        p.loan(ms[0], due, balance, overdue, status)
        hit("W14", h, near=True)
    o = p.other()
    p.loan(o, d(200), 30000.0, 170, "逾期")
    hit("W14", m=o, near=True)

    # L26 负面清单: a monitored household with an active member on one of the four registers
    ms = p.couple()
    h = p.at_risk(ms)
    p.vehicle(ms[0], "小型轿车")
    hit("L26", h)
    ms = p.couple()
    h = p.at_risk(ms)
    p.title(ms[1], "商品房")
    hit("L26", h)
    ms = p.couple()
    h = p.eliminated(ms)
    p.entity(ms[0], "有限责任公司", 50.0)
    hit("L26", h)
    ms = p.couple()
    h = p.at_risk(ms)
    p.entity(ms[0], "个体工商户", 10.0, "在业")
    hit("L26", h)
    ms = p.couple()
    h = p.at_risk(ms)
    p.payroll(ms[1], "在职")
    hit("L26", h)
    ms = p.couple(40) + [p.member("之父", 68)]
    h = p.at_risk(ms)
    p.payroll(ms[2], "退休", "公务员")
    hit("L26", h)
    for kind in ("三轮汽车", "低速货车", "摩托车", "拖拉机", "轻型货车"):
        ms = p.couple()
        h = p.at_risk(ms)
        p.vehicle(ms[0], kind)
        hit("L26", h, near=True)
    for status in ("注销", "报废"):
        ms = p.couple()
        h = p.at_risk(ms)
        p.vehicle(ms[0], "小型轿车", status)
        hit("L26", h, near=True)
    for kind, status in (("自建房", "现势"), ("安置房", "现势"), ("商品房", "注销")):
        ms = p.couple()
        h = p.at_risk(ms)
        p.title(ms[0], kind, status)
        hit("L26", h, near=True)
    for kind, capital, status in (
        ("农民专业合作社", 100.0, "存续"),
        ("个体工商户", 9.99, "存续"),
        ("有限责任公司", 100.0, "注销"),
    ):
        ms = p.couple()
        h = p.at_risk(ms)
        p.entity(ms[0], kind, capital, status)
        hit("L26", h, near=True)
    ms = p.couple()
    h = p.at_risk(ms)
    p.payroll(ms[0], "离职")
    hit("L26", h, near=True)
    ms = p.couple() + [p.member("之子", 28, status="迁出")]
    h = p.at_risk(ms)
    p.vehicle(ms[2], "小型轿车")
    hit("L26", h, near=True)
    ms = p.couple()
    h = p.household(ms)
    p.vehicle(ms[0], "小型轿车")
    p.title(ms[0], "商品房")
    hit("L26", h, near=True)
    return p


def plant_frames(p: Planter) -> dict[str, pl.DataFrame]:
    out = {}
    for table, rows in p.rows.items():
        out[table] = pl.DataFrame(rows, infer_schema_length=None)
    return out
