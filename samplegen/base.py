"""The clean background of a fictional county, built column-wise (numpy + polars).

Background records are made so that no W or L rule of rules.md fires on them: every
member insured and enrolled for the as-of year, every pupil with a 在读 registry record of
the roster's stage, 低保 flags matching active civil-affairs records, incomes above the
line and steady, eliminated households with measures, guarantees and labour, and so on.
Findings in a run on the sample are therefore the planted cases (samplegen/plants.py).
Vectorised so that a province (1.3 M households) is built county by county in minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"

SURNAMES = list(
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
GIVEN = list(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红梅建国志文海燕玲春生福贵荣兴旺德才山林松柏小花宝珍凤琴云飞鹏辉"
)
MINORITY = [
    "阿卜杜拉·买买提",
    "古丽·艾买提",
    "热依汗·吐尔逊",
    "扎西·多吉",
    "卓玛·央金",
    "穆罕默德·艾力",
    "阿依古丽·买买提",
]
TOWNSHIP_BASES = [
    "红山",
    "青石",
    "柳沟",
    "白杨",
    "石门",
    "马营",
    "新集",
    "黄渠",
    "东峪",
    "西川",
    "南河",
    "北庄",
    "杨柳",
    "桃园",
    "龙泉",
    "金川",
    "清水",
    "平安",
    "双河",
    "三岔",
    "高崖",
    "河口",
    "沙坝",
    "王家",
    "李店",
    "张川",
    "石桥",
    "凤凰",
    "云台",
    "梨园",
    "草滩",
    "泉湖",
    "安远",
    "永兴",
    "太平",
    "兴隆",
    "大庄",
    "小河",
    "古城",
    "柏林",
]
VILLAGE_BASES = [
    "东湾",
    "西沟",
    "前进",
    "团结",
    "和平",
    "胜利",
    "红旗",
    "光明",
    "向阳",
    "新民",
    "富民",
    "联合",
    "上庄",
    "下庄",
    "中川",
    "后沟",
    "阳坡",
    "阴坡",
    "大湾",
    "小湾",
    "杏树",
    "榆树",
    "槐树",
    "柳树",
    "李家",
    "王家",
    "刘家",
    "张家",
    "陈家",
    "赵家",
    "马家",
    "何家",
    "石滩",
    "沙河",
    "水泉",
    "双井",
    "三合",
    "四平",
    "五星",
    "六合",
]
COUNTY_BASES = [
    "示例",
    "安宁",
    "临川",
    "河西",
    "青川",
    "永昌",
    "靖远",
    "会宁",
    "通渭",
    "陇西",
    "渭源",
    "漳县",
    "岷山",
    "宕昌",
    "文川",
    "康乐",
    "广河",
    "和政",
    "东乡",
    "积石",
    "临潭",
    "卓尼",
    "舟曲",
    "迭部",
    "玛曲",
    "碌曲",
    "夏河",
    "合水",
    "华池",
    "环县",
    "宁西",
    "正宁",
    "镇原",
    "庆城",
    "西和",
    "礼县",
    "两当",
    "徽成",
    "秦安",
    "甘谷",
    "武山",
    "张川",
    "清源",
    "麦积",
    "泾川",
    "灵台",
    "崇信",
    "庄浪",
    "静宁",
    "华亭",
]
ORDINARY_ICD = [
    ("J18.9", "肺炎"),
    ("I10", "原发性高血压"),
    ("E11.9", "2型糖尿病"),
    ("K29.7", "胃炎"),
    ("M54.5", "腰痛"),
    ("J44.9", "慢性阻塞性肺病"),
    ("K80.2", "胆囊结石"),
    ("S82.2", "胫骨骨折"),
    ("H25.9", "老年性白内障"),
    ("N18.4", "慢性肾脏病4期"),
    ("I25.1", "冠心病"),
]
MEASURE_TYPES = ["产业帮扶", "就业帮扶", "金融帮扶", "教育帮扶", "健康帮扶", "社会帮扶"]
RISK_TYPES = [
    "因病",
    "因残",
    "因学",
    "因灾",
    "因意外事故",
    "因产业项目失败",
    "因务工就业不稳",
    "缺劳动力",
]
UNEMPLOYMENT_REASONS = ["企业裁员", "劳动合同到期", "个人原因", "企业关停", "其他"]
DISASTER_TYPES = ["洪涝", "干旱", "风雹", "地震", "地质灾害", "低温冷冻", "雪灾", "火灾"]
LENDERS = ["县农村商业银行", "中国农业银行", "中国邮政储蓄银行", "县村镇银行"]
WORKING_VEHICLES = ["三轮汽车", "低速货车", "摩托车", "拖拉机", "轻型货车"]
EMPLOYERS = [
    "县农业农村局",
    "县人民医院",
    "县第一中学",
    "乡镇卫生院",
    "县自然资源局",
    "乡镇人民政府",
]
DIS_CATEGORIES = ["视力", "听力", "言语", "肢体", "智力", "精神", "多重"]
DIS_GRADES = ["一级", "二级", "三级", "四级"]
CN_NUM = "一二三四五六七八九"


def county_name(ci: int) -> str:
    """Unique county names: the pool, then two-name compounds."""
    n = len(COUNTY_BASES)
    if ci < n:
        return COUNTY_BASES[ci] + "县"
    return COUNTY_BASES[ci % n] + COUNTY_BASES[(ci // n) % n][0] + "县"


def area_code(ci: int) -> str:
    return f"62{(ci // 30) + 1:02d}{(ci % 30) + 21:02d}"


def check_char(id17: str) -> str:
    return CHECK[sum(int(c) * w for c, w in zip(id17, WEIGHTS, strict=True)) % 11]


def age_expr(birth: pl.Expr, as_of: date) -> pl.Expr:
    before = (birth.dt.month().cast(pl.Int32) * 100 + birth.dt.day().cast(pl.Int32)) > (
        as_of.month * 100 + as_of.day
    )
    return (pl.lit(as_of.year) - birth.dt.year() - before.cast(pl.Int32)).cast(pl.Int32)


def names(rng: np.random.Generator, n: int) -> np.ndarray:
    s = np.array(SURNAMES)[rng.integers(len(SURNAMES), size=n)]
    g1 = np.array(GIVEN)[rng.integers(len(GIVEN), size=n)]
    g2 = np.array(GIVEN)[rng.integers(len(GIVEN), size=n)]
    two = rng.random(n) < 0.7
    return np.where(two, np.char.add(np.char.add(s, g1), g2), np.char.add(s, g1)).astype(object)


@dataclass
class County:
    """One county's canonical tables (typed, before any quirk) and what was planted in it."""

    index: int
    name: str
    code: str
    townships: list[str]
    villages: dict[str, list[str]]
    export_townships: list[str]
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    planted: dict[str, list[dict]] = field(default_factory=dict)
    near_misses: dict[str, list[dict]] = field(default_factory=dict)
    background: dict[str, int] = field(default_factory=dict)  # leading background rows per table


