"""The nightly flow: ingest → source checks → feedback → screening → logic → apply feedback → reports → publish.

Only wiring lives here; each stage is a plain function of the package that owns it
(sources/, checks/, reports/), testable without Prefect. `run_once` is the whole run
as a plain function (tests call it directly; `run_untracked` is it with the flow's
parameters, for `fangpin run` without a Prefect server); `nightly` (pipelines/prefect_flow.py,
importable from here) is the Prefect flow around it, which runs one Prefect task per inbox
folder (two at a time) and one per stage, so a transient file error is retried by Prefect and
the Prefect UI shows where time went. This module never imports Prefect itself.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import json
import re
import resource
import secrets
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from checks import feedback, linkage, logic, screening, source_checks
from checks.source_checks import volume_drops
from core.config import Config, load_config
from core.context import RunContext
from pipelines import store
from reports import scorecard, workbooks
from sources import ingest as ingest_stage
from sources.spec import inbox_folders

DEPARTMENT_FOLDERS = inbox_folders()
FEEDBACK_FOLDER = "feedback"
SPECS_DIR = Path(__file__).resolve().parent.parent / "sources" / "specs"
INGEST_RETRIES = 2

# (event, details) callback for progress lines; the CLI sets it, the flow never needs it.
_progress: Callable[[str, dict], None] | None = None
# The context of the run in progress or last run in this process, for the CLI's summary on failure.
last_context: RunContext | None = None


_docs_worker = None  # a Data Docs worker started ahead of the run (start_docs_worker), for run_once


def start_docs_worker() -> None:
    """Start the run's Data Docs worker now, before the run itself (the CLI does, so that GE's import
    overlaps Prefect's); the next run_once in this thread adopts it. Call from the thread that will
    run run_once: the worker is stopped by the kernel when that thread ends."""
    global _docs_worker
    from checks.ge_docs import DocsWorker

    stop_docs_worker()
    _docs_worker = DocsWorker()


def stop_docs_worker() -> None:
    """Stop a worker started ahead that no run adopted (the run never started)."""
    global _docs_worker
    if _docs_worker is not None:
        _docs_worker.stop()
        _docs_worker = None


def take_docs_worker():
    global _docs_worker
    from checks.ge_docs import DocsWorker

    worker, _docs_worker = _docs_worker, None
    return worker or DocsWorker()


def set_progress(callback: Callable[[str, dict], None] | None) -> None:
    global _progress
    _progress = callback


def _emit(event: str, **details) -> None:
    if _progress is not None:
        _progress(event, details)


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now()
    return now.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def county_now(config: Config) -> datetime:
    """Now on the county's wall clock ([schedule] timezone, Asia/Shanghai by default), without
    the zone: run ids, started_at and finished_at are recorded so, and shown as they are."""
    return datetime.now(ZoneInfo(config.schedule.get("timezone") or "Asia/Shanghai")).replace(tzinfo=None)


def county_today(config: Config) -> date:
    """Today in the county's time zone ([schedule] timezone, Asia/Shanghai by default).

    Why: the 02:00 Beijing-time run happens at 18:00 UTC the day before; a server
    clock in UTC must not date the run a day early.
    """
    return datetime.now(ZoneInfo(config.schedule.get("timezone") or "Asia/Shanghai")).date()


def folder_tables() -> dict[str, list[str]]:
    """Inbox folder -> the warehouse tables its files are read into, from sources/specs.

    Specs of intermediate shapes (the national person-level export, reshaped into
    households/members) are not warehouse tables and are left out.
    """
    from sources.spec import load_specs

    tables = set(store.warehouse_tables())
    out: dict[str, list[str]] = {}
    for spec in load_specs():
        if spec.table in tables:
            out.setdefault(spec.folder, []).append(spec.table)
    return out


# ---------------------------------------------------------------- fingerprints and reuse

def fingerprint_folder(inbox: Path, folder: str) -> list[dict]:
    """Every file under inbox/folder: path relative to the inbox, size, SHA-256 of the content.

    Only the files the ingest reads (sources.ingest.list_files): hidden files and Excel's ~$ lock
    files come and go while someone has a workbook open and say nothing about the data, and a
    symbolic link is never followed.
    """
    root = Path(inbox) / folder
    if not root.is_dir() or root.is_symlink():
        return []
    files = []
    for p in ingest_stage.list_files(root, Path(inbox))[0]:  # what the ingest reads: no symlink is followed
        with p.open("rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
        files.append({
            "file": p.relative_to(inbox).as_posix(), "size": p.stat().st_size, "sha256": digest,
        })
    return files


@functools.cache
def reader_digest() -> str:
    """SHA-256 prefix of the reading code and specs (sources/): an upgrade re-reads every folder.

    Computed once per process, as the code this process loaded was when it started.
    """
    return _files_digest((p.name, p) for p in sorted([*SPECS_DIR.parent.glob("*.py"), *SPECS_DIR.glob("*.toml")]))


def _files_digest(files, extra=()) -> str:
    """SHA-256 prefix over (label, file) pairs, each label and content, then the `extra` strings."""
    h = hashlib.sha256()
    for label, path in files:
        h.update(label.encode())
        h.update(path.read_bytes())
    for text in extra:
        h.update(text.encode())
    return h.hexdigest()[:16]


def plan_reuse(ctx: RunContext, fingerprints: dict, reread: bool) -> dict[str, str]:
    """Folders whose normalised rows can be copied from the last completed run: folder -> run_id.

    A folder is not re-read when the last completed run (by finish time) saw exactly
    the same files in it (path, size, SHA-256), used the same configuration and the
    same reading code (fingerprints["_reader"]), and nothing it loaded or rejected
    could come out differently today. Reading depends on the as-of date in one place
    only: an ID whose birth date lies after the as-of date is rejected. So the earlier
    run's as-of date must not be later than this one's, and none of its rejects of the
    folder may be a birth-date rejection (that row may be valid today). Townships are
    resolved again after every folder is in (sources.ingest.resolve_townships), so a
    changed roster does not force the departments to be re-read. An empty folder has
    nothing to copy and is always "read".
    """
    if reread:
        return {}
    row = ctx.cursor().execute(
        "SELECT run_id, fingerprints, config_digest, as_of_date FROM hist.runs WHERE status = 'completed'"
        " ORDER BY finished_at DESC, run_id DESC LIMIT 1"
    ).fetchone()
    if not row or row[1] is None or row[2] != ctx.config.digest or row[3] > ctx.as_of:
        return {}
    prev_id, prev_fp = row[0], json.loads(row[1])
    if prev_fp.get("_reader") != fingerprints.get("_reader"):
        return {}
    tables = ctx.notes["folder_tables"]
    plan = {}
    for folder in DEPARTMENT_FOLDERS:
        files = fingerprints.get(folder) or []
        if not files or prev_fp.get(folder) != files:
            continue
        birth_rejects = row[3] < ctx.as_of and ctx.cursor().execute(
            "SELECT count(*) FROM hist.rejects WHERE run_id = ? AND source_table IN (SELECT unnest(?::VARCHAR[]))"
            " AND reason LIKE '%出生日期%'", [prev_id, tables.get(folder, [])]
        ).fetchone()[0]
        if not birth_rejects:
            plan[folder] = prev_id
    return plan


@functools.cache
def rules_digest() -> str:
    """SHA-256 prefix of what turns loaded rows into findings and workbooks: the code, SQL and
    templates of checks/, sql/, core/ and reports/ (rules, registry, models, configuration, the
    workbook's layout), and the versions of the libraries whose answers land in them. An upgrade
    of any of them computes the findings and writes the workbooks afresh (plan_results)."""
    root = SPECS_DIR.parent.parent
    files = sorted(q for d in ("checks", "sql", "core", "reports") for q in (root / d).rglob("*")
                   if q.is_file() and "__pycache__" not in q.parts)
    versions = []
    for dist in ("duckdb", "polars", "splink", "chinesecalendar", "xlsxwriter"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions.append(f"{dist}=={importlib.metadata.version(dist)}")
    return _files_digest(((p.relative_to(root).as_posix(), p) for p in files), versions)


# Tables of the stages a rerun on unchanged inputs takes from the earlier run (plan_results):
# source checks, linkage, screening, logic and apply_feedback write these and nothing else the
# warehouse keeps (feedback, between them, still runs: it reads nothing when no workbook came back).
RESULT_STAGES = ("source_checks", "linkage", "screening", "logic", "apply_feedback")
RESULT_TABLES = ("source_checks", "record_links", "warnings", "logic_errors")


def plan_results(ctx: RunContext, fingerprints: dict, plan: dict[str, str]) -> str | None:
    """The earlier run whose findings this run takes as they are (reuse_results), or None.

    Only a rerun: the run every folder is copied from (plan_reuse: the last completed run, same
    configuration and reading code) had the same as-of date, exactly the same files in every
    folder (empty ones too), the same rule code (rules_digest) and no returned workbooks. Its
    linkage, screening, logic and feedback would then give, row for row, what it gave: they read
    only those rows, the configuration, the as-of date and the runs before it — and the previous
    run (the latest completed one with an earlier as-of date) is its previous run too, since no
    run completed after it. Returned workbooks are excluded because the earlier run recorded them:
    read again they are duplicates, and the run's verifications differ.

    Its reports must be the ones published for the date (their summary.json names it): the
    township workbooks are copied from there, and the Data Docs rendered again from its counts.

    A night with a new as-of date computes everything after ingest again: ages, windows,
    deadlines, freshness and 新增/持续 all move with it.
    """
    if not plan or fingerprints.get(FEEDBACK_FOLDER):
        return None
    prev_id = next(iter(plan.values()))  # plan_reuse's one run: with every fingerprint equal, every folder
    row = ctx.cursor().execute(
        "SELECT fingerprints, as_of_date FROM hist.runs WHERE run_id = ? AND status = 'completed'", [prev_id]
    ).fetchone()
    if not row or row[1] != ctx.as_of:
        return None
    prev_fp = json.loads(row[0])
    same = all(prev_fp.get(k) == fingerprints.get(k) for k in {*prev_fp, *fingerprints} if k != FEEDBACK_FOLDER)
    if not same or prev_fp.get(FEEDBACK_FOLDER) or _published_run(ctx) != prev_id:
        return None
    return prev_id


def _published_run(ctx: RunContext) -> str | None:
    """The run whose reports stand in OUT/reports/<as-of>/ (its summary.json), when none of its
    workbooks was changed after it was published."""
    folder = ctx.published_reports_dir
    summary = folder / "summary.json"
    try:
        run_id = json.loads(summary.read_text(encoding="utf-8")).get("run_id")
        stamp = summary.stat().st_mtime
        if any(p.stat().st_mtime > stamp for p in folder.glob("*/*.xlsx")):
            return None
    except (OSError, ValueError):
        return None
    return run_id


def reuse_results(ctx: RunContext, prev_id: str) -> None:
    """RESULT_TABLES copied from `prev_id` under this run's id (a finding it raised first is first
    seen by this run, as it would be when computed afresh), with what those stages reported skipped."""
    con = ctx.cursor()
    for table in RESULT_TABLES:
        first_seen = tuple(c for c in ("first_seen_run",) if c in ingest_stage.table_columns(con, table))
        replace = ", ".join(["?::VARCHAR AS run_id",
                             *(f"(CASE WHEN {c} = ? THEN ? ELSE {c} END) AS {c}" for c in first_seen)])
        params = [ctx.run_id, *(v for _ in first_seen for v in (prev_id, ctx.run_id)), prev_id]
        con.execute(f"INSERT INTO {table} BY NAME SELECT * REPLACE ({replace}) FROM hist.{table}"
                    " WHERE run_id = ?", params)
    row = con.execute("SELECT skipped FROM hist.runs WHERE run_id = ?", [prev_id]).fetchone()
    for entry in json.loads(row[0]) if row and row[0] else []:
        if entry.get("kind") != "report" and entry not in ctx.skipped:
            ctx.skip(entry["kind"], entry["name"], entry["reason"])
    source_checks.render_data_docs_again(ctx, ctx.published_reports_dir)


def _clear_folder(con, run_id: str, folder: str, tables: list[str]) -> None:
    """Remove what an earlier attempt at this folder loaded, so a retry never doubles rows."""
    for table in tables:
        con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
    if tables:
        con.execute(
            "DELETE FROM rejects WHERE run_id = ? AND source_table IN (SELECT unnest(?::VARCHAR[]))",
            [run_id, tables],
        )
    con.execute("DELETE FROM input_files WHERE run_id = ? AND folder = ?", [run_id, folder])


def _copy_folder(con, run_id: str, folder: str, tables: list[str], prev_id: str) -> None:
    for table in tables:
        con.execute(
            f"INSERT INTO {table} BY NAME SELECT * REPLACE (?::VARCHAR AS run_id)"
            f" FROM hist.{table} WHERE run_id = ?",
            [run_id, prev_id],
        )
    if tables:
        con.execute(
            "INSERT INTO rejects BY NAME SELECT * REPLACE (?::VARCHAR AS run_id) FROM hist.rejects"
            " WHERE run_id = ? AND source_table IN (SELECT unnest(?::VARCHAR[]))",
            [run_id, prev_id, tables],
        )
    con.execute(
        "INSERT INTO input_files BY NAME SELECT * REPLACE (?::VARCHAR AS run_id) FROM hist.input_files"
        " WHERE run_id = ? AND folder = ?",
        [run_id, prev_id, folder],
    )


def _folder_skips(con, prev_id: str, folder: str) -> list[dict]:
    """What the earlier run skipped while reading this folder (files, sheets): still true of the same files."""
    row = con.execute("SELECT skipped FROM hist.runs WHERE run_id = ?", [prev_id]).fetchone()
    entries = json.loads(row[0]) if row and row[0] else []
    return [e for e in entries
            if (e.get("kind") in ("file", "sheet") and str(e.get("name", "")).startswith(folder + "/"))
            or (e.get("kind") == "source" and e.get("name") == folder)]


def _stamp_fingerprints(con, run_id: str, folder: str, files: list[dict]) -> None:
    """input_files.fingerprint = the file's SHA-256, on every sheet row of that file."""
    if not files:
        return
    con.execute(
        "UPDATE input_files AS i SET fingerprint = f.sha256"
        " FROM (SELECT unnest(?::VARCHAR[]) AS file, unnest(?::VARCHAR[]) AS sha256) AS f"
        " WHERE i.run_id = ? AND i.folder = ? AND i.fingerprint IS NULL"
        " AND (i.file = f.file OR i.file = substr(f.file, length(?) + 2))",
        [[f["file"] for f in files], [f["sha256"] for f in files], run_id, folder, folder],
    )


