"""Benchmark: `python -m pipelines.bench --dir bench-data --households N --counties C`.

Generates the sample set once (samplegen.generate.generate; kept when DIR/inbox exists
with the same size), then times the ingest stage as the flow runs it (every
folder through sources.ingest.ingest_folder, two at a time, then resolve_townships)
into a fresh working database, and prints wall time, rows/s and peak RSS beside the
"floor": the time DuckDB alone takes to read the same files into tables of raw text.
On the same working database it then times the stages that follow ingest — source
checks (Great Expectations), screening (W rules) and logic (L rules) — and prints each
as a share of the ingest time, against the issues' budgets (screening ≤ 30 %, logic and
source checks together ≤ 40 %). Great Expectations is imported before the clock starts,
as the flow preloads it while files are read.

The floor decodes exactly as the reader does: GBK/GB18030 CSVs are transcoded with
the same Python chunked decoder before DuckDB's read_csv (DuckDB cannot load its
encodings extension offline); UTF-8 CSVs and Parquet are read by DuckDB directly;
workbooks go through fastexcel to Arrow (DuckDB has no loadable xlsx/xls reader
here). BENCH_WORKERS sets the folders read at once (2, as the flow). CPU seconds
are printed too: on a shared machine they vary less than wall time. Both sides run after a warm-up, so one-time imports (pandas, pyarrow — the
first Arrow scan in DuckDB's Python client imports pandas) are not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import duckdb


def ensure_data(root: Path, households: int, counties: int, seed: int, as_of: str) -> dict:
    manifest = root / "manifest.json"
    if (root / "inbox").exists() and manifest.exists():
        m = json.loads(manifest.read_text(encoding="utf-8"))
        if m.get("tables", {}).get("households") == households and len(m.get("counties", [])) == counties:
            print(f"data: reusing {root}/inbox")
            return m
    from samplegen.generate import generate

    t0 = time.perf_counter()
    m = generate(root, households=households, counties=counties, seed=seed, as_of=as_of)
    print(f"data: generated {households:,} households in {counties} counties in {time.perf_counter() - t0:.1f}s")
    return m


def _warm_up() -> None:
    import polars as pl
    import pyarrow as pa

    con = duckdb.connect()
    con.from_arrow(pa.table({"a": [1]})).fetchall()
    con.close()
    pl.DataFrame({"a": ["x"]}).select(pl.col("a").str.strip_chars())


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_ingest(root: Path, as_of: date) -> dict:
    from core.config import load_config
    from core.context import RunContext
    from pipelines import store
    from sources.ingest import ingest_folder, resolve_townships
    from sources.spec import inbox_folders

    out = root / "bench-out"
    shutil.rmtree(out, ignore_errors=True)
    config = load_config(root / "fangpin.toml") if (root / "fangpin.toml").exists() else None
    con = store.open_work(out, "bench")
    ctx = RunContext(run_id="bench", as_of=as_of, inbox=root / "inbox", out=out,
                     config=config or load_config(None), con=con)
    t0, c0 = time.perf_counter(), _cpu()
    folders = inbox_folders()
    with ThreadPoolExecutor(max_workers=int(os.environ.get("BENCH_WORKERS", "2"))) as pool:
        results = dict(zip(folders, pool.map(lambda f: ingest_folder(ctx, f), folders), strict=True))
    towns = resolve_townships(ctx)
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    counts = {t: c for r in results.values() for t, c in r.items()}
    stages = run_checks(ctx)
    con.close()
    store.discard_work(out, "bench")
    shutil.rmtree(out, ignore_errors=True)
    return {"wall": wall, "cpu": cpu, "peak_rss_mb": rss, "counts": counts, "townships": towns,
            "stages": stages, "peak_rss_all_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _stage_peak_mb(reset: bool = False) -> float | None:
    """The process's peak RSS since the last reset (Linux VmHWM; writing 5 to clear_refs resets it)."""
    try:
        if reset:
            Path("/proc/self/clear_refs").write_text("5")
            return None
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def run_checks(ctx) -> dict[str, float]:
    """Seconds (and peak RSS, in `peak_mb`) of each stage after ingest, run as the flow runs them."""
    from checks.logic import run_logic
    from checks.screening import run_screening
    from checks.source_checks import run_source_checks

    seconds: dict = {"peak_mb": {}}
    for name, fn in (("source_checks", run_source_checks), ("screening", run_screening),
                     ("logic", run_logic)):
        _stage_peak_mb(reset=True)
        t0 = time.perf_counter()
        fn(ctx)
        seconds[name] = time.perf_counter() - t0
        seconds["peak_mb"][name] = _stage_peak_mb()
    found = ctx.con.execute(
        "SELECT (SELECT count(*) FROM warnings), (SELECT count(*) FROM logic_errors)").fetchone()
    print(f"findings: {found[0]:,} warnings, {found[1]:,} logic errors")
    return seconds


