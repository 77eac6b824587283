"""The warehouse on disk: build a run privately, then publish it in one rename.

Layout under OUT/:

    warehouse.duckdb        catalogue: one view per table over store/<run_id>/<table>.parquet, with comments
    store/<run_id>/         one folder per finished run: <table>.parquet for every table
    .staging/<run_id>/      partitions being written; renamed into store/ when complete
    .work/<run_id>.*        the run's private work: marker, spill files, its reports being built
    reports/<as-of>/        the reports of the latest complete run of that date (moved in by publish)
    .lock                   held (flock) by the one run allowed on OUT at a time

Why this shape: an analyst's `duckdb warehouse.duckdb` (read-only or not) holds a
lock that a writer would trip over, and a run killed halfway must leave nothing
behind. The nightly run never writes to the file analysts open: it builds in its
own database, copies each table to Parquet in a staging folder, renames that
folder into store/ (atomic on one filesystem) and replaces the catalogue file
with a fresh one (os.replace; an open handle keeps the old inode). Until the
rename, every view — including latest_* — shows the previous complete run.
A failed run publishes only its runs.parquet, so it is recorded but never
"latest".

The catalogue's views name their Parquet files one by one, by absolute path,
rather than globbing store/: a connection opened before a publish keeps seeing
exactly the runs it was opened on (a snapshot) until it reconnects, and a
folder half-copied into store/ by hand can never leak into it. The price:
after moving OUT/ the catalogue must be rebuilt (`fangpin catalog --out DIR`;
every run rebuilds it too).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
SCHEMA_FILES = sorted((SQL_DIR / "schema").glob("*.sql"))
VIEW_FILES = sorted((SQL_DIR / "views").glob("*.sql"))

DEFAULT_MEMORY_LIMIT = "2GB"  # a province run's own peak stays near 3.4 GB (README "Speed")
DEFAULT_THREADS = 2


class RunInProgress(RuntimeError):
    """Another run holds OUT/.lock: two runs must never publish into one warehouse at once."""

    @classmethod
    def on(cls, out: Path) -> RunInProgress:
        return cls(f"另一次 fangpin 运行正在使用输出目录 {Path(out).resolve()}，本次未运行（等它结束后再试）")


def schema_sql() -> str:
    """sql/schema/*.sql with the department tables, generated from their specs, after the roster's."""
    from sources.spec import department_ddl

    parts = []
    for p in SCHEMA_FILES:
        parts.append(p.read_text(encoding="utf-8"))
        if p.name.startswith("02_"):
            parts.append(department_ddl())
    return "\n".join(parts)


def warehouse_tables() -> list[str]:
    """Table names in DDL order, read from the DDL itself (once per process: a run asks often)."""
    return list(_warehouse_tables())


@functools.cache
def _warehouse_tables() -> tuple[str, ...]:
    con = duckdb.connect()
    con.execute(schema_sql())
    names = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'memory' ORDER BY table_oid"
    ).fetchall()]
    con.close()
    return tuple(names)


def store_dir(out: Path) -> Path:
    return Path(out).resolve() / "store"


def open_work(
    out: Path, run_id: str, memory_limit: str | None = None, threads: int | None = None
) -> duckdb.DuckDBPyConnection:
    """A fresh private database for one run, with the warehouse DDL applied.

    In memory, not a file: appending to an on-disk database was the largest cost of ingest
    (about 4x slower than in memory, measured at province scale). memory_limit / threads
    default to what a 24 GB, 2-core county server can give one run while analysts keep
    working (2GB, 2: with polars' chunks and Python beside it, a province run's own peak stays
    near 3.4 GB); past the limit DuckDB spills to OUT/.work/<run_id>.tmp/, which
    discard_work removes. OUT/.work/<run_id>.running marks the run as under way (and holds
    its runs row once `note_running` wrote it) so that a killed run is found and recorded.
    """
    work = Path(out) / ".work"
    work.mkdir(parents=True, exist_ok=True)
    (work / f"{run_id}.running").write_text("{}", encoding="utf-8")
    con = duckdb.connect(":memory:")
    con.execute(f"SET memory_limit = '{memory_limit or DEFAULT_MEMORY_LIMIT}'")
    con.execute(f"SET threads = {int(threads or DEFAULT_THREADS)}")
    con.execute(f"SET temp_directory = '{(work / f'{run_id}.tmp').resolve().as_posix()}'")
    con.execute(schema_sql())
    attach_history(con, out)
    return con


def note_running(con: duckdb.DuckDBPyConnection, out: Path, run_id: str) -> None:
    """Copy the run's `runs` row into its .running marker: all a killed run leaves to be recorded by."""
    cur = con.cursor()
    try:
        row = cur.execute("SELECT * FROM runs WHERE run_id = ?", [run_id]).fetchone()
        names = [d[0] for d in cur.description]
    finally:
        cur.close()
    if row is not None:
        marker = Path(out) / ".work" / f"{run_id}.running"
        marker.write_text(json.dumps(dict(zip(names, row, strict=True)), default=str, ensure_ascii=False),
                          encoding="utf-8")


def published_files(out: Path, table: str) -> list[Path]:
    """Every published partition of a table, oldest run first (run ids sort by start time)."""
    return sorted(store_dir(out).glob(f"*/{table}.parquet"))