# How an OS-level failure reads once the reader has turned it into an "unreadable" reason.
TRANSIENT_REASON = (r"\[Errno \d+\]|\(os error \d+\)|PermissionError|FileNotFoundError|TimeoutError"
                    r"|BlockingIOError|ConnectionError|InterruptedError|OSError")
RETRY_DELAY_SECONDS = 2.0


def _forget_skips(ctx: RunContext, folder: str) -> None:
    """Drop what an earlier attempt at this folder reported skipped: the retry reports afresh."""
    with ctx._lock:
        ctx.skipped[:] = [e for e in ctx.skipped
                          if not (str(e.get("name", "")).startswith(folder + "/")
                                  or (e.get("kind") == "source" and e.get("name") == folder))]


def _transient_unreadable(con, run_id: str, folder: str) -> list[str]:
    return [f for (f,) in con.execute(
        "SELECT DISTINCT file FROM input_files WHERE run_id = ? AND folder = ? AND status = 'unreadable'"
        " AND regexp_matches(reason, ?) ORDER BY 1", [run_id, folder, TRANSIENT_REASON]).fetchall()]


def ingest_one(ctx: RunContext, folder: str, reuse_from: str | None,
               part: list[str] | None = None, first: bool = True) -> str:
    """Load one inbox folder into the working database (or copy it unchanged). Safe to retry.

    `part` / `first`: only these of its files, as sources.ingest.ingest_folder reads a part.

    The reader never raises for a bad file: it records it as unreadable and goes on.
    When the reason is the file system's (permission denied, file gone, I/O error: a
    share that blinked, a file still being copied in), the folder is read again after
    RETRY_DELAY_SECONDS, up to INGEST_RETRIES times; a file still unreadable after that
    stays reported as unreadable and the run goes on without it.
    """
    tables = ctx.notes["folder_tables"].get(folder, [])
    con = ctx.cursor()
    t0 = time.perf_counter()
    for attempt in range(INGEST_RETRIES + 1):
        _clear_folder(con, ctx.run_id, folder, tables)
        _forget_skips(ctx, folder)
        if reuse_from:
            _copy_folder(con, ctx.run_id, folder, tables, reuse_from)
            for entry in _folder_skips(con, reuse_from, folder):
                ctx.skip(entry["kind"], entry["name"], entry["reason"])
            how = f"unchanged since run {reuse_from}: rows copied, not re-read"
            tries = 1
            break
        ingest_stage.ingest_folder(ctx, folder, part, first)
        how = "read" + (f" (attempt {attempt + 1})" if attempt else "")
        tries = attempt + 1
        flaky = _transient_unreadable(con, ctx.run_id, folder)
        if not flaky or attempt == INGEST_RETRIES:
            break
        _emit("retry", folder=folder, files=flaky)
        time.sleep(RETRY_DELAY_SECONDS)
    _stamp_fingerprints(con, ctx.run_id, folder, ctx.notes["fingerprints"].get(folder, []))
    seconds = round(time.perf_counter() - t0, 3)
    with ctx._lock:
        ctx.stage_seconds[f"ingest:{folder}"] = seconds
    _emit("folder", folder=folder, how=how, seconds=seconds, reused=reuse_from, attempt=tries)
    return how


