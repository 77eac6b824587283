"""Scheduling end to end, no mocks: a real `prefect server start` on loopback (SQLite in tmp),
`fangpin serve` registering the cron deployment, a run triggered through the REST API,
completed, and recorded in the warehouse. The test starts and stops both processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
from flow_inbox import make_inbox

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _poll(fn, timeout: float, what: str, procs=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p, log in procs:
            if p.poll() is not None:
                raise AssertionError(f"{what}: process exited {p.returncode}\n{Path(log).read_text()[-3000:]}")
        try:
            value = fn()
        except httpx.HTTPError:
            value = None
        if value:
            return value
        time.sleep(0.5)
    logs = "\n".join(Path(log).read_text()[-3000:] for _, log in procs)
    raise AssertionError(f"timed out waiting for {what}\n{logs}")


def _api(method: str, url: str, **kw) -> httpx.Response:
    """Retry 503 the way Prefect's own client does: the server answers 503 for SQLITE_BUSY
    (its scheduler writes the deployment's upcoming runs at the same moment)."""
    for attempt in range(10):
        r = httpx.request(method, url, timeout=10, **kw)
        if r.status_code != 503:
            return r
        time.sleep(min(2 ** attempt * 0.25, 5))
    return r


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _cron_half_a_day_away() -> str:
    """A daily cron that cannot fire while the test runs (a fixed 0 2 * * * would, for a test that
    happens to run at 18:00 UTC, and add a scheduled run beside the triggered one)."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    t = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(hours=12)
    return f"{t.minute} {t.hour} * * *"


def test_serve_registers_the_cron_deployment_and_runs_it_through_a_real_server(tmp_path):
    cron = _cron_half_a_day_away()
    inbox = make_inbox(tmp_path, households=20, settlements=50)
    out = tmp_path / "out"
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    server_log, serve_log = tmp_path / "server.log", tmp_path / "serve.log"
    procs = []
    try:
        # `make server` on a port that is not 4200: the server, its state under PREFECT_HOME, and
        # a UI that talks to this port's API (not to 4200's).
        server = subprocess.Popen(
            ["make", "-s", "-C", str(ROOT), "server", f"PREFECT_PORT={port}",
             f"PREFECT_HOME={tmp_path / 'prefect-home'}"],
            env=env, cwd=tmp_path, stdout=server_log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        procs.append((server, server_log))
        _poll(lambda: httpx.get(f"{api}/health", timeout=2).status_code == 200, 120, "prefect server", procs)
        ui = _poll(lambda: httpx.get(f"http://127.0.0.1:{port}/ui-settings", timeout=5).json(), 60, "UI", procs)
        assert ui["api_url"] == api
        assert (tmp_path / "prefect-home" / "prefect.db").exists()

        serve = subprocess.Popen(
            [str(BIN / "fangpin"), "serve", "--inbox", str(inbox), "--out", str(out),
             "--config", str(tmp_path / "fangpin.toml"), "--cron", cron, "--timezone", "Asia/Shanghai"],
            env={**env, "PREFECT_API_URL": api}, cwd=tmp_path, stdout=serve_log.open("w"),
            stderr=subprocess.STDOUT, start_new_session=True)
        procs.append((serve, serve_log))

        def deployment():
            r = _api("GET", f"{api}/deployments/name/fangpin-nightly/nightly")
            return r.json() if r.status_code == 200 else None

        dep = _poll(deployment, 90, "deployment registered", procs)
        (sched,) = dep["schedules"]
        assert sched["schedule"]["cron"] == cron
        assert sched["schedule"]["timezone"] == "Asia/Shanghai"
        assert sched["active"] and not dep["paused"]
        assert dep["parameters"]["inbox"] == str(inbox.resolve())
        assert dep["parameters"]["out"] == str(out.resolve())
        assert dep["parameters"]["timezone"] == "Asia/Shanghai"

        r = _api("POST", f"{api}/deployments/{dep['id']}/create_flow_run",
                 json={"parameters": {"as_of": "2026-11-24"}})
        assert r.status_code == 201, r.text
        run_id = r.json()["id"]

        def finished():
            r = _api("GET", f"{api}/flow_runs/{run_id}")
            state = r.json()["state_type"] if r.status_code == 200 else None
            return state if state in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None

        assert _poll(finished, 240, "flow run to finish", procs) == "COMPLETED", serve_log.read_text()[-3000:]
        con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
        assert con.execute("SELECT status, as_of_date::VARCHAR FROM runs").fetchall() == [("completed", "2026-11-24")]
        assert con.execute("SELECT count(*) FROM households").fetchone()[0] == 20
        con.close()

        # `fangpin run` with this server configured is recorded there as a flow run, and Prefect's own
        # commands list runs and deployments (Prefect 3.8.8 with FastAPI 0.154 crashed here: 422).
        client_env = {**env, "PREFECT_API_URL": api}
        res = subprocess.run([str(BIN / "fangpin"), "run", "--inbox", str(inbox), "--out", str(out),
                              "--config", str(tmp_path / "fangpin.toml"), "--as-of", "2026-11-25"],
                             env=client_env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0 and "运行完成" in res.stdout, res.stdout + res.stderr
        runs = _api("POST", f"{api}/flow_runs/filter", json={}).json()  # and the schedule's upcoming ones
        assert sum(r["state_type"] == "COMPLETED" for r in runs) == 2
        for args, shown in ((["flow-run", "ls"], "fangpin-nightly"), (["deployment", "ls"], "fangpin-nightly/nightly")):
            res = subprocess.run([str(BIN / "prefect"), *args], env={**client_env, "COLUMNS": "200"},
                                 capture_output=True, text=True, timeout=120)
            assert res.returncode == 0 and shown in res.stdout, res.stdout + res.stderr
    finally:
        for proc, _ in reversed(procs):
            _stop(proc)


def test_schedule_comes_from_the_command_line_then_the_config_then_the_default(tmp_path):
    from pipelines.serve import ServeError, schedule_for

    cfg = tmp_path / "county.toml"
    cfg.write_text('[schedule]\ncron = "30 1 * * *"\n', encoding="utf-8")
    assert schedule_for(None, None, None) == ("0 2 * * *", "Asia/Shanghai")
    assert schedule_for(cfg, None, None) == ("30 1 * * *", "Asia/Shanghai")
    assert schedule_for(cfg, "0 3 * * 1-5", "Asia/Urumqi") == ("0 3 * * 1-5", "Asia/Urumqi")
    for cron, tz in (("0 2 * *", None), (None, "Mars/Olympus")):
        try:
            schedule_for(cfg, cron, tz)
        except ServeError:
            continue
        raise AssertionError(f"{cron!r} / {tz!r} accepted")


def test_serve_without_a_server_says_how_to_start_one(tmp_path):
    (tmp_path / "inbox").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    res = subprocess.run([str(BIN / "fangpin"), "serve", "--inbox", str(tmp_path / "inbox"), "--out",
                          str(tmp_path / "out")], env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert "未设置 PREFECT_API_URL" in res.stdout and "prefect server start" in res.stdout


def test_start_up_lines_name_the_folders_and_the_next_run_in_the_schedule_time_zone(tmp_path):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from pipelines.messages import serve_lines
    from pipelines.serve import next_run

    # 18:30 UTC is 02:30 in Beijing: the next 02:00 run is tomorrow, Beijing time
    nxt = next_run("0 2 * * *", "Asia/Shanghai", datetime(2026, 11, 24, 18, 30, tzinfo=ZoneInfo("UTC")))
    assert nxt.isoformat() == "2026-11-26T02:00:00+08:00"
    lines = serve_lines(tmp_path / "inbox", tmp_path / "out", None, "0 2 * * *", "Asia/Shanghai", "nightly",
                        "http://127.0.0.1:4200/api", nxt)
    text = "\n".join(lines)
    assert f"收件目录（inbox）：{tmp_path / 'inbox'}" in text and f"输出目录（out）：{tmp_path / 'out'}" in text
    assert "每天 02:00（北京时间" in text and "下一次运行：2026-11-26 02:00（北京时间）" in text
