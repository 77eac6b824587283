"""The county TOML of outputs.md "Configuration": every key by its name and meaning; mistakes named."""

import pytest
from typer.testing import CliRunner

from core.config import DEFAULT_MAJOR_DISEASE_ICD10, ConfigError, load_config
from pipelines.cli import EXIT_NOT_RECORDED, app

# The example of outputs.md, verbatim.
SPEC_EXAMPLE = """county = "示例县"

[monitoring_line]          # 元 per person per year, by year of the as-of date
2025 = 7600
2026 = 7800

[thresholds]               # rule parameters, names as in rules.md
window_days = 365
med_self_paid_roster = 10000
med_self_paid_others = 20000
med_income_ratio = 0.5
temp_assistance_days = 180
income_drop_ratio = 0.3
compulsory_age = [7, 15]
labor_age = [16, 64]
min_monitoring_days = 180
min_effect_days = 90
no_measure_grace_days = 30
stale_days = 45
volume_drop = 0.5                   # S11
major_disease_icd10 = ["C", "I21"]   # replaces the default list

[townships]                # canonical name = aliases departments use
"红山镇" = ["红山乡", "红山镇人民政府"]

[headers.civil_affairs_assistance]   # extra header aliases per table and column
id_number = ["身份证"]
"""


def _load(tmp_path, text):
    p = tmp_path / "county.toml"
    p.write_text(text, encoding="utf-8")
    return load_config(p)


def test_the_spec_example_is_read_key_by_key(tmp_path):
    cfg = _load(tmp_path, SPEC_EXAMPLE)
    assert cfg.county == "示例县"
    assert cfg.line_for(2026) == 7800 and cfg.line_for(2025) == 7600 and cfg.line_for(2027) is None
    t = cfg.thresholds
    assert t["major_disease_icd10"] == ["C", "I21"]  # replaces, not extends, the default list
    assert t["volume_drop"] == 0.5 and not any("volume_drop" in n for n in cfg.notices)
    assert t["compulsory_age"] == [7, 15] and t["labor_age"] == [16, 64]
    assert (t["window_days"], t["stale_days"], t["med_income_ratio"]) == (365, 45, 0.5)
    assert (t["suppress_days"], t["inclusion_grace_days"]) == (180, 30)  # defaults of outputs.md
    assert cfg.township_aliases() == {"示例县": {"红山镇": ["红山乡", "红山镇人民政府"]}}
    assert cfg.headers == {"civil_affairs_assistance": {"id_number": ["身份证"]}}


def test_defaults_without_a_file_and_feedback_keys_at_top_level_or_in_thresholds(tmp_path):
    assert load_config(None).thresholds["major_disease_icd10"] == DEFAULT_MAJOR_DISEASE_ICD10
    assert _load(tmp_path, "suppress_days = 90\n").thresholds["suppress_days"] == 90
    cfg = _load(tmp_path, "[thresholds]\ninclusion_grace_days = 15\n")
    assert cfg.thresholds["inclusion_grace_days"] == 15


def test_a_single_alias_may_be_written_as_a_string(tmp_path):
    cfg = _load(tmp_path, '[townships]\n"红山镇" = "红山乡"\n[headers.members]\nid_number = "公民身份号码"\n')
    assert cfg.township_aliases() == {"示例县": {"红山镇": ["红山乡"]}}
    assert cfg.headers == {"members": {"id_number": ["公民身份号码"]}}


