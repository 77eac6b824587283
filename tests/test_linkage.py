"""Record linkage (issue 15): planted rows whose ID Excel destroyed or left empty, with known true persons."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import polars as pl
import pytest

from checks.linkage import (
    _features,
    name_counts,
    near,
    predict,
    prior_within_county,
    simplified,
    surviving_digits,
    term_frequencies,
    train,
)
from core.config import ConfigError, _from_raw
from pipelines.flow import run_once
from samplegen.generate import generate
from samplegen.linkage import FILE, plant_linkage, score

AS_OF = date(2026, 11, 24)


def test_surviving_digits_and_names():
    assert surviving_digits("6.20422E+17") == "620422"
    assert surviving_digits("620422198001011000") == "620422198001011"
    assert surviving_digits("") is None and surviving_digits(None) is None
    assert simplified("張 國強") == "张国强"


def test_linkage_config_is_validated():
    assert _from_raw({}).linkage == {"enabled": True, "review": 0.9, "accept": 0.99}
    with pytest.raises(ConfigError):
        _from_raw({"linkage": {"review": 0.995, "accept": 0.99}})
    with pytest.raises(ConfigError):
        _from_raw({"linkage": {"enabled": "yes"}})


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("linkage")
    generate(out=base / "sample", households=400, seed=5, as_of=AS_OF.isoformat())
    truth = plant_linkage(base / "sample" / "inbox")
    cfg = (base / "sample" / "fangpin.toml").read_text(encoding="utf-8")
    off = base / "off.toml"
    off.write_text(cfg + "\n[linkage]\nenabled = false\n", encoding="utf-8")
    on_ctx = run_once(base / "sample" / "inbox", base / "sample" / "fangpin.toml", AS_OF, base / "on")
    off_ctx = run_once(base / "sample" / "inbox", off, AS_OF, base / "off")
    return truth, (base / "on", on_ctx), (base / "off", off_ctx)


def _con(out):
    return duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)


def test_planted_rows_are_linked_at_the_target_precision_and_recall(runs):
    truth, (on, ctx), _ = runs
    with _con(on) as con:
        s = score(con, ctx.run_id, truth)
    assert s["planted_persons"] >= 50 and s["accepted"] >= 30
    assert s["precision_accepted"] >= 0.99, s
    assert s["recall_accepted_or_review"] >= 0.9, s


def test_normalised_ids_are_the_same_with_linkage_on_and_off(runs):
    from checks.linkage import person_columns
    from sources.spec import department_specs

    _, (on, a), (off, b) = runs
    with _con(on) as c1, _con(off) as c2:
        tables = [(s.table, person_columns(s)[0]) for s in department_specs() if person_columns(s)[0]]
        for table, col in [*tables, ("members", "id_number"), ("households", "head_id_number")]:
            q = f"SELECT {col}, count(*) FROM {table} WHERE run_id = ? GROUP BY 1 ORDER BY 1 NULLS FIRST"
            assert c1.execute(q, [a.run_id]).fetchall() == c2.execute(q, [b.run_id]).fetchall(), table
        assert c1.execute("SELECT count(*) FROM rejects WHERE run_id = ?", [a.run_id]).fetchone() == \
            c2.execute("SELECT count(*) FROM rejects WHERE run_id = ?", [b.run_id]).fetchone()
        assert c2.execute("SELECT count(*) FROM record_links").fetchone()[0] == 0
    assert any(s["name"] == "L27" and "未运行" in s["reason"] for s in b.skipped)


def test_a_warning_raised_through_a_link_shows_how_it_was_matched(runs):
    _, (on, a), (off, b) = runs
    with _con(on) as c1, _con(off) as c2:
        rows = c1.execute("SELECT household_id, evidence FROM warnings WHERE run_id = ? AND rule_code = 'W01'"
                          " AND evidence LIKE '%' || ? || '%'", [a.run_id, FILE.split("/")[1]]).fetchall()
        assert rows and all("匹配（概率 " in e for _, e in rows)
        # the 25,000 元 planted settlement raises W01 only through its link
        off_hh = {h for (h,) in c2.execute("SELECT household_id FROM warnings WHERE run_id = ? AND rule_code = 'W01'",
                                           [b.run_id]).fetchall()}
        assert any(h not in off_hh for h, _ in rows)
        l27 = c1.execute("SELECT detail FROM logic_errors WHERE run_id = ? AND rule_code = 'L27'", [a.run_id]).fetchall()
        assert l27 and all("匹配概率" in d for (d,) in l27)


def _people(rng, n: int, county: str, prefix: str) -> pl.DataFrame:
    surnames, given = "王李张刘陈杨黄赵", "秀英桂兰建国志强玉珍海燕德明"
    rows = []
    for i in range(n):
        birth = f"19{rng.integers(40, 99)}{rng.integers(1, 13):02d}{rng.integers(1, 29):02d}"
        name = surnames[rng.integers(len(surnames))] + given[rng.integers(len(given))] + given[rng.integers(len(given))]
        rows.append({"unique_id": f"{prefix}{county}{i}", "county": county, "name": name,
                     "prefix": f"620422{birth}{rng.integers(100, 999)}", "township": f"{rng.integers(3)}镇",
                     "village": f"{rng.integers(6)}村", "gender": None})
    return _features(pl.DataFrame(rows))


def test_a_province_links_as_its_counties_would(tmp_path):
    """Across counties: the prior counts pairs within a county only, and predicting against the
    members a blocking rule can reach (with every member's name frequencies) scores the same
    pairs as predicting against all of them."""
    rng = np.random.default_rng(3)
    members = pl.concat([_people(rng, 400, c, "r") for c in ("甲县", "乙县")])
    # candidates: members whose ID was lost (name, township, village and birth date kept) and strangers
    lost = members.sample(40, seed=1).with_columns(unique_id=pl.format("c{}", pl.col("unique_id")))
    cand = pl.concat([lost, _people(rng, 10, "甲县", "c")])
    one = cand.filter(pl.col("county") == "甲县")
    assert prior_within_county(cand, members) == pytest.approx(
        cand.join(members, on=["county", "name_s", "birth"]).height / 0.9
        / (one.height * 400 + (cand.height - one.height) * 400))
    model = train(cand, members.filter(pl.col("county") == "甲县"), tmp_path / "m.json",
                  prior_within_county(cand, members))
    everyone = predict(cand, members, model, 0.5).sort("unique_id", "member_uid")
    reached = predict(cand, near(members, cand), model, 0.5, term_frequencies(cand, name_counts(members))).sort(
        "unique_id", "member_uid")
    assert everyone.height >= 30 and reached.height < members.height
    assert everyone.select("unique_id", "member_uid").equals(reached.select("unique_id", "member_uid"))
    assert (everyone["match_probability"] - reached["match_probability"]).abs().max() < 1e-9
    found = everyone.filter(pl.col("unique_id") == pl.format("c{}", pl.col("member_uid")))
    assert found["unique_id"].n_unique() >= 0.9 * lost.height  # in both counties alike
