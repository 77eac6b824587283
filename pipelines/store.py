"""The warehouse on disk: build a run privately, then publish it in one rename.

Layout under OUT/:

    warehouse.duckdb        catalogue: one view per table over store/*/<table>.parquet, with comments
    store/<run_id>/         one folder per finished run: <table>.parquet for every table
    .staging/<run_id>/      partitions being written; renamed into store/ when complete
    .work/<run_id>.duckdb   the run's private working database (deleted after publish)

Why this shape: an analyst's `duckdb warehouse.duckdb` (read-only or not) holds a
lock that a writer would trip over, and a run killed halfway must leave nothing
behind. The nightly run never writes to the file analysts open: it builds in its
own database, copies each table to Parquet in a staging folder, renames that
folder into store/ (atomic on one filesystem) and replaces the catalogue file
with a fresh one (os.replace; an open handle keeps the old inode). Until the
rename, every view — including latest_* — shows the previous complete run.
A failed run publishes only its runs.parquet, so it is recorded but never
"latest".
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
SCHEMA_FILES = sorted((SQL_DIR / "schema").glob("*.sql"))
VIEW_FILES = sorted((SQL_DIR / "views").glob("*.sql"))


def schema_sql() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in SCHEMA_FILES)


def warehouse_tables() -> list[str]:
    """Table names in DDL order, read from the DDL itself."""
    con = duckdb.connect()
    con.execute(schema_sql())
    names = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'memory' ORDER BY table_oid"
    ).fetchall()]
    con.close()
    return names


def store_dir(out: Path) -> Path:
    return Path(out).resolve() / "store"


def open_work(out: Path, run_id: str, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """A fresh private database for one run, with the warehouse DDL applied."""
    work = Path(out) / ".work"
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"{run_id}.duckdb"
    for stale in (path, path.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute(schema_sql())
    attach_history(con, out)
    return con


def _store_view_sql(store: Path, table: str, empty_from: str) -> str:
    files = list(store.glob(f"*/{table}.parquet"))
    if not files:
        return f"SELECT * FROM {empty_from} WHERE false"
    pattern = (store / "*" / f"{table}.parquet").as_posix()
    return f"SELECT * FROM read_parquet('{pattern}', union_by_name = true)"


def attach_history(con: duckdb.DuckDBPyConnection, out: Path) -> None:
    """Schema `hist` in a working database: every published run, read from store/.

    `hist.runs` etc. let screening compute 新增/持续/已解除 against the previous run
    and the scorecard its trends, without opening the analysts' catalogue file.
    """
    store = store_dir(out)
    con.execute("CREATE SCHEMA IF NOT EXISTS hist")
    for table in warehouse_tables():
        con.execute(
            f"CREATE OR REPLACE VIEW hist.{table} AS {_store_view_sql(store, table, f'main.{table}')}"
        )


def publish(con: duckdb.DuckDBPyConnection, out: Path, run_id: str, complete: bool = True) -> Path:
    """Copy the run's tables to Parquet, rename them into store/, refresh the catalogue.

    `runs` must already hold this run's row with its final status.
    With complete=False only runs.parquet is published (a failed run is recorded, never latest).
    """
    out = Path(out).resolve()
    staging = out / ".staging" / run_id
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    tables = warehouse_tables() if complete else ["runs"]
    for table in tables:
        con.execute(
            f"COPY (SELECT * FROM main.{table} WHERE run_id = ?) TO '{(staging / f'{table}.parquet').as_posix()}'"
            " (FORMAT parquet, COMPRESSION zstd)",
            [run_id],
        )
    final = store_dir(out) / run_id
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        shutil.rmtree(final)
    os.rename(staging, final)
    build_catalogue(out)
    return final


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
        store = store_dir(out)
        for table, comment in comments:
            cat.execute(f"CREATE VIEW {table} AS {_store_view_sql(store, table, f'empty.{table}')}")
            cat.execute(f"COMMENT ON VIEW {table} IS {_quote(comment)}")
        for table, column, comment in col_comments:
            cat.execute(f"COMMENT ON COLUMN {table}.{column} IS {_quote(comment)}")
        for f in VIEW_FILES:
            cat.execute(f.read_text(encoding="utf-8"))
        cat.execute("CHECKPOINT")
    finally:
        cat.close()
    os.replace(tmp, target)
    return target


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def discard_work(out: Path, run_id: str) -> None:
    work = Path(out) / ".work"
    for p in work.glob(f"{run_id}.duckdb*"):
        p.unlink(missing_ok=True)
    shutil.rmtree(Path(out) / ".staging" / run_id, ignore_errors=True)