def _store_view_sql(files: list[Path], empty_from: str) -> str:
    if not files:
        return f"SELECT * FROM {empty_from} WHERE false"
    listed = ", ".join(_quote(f.as_posix()) for f in files)
    return f"SELECT * FROM read_parquet([{listed}], union_by_name = true)"


def attach_history(con: duckdb.DuckDBPyConnection, out: Path) -> None:
    """Schema `hist` in a working database: every published run, read from store/.

    `hist.runs` etc. let screening compute 新增/持续/已解除 against the previous run
    and the scorecard its trends, without opening the analysts' catalogue file.
    """
    con.execute("CREATE SCHEMA IF NOT EXISTS hist")
    for table in warehouse_tables():
        con.execute(
            f"CREATE OR REPLACE VIEW hist.{table} AS "
            f"{_store_view_sql(published_files(out, table), f'main.{table}')}"
        )


def reports_build_dir(out: Path, run_id: str, as_of) -> Path:
    """The run's private reports folder, OUT/.work/<run_id>.reports/<as-of>/: discard_work removes
    it with the rest of the run's work, so a run that fails or is killed leaves no reports behind."""
    return Path(out) / ".work" / f"{run_id}.reports" / as_of.isoformat()


def export_tables(con: duckdb.DuckDBPyConnection, out: Path, run_id: str, tables) -> list[str]:
    """Copy the run's rows of `tables` to Parquet in its staging folder (published by `publish`).

    zstd at level 1: the warehouse keeps every night, so its files stay compressed, and level 1
    wrote the settlements-like test table 17 % faster than the default level, a little smaller."""
    staging = Path(out).resolve() / ".staging" / run_id
    staging.mkdir(parents=True, exist_ok=True)
    for table in tables:
        con.execute(
            f"COPY (SELECT * FROM main.{table} WHERE run_id = ?) TO '{(staging / f'{table}.parquet').as_posix()}'"
            " (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)",
            [run_id],
        )
    return list(tables)


def final_tables() -> list[str]:
    """The tables no stage writes once apply_feedback is done: only `runs` gets its final row after
    the reports, so the others are exported while the workbooks are written (flow.run_once)."""
    return [t for t in warehouse_tables() if t != "runs"]


def publish(con: duckdb.DuckDBPyConnection, out: Path, run_id: str, complete: bool = True,
            reports: Path | None = None, exported: list[str] | None = None) -> Path:
    """Copy the run's tables to Parquet, rename them into store/, refresh the catalogue.

    `runs` must already hold this run's row with its final status.
    With complete=False only runs.parquet is published (a failed run is recorded, never latest).
    `exported`: tables export_tables already wrote to the staging folder for this run.
    `reports` (a complete run's built reports folder, named after its as-of date) is moved into
    the staging folder first, so the one rename that publishes the run's tables publishes its
    reports too; they are then moved to OUT/reports/<as-of>/ (place_reports), a step recovery
    finishes when a run dies between the two.
    """
    out = Path(out).resolve()
    staging = out / ".staging" / run_id
    done = set(exported or []) if complete else set()
    if staging.exists() and not done:
        shutil.rmtree(staging)
    export_tables(con, out, run_id, [t for t in (warehouse_tables() if complete else ["runs"]) if t not in done])
    if complete and reports is not None and Path(reports).is_dir():
        (staging / "reports").mkdir()
        os.rename(reports, staging / "reports" / Path(reports).name)
    _fsync_dir(staging)
    final = store_dir(out) / run_id
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        shutil.rmtree(final)
    os.rename(staging, final)
    _fsync_dir(final.parent)
    place_reports(out, run_id)
    build_catalogue(out)
    return final


