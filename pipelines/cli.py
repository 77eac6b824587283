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
app = typer.Typer(add_completion=False, no_args_is_help=True, help="防贫：防返贫动态监测每晚数据比对（部门筛查预警、逻辑错误、数据质量评分）")


EXIT_FAILED = 1      # the run was recorded, as failed — only with --fail-exit (outputs.md: 0 unless nothing was recorded)
EXIT_NOT_RECORDED = 2  # no run could be recorded (bad arguments, OUT busy, broken install)


def configured_prefect_url() -> str | None:
    """The Prefect API URL this run would report to, or None when no server is configured.

    PREFECT_API_URL in the environment decides (set but empty: none). Without it, Prefect's own
    settings files may name one (a profile, prefect.toml, .env, pyproject's [tool.prefect]); only
    when one of them mentions an API URL is Prefect imported to resolve it, so a county machine
    with no Prefect set up never pays for the import.
    """
    if "PREFECT_API_URL" in os.environ:
        return os.environ["PREFECT_API_URL"].strip() or None
    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    profiles = _toml_table(Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml"), "profiles")
    mentions = (any(isinstance(p, dict) and "PREFECT_API_URL" in p for p in profiles.values())
                or "url" in _toml_table(Path("prefect.toml"), "api")
                or "url" in _toml_table(Path("pyproject.toml"), "tool", "prefect", "api")
                or _env_names_url(Path(".env")))
    if not mentions:
        return None
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None


def _toml_table(path: Path, *keys: str) -> dict:
    """The table at `keys` of a Prefect settings file ({} when absent or unreadable). Parsed, not
    searched as text: a comment naming PREFECT_API_URL (this project's own pyproject.toml has one)
    must not cost every run Prefect's import."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def _env_names_url(path: Path) -> bool:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return False
    return any(line.strip().removeprefix("export ").lstrip().startswith("PREFECT_API_URL") for line in lines)


def _answers(url: str, timeout: float = 3.0) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url.rstrip("/") + "/health", timeout=timeout) as resp:
            return resp.status == 200
    except Exception:
        return False


def _prefect_server() -> str | None:
    """The API URL to record this run at as a Prefect flow run, or None to run it untracked.

    No server configured: the run goes ahead in-process without Prefect (it is recorded in the
    warehouse's runs table as always). A configured server that does not answer (the nightly
    server is down) is said so and bypassed rather than failing the run.
    """
    url = configured_prefect_url()
    if not url:
        return None
    if not _answers(url):
        console.print(f"[yellow]Prefect 服务 {url}（PREFECT_API_URL）没有响应，本次不经 Prefect 记录运行"
                      "（运行仍记入数据仓库的运行记录）[/]")
        return None
    os.environ["PREFECT_API_URL"] = url
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    return url


def _progress(event: str, d: dict) -> None:
    from pipelines.messages import progress

    progress(console, event, d)


def print_summary(summary: dict) -> None:
    """The end-of-run summary of outputs.md, in Chinese (pipelines/messages.py)."""
    from pipelines.messages import print_summary as show

    show(console, summary)


def _check_config(config: Path | None) -> None:
    """A wrong value stops here, named, before any run starts; an unknown key is shown and ignored."""
    from core.config import ConfigError, load_config

    try:
        cfg = load_config(config)
    except ConfigError as exc:
        console.print(str(exc), style="red", markup=False)
        raise typer.Exit(EXIT_NOT_RECORDED) from None
    for notice in cfg.notices:
        console.print(f"配置文件 {config}：{notice}", style="yellow", markup=False)


@app.command()
def run(
    inbox: Annotated[Path, typer.Option(help="收件目录（内有 roster/、civil_affairs/ 等部门目录）")],
    config: Annotated[Path | None, typer.Option(help="本县配置文件（TOML）")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="基准日期 YYYY-MM-DD（默认：本县时区的今天）")] = None,
    out: Annotated[Path, typer.Option(help="输出目录")] = Path("out"),
    reread: Annotated[bool, typer.Option("--reread", help="即使文件与上次相同也重新读取所有目录")] = False,
    fail_exit: Annotated[bool, typer.Option("--fail-exit", help="运行失败（已记录）时退出码为 1（默认 0：运行记录和小结里写明失败）")] = False,
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="按县分发到本机 N 个进程的 Dask 集群（默认：配置文件 [cluster]，否则单进程）")] = None,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="按县分发到已有的 Dask 集群，如 tcp://10.0.0.5:8786")] = None,
) -> None:
    """运行一次完整的每晚比对，结束时显示运行小结。
    \f
    Run the whole nightly flow once, in-process; recorded by Prefect when a server is configured.

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

    if lock_is_held(out):  # before importing anything for nothing
        console.print(str(RunInProgress.on(out)), style="red", markup=False)
        raise typer.Exit(EXIT_NOT_RECORDED)
    from pipelines import flow as fl

    fl.start_docs_worker()  # Great Expectations loads on the other core meanwhile (checks/ge_docs.py)
    entry = fl.nightly if _prefect_server() else fl.run_untracked
    fl.set_progress(_progress)
    fl.last_context = None
    try:
        entry(inbox=str(inbox), config=str(config) if config else None, as_of=as_of,
              out=str(out), reread=reread, workers=workers, scheduler=scheduler)
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
        fl.stop_docs_worker()
    print_summary(fl.last_context.notes["summary"])
    if fail_exit and fl.last_context.notes.get("status") == "failed":
        raise typer.Exit(EXIT_FAILED)


@app.command()
def runs(
    out: Annotated[Path, typer.Option(help="输出目录")] = Path("out"),
    limit: Annotated[int, typer.Option(help="显示最近几次运行")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="每次运行输出一行 JSON（供监控程序读取）")] = False,
) -> None:
    """列出最近的运行：状态、基准日期、开始时间、入库行数、预警和逻辑错误数。
    \f
    List recent runs: status, as-of, timings, rows, findings.

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
    out: Annotated[Path, typer.Option(help="输出目录")] = Path("out"),
) -> None:
    """输出目录搬动或复制后，重建数据仓库目录文件 warehouse.duckdb。
    \f
    Rebuild OUT/warehouse.duckdb from OUT/store/ (after moving or copying OUT elsewhere)."""
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
    inbox: Annotated[Path, typer.Option(help="定时运行读取的收件目录")],
    out: Annotated[Path, typer.Option(help="输出目录")] = Path("out"),
    config: Annotated[Path | None, typer.Option(help="本县配置文件（TOML）")] = None,
    cron: Annotated[str | None, typer.Option(help="运行计划（cron 表达式；默认取配置 [schedule] cron，否则 \"0 2 * * *\" 即每天 02:00）")] = None,
    timezone: Annotated[str | None, typer.Option(help="运行计划的时区（默认取配置 [schedule] timezone，否则 Asia/Shanghai）")] = None,
    name: Annotated[str, typer.Option(help="部署名称（fangpin-nightly/<名称>）")] = "nightly",
    reread: Annotated[bool, typer.Option("--reread", help="定时运行每次都重新读取所有目录")] = False,
) -> None:
    """向 Prefect 服务（PREFECT_API_URL）登记每晚运行，并按计划执行（一直运行，Ctrl+C 停止）。
    \f
    Register the nightly deployment with the Prefect server at PREFECT_API_URL and run it on schedule (blocks)."""
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

    from samplegen.generate import generate as gen

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
