"""Deadlines on the official calendar (rules.md): weekends and public holidays skipped, 调休 make-up
days counted, a county's own year for one the calendar package does not know, and a notice when a
deadline falls in a year known to neither.

Expected dates are counted by hand from the State Council's notices:
- 2025 国庆节/中秋节: 10-01 … 10-08 off; Sunday 09-28 and Saturday 10-11 are working days.
- 2026 春节: 02-15 … 02-23 off; Saturday 02-14 and Saturday 02-28 are working days.
- 2026 国庆节: 10-01 … 10-07 off; Sunday 09-20 and Saturday 10-10 are working days.
"""

from __future__ import annotations

from datetime import date

import pytest

from checks.screening import add_period, note_unknown_years, run_screening
from checks.workdays import WorkCalendar, from_config, library_years
from core.config import load_config


@pytest.mark.parametrize(("start", "period", "expected"), [
    # 国庆节 2026: the case — Monday–Friday counting said 10-14
    (date(2026, 9, 30), "10 working days", date(2026, 10, 20)),
    (date(2026, 10, 9), "1 working day", date(2026, 10, 10)),      # Friday -> make-up Saturday
    (date(2026, 9, 18), "1 working day", date(2026, 9, 20)),       # Friday -> make-up Sunday
    # 国庆节 2025
    (date(2025, 9, 30), "10 working days", date(2025, 10, 21)),
    (date(2025, 9, 26), "1 working day", date(2025, 9, 28)),       # Friday -> make-up Sunday
    (date(2025, 10, 1), "1 working day", date(2025, 10, 9)),       # inside the holiday
    # 春节 2026, with both make-up Saturdays
    (date(2026, 2, 13), "1 working day", date(2026, 2, 14)),
    (date(2026, 2, 13), "2 working days", date(2026, 2, 24)),
    (date(2026, 2, 13), "10 working days", date(2026, 3, 5)),      # counts 02-14 and 02-28
    # an ordinary fortnight is still Monday to Friday
    (date(2026, 11, 24), "10 working days", date(2026, 12, 8)),
    (date(2026, 11, 27), "1 working day", date(2026, 11, 30)),
    # calendar days and months are untouched by holidays
    (date(2026, 9, 30), "30 days", date(2026, 10, 30)),
    (date(2026, 11, 30), "3 months", date(2027, 2, 28)),
])
def test_working_days_follow_the_official_calendar(start, period, expected):
    cal = WorkCalendar()
    assert add_period(start, period, cal) == expected
    assert not cal.unknown_years


def test_the_package_knows_2025_and_2026():
    first, last = library_years()
    assert first <= 2025 and last >= 2026


def test_a_year_the_package_does_not_know_counts_weekends_only_and_says_so():
    year = library_years()[1] + 1
    start = date(year, 9, 30)
    cal = WorkCalendar()
    got = add_period(start, "10 working days", cal)
    weekdays = [d for d in (date.fromordinal(start.toordinal() + i) for i in range(1, 30)) if d.weekday() < 5]
    assert got == weekdays[9] and cal.unknown_years == {year}


def test_the_county_gives_a_year_the_package_does_not_know(tmp_path):
    year = library_years()[1] + 1
    cfg = tmp_path / "county.toml"
    # a made-up notice: 10-01 … 10-07 off, Saturday 10-09 (whatever weekday) declared a working day
    off = [f"{year}-10-0{d}" for d in range(1, 8)]
    sat = next(date(year, 10, d) for d in range(8, 15) if date(year, 10, d).weekday() == 5)
    cfg.write_text(f"[calendar]\nholidays = {off!r}\nworkdays = [{sat.isoformat()}]\n".replace("'", '"'),
                   encoding="utf-8")
    cal = from_config(load_config(cfg))
    assert cal.knows(year) and not cal.is_workday(date(year, 10, 5)) and cal.is_workday(sat)
    got = add_period(date(year, 9, 30), "10 working days", cal)
    expected, d = [], date(year, 9, 30)
    while len(expected) < 10:
        d = date.fromordinal(d.toordinal() + 1)
        if (d.weekday() < 5 and d.isoformat() not in off) or d == sat:
            expected.append(d)
    assert got == expected[-1] and not cal.unknown_years


def test_a_bad_calendar_date_is_named(tmp_path):
    from core.config import ConfigError

    cfg = tmp_path / "county.toml"
    cfg.write_text('[calendar]\nholidays = ["2027-13-01"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="2027-13-01"):
        load_config(cfg)


def test_run_summary_notes_a_deadline_in_an_unknown_year(tmp_path):
    from test_screening import household, insert, make_ctx, pid

    year = library_years()[1] + 1
    as_of = date(year, 3, 2)
    ctx = make_ctx(tmp_path, "r1", as_of=as_of)
    kid = pid(f"{year - 10}0101", 5)
    household(ctx, "H001", members=[("户主", pid("19700101", 1), {}), ("孩子", kid, {})])
    insert(ctx, "education_students", id_number=pid("20100101", 9), stage="小学", enrolment_status="在读")
    run_screening(ctx)
    deadline = ctx.con.execute("SELECT deadline FROM warnings WHERE rule_code = 'W04'").fetchone()
    assert deadline is not None and deadline[0].year == year
    notes = [s for s in ctx.skipped if s["kind"] == "calendar"]
    assert len(notes) == 1 and str(year) in notes[0]["reason"] and "周六、周日" in notes[0]["reason"]
    note_unknown_years(ctx, WorkCalendar().unknown_years)  # nothing new: not repeated
    assert len([s for s in ctx.skipped if s["kind"] == "calendar"]) == 1
