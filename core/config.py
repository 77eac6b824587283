"""County configuration (outputs.md "Configuration"): one TOML file, every key optional.

Defaults are the values rules.md gives; a county overrides only what differs.
The whole file is digested into `runs.config_digest` so a run can be traced to
the settings it used.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
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
                  "suppress_days", "inclusion_grace_days", "linkage", "cluster")
SCHEDULE_KEYS = ("cron", "timezone")
WAREHOUSE_KEYS = ("memory_limit", "threads")
CLUSTER_KEYS = ("workers", "scheduler")
# [linkage] (outputs.md "Record linkage"): rows rejected for their ID linked to roster members.
DEFAULT_LINKAGE: dict[str, Any] = {"enabled": True, "review": 0.9, "accept": 0.99}


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _unknown(where: str, keys, known, notices: list[str]) -> None:
    """An unknown key is reported, not fatal: a key this version does not know (a newer
    config, a province's own addition) must not stop the nightly run, and a typo must not
    pass silently either — the run's terminal output and summary.json name it."""
    extra = [k for k in keys if k not in known]
    if extra:
        notices.append(f"unknown key{'s' if len(extra) > 1 else ''} {', '.join(map(repr, extra))} in {where}"
                       f" ignored; known: {', '.join(known)}")


def _threshold(name: str, v: Any) -> Any:
    where = f"[thresholds] {name}"
    if name in COUNT_KEYS:
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise ConfigError(f"{where} must be a whole number of days >= 0, not {v!r}")
    elif name in MONEY_KEYS:
        if not _is_number(v) or v < 0:
            raise ConfigError(f"{where} must be an amount in 元 >= 0, not {v!r}")
    elif name in RATIO_KEYS:
        if not _is_number(v) or v <= 0:
            raise ConfigError(f"{where} must be a ratio > 0 (e.g. 0.5), not {v!r}")
    elif name in RANGE_KEYS:
        if (not isinstance(v, list) or len(v) != 2
                or not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in v) or v[0] > v[1]):
            raise ConfigError(f"{where} must be two ages [lowest, highest], e.g. {DEFAULT_THRESHOLDS[name]}, not {v!r}")
    elif name == "major_disease_icd10":
        if isinstance(v, str):
            v = [v]
        if (not isinstance(v, list) or not v
                or not all(isinstance(x, str) and x.strip() for x in v)):
            raise ConfigError(f"{where} must be a non-empty list of ICD-10 code prefixes, e.g. [\"C\", \"I21\"],"
                              f" not {v!r}")
        v = [x.strip().upper() for x in v]
    return v


def _aliases(where: str, v: Any) -> list[str]:
    """A list of names (a single name is taken as a list of one)."""
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
        raise ConfigError(f"{where} must be a list of names, e.g. [\"红山乡\"], not {v!r}")
    return [x.strip() for x in v]


def _townships(v: Any) -> dict[str, Any]:
    """{canonical: [aliases]} or, for a province inbox, {county: {canonical: [aliases]}}."""
    if not isinstance(v, dict):
        raise ConfigError("[townships] must be a table: canonical township name = [aliases]")
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
        raise ConfigError("[headers] must hold tables [headers.<table>] with <column> = [header names]")
    specs = {s.table: s for s in load_specs()}
    out: dict[str, dict[str, list[str]]] = {}
    for table, cols in v.items():
        if table not in specs:
            notices.append(f"[headers.{table}] ignored: no table {table!r}; tables: {', '.join(sorted(specs))}")
            continue
        if not isinstance(cols, dict):
            raise ConfigError(f"[headers.{table}] must be a table of <column> = [header names]")
        names = [c.name for c in specs[table].columns]
        _unknown(f"[headers.{table}] (columns of {table})", cols, names, notices)
        known = {c: _aliases(f"[headers.{table}] {c}", a) for c, a in cols.items() if c in names}
        if known:
            out[table] = known
    return out


def _monitoring_line(v: Any) -> dict[int, float]:
    if not isinstance(v, dict):
        raise ConfigError("[monitoring_line] must be a table: <year> = 元 per person per year, e.g. 2026 = 7800")
    out: dict[int, float] = {}
    for year, amount in v.items():
        if not str(year).isdigit() or not 2000 <= int(year) <= 2100:
            raise ConfigError(f"[monitoring_line] key {year!r} is not a year")
        if not _is_number(amount) or amount <= 0:
            raise ConfigError(f"[monitoring_line] {year} must be an amount in 元 > 0, not {amount!r}")
        out[int(year)] = float(amount)
    return out


def _section(raw: dict, name: str, known: tuple[str, ...], notices: list[str]) -> dict:
    v = raw.get(name, {})
    if not isinstance(v, dict):
        raise ConfigError(f"[{name}] must be a table")
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
        raise ConfigError(f"cannot read configuration {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"configuration {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"configuration {path} is not valid TOML: {exc}") from None
    try:
        return _from_raw(raw)
    except ConfigError as exc:
        raise ConfigError(f"configuration {path}: {exc}") from None


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
    _unknown("the configuration (top level)", raw, TOP_LEVEL_KEYS, notices)
    county = raw.get("county", DEFAULT_COUNTY)
    if not isinstance(county, str) or not county.strip():
        raise ConfigError(f"county must be the county's name, not {county!r}")
    given = _section(raw, "thresholds", tuple(DEFAULT_THRESHOLDS), notices)
    thresholds = dict(DEFAULT_THRESHOLDS)
    thresholds.update({k: _threshold(k, v) for k, v in given.items()})
    for key in ("suppress_days", "inclusion_grace_days"):
        if key in raw:
            if key in given and given[key] != raw[key]:
                raise ConfigError(f"{key} is given twice, at top level and in [thresholds], with different values")
            thresholds[key] = _threshold(key, raw[key])
    schedule = _section(raw, "schedule", SCHEDULE_KEYS, notices)
    for key, v in schedule.items():
        if not isinstance(v, str) or not v.strip():
            raise ConfigError(f"[schedule] {key} must be text, not {v!r}")
    if "timezone" in schedule:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(schedule["timezone"])
        except Exception:
            raise ConfigError(f"[schedule] timezone {schedule['timezone']!r} is not a known time zone"
                              " (e.g. \"Asia/Shanghai\")") from None
    warehouse = _section(raw, "warehouse", WAREHOUSE_KEYS, notices)
    if "threads" in warehouse and (not isinstance(warehouse["threads"], int) or isinstance(warehouse["threads"], bool)
                                   or warehouse["threads"] < 1):
        raise ConfigError(f"[warehouse] threads must be a whole number >= 1, not {warehouse['threads']!r}")
    if "memory_limit" in warehouse and not (isinstance(warehouse["memory_limit"], str)
                                            and re.fullmatch(r"\s*\d+(\.\d+)?\s*[KMGT]i?B\s*",
                                                             warehouse["memory_limit"], re.I)):
        raise ConfigError(f"[warehouse] memory_limit must be a size such as \"4GB\", not {warehouse['memory_limit']!r}")
    return Config(
        linkage=_linkage(_section(raw, "linkage", tuple(DEFAULT_LINKAGE), notices)),
        cluster=_cluster(_section(raw, "cluster", CLUSTER_KEYS, notices)),
        county=county.strip(),
        monitoring_line=_monitoring_line(raw.get("monitoring_line", {})),
        thresholds=thresholds,
        townships=_townships(raw.get("townships", {})),
        headers=_headers(raw.get("headers", {}), notices),
        schedule={"cron": "0 2 * * *", "timezone": "Asia/Shanghai", **schedule},
        raw=raw,
        notices=notices,
    )
