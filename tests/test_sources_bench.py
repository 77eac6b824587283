"""The ingest benchmark's two timed parts, on the committed sample county (small and fast)."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

from pipelines import bench

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"


def test_bench_ingest_and_floor_on_the_sample(tmp_path):
    root = tmp_path / "data"
    shutil.copytree(SAMPLE, root)
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    res = bench.run_ingest(root, date.fromisoformat(manifest["as_of"]))
    loaded = {t: c["loaded"] for t, c in res["counts"].items()}
    assert loaded == manifest["tables"]
    assert all(c["read"] == c["loaded"] + c["rejected"] + c["duplicates"] for c in res["counts"].values())
    assert res["wall"] > 0 and res["peak_rss_mb"] > 0
    assert not (root / "bench-out").exists()
    seconds, cpu = bench.floor_seconds(root / "inbox")
    assert seconds > 0 and cpu > 0


def test_bench_reuses_existing_data(tmp_path, capsys):
    root = tmp_path / "data"
    shutil.copytree(SAMPLE, root)
    m = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    assert bench.ensure_data(root, m["tables"]["households"], len(m["counties"]), 7, m["as_of"]) == m
    assert "reusing" in capsys.readouterr().out