def place_reports(out: Path, run_id: str) -> None:
    """Move a published run's reports from store/<run_id>/reports/<as-of>/ to OUT/reports/<as-of>/.

    The folder of an earlier run of the same date is set aside (into the run's .work, removed
    after) and the new one renamed in: a clerk never sees a mix of two runs' workbooks.
    """
    out = Path(out).resolve()
    held = store_dir(out) / run_id / "reports"
    if not held.is_dir():
        return
    for built in sorted(held.iterdir()):
        target = out / "reports" / built.name
        target.parent.mkdir(parents=True, exist_ok=True)
        old = out / ".work" / f"{run_id}.replaced-reports"
        if target.exists():
            old.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(old, ignore_errors=True)
            os.rename(target, old)
        os.rename(built, target)
        shutil.rmtree(old, ignore_errors=True)
    held.rmdir()


def _fsync_dir(path: Path) -> None:
    """Make a rename durable: a power cut after publish must not lose the run."""
    for f in [*path.glob("*.parquet"), path] if path.is_dir() else [path]:
        fd = os.open(f, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def build_catalogue(out: Path) -> Path:
    """Write warehouse.duckdb anew (views + comments) and swap it in atomically."""
    out = Path(out).resolve()
    target = out / "warehouse.duckdb"
    tmp = out / f".warehouse.{os.getpid()}.duckdb"
    tmp.unlink(missing_ok=True)
    cat = duckdb.connect(str(tmp))
    try:
        scratch = duckdb.connect()
        scratch.execute(schema_sql())
        comments = scratch.execute(
            "SELECT table_name, comment FROM duckdb_tables() WHERE database_name = 'memory'"
        ).fetchall()
        col_comments = scratch.execute(
            "SELECT table_name, column_name, comment FROM duckdb_columns()"
            " WHERE database_name = 'memory' AND comment IS NOT NULL"
        ).fetchall()
        scratch.close()
        cat.execute("CREATE SCHEMA empty")
        cat.execute(schema_sql().replace("CREATE TABLE IF NOT EXISTS ", "CREATE TABLE IF NOT EXISTS empty.")
                    .replace("COMMENT ON TABLE ", "COMMENT ON TABLE empty.")
                    .replace("COMMENT ON COLUMN ", "COMMENT ON COLUMN empty."))
        for table, comment in comments:
            files = published_files(out, table)
            cat.execute(f"CREATE VIEW {table} AS {_store_view_sql(files, f'empty.{table}')}")
            cat.execute(f"COMMENT ON VIEW {table} IS {_quote(comment)}")
        for table, column, comment in col_comments:
            cat.execute(f"COMMENT ON COLUMN {table}.{column} IS {_quote(comment)}")
        for f in VIEW_FILES:
            cat.execute(f.read_text(encoding="utf-8"))
        _comment_latest_views(cat, {(t, c): text for t, c, text in col_comments})
        cat.execute("CHECKPOINT")
    finally:
        cat.close()
    tmp.with_suffix(".duckdb.wal").unlink(missing_ok=True)
    os.replace(tmp, target)
    return target


def _comment_latest_views(cat: duckdb.DuckDBPyConnection, col_comments: dict[tuple[str, str], str]) -> None:
    """Every column of a latest_<table> view (latest_run: of runs) carries its table's column comment.

    outputs.md asks for COMMENT ON every table and column; the views of sql/views/ select
    the tables' columns unchanged, so the tables' comments say what they hold. A comment
    written in sql/views/ itself is kept.
    """
    for view, column in cat.execute(
        "SELECT table_name, column_name FROM duckdb_columns()"
        " WHERE schema_name = 'main' AND comment IS NULL AND table_name LIKE 'latest\\_%' ESCAPE '\\'"
    ).fetchall():
        table = "runs" if view == "latest_run" else view.removeprefix("latest_")
        comment = col_comments.get((table, column))
        if comment:
            cat.execute(f"COMMENT ON COLUMN {view}.{column} IS {_quote(comment)}")


def catalogue_is_stale(out: Path) -> bool:
    """True when store/ holds a run the catalogue does not list (a run killed between rename and swap)."""
    out = Path(out).resolve()
    target = out / "warehouse.duckdb"
    runs = published_files(out, "runs")
    if not runs:
        return False
    if not target.exists():
        return True
    return max(p.parent.stat().st_mtime for p in runs) > target.stat().st_mtime


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def discard_work(out: Path, run_id: str) -> None:
    work = Path(out) / ".work"
    for p in work.glob(f"{run_id}.*"):
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
    shutil.rmtree(Path(out) / ".staging" / run_id, ignore_errors=True)


@contextlib.contextmanager
def run_lock(out: Path) -> Iterator[None]:
    """Hold OUT/.lock for one run. The kernel drops an flock when its process dies,
    so a killed run never leaves OUT locked."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunInProgress.on(out) from None
        yield
    finally:
        os.close(fd)


def lock_is_held(out: Path) -> bool:
    """Whether another process holds OUT/.lock now (a quick probe; run_lock decides for real)."""
    path = Path(out) / ".lock"
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def leftover_runs(out: Path) -> list[str]:
    """Run ids a killed process left in .work/ or .staging/ (call only while holding run_lock)."""
    out = Path(out)
    ids = {p.name.split(".", 1)[0] for p in (out / ".work").glob("*.running")}
    ids |= {p.name for p in (out / ".staging").glob("*") if p.is_dir()}
    return sorted(ids)


def recover_leftovers(out: Path) -> list[str]:
    """Clean up after runs that died (SIGKILL, power cut) and record each as failed.

    The published warehouse was never touched by such a run, so nothing there needs
    undoing; its private files are removed. When its working database still opens
    and holds its runs row, that row is published (status failed, finished_at null:
    "it died") so `fangpin runs` shows the gap instead of hiding it.
    Call only while holding run_lock.
    """
    out = Path(out)
    recorded = []
    published = {p.parent.name for p in published_files(out, "runs")}
    for run_id in leftover_runs(out):
        marker = out / ".work" / f"{run_id}.running"
        if run_id not in published and marker.exists():
            with contextlib.suppress(duckdb.Error, OSError, ValueError, TypeError):
                row = json.loads(marker.read_text(encoding="utf-8"))
                if row.get("run_id") == run_id:
                    _record_killed(out, row)
                    recorded.append(run_id)
        discard_work(out, run_id)
    for tmp in out.glob(".warehouse.*.duckdb*"):
        tmp.unlink(missing_ok=True)
    for held in store_dir(out).glob("*/reports"):  # published, but died before its reports were placed
        place_reports(out, held.parent.name)
    if catalogue_is_stale(out):
        build_catalogue(out)
    return recorded


def _record_killed(out: Path, row: dict) -> None:
    """Publish a killed run's runs row (status failed, finished_at null: "it died")."""
    skipped = json.loads(row["skipped"]) if row.get("skipped") else []
    skipped.append({"kind": "run", "name": row["run_id"],
                    "reason": "运行中断：进程在发布结果之前被终止（如被强行结束、断电或内存不足）"})
    row.update(status="failed", finished_at=None, skipped=json.dumps(skipped, ensure_ascii=False))
    con = duckdb.connect(":memory:")
    try:
        con.execute(schema_sql())
        cols = [c for c in row if c in {d[0] for d in con.execute("SELECT * FROM runs LIMIT 0").description}]
        con.execute(f"INSERT INTO runs ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                    [row[c] for c in cols])
        publish(con, out, row["run_id"], complete=False)
    finally:
        con.close()


def recent_runs(out: Path, limit: int = 10) -> list[dict]:
    """The latest runs (by start) with their headline figures, read from store/*/runs.parquet.

    Reads the Parquet files, not warehouse.duckdb, so it works while an analyst holds
    the catalogue open read-write.
    """
    files = published_files(out, "runs")
    if not files:
        return []
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT run_id, as_of_date, status, started_at, finished_at, summary, skipped"
        f" FROM read_parquet([{', '.join(_quote(f.as_posix()) for f in files)}], union_by_name = true)"
        " ORDER BY started_at DESC, run_id DESC LIMIT ?",
        [limit],
    ).fetchall()
    con.close()
    result = []
    for run_id, as_of, status, started, finished, summary, skipped in rows:
        s = json.loads(summary) if summary else {}
        sources = s.get("sources") or {}
        skipped = json.loads(skipped) if skipped else []
        died = [x["reason"] for x in skipped if x.get("kind") == "run"]  # a killed run's reason (_record_killed)
        result.append({
            "run_id": run_id, "as_of": as_of, "status": status, "started_at": started,
            "finished_at": finished,
            "seconds": (finished - started).total_seconds() if finished else None,
            "rows_loaded": sum(c["rows_loaded"] for c in sources.values()) if s else None,
            "rows_rejected": sum(c["rows_rejected"] for c in sources.values()) if s else None,
            "warnings": sum(sum(v.values()) for v in (s.get("warnings_by_rule") or {}).values()) if s else None,
            "logic_errors": sum((s.get("logic_errors_by_rule") or {}).values()) if s else None,
            "skipped": len(skipped) - len(died),
            "error": s.get("error") or (died[0] if died else None),
            "timezone": s.get("timezone"),
        })
    return result
