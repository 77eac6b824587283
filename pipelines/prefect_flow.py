"""The nightly run as a Prefect flow: one task per inbox folder (two at a time), one per stage.

What `fangpin run` runs when a Prefect server is configured and answers, and what the deployment of
`fangpin serve` schedules. The stages are pipelines.flow's; only the Prefect wiring lives here, so a
run without a server (pipelines.flow.run_untracked) never imports Prefect.
"""

from __future__ import annotations

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from core.context import RunContext
from pipelines.flow import (
    DEPARTMENT_FOLDERS,
    INGEST_RETRIES,
    ingest_one,
    is_transient,
    one_line,
    run_entry,
    run_stage,
)


def _retry_transient(task_, task_run, state) -> bool:
    try:
        exc = state.result(raise_on_failure=False)
    except Exception:
        return False
    return isinstance(exc, BaseException) and is_transient(exc)


@task(cache_policy=NO_CACHE, retries=INGEST_RETRIES, retry_delay_seconds=2,
      retry_condition_fn=_retry_transient)
def ingest_task(ctx: RunContext, folder: str, reuse_from: str | None) -> str:
    return ingest_one(ctx, folder, reuse_from)


@task(cache_policy=NO_CACHE)
def stage_task(ctx: RunContext, stage: str):
    return run_stage(ctx, stage)


def _ingest_prefect(ctx: RunContext, plan: dict[str, str]) -> None:
    futures = [
        ingest_task.with_options(name=f"ingest-{folder}").submit(ctx, folder, plan.get(folder))
        for folder in DEPARTMENT_FOLDERS
    ]
    errors = []
    for f in futures:
        try:
            f.result()
        except Exception as exc:
            errors.append(exc)
    if errors:
        raise errors[0]


def _stage_prefect(ctx: RunContext, stage: str):
    return stage_task.with_options(name=stage)(ctx, stage)


@flow(name="fangpin-nightly", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=2))
def nightly(
    inbox: str,
    config: str | None = None,
    as_of: str | None = None,
    out: str = "out",
    reread: bool = False,
    timezone: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
) -> str:
    """The nightly run as a Prefect flow (what `fangpin run` and the scheduled deployment call).

    as_of defaults to today in `timezone` (the schedule's, for a deployment), else in
    the county's configured time zone.
    """
    ctx = run_entry(inbox, config, as_of, out, reread, timezone, workers, scheduler, _ingest_prefect, _stage_prefect)
    print(one_line(ctx.notes["summary"]))
    if ctx.notes.get("status") == "failed":  # recorded as failed, said why: the flow run fails too
        from prefect.states import Failed

        return Failed(message=ctx.notes.get("error") or "failed")
    return ctx.run_id