def county_geography(rng: np.random.Generator, ci: int) -> tuple[list[str], dict[str, list[str]]]:
    nt = int(rng.integers(10, 16))
    bases = [TOWNSHIP_BASES[i] for i in rng.permutation(len(TOWNSHIP_BASES))[:nt]]
    townships = [b + ("镇" if rng.random() < 0.55 else "乡") for b in bases]
    villages = {}
    for t in townships:
        nv = int(rng.integers(5, 11))
        villages[t] = [VILLAGE_BASES[i] + "村" for i in rng.permutation(len(VILLAGE_BASES))[:nv]]
    return townships, villages


def opt(values, mask) -> pl.Series:
    """A string column that is null where mask is false."""
    vals = pl.Series(np.asarray(values).astype(str))
    return pl.select(
        pl.when(pl.lit(pl.Series(np.asarray(mask, dtype=bool)))).then(pl.lit(vals))
    ).to_series()


def pick(rng: np.random.Generator, values: list, n: int, p=None) -> np.ndarray:
    return np.array(values, dtype=object)[rng.choice(len(values), size=n, p=p)]


def build_background(
    rng: np.random.Generator, c: County, n_house: int, as_of: date, plant_townships: list[str]
) -> None:
    """Fill c.tables with n_house clean households, their members and all department records."""
    tw_all = c.townships
    # households: township and village
    t_idx = np.sort(rng.integers(len(tw_all), size=n_house))
    town = np.array(tw_all, dtype=object)[t_idx]
    vill = np.empty(n_house, dtype=object)
    for i, t in enumerate(tw_all):
        m = t_idx == i
        vs = c.villages[t]
        vill[m] = np.array(vs, dtype=object)[rng.integers(len(vs), size=int(m.sum()))]
    hid = np.char.add(c.code, np.char.zfill(np.arange(1, n_house + 1).astype(str), 8)).astype(
        object
    )

    size = rng.choice([1, 2, 3, 4, 5, 6], size=n_house, p=[0.05, 0.15, 0.2, 0.28, 0.19, 0.13])
    head_age = np.where(size == 1, rng.integers(55, 86, n_house), rng.integers(30, 76, n_house))
    head_male = rng.random(n_house) < 0.85

    # members, one row per (household, position)
    hh_of = np.repeat(np.arange(n_house), size)
    pos = np.arange(len(hh_of)) - np.repeat(np.cumsum(size) - size, size)
    nm = len(hh_of)
    ha = head_age[hh_of]
    hm = head_male[hh_of]
    child_age = np.clip(ha - rng.integers(22, 36, nm), 0, None)
    age = np.where(
        pos == 0, ha, np.where(pos == 1, np.clip(ha + rng.integers(-4, 4, nm), 20, None), child_age)
    )
    last_parent = (size[hh_of] == 6) & (pos == 5)
    age = np.where(last_parent, np.minimum(ha + rng.integers(22, 30, nm), 92), age)
    male = np.where(pos == 0, hm, np.where(pos == 1, ~hm, rng.random(nm) < 0.5))
    male = np.where(last_parent, False, male)
    relation = np.where(
        pos == 0, "户主", np.where(pos == 1, "配偶", np.where(male, "之子", "之女"))
    ).astype(object)
    relation = np.where(last_parent, "之母", relation)
    offset = rng.integers(1, 365, nm)
    as_of64 = np.datetime64(as_of.isoformat())
    birth = as_of64 - (np.floor(age * 365.2425).astype(int) + offset).astype("timedelta64[D]")
    # status: a few moved-out or deceased non-heads (never counted in household_size)
    r = rng.random(nm)
    status = np.where(
        (pos > 0) & (r < 0.01), "迁出", np.where((pos > 0) & (r > 0.99), "死亡", "正常")
    ).astype(object)
    n_minor = max(1, nm // 400)
    mname = names(rng, nm)
    mi = rng.choice(nm, size=n_minor, replace=False)
    mname[mi] = np.array(MINORITY, dtype=object)[rng.integers(len(MINORITY), size=n_minor)]

    mem = pl.DataFrame(
        {
            "hh": hh_of,
            "pos": pos,
            "household_id": hid[hh_of],
            "name": mname,
            "male": male,
            "relation": relation,
            "birth": birth.astype("datetime64[D]"),
            "status": status,
            "township": town[hh_of],
            "village": vill[hh_of],
        }
    ).with_columns(pl.col("birth").cast(pl.Date))
    mem = mem.with_columns(age=age_expr(pl.col("birth"), as_of))

    # households: categories, monitoring, elimination
    exit_year = np.where(rng.random(n_house) < 0.4, rng.integers(2014, 2021, n_house), 0)
    mon = rng.random(n_house) < 0.12
    cat = np.where(
        exit_year > 0,
        np.where(rng.random(n_house) < 0.7, "脱贫不稳定户", "突发严重困难户"),
        np.where(rng.random(n_house) < 0.7, "边缘易致贫户", "突发严重困难户"),
    )
    elim = mon & (rng.random(n_house) < 0.4)
    start_back = np.where(elim, rng.integers(300, 1500, n_house), rng.integers(60, 1500, n_house))
    mstart = as_of64 - start_back.astype("timedelta64[D]")
    elim_after = 200 + (rng.random(n_house) * (start_back - 201)).astype(int)
    edate = mstart + elim_after.astype("timedelta64[D]")
    at_risk = mon & ~elim

    active = (mem["status"] == "正常").to_numpy()
    hsize = np.bincount(hh_of[active], minlength=n_house)
    # eliminated households: nobody 患有大病, at least one able member (the head)
    hm_elim = elim[hh_of]
    rh = rng.random(nm)
    health = np.where(
        rh < 0.02,
        "患有大病",
        np.where(rh < 0.05, "残疾", np.where(rh < 0.15, "长期慢性病", "健康")),
    ).astype(object)
    health = np.where(hm_elim & (health == "患有大病"), "长期慢性病", health)

    age_a = mem["age"].to_numpy()
    rl = rng.random(nm)
    labor = np.where(
        age_a < 16,
        "无劳动力",
        np.where(
            age_a > 64,
            np.where(rl < 0.6, "弱劳动力或半劳动力", np.where(rl < 0.8, "丧失劳动力", "无劳动力")),
            np.where(
                rl < 0.7, "普通劳动力", np.where(rl < 0.9, "技能劳动力", "弱劳动力或半劳动力")
            ),
        ),
    ).astype(object)
    labor = np.where(
        hm_elim & (pos == 0), np.where(age_a > 64, "弱劳动力或半劳动力", "普通劳动力"), labor
    )
    rs = rng.random(nm)
    school = np.select(
        [age_a < 3, age_a < 6, age_a < 12, age_a < 15, age_a < 18, (age_a < 22) & (rs < 0.5)],
        ["非在校生", "学前教育", "小学", "初中", np.where(rs < 0.8, "高中", "中职"), "本科及以上"],
        "非在校生",
    ).astype(object)
    worker = (age_a >= 16) & (age_a <= 64) & (school == "非在校生")
    ws = np.where(
        worker, pick(rng, ["县内务工", "省内县外务工", "省外务工", "未务工"], nm), "未务工"
    )
    months = np.where(ws == "未务工", 0, rng.integers(3, 13, nm))

    # dibao households (mostly former-poor or monitored), tekun for some lone elderly
    dibao_h = rng.random(n_house) < np.where(mon | (exit_year > 0), 0.1, 0.01)
    tekun_h = (size == 1) & (head_age >= 70) & (rng.random(n_house) < 0.3) & ~dibao_h
    dibao = np.where(dibao_h[hh_of], "是", "否")
    tekun = np.where(tekun_h[hh_of], "是", "否")

    mem = mem.with_columns(
        health=pl.Series(health),
        labor=pl.Series(labor),
        school_status=pl.Series(school),
        work_status=pl.Series(ws),
        work_months=pl.Series(months),
        dibao=pl.Series(dibao),
        tekun=pl.Series(tekun),
        insured=pl.lit("是"),
        gender=pl.when(pl.col("male")).then(pl.lit("男")).otherwise(pl.lit("女")),
    )
    mem = assign_ids(mem, c.code, rng)

    # incomes: parts, then per-capita derived from them (L09 clean); steady over the year
    pc_target = np.where(
        at_risk, rng.uniform(3000, 12000, n_house), rng.uniform(9000, 30000, n_house)
    )
    total = pc_target * hsize
    share = rng.dirichlet([6, 2, 0.3, 1.8], n_house)
    parts = np.round(total[:, None] * share, 2)
    pc = np.round(parts.sum(axis=1) / hsize, 2)
    prev = np.round(pc * rng.uniform(0.85, 1.2, n_house), 2)

    heads = mem.filter(pl.col("pos") == 0).sort("hh")
    rtypes = pick(rng, RISK_TYPES, n_house)
    second = mon & (rng.random(n_house) < 0.4)
    rtypes2 = pick(rng, RISK_TYPES, n_house)
    rtypes = np.where(
        second & (rtypes2 != rtypes),
        np.char.add(np.char.add(rtypes.astype(str), "、"), rtypes2.astype(str)),
        rtypes,
    )
    hh = pl.DataFrame(
        {
            "household_id": hid,
            "county": c.name,
            "township": town,
            "village": vill,
            "head_name": heads["name"],
            "head_id_number": heads["id_number"],
            "exit_year": pl.Series(exit_year, dtype=pl.Int32).replace(0, None),
            "monitoring_category": opt(cat, mon),
            "monitoring_start_date": pl.Series(
                np.where(mon, mstart, np.datetime64("NaT")).astype("datetime64[D]")
            ).cast(pl.Date),
            "risk_eliminated": opt(np.where(elim, "是", "否"), mon),
            "risk_eliminated_date": pl.Series(
                np.where(elim, edate, np.datetime64("NaT")).astype("datetime64[D]")
            ).cast(pl.Date),
            "risk_types": opt(rtypes, mon),
            "household_size": hsize.astype(np.int32),
            "per_capita_net_income": pc,
            "prev_per_capita_net_income": prev,
            "wage_income": parts[:, 0],
            "business_income": parts[:, 1],
            "property_income": parts[:, 2],
            "transfer_income": parts[:, 3],
            "edu_guaranteed": "是",
            "med_guaranteed": "是",
            "housing_guaranteed": "是",
            "water_guaranteed": "是",
            "cadre_name": names(rng, n_house),
            "cadre_phone": np.char.add(
                "13", np.char.zfill(rng.integers(0, 10**9, n_house).astype(str), 9)
            ).astype(object),
        }
    )

    # measures: monitored households 1-3 (begun 5-40 days after monitoring start), some former-poor old ones
    k = np.where(
        mon,
        rng.integers(1, 4, n_house),
        np.where((exit_year > 0) & (rng.random(n_house) < 0.3), 1, 0),
    )
    mh = np.repeat(np.arange(n_house), k)
    mj = np.arange(len(mh)) - np.repeat(np.cumsum(k) - k, k)
    base_t = rng.integers(0, len(MEASURE_TYPES), n_house)
    mtype = np.array(MEASURE_TYPES, dtype=object)[(base_t[mh] + mj) % len(MEASURE_TYPES)]
    ms = np.where(
        mon[mh],
        mstart[mh] + rng.integers(5, 41, len(mh)).astype("timedelta64[D]"),
        np.datetime64("2017-03-01") + rng.integers(0, 1200, len(mh)).astype("timedelta64[D]"),
    )
    me = ms + rng.integers(30, 366, len(mh)).astype("timedelta64[D]")
    me = np.where(me < as_of64, me, np.datetime64("NaT"))
    meas = pl.DataFrame(
        {
            "household_id": hid[mh],
            "measure_type": mtype,
            "description": np.char.add(mtype.astype(str), "：落实到户").astype(object),
            "start_date": ms.astype("datetime64[D]"),
            "end_date": me.astype("datetime64[D]"),
            "amount": np.round(rng.uniform(500, 20000, len(mh)), 0),
        }
    ).with_columns(pl.col("start_date").cast(pl.Date), pl.col("end_date").cast(pl.Date))

    # out-of-roster rural people: about a quarter as many as members, in the same villages
    no = max(20, nm // 4)
    ot = np.array(tw_all, dtype=object)[rng.integers(len(tw_all), size=no)]
    ov = np.empty(no, dtype=object)
    for t in tw_all:
        m = ot == t
        ov[m] = np.array(c.villages[t], dtype=object)[
            rng.integers(len(c.villages[t]), size=int(m.sum()))
        ]
    oage = rng.integers(18, 85, no)
    omale = rng.random(no) < 0.5
    obirth = as_of64 - (np.floor(oage * 365.2425).astype(int) + rng.integers(1, 365, no)).astype(
        "timedelta64[D]"
    )
    oth = pl.DataFrame(
        {
            "hh": -1,
            "pos": np.arange(no) + 10,
            "household_id": None,
            "name": names(rng, no),
            "male": omale,
            "birth": obirth.astype("datetime64[D]"),
            "township": ot,
            "village": ov,
        }
    ).with_columns(pl.col("birth").cast(pl.Date), pl.col("household_id").cast(pl.String))
    oth = assign_ids(
        oth.with_columns(age=age_expr(pl.col("birth"), as_of)), c.code, rng, offset=300
    )

    c.tables["households"] = hh
    c.tables["_members"] = mem
    c.tables["measures"] = meas
    c.tables["_others"] = oth
    departments(rng, c, mem, hh, oth, as_of, at_risk)
    registers(rng, c, mem, oth, as_of, mon, exit_year > 0)


def assign_ids(df: pl.DataFrame, code: str, rng, offset: int = 0) -> pl.DataFrame:
    """Valid, unique IDs: the sequence is the person's rank among same-birthday, same-sex people.

    The check character is computed arithmetically from the digits (numpy), not per string.
    """
    seq = df.select(
        (
            (pl.int_range(pl.len()).over(["birth", "male"]) + offset // 2) * 2
            + pl.col("male").cast(pl.Int64)
        ).alias("s")
    )["s"].to_numpy()
    ymd = df.select(pl.col("birth").dt.strftime("%Y%m%d").cast(pl.Int64))["birth"].to_numpy()
    total = sum(int(ch) * w for ch, w in zip(code, WEIGHTS[:6], strict=True))
    for k, w in enumerate(WEIGHTS[6:14]):
        total = total + (ymd // 10 ** (7 - k) % 10) * w
    for k, w in enumerate(WEIGHTS[14:17]):
        total = total + (seq // 10 ** (2 - k) % 10) * w
    check = np.array(list(CHECK))[total % 11]
    id17 = pl.concat_str(
        [
            pl.lit(code),
            pl.col("birth").dt.strftime("%Y%m%d"),
            pl.Series(seq).cast(pl.String).str.zfill(3),
        ]
    )
    return df.with_columns(id_number=pl.concat_str([id17, pl.lit(pl.Series(check))]))


def departments(
    rng, c: County, mem: pl.DataFrame, hh: pl.DataFrame, oth: pl.DataFrame, as_of: date, at_risk
) -> None:
    a = np.datetime64(as_of.isoformat())
    act = mem.filter(pl.col("status") == "正常")
    cols = ["name", "id_number", "township", "village", "age"]
    people = pl.concat([act.select(cols), oth.select(cols)])
    n = people.height

    def days(lo, hi, size):
        return (a - rng.integers(lo, hi, size).astype("timedelta64[D]")).astype("datetime64[D]")

    # health enrolment: everybody enrolled for the as-of year; last year mostly too
    y = as_of.year
    enr = pl.concat(
        [
            people.select("name", "id_number", "township").with_columns(
                year=pl.lit(y, pl.Int32), enrolment_status=pl.lit("已参保")
            ),
            people.sample(fraction=0.8, seed=int(rng.integers(1 << 30)))
            .select("name", "id_number", "township")
            .with_columns(
                year=pl.lit(y - 1, pl.Int32),
                enrolment_status=pl.Series(
                    pick(rng, ["已参保", "已参保", "已参保", "中断"], int(n * 0.8))
                ),
            ),
        ]
    )

    # settlements: ordinary diagnoses, small self-paid (W01-safe: ≤ 1,200 per person in the window)
    who = np.flatnonzero(rng.random(n) < 0.55)
    older = np.flatnonzero(rng.random(n) < 0.5)
    idx = np.concatenate([who, older])
    ns = len(idx)
    disc = np.concatenate([days(0, 360, len(who)), days(370, 1500, len(older))])
    stay = rng.integers(0, 15, ns)
    icd = rng.integers(len(ORDINARY_ICD), size=ns)
    tot = np.round(rng.uniform(200, 3000, ns), 2)
    selfp = np.round(tot * rng.uniform(0.1, 0.4, ns), 2)
    assist = np.round(np.where(rng.random(ns) < 0.2, tot * 0.1, 0.0), 2)
    crit = np.zeros(ns)
    basic = np.round(tot - selfp - assist - crit, 2)
    sp = people[idx]
    sett = sp.select("name", "id_number", "township", "village").with_columns(
        visit_type=pl.Series(np.where(stay > 0, "住院", pick(rng, ["普通门诊", "门诊慢特病"], ns))),
        admit_date=pl.Series((disc - stay.astype("timedelta64[D]")).astype("datetime64[D]")).cast(
            pl.Date
        ),
        discharge_date=pl.Series(disc).cast(pl.Date),
        icd10=pl.Series(np.array([x[0] for x in ORDINARY_ICD], dtype=object)[icd]),
        diagnosis=pl.Series(np.array([x[1] for x in ORDINARY_ICD], dtype=object)[icd]),
        total_cost=tot,
        basic_paid=basic,
        critical_paid=crit,
        assistance_paid=assist,
        self_paid=selfp,
    )

    # student registry: every roster pupil 在读 at the roster's stage; graduates among young adults
    stage_map = {
        "学前教育": "学前",
        "小学": "小学",
        "初中": "初中",
        "高中": "高中",
        "中职": "中职",
        "本科及以上": "本科",
    }
    pupils = act.filter(pl.col("school_status") != "非在校生")
    grads = pl.concat(
        [
            act.filter(
                (pl.col("school_status") == "非在校生") & pl.col("age").is_between(18, 25)
            ).select(cols),
            oth.filter(pl.col("age") <= 22).select(cols),
        ]
    )
    stu = pl.concat(
        [
            pupils.select(cols + ["school_status"]).with_columns(
                stage=pl.col("school_status").replace_strict(stage_map),
                enrolment_status=pl.lit("在读"),
            ),
            grads.with_columns(
                school_status=pl.lit("高中"), stage=pl.lit("高中"), enrolment_status=pl.lit("毕业")
            ),
        ]
    )
    stu = stu.with_columns(
        grade=grade_expr(),
        school=pl.concat_str(
            [
                pl.col("township").str.slice(0, 2),
                pl.col("stage").replace(
                    {
                        "学前": "中心幼儿园",
                        "小学": "中心小学",
                        "初中": "初级中学",
                        "高中": "高级中学",
                        "中职": "职业中学",
                        "本科": "大学",
                    }
                ),
            ]
        ),
    ).drop("school_status", "age")
    aided = rng.random(stu.height) < 0.2
    stu = stu.with_columns(
        aid=pl.when(pl.Series(aided) & (pl.col("enrolment_status") == "在读"))
        .then(pl.lit("国家助学金"))
        .otherwise(None),
    ).with_columns(
        aid_amount=pl.when(pl.col("aid").is_not_null()).then(pl.lit(1000.0)).otherwise(None)
    )

    # civil affairs: active 低保/特困 for flagged members, begun before the window; old ended records
    # and old 临时救助 (outside 180 days); out-of-roster people's 城市低保 and old 农村低保
    dib = act.filter(pl.col("dibao") == "是")
    tek = act.filter(pl.col("tekun") == "是")
    nd, nt = dib.height, tek.height
    ended = act.filter(pl.col("dibao") == "否").sample(
        fraction=0.02, seed=int(rng.integers(1 << 30))
    )
    temp = people.sample(fraction=0.02, seed=int(rng.integers(1 << 30)))
    odib = oth.sample(fraction=0.05, seed=int(rng.integers(1 << 30)))
    ne, ntm, nod = ended.height, temp.height, odib.height
    base = ["name", "id_number", "township", "village"]
    null_d = pl.lit(None, pl.Date)
    e_start = days(800, 2000, ne)
    ass = pl.concat(
        [
            dib.select(base).with_columns(
                assistance_type=pl.lit("农村低保"),
                start_date=pl.Series(days(400, 2500, nd)).cast(pl.Date),
                end_date=null_d,
                status=pl.lit("在保"),
                amount=pl.Series(np.round(rng.uniform(300, 600, nd), 0)),
            ),
            tek.select(base).with_columns(
                assistance_type=pl.lit("特困供养"),
                start_date=pl.Series(days(400, 2500, nt)).cast(pl.Date),
                end_date=null_d,
                status=pl.lit("在保"),
                amount=pl.Series(np.round(rng.uniform(700, 1000, nt), 0)),
            ),
            ended.select(base).with_columns(
                assistance_type=pl.lit("农村低保"),
                start_date=pl.Series(e_start).cast(pl.Date),
                end_date=pl.Series(
                    (e_start + rng.integers(100, 700, ne).astype("timedelta64[D]")).astype(
                        "datetime64[D]"
                    )
                ).cast(pl.Date),
                status=pl.lit("停保"),
                amount=pl.Series(np.round(rng.uniform(300, 600, ne), 0)),
            ),
            temp.select(base).with_columns(
                assistance_type=pl.lit("临时救助"),
                start_date=pl.Series(days(200, 900, ntm)).cast(pl.Date),
                end_date=null_d,
                status=pl.lit("已发放"),
                amount=pl.Series(np.round(rng.uniform(500, 3000, ntm), 0)),
            ),
            odib.select(base).with_columns(
                assistance_type=pl.Series(pick(rng, ["农村低保", "城市低保"], nod)),
                start_date=pl.Series(days(400, 2500, nod)).cast(pl.Date),
                end_date=null_d,
                status=pl.lit("在保"),
                amount=pl.Series(np.round(rng.uniform(300, 700, nod), 0)),
            ),
        ]
    )
    # a fresh record keeps the extract current (S09): a 城市低保 begun last week, which no rule reads
    fresh = (
        oth.head(1)
        .select(base)
        .with_columns(
            assistance_type=pl.lit("城市低保"),
            start_date=pl.lit(as_of - timedelta(days=7)),
            end_date=null_d,
            status=pl.lit("在保"),
            amount=pl.lit(500.0),
        )
    )
    ass = pl.concat([ass, fresh])

    # deaths: the roster's deceased members and some out-of-roster people who appear nowhere else
    dead = mem.filter(pl.col("status") == "死亡")
    ghosts = max(5, oth.height // 50)
    gh = pl.DataFrame(
        {
            "pos": np.arange(ghosts) + 900000,
            "male": rng.random(ghosts) < 0.5,
            "birth": (a - rng.integers(60 * 365, 90 * 365, ghosts).astype("timedelta64[D]")).astype(
                "datetime64[D]"
            ),
            "name": names(rng, ghosts),
            "township": np.array(c.townships, dtype=object)[
                rng.integers(len(c.townships), size=ghosts)
            ],
        }
    ).with_columns(pl.col("birth").cast(pl.Date))
    gh = assign_ids(gh, c.code, rng, offset=600)
    dts = pl.concat(
        [dead.select("name", "id_number", "township"), gh.select("name", "id_number", "township")]
    )
    dts = dts.with_columns(death_date=pl.Series(days(3, 900, dts.height)).cast(pl.Date))

    # housing: about a third of heads assessed; C/D houses all renovated
    heads = act.filter(pl.col("pos") == 0)
    hs = heads.sample(fraction=0.3, seed=int(rng.integers(1 << 30)))
    os_ = oth.sample(fraction=0.05, seed=int(rng.integers(1 << 30)))
    hous = pl.concat([hs.select(base), os_.select(base)])
    nh = hous.height
    g = pick(rng, ["A级", "B级", "C级", "D级"], nh, p=[0.45, 0.4, 0.1, 0.05])
    ad = days(0, 1500, nh)
    cd = (ad + rng.integers(30, 300, nh).astype("timedelta64[D]")).astype("datetime64[D]")
    bad = np.isin(g, ["C级", "D级"])
    cd = np.where(bad & (cd < a), cd, np.datetime64("NaT"))
    reno = np.where(
        bad, np.where(np.isnat(cd), "不需改造", "已改造"), pick(rng, ["不需改造", "未改造"], nh)
    )
    hous = hous.rename({"name": "owner_name", "id_number": "owner_id_number"}).with_columns(
        grade=pl.Series(g),
        assessed_date=pl.Series(ad).cast(pl.Date),
        renovation=pl.Series(reno),
        completed_date=pl.Series(cd.astype("datetime64[D]")).cast(pl.Date),
        only_house=pl.Series(pick(rng, ["是", "是", "是", "否"], nh)),
    )

    # disability: every member whose health is 残疾 holds a valid certificate, mostly old; recent ones mild
    dis = pl.concat(
        [
            act.filter(pl.col("health") == "残疾").select(base),
            oth.sample(fraction=0.03, seed=int(rng.integers(1 << 30))).select(base),
        ]
    )
    nd = dis.height
    cat = rng.integers(0, 7, nd)
    gr = rng.integers(0, 4, nd)
    recent = rng.random(nd) < 0.15
    cat = np.where(recent & np.isin(cat, [4, 5]), 3, cat)
    gr = np.where(recent, rng.integers(2, 4, nd), gr)
    issued = np.where(recent, days(0, 300, nd), days(400, 4000, nd))
    dis = dis.with_columns(
        category=pl.Series(np.array(DIS_CATEGORIES, dtype=object)[cat]),
        grade=pl.Series(np.array(DIS_GRADES, dtype=object)[gr]),
        issued_date=pl.Series(issued.astype("datetime64[D]")).cast(pl.Date),
        cert_status=pl.lit("有效"),
        cert_number=pl.concat_str(
            [
                pl.col("id_number"),
                pl.lit(pl.Series((cat + 1).astype(str))),
                pl.lit(pl.Series((gr + 1).astype(str))),
            ]
        ),
    )
    cty = pl.lit(c.name)
    c.tables.update(
        {
            "health_enrolment": enr.with_columns(county=cty),
            "health_settlements": sett.with_columns(county=cty),
            "education_students": stu.with_columns(county=cty),
            "civil_affairs_assistance": ass.with_columns(county=cty),
            "civil_affairs_deaths": dts.with_columns(county=cty),
            "housing_assessments": hous.with_columns(county=cty),
            "disability_certificates": dis.with_columns(county=cty),
        }
    )


def grade_expr() -> pl.Expr:
    """A plausible 年级 for the registry: from the age and stage."""
    age = pl.col("age")
    return (
        pl.when(pl.col("stage") == "学前")
        .then(pl.lit("大班"))
        .when(pl.col("stage") == "小学")
        .then(pl.concat_str([(age - 5).clip(1, 6).cast(pl.String), pl.lit("年级")]))
        .when(pl.col("stage") == "初中")
        .then(pl.concat_str([(age - 5).clip(7, 9).cast(pl.String), pl.lit("年级")]))
        .when(pl.col("stage").is_in(["高中", "中职"]))
        .then(pl.concat_str([pl.lit("高"), (age - 14).clip(1, 3).cast(pl.String)]))
        .otherwise(pl.concat_str([pl.lit("大"), (age - 17).clip(1, 4).cast(pl.String)]))
    )


def registers(
    rng, c: County, mem: pl.DataFrame, oth: pl.DataFrame, as_of: date, mon, former
) -> None:
    """人社, 应急管理, 水利, 金融 and the four 负面清单 registers, at realistic volumes, none firing:
    unemployment registrations (about 3 % of adults) recent, closed (注销) or followed by
    re-employment; disasters (about 2 % of households) with slight damage and small losses in the
    window, heavier ones only before it; a passing water assessment per roster household (some
    households with an older failing one fixed since); microloans for about 10 % of former-poor
    households, current or settled; and a few vehicles, titles, businesses and payroll rows, for
    out-of-roster people and non-monitored households, or of kinds L26 does not count.
    Each dated table has a record from the last days, so no extract is stale (S09)."""
    a = np.datetime64(as_of.isoformat())
    base = ["name", "id_number", "township", "village"]

    def days(lo, hi, size):
        return (a - rng.integers(lo, hi, size).astype("timedelta64[D]")).astype("datetime64[D]")

    def fresh(dates: np.ndarray, back: int = 3) -> np.ndarray:
        if len(dates):
            dates = dates.copy()
            dates[0] = a - np.timedelta64(back, "D")
        return dates

    def choose(values: list, n: int, p=None) -> pl.Series:
        return pl.Series(pick(rng, values, n, p=p).astype(str), dtype=pl.String)

    def sample(df: pl.DataFrame, fraction: float) -> pl.DataFrame:
        return df.sample(fraction=fraction, seed=int(rng.integers(1 << 30)))

    def as_date(x) -> pl.Series:
        return pl.Series(np.asarray(x).astype("datetime64[D]")).cast(pl.Date)

    act = mem.filter(pl.col("status") == "正常")
    hh_of = act["hh"].to_numpy()
    act = act.with_columns(_mon=pl.Series(mon[hh_of]), _former=pl.Series(former[hh_of]))
    heads = act.filter(pl.col("pos") == 0)
    working = pl.col("age").is_between(16, 64)

    # 人社: unemployment registrations of working-age people
    un = pl.concat(
        [
            sample(act.filter(working), 0.03).select(base),
            sample(oth.filter(working), 0.03).select(base),
        ]
    )
    n = un.height
    kind = rng.choice(3, size=n, p=[0.4, 0.45, 0.15])  # recent / re-employed since / 注销
    reg = fresh(np.where(kind == 0, days(0, 90, n), days(90, 1000, n)))
    kind[:1] = 0
    gap = (a - reg).astype(int)
    reemp = reg + (rng.random(n) * gap).astype(int).astype("timedelta64[D]")
    un = un.with_columns(
        registered_date=as_date(reg),
        reemployed_date=as_date(np.where(kind == 1, reemp, np.datetime64("NaT"))),
        reason=choose(UNEMPLOYMENT_REASONS, n),
        registration_status=pl.Series(np.where(kind == 2, "注销", "有效")),
    )

    # 应急管理: one row per affected household, under the head's ID
    dis = pl.concat([sample(heads, 0.02).select(base), sample(oth, 0.005).select(base)])
    n = dis.height
    old = rng.random(n) < 0.3
    old[:1] = False
    loss = np.where(old, rng.uniform(1000, 40000, n), rng.uniform(300, 9000, n)).round(0)
    relief = np.round(loss * rng.uniform(0, 0.5, n), 0)
    dis = dis.with_columns(
        disaster_type=choose(DISASTER_TYPES, n),
        disaster_date=as_date(fresh(np.where(old, days(366, 1500, n), days(0, 365, n)), 10)),
        house_damage=pl.Series(
            np.where(
                old,
                pick(rng, ["倒塌", "严重损坏", "一般损坏"], n),
                pick(rng, ["一般损坏", "未受损"], n),
            )
        ),
        direct_loss=loss,
        relief_paid=pl.Series(np.where(rng.random(n) < 0.2, np.nan, relief)).fill_nan(None),
    )

    # 水利: a passing assessment per roster household (its head), some out-of-roster people;
    # 2 % of heads also carry an older failing one, fixed since; a few indicators left empty
    wa = pl.concat([heads.select(base), sample(oth, 0.05).select(base)])
    n = wa.height
    wdate = fresh(days(0, 700, n), 2)
    ok = {
        k: np.full(n, "是", dtype=object)
        for k in ("quantity_ok", "quality_ok", "access_ok", "reliability_ok")
    }
    for k in ok:
        ok[k][rng.random(n) < 0.003] = None
    wa = wa.with_columns(
        assessed_date=as_date(wdate), **{k: pl.Series(v.tolist(), dtype=pl.String) for k, v in ok.items()}
    )
    redo = np.flatnonzero(rng.random(n) < 0.02)
    if len(redo):
        earlier = wa[redo].with_columns(
            assessed_date=as_date(
                wdate[redo] - rng.integers(30, 400, len(redo)).astype("timedelta64[D]")
            ),
            quality_ok=choose(["否", "是"], len(redo)),
            access_ok=pl.lit("否"),
        )
        wa = pl.concat([wa, earlier])

    # 金融: about 10 % of former-poor households borrow (the head); loans run three years
    lo = pl.concat(
        [sample(heads.filter(pl.col("_former")), 0.1).select(base), sample(oth, 0.003).select(base)]
    )
    n = lo.height
    issued = fresh(days(10, 1800, n), 10)
    due = issued + np.timedelta64(1095, "D")
    amount = (rng.integers(10, 51, n) * 1000).astype(float)
    done = due < a
    late = ~done & (rng.random(n) < 0.05)
    ext = ~done & ~late & (rng.random(n) < 0.05)
    lo = lo.with_columns(
        lender=choose(LENDERS, n),
        amount=amount,
        issued_date=as_date(issued),
        due_date=as_date(np.where(ext, due + np.timedelta64(365, "D"), due)),
        balance=np.where(done, 0.0, np.round(amount * rng.uniform(0.2, 1.0, n), 0)),
        overdue_days=pl.Series(np.where(late, rng.integers(1, 20, n), 0), dtype=pl.Int32),
        loan_status=pl.Series(
            np.where(done, "结清", np.where(late, "逾期", np.where(ext, "展期", "正常")))
        ),
    )

    # 负面清单: out-of-roster people and non-monitored households hold anything; monitored
    # households only what L26 does not count (working vehicles, 自建房 / 安置房, cooperatives,
    # small 个体工商户, cancelled records, former staff)
    adult = pl.col("age") >= 18
    free = pl.concat(
        [
            sample(oth.filter(adult), 0.08).select(base),
            sample(act.filter(adult & ~pl.col("_mon")), 0.02).select(base),
        ]
    )
    watched = sample(act.filter(adult & pl.col("_mon")), 0.04).select(base)

    def plates(k):
        return np.char.add(
            "甘" + np.array(list("ABCDEJKL"))[rng.integers(8, size=k)].astype(object),
            np.char.zfill(rng.integers(0, 100000, k).astype(str), 5),
        ).astype(object)

    nf, nw = free.height, watched.height
    vtypes = ["小型轿车", "小型普通客车", "轻型货车", "重型货车", "三轮汽车", "摩托车"]
    veh = pl.concat(
        [
            free.with_columns(
                vehicle_type=choose(vtypes, nf, p=[0.45, 0.15, 0.15, 0.05, 0.1, 0.1]),
                vehicle_status=choose(["正常", "正常", "正常", "注销", "转出"], nf),
            ),
            watched.with_columns(
                vehicle_type=choose(WORKING_VEHICLES, nw),
                vehicle_status=choose(["正常", "报废"], nw, p=[0.9, 0.1]),
            ),
        ]
    ).select("name", "id_number", "vehicle_type", "vehicle_status")
    veh = veh.with_columns(
        plate=pl.Series(plates(veh.height)),
        registered_date=as_date(fresh(days(0, 4000, veh.height), 5)),
    )

    pf, pw = sample(free, 0.6), sample(watched, 0.5)
    towns = np.array(c.townships, dtype=object)

    def where(k):
        return np.char.add(
            towns[rng.integers(len(towns), size=k)].astype(str),
            np.char.add(rng.integers(1, 200, k).astype(str), "号"),
        ).astype(object)

    prop = pl.concat(
        [
            pf.with_columns(
                property_kind=choose(["商品房", "自建房", "其他"], pf.height, p=[0.6, 0.3, 0.1]),
                title_status=choose(["现势", "现势", "现势", "注销"], pf.height),
            ),
            pw.with_columns(
                property_kind=choose(["自建房", "安置房"], pw.height),
                title_status=pl.lit("现势"),
            ),
        ]
    ).select("name", "id_number", "property_kind", "title_status")
    prop = prop.with_columns(
        location=pl.Series(where(prop.height)),
        registered_date=as_date(fresh(days(0, 5000, prop.height), 6)),
    )

    ef, ew = sample(free, 0.3), sample(watched, 0.4)
    nef, new = ef.height, ew.height
    etypes = ["有限责任公司", "个人独资企业", "个体工商户", "农民专业合作社"]
    small = rng.random(new) < 0.5
    ent = pl.concat(
        [
            ef.with_columns(
                entity_type=choose(etypes, nef, p=[0.3, 0.1, 0.5, 0.1]),
                capital=np.round(rng.uniform(1, 200, nef), 0),
                entity_status=choose(
                    ["存续", "在业", "注销", "吊销"], nef, p=[0.5, 0.3, 0.15, 0.05]
                ),
            ),
            ew.with_columns(
                entity_type=pl.Series(np.where(small, "个体工商户", "农民专业合作社")),
                capital=np.where(
                    small,
                    np.round(rng.uniform(0.5, 9.5, new), 1),
                    np.round(rng.uniform(5, 100, new), 0),
                ),
                entity_status=pl.lit("存续"),
            ),
        ]
    ).select("name", "id_number", "entity_type", "capital", "entity_status")
    ne = ent.height
    kind_word = (
        ent["entity_type"]
        .replace_strict(
            {
                "有限责任公司": "商贸有限公司",
                "个人独资企业": "建材经营部",
                "个体工商户": "便民超市",
                "农民专业合作社": "种养殖专业合作社",
            }
        )
        .to_numpy()
    )
    ent = ent.with_columns(
        entity_name=pl.Series(
            np.char.add(
                towns[rng.integers(len(towns), size=ne)].astype(str), kind_word.astype(str)
            ).astype(object)
        ),
        founded_date=as_date(fresh(days(0, 6000, ne), 8)),
    )

    sf, sw = sample(free, 0.25), sample(watched, 0.1)
    pay = pl.concat(
        [
            sf.with_columns(payroll_status=choose(["在职", "在职", "退休", "离职"], sf.height)),
            sw.with_columns(payroll_status=pl.lit("离职")),
        ]
    ).select("name", "id_number", "payroll_status")
    pay = pay.with_columns(
        employer=choose(EMPLOYERS, pay.height),
        staff_type=choose(["公务员", "参照公务员法管理", "事业编制", "其他"], pay.height),
    )
    cty = pl.lit(c.name)
    c.tables.update(
        {
            "hr_unemployment": un.with_columns(county=cty),
            "emergency_disasters": dis.with_columns(county=cty),
            "water_assessments": wa.with_columns(county=cty),
            "finance_microloans": lo.with_columns(county=cty),
            "vehicles": veh.with_columns(county=cty),
            "property_titles": prop.with_columns(county=cty),
            "market_entities": ent.with_columns(county=cty),
            "public_payroll": pay.with_columns(county=cty),
        }
    )
