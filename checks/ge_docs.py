"""Great Expectations' side of S02–S08: the suites' validation results and their Data Docs.

Every expectation of a table is computed in DuckDB by one query (checks/source_checks.py: the
same GROUP BY that gives the per-township figures); this module turns those counts into GE's
own objects — the table's ExpectationSuite, one ExpectationSuiteValidationResult per table with
one ExpectationValidationResult per expectation, in the shape GE's validator gives with
result_format BASIC — stores them in an ephemeral GE context and renders its Data Docs site.
GE's SQL execution engine is not used at run time: at province scale it sent over a hundred
queries per night through SQLAlchemy, and its metric graph alone cost seconds at county scale.
tests/test_source_checks.py holds the counts equal to what GE's own validator computes on the
same tables (checks/ge_duckdb.py), so the two cannot drift apart.

Importing Great Expectations takes seconds (pandas, scipy, altair). A run therefore renders in a
`DocsWorker`: a child process started when the run starts, which imports GE on the other core
while the inbox is read, receives the counts as plain JSON when the source checks are done and
writes the HTML while the other stages run; the run waits for it before publishing. The child
is stopped by the kernel whenever the run ends, however it ends (kill -9, OOM killer).

Input (`payload`): plain values — docs folder, run id, as-of date, and per table its extra
headers and {check key: [rows, checked, failed]}. Output: HTML files under the docs folder and
{"index": path}. No personal data: the results carry counts only.
"""

from __future__ import annotations

import ctypes
import functools
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, date, datetime
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

SITE = "fangpin_reports"
PR_SET_PDEATHSIG = 1


# ---------------------------------------------------------------- rendering (imports GE)

def _percent(part: int, whole: int) -> float | None:
    return (100.0 * part / whole) if whole else None


def _result(check, rows: int, checked: int, failed: int) -> dict:
    """GE's BASIC result of one expectation from the DuckDB counts (no unexpected values listed)."""
    if check.kind == "rows":  # UnexpectedRowsExpectation: observed value = rows of its query
        return {"observed_value": failed}
    missing = rows - checked
    return {
        "element_count": rows, "unexpected_count": failed,
        "unexpected_percent": _percent(failed, checked), "partial_unexpected_list": [],
        "missing_count": missing, "missing_percent": _percent(missing, rows),
        "unexpected_percent_total": _percent(failed, rows),
        "unexpected_percent_nonmissing": _percent(failed, checked),
    }


