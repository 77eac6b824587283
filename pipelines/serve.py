"""Run the nightly flow on a schedule: register a deployment with a real Prefect server and serve it.

`fangpin serve` is a long-running process (start it under systemd or similar). It
registers the deployment `fangpin-nightly/<name>` with a cron schedule in the
county's time zone and then executes the runs the server schedules — each in a
fresh subprocess, so a crashed run cannot take the server process down with it.
Schedules need a real `prefect server start` (the ephemeral server of `fangpin run`
has no scheduler that outlives the command), hence PREFECT_API_URL is required.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from core.config import load_config

DEFAULT_CRON = "0 2 * * *"
DEFAULT_TIMEZONE = "Asia/Shanghai"
FLOW_NAME = "fangpin-nightly"


class ServeError(RuntimeError):
    """A configuration mistake found before anything is registered."""


def api_url() -> str | None:
    from prefect.settings import PREFECT_API_URL

    return os.environ.get("PREFECT_API_URL") or PREFECT_API_URL.value() or None


def schedule_for(config_path: Path | None, cron: str | None, timezone: str | None) -> tuple[str, str]:
    """Cron and time zone: the command line wins, then the config's [schedule], then 02:00 Beijing time."""
    from prefect.schedules import Cron

    config = load_config(config_path)
    cron = cron or config.schedule.get("cron") or DEFAULT_CRON
    timezone = timezone or config.schedule.get("timezone") or DEFAULT_TIMEZONE
    try:
        ZoneInfo(timezone)
    except Exception as exc:
        raise ServeError(f"时区 {timezone!r} 不是已知的时区（如 Asia/Shanghai）") from exc
    try:
        Cron(cron, timezone=timezone)
    except Exception as exc:
        raise ServeError(f"cron 表达式 {cron!r} 有误（如 \"0 2 * * *\" 表示每天 02:00）：{exc}") from exc
    return cron, timezone


def deployment_parameters(inbox: Path, out: Path, config: Path | None, timezone: str,
                          reread: bool = False) -> dict:
    """Absolute paths (the runner starts each run in its own process and working directory);
    the schedule's time zone, so a run's as-of date is the date of the cron's day."""
    params = {"inbox": str(Path(inbox).resolve()), "out": str(Path(out).resolve()),
              "config": str(Path(config).resolve()) if config else None, "timezone": timezone}
    if reread:
        params["reread"] = True
    return params


def next_run(cron: str, timezone: str, now: datetime | None = None) -> datetime | None:
    """The schedule's next time, in its own time zone (cronsim, which Prefect's scheduler uses)."""
    try:
        from cronsim import CronSim
    except ImportError:  # pragma: no cover - Prefect brings it
        return None
    start = (now or datetime.now(ZoneInfo(timezone))).astimezone(ZoneInfo(timezone))
    try:
        return next(CronSim(cron, start))
    except Exception:
        return None


def serve(
    inbox: Path,
    out: Path,
    config: Path | None = None,
    cron: str | None = None,
    timezone: str | None = None,
    name: str = "nightly",
    reread: bool = False,
    announce: Callable[[list[str]], None] | None = None,
) -> None:
    """Register the deployment and serve it until interrupted (blocking).

    `announce` is handed the start-up lines (pipelines/messages.py: inbox, output, schedule, the
    next run in the schedule's time zone) once everything is checked, before serving starts."""
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType

    from pipelines.flow import nightly

    if not api_url():
        raise ServeError(
            "未设置 PREFECT_API_URL：请先启动 Prefect 服务（prefect server start），再执行 "
            "export PREFECT_API_URL=http://127.0.0.1:4200/api（见 docs/运维指南.md 和 README“Run it every night”）"
        )
    if not Path(inbox).is_dir():
        raise ServeError(f"收件目录 {inbox} 不存在或不是目录（--inbox）")
    if config and not Path(config).is_file():
        raise ServeError(f"配置文件 {config} 不存在（--config）")
    cron, timezone = schedule_for(config, cron, timezone)
    Path(out).mkdir(parents=True, exist_ok=True)
    if announce is not None:
        from pipelines.messages import serve_lines

        announce(serve_lines(Path(inbox).resolve(), Path(out).resolve(), Path(config).resolve() if config else None,
                             cron, timezone, name, api_url(), next_run(cron, timezone)))
    nightly.serve(
        name=name,
        schedule=Cron(cron, timezone=timezone),
        parameters=deployment_parameters(inbox, out, config, timezone, reread),
        description=f"防贫 nightly run: {cron} ({timezone}), inbox {Path(inbox).resolve()}",
        tags=["fangpin"],
        entrypoint_type=EntrypointType.MODULE_PATH,
        limit=1,  # one run at a time: a manual trigger during the nightly run waits for it
        print_starting_message=announce is None,
    )
