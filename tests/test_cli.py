"""`fangpin run` exit statuses (outputs.md): non-zero only when no run could be recorded."""

from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from pipelines import flow
from pipelines.cli import EXIT_FAILED, EXIT_NOT_RECORDED, app


def _failing_nightly(recorded: bool):
    def nightly(**_kw):
        flow.last_context = SimpleNamespace(notes={"summary": {
            "run_id": "r1", "as_of": "2026-11-24", "status": "failed", "seconds": 1.0,
            "error": "KeyError in stage logic", "reports_dir": "out/reports/2026-11-24",
            "warehouse": "out/warehouse.duckdb"}} if recorded else {})
        raise KeyError("学段")
    return nightly


@pytest.mark.parametrize(("recorded", "flags", "status"), [
    (True, [], 0),                       # recorded as failed: the runs table says so, exit 0
    (True, ["--fail-exit"], EXIT_FAILED),
    (False, [], EXIT_NOT_RECORDED),      # nothing recorded: non-zero
])
def test_exit_status_of_a_failed_run(tmp_path, monkeypatch, recorded, flags, status):
    (tmp_path / "inbox").mkdir()
    monkeypatch.setattr(flow, "run_untracked", _failing_nightly(recorded))  # no server: no Prefect
    monkeypatch.setenv("PREFECT_API_URL", "")
    res = CliRunner().invoke(app, ["run", "--inbox", str(tmp_path / "inbox"), "--out", str(tmp_path / "out"),
                                   "--as-of", "2026-11-24", *flags])
    assert res.exit_code == status, res.output
    if recorded:
        assert "运行失败" in res.output and "KeyError in stage logic" in res.output


def test_bad_date_or_missing_inbox_records_nothing_and_exits_non_zero(tmp_path):
    res = CliRunner().invoke(app, ["run", "--inbox", str(tmp_path / "none"), "--out", str(tmp_path / "out")])
    assert res.exit_code == EXIT_NOT_RECORDED
    (tmp_path / "inbox").mkdir()
    res = CliRunner().invoke(app, ["run", "--inbox", str(tmp_path / "inbox"), "--as-of", "2026-13-01"])
    assert res.exit_code == EXIT_NOT_RECORDED


def test_without_a_prefect_server_the_run_never_imports_prefect(tmp_path):
    """No PREFECT_API_URL, no Prefect settings file: the run is recorded in the warehouse, untracked,
    and neither Prefect nor a temporary server is started (its import alone took seconds)."""
    import os
    import subprocess
    import sys

    from flow_inbox import make_inbox

    inbox = make_inbox(tmp_path, households=10, settlements=10)
    # a project file that only mentions the setting in a comment (as fangpin's own does) sets no server
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"  # PREFECT_API_URL: see the README\n',
                                             encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from pipelines.cli import app\n"
        f"res = CliRunner().invoke(app, ['run', '--inbox', {str(inbox)!r}, '--out', {str(tmp_path / 'out')!r},"
        f" '--config', {str(tmp_path / 'fangpin.toml')!r}, '--as-of', '2026-11-24'])\n"
        "assert res.exit_code == 0 and '运行完成' in res.output, res.output\n"
        "print('prefect imported:', any(m == 'prefect' or m.startswith('prefect.') for m in sys.modules))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "prefect imported: False" in res.stdout
    assert not (tmp_path / "prefect-home").exists()


def test_a_configured_server_comes_from_the_environment_or_a_prefect_profile(tmp_path, monkeypatch):
    from pipelines.cli import configured_prefect_url

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("PREFECT_PROFILES_PATH", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "home"))
    assert configured_prefect_url() is None
    monkeypatch.setenv("PREFECT_API_URL", "")
    assert configured_prefect_url() is None
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4300/api")
    assert configured_prefect_url() == "http://127.0.0.1:4300/api"
    # which files set a server: parsed, so a comment naming the setting (fangpin's pyproject) does not
    from pipelines.cli import _env_names_url, _toml_table

    (tmp_path / "prefect.toml").write_text('[api]\nurl = "http://127.0.0.1:4301/api"\n', encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"  # PREFECT_API_URL\n', encoding="utf-8")
    (tmp_path / ".env").write_text("# PREFECT_API_URL is not set here\n", encoding="utf-8")
    assert "url" in _toml_table(tmp_path / "prefect.toml", "api")
    assert "url" not in _toml_table(tmp_path / "pyproject.toml", "tool", "prefect", "api")
    assert not _env_names_url(tmp_path / ".env")
    (tmp_path / ".env").write_text("export PREFECT_API_URL=http://127.0.0.1:4301/api\n", encoding="utf-8")
    assert _env_names_url(tmp_path / ".env")