def render(payload: dict) -> dict:
    """Build each table's suite once, its validation result from the counts, and the Data Docs site."""
    import great_expectations as gx
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    from checks.expectations import build_suite

    for name in ("great_expectations", "great_expectations.data_context",
                 "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)
    docs_dir = Path(payload["docs_dir"]).resolve()
    as_of = date.fromisoformat(payload["as_of"])
    context = gx.get_context(mode="ephemeral")
    context.enable_analytics(False)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.add_data_docs_site(SITE, {
        "class_name": "SiteBuilder", "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    })
    run_time = datetime.now(UTC)
    run_id = RunIdentifier(run_name=payload["run_id"], run_time=run_time)
    for table, entry in payload["tables"].items():
        suite_decl = build_suite(table, as_of, entry.get("headers"))
        suite = context.suites.add(suite_decl.gx_suite())
        results = []
        by_key = {e.meta["key"]: e for e in suite.expectations}
        for check in suite_decl.checks:
            rows, checked, failed = entry["counts"][check.key]
            config = by_key[check.key].configuration
            results.append(ExpectationValidationResult(
                success=failed == 0, expectation_config=config,
                result=_result(check, rows, checked, failed),
                exception_info={"raised_exception": False, "exception_traceback": None,
                                "exception_message": None}))
        ok = sum(r.success for r in results)
        batch_id = f"working-{table}"
        validation = ExpectationSuiteValidationResult(
            success=ok == len(results), results=results, suite_name=table,
            statistics={"evaluated_expectations": len(results), "successful_expectations": ok,
                        "unsuccessful_expectations": len(results) - ok,
                        "success_percent": _percent(ok, len(results))},
            meta={"great_expectations_version": gx.__version__,
                  "batch_spec": {"type": "table", "data_asset_name": table, "table_name": table},
                  "active_batch_definition": {"datasource_name": "working", "data_connector_name": "fluent",
                                              "data_asset_name": table, "batch_identifiers": {}},
                  "run_id": run_id.to_json_dict(), "validation_time": run_time.isoformat(),
                  "computed_in": "DuckDB (fangpin checks/source_checks.py)"},
            batch_id=batch_id)
        context.validation_results_store.set(
            ValidationResultIdentifier(ExpectationSuiteIdentifier(name=table), run_id, batch_id), validation)
    context.build_data_docs(site_names=[SITE])
    return {"index": str(docs_dir / "index.html")}


# ---------------------------------------------------------------- the worker process

def _die_with_parent(parent: int) -> None:
    """Runs in the child between fork and exec: the kernel sends SIGTERM when the forking thread
    ends (the run's thread, which waits for the worker), however the run ends."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


class DocsWorker:
    """`python -m checks.ge_docs` in a child process: imports GE at once, renders what it is sent."""

    def __init__(self) -> None:
        env = {**os.environ, "GX_ANALYTICS_ENABLED": "false"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "checks.ge_docs"], env=env, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
            preexec_fn=functools.partial(_die_with_parent, os.getpid()),
        )
        self._sent = False
        self._lock = threading.Lock()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def submit(self, payload: dict) -> None:
        """Hand over the counts; rendering goes on while the run does its other stages."""
        with self._lock:
            self._sent = True
            try:
                self.proc.stdin.write(json.dumps(payload, ensure_ascii=False))
                self.proc.stdin.close()
            except OSError:  # the worker died already: result() says why
                pass
            self.proc.stdin = None  # sent and closed: communicate() must not touch it again

    def result(self, timeout: float = 600.0) -> dict:
        """Wait for the Data Docs; raises RuntimeError with the worker's last words if it failed."""
        if not self._sent:
            self.stop()
            raise RuntimeError("nothing was sent to the Data Docs worker")
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise RuntimeError(f"Data Docs not rendered within {timeout:.0f} s") from None
        if self.proc.returncode != 0:
            tail = (err or "").strip().splitlines()[-1:] or [f"exit status {self.proc.returncode}"]
            raise RuntimeError(f"Data Docs worker failed: {tail[0][:300]}")
        return json.loads(out.strip().splitlines()[-1])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream and not stream.closed:
                stream.close()


# Packages Great Expectations imports whole but never uses to render Data Docs from results (scipy's
# statistics back distribution expectations; altair draws profiling charts): their pure-Python modules
# are loaded on first use instead (importlib's LazyLoader), which takes about a quarter off GE's import.
LAZY_PACKAGES = ("scipy", "altair")


class _LazyFinder:
    """A meta path finder that hands LAZY_PACKAGES' pure-Python modules to importlib.util.LazyLoader
    (extension modules load as usual, when a lazy module that needs them is first used)."""

    def find_spec(self, name, path, target=None):
        import importlib.machinery
        import importlib.util

        if name.split(".")[0] not in LAZY_PACKAGES:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if isinstance(spec.loader, importlib.machinery.SourceFileLoader):
                    spec.loader = importlib.util.LazyLoader(spec.loader)
                return spec
        return None


def main() -> int:
    sys.meta_path.insert(0, _LazyFinder())
    import great_expectations  # noqa: F401  — the slow import, done before the payload arrives

    data = sys.stdin.read()
    if not data.strip():
        return 0  # the run needed no Data Docs (no department data, or it failed before)
    print(json.dumps(render(json.loads(data)), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