def is_transient(exc: BaseException) -> bool:
    """File-system trouble (a share that blinked, a file still being copied) is worth a retry; bugs are not."""
    return isinstance(exc, OSError)


# ---------------------------------------------------------------- stages

def _peak_rss_mb() -> float | None:
    """This process's peak RSS so far (Linux VmHWM), for the per-stage record of where memory went."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        pass
    return None


def _mark(ctx: RunContext, name: str, cpu0: float) -> None:
    """Record a stage's CPU seconds (all threads of the process: steadier than wall time on a shared
    machine) and the process's peak RSS once it is done (summary: stage_cpu_seconds, peak_rss_mb)."""
    with ctx._lock:
        ctx.notes.setdefault("stage_cpu", {})[name] = round(time.process_time() - cpu0, 3)
        ctx.notes.setdefault("peak_rss", {})[name] = _peak_rss_mb()


def reports(ctx, write_workbooks: Callable = workbooks.write_township_workbooks):
    """The reports stage: township workbooks (in this process, or county by county on Dask
    workers: pipelines/fanout.py; a rerun on unchanged inputs copies the earlier run's), the
    scorecard, and the Data Docs the worker rendered."""
    if ctx.notes.get("results_from"):
        books = workbooks.copy_township_workbooks(ctx, ctx.published_reports_dir)
    else:
        books = write_workbooks(ctx)
    return {"workbooks": books, "scorecard": scorecard.write_scorecard(ctx), "data_docs": await_data_docs(ctx)}


