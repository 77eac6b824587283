"""Great Expectations' own validator over a working DuckDB: the cross-check of checks/ge_docs.py.

A run does not use it: every expectation is computed in DuckDB by one query per table
(checks/source_checks.py) and GE renders those counts (checks/ge_docs.py). tests/test_source_checks.py
runs GE's own SQL validation through this bridge on the same tables and holds its unexpected counts
equal to the run's, so the DuckDB queries cannot drift from what GE's expectations mean.

Why a bridge at all:
- The working database is a DuckDB *file* held open by the run's connection (ctx.con); a second
  connection from a new engine would trip over DuckDB's file lock. The SQLAlchemy engine GE uses
  is therefore given cursors of that very connection (`creator=`), wrapped the way duckdb-engine
  wraps its own connections; closing one closes only the cursor.
- GE 1.24's `SqlAlchemyExecutionEngine.execute_query` returns the cursor result *after* its
  `with self.get_connection()` block has closed the connection; duckdb-engine drops a pending
  result on close, so every metric came back empty ("MetricResolutionError: list index out of
  range"). `install_duckdb_result_buffering` replaces that method, for the duckdb dialect only, by
  one that buffers the rows (`Result.freeze()()`) before the connection is released.
  `execute_query_in_transaction` has the same shape and gets the same treatment; every other
  query path of GE's SQL metrics goes through one of these two.
- All computation stays in DuckDB: GE sends SQL (counts per expectation); no table is ever read
  into pandas. Results use result_format BASIC with no unexpected values, so neither the results
  nor the Data Docs carry ID numbers or names.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import duckdb

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0}

_installed = False
_install_lock = threading.Lock()


def install_duckdb_result_buffering() -> None:
    """Patch GE's SQL execution engine so results from duckdb survive the connection's close.

    Locked: two threads may get here at once, and a second patch would wrap the first.
    """
    with _install_lock:
        _install()


def _install() -> None:
    global _installed
    if _installed:
        return
    # GE announces its temporary docs folder at INFO on the terminal, mid-progress (that module
    # sets its own logger to INFO, so the parent's level is not enough); warnings still show.
    from great_expectations.data_context.types import base as ge_base

    for name in ("great_expectations", ge_base.__name__):
        logging.getLogger(name).setLevel(logging.WARNING)
    from great_expectations.execution_engine.sqlalchemy_execution_engine import (
        SqlAlchemyExecutionEngine,
    )

    original_query = SqlAlchemyExecutionEngine.execute_query
    original_in_tx = SqlAlchemyExecutionEngine.execute_query_in_transaction

    def execute_query(self, query):
        if self.engine.dialect.name != "duckdb":
            return original_query(self, query)
        with self.get_connection() as connection:
            return self._execute_query_with_recovery(connection, query).freeze()()

    def execute_query_in_transaction(self, query):
        if self.engine.dialect.name != "duckdb":
            return original_in_tx(self, query)
        with self.get_connection() as connection:
            result = self._execute_query_with_recovery(connection, query).freeze()()
            if connection.in_transaction():
                connection.commit()
            return result

    SqlAlchemyExecutionEngine.execute_query = execute_query
    SqlAlchemyExecutionEngine.execute_query_in_transaction = execute_query_in_transaction
    _installed = True


class GeDuckDB:
    """One ephemeral GE context per run, reading the tables of an open DuckDB connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection, docs_dir: Path | None = None):
        install_duckdb_result_buffering()
        import great_expectations as gx
        from duckdb_engine import ConnectionWrapper
        from great_expectations.data_context.types.base import ProgressBarsConfig

        for name in ("great_expectations", "great_expectations.data_context"):
            logging.getLogger(name).setLevel(logging.WARNING)
        self.gx = gx
        self.context = gx.get_context(mode="ephemeral")
        self.context.enable_analytics(False)
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.datasource = self.context.data_sources.add_sql(
            "working", connection_string="duckdb:///:memory:",
            kwargs={"creator": lambda: ConnectionWrapper(con.cursor())},
        )
        self.docs_dir = Path(docs_dir) if docs_dir else None
        if self.docs_dir:
            self.context.add_data_docs_site("fangpin_reports", {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                  "base_directory": str(self.docs_dir.resolve())},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            })
        self.definitions = []

    def add(self, table: str, suite) -> None:
        """Declare one table's suite and its validation (a whole-table batch)."""
        gx = self.gx
        asset = self.datasource.add_table_asset(table, table_name=table)
        batch = asset.add_batch_definition_whole_table(f"{table}_all")
        suite = self.context.suites.add(suite)
        self.definitions.append(self.context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{table}_validation", data=batch, suite=suite)))

    def run(self) -> dict[str, list]:
        """Validate every declared suite once (one checkpoint), render Data Docs, return results by table.

        Data Docs are built once after all validations: GE's UpdateDataDocsAction would rebuild the
        whole site after each validation.
        """
        if not self.definitions:
            return {}
        gx = self.gx
        checkpoint = self.context.checkpoints.add(gx.Checkpoint(
            name="source_checks", validation_definitions=self.definitions, actions=[],
            result_format=RESULT_FORMAT,
        ))
        result = checkpoint.run()
        if self.docs_dir:
            for identifier, validation in result.run_results.items():
                self.context.validation_results_store.set(identifier, validation)
            self.context.build_data_docs(site_names=["fangpin_reports"])
        return {r.suite_name: list(r.results) for r in result.run_results.values()}
