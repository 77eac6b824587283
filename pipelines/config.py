"""County configuration (outputs.md "Configuration"): one TOML file, every key optional.

Defaults are the values rules.md gives; a county overrides only what differs.
The whole file is digested into `runs.config_digest` so a run can be traced to
the settings it used.
"""

from __future__ import annotations

import hashlib
import json
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

    def line_for(self, year: int) -> float | None:
        """The monitoring line for a year, or None: rules that need it are then skipped."""
        return self.monitoring_line.get(year)

    def threshold(self, name: str) -> Any:
        return self.thresholds[name]

    @property
    def digest(self) -> str:
        blob = json.dumps(self.raw, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def township_aliases(self) -> dict[str, dict[str, list[str]]]:
        """county -> canonical township -> aliases, whichever of the two shapes was written."""
        flat = {k: v for k, v in self.townships.items() if isinstance(v, list)}
        nested = {k: v for k, v in self.townships.items() if isinstance(v, dict)}
        out: dict[str, dict[str, list[str]]] = {c: dict(t) for c, t in nested.items()}
        if flat:
            out.setdefault(self.county, {}).update(flat)
        return out


def load_config(path: str | Path | None) -> Config:
    """Read a county's TOML; `None` gives the defaults (no monitoring line: W09/L03 skip)."""
    if path is None:
        return Config()
    raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    thresholds = dict(DEFAULT_THRESHOLDS)
    thresholds.update(raw.get("thresholds", {}))
    for key in ("suppress_days", "inclusion_grace_days"):
        if key in raw:
            thresholds[key] = raw[key]
    return Config(
        county=raw.get("county", DEFAULT_COUNTY),
        monitoring_line={int(k): float(v) for k, v in raw.get("monitoring_line", {}).items()},
        thresholds=thresholds,
        townships=raw.get("townships", {}),
        headers=raw.get("headers", {}),
        schedule={"cron": "0 2 * * *", "timezone": "Asia/Shanghai", **raw.get("schedule", {})},
        raw=raw,
    )
