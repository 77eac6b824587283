"""Benchmark: `python -m pipelines.bench --dir bench-data --households N --counties C` (`make bench`).

What it prints, each measured as a user meets it — `fangpin run` as a separate process, timed from
process start to exit, with no Prefect server (PREFECT_API_URL unset):

- **County**: a 3,000- and a 30,000-household county (generated once under DIR/county-<N>/ with
  `fangpin generate --households N --counties 1`), each run twice on a fresh OUT (a first night
  both times), against the targets of issue 13 (≤ 8 s and ≤ 20 s).
- **Province, end to end**: the province set (DIR/inbox: N households in C counties, generated
  once) run once on a fresh OUT — every stage, workbooks, scorecard, Data Docs and publishing —
  beside the "floor" measured just before it: the time DuckDB alone takes to read the same files
  into tables of raw text, decoding as the reader does. Ingest alone beside the floor, each
  stage's share of the run (from the run's summary.json), the peak RSS of the run's process (and
  of its Data Docs worker) and in which stage it was reached (sampled every 0.2 s and tagged by the
  run's progress lines). Then a second night on the same OUT with unchanged inputs, against the
  first (target ≤ 25 %).

`--ingest-only` keeps the older in-process measurement of the ingest stage and the checks after it
(`make bench-ingest`); `--no-county` / `--no-province` leave a part out. Then the province fanned
out on `--workers` local Dask workers (issue 14; `fanout_figures`), `--no-single` for that alone. CPU seconds are printed
beside wall times: on a shared machine they vary less.

The floor decodes exactly as the reader does: GBK/GB18030 CSVs are transcoded with
the same Python chunked decoder before DuckDB's read_csv (DuckDB cannot load its
encodings extension offline); UTF-8 CSVs and Parquet are read by DuckDB directly;
workbooks go through fastexcel to Arrow (DuckDB has no loadable xlsx/xls reader
here). BENCH_WORKERS sets the folders read at once (2, as the flow).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import duckdb

from pipelines.flow import STAGES
from sources.spec import inbox_folders


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


def floor_apart(inbox: Path) -> tuple[float, float]:
    """floor_seconds in a process of its own. Measured in this one, DuckDB's gigabytes stayed with
    it, and every `fangpin run` started afterwards began its life as a copy of it: Linux counts a
    process's size before exec in its peak RSS (ru_maxrss), so each run "peaked" at the floor's
    size (the 5.7 GB and 8.9 GB once read beside a 3.4 GB run of its own)."""
    got = subprocess.run([sys.executable, "-m", "pipelines.bench", "--floor-only", "--dir", str(inbox.parent)],
                         capture_output=True, text=True, check=True)
    seconds, cpu = json.loads(got.stdout.strip().splitlines()[-1])
    return seconds, cpu


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


# ---------------------------------------------------------------- `fangpin run`, end to end

FANGPIN = Path(sys.executable).with_name("fangpin")
# progress lines: "✓ 读取 医保（health_insurance/）…" ends a folder, "✓ 部门筛查预警（screening）（89.0 秒）" a stage
FOLDER_LINE = re.compile(r"✓ 读取 .*?（(\w+)/）")
STAGE_LINE = re.compile(r"✓ .*?（(\w+)）（[\d.]+ 秒）")
RUN_STAGES = ["ingest", *STAGES, "publish"]
# The stage under way once a progress line says the one before it is done.
NEXT_STAGE = dict(pairwise(RUN_STAGES))


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def _children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def fangpin_run(inbox: Path, config: Path | None, out: Path, as_of: str, *, fresh: bool = True,
                sample: bool = False, workers: int = 0, prefect: str | None = None) -> dict:
    """`fangpin run` as its own process, as a user starts it: wall seconds from start to exit, CPU
    seconds (its own and its children's), peak RSS (kernel's figure for the process; with `sample`,
    also the run's process + Data Docs worker sampled every 0.2 s and the stage each peak fell in)
    and the run's summary.json."""
    if fresh:
        shutil.rmtree(out, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    if prefect:
        env |= {"PREFECT_API_URL": prefect, "PREFECT_HOME": str(Path(prefect_home()))}
    cmd = [str(FANGPIN), "run", "--inbox", str(inbox), "--as-of", as_of, "--out", str(out)]
    if config:
        cmd += ["--config", str(config)]
    if workers:
        cmd += ["--workers", str(workers)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    stage = ["ingest"]
    folders_done: list[str] = []
    n_folders = len(inbox_folders())
    peaks: dict[str, float] = {}
    lines: list[str] = []
    done = threading.Event()

    def read() -> None:
        for line in proc.stdout:
            lines.append(line)
            if m := FOLDER_LINE.search(line):
                folders_done.append(m.group(1))
                if len(folders_done) == n_folders:
                    stage[0] = NEXT_STAGE["ingest"]  # with the township resolution before it
            elif m := STAGE_LINE.search(line):
                stage[0] = NEXT_STAGE.get(m.group(1), stage[0])
        done.set()

    def watch() -> None:
        worker: int | None = None
        n = 0
        while not done.wait(0.2):
            if worker is None and n % 5 == 0:
                kids = _children_of(proc.pid)
                worker = kids[0] if kids else None
            n += 1
            rss = _rss_mb(proc.pid) + (_rss_mb(worker) if worker else 0.0)
            peaks[stage[0]] = max(peaks.get(stage[0], 0.0), rss)

    threads = [threading.Thread(target=read, daemon=True)]
    if sample:
        threads.append(threading.Thread(target=watch, daemon=True))
    for t in threads:
        t.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    done.wait(10)
    if proc.returncode != 0:
        raise RuntimeError(f"fangpin run exited {proc.returncode}:\n{''.join(lines[-30:])}")
    reports = sorted((out / "reports").glob("*/summary.json"))
    summary = json.loads(reports[-1].read_text(encoding="utf-8")) if reports else {}
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024,
            "peaks": peaks, "summary": summary, "output": "".join(lines)}


def prefect_home() -> str:
    return os.path.join(tempfile.gettempdir(), "fangpin-bench-prefect")


@contextlib.contextmanager
def prefect_server(port: int = 4299):
    """A Prefect server of its own (SQLite under a temporary PREFECT_HOME) for the tracked county
    runs; its API URL, once it answers."""
    home = prefect_home()
    shutil.rmtree(home, ignore_errors=True)
    os.makedirs(home)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {
        "PREFECT_HOME": home, "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_API_HOST": "127.0.0.1", "PREFECT_SERVER_API_PORT": str(port)}
    proc = subprocess.Popen([str(FANGPIN.with_name("prefect")), "server", "start", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/api"
    try:
        for _ in range(240):
            try:
                with urllib.request.urlopen(url + "/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("the Prefect server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(30)
        shutil.rmtree(home, ignore_errors=True)


def county_figures(root: Path, sizes: list[int], seed: int, as_of: str) -> None:
    targets = {3000: 8.0, 30000: 20.0}
    print("County: `fangpin run`, process start to exit, no Prefect server, fresh OUT each time")
    for n in sizes:
        data = root / f"county-{n}"
        ensure_data(data, n, 1, seed, as_of)
        runs = [fangpin_run(data / "inbox", data / "fangpin.toml", data / "out", as_of) for _ in range(2)]
        walls = ", ".join(f"{r['wall']:.1f}" for r in runs)
        cpus = ", ".join(f"{r['cpu']:.1f}" for r in runs)
        target = f"(target ≤ {targets[n]:.0f} s)" if n in targets else ""
        print(f"  {n:>7,} households  {walls} s wall; CPU {cpus} s;"
              f" peak RSS {max(r['peak_rss_mb'] for r in runs):,.0f} MB  {target}")
        if n == min(sizes):  # the same county recorded by a Prefect server: what tracking adds
            with prefect_server() as url:
                fangpin_run(data / "inbox", data / "fangpin.toml", data / "out", as_of, prefect=url)  # warm
                tracked = [fangpin_run(data / "inbox", data / "fangpin.toml", data / "out", as_of, prefect=url)
                           for _ in range(2)]
                ask = urllib.request.Request(url + "/flow_runs/count", data=b"{}", method="POST",
                                             headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(ask, timeout=10) as resp:
                    recorded = int(resp.read())
            extra = [t["wall"] - min(r["wall"] for r in runs) for t in tracked]
            print(f"  {n:>7,} households, Prefect server configured: "
                  + ", ".join(f"{t['wall']:.1f}" for t in tracked)
                  + " s wall: " + ", ".join(f"+{e:.1f}" for e in extra) + " s over the faster untracked run"
                  f" (target ≤ 2 s extra); {recorded} flow runs recorded by the server (a warm-up and these two)")
        shutil.rmtree(data / "out", ignore_errors=True)


def province_figures(root: Path, as_of: str) -> float:
    inbox, config, out = root / "inbox", root / "fangpin.toml", root / "run-out"
    floor, floor_cpu = floor_apart(inbox)
    print(f"Province: floor (DuckDB reading the same files) {floor:.1f} s wall, {floor_cpu:.1f} s CPU")
    first = fangpin_run(inbox, config if config.exists() else None, out, as_of, sample=True)
    st = first["summary"].get("stage_seconds", {})
    wall = first["wall"]
    rows = sum(c.get("rows_read", 0) for c in first["summary"].get("sources", {}).values())
    print(f"  end to end        {wall:8.1f} s   {wall / floor:5.2f} × floor (target ≤ 4)   {rows:,} rows;"
          f" CPU {first['cpu']:.0f} s")
    ingest = st.get("ingest", 0.0)
    print(f"  ingest            {ingest:8.1f} s   {ingest / floor:5.2f} × floor (target ≤ 2.5)")
    cpu = first["summary"].get("stage_cpu_seconds", {})
    peak = first["summary"].get("peak_rss_mb", {})
    print(f"    {'stage':16} {'wall s':>8}   {'share':>6}   {'CPU s':>7}   {'peak RSS so far':>15}")
    accounted = 0.0
    for name in RUN_STAGES:
        sec = st.get(name, 0.0)
        accounted += sec
        rss = f"{peak[name] / 1024:.2f} GB" if peak.get(name) else ""
        print(f"    {name:16} {sec:8.1f}   {sec / wall:6.1%}   {cpu.get(name, 0.0):7.1f}   {rss:>15}")
    rest = wall - accounted
    link = st.get("linkage", 0.0)
    print(f"    record linkage adds {link:.1f} s = {link / (wall - link):.1%} of the run without it (issue 15: ≤ 10 %)")
    print(f"    {'the rest':16} {rest:8.1f}   {rest / wall:6.1%}   (process start, imports, file hashes,"
          " recording the run)")
    print(f"  peak RSS          {first['peak_rss_mb'] / 1024:8.2f} GB  the run's process (target ≤ 4 GB), as the kernel"
          f" counts it (ru_maxrss); its own high-water mark {peak.get('end', 0) / 1024:.2f} GB, its Data Docs"
          f" worker's {peak.get('children', 0) / 1024:.2f} GB")
    print("  sampled every 0.2 s, the run's process + its Data Docs worker, by stage under way:")
    for name, mb in first["peaks"].items():
        print(f"    {name:16} {mb / 1024:8.2f} GB")
    if peak.get("end"):
        print(f"    {'closing':16} {peak['end'] / 1024:8.2f} GB  peak so far once the working database is closed")
    cfg = config if config.exists() else None
    second = fangpin_run(inbox, cfg, out, as_of, fresh=False)
    _night("second night", "a rerun: same inputs and as-of date", second, wall)
    following = (date.fromisoformat(as_of) + timedelta(days=1)).isoformat()
    _night("next night", f"same inputs, as-of {following}: everything after ingest computed",
           fangpin_run(inbox, cfg, out, following, fresh=False), wall, target=False)
    return wall, first["summary"]["run_id"]  # OUT stays for the fanned-out run to compare with


def _night(label: str, what: str, run: dict, first_wall: float, target: bool = True) -> None:
    """A later run on the first night's OUT with unchanged inputs: its share of the first, what it took over."""
    summary = run["summary"]
    took = [f"{len(summary.get('reused', {}))} folder(s) copied, not re-read"]
    if summary.get("results_from"):
        took.append("source checks, linkage, screening, logic and workbooks taken from the first night")
    print(f"  {label:17} {run['wall']:8.1f} s   {run['wall'] / first_wall:6.1%} of the first"
          + (" (target ≤ 25 %)" if target else "") + f" — {what}; " + "; ".join(took)
          + f"; CPU {run['cpu']:.0f} s; peak RSS {run['peak_rss_mb'] / 1024:.2f} GB")
    st = summary.get("stage_seconds", {})
    print("    " + ", ".join(f"{name} {st.get(name, 0.0):.1f} s" for name in [*RUN_STAGES, "reuse_results"]
                             if st.get(name)))


COMPARED = ("warnings", "logic_errors", "rejects", "source_checks", "input_files", "record_links")


def same_results(a: Path, b: Path, run_a: str | None = None) -> dict[str, tuple[int, int]]:
    """table -> (rows of OUT a's run `run_a` (default its latest), rows that differ from OUT b's latest
    run) for COMPARED: every column but the run ids, as multisets (EXCEPT ALL both ways, in DuckDB)."""
    con = duckdb.connect()
    out = {}
    for table in COMPARED:
        pa_ = a / "store" / run_a / f"{table}.parquet" if run_a else sorted((a / "store").glob(f"*/{table}.parquet"))[-1]
        pb = sorted((b / "store").glob(f"*/{table}.parquet"))[-1]
        cols = [c for (c,) in con.execute("SELECT name FROM parquet_schema(?) WHERE name <> 'schema'"
                                          " AND num_children IS NULL", [str(pa_)]).fetchall()
                if c not in ("run_id", "first_seen_run")]
        sel = ", ".join(f'"{c}"' for c in cols)
        n = con.execute("SELECT count(*) FROM read_parquet(?)", [str(pa_)]).fetchone()[0]
        diff = con.execute(f"SELECT (SELECT count(*) FROM (SELECT {sel} FROM read_parquet($a) EXCEPT ALL"
                           f" SELECT {sel} FROM read_parquet($b))) + (SELECT count(*) FROM (SELECT {sel} FROM"
                           f" read_parquet($b) EXCEPT ALL SELECT {sel} FROM read_parquet($a)))",
                           {"a": str(pa_), "b": str(pb)}).fetchone()[0]
        out[table] = (n, diff)
    con.close()
    return out


def lpt(jobs: list[float], workers: int) -> float:
    """Wall seconds of `jobs` on `workers` single-core workers, longest first to the least busy."""
    load = [0.0] * max(1, workers)
    for sec in sorted(jobs, reverse=True):
        load[load.index(min(load))] += sec
    return max(load)


def fanout_figures(root: Path, as_of: str, single: tuple[float, str] | None, workers: int = 2) -> None:
    """`fangpin run --workers N` on the province set (issue 14): its wall time beside the single
    process's, the largest worker's peak, and a projection to 16 and 64 cores.

    The projection keeps what the province process does once (everything outside the two job
    phases) as measured, and replaces each job phase by its measured jobs (one per folder, one
    per county, each timed on its worker) laid out longest-first on N single-core workers. A job
    measured here shared 2 cores with the province process, so the projection is if anything
    pessimistic; it ignores the network filesystem a real cluster reads through.
    """
    inbox, config, out = root / "inbox", root / "fangpin.toml", root / "fanout-out"
    run = fangpin_run(inbox, config if config.exists() else None, out, as_of, workers=workers)
    st = run["summary"].get("stage_seconds", {})
    jobs = run["summary"].get("worker_peak_rss_mb", {})
    versus = f"; single process {single[0]:.1f} s" if single else ""
    print(f"Province fanned out on {workers} local Dask workers (`fangpin run --workers {workers}`)")
    print(f"  end to end        {run['wall']:8.1f} s{versus}; province process peak RSS"
          f" {run['peak_rss_mb'] / 1024:.2f} GB")
    if jobs:
        name, mb = max(jobs.items(), key=lambda kv: kv[1])
        print(f"  largest worker    {mb / 1024:8.2f} GB  peak RSS of a worker process (its job {name});"
              f" {len(jobs)} jobs")
    jobs_of = {kind: [v for k, v in st.items() if k.startswith(kind + ":")]
               for kind in ("ingest", "county", "workbooks")}
    phases = sum(st.get(f"fanout_{p}_jobs", 0.0) for p in ("ingest", "county", "workbook"))
    once = run["wall"] - phases
    print("  measured: " + "; ".join(f"{len(v)} {kind} jobs (longest {max(v, default=0):.1f} s, sum {sum(v):.1f} s)"
                                     for kind, v in jobs_of.items())
          + f"; job phases {phases:.1f} s, the rest (once, in the province process) {once:.1f} s")
    jobs_in = {"ingest": st.get("fanout_ingest_jobs", 0.0), "screening": st.get("fanout_county_jobs", 0.0),
               "logic": 0.0, "reports": st.get("fanout_workbook_jobs", 0.0)}
    print("  once, by stage (outside the jobs): " + ", ".join(
        f"{name} {st.get(name, 0.0) - jobs_in.get(name, 0.0):.1f} s" for name in RUN_STAGES if st.get(name)))
    for n in (16, 64):
        parts = {kind: lpt(v, n) for kind, v in jobs_of.items()}
        print(f"  projected, {n:2} cores  {once + sum(parts.values()):8.1f} s  (once {once:.0f} s + "
              + " + ".join(f"{kind} {sec:.0f} s" for kind, sec in parts.items()) + ")")
    single_out = root / "run-out"
    if (single_out / "store").is_dir():
        got = same_results(single_out, out, single[1] if single else None)
        verdict = "identical" if not any(d for _, d in got.values()) else "DIFFERENT"
        print(f"  results beside the single run: {verdict} — " + ", ".join(
            f"{t} {n:,} rows, {d:,} differ" for t, (n, d) in got.items()))
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(single_out, ignore_errors=True)


def ingest_only(root: Path, as_of: str) -> None:
    """The in-process measurement of the ingest stage and the checks after it (make bench-ingest)."""
    _warm_up()
    res = run_ingest(root, date.fromisoformat(as_of))
    floor, floor_cpu = floor_seconds(root / "inbox")
    rows = sum(c["read"] for t, c in res["counts"].items())
    print(f"{'table':28} {'read':>10} {'loaded':>10} {'rejected':>9} {'dups':>7}")
    for t, c in sorted(res["counts"].items()):
        print(f"{t:28} {c['read']:>10,} {c['loaded']:>10,} {c['rejected']:>9,} {c['duplicates']:>7,}")
    print(f"ingest wall time   {res['wall']:8.2f} s   ({rows / res['wall']:,.0f} rows/s, {rows:,} rows)")
    print(f"peak RSS           {res['peak_rss_mb']:8.0f} MB")
    print(f"floor (DuckDB)     {floor:8.2f} s   ingest / floor = {res['wall'] / floor:.2f} (target ≤ 2.5)")
    print(f"CPU seconds        ingest {res['cpu']:.1f}, floor {floor_cpu:.1f}: ratio {res['cpu'] / floor_cpu:.2f}"
          " (less sensitive to other load on the machine)")
    st, ingest = res["stages"], res["wall"]
    for name in ("source_checks", "screening", "logic"):
        print(f"{name:18} {st[name]:8.2f} s   {st[name] / ingest:6.1%} of ingest")
    print(f"peak RSS, all      {res['peak_rss_all_mb']:8.0f} MB")
    for name, mb in st["peak_mb"].items():
        if mb is not None:
            print(f"  peak RSS in {name:14} {mb:8.0f} MB")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default="bench-data", type=Path)
    ap.add_argument("--households", type=int, default=100_000)
    ap.add_argument("--counties", type=int, default=1)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--as-of", default="2026-11-24")
    ap.add_argument("--county-sizes", default="3000,30000", help="households of the county figures")
    ap.add_argument("--no-county", action="store_true", help="leave the county figures out")
    ap.add_argument("--no-province", action="store_true", help="leave the province figures out")
    ap.add_argument("--ingest-only", action="store_true", help="only the in-process ingest measurement")
    ap.add_argument("--workers", type=int, default=2, help="Dask workers of the fanned-out province run (0: none)")
    ap.add_argument("--no-single", action="store_true", help="province: only the fanned-out run")
    ap.add_argument("--floor-only", action="store_true", help=argparse.SUPPRESS)  # floor_apart's child
    args = ap.parse_args(argv)
    root = args.dir
    if args.floor_only:
        _warm_up()
        print(json.dumps(floor_seconds(root / "inbox")))
        return 0
    if args.ingest_only:
        ensure_data(root, args.households, args.counties, args.seed, args.as_of)
        ingest_only(root, args.as_of)
        return 0
    if not args.no_county:
        county_figures(root, [int(x) for x in args.county_sizes.split(",") if x], args.seed, args.as_of)
    if not args.no_province:
        ensure_data(root, args.households, args.counties, args.seed, args.as_of)
        single = None if args.no_single else province_figures(root, args.as_of)
        if args.workers:
            fanout_figures(root, args.as_of, single, args.workers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
