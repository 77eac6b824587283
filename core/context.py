"""What every stage of a run is handed: the run's identity, settings and working database."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from core.config import Config


@dataclass
class RunContext:
    run_id: str
    as_of: date
    inbox: Path
    out: Path
    config: Config
    con: duckdb.DuckDBPyConnection
    skipped: list[dict] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    notes: dict[str, object] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def reports_dir(self) -> Path:
        """Where this run writes its reports: while a run is under way its private folder
        (notes["reports_build"], under OUT/.work/, moved into place by store.publish with the
        warehouse), else the published folder."""
        build = self.notes.get("reports_build")
        return Path(build) if build else self.published_reports_dir

    @property
    def published_reports_dir(self) -> Path:
        """OUT/reports/<as-of>/: where the reports of the latest complete run of that date stand."""
        return Path(self.out) / "reports" / self.as_of.isoformat()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of the working database for one thread (DuckDB connections are not shared)."""
        return self.con.cursor()

    def skip(self, kind: str, name: str, reason: str) -> None:
        """Record something not done (a rule, a source, a file, a sheet) and why: printed and kept in runs.skipped."""
        with self._lock:
            self.skipped.append({"kind": kind, "name": name, "reason": reason})

    def table_present(self, table: str) -> bool:
        """True when some inbox file or sheet was recognised as this table in this run."""
        row = self.cursor().execute(
            "SELECT count(*) FROM input_files WHERE run_id = ? AND source_table = ? AND status = 'loaded'",
            [self.run_id, table],
        ).fetchone()
        return bool(row and row[0])
