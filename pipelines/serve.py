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
        raise ServeError(f"unknown time zone {timezone!r}") from exc
    try:
        Cron(cron, timezone=timezone)
    except Exception as exc:
        raise ServeError(f"invalid cron expression {cron!r}: {exc}") from exc
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


def serve(
    inbox: Path,
    out: Path,
    config: Path | None = None,
    cron: str | None = None,
    timezone: str | None = None,
    name: str = "nightly",
    reread: bool = False,
) -> None:
    """Register the deployment and serve it until interrupted (blocking)."""
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType

    from pipelines.flow import nightly

    if not api_url():
        raise ServeError(
            "PREFECT_API_URL is not set: start a server (`prefect server start`) and "
            "`export PREFECT_API_URL=http://127.0.0.1:4200/api` first (see README, Run it every night)"
        )
    if not Path(inbox).is_dir():
        raise ServeError(f"inbox {inbox} is not a directory")
    if config and not Path(config).is_file():
        raise ServeError(f"config {config} does not exist")
    cron, timezone = schedule_for(config, cron, timezone)
    Path(out).mkdir(parents=True, exist_ok=True)
    nightly.serve(
        name=name,
        schedule=Cron(cron, timezone=timezone),
        parameters=deployment_parameters(inbox, out, config, timezone, reread),
        description=f"防贫 nightly run: {cron} ({timezone}), inbox {Path(inbox).resolve()}",
        tags=["fangpin"],
        entrypoint_type=EntrypointType.MODULE_PATH,
        limit=1,  # one run at a time: a manual trigger during the nightly run waits for it
    )
