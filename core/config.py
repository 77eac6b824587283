"""County configuration (outputs.md "Configuration"): one TOML file, every key optional.

Defaults are the values rules.md gives; a county overrides only what differs.
The whole file is digested into `runs.config_digest` so a run can be traced to
the settings it used.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

DEFAULT_MAJOR_DISEASE_ICD10 = [
    "C", "D45", "D46", "D47", "I21", "I60", "I61", "I62", "I63", "I64", "N18.5", "N18.6",
    "Q20", "Q21", "Q22", "Q23", "Q24", "Q25", "F20", "F31", "G35",
    "B20", "B21", "B22", "B23", "B24", "D66", "D67",
]

DEFAULT_THRESHOLDS: dict[str, Any] = {
    "window_days": 365,
    "med_self_paid_roster": 10000,
    "med_self_paid_others": 20000,
    "med_income_ratio": 0.5,
    "temp_assistance_days": 180,
    "income_drop_ratio": 0.3,
    "compulsory_age": [7, 15],
    "labor_age": [16, 64],
    "min_monitoring_days": 180,
    "min_effect_days": 90,
    "no_measure_grace_days": 30,
    "stale_days": 45,
    "unemployed_days": 90,
    "main_income_share": 0.5,
    "disaster_loss": 10000,
    "loan_overdue_days": 30,
    "business_capital": 10,
    "volume_drop": 0.5,
    "suppress_days": 180,
    "inclusion_grace_days": 30,
    "major_disease_icd10": DEFAULT_MAJOR_DISEASE_ICD10,
}

DEFAULT_COUNTY = "示例县"


@dataclass
class Config:
    county: str = DEFAULT_COUNTY
    monitoring_line: dict[int, float] = field(default_factory=dict)
    thresholds: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    # canonical township name -> aliases; a province inbox nests it by county:
    # {"红山镇": ["红山乡"]} or {"示例县": {"红山镇": ["红山乡"]}}
    townships: dict[str, Any] = field(default_factory=dict)
    # table -> column -> extra header aliases
    headers: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    schedule: dict[str, Any] = field(
        default_factory=lambda: {"cron": "0 2 * * *", "timezone": "Asia/Shanghai"}
    )
    # official calendar additions for a year the calendar package does not know (checks/workdays.py)
    calendar: dict[str, list[date]] = field(default_factory=dict)
    # township workbook print setup: paper "A4" (default) or "A3"
    workbook: dict[str, Any] = field(default_factory=lambda: {"paper": "A4"})
    raw: dict[str, Any] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)  # unknown keys, ignored
    linkage: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_LINKAGE))
    # [cluster] workers / scheduler (issue 14): where the county fan-out runs; empty = one process.
    cluster: dict[str, Any] = field(default_factory=dict)

    def line_for(self, year: int) -> float | None:
        """The monitoring line for a year, or None: rules that need it are then skipped."""
        return self.monitoring_line.get(year)

    def threshold(self, name: str) -> Any:
        return self.thresholds[name]

    @property
    def digest(self) -> str:
        # Where the run executes ([cluster]) does not change what it computes: not part of the digest.
        raw = {k: v for k, v in self.raw.items() if k != "cluster"}
        blob = json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def township_aliases(self) -> dict[str, dict[str, list[str]]]:
        """county -> canonical township -> aliases, whichever of the two shapes was written."""
        flat = {k: v for k, v in self.townships.items() if isinstance(v, list)}
        nested = {k: v for k, v in self.townships.items() if isinstance(v, dict)}
        out: dict[str, dict[str, list[str]]] = {c: dict(t) for c, t in nested.items()}
        if flat:
            out.setdefault(self.county, {}).update(flat)
        return out


class ConfigError(ValueError):
    """The configuration file cannot be used as written: the message says which key and why."""


# [thresholds] keys by kind; suppress_days / inclusion_grace_days may also stand at top level.
COUNT_KEYS = ("window_days", "temp_assistance_days", "min_monitoring_days", "min_effect_days",
              "no_measure_grace_days", "stale_days", "suppress_days", "inclusion_grace_days",
              "unemployed_days", "loan_overdue_days")
MONEY_KEYS = ("med_self_paid_roster", "med_self_paid_others", "disaster_loss", "business_capital")
RATIO_KEYS = ("med_income_ratio", "income_drop_ratio", "main_income_share", "volume_drop")
RANGE_KEYS = ("compulsory_age", "labor_age")
TOP_LEVEL_KEYS = ("county", "monitoring_line", "thresholds", "townships", "headers", "schedule", "warehouse",
                  "calendar", "workbook", "suppress_days", "inclusion_grace_days", "linkage", "cluster")
SCHEDULE_KEYS = ("cron", "timezone")
WAREHOUSE_KEYS = ("memory_limit", "threads")
CALENDAR_KEYS = ("holidays", "workdays")
WORKBOOK_KEYS = ("paper",)
PAPERS = ("A4", "A3")
CLUSTER_KEYS = ("workers", "scheduler")
# [linkage] (outputs.md "Record linkage"): rows rejected for their ID linked to roster members.
DEFAULT_LINKAGE: dict[str, Any] = {"enabled": True, "review": 0.9, "accept": 0.99}


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def did_you_mean(key: str, known) -> str | None:
    """The known key a mistyped one most likely meant (difflib), or None."""
    close = difflib.get_close_matches(str(key), [str(k) for k in known], n=1, cutoff=0.6)
    return close[0] if close else None


def _unknown(where: str, keys, known, notices: list[str]) -> None:
    """An unknown key is reported, not fatal: a key this version does not know (a newer
    config, a province's own addition) must not stop the nightly run, and a typo must not
    pass silently either — the run's terminal output and summary.json name it, with the
    known key it most likely meant."""
    for k in keys:
        if k in known:
            continue
        guess = did_you_mean(k, known)
        sep = " " if where.endswith(("]", "）")) else ""
        notices.append(f"{where}{sep}中的 {k!r} 不是已知的配置项，已忽略"
                       + (f"（是否想写 {guess}？）" if guess else f"（可用：{', '.join(map(str, known))}）"))


def _threshold(name: str, v: Any) -> Any:
    where = f"[thresholds] {name}"
    if name in COUNT_KEYS:
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise ConfigError(f"{where} 应为不小于 0 的整数天数，而不是 {v!r}")
    elif name in MONEY_KEYS:
        if not _is_number(v) or v < 0:
            raise ConfigError(f"{where} 应为不小于 0 的金额（元），而不是 {v!r}")
    elif name in RATIO_KEYS:
        if not _is_number(v) or v <= 0:
            raise ConfigError(f"{where} 应为大于 0 的比例（如 0.5），而不是 {v!r}")
    elif name in RANGE_KEYS:
        if (not isinstance(v, list) or len(v) != 2
                or not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in v) or v[0] > v[1]):
            raise ConfigError(f"{where} 应为两个年龄 [最小, 最大]，如 {DEFAULT_THRESHOLDS[name]}，而不是 {v!r}")
    elif name == "major_disease_icd10":
        if isinstance(v, str):
            v = [v]
        if (not isinstance(v, list) or not v
                or not all(isinstance(x, str) and x.strip() for x in v)):
            raise ConfigError(f"{where} 应为非空的 ICD-10 编码前缀列表，如 [\"C\", \"I21\"]，而不是 {v!r}")
        v = [x.strip().upper() for x in v]
    return v


def _aliases(where: str, v: Any) -> list[str]:
    """A list of names (a single name is taken as a list of one)."""
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
        raise ConfigError(f"{where} 应为名称列表，如 [\"红山乡\"]，而不是 {v!r}")
    return [x.strip() for x in v]


def _townships(v: Any) -> dict[str, Any]:
    """{canonical: [aliases]} or, for a province inbox, {county: {canonical: [aliases]}}."""
    if not isinstance(v, dict):
        raise ConfigError("[townships] 应为表：标准乡镇名 = [别名]")
    out: dict[str, Any] = {}
    for key, val in v.items():
        if isinstance(val, dict):
            out[key] = {t: _aliases(f"[townships] {key}.{t}", a) for t, a in val.items()}
        else:
            out[key] = _aliases(f"[townships] {key}", val)
    return out


def _headers(v: Any, notices: list[str]) -> dict[str, dict[str, list[str]]]:
    """[headers.<table>] <column> = [aliases]: table and column as the warehouse names them."""
    from sources.spec import load_specs

    if not isinstance(v, dict):
        raise ConfigError("[headers] 应为若干表 [headers.<数据表>]，每项 <列名> = [表头名称]")
    specs = {s.table: s for s in load_specs()}
    out: dict[str, dict[str, list[str]]] = {}
    for table, cols in v.items():
        if table not in specs:
            guess = did_you_mean(table, sorted(specs))
            notices.append(f"[headers.{table}] 已忽略：没有名为 {table!r} 的数据表"
                           + (f"（是否想写 {guess}？）" if guess else f"（可用：{', '.join(sorted(specs))}）"))
            continue
        if not isinstance(cols, dict):
            raise ConfigError(f"[headers.{table}] 应为表：<列名> = [表头名称]")
        names = [c.name for c in specs[table].columns]
        _unknown(f"[headers.{table}]（{specs[table].title}的列）", cols, names, notices)
        known = {c: _aliases(f"[headers.{table}] {c}", a) for c, a in cols.items() if c in names}
        if known:
            out[table] = known
    return out


def _monitoring_line(v: Any) -> dict[int, float]:
    if not isinstance(v, dict):
        raise ConfigError("[monitoring_line] 应为表：<年度> = 每人每年元数，如 2026 = 7800")
    out: dict[int, float] = {}
    for year, amount in v.items():
        if not str(year).isdigit() or not 2000 <= int(year) <= 2100:
            raise ConfigError(f"[monitoring_line] 的键 {year!r} 不是年度")
        if not _is_number(amount) or amount <= 0:
            raise ConfigError(f"[monitoring_line] {year} 应为大于 0 的金额（元），而不是 {amount!r}")
        out[int(year)] = float(amount)
    return out


def _dates(where: str, v: Any) -> list[date]:
    """A list of dates, as TOML dates (2027-01-01) or text ("2027-01-01")."""
    if not isinstance(v, list):
        raise ConfigError(f"{where} 应为日期列表，如 [2027-01-01, 2027-02-06]，而不是 {v!r}")
    out = []
    for x in v:
        if isinstance(x, date):
            out.append(x if type(x) is date else x.date())
            continue
        try:
            out.append(date.fromisoformat(str(x).strip()))
        except ValueError:
            raise ConfigError(f"{where} 中的 {x!r} 不是日期（应写成 2027-01-01）") from None
    return sorted(set(out))


def _section(raw: dict, name: str, known: tuple[str, ...], notices: list[str]) -> dict:
    v = raw.get(name, {})
    if not isinstance(v, dict):
        raise ConfigError(f"[{name}] 应为表")
    _unknown(f"[{name}]", v, known, notices)
    return {k: x for k, x in v.items() if k in known}


def load_config(path: str | Path | None) -> Config:
    """Read a county's TOML; `None` gives the defaults (no monitoring line: W09/L03 skip).

    Raises ConfigError, naming the key, for a file that is not TOML or a value of the wrong
    shape; unknown keys are ignored and listed in Config.notices (see _unknown).
    """
    if path is None:
        return Config()
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"无法读取配置文件 {path}：{exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"配置文件 {path} 不是 UTF-8 编码的文本") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"配置文件 {path} 格式有误（not valid TOML）：{exc}") from None
    try:
        return _from_raw(raw)
    except ConfigError as exc:
        raise ConfigError(f"配置文件 {path}：{exc}") from None


def _linkage(given: dict) -> dict[str, Any]:
    """[linkage] enabled / review / accept: 0 < review <= accept <= 1."""
    out = dict(DEFAULT_LINKAGE) | given
    if not isinstance(out["enabled"], bool):
        raise ConfigError(f"[linkage] enabled must be true or false, not {out['enabled']!r}")
    for key in ("review", "accept"):
        if not _is_number(out[key]) or not 0 < out[key] <= 1:
            raise ConfigError(f"[linkage] {key} must be a match probability in (0, 1], e.g. "
                              f"{DEFAULT_LINKAGE[key]}, not {out[key]!r}")
    if out["review"] > out["accept"]:
        raise ConfigError(f"[linkage] review ({out['review']}) must not be above accept ({out['accept']})")
    return out


def _cluster(given: dict) -> dict[str, Any]:
    """[cluster] workers = N (a local Dask cluster of N processes) or scheduler = "tcp://host:8786"."""
    out: dict[str, Any] = {}
    w = given.get("workers")
    if w is not None:
        if not isinstance(w, int) or isinstance(w, bool) or w < 1:
            raise ConfigError(f"[cluster] workers must be a whole number >= 1, not {w!r}")
        out["workers"] = w
    sched = given.get("scheduler")
    if sched is not None:
        if not isinstance(sched, str) or not re.fullmatch(r"(tcp|tls|inproc|ws|wss)://\S+", sched.strip()):
            raise ConfigError(f"[cluster] scheduler must be a Dask scheduler address such as"
                              f" \"tcp://10.0.0.5:8786\", not {sched!r}")
        out["scheduler"] = sched.strip()
    if len(out) == 2:
        raise ConfigError("[cluster] give workers (a local cluster) or scheduler (an existing one), not both")
    return out


def _from_raw(raw: dict) -> Config:
    notices: list[str] = []
    _unknown("配置文件顶层", raw, TOP_LEVEL_KEYS, notices)
    county = raw.get("county", DEFAULT_COUNTY)
    if not isinstance(county, str) or not county.strip():
        raise ConfigError(f"county 应为县名，而不是 {county!r}")
    given = _section(raw, "thresholds", tuple(DEFAULT_THRESHOLDS), notices)
    thresholds = dict(DEFAULT_THRESHOLDS)
    thresholds.update({k: _threshold(k, v) for k, v in given.items()})
    for key in ("suppress_days", "inclusion_grace_days"):
        if key in raw:
            if key in given and given[key] != raw[key]:
                raise ConfigError(f"{key} 在顶层和 [thresholds] 中各写了一次，且数值不同")
            thresholds[key] = _threshold(key, raw[key])
    schedule = _section(raw, "schedule", SCHEDULE_KEYS, notices)
    for key, v in schedule.items():
        if not isinstance(v, str) or not v.strip():
            raise ConfigError(f"[schedule] {key} 应为文字，而不是 {v!r}")
    if "timezone" in schedule:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(schedule["timezone"])
        except Exception:
            raise ConfigError(f"[schedule] timezone {schedule['timezone']!r} 不是已知的时区"
                              "（如 \"Asia/Shanghai\"）") from None
    warehouse = _section(raw, "warehouse", WAREHOUSE_KEYS, notices)
    if "threads" in warehouse and (not isinstance(warehouse["threads"], int) or isinstance(warehouse["threads"], bool)
                                   or warehouse["threads"] < 1):
        raise ConfigError(f"[warehouse] threads 应为不小于 1 的整数，而不是 {warehouse['threads']!r}")
    if "memory_limit" in warehouse and not (isinstance(warehouse["memory_limit"], str)
                                            and re.fullmatch(r"\s*\d+(\.\d+)?\s*[KMGT]i?B\s*",
                                                             warehouse["memory_limit"], re.I)):
        raise ConfigError(f"[warehouse] memory_limit 应为内存大小，如 \"4GB\"，而不是 {warehouse['memory_limit']!r}")
    calendar = {k: _dates(f"[calendar] {k}", v) for k, v in _section(raw, "calendar", CALENDAR_KEYS, notices).items()}
    both = set(calendar.get("holidays", ())) & set(calendar.get("workdays", ()))
    if both:
        raise ConfigError(f"[calendar] {', '.join(d.isoformat() for d in sorted(both))} 同时写在 holidays 和 workdays 中")
    workbook = _section(raw, "workbook", WORKBOOK_KEYS, notices)
    if "paper" in workbook:
        paper = str(workbook["paper"]).strip().upper()
        if paper not in PAPERS:
            raise ConfigError(f"[workbook] paper 应为 \"A4\" 或 \"A3\"，而不是 {workbook['paper']!r}")
        workbook["paper"] = paper
    return Config(
        linkage=_linkage(_section(raw, "linkage", tuple(DEFAULT_LINKAGE), notices)),
        cluster=_cluster(_section(raw, "cluster", CLUSTER_KEYS, notices)),
        county=county.strip(),
        monitoring_line=_monitoring_line(raw.get("monitoring_line", {})),
        thresholds=thresholds,
        townships=_townships(raw.get("townships", {})),
        headers=_headers(raw.get("headers", {}), notices),
        schedule={"cron": "0 2 * * *", "timezone": "Asia/Shanghai", **schedule},
        calendar=calendar,
        workbook={"paper": "A4", **workbook},
        raw=raw,
        notices=notices,
    )