def await_data_docs(ctx: RunContext) -> str | None:
    """Wait for the Data Docs worker the source checks handed their results to (checks/ge_docs.py).

    Data Docs that could not be rendered are reported as skipped (the S figures are in
    source_checks and the scorecard either way); the run goes on.
    """
    worker = ctx.notes.get("docs_worker")
    if worker is None or not getattr(worker, "_sent", False):
        return None
    try:
        return worker.result()["index"]
    except Exception as exc:
        ctx.skip("report", "data_docs", f"Great Expectations Data Docs 未生成：{exc}")
        return None


STAGE_FUNCTIONS: dict[str, Callable[[RunContext], object]] = {
    "source_checks": source_checks.run_source_checks,
    "feedback": feedback.read_feedback,
    "linkage": linkage.run_linkage,  # record linkage of rows rejected for their ID (issue 15)
    "screening": screening.run_screening,
    "logic": logic.run_logic,
    "apply_feedback": feedback.apply_feedback,
}
STAGES = [*STAGE_FUNCTIONS, "reports"]


def run_stage(ctx: RunContext, stage: str):
    """Run one stage, timed."""
    _emit("stage", stage=stage)
    ctx.notes["stage"] = stage
    t0, cpu0 = time.perf_counter(), time.process_time()
    try:
        if stage == "reports":
            return reports(ctx)
        if stage == "reuse_results":
            return reuse_results(ctx, ctx.notes["results_from"])
        return STAGE_FUNCTIONS[stage](ctx)
    finally:
        ctx.stage_seconds[stage] = round(ctx.stage_seconds.get(stage, 0) + time.perf_counter() - t0, 3)
        _mark(ctx, stage, cpu0)
        _emit("stage_done", stage=stage, seconds=ctx.stage_seconds[stage])


