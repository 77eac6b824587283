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
        assert "failed" in res.output and "KeyError in stage logic" in res.output


def test_bad_date_or_missing_inbox_records_nothing_and_exits_non_zero(tmp_path):
    res = CliRunner().invoke(app, ["run", "--inbox", str(tmp_path / "none"), "--out", str(tmp_path / "out")])
    assert res.exit_code == EXIT_NOT_RECORDED
    (tmp_path / "inbox").mkdir()
    res = CliRunner().invoke(app, ["run", "--inbox", str(tmp_path / "inbox"), "--as-of", "2026-13-01"])
    assert res.exit_code == EXIT_NOT_RECORDED