def floor_seconds(inbox: Path) -> tuple[float, float]:
    """DuckDB reading every inbox file into a raw-text table, decoding as the reader does."""
    import fastexcel
    import pyarrow as pa

    from sources.read import (
        CSV_SUFFIXES,
        EXCEL_SUFFIXES,
        PARQUET_SUFFIXES,
        _transcode,
        detect_encoding,
    )

    files = sorted(p for p in inbox.rglob("*") if p.is_file() and not p.name.startswith((".", "~$")))
    con = duckdb.connect()
    t0, c0 = time.perf_counter(), _cpu()
    for i, p in enumerate(files):
        suffix = p.suffix.lower()
        if suffix in CSV_SUFFIXES:
            with open(p, "rb") as fh:
                enc = detect_encoding(fh.read(1 << 20))
            src, tmp = p, None
            if enc != "utf-8":
                fd, name = tempfile.mkstemp(suffix=".csv")
                os.close(fd)
                tmp = Path(name)
                _transcode(p, enc, tmp)
                src = tmp
            con.execute(f"CREATE TABLE t{i} AS SELECT * FROM read_csv(?, all_varchar = true, header = false,"
                        " null_padding = true, ignore_errors = true)", [str(src)])
            if tmp:
                tmp.unlink()
        elif suffix in PARQUET_SUFFIXES:
            con.execute(f"CREATE TABLE t{i} AS SELECT * FROM read_parquet(?)", [str(p)])
        elif suffix in EXCEL_SUFFIXES:
            reader = fastexcel.read_excel(str(p))
            for j, name in enumerate(reader.sheet_names):
                arrow = pa.table(reader.load_sheet(name, header_row=None, dtypes="string", skip_rows=0).to_arrow())
                con.register("sheet_arrow", arrow)
                con.execute(f"CREATE TABLE t{i}_{j} AS SELECT * FROM sheet_arrow")
                con.unregister("sheet_arrow")
    seconds, cpu = time.perf_counter() - t0, _cpu() - c0
    con.close()
    return seconds, cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default="bench-data", type=Path)
    ap.add_argument("--households", type=int, default=100_000)
    ap.add_argument("--counties", type=int, default=1)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--as-of", default="2026-11-24")
    args = ap.parse_args(argv)
    root = args.dir
    ensure_data(root, args.households, args.counties, args.seed, args.as_of)
    _warm_up()
    from checks.ge_duckdb import install_duckdb_result_buffering

    install_duckdb_result_buffering()
    res = run_ingest(root, date.fromisoformat(args.as_of))
    floor, floor_cpu = floor_seconds(root / "inbox")
    rows = sum(c["read"] for t, c in res["counts"].items())
    print(f"{'table':28} {'read':>10} {'loaded':>10} {'rejected':>9} {'dups':>7}")
    for t, c in sorted(res["counts"].items()):
        print(f"{t:28} {c['read']:>10,} {c['loaded']:>10,} {c['rejected']:>9,} {c['duplicates']:>7,}")
    print(f"ingest wall time   {res['wall']:8.2f} s   ({rows / res['wall']:,.0f} rows/s, {rows:,} rows)")
    print(f"peak RSS           {res['peak_rss_mb']:8.0f} MB")
    print(f"floor (DuckDB)     {floor:8.2f} s   ingest / floor = {res['wall'] / floor:.2f} (target ≤ 3)")
    print(f"CPU seconds        ingest {res['cpu']:.1f}, floor {floor_cpu:.1f}: ratio {res['cpu'] / floor_cpu:.2f}"
          " (less sensitive to other load on the machine)")
    st, ingest = res["stages"], res["wall"]
    print(f"source checks      {st['source_checks']:8.2f} s   {st['source_checks'] / ingest:6.1%} of ingest")
    print(f"screening (W)      {st['screening']:8.2f} s   {st['screening'] / ingest:6.1%} of ingest (target ≤ 30 %)")
    print(f"logic (L)          {st['logic']:8.2f} s   {st['logic'] / ingest:6.1%} of ingest")
    both = st["logic"] + st["source_checks"]
    print(f"logic + source     {both:8.2f} s   {both / ingest:6.1%} of ingest (target ≤ 40 %)")
    print(f"peak RSS, all      {res['peak_rss_all_mb']:8.0f} MB")
    for name, mb in st["peak_mb"].items():
        if mb is not None:
            print(f"  peak RSS in {name:14} {mb:8.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