def resolve_townships(ctx: RunContext) -> None:
    """sources.ingest.resolve_townships(ctx) once every folder is loaded (copied rows included)."""
    t0 = time.perf_counter()
    ingest_stage.resolve_townships(ctx)
    ctx.stage_seconds["townships"] = round(time.perf_counter() - t0, 3)


def _ingest_plain(ctx: RunContext, plan: dict[str, str]) -> None:
    """Ingest without Prefect: two folders at a time, transient errors retried like the Prefect task."""
    def one(folder):
        for attempt in range(INGEST_RETRIES + 1):
            try:
                return ingest_one(ctx, folder, plan.get(folder))
            except Exception as exc:
                if attempt == INGEST_RETRIES or not is_transient(exc):
                    raise
                time.sleep(1)

    with ThreadPoolExecutor(max_workers=2) as pool:
        for f in [pool.submit(one, folder) for folder in DEPARTMENT_FOLDERS]:
            f.result()


def _stage_plain(ctx: RunContext, stage: str):
    return run_stage(ctx, stage)


# ---------------------------------------------------------------- the run

def run_once(
    inbox: Path,
    config_path: Path | None,
    as_of: date | None,
    out: Path,
    *,
    reread: bool = False,
    ingest: Callable[[RunContext, dict[str, str]], None] | None = None,
    stage: Callable[[RunContext, str], object] | None = None,
) -> RunContext:
    """One complete run, published at the end. Plain function: the Prefect flow wraps it.

    `ingest` and `stage` say how folders and stages are executed (plain threads by
    default; Prefect tasks inside the flow). Raises store.RunInProgress when another
    run holds OUT, and re-raises a stage's error after recording the run as failed.
    """
    global last_context
    ingest = ingest or _ingest_plain
    stage = stage or _stage_plain
    config = load_config(config_path)
    as_of = as_of or county_today(config)
    inbox = Path(inbox)
    if not inbox.is_dir():
        raise FileNotFoundError(f"inbox {inbox} is not a directory")
    out = Path(out)
    with store.run_lock(out):
        recovered = store.recover_leftovers(out)
        run_id = new_run_id(county_now(config))
        wh = config.raw.get("warehouse", {})
        con = store.open_work(out, run_id, wh.get("memory_limit"), wh.get("threads"))
        ctx = RunContext(run_id=run_id, as_of=as_of, inbox=inbox, out=out, config=config, con=con)
        ctx.notes["reports_build"] = store.reports_build_dir(out, run_id, as_of)
        last_context = ctx
        ctx.notes["recovered"] = recovered
        ctx.notes["stage"] = "start"
        started = county_now(config)
        con.execute(
            "INSERT INTO runs (run_id, as_of_date, started_at, status, inbox, config_digest, county)"
            " VALUES (?, ?, ?, 'running', ?, ?, ?)",
            [run_id, as_of, started, str(inbox.resolve()), config.digest, config.county],
        )
        store.note_running(con, out, run_id)
        _emit("start", run_id=run_id, as_of=as_of.isoformat(), out=str(out.resolve()))
        # Great Expectations takes seconds to import: its Data Docs worker loads it on the other
        # core while the files are read (checks/ge_docs.py); it dies with this run, however it ends.
        ctx.notes["docs_worker"] = take_docs_worker()
        export = ThreadPoolExecutor(max_workers=1)
        try:
            t0 = time.perf_counter()
            fingerprints: dict = {f: fingerprint_folder(inbox, f) for f in [*DEPARTMENT_FOLDERS, FEEDBACK_FOLDER]}
            fingerprints["_reader"] = reader_digest()
            fingerprints["_rules"] = rules_digest()
            ctx.stage_seconds["fingerprints"] = round(time.perf_counter() - t0, 3)
            ctx.notes["fingerprints"] = fingerprints
            ctx.notes["folder_tables"] = folder_tables()
            ctx.notes["reused"] = plan = plan_reuse(ctx, fingerprints, reread)
            ctx.notes["results_from"] = results_from = plan_results(ctx, fingerprints, plan)
            con.execute("UPDATE runs SET fingerprints = ? WHERE run_id = ?",
                        [json.dumps(fingerprints, ensure_ascii=False), run_id])
            store.note_running(con, out, run_id)
            t0, cpu0 = time.perf_counter(), time.process_time()
            ctx.notes["stage"] = "ingest"
            ingest(ctx, plan)
            ingest_stage.list_stray(ctx, {*ctx.notes["folder_tables"], FEEDBACK_FOLDER})
            resolve_townships(ctx)
            ctx.stage_seconds["ingest"] = round(time.perf_counter() - t0, 3)
            missing = incomplete_inbox(ctx)
            if missing:
                raise IncompleteInbox(missing)
            _mark(ctx, "ingest", cpu0)
            for name in STAGES:
                if name == "reports":  # the tables are final: exported while the workbooks are written
                    exporting = export.submit(store.export_tables, ctx.cursor(), out, run_id, store.final_tables())
                if results_from and name in RESULT_STAGES:
                    if name == RESULT_STAGES[0]:
                        stage(ctx, "reuse_results")
                    continue
                stage(ctx, name)
            ctx.notes["stage"] = "publish"
            _finish(ctx, "completed")
            _write_summary(ctx)  # inside the reports, so they publish together
            t0, cpu0 = time.perf_counter(), time.process_time()
            store.publish(con, out, run_id, complete=True, reports=ctx.reports_dir, exported=exporting.result())
            ctx.stage_seconds["publish"] = round(time.perf_counter() - t0, 3)
            _mark(ctx, "publish", cpu0)
            ctx.notes["status"] = "completed"
        except BaseException as exc:
            export.shutdown(wait=True)  # no export still writing into the staging folder
            ctx.notes["status"] = "failed"
            expected = isinstance(exc, IncompleteInbox)  # said in plain words; no traceback to show
            ctx.notes["error"] = str(exc) if expected else stage_error(ctx.notes.get("stage", "start"), exc)
            _emit("error", error=ctx.notes["error"], trace=None if expected else traceback.format_exc())
            try:
                _finish(ctx, "failed")
                store.publish(con, out, run_id, complete=False)
            except Exception as record_exc:
                raise RuntimeError(f"run {run_id} failed and could not be recorded") from record_exc
            if not expected:
                raise
        finally:
            export.shutdown(wait=True)
            ctx.notes.pop("docs_worker").stop()
            con.close()
            ctx.notes.pop("reports_build", None)  # published, or discarded with the run's work
            store.discard_work(out, run_id)
            ctx.notes.setdefault("peak_rss", {})["end"] = _peak_rss_mb()
            # the largest child this process waited for (the Data Docs worker): the kernel counts it
            # in the run's peak as its parent's waiter sees it
            ctx.notes["peak_rss"]["children"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
            _write_summary(ctx)
            _emit("done", summary=ctx.notes.get("summary"))
    return ctx


class IncompleteInbox(RuntimeError):
    """The inbox cannot give a run worth publishing (no readable roster; an empty or unmounted inbox).
    The run is recorded as failed with this message, in plain words, and publishes nothing."""


_KEEPS_PREVIOUS = "本次运行记为失败，不发布报表；仓库和报表仍为上一次完整运行的结果。"


def incomplete_inbox(ctx: RunContext) -> str | None:
    """Why this inbox must not be published (inputs.md: without a readable roster there is nothing
    to screen), or None. An empty inbox is most often a share that failed to mount: published, it
    would tell the province the county became error-free overnight."""
    from sources.spec import spec_for_table

    inbox = Path(ctx.inbox)
    if not any(not p.name.startswith(".") for p in inbox.iterdir()):
        return f"收件目录为空（共享目录可能未挂载）：{inbox.resolve()}。{_KEEPS_PREVIOUS}"
    con = ctx.cursor()
    if con.execute("SELECT count(*) FROM households WHERE run_id = ?", [ctx.run_id]).fetchone()[0]:
        return None
    roster = spec_for_table("households").folder
    tried = con.execute(
        "SELECT file || coalesce('[' || sheet || ']', '') || '：' || coalesce(reason, status) FROM input_files"
        " WHERE run_id = ? AND folder = ? AND status <> 'loaded' ORDER BY ALL LIMIT 3", [ctx.run_id, roster]
    ).fetchall()
    if not (inbox / roster).is_dir():
        why = f"未提供花名册（{roster}/ 目录不存在）"
    elif not tried and not con.execute("SELECT count(*) FROM input_files WHERE run_id = ? AND folder = ?",
                                       [ctx.run_id, roster]).fetchone()[0]:
        why = f"未提供花名册（{roster}/ 目录为空）"
    else:
        why = f"花名册无法读取（{roster}/ 中没有读到任何一户）" + (
            "：" + "；".join(t for (t,) in tried) if tried else "")
    return f"{why}，没有可筛查的对象。{_KEEPS_PREVIOUS}"


def stage_error(stage: str, exc: BaseException) -> str:
    """Why a run failed, as the summary and `fangpin runs` say it: the stage, then the error's kind."""
    from pipelines.messages import stage_title

    return f"运行在“{stage_title(stage)}”（{stage}）阶段出错：{type(exc).__name__}"


def _finish(ctx: RunContext, status: str) -> None:
    """Write the run's final row: status, timings, counts, what was skipped, the summary."""
    try:
        summary = build_summary(ctx, status)
    except Exception:
        if status == "completed":
            raise
        summary = {"run_id": ctx.run_id, "as_of": ctx.as_of.isoformat(), "status": status,
                   "error": ctx.notes.get("error"),
                   "finished_at": county_now(ctx.config).isoformat(timespec="seconds"),
                   "timezone": ctx.config.schedule.get("timezone") or "Asia/Shanghai",
                   "tables": {}, "skipped": list(ctx.skipped), "stage_seconds": dict(ctx.stage_seconds)}
    ctx.notes["summary"] = summary
    ctx.con.execute(
        "UPDATE runs SET status = ?, finished_at = ?, stage_seconds = ?, skipped = ?, row_counts = ?,"
        " summary = ? WHERE run_id = ?",
        [status, summary["finished_at"], json.dumps(ctx.stage_seconds),
         json.dumps(ctx.skipped, ensure_ascii=False), json.dumps(summary["tables"], ensure_ascii=False),
         json.dumps(summary, ensure_ascii=False), ctx.run_id],
    )


def build_summary(ctx: RunContext, status: str) -> dict:
    """The end-of-run summary: counts and reasons only, never a name or ID number."""

    con = ctx.cursor()
    finished = county_now(ctx.config)
    started = con.execute("SELECT started_at FROM runs WHERE run_id = ?", [ctx.run_id]).fetchone()[0]
    sources = {
        r[0]: {"files": r[1], "rows_read": r[2], "rows_loaded": r[3], "rows_rejected": r[4], "duplicates": r[5]}
        for r in con.execute(
            "SELECT source_table, count(DISTINCT file || coalesce('#' || sheet, '')),"
            " coalesce(sum(rows_read), 0)::BIGINT, coalesce(sum(rows_loaded), 0)::BIGINT,"
            " coalesce(sum(rows_rejected), 0)::BIGINT, coalesce(sum(duplicates), 0)::BIGINT"
            " FROM input_files WHERE status = 'loaded' AND source_table IS NOT NULL"
            " GROUP BY ALL ORDER BY 1"
        ).fetchall()
    }
    files_skipped = [
        {"file": r[0], "sheet": r[1], "status": r[2], "reason": r[3]}
        for r in con.execute(
            "SELECT file, sheet, status, reason FROM input_files WHERE status <> 'loaded' ORDER BY ALL"
        ).fetchall()
    ]
    tables = {}
    for table in store.warehouse_tables():
        tables[table] = {"rows": con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]}
        if table in sources:
            tables[table].update({k: v for k, v in sources[table].items() if k != "files"})
    warnings: dict[str, dict[str, int]] = {}
    for code, st, n in con.execute(
        "SELECT rule_code, coalesce(status, ''), count(*) FROM warnings GROUP BY ALL ORDER BY ALL"
    ).fetchall():
        warnings.setdefault(code, {})[st] = n
    logic = dict(con.execute(
        "SELECT rule_code, count(*) FROM logic_errors GROUP BY ALL ORDER BY ALL"
    ).fetchall())
    return redact({
        "run_id": ctx.run_id,
        "as_of": ctx.as_of.isoformat(),
        "status": status,
        "county": ctx.config.county,
        "started_at": started.isoformat(timespec="seconds"),
        "timezone": ctx.config.schedule.get("timezone") or "Asia/Shanghai",
        "finished_at": finished.isoformat(timespec="seconds"),
        "seconds": round((finished - started).total_seconds(), 3),
        "error": ctx.notes.get("error"),
        "out": str(Path(ctx.out).resolve()),
        "warehouse": str((Path(ctx.out) / "warehouse.duckdb").resolve()),
        "reports_dir": str(Path(ctx.published_reports_dir).resolve()),
        "sources": sources,
        "reused": ctx.notes.get("reused", {}),
        "results_from": ctx.notes.get("results_from"),
        "files_skipped": files_skipped,
        "skipped": list(ctx.skipped),
        "tables": tables,
        "warnings_by_rule": warnings,
        "logic_errors_by_rule": logic,
        "feedback": _feedback_summary(ctx),
        "stage_seconds": dict(ctx.stage_seconds),
        "stage_cpu_seconds": dict(ctx.notes.get("stage_cpu") or {}),
        "peak_rss_mb": dict(ctx.notes.get("peak_rss") or {}),
        "worker_peak_rss_mb": dict(ctx.notes.get("fanout_peak_rss_mb") or {}),  # per Dask job (issue 14)
        "recovered_runs": ctx.notes.get("recovered", []),
        "config_notices": list(ctx.config.notices),
        "files_truncated": [f for (f,) in con.execute(
            "SELECT DISTINCT file FROM input_files WHERE contains(reason, ?) ORDER BY 1", [ingest_stage.TRUNCATED]).fetchall()],
        "volume_drops": volume_drops(con, ctx.run_id) if status == "completed" else [],
    })


