"""The `fangpin` command (outputs.md "Command line"). Flags are a contract; see README."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console(highlight=False, soft_wrap=True)
if not console.is_terminal:
    console = Console(highlight=False, soft_wrap=True, width=160)
app = typer.Typer(add_completion=False, no_args_is_help=True, help="防贫 nightly screening pipeline")


EXIT_FAILED = 1      # the run was recorded, as failed — only with --fail-exit (outputs.md: 0 unless nothing was recorded)
EXIT_NOT_RECORDED = 2  # no run could be recorded (bad arguments, OUT busy, broken install)


def _prefect_in_process() -> None:
    """Let Prefect run the flow without a separately started server.

    Without a Prefect API URL (environment or profile), start a temporary server for this
    run (a few seconds), one that dies with this process (pipelines.tempserver). An API URL
    that does not answer (the nightly server is down) is bypassed rather than failing the run.
    """
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    import httpx
    from prefect.context import refresh_global_settings_context
    from prefect.settings import PREFECT_API_URL

    from pipelines import tempserver

    url = PREFECT_API_URL.value()
    if url:
        try:
            httpx.get(url.rstrip("/") + "/health", timeout=5).raise_for_status()
            return
        except Exception:
            console.print(f"[yellow]Prefect 服务 {url}（PREFECT_API_URL）没有响应，本次改用临时服务运行[/]")
    console.print("正在为本次运行启动临时 Prefect 服务（需要几秒钟）……")
    try:
        os.environ["PREFECT_API_URL"] = tempserver.start()
    except RuntimeError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(EXIT_NOT_RECORDED) from None
    refresh_global_settings_context()  # settings were read at import, before this URL existed


def _progress(event: str, d: dict) -> None:
    from pipelines.messages import progress

    progress(console, event, d)


def print_summary(summary: dict) -> None:
    """The end-of-run summary of outputs.md, in Chinese (pipelines/messages.py)."""
    from pipelines.messages import print_summary as show

    show(console, summary)


def _check_config(config: Path | None) -> None:
    """A wrong value stops here, named, before any run starts; an unknown key is shown and ignored."""
    from pipelines.config import ConfigError, load_config

    try:
        cfg = load_config(config)
    except ConfigError as exc:
        console.print(str(exc), style="red", markup=False)
        raise typer.Exit(EXIT_NOT_RECORDED) from None
    for notice in cfg.notices:
        console.print(f"配置文件 {config}：{notice}", style="yellow", markup=False)


@app.command()
def run(
    inbox: Annotated[Path, typer.Option(help="Inbox directory (roster/, civil_affairs/, …)")],
    config: Annotated[Path | None, typer.Option(help="County configuration TOML")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Reference date YYYY-MM-DD (default: today in the county's time zone)")] = None,
    out: Annotated[Path, typer.Option(help="Output directory")] = Path("out"),
    reread: Annotated[bool, typer.Option("--reread", help="Read every folder even if its files are unchanged since the last run")] = False,
    fail_exit: Annotated[bool, typer.Option("--fail-exit", help="Exit 1 when the run failed but was recorded (default 0: the runs table and summary say it failed)")] = False,
) -> None:
    """Run the whole nightly flow once, in-process.

    Exit status (outputs.md): non-zero only when no run could be recorded (2: bad arguments
    or configuration, inbox missing, another run holding OUT). A run that was recorded exits
    0 — completed, rejected files included, or failed (recorded as failed, the warehouse
    keeps the previous run, the summary says why); with --fail-exit a recorded failure exits 1.
    """
    from datetime import date

    if as_of:
        try:
            date.fromisoformat(as_of)
        except ValueError:
            console.print(f"[red]--as-of {as_of!r} 不是日期，应写成 YYYY-MM-DD（如 2026-11-24）[/]")
            raise typer.Exit(EXIT_NOT_RECORDED) from None
    if not inbox.is_dir():
        console.print(f"[red]收件目录 {inbox} 不存在或不是目录（--inbox）[/]")
        raise typer.Exit(EXIT_NOT_RECORDED)
    if config and not config.is_file():
        console.print(f"[red]配置文件 {config} 不存在（--config）[/]")
        raise typer.Exit(EXIT_NOT_RECORDED)
    _check_config(config)
    from pipelines.store import RunInProgress, lock_is_held

    if lock_is_held(out):  # before starting a Prefect server for nothing
        console.print(str(RunInProgress.on(out)), style="red", markup=False)
        raise typer.Exit(EXIT_NOT_RECORDED)
    _prefect_in_process()
    from pipelines import flow as fl

    fl.set_progress(_progress)
    fl.last_context = None
    try:
        fl.nightly(inbox=str(inbox), config=str(config) if config else None, as_of=as_of,
                   out=str(out), reread=reread)
    except RunInProgress as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(EXIT_NOT_RECORDED) from None
    except Exception:
        ctx = fl.last_context
        if ctx is None or "summary" not in ctx.notes:
            console.print_exception()
            raise typer.Exit(EXIT_NOT_RECORDED) from None
        print_summary(ctx.notes["summary"])
        if fail_exit:
            raise typer.Exit(EXIT_FAILED) from None
        return
    finally:
        fl.set_progress(None)
    print_summary(fl.last_context.notes["summary"])


@app.command()
def runs(
    out: Annotated[Path, typer.Option(help="Output directory")] = Path("out"),
    limit: Annotated[int, typer.Option(help="How many recent runs")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per run")] = False,
) -> None:
    """List recent runs: status, as-of, timings, rows, findings.

    Reads store/ rather than warehouse.duckdb, so an analyst holding the catalogue open
    never gets in the way.
    """
    import json

    from pipelines.store import recent_runs

    rows = recent_runs(out, limit)
    if as_json:
        for r in rows:
            typer.echo(json.dumps(r, ensure_ascii=False, default=str))
        return
    if not rows:
        console.print(f"{out} 下还没有运行记录。")
        return
    from pipelines.messages import print_runs

    print_runs(console, rows)


@app.command()
def catalog(
    out: Annotated[Path, typer.Option(help="Output directory")] = Path("out"),
) -> None:
    """Rebuild OUT/warehouse.duckdb from OUT/store/ (after moving or copying OUT elsewhere)."""
    from pipelines import store

    if not (out / "store").is_dir():
        console.print(f"[red]{out} 下没有 store/ 目录（不是 fangpin 的输出目录）[/]")
        raise typer.Exit(EXIT_NOT_RECORDED)
    try:
        with store.run_lock(out):
            path = store.build_catalogue(out)
    except store.RunInProgress as exc:
        console.print(f"[red]{exc}；该运行发布时会自行重建目录文件[/]")
        raise typer.Exit(EXIT_NOT_RECORDED) from None
    console.print(f"数据仓库目录文件已重建：{path}")


@app.command()
def serve(
    inbox: Annotated[Path, typer.Option(help="Inbox directory the scheduled runs read")],
    out: Annotated[Path, typer.Option(help="Output directory")] = Path("out"),
    config: Annotated[Path | None, typer.Option(help="County configuration TOML")] = None,
    cron: Annotated[str | None, typer.Option(help="Cron schedule (default: the config's schedule.cron, else '0 2 * * *')")] = None,
    timezone: Annotated[str | None, typer.Option(help="Time zone of the cron (default: the config's schedule.timezone, else Asia/Shanghai)")] = None,
    name: Annotated[str, typer.Option(help="Deployment name (fangpin-nightly/<name>)")] = "nightly",
    reread: Annotated[bool, typer.Option("--reread", help="Scheduled runs read every folder, changed or not")] = False,
) -> None:
    """Register the nightly deployment with the Prefect server at PREFECT_API_URL and run it on schedule (blocks)."""
    from pipelines.serve import ServeError
    from pipelines.serve import serve as do_serve

    if config and not config.is_file():
        console.print(f"[red]配置文件 {config} 不存在（--config）[/]")
        raise typer.Exit(EXIT_NOT_RECORDED)
    _check_config(config)
    try:
        do_serve(inbox=inbox, out=out, config=config, cron=cron, timezone=timezone, name=name, reread=reread,
                 announce=lambda lines: [console.print(line, markup=False) for line in lines])
    except ServeError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(EXIT_NOT_RECORDED) from None


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Where to write the inbox")],
    households: Annotated[int, typer.Option(help="Roster households in all")] = 2000,
    counties: Annotated[int, typer.Option(help="Number of counties")] = 1,
    seed: Annotated[int, typer.Option(help="Random seed")] = 7,
    as_of: Annotated[str, typer.Option("--as-of", help="Reference date the data is made for")] = "2026-11-24",
    workers: Annotated[int | None, typer.Option(help="Parallel county writers (default: CPUs, at most 4)")] = None,
) -> None:
    """Write a fictional county (or province) inbox with every quirk of inputs.md and planted cases.

    OUT/inbox/ is the inbox, OUT/fangpin.toml its configuration, OUT/manifest.json what was planted.
    """
    import time

    from pipelines.sample import generate as gen

    t0 = time.perf_counter()
    m = gen(out=out, households=households, counties=counties, seed=seed, as_of=as_of, workers=workers)
    rows = sum(m["tables"].values()) - sum(m["tables"].get(t, 0) for t in ("households", "members", "measures"))
    typer.echo(
        f"wrote {out}/inbox: {m['tables']['households']:,} households, {m['tables']['members']:,} members, "
        f"{rows:,} department rows in {len(m['counties'])} counties ({time.perf_counter() - t0:.1f} s); "
        f"config {out}/fangpin.toml, manifest {out}/manifest.json"
    )


if __name__ == "__main__":
    app()