@pytest.mark.parametrize(("text", "named"), [
    ("[thresholds]\ncompulsory_age = 7\n", "compulsory_age"),
    ("[thresholds]\nlabor_age = [64, 16]\n", "labor_age"),
    ("[thresholds]\nlabor_age = [16, 40, 64]\n", "labor_age"),
    ("[thresholds]\nwindow_days = \"365\"\n", "window_days"),
    ("[thresholds]\nmed_income_ratio = -1\n", "med_income_ratio"),
    ("[thresholds]\nmajor_disease_icd10 = []\n", "major_disease_icd10"),
    ("[monitoring_line]\nthis_year = 7800\n", "this_year"),
    ("[monitoring_line]\n2026 = \"7800元\"\n", "2026"),
    ("[townships]\n\"红山镇\" = [1, 2]\n", "红山镇"),
    ("[schedule]\ntimezone = \"Beijing\"\n", "Beijing"),
    ("county = \n", "not valid TOML"),
])
def test_a_mistake_is_named(tmp_path, text, named):
    with pytest.raises(ConfigError, match=named):
        _load(tmp_path, text)


def test_an_unknown_key_is_named_and_ignored_not_fatal(tmp_path):
    """A typo must not pass silently, and a key this version does not know must not stop the night."""
    cases = [
        ("[thresholds]\nwindow_day = 300\n", "window_day"),                       # typo of window_days
        ("[threshold]\nwindow_days = 300\n", "threshold"),                        # typo of a section
        ("province = \"甲省\"\n", "province"),
        ("[headers.civil_affair_assistance]\nid_number = [\"身份证\"]\n", "civil_affair_assistance"),
        ("[headers.civil_affairs_assistance]\nid = [\"身份证\"]\n", "'id'"),
    ]
    for text, named in cases:
        cfg = _load(tmp_path, text)
        assert len(cfg.notices) == 1 and named in cfg.notices[0], (text, cfg.notices)
        assert cfg.thresholds["window_days"] == 365 and cfg.headers == {}


def test_fangpin_run_refuses_a_bad_value_and_names_an_unknown_key(tmp_path, capsys):
    (tmp_path / "inbox").mkdir()
    cfg = tmp_path / "county.toml"
    cfg.write_text("[thresholds]\nwindow_days = \"365\"\n", encoding="utf-8")
    args = ["run", "--inbox", str(tmp_path / "inbox"), "--config", str(cfg), "--out", str(tmp_path / "out"),
            "--as-of", "2026-11-24"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == EXIT_NOT_RECORDED
    assert "window_days" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()

    cfg.write_text("[thresholds]\nwindow_day = 365\n", encoding="utf-8")
    from pipelines.cli import _check_config

    _check_config(cfg)  # no exit: the run would go on
    out = capsys.readouterr().out
    assert "[thresholds] 中的 'window_day' 不是已知的配置项，已忽略（是否想写 window_days？）" in out


def test_an_unknown_key_is_repeated_in_the_final_summary_with_a_guess(tmp_path):
    from rich.console import Console

    from pipelines.messages import print_summary

    cfg = _load(tmp_path, "[thresholds]\nwindow_day = 300\n[workbok]\npaper = \"A3\"\n")
    console = Console(record=True, width=200)
    print_summary(console, {"run_id": "r1", "as_of": "2026-11-24", "status": "completed", "seconds": 1.0,
                            "reports_dir": "out/reports", "warehouse": "out/warehouse.duckdb",
                            "config_notices": cfg.notices})
    text = console.export_text()
    assert "配置文件提示" in text
    assert "'window_day'" in text and "是否想写 window_days？" in text
    assert "'workbok'" in text and "是否想写 workbook？" in text


def test_workbook_paper_and_calendar_keys(tmp_path):
    cfg = _load(tmp_path, '[workbook]\npaper = "a3"\n[calendar]\nholidays = [2027-01-01, "2027-02-06"]\n'
                          'workdays = ["2027-02-14"]\n')
    assert cfg.workbook == {"paper": "A3"} and not cfg.notices
    assert [d.isoformat() for d in cfg.calendar["holidays"]] == ["2027-01-01", "2027-02-06"]
    assert load_config(None).workbook == {"paper": "A4"}
    with pytest.raises(ConfigError, match="paper"):
        _load(tmp_path, '[workbook]\npaper = "Letter"\n')