def _feedback_summary(ctx: RunContext) -> dict | None:
    """Returned verifications: rows recorded, refused and why (outputs.md: a refused row is reported)."""
    read = ctx.notes.get("feedback")
    if not read or not read.get("files"):
        return None
    return {**read, "applied": ctx.notes.get("apply_feedback") or {}}


_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15}|1\d{10})(?![0-9A-Za-z])")


def redact(value):
    """Mask ID-number- and phone-like digit runs in free text (reasons quote cells of unrecognised rows)."""
    if isinstance(value, str):
        return _ID_LIKE.sub("***", value)
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    return value


def _write_summary(ctx: RunContext) -> None:
    """summary.json beside the reports, for monitoring: written for failed runs too (a failed run
    writes only this file into OUT/reports/<as-of>/, never a workbook), with the timings (wall, CPU,
    peak RSS) including publishing, which the runs row cannot hold."""
    summary = ctx.notes.get("summary")
    if summary is None:
        return
    summary = {**summary, "stage_seconds": dict(ctx.stage_seconds),
               "stage_cpu_seconds": dict(ctx.notes.get("stage_cpu") or {}),
               "peak_rss_mb": dict(ctx.notes.get("peak_rss") or {})}
    ctx.notes["summary"] = summary
    path = Path(ctx.reports_dir) / "summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(path)


