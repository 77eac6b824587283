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
    candidates = [Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml"),
                  Path("prefect.toml"), Path(".env"), Path("pyproject.toml")]
    mentions = False
    for path in candidates:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if "PREFECT_API_URL" in text or (path.name in ("prefect.toml", "pyproject.toml")
                                        and ("[api]" in text or "[tool.prefect.api]" in text)):
            mentions = True
    if not mentions:
        return None
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None


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
        console.print(f"[yellow]PREFECT_API_URL {url} does not answer; running without Prefect tracking"
                      " (the run is still recorded in the warehouse)[/]")
        return None
    os.environ["PREFECT_API_URL"] = url
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    return url


def _progress(event: str, d: dict) -> None:
    if event == "start":
        console.print(f"[bold]fangpin run[/] {d['run_id']}  as of {d['as_of']}  →  {d['out']}")
    elif event == "folder":
        console.print(f"  [green]✓[/] ingest {d['folder']:<17} {d['how']}  ({d['seconds']:.1f} s)")
    elif event == "retry":
        console.print(f"  [yellow]↻[/] ingest {d['folder']}: {len(d['files'])} file(s) could not be read"
                      " (file system error); reading the folder again")
    elif event == "stage_done":
        console.print(f"  [green]✓[/] {d['stage']:<24} ({d['seconds']:.1f} s)")
    elif event == "error":
        console.print(f"  [red]✗ {d['error']}[/]")
        Console(stderr=True, highlight=False).print(d["trace"], markup=False)


def print_summary(summary: dict) -> None:
    """The end-of-run summary of outputs.md: per source, per rule, what was skipped, where the reports are."""
    from rich.table import Table

    status = summary.get("status")
    colour = "green" if status == "completed" else "red"
    console.print(f"\n[bold {colour}]{status}[/] run {summary.get('run_id')} as of {summary.get('as_of')}"
                  f" in {summary.get('seconds', 0):.1f} s")
    if summary.get("error"):
        console.print(f"[red]{summary['error']}[/] (details above; the warehouse still shows the previous complete run)")
    sources = summary.get("sources") or {}
    if sources:
        t = Table(title="Rows per source", title_justify="left")
        for col in ("table", "files/sheets", "read", "loaded", "rejected", "duplicates"):
            t.add_column(col, justify="left" if col == "table" else "right")
        for table, c in sources.items():
            t.add_row(table, str(c["files"]), f"{c['rows_read']:,}", f"{c['rows_loaded']:,}",
                      f"{c['rows_rejected']:,}", f"{c['duplicates']:,}")
        console.print(t)
    for folder, run_id in (summary.get("reused") or {}).items():
        console.print(f"  {folder}: files unchanged since run {run_id}, not re-read (--reread to force)")
    if summary.get("files_skipped"):
        console.print("[bold]Files and sheets not loaded[/]")
        for f in summary["files_skipped"]:
            where = f["file"] + (f" [{f['sheet']}]" if f.get("sheet") else "")
            console.print(f"  {where}: {f['status']} — {f.get('reason') or ''}", markup=False)
    warnings = summary.get("warnings_by_rule") or {}
    logic = summary.get("logic_errors_by_rule") or {}
    if warnings or logic:
        t = Table(title="Findings per rule", title_justify="left")
        for col in ("rule", "新增", "持续", "已解除", "total"):
            t.add_column(col, justify="left" if col == "rule" else "right")
        for code, by_status in warnings.items():
            t.add_row(code, *(str(by_status.get(s, 0)) for s in ("新增", "持续", "已解除")),
                      str(sum(by_status.values())))
        for code, n in logic.items():
            t.add_row(code, "", "", "", str(n))
        console.print(t)
    elif status == "completed":
        console.print("No warnings and no logic errors.")
    fb = summary.get("feedback")
    if fb:
        console.print(f"[bold]Returned verifications[/] (inbox/feedback/, {fb['files']} file(s)): {fb['rows']} filled"
                      f" row(s), {fb['recorded']} recorded, {fb['duplicates']} already recorded,"
                      f" {fb['rejected']} refused (not recorded; see rejects, source_table = 'verifications')")
        for reason, n in (fb.get("reasons") or {}).items():
            console.print(f"  refused: {reason} — {n}", markup=False)
        applied = fb.get("applied") or {}
        if applied:
            console.print(f"  warnings verified {applied.get('warnings_verified', 0)}, suppressed"
                          f" {applied.get('suppressed', 0)}, 核实属实未纳入 {applied.get('核实属实未纳入', 0)};"
                          f" logic errors verified {applied.get('logic_errors_verified', 0)},"
                          f" 整改未生效 {applied.get('整改未生效', 0)}")
    others = [s for s in summary.get("skipped") or [] if s["kind"] not in ("file", "sheet")]
    if others:
        console.print("[bold]Skipped[/]")
        for s in others:
            console.print(f"  {s['kind']} {s['name']}: {s['reason']}", markup=False)
    for run_id in summary.get("recovered_runs") or []:
        console.print(f"[yellow]run {run_id} had died before finishing; recorded as failed[/]")
    console.print(f"Reports:   {summary.get('reports_dir')}")
    console.print(f"Warehouse: {summary.get('warehouse')}")


