"""The nightly flow: ingest → source checks → feedback → screening → logic → apply feedback → reports → publish.

Only wiring lives here; each stage is a plain function of the package that owns it
(sources/, checks/, reports/), testable without Prefect. The Prefect tasks wrap them.
"""

from __future__ import annotations

import json
import secrets
import time
from datetime import date, datetime
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pipelines import store
from pipelines.config import load_config
from pipelines.context import RunContext

DEPARTMENT_FOLDERS = [
    "roster", "civil_affairs", "health_insurance", "education", "housing", "disability",
]


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now()
    return now.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def _timed(ctx: RunContext, stage: str, fn, *args):
    t0 = time.perf_counter()
    try:
        return fn(*args)
    finally:
        ctx.stage_seconds[stage] = round(ctx.stage_seconds.get(stage, 0) + time.perf_counter() - t0, 3)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)
def ingest_task(ctx: RunContext, folder: str):
    from sources.ingest import ingest_folder

    return ingest_folder(ctx, folder)


@task(cache_policy=NO_CACHE)
def stage_task(ctx: RunContext, stage: str):
    return _timed(ctx, stage, STAGES[stage], ctx)


def _source_checks(ctx):
    from checks.source_checks import run_source_checks

    return run_source_checks(ctx)


def _feedback(ctx):
    from checks.feedback import read_feedback

    return read_feedback(ctx)


def _screening(ctx):
    from checks.screening import run_screening

    return run_screening(ctx)


def _logic(ctx):
    from checks.logic import run_logic

    return run_logic(ctx)


def _apply_feedback(ctx):
    from checks.feedback import apply_feedback

    return apply_feedback(ctx)


def _reports(ctx):
    from reports.scorecard import write_scorecard
    from reports.workbooks import write_township_workbooks

    return {"workbooks": write_township_workbooks(ctx), "scorecard": write_scorecard(ctx)}


STAGES = {
    "source_checks": _source_checks,
    "feedback": _feedback,
    "screening": _screening,
    "logic": _logic,
    "apply_feedback": _apply_feedback,
    "reports": _reports,
}


def run_once(inbox: Path, config_path: Path | None, as_of: date, out: Path) -> RunContext:
    """One complete run, published at the end. Plain function: the Prefect flow wraps it."""
    config = load_config(config_path)
    run_id = new_run_id()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    con = store.open_work(out, run_id)
    ctx = RunContext(run_id=run_id, as_of=as_of, inbox=Path(inbox), out=out, config=config, con=con)
    con.execute(
        "INSERT INTO runs (run_id, as_of_date, started_at, status, inbox, config_digest, county)"
        " VALUES (?, ?, ?, 'running', ?, ?, ?)",
        [run_id, as_of, datetime.now(), str(Path(inbox).resolve()), config.digest, config.county],
    )
    try:
        t0 = time.perf_counter()
        futures = [ingest_task.submit(ctx, folder) for folder in DEPARTMENT_FOLDERS]
        for f in futures:
            f.result()
        ctx.stage_seconds["ingest"] = round(time.perf_counter() - t0, 3)
        for stage in STAGES:
            stage_task(ctx, stage)
        _finish(ctx, "completed")
        store.publish(con, out, run_id, complete=True)
    except BaseException:
        _finish(ctx, "failed")
        store.publish(con, out, run_id, complete=False)
        raise
    finally:
        con.close()
        store.discard_work(out, run_id)
    return ctx


def _finish(ctx: RunContext, status: str) -> None:
    ctx.con.execute(
        "UPDATE runs SET status = ?, finished_at = ?, stage_seconds = ?, skipped = ? WHERE run_id = ?",
        [status, datetime.now(), json.dumps(ctx.stage_seconds),
         json.dumps(ctx.skipped, ensure_ascii=False), ctx.run_id],
    )


@flow(name="fangpin-nightly", log_prints=True)
def nightly(inbox: str, config: str | None = None, as_of: str | None = None, out: str = "out") -> str:
    """The nightly run as a Prefect flow (what `fangpin run` and the scheduled deployment call)."""
    d = date.fromisoformat(as_of) if as_of else date.today()
    ctx = run_once(Path(inbox), Path(config) if config else None, d, Path(out))
    return ctx.run_id