# ---------------------------------------------------------------- entry points

def run_untracked(
    inbox: str,
    config: str | None = None,
    as_of: str | None = None,
    out: str = "out",
    reread: bool = False,
    timezone: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
) -> str:
    """The nightly run without Prefect (what `fangpin run` does when no Prefect server is configured).

    The same stages, folders two at a time and the same retries of transient file errors as the
    Prefect flow (`nightly`); the run is recorded in the warehouse's `runs` table either way. Same
    parameters as `nightly`.
    """
    return run_entry(inbox, config, as_of, out, reread, timezone, workers, scheduler,
                     _ingest_plain, _stage_plain).run_id


def run_entry(inbox: str, config: str | None, as_of: str | None, out: str, reread: bool,
              timezone: str | None, workers: int | None, scheduler: str | None,
              ingest: Callable, stage: Callable) -> RunContext:
    """One run from an entry point's plain parameters: fanned out by county on Dask when workers /
    scheduler / [cluster] ask for it (pipelines/fanout.py), else folders and stages executed by
    `ingest` / `stage` (plain threads, or Prefect tasks in the Prefect flow)."""
    from pipelines import fanout

    with fanout.executor(config, workers, scheduler, ingest, stage) as fo:
        return run_once(Path(inbox), Path(config) if config else None, _as_of_date(as_of, timezone),
                        Path(out), reread=reread, ingest=fo.ingest if fo else ingest,
                        stage=fo.stage if fo else stage)