def _check_config(config: Path | None) -> None:
    """A wrong value stops here, named, before any run starts; an unknown key is shown and ignored."""
    from pipelines.config import ConfigError, load_config

    try:
        cfg = load_config(config)
    except ConfigError as exc:
        console.print(str(exc), style="red", markup=False)
        raise typer.Exit(EXIT_NOT_RECORDED) from None
    for notice in cfg.notices:
        console.print(f"configuration {config}: {notice}", style="yellow", markup=False)


@app.command()
def run(
    inbox: Annotated[Path, typer.Option(help="Inbox directory (roster/, civil_affairs/, …)")],
    config: Annotated[Path | None, typer.Option(help="County configuration TOML")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Reference date YYYY-MM-DD (default: today in the county's time zone)")] = None,
    out: Annotated[Path, typer.Option(help="Output directory")] = Path("out"),
    reread: Annotated[bool, typer.Option("--reread", help="Read every folder even if its files are unchanged since the last run")] = False,
    fail_exit: Annotated[bool, typer.Option("--fail-exit", help="Exit 1 when the run failed but was recorded (default 0: the runs table and summary say it failed)")] = False,
) -> None:
    """Run the whole nightly flow once, in-process; recorded by Prefect when a server is configured.

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
            console.print(f"[red]--as-of {as_of!r} is not a date YYYY-MM-DD[/]")
            raise typer.Exit(EXIT_NOT_RECORDED) from None
    if not inbox.is_dir():
        console.print(f"[red]inbox {inbox} is not a directory[/]")
        raise typer.Exit(EXIT_NOT_RECORDED)
    if config and not config.is_file():
        console.print(f"[red]config {config} does not exist[/]")
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
        fl.stop_docs_worker()
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
        console.print(f"No runs recorded under {out}.")
        return
    from rich.table import Table

    t = Table()
    for col in ("run_id", "as of", "status", "started", "seconds", "rows", "rejected", "warnings",
                "logic errors", "skipped"):
        t.add_column(col, justify="right" if col in ("seconds", "rows", "rejected", "warnings",
                                                      "logic errors", "skipped") else "left")
    for r in rows:
        colour = {"completed": "green", "failed": "red"}.get(r["status"], "yellow")
        t.add_row(r["run_id"], str(r["as_of"]), f"[{colour}]{r['status']}[/]", str(r["started_at"])[:19],
                  _n(r["seconds"], "{:.1f}"), _n(r["rows_loaded"]), _n(r["rows_rejected"]),
                  _n(r["warnings"]), _n(r["logic_errors"]), _n(r["skipped"]))
    console.print(t)
    for r in rows:
        if r["status"] == "failed" and r.get("error"):
            console.print(f"{r['run_id']}: {r['error']}", style="red", markup=False)


def _n(value, fmt: str = "{:,}") -> str:
    return "" if value is None else fmt.format(value)


@app.command()
def catalog(
    out: Annotated[Path, typer.Option(help="Output directory")] = Path("out"),
) -> None:
    """Rebuild OUT/warehouse.duckdb from OUT/store/ (after moving or copying OUT elsewhere)."""
    from pipelines import store

    if not (out / "store").is_dir():
        console.print(f"[red]{out} has no store/ folder[/]")
        raise typer.Exit(EXIT_NOT_RECORDED)
    try:
        with store.run_lock(out):
            path = store.build_catalogue(out)
    except store.RunInProgress as exc:
        console.print(f"[red]{exc}; it rebuilds the catalogue itself when it publishes[/]")
        raise typer.Exit(EXIT_NOT_RECORDED) from None
    console.print(f"Catalogue rebuilt: {path}")


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
        console.print(f"[red]config {config} does not exist[/]")
        raise typer.Exit(EXIT_NOT_RECORDED)
    _check_config(config)
    try:
        do_serve(inbox=inbox, out=out, config=config, cron=cron, timezone=timezone, name=name, reread=reread)
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
