"""Linkage benchmark (issue 15): `python -m pipelines.bench_linkage --households 20000`.

Generates a sample county, plants rows whose ID Excel destroyed or left empty (samplegen.linkage),
runs the nightly flow with [linkage] on and off, and prints precision and recall of the planted
rows and the time linkage adds.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from datetime import date
from pathlib import Path

import duckdb

from pipelines.flow import run_once
from samplegen.generate import generate
from samplegen.linkage import plant_linkage, score

AS_OF = date(2026, 11, 24)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dir", default="bench-linkage")
    ap.add_argument("--households", type=int, default=20000)
    ap.add_argument("--persons", type=int, default=300, help="planted rows of roster members")
    ap.add_argument("--decoys", type=int, default=60, help="planted rows of people in no roster")
    ap.add_argument("--seed", type=int, default=15)
    a = ap.parse_args(argv)
    base = Path(a.dir)
    shutil.rmtree(base, ignore_errors=True)
    generate(out=base / "sample", households=a.households, seed=a.seed, as_of=AS_OF.isoformat())
    truth = plant_linkage(base / "sample" / "inbox", seed=a.seed, persons=a.persons, decoys=a.decoys)
    cfg = base / "sample" / "fangpin.toml"
    off = base / "off.toml"
    off.write_text(cfg.read_text(encoding="utf-8") + "\n[linkage]\nenabled = false\n", encoding="utf-8")
    result: dict = {"households": a.households}
    for label, config in (("off", off), ("on", cfg)):
        t0 = time.perf_counter()
        ctx = run_once(base / "sample" / "inbox", config, AS_OF, base / label)
        result[f"run_seconds_{label}"] = round(time.perf_counter() - t0, 1)
        if label == "on":
            result["linkage"] = ctx.notes.get("linkage")
            result["linkage_stage_seconds"] = ctx.stage_seconds.get("linkage")
            with duckdb.connect(str(base / "on" / "warehouse.duckdb"), read_only=True) as con:
                result["score"] = score(con, ctx.run_id, truth)
    result["added_share_of_run"] = round(result["linkage_stage_seconds"] / result["run_seconds_off"], 3)
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return result


if __name__ == "__main__":
    main()