def _as_of_date(as_of: str | None, timezone: str | None) -> date | None:
    """as_of defaults to today in `timezone` (the schedule's, for a deployment), else (None) in the
    county's configured time zone (run_once)."""
    if as_of:
        return date.fromisoformat(as_of)
    return datetime.now(ZoneInfo(timezone)).date() if timezone else None


def __getattr__(name: str):
    """`nightly` (the Prefect flow) and its tasks live in pipelines.prefect_flow, imported on first
    use only: Prefect takes over a second to import, which a run without a server never pays."""
    if name in ("nightly", "ingest_task", "stage_task"):
        from pipelines import prefect_flow

        return getattr(prefect_flow, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def one_line(summary: dict) -> str:
    """The summary in one log line (counts only) for the Prefect UI and the serve process's log."""
    sources = summary.get("sources", {}).values()
    warnings = sum(sum(v.values()) for v in summary.get("warnings_by_rule", {}).values())
    from pipelines.messages import STATUS_TITLES

    return (f"fangpin 运行 {summary['run_id']}（基准日期 {summary['as_of']}）："
            f"{STATUS_TITLES.get(summary['status'], summary['status'])}；入库 "
            f"{sum(c['rows_loaded'] for c in sources):,} 行，拒收 "
            f"{sum(c['rows_rejected'] for c in sources):,} 行；预警 {warnings:,} 条，逻辑错误 "
            f"{sum(summary.get('logic_errors_by_rule', {}).values()):,} 条；未运行或需注意 "
            f"{len(summary.get('skipped', []))} 项；报表目录 {summary['reports_dir']}")
